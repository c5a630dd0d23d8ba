/*
 * irq_timers: generic timer interrupts through the ARM-local controller.
 *
 *  - CNTHP (EL2 physical timer) as an IRQ taken at EL2 (HCR_EL2.IMO=1):
 *    CTL.ISTATUS and the core 0 IRQ source (0x40000060) before and after the
 *    compare, TVAL after firing, IMASK lowering the line but not ISTATUS,
 *    TVAL writes (CVAL = count + TVAL), a CVAL in the past;
 *  - CNTVOFF_EL2: CNTVCT = CNTPCT - CNTVOFF;
 *  - CNTV (virtual timer) armed and taken at EL1 (IMO=0), compared with the
 *    virtual count; core timer interrupt control FIQ bits (FIQ wins over IRQ);
 *  - the hypervisor pattern: CNTV raised while a guest runs at EL1 with IMO=1
 *    is taken at EL2 (0x480) whatever the guest's PSTATE.I; EL2 masks it and
 *    injects a virtual IRQ (HCR_EL2.VI); the guest sees ISR_EL1.I, takes it
 *    at 0x280 and asks EL2 with an HVC to drop VI;
 *  - ISR_EL1 for physical interrupts: CNTHP pending at EL2 (masked), inside
 *    its own IRQ handler and after IMASK; CNTHP as a FIQ (FMO) pending and
 *    inside its FIQ handler; CNTV at EL1 (IMO=0) pending and in its handler;
 *  - the ARM-local timer (0x34/0x38): reload/enable read back, the flag
 *    (bit 31) and IRQ source bit 11 after the reload period, local interrupt
 *    routing 0x24 to core 0 FIQ and to core 1, flag cleared through 0x38.
 * No counter value is printed (CNTFRQ is 62.5 MHz on QEMU, 19.2 MHz on a Pi):
 * only relations and register bits.
 */
#include "rt.h"
#include "bcm.h"

#define SPSR_M_DAIF(s) ((s) & 0x3ff)   /* NZCV depend on where the IRQ hit */
#define EL1H_MASKED (SPSR_DAIF | SPSR_EL1H)

/* what the interrupt handlers saw */
struct seen { u64 n, el, vec, spsr, src, src_after, ctl, ctl_after; };
static volatile struct seen hp, v1, vh, vv;
static volatile u64 hvc_n, isr_after_hvc;
enum { PH_CNTHP = 1, PH_CNTV_EL1, PH_VIRQ, PH_ISR_IRQ, PH_ISR_FIQ, PH_ISR_EL1 };
static volatile u64 isr_in[3], isr_after[3], isr_n[3];
static volatile int phase;

static void note(volatile struct seen *s, struct exc_rec *r)
{
    s->n++;
    s->el = r->el;
    s->vec = r->vec;
    s->spsr = SPSR_M_DAIF(r->spsr);
    s->src = mmio_rd(LOCAL_IRQ_SRC(0));
}

