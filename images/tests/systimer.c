/*
 * systimer: the BCM2835 system timer (0x3F003000) through the BCM2835
 * interrupt controller (0x3F00B200) and the ARM-local GPU routing
 * (0x4000000C) to core 0, taken at EL2 (HCR_EL2.IMO/FMO).
 *
 * C1 and C3 compares raise GPU IRQs 1 and 3: CS.Mn, IRQ pending 1, basic
 * pending bit 8 and the core 0 IRQ source bit 8 before and after the match;
 * CS write-one-to-clear (only the bits written); enable/disable 1 (the
 * disabled match stays in CS but is not pending); two compares in time
 * order; GPU IRQ routed to core 1 shows in core 1's source, not core 0's;
 * FIQ control selecting IRQ 1 gives core 0 an FIQ (0x300).  CLO only grows
 * and no counter value is printed.
 */
#include "rt.h"
#include "bcm.h"

#define M1 (1u << 1)
#define M3 (1u << 3)

struct seen { u64 vec, src, pend1, basic, cs, src_after, pend1_after, cs_after; };
static volatile struct seen irq[4];
static volatile u64 nirq;

static int hook(struct frame *f, struct exc_rec *r)
{
    if (r->el != 2 || (r->vec != 0x280 && r->vec != 0x300) || nirq >= 4)
        return ACT_UNEXPECTED;
    volatile struct seen *s = &irq[nirq];
    int fiq = r->vec == 0x300;
    s->vec = r->vec;
    s->src = mmio_rd(fiq ? LOCAL_FIQ_SRC(0) : LOCAL_IRQ_SRC(0));
    s->pend1 = mmio_rd(IC_PENDING1);
    s->basic = mmio_rd(IC_BASIC_PENDING);
    s->cs = mmio_rd(ST_CS);
    mmio_wr(ST_CS, fiq ? M1 : s->pend1 & 0xf);      /* acknowledge the match */
    s->src_after = mmio_rd(fiq ? LOCAL_FIQ_SRC(0) : LOCAL_IRQ_SRC(0));
    s->pend1_after = mmio_rd(IC_PENDING1);
    s->cs_after = mmio_rd(ST_CS);
    nirq++;
    return ACT_RETURN;
}

