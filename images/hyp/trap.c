/*
 * Exceptions taken to EL2: guest traps (stage-2 data aborts = MMIO, WFI/WFE,
 * trapped ID registers) and physical IRQs (CNTHP tick, mailbox IPI, the
 * PL011 through the GPU interrupt controller).
 */
#include "hyp.h"

#define EC_WFX      0x01
#define EC_SYSREG   0x18
#define EC_DABT_LOW 0x24
#define IC_PENDING2 (IC_BASE + 0x08)

static void stop_vcpu(struct vcpu *v, const char *why, u64 esr, u64 elr)
{
    con_hyp_line();
    con_puts("VM ");
    con_dec(v->vm->vmid);
    con_puts(" stopped: ");
    con_puts(why);
    con_puts(", ESR_EL2 0x");
    con_hex(esr, 8);
    con_puts(" ELR_EL2 0x");
    con_hex(elr, 16);
    con_putc('\n');
    v->state = V_STOPPED;
}

/* Stage-2 data abort in the device window: emulate the one 32-bit access. */
static void mmio(struct vcpu *v, struct frame *f, u64 esr)
{
    u64 ipa = ((READ_SYSREG(hpfar_el2) >> 4) << 12) | (READ_SYSREG(far_el2) & 0xfff);
    int isv = (esr >> 24) & 1, sas = (esr >> 22) & 3, srt = (esr >> 16) & 31, wnr = (esr >> 6) & 1;

    if (!isv || sas != 2 || ipa < PERIPH_BASE || ipa >= LOCAL_BASE + 0x1000000) {
        stop_vcpu(v, "access outside RAM that cannot be emulated", esr, f->elr);
        return;
    }
    if (wnr)
        vdev_write(v->vm, ipa, srt == 31 ? 0 : (u32)f->x[srt]);
    else {
        u32 val = vdev_read(v->vm, ipa);
        if (srt != 31)
            f->x[srt] = val;
    }
    f->elr += 4;
}

/* MRS of a TID3 register (Op0 3, Op1 0, CRn 0, CRm 1-7): the VM's value. */
static void sysreg(struct vcpu *v, struct frame *f, u64 esr)
{
    u32 op0 = (esr >> 20) & 3, op2 = (esr >> 17) & 7, op1 = (esr >> 14) & 7;
    u32 crn = (esr >> 10) & 15, rt = (esr >> 5) & 31, crm = (esr >> 1) & 15, read = esr & 1;

    if (read && op0 == 3 && op1 == 0 && crn == 0 && crm >= 1 && crm <= 7) {
        if (rt != 31)
            f->x[rt] = v->vm->idregs[(crm - 1) * 8 + op2];
        f->elr += 4;
        return;
    }
    stop_vcpu(v, "unexpected system register trap", esr, f->elr);
}

void hyp_sync_lower(struct frame *f)
{
    u64 esr = READ_SYSREG(esr_el2);
    hyp_lock();
    struct vcpu *v = sched_current();
    switch (esr >> 26) {
    case EC_DABT_LOW:
        mmio(v, f, esr);
        break;
    case EC_SYSREG:
        sysreg(v, f, esr);
        break;
    case EC_WFX:
        f->elr += 4;
        if (!vdev_line(v->vm))
            v->state = V_WAITING;       /* until its virtual line rises */
        break;
    default:
        stop_vcpu(v, "unhandled exception", esr, f->elr);
        break;
    }
    sched_exit(f, 0);
}

static int tick_pending(void)
{
    return (READ_SYSREG(cnthp_ctl_el2) & 5) == 5;   /* ENABLE and ISTATUS */
}

/* Serve this core's pending IRQ sources; returns whether the tick fired. */
static int serve_irqs(void)
{
    int core = this_core();
    u32 src = mmio_read(LOCAL_IRQ_SOURCE(core));
    int tick = 0;

    if ((src & SRC_CNTHP) || tick_pending()) {
        WRITE_SYSREG(cnthp_tval_el2, READ_SYSREG(cntfrq_el0) / TICK_HZ);
        vdev_poll_timers();
        tick = 1;
    }
    if (src & SRC_MBOX0)
        mmio_write(LOCAL_MBOX_CLR(core, 0), 0xffffffff);
    if ((src & SRC_GPU) && (mmio_read(IC_PENDING2) & (1u << (IRQ_PL011 - 32))))
        con_rx_irq();
    return tick;
}

void irq_dispatch(void)
{
    serve_irqs();
}

void hyp_irq_lower(struct frame *f)
{
    hyp_lock();
    int tick = serve_irqs();
    sched_exit(f, tick);
}

void hyp_irq_el2(struct frame *f)
{
    hyp_lock();
    serve_irqs();
    hyp_unlock();
}

void hyp_panic(const char *why)
{
    con_hyp_line();
    con_puts("panic: ");
    con_puts(why);
    con_putc('\n');
    for (;;)
        __asm__ volatile("wfi");
}

/* Without the lock: the fault may have hit while this core held it (the
 * line may then interleave with another core's output). */
void hyp_bad_vector(struct frame *f, u64 vector)
{
    con_hyp_line();
    con_puts("core ");
    con_dec(this_core());
    con_puts(": unexpected exception at EL2, vector 0x");
    con_hex(vector, 3);
    con_puts(" ESR_EL2 0x");
    con_hex(READ_SYSREG(esr_el2), 8);
    con_puts(" ELR_EL2 0x");
    con_hex(f->elr, 16);
    con_puts(" FAR_EL2 0x");
    con_hex(READ_SYSREG(far_el2), 16);
    con_putc('\n');
    hyp_panic("halted");
}