static int irq_hook(struct frame *f, struct exc_rec *r)
{
    if (phase == PH_CNTHP && r->el == 2 && r->vec == 0x280) {
        note(&hp, r);
        hp.ctl = rd(cnthp_ctl_el2);
        wr(cnthp_ctl_el2, CTL_ENABLE | CTL_IMASK);      /* mask: line drops, ISTATUS stays */
        isb();
        hp.ctl_after = rd(cnthp_ctl_el2);
        hp.src_after = mmio_rd(LOCAL_IRQ_SRC(0));
        return ACT_RETURN;
    }
    if (phase == PH_CNTV_EL1 && r->el == 1 && r->vec == 0x280) {
        note(&v1, r);
        v1.ctl = rd(cntv_ctl_el0);
        wr(cntv_ctl_el0, 0);                            /* disable */
        isb();
        v1.ctl_after = rd(cntv_ctl_el0);
        v1.src_after = mmio_rd(LOCAL_IRQ_SRC(0));
        return ACT_RETURN;
    }
    if (phase == PH_VIRQ && r->el == 2 && r->vec == 0x480) {   /* physical CNTV from the guest */
        note(&vh, r);
        vh.ctl = rd(cntv_ctl_el0);
        wr(cntv_ctl_el0, CTL_ENABLE | CTL_IMASK);
        wr(hcr_el2, rd(hcr_el2) | HCR_VI);              /* inject */
        isb();
        vh.src_after = mmio_rd(LOCAL_IRQ_SRC(0));
        return ACT_RETURN;
    }
    if (phase == PH_VIRQ && r->el == 1 && r->vec == 0x280) {   /* the virtual IRQ */
        note(&vv, r);
        vv.ctl = rd(isr_el1);
        __asm__ volatile("hvc #0x42" ::: "memory");     /* "EOI": EL2 drops VI */
        vv.ctl_after = rd(isr_el1);
        return ACT_RETURN;
    }
    if ((phase == PH_ISR_IRQ && r->el == 2 && r->vec == 0x280) ||
        (phase == PH_ISR_FIQ && r->el == 2 && r->vec == 0x300)) {
        int i = phase == PH_ISR_FIQ;
        isr_in[i] = rd(isr_el1);
        wr(cnthp_ctl_el2, CTL_ENABLE | CTL_IMASK);
        isb();
        isr_after[i] = rd(isr_el1);
        isr_n[i]++;
        return ACT_RETURN;
    }
    if (phase == PH_ISR_EL1 && r->el == 1 && r->vec == 0x280) {
        isr_in[2] = rd(isr_el1);
        wr(cntv_ctl_el0, 0);
        isb();
        isr_after[2] = rd(isr_el1);
        isr_n[2]++;
        return ACT_RETURN;
    }
    if (phase == PH_VIRQ && r->el == 2 && r->vec == 0x400 && r->esr == 0x5a000042) {
        hvc_n++;
        wr(hcr_el2, rd(hcr_el2) & ~HCR_VI);
        isb();
        return ACT_RETURN;
    }
    return ACT_UNEXPECTED;
}

static void show(const char *name, volatile struct seen *s, u64 el, u64 vec, u64 spsr)
{
    int ok = s->n == 1 && s->el == el && s->vec == vec && s->spsr == spsr;
    pr("%s %s n=%d el=%d vec=%03x spsr=%x\n", OKF(ok), name, s->n, s->el, s->vec, s->spsr);
}

