/*
 * smp_mailbox: the sixteen ARM-local core mailboxes as inter-processor
 * interrupts.
 *
 * Core 0 first checks the mailbox registers alone (IRQs masked): write-set
 * ORs bits in, read/clear reads them and clears the bits written, mailbox
 * interrupt control 0x50 routes a mailbox to the IRQ or FIQ source (FIQ wins).
 * Then it releases cores 1-3 (lib/start.S, both boot modes); each one sets
 * HCR_EL2.IMO, enables IRQs for its four mailboxes and sleeps in WFI with
 * IRQs unmasked at EL2.  A token goes round the ring 0->1->2->3->0 twice
 * (8 hops, each hop on another mailbox); every core takes the IRQ at EL2,
 * reads its IRQ source (bits 4-7), reads and clears the mailbox, checks the
 * source is clear, records what it saw and sends the next hop.  Last, core 0
 * writes mailbox 3 of cores 1-3 at once, and each answers on core 0's
 * mailbox 1, 2 or 3 (up to three sources pending on core 0 together).  Only core 0 prints, in hop order;
 * every wait is bounded, so a lost interrupt prints FAIL.
 */
#include "rt.h"
#include "bcm.h"

#define HOPS 8
#define RING 0x5a
#define BCAST 0xb0
#define ACK 0xac
static u32 hop_mbox(u64 k) { return (k + k / 4) % 4; }
static u32 hop_val(u64 k) { return RING << 24 | (u32)(k % 4) << 8 | (u32)k; }   /* sender, hop */

struct got { u64 n, core, el, vec, spsr, src, val, after, mbox; };
static volatile struct got hops[HOPS], bcast[4];
static volatile u64 hops_done, stray[4], ready[4], el_of[4], acks;
/* Set by core 0 once its register checks are over and the IRQ hook is in
   place.  The secondaries run from before main() (lib/start.S releases them
   first); without this gate one could route and unmask its mailbox IRQs while
   core 0 still writes core 2's mailbox in registers(), and take that write as
   an interrupt nobody expects (it depended on how the cores were scheduled). */
static volatile u64 go;

static void send(u64 core, u32 mbox, u32 val) { mmio_wr(LOCAL_MBOX_SET(core, mbox), val); }

static int irq_hook(struct frame *f, struct exc_rec *r)
{
    u64 c = core_id();
    if (r->vec != 0x280 || r->el != 2)
        return ACT_UNEXPECTED;
    u32 src = mmio_rd(LOCAL_IRQ_SRC(c));
    u32 boxes = (src >> 4) & 0xf;
    if (!boxes) {
        stray[c]++;
        return ACT_RETURN;
    }
    u32 m = __builtin_ctz(boxes);
    u32 val = mmio_rd(LOCAL_MBOX_CLR(c, m));
    mmio_wr(LOCAL_MBOX_CLR(c, m), val);
    u32 after = mmio_rd(LOCAL_IRQ_SRC(c));
    volatile struct got *g;
    if (val >> 24 == RING && (val & 0xff) < HOPS)
        g = &hops[val & 0xff];
    else if (val >> 24 == BCAST)
        g = &bcast[c];
    else if (val >> 24 == ACK && c == 0 && m == (val & 3)) {
        acks |= 1u << m;
        return ACT_RETURN;
    } else {
        stray[c]++;
        return ACT_RETURN;
    }
    g->n++;
    g->core = c;
    g->el = r->el;
    g->vec = r->vec;
    g->spsr = r->spsr & 0x3ff;
    g->src = src;
    g->val = val;
    g->after = after;
    g->mbox = m;
    dsb();
    if (val >> 24 == RING) {
        u64 k = val & 0xff;
        hops_done = k + 1;
        dsb();
        if (k + 1 < HOPS)
            send((c + 1) % 4, hop_mbox(k + 1), hop_val(k + 1));
    } else {
        send(0, (u32)c, ACK << 24 | (u32)c);    /* broadcast seen: tell core 0 on mailbox c */
    }
    return ACT_RETURN;
}

void secondary_main(u64 core)
{
    if (core >= 4)
        return;
    while (!go)
        __asm__ volatile("wfe" ::: "memory");
    wr(hcr_el2, HCR_RW_ | HCR_IMO);
    isb();
    mmio_wr(LOCAL_MBOX_CTL(core), 0xf);
    el_of[core] = rd(CurrentEL) >> 2;
    ready[core] = core_id() + 1;
    dsb();
    __asm__ volatile("msr daifclr, #2" ::: "memory");
    for (;;)
        __asm__ volatile("wfi" ::: "memory");
}

