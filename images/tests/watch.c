/*
 * watch: loads and stores of every size, a load pair and a store pair, an
 * LDXR/STXR pair, an EL1 access under stage 2 (VMID 5) to the same PA through
 * another IPA, and an access to the same page outside the watched ranges -- all
 * on `watch_buf` (its own 4 KiB page) at labelled instructions (watch.S), so
 * that debugger tests can set a watchpoint on exactly the bytes each one
 * touches.  Prints every value read or written.
 */
#include "rt.h"
#include "mmu.h"

extern u8 watch_buf[4096];
u64 w_ldrb(u64 a), w_ldrh(u64 a), w_ldrw(u64 a), w_ldrx(u64 a);
void w_strb(u64 a, u64 v), w_strh(u64 a, u64 v), w_strw(u64 a, u64 v), w_strx(u64 a, u64 v);
void w_ldp(u64 a, u64 out[2]);
void w_stp(u64 a, u64 x, u64 y);
u64 w_excl(u64 a);
u64 w_far(u64 a, u64 v);
u64 w_el1(u64 ipa);

#define PAGE __attribute__((aligned(4096), section(".tables")))
static u64 s2_l1[512] PAGE;
static u64 s2_l2[512] PAGE;
static u64 s2_l3[512] PAGE;

#define IPA_WIN 0x10000000UL   /* IPA of watch_buf for VMID 5 */
#define B(off) ((u64)watch_buf + (off))

static void check(const char *name, u64 got, u64 want)
{
    if (got == want)
        pr("ok %s %x\n", name, got);
    else
        pr("FAIL %s expected %x got %x\n", name, want, got);
}

int main(void)
{
    u64 pair[2];

    puts("watch\n");
    pr("ok buf page_aligned=%d\n", (B(0) & 0xfff) == 0);

    /* single-register loads: 1, 2, 4, 8 bytes */
    check("ldrb", w_ldrb(B(0x00)), 0xa5);
    check("ldrh", w_ldrh(B(0x10)), 0x8899);
    check("ldr_w", w_ldrw(B(0x20)), 0xcafef00d);
    check("ldr_x", w_ldrx(B(0x30)), 0x7766554433221100UL);

    /* single-register stores: 1, 2, 4, 8 bytes */
    w_strb(B(0x40), 0x1b);
    w_strh(B(0x50), 0x2bbb);
    w_strw(B(0x60), 0x3cccdddd);
    w_strx(B(0x70), 0x4eeeeeeeffffffffUL);
    pr("ok stores strb=1b strh=2bbb str_w=3cccdddd str_x=4eeeeeeeffffffff\n");

    /* pairs */
    w_ldp(B(0x80), pair);
    pr("ok ldp %x %x\n", pair[0], pair[1]);
    w_stp(B(0xa0), 0x1111aaaa2222bbbbUL, 0x3333cccc4444ddddUL);
    pr("ok stp 1111aaaa2222bbbb 3333cccc4444dddd\n");

    /* exclusive pair: LDXR, add 1, STXR (no retry: the status is printed) */
    check("stxr_status", w_excl(B(0xc0)), 0);

    /* the same page, outside every watched range */
    check("far", w_far(B(0x800), 0x0badc0de0badc0deUL), 0x0badc0de0badc0deUL);

    /* EL1 under stage 2 (VMID 5): IPA_WIN -> watch_buf's page; the same PAs
       as the EL2 LDR X (0x30) and STR X (0x70), through another address */
    for (int i = 0; i < 512; i++)
        s2_l1[i] = s2_l3[i] = 0;
    s2_fill_l2_identity(s2_l2, 0);
    s2_l1[0] = (u64)s2_l2 | S1_TABLE;
    s2_l2[IPA_WIN >> 21] = (u64)s2_l3 | S1_TABLE;
    s2_l3[0] = B(0) | S1_TABLE | S2_AF | S2_SH_IS | S2_MEM_NORMAL | S2AP_RW;
    dsb();
    wr(vtcr_el2, VTCR_4K_L1(32, 2));
    wr(vttbr_el2, (u64)s2_l1 | (5UL << 48));
    wr(hcr_el2, HCR_RW_ | HCR_VM);
    isb();
    TLBI_ALL();
    exc_expect(ACT_UNEXPECTED);
    u64 v = call_lower(w_el1, IPA_WIN, SPSR_DAIF | SPSR_EL1H);
    wr(hcr_el2, HCR_RW_);
    isb();
    TLBI_ALL();
    pr("ok el1_vmid5 ipa=%x stored=%x\n", IPA_WIN + 0x70, v);

    /* read back what was written, at EL2, with the loads of matching size */
    check("back strb", w_ldrb(B(0x40)), 0x1b);
    check("back strh", w_ldrh(B(0x50)), 0x2bbb);
    check("back str_w", w_ldrw(B(0x60)), 0x3cccdddd);
    check("back el1_str", w_ldrx(B(0x70)), 0x7766554433221101UL);
    w_ldp(B(0xa0), pair);
    pr("%s back stp %x %x\n", pair[0] == 0x1111aaaa2222bbbbUL && pair[1] == 0x3333cccc4444ddddUL
       ? "ok" : "FAIL", pair[0], pair[1]);
    check("back excl", w_ldrw(B(0xc0)), 0x2a);
    check("back untouched", w_ldrx(B(0x08)), 0);
    done();
}