/* ---- CNTHP at EL2 ---- */
static void cnthp(void)
{
    wr(hcr_el2, HCR_RW_ | HCR_IMO);
    isb();
    mmio_wr(LOCAL_TIMER_CTL(0), TCTL_IRQ(2));
    u64 cval = cntpct() + MS(10);
    wr(cnthp_cval_el2, cval);
    wr(cnthp_ctl_el2, CTL_ENABLE);
    isb();
    u64 ctl = rd(cnthp_ctl_el2), src = mmio_rd(LOCAL_IRQ_SRC(0));
    pr("%s cnthp_armed ctl=%x src=%x\n", OKF(ctl == 1 && src == 0), ctl, src);

    int fired = WAIT(rd(cnthp_ctl_el2) & CTL_ISTATUS, MS(100));
    u64 now = cntpct();
    ctl = rd(cnthp_ctl_el2);
    src = mmio_rd(LOCAL_IRQ_SRC(0));
    u64 fsrc = mmio_rd(LOCAL_FIQ_SRC(0));
    int tval_le0 = (int)(u32)rd(cnthp_tval_el2) <= 0;
    pr("%s cnthp_pending ctl=%x irq_src=%x fiq_src=%x fired_after_cval=%d tval_le_0=%d\n",
       OKF(fired && ctl == 5 && src == SRC_CNTHP && fsrc == 0 && now >= cval && tval_le0),
       ctl, src, fsrc, now >= cval, tval_le0);

    phase = PH_CNTHP;
    exc_expect_hook(irq_hook);
    __asm__ volatile("msr daifclr, #2" ::: "memory");
    WAIT(hp.n, MS(100));
    __asm__ volatile("msr daifset, #2" ::: "memory");
    show("cnthp_irq", &hp, 2, 0x280, 0x349);
    pr("%s cnthp_irq_source in_handler=%x ctl=%x after_imask=%x ctl=%x\n",
       OKF(hp.src == SRC_CNTHP && hp.ctl == 5 && hp.src_after == 0 && hp.ctl_after == 7),
       hp.src, hp.ctl, hp.src_after, hp.ctl_after);

    /* IMASK cleared again: the line comes back */
    wr(cnthp_ctl_el2, CTL_ENABLE);
    isb();
    src = mmio_rd(LOCAL_IRQ_SRC(0));
    pr("%s cnthp_unmask src=%x\n", OKF(src == SRC_CNTHP), src);

    /* TVAL write: CVAL = count + TVAL, the condition is false again */
    u64 t0 = cntpct();
    wr(cnthp_tval_el2, MS(50));
    isb();
    u64 cv = rd(cnthp_cval_el2);
    u64 t1 = cntpct();
    u32 tv = (u32)rd(cnthp_tval_el2);
    ctl = rd(cnthp_ctl_el2);
    src = mmio_rd(LOCAL_IRQ_SRC(0));
    int in = cv >= t0 + MS(50) && cv <= t1 + MS(50);
    int tv_ok = tv > 0 && tv <= MS(50);
    pr("%s cnthp_tval_write cval=count+tval:%d tval_in_(0,50ms]:%d ctl=%x src=%x\n",
       OKF(in && tv_ok && ctl == 1 && src == 0), in, tv_ok, ctl, src);

    /* a CVAL in the past fires at once */
    wr(cnthp_cval_el2, 0);
    isb();
    ctl = rd(cnthp_ctl_el2);
    src = mmio_rd(LOCAL_IRQ_SRC(0));
    pr("%s cnthp_cval_past ctl=%x src=%x\n", OKF(ctl == 5 && src == SRC_CNTHP), ctl, src);

    /* routing bit cleared: ISTATUS stays, the source bit goes */
    mmio_wr(LOCAL_TIMER_CTL(0), 0);
    ctl = rd(cnthp_ctl_el2);
    src = mmio_rd(LOCAL_IRQ_SRC(0));
    pr("%s cnthp_not_routed ctl=%x src=%x\n", OKF(ctl == 5 && src == 0), ctl, src);
    wr(cnthp_ctl_el2, 0);
    wr(hcr_el2, HCR_RW_);
    isb();
}

/* ---- CNTVOFF ---- */
static void cntvoff(u64 off)
{
    wr(cntvoff_el2, off);
    isb();
    u64 p1 = cntpct(), v = cntvct(), p2 = cntpct();
    u64 rb = rd(cntvoff_el2);
    int ok = (u64)(v - (p1 - off)) <= p2 - p1 && rb == off;
    pr("%s cntvoff cntvct=cntpct-cntvoff:%d readback=%d\n", OKF(ok), (u64)(v - (p1 - off)) <= p2 - p1,
       rb == off);
}

/* ---- CNTV at EL1 ---- */
static volatile u64 e_ctl0, e_src0, e_fired, e_ctl1, e_src1, e_after, e_cval;
static u64 el1_cntv(u64 a)
{
    u64 cval = cntvct() + MS(10);
    e_cval = cval;
    wr(cntv_cval_el0, cval);
    wr(cntv_ctl_el0, CTL_ENABLE);
    isb();
    e_ctl0 = rd(cntv_ctl_el0);
    e_src0 = mmio_rd(LOCAL_IRQ_SRC(0));
    e_fired = WAIT(rd(cntv_ctl_el0) & CTL_ISTATUS, MS(100));
    e_after = cntvct() >= cval;
    e_ctl1 = rd(cntv_ctl_el0);
    e_src1 = mmio_rd(LOCAL_IRQ_SRC(0));
    __asm__ volatile("msr daifclr, #2" ::: "memory");
    WAIT(v1.n, MS(100));
    __asm__ volatile("msr daifset, #2" ::: "memory");
    return rd(CurrentEL) >> 2;
}

