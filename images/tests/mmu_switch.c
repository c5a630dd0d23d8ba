/*
 * mmu_switch: the EL1 MMU turned on by an MSR that an ISB does not follow.
 *
 * Some kernels enable the MMU with `msr sctlr_el1, x0` followed directly by a
 * branch to an address of the new regime, with no ISB in between.  On the
 * in-order Cortex-A53 the instruction after the MSR has already been fetched
 * under the old regime, so it runs even where the new one does not map it.
 *
 * Here the MSR is the last word of the page below the identity map's hole at
 * 0x1ff000 (lib/mmu.c), and the instruction after it, `br x2`, the first word
 * of the hole: fetched with the MMU off it runs and branches back into mapped
 * code.  Then the same with an ISB between (the ISB itself lies in the hole,
 * so it must abort: the MMU is on before it executes), and the MMU turned off
 * the same way, where the MMU-on regime maps the page of the next instruction
 * (VA 0x1ff000) to another PA (0x1fd000): `mov x5, #1` there, `mov x5, #2` at
 * PA 0x1ff000, each followed by `br x2`; the old regime gives 1.
 * QEMU fetches the instruction after the MSR through the new regime: it takes
 * an instruction abort there, which this kernel reports.
 */
#include "rt.h"
#include "check.h"
#include "mmu.h"
#include "bcm.h"

#define EL1H (SPSR_DAIF | SPSR_EL1H)
#define TRAMP 0x1feffcUL                 /* last word of the page below the hole */
#define MSR_SCTLR_X0 0xd5181000u         /* msr sctlr_el1, x0 */
#define BR_X2 0xd61f0040u                /* br x2 */
#define ISB_W 0xd5033fdfu                /* isb */
#define TLBI_EL1() __asm__ volatile("dsb ishst\n tlbi vmalle1\n dsb ish\n isb" ::: "memory")

static void put_code(u32 first, u32 second, u32 third)
{
    volatile u32 *p = (volatile u32 *)TRAMP;
    p[0] = first;
    p[1] = second;                       /* 0x1ff000: the hole */
    p[2] = third;
    dsb();
    __asm__ volatile("ic iallu\n dsb ish\n isb" ::: "memory");
}

/* Jump to the trampoline with x0 = new SCTLR_EL1, x2 = the way back; a fault
   resumes at x30 (exc ACT_LR), which is the same place. */
static void through_trampoline(u64 sctlr)
{
    __asm__ volatile("mov x0, %0\n"
                     "adr x2, 1f\n"
                     "mov x3, %1\n"
                     "blr x3\n"
                     "1:\n"
                     "isb\n"
                     :: "r"(sctlr), "r"(TRAMP) : "x0", "x2", "x3", "x30", "memory");
}

static volatile u64 r_aborts, r_elr, r_esr, r_m;

static u64 el1_switch(u64 with_isb)
{
    u64 ttbr = s1_identity_el1();
    wr(mair_el1, 0x00ffUL);
    wr(tcr_el1, 32UL | (1UL << 8) | (1UL << 10) | (3UL << 12) | (1UL << 23) | (2UL << 32));
    wr(ttbr0_el1, ttbr);
    isb();
    TLBI_EL1();
    if (with_isb)
        put_code(MSR_SCTLR_X0, ISB_W, BR_X2);
    else
        put_code(MSR_SCTLR_X0, BR_X2, 0);
    exc_expect(ACT_LR);
    through_trampoline(rd(sctlr_el1) | 1);
    r_aborts = exc_log_n;
    r_elr = exc_last.elr;
    r_esr = exc_last.esr;
    r_m = rd(sctlr_el1) & 1;
    wr(sctlr_el1, rd(sctlr_el1) & ~1UL);
    isb();
    TLBI_EL1();
    return 0;
}

static volatile u64 off_aborts, off_m, off_x5;
static u64 el1_switch_off(u64 a)
{
    u64 ttbr = s1_identity_el1();
    u64 *l1 = (u64 *)ttbr, *l2 = (u64 *)(l1[0] & 0xfffffffff000UL), *l3 = (u64 *)(l2[0] & 0xfffffffff000UL);
    l3[511] = 0x1fd000UL | S1_TABLE | S1_AF | S1_SH_IS | S1_ATTR(0) | S1_AP_EL1RW | S1_UXN;
    dsb();
    volatile u32 *alias = (volatile u32 *)0x1fd000UL;  /* what VA 0x1ff000 maps to */
    alias[0] = 0xd2800025u;                            /* mov x5, #1 */
    alias[1] = BR_X2;
    put_code(MSR_SCTLR_X0, 0xd2800045u, BR_X2);        /* PA 0x1ff000: mov x5, #2; br x2 */
    wr(ttbr0_el1, ttbr);
    isb();
    TLBI_EL1();
    wr(sctlr_el1, rd(sctlr_el1) | 1);
    isb();
    exc_expect(ACT_LR);
    u64 x5;
    __asm__ volatile("mov x0, %1\n"
                     "mov x5, #0\n"
                     "adr x2, 1f\n"
                     "mov x3, %2\n"
                     "blr x3\n"
                     "1:\n"
                     "isb\n"
                     "mov %0, x5\n"
                     : "=r"(x5) : "r"(rd(sctlr_el1) & ~1UL), "r"(TRAMP) : "x0", "x2", "x3", "x5", "x30", "memory");
    off_x5 = x5;
    off_aborts = exc_log_n;
    off_m = rd(sctlr_el1) & 1;
    TLBI_EL1();
    return 0;
}

int main(void)
{
    puts("mmu_switch\n");
    call_lower(el1_switch, 0, EL1H);
    pr("%s mmu_on_no_isb aborts=%d elr=%x mmu=%d\n", OKF(r_aborts == 0 && r_m == 1), r_aborts,
       r_aborts ? r_elr : 0, r_m);
    call_lower(el1_switch, 1, EL1H);
    pr("%s mmu_on_isb_in_hole aborts=%d elr=%x ec=%x ifsc=%x mmu=%d\n",
       OKF(r_aborts == 1 && r_elr == 0x1ff000 && (r_esr >> 26) == 0x21 && (r_esr & 0x3f) == 7 && r_m == 1),
       r_aborts, r_elr, r_esr >> 26, r_esr & 0x3f, r_m);
    call_lower(el1_switch_off, 0, EL1H);
    pr("%s mmu_off_no_isb next_insn_from=%s aborts=%d mmu=%d\n",
       OKF(off_x5 == 1 && off_aborts == 0 && off_m == 0),
       off_x5 == 1 ? "old_regime" : off_x5 == 2 ? "new_regime" : "neither", off_aborts, off_m);
    exc_expect(ACT_UNEXPECTED);
    done();
}