static void irqs_on(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
static void irqs_off(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }
static int s32_ge(u32 a, u32 b) { return (int)(a - b) >= 0; }
#define US(n) ((u32)(n))   /* the system timer counts microseconds */

static void state(const char *name, u32 cs, u32 p1, u32 basic, u32 src)
{
    u32 c = mmio_rd(ST_CS), p = mmio_rd(IC_PENDING1), b = mmio_rd(IC_BASIC_PENDING);
    u32 s = mmio_rd(LOCAL_IRQ_SRC(0));
    pr("%s %s cs=%x pending1=%x basic=%x src=%x\n",
       OKF(c == cs && p == p1 && b == basic && s == src), name, c, p, b, s);
}

int main(void)
{
    puts("systimer\n");
    wr(hcr_el2, HCR_RW_ | HCR_IMO);
    isb();
    mmio_wr(IC_DISABLE1, 0xffffffff);
    mmio_wr(ST_CS, 0xf);
    mmio_wr(LOCAL_GPU_ROUTING, 0);
    u32 route = mmio_rd(LOCAL_GPU_ROUTING);
    u32 t0 = mmio_rd(ST_CLO), chi = mmio_rd(ST_CHI);
    pr("%s setup gpu_routing=%x chi=%x\n", OKF(route == 0 && chi == 0), route, chi);

    mmio_wr(IC_ENABLE1, M1 | M3);
    u32 en = mmio_rd(IC_ENABLE1);
    pr("%s enable1 readback=%x\n", OKF(en == (M1 | M3)), en);

    /* C1 match with IRQs masked */
    u32 c1 = mmio_rd(ST_CLO) + US(10000);
    mmio_wr(ST_C(1), c1);
    u32 rb = mmio_rd(ST_C(1));
    pr("%s c1_readback %s\n", OKF(rb == c1), rb == c1 ? "same" : "differs");
    state("c1_armed", 0, 0, 0, 0);
    int fired = WAIT(mmio_rd(ST_CS) & M1, MS(100));
    u32 now = mmio_rd(ST_CLO);
    pr("%s c1_match fired=%d clo>=c1:%d clo_advanced:%d\n", OKF(fired && s32_ge(now, c1) && now != t0),
       fired, s32_ge(now, c1), now != t0);
    state("c1_pending", M1, M1, 1u << 8, SRC_GPU);

    exc_expect_hook(hook);
    irqs_on();
    WAIT(nirq == 1, MS(100));
    irqs_off();
    volatile struct seen *s = &irq[0];
    pr("%s c1_irq n=%d vec=%03x src=%x pending1=%x basic=%x cs=%x after_cs_clear: src=%x pending1=%x cs=%x\n",
       OKF(nirq == 1 && s->vec == 0x280 && s->src == SRC_GPU && s->pend1 == M1 && s->basic == 1u << 8 &&
           s->cs == M1 && s->src_after == 0 && s->pend1_after == 0 && s->cs_after == 0),
       nirq, s->vec, s->src, s->pend1, s->basic, s->cs, s->src_after, s->pend1_after, s->cs_after);

    /* C3 before C1: two IRQs in time order */
    nirq = 0;
    now = mmio_rd(ST_CLO);
    mmio_wr(ST_C(3), now + US(5000));
    mmio_wr(ST_C(1), now + US(15000));
    irqs_on();
    WAIT(nirq == 2, MS(100));
    irqs_off();
    for (int i = 0; i < 2; i++) {
        u32 bit = i == 0 ? M3 : M1;
        s = &irq[i];
        pr("%s order%d pending1=%x cs=%x after: pending1=%x cs=%x src=%x\n",
           OKF(nirq == 2 && s->pend1 == bit && s->cs == bit && s->pend1_after == 0 && s->cs_after == 0 &&
               s->src == SRC_GPU && s->src_after == 0),
           i, s->pend1, s->cs, s->pend1_after, s->cs_after, s->src_after);
    }

    /* disabled: the match is in CS but not pending */
    mmio_wr(IC_DISABLE1, M1);
    en = mmio_rd(IC_ENABLE1);
    now = mmio_rd(ST_CLO);
    mmio_wr(ST_C(1), now + US(500));
    mmio_wr(ST_C(3), now + US(1000));
    fired = WAIT((mmio_rd(ST_CS) & (M1 | M3)) == (M1 | M3), MS(100));
    pr("%s disable1 enable1=%x fired=%d\n", OKF(en == M3 && fired), en, fired);
    mmio_wr(IC_DISABLE1, M3);
    state("both_disabled", M1 | M3, 0, 0, 0);
    mmio_wr(ST_CS, 0);
    state("cs_write_0", M1 | M3, 0, 0, 0);
    mmio_wr(ST_CS, M3);
    state("cs_clear_m3", M1, 0, 0, 0);

    /* GPU IRQ routed to core 1 */
    mmio_wr(IC_ENABLE1, M1);
    u32 src0 = mmio_rd(LOCAL_IRQ_SRC(0));
    mmio_wr(LOCAL_GPU_ROUTING, 1);
    u32 a0 = mmio_rd(LOCAL_IRQ_SRC(0)), a1 = mmio_rd(LOCAL_IRQ_SRC(1));
    mmio_wr(LOCAL_GPU_ROUTING, 0);
    u32 b0 = mmio_rd(LOCAL_IRQ_SRC(0)), b1 = mmio_rd(LOCAL_IRQ_SRC(1));
    pr("%s gpu_routing core0: src0=%x; core1: src0=%x src1=%x; core0 again: src0=%x src1=%x\n",
       OKF(src0 == SRC_GPU && a0 == 0 && a1 == SRC_GPU && b0 == SRC_GPU && b1 == 0), src0, a0, a1, b0, b1);
    mmio_wr(IC_DISABLE1, M1);

    /* FIQ: FIQ control selects GPU IRQ 1, routed to core 0's FIQ */
    mmio_wr(IC_FIQ_CONTROL, 0x80 | 1);
    u32 fc = mmio_rd(IC_FIQ_CONTROL);
    u32 fsrc = mmio_rd(LOCAL_FIQ_SRC(0)), isrc = mmio_rd(LOCAL_IRQ_SRC(0));
    pr("%s fiq_control=%x fiq_src=%x irq_src=%x\n", OKF(fc == 0x81 && fsrc == SRC_GPU && isrc == 0), fc, fsrc, isrc);
    nirq = 0;
    wr(hcr_el2, HCR_RW_ | HCR_IMO | HCR_FMO);
    isb();
    __asm__ volatile("msr daifclr, #1" ::: "memory");
    WAIT(nirq == 1, MS(100));
    __asm__ volatile("msr daifset, #1" ::: "memory");
    wr(hcr_el2, HCR_RW_ | HCR_IMO);
    isb();
    s = &irq[0];
    pr("%s fiq_taken n=%d vec=%03x fiq_src=%x cs=%x after_cs_clear: fiq_src=%x cs=%x\n",
       OKF(nirq == 1 && s->vec == 0x300 && s->src == SRC_GPU && s->cs == M1 && s->src_after == 0 &&
           s->cs_after == 0),
       nirq, s->vec, s->src, s->cs, s->src_after, s->cs_after);
    mmio_wr(IC_FIQ_CONTROL, 0);
    u32 t1 = mmio_rd(ST_CLO);
    pr("%s clo_monotonic %d\n", OKF(s32_ge(t1, now) && s32_ge(now, t0)), s32_ge(t1, now) && s32_ge(now, t0));
    exc_expect(ACT_UNEXPECTED);
    done();
}