static void cntv_el1(u64 off)
{
    mmio_wr(LOCAL_TIMER_CTL(0), TCTL_IRQ(3));
    phase = PH_CNTV_EL1;
    exc_expect_hook(irq_hook);
    u64 el = call_lower(el1_cntv, 0, EL1H_MASKED);
    u64 p = cntpct();
    pr("%s cntv_armed el=%d ctl=%x src=%x\n", OKF(el == 1 && e_ctl0 == 1 && e_src0 == 0), el, e_ctl0, e_src0);
    pr("%s cntv_pending ctl=%x src=%x fired_after_cval=%d cntpct>=cval+cntvoff:%d\n",
       OKF(e_fired && e_ctl1 == 5 && e_src1 == SRC_CNTV && e_after && p >= e_cval + off),
       e_ctl1, e_src1, e_after, p >= e_cval + off);
    show("cntv_irq_el1", &v1, 1, 0x280, 0x345);
    pr("%s cntv_irq_source in_handler=%x ctl=%x after_disable=%x ctl=%x\n",
       OKF(v1.src == SRC_CNTV && v1.ctl == 5 && v1.src_after == 0 && v1.ctl_after == 0),
       v1.src, v1.ctl, v1.src_after, v1.ctl_after);

    /* FIQ routing of the same timer: FIQ wins when both bits are set */
    wr(cntv_cval_el0, 0);
    wr(cntv_ctl_el0, CTL_ENABLE);
    isb();
    static const u32 ctls[3] = { TCTL_FIQ(3), TCTL_FIQ(3) | TCTL_IRQ(3), TCTL_IRQ(3) };
    static const u32 want_irq[3] = { 0, 0, SRC_CNTV }, want_fiq[3] = { SRC_CNTV, SRC_CNTV, 0 };
    for (int i = 0; i < 3; i++) {
        mmio_wr(LOCAL_TIMER_CTL(0), ctls[i]);
        u32 irq = mmio_rd(LOCAL_IRQ_SRC(0)), fiq = mmio_rd(LOCAL_FIQ_SRC(0));
        pr("%s cntv_route control=%02x irq_src=%x fiq_src=%x\n",
           OKF(irq == want_irq[i] && fiq == want_fiq[i]), ctls[i], irq, fiq);
    }
    wr(cntv_ctl_el0, 0);
    mmio_wr(LOCAL_TIMER_CTL(0), 0);
    isb();
}

/* ---- physical CNTV to EL2, virtual IRQ to the guest ---- */
static volatile u64 g_isr_masked, g_isr_after, g_ran;
static u64 el1_guest(u64 a)
{
    wr(cntv_tval_el0, MS(2));
    wr(cntv_ctl_el0, CTL_ENABLE);
    isb();
    /* PSTATE.I is set here, yet the physical IRQ goes to EL2 (IMO=1) */
    int got = WAIT(rd(isr_el1) & 0x80, MS(100));
    g_isr_masked = got ? rd(isr_el1) : 0;
    __asm__ volatile("msr daifclr, #2" ::: "memory");
    WAIT(vv.n, MS(100));
    __asm__ volatile("msr daifset, #2" ::: "memory");
    g_isr_after = rd(isr_el1);
    g_ran = 1;
    return 0;
}

static void virq_from_timer(void)
{
    mmio_wr(LOCAL_TIMER_CTL(0), TCTL_IRQ(3));
    wr(hcr_el2, HCR_RW_ | HCR_IMO);
    isb();
    phase = PH_VIRQ;
    exc_expect_hook(irq_hook);
    call_lower(el1_guest, 0, EL1H_MASKED);
    show("virq_timer_to_el2", &vh, 2, 0x480, 0x3c5);
    pr("%s virq_timer_source in_el2=%x ctl=%x after_imask=%x\n",
       OKF(vh.src == SRC_CNTV && vh.ctl == 5 && vh.src_after == 0), vh.src, vh.ctl, vh.src_after);
    pr("%s virq_pending_masked isr_el1=%x\n", OKF(g_ran && g_isr_masked == 0x80), g_isr_masked);
    show("virq_taken_el1", &vv, 1, 0x280, 0x345);
    pr("%s virq_eoi_hvc n=%d isr_in_handler=%x after_hvc=%x after=%x\n",
       OKF(hvc_n == 1 && vv.ctl == 0x80 && vv.ctl_after == 0 && g_isr_after == 0),
       hvc_n, vv.ctl, vv.ctl_after, g_isr_after);
    wr(cntv_ctl_el0, 0);
    wr(hcr_el2, HCR_RW_);
    mmio_wr(LOCAL_TIMER_CTL(0), 0);
    isb();
}