/* core 0 alone, IRQs masked: register semantics */
static void registers(void)
{
    mmio_wr(LOCAL_MBOX_CTL(0), 0);
    send(0, 1, 0x1);
    send(0, 1, 0x4);
    u32 v = mmio_rd(LOCAL_MBOX_CLR(0, 1)), irq = mmio_rd(LOCAL_IRQ_SRC(0));
    pr("%s mbox_set_ors val=%x irq_src=%x (not routed)\n", OKF(v == 5 && irq == 0), v, irq);
    static const u32 ctl[3] = { 0x02, 0x22, 0x20 };
    for (int i = 0; i < 3; i++) {
        mmio_wr(LOCAL_MBOX_CTL(0), ctl[i]);
        u32 rb = mmio_rd(LOCAL_MBOX_CTL(0));
        irq = mmio_rd(LOCAL_IRQ_SRC(0));
        u32 fiq = mmio_rd(LOCAL_FIQ_SRC(0));
        u32 wi = i == 0 ? SRC_MBOX(1) : 0, wf = i == 0 ? 0 : SRC_MBOX(1);
        pr("%s mbox_route control=%02x readback=%02x irq_src=%x fiq_src=%x\n",
           OKF(rb == ctl[i] && irq == wi && fiq == wf), ctl[i], rb, irq, fiq);
    }
    mmio_wr(LOCAL_MBOX_CLR(0, 1), 0x1);
    v = mmio_rd(LOCAL_MBOX_CLR(0, 1));
    u32 fiq = mmio_rd(LOCAL_FIQ_SRC(0));
    pr("%s mbox_clear_some val=%x fiq_src=%x\n", OKF(v == 4 && fiq == SRC_MBOX(1)), v, fiq);
    mmio_wr(LOCAL_MBOX_CLR(0, 1), 0xffffffff);
    v = mmio_rd(LOCAL_MBOX_CLR(0, 1));
    fiq = mmio_rd(LOCAL_FIQ_SRC(0));
    pr("%s mbox_clear_all val=%x fiq_src=%x\n", OKF(v == 0 && fiq == 0), v, fiq);
    /* another core's mailbox: visible in its rd/clr register, not in ours */
    send(2, 2, 0x80000000);
    v = mmio_rd(LOCAL_MBOX_CLR(2, 2));
    u32 own = mmio_rd(LOCAL_MBOX_CLR(0, 2));
    mmio_wr(LOCAL_MBOX_CLR(2, 2), v);
    u32 cleared = mmio_rd(LOCAL_MBOX_CLR(2, 2));
    pr("%s mbox_other_core core2.mbox2=%x core0.mbox2=%x cleared=%x\n",
       OKF(v == 0x80000000 && own == 0 && cleared == 0), v, own, cleared);
    mmio_wr(LOCAL_MBOX_CTL(0), 0);
}

static void show(const char *what, u64 i, volatile struct got *g, u64 core, u32 mbox, u32 val)
{
    int ok = g->n == 1 && g->core == core && g->el == 2 && g->vec == 0x280 && g->spsr == 0x349 &&
             g->mbox == mbox && g->src == SRC_MBOX(mbox) && g->val == val && g->after == 0;
    pr("%s %s%d core=%d mbox=%d val=%x src=%x after_clear=%x el=%d vec=%03x spsr=%x n=%d\n",
       OKF(ok), what, i, g->core, g->mbox, g->val, g->src, g->after, g->el, g->vec, g->spsr, g->n);
}

int main(void)
{
    puts("smp_mailbox\n");
    registers();

    exc_expect_hook(irq_hook);
    wr(hcr_el2, HCR_RW_ | HCR_IMO);
    isb();
    mmio_wr(LOCAL_MBOX_CTL(0), 0xf);
    /* cores 1-3 were released before main() and wait for `go`; let them set up */
    go = 1;
    dsb();
    __asm__ volatile("sev" ::: "memory");
    u64 end = cntpct() + MS(100), spins = 0;
    while (!(ready[1] && ready[2] && ready[3]) && ((++spins & 1023) || cntpct() < end))
        barrier();
    for (u64 c = 1; c < 4; c++)
        pr("%s checkin core%d aff0=%d el=%d\n", OKF(ready[c] == c + 1 && el_of[c] == 2),
           c, ready[c] ? ready[c] - 1 : 99, el_of[c]);

    __asm__ volatile("msr daifclr, #2" ::: "memory");
    send(1, hop_mbox(0), hop_val(0));
    int all = WAIT(hops_done == HOPS, MS(500));
    __asm__ volatile("msr daifset, #2" ::: "memory");
    pr("%s ring hops=%d of %d\n", OKF(all), hops_done, HOPS);
    for (u64 k = 0; k < HOPS; k++)
        show("hop", k, &hops[k], (k + 1) % 4, hop_mbox(k), hop_val(k));

    /* broadcast: mailbox 3 of cores 1-3 at once */
    for (u64 c = 1; c < 4; c++)
        send(c, 3, BCAST << 24 | (u32)c);
    __asm__ volatile("msr daifclr, #2" ::: "memory");
    int got = WAIT(acks == 0xe, MS(500));
    __asm__ volatile("msr daifset, #2" ::: "memory");
    pr("%s broadcast acks_to_core0=%x\n", OKF(got), acks);
    for (u64 c = 1; c < 4; c++)
        show("bcast_core", c, &bcast[c], c, 3, BCAST << 24 | (u32)c);
    u64 s = stray[0] + stray[1] + stray[2] + stray[3];
    pr("%s no_stray_irqs n=%d\n", OKF(s == 0), s);
    exc_expect(ACT_UNEXPECTED);
    done();
}