/* ---- ISR_EL1 for physical interrupts ---- */
static volatile u64 e_isr_pending;
static u64 el1_isr(u64 a)
{
    wr(cntv_cval_el0, 0);                               /* fires at once */
    wr(cntv_ctl_el0, CTL_ENABLE);
    isb();
    e_isr_pending = rd(isr_el1);                        /* IMO=0: the physical line */
    __asm__ volatile("msr daifclr, #2" ::: "memory");
    WAIT(isr_n[2], MS(100));
    __asm__ volatile("msr daifset, #2" ::: "memory");
    return 0;
}

static void isr_physical(void)
{
    wr(hcr_el2, HCR_RW_ | HCR_IMO | HCR_FMO);
    isb();
    u64 none = rd(isr_el1);
    mmio_wr(LOCAL_TIMER_CTL(0), TCTL_IRQ(2));
    wr(cnthp_cval_el2, 0);
    wr(cnthp_ctl_el2, CTL_ENABLE);
    isb();
    u64 pending = rd(isr_el1);                          /* at EL2, PSTATE.I set */
    pr("%s isr_el2_irq_pending none=%x pending=%x\n", OKF(none == 0 && pending == 0x80), none, pending);
    phase = PH_ISR_IRQ;
    exc_expect_hook(irq_hook);
    __asm__ volatile("msr daifclr, #2" ::: "memory");
    WAIT(isr_n[0], MS(100));
    __asm__ volatile("msr daifset, #2" ::: "memory");
    pr("%s isr_el2_irq_handler n=%d in_handler=%x after_imask=%x\n",
       OKF(isr_n[0] == 1 && isr_in[0] == 0x80 && isr_after[0] == 0), isr_n[0], isr_in[0], isr_after[0]);

    wr(cnthp_ctl_el2, 0);
    mmio_wr(LOCAL_TIMER_CTL(0), TCTL_FIQ(2));
    wr(cnthp_ctl_el2, CTL_ENABLE);
    isb();
    pending = rd(isr_el1);
    phase = PH_ISR_FIQ;
    exc_expect_hook(irq_hook);
    __asm__ volatile("msr daifclr, #1" ::: "memory");
    WAIT(isr_n[1], MS(100));
    __asm__ volatile("msr daifset, #1" ::: "memory");
    pr("%s isr_el2_fiq n=%d pending=%x in_handler=%x after_imask=%x\n",
       OKF(isr_n[1] == 1 && pending == 0x40 && isr_in[1] == 0x40 && isr_after[1] == 0),
       isr_n[1], pending, isr_in[1], isr_after[1]);

    /* a pending IRQ unmasked for two instructions, without a WFI, is taken */
    wr(cnthp_ctl_el2, 0);
    mmio_wr(LOCAL_TIMER_CTL(0), TCTL_IRQ(2));
    wr(cnthp_ctl_el2, CTL_ENABLE);
    isb();
    phase = PH_ISR_IRQ;
    isr_n[0] = 0;
    exc_expect_hook(irq_hook);
    __asm__ volatile("msr daifclr, #2\n\tisb\n\tmsr daifset, #2" ::: "memory");
    pr("%s unmask_window n=%d\n", OKF(isr_n[0] == 1), isr_n[0]);
    wr(cnthp_ctl_el2, 0);

    wr(hcr_el2, HCR_RW_);
    mmio_wr(LOCAL_TIMER_CTL(0), TCTL_IRQ(3));
    isb();
    phase = PH_ISR_EL1;
    exc_expect_hook(irq_hook);
    call_lower(el1_isr, 0, EL1H_MASKED);
    pr("%s isr_el1_irq n=%d pending=%x in_handler=%x after_disable=%x\n",
       OKF(isr_n[2] == 1 && e_isr_pending == 0x80 && isr_in[2] == 0x80 && isr_after[2] == 0),
       isr_n[2], e_isr_pending, isr_in[2], isr_after[2]);
    mmio_wr(LOCAL_TIMER_CTL(0), 0);
    isb();
}

/* ---- the ARM-local timer (0x34/0x38), routed by 0x24 ---- */
#define LOCAL_INT_ROUTING 0x40000024UL
#define LOCAL_TIMER_CS    0x40000034UL
#define LOCAL_TIMER_WF    0x40000038UL
#define LT_ENABLE   (1u << 28)
#define LT_INT_EN   (1u << 29)
#define LT_FLAG     (1u << 31)
#define SRC_LOCAL_TIMER (1u << 11)
static void local_timer(void)
{
    mmio_wr(LOCAL_INT_ROUTING, 0);                        /* core 0 IRQ */
    u32 reload = 38400 * 20;                              /* 20 ms of the 38.4 MHz crystal */
    mmio_wr(LOCAL_TIMER_CS, LT_ENABLE | LT_INT_EN | reload);
    u32 cs = mmio_rd(LOCAL_TIMER_CS), src = mmio_rd(LOCAL_IRQ_SRC(0));
    pr("%s local_timer_armed flag=%d enable=%d int_enable=%d reload_readback=%d src=%x\n",
       OKF(cs == (LT_ENABLE | LT_INT_EN | reload) && src == 0), cs >> 31, cs >> 28 & 1, cs >> 29 & 1,
       (cs & 0x0fffffff) == reload, src);
    int fired = WAIT(mmio_rd(LOCAL_TIMER_CS) & LT_FLAG, MS(100));
    src = mmio_rd(LOCAL_IRQ_SRC(0));
    u32 fsrc = mmio_rd(LOCAL_FIQ_SRC(0));
    pr("%s local_timer_fired flag=%d irq_src=%x fiq_src=%x\n",
       OKF(fired && src == SRC_LOCAL_TIMER && fsrc == 0), fired, src, fsrc);
    mmio_wr(LOCAL_INT_ROUTING, 4);                        /* core 0 FIQ */
    src = mmio_rd(LOCAL_IRQ_SRC(0));
    fsrc = mmio_rd(LOCAL_FIQ_SRC(0));
    pr("%s local_timer_fiq routing=4 irq_src=%x fiq_src=%x\n", OKF(src == 0 && fsrc == SRC_LOCAL_TIMER), src, fsrc);
    mmio_wr(LOCAL_INT_ROUTING, 1);                        /* core 1 IRQ */
    src = mmio_rd(LOCAL_IRQ_SRC(0));
    u32 src1 = mmio_rd(LOCAL_IRQ_SRC(1));
    pr("%s local_timer_core1 routing=1 core0_src=%x core1_src=%x\n", OKF(src == 0 && src1 == SRC_LOCAL_TIMER),
       src, src1);
    mmio_wr(LOCAL_INT_ROUTING, 0);
    mmio_wr(LOCAL_TIMER_CS, reload);                      /* stop */
    mmio_wr(LOCAL_TIMER_WF, LT_FLAG);                     /* clear the flag */
    cs = mmio_rd(LOCAL_TIMER_CS);
    src = mmio_rd(LOCAL_IRQ_SRC(0));
    pr("%s local_timer_cleared flag=%d src=%x\n", OKF(!(cs & LT_FLAG) && src == 0), cs >> 31, src);
}

int main(void)
{
    puts("irq_timers\n");
    cnthp();
    u64 off = cntpct() / 2 + 12345;
    cntvoff(off);
    cntv_el1(off);
    virq_from_timer();
    wr(cntvoff_el2, 0);
    isr_physical();
    local_timer();
    exc_expect(ACT_UNEXPECTED);
    done();
}
