/*
 * Each VM's virtual devices, emulated from stage-2 data aborts (trap.c):
 * the mini UART (AUX, 0x3F215000), the system timer (0x3F003000) and the
 * BCM2835 interrupt controller (0x3F00B200), per guest_contract.md.
 * The VM's one virtual IRQ line is high while any enabled source pends;
 * sched.c turns it into HCR_EL2.VI.  Other addresses of the device window
 * read 0 and ignore writes (logged once per VM).
 */
#include "hyp.h"

#define AUX_IRQ     0x00
#define AUX_ENABLES 0x04
#define MU_IO       0x40
#define MU_IER      0x44
#define MU_IIR      0x48
#define MU_LCR      0x4C
#define MU_MCR      0x50
#define MU_LSR      0x54
#define MU_MSR      0x58
#define MU_SCRATCH  0x5C
#define MU_CNTL     0x60
#define MU_STAT     0x64
#define MU_BAUD     0x68
#define IER_RX      (1u << 0)
#define IER_TX      (1u << 1)
#define LCR_DLAB    (1u << 7)

#define ST_CS       0x00
#define ST_CLO      0x04
#define ST_CHI      0x08
#define ST_C0       0x0C

#define IC_BASIC_PENDING 0x00
#define IC_PENDING1 0x04
#define IC_PENDING2 0x08
#define IC_FIQ      0x0C
#define IC_ENABLE1  0x10
#define IC_ENABLE2  0x14
#define IC_ENABLE_B 0x18
#define IC_DISABLE1 0x1C
#define IC_DISABLE2 0x20
#define IC_DISABLE_B 0x24

#define IRQ_AUX     29

u32 systmr_clo(void)
{
    return mmio_read(SYSTMR_BASE + ST_CLO);
}

void vdev_reset(struct vm *vm)
{
    struct vuart *u = &vm->uart;
    u->rx_head = u->rx_tail = 0;
    u->ier = u->lcr = u->mcr = u->scratch = u->baud = u->enables = 0;
    u->cntl = 3;
}

/* ---- mini UART ---- */

static int uart_rx_ready(struct vuart *u)
{
    return u->rx_head != u->rx_tail;
}

static int uart_irq(struct vuart *u)
{
    return ((u->ier & IER_RX) && uart_rx_ready(u)) || (u->ier & IER_TX);
}

void vdev_uart_input(struct vm *vm, u8 c)
{
    struct vuart *u = &vm->uart;
    if (u->rx_head - u->rx_tail >= VUART_RX_SIZE)
        return;                                     /* overrun: drop */
    u->rx[u->rx_head++ % VUART_RX_SIZE] = c;
    sched_vm_changed(vm);
}

static u32 uart_read(struct vm *vm, u32 off)
{
    struct vuart *u = &vm->uart;
    switch (off) {
    case AUX_IRQ:
        return uart_irq(u) ? 1 : 0;
    case AUX_ENABLES:
        return u->enables;
    case MU_IO:
        if (u->lcr & LCR_DLAB)
            return u->baud & 0xff;
        if (!uart_rx_ready(u))
            return 0;
        return u->rx[u->rx_tail++ % VUART_RX_SIZE];
    case MU_IER:
        return u->ier;
    case MU_IIR:
        if ((u->ier & IER_RX) && uart_rx_ready(u))
            return 0xc4;                            /* RX data pending */
        if (u->ier & IER_TX)
            return 0xc2;                            /* TX holding empty */
        return 0xc1;                                /* no interrupt */
    case MU_LCR:
        return u->lcr;
    case MU_MCR:
        return u->mcr;
    case MU_LSR:
        return (uart_rx_ready(u) ? 1 : 0) | 0x60;   /* TX empty and idle */
    case MU_MSR:
        return 0x20;
    case MU_SCRATCH:
        return u->scratch;
    case MU_CNTL:
        return u->cntl;
    case MU_STAT: {
        u32 level = u->rx_head - u->rx_tail;
        if (level > 8)
            level = 8;
        return (uart_rx_ready(u) ? 1 : 0) | 0x2 | 0x300 | (level << 16);
    }
    case MU_BAUD:
        return u->baud;
    }
    return 0;
}

static void uart_write(struct vm *vm, u32 off, u32 v)
{
    struct vuart *u = &vm->uart;
    switch (off) {
    case AUX_ENABLES: u->enables = v & 7; break;
    case MU_IO:
        if (u->lcr & LCR_DLAB)
            u->baud = (u->baud & ~0xffu) | (v & 0xff);
        else
            con_guest_out(vm, (u8)v);
        break;
    case MU_IER: u->ier = v & 3; break;
    case MU_IIR:
        if (v & 2)
            u->rx_tail = u->rx_head;                /* clear the receive FIFO */
        break;
    case MU_LCR: u->lcr = v & 0xff; break;
    case MU_MCR: u->mcr = v & 0xff; break;
    case MU_SCRATCH: u->scratch = v & 0xff; break;
    case MU_CNTL: u->cntl = v & 0xff; break;
    case MU_BAUD: u->baud = v & 0xffff; break;
    }
}

/* ---- system timer ---- */

static void timer_poll(struct vm *vm, u32 now)
{
    struct vtimer *t = &vm->timer;
    for (int n = 0; n < 4; n++) {
        if (!(t->armed & (1u << n)))
            continue;
        /* matched once CLO has reached C[n] since it was written */
        if (now - t->armed_at[n] >= t->c[n] - t->armed_at[n]) {
            t->armed &= ~(1u << n);
            t->cs |= 1u << n;
        }
    }
}

void vdev_poll_timers(void)
{
    u32 now = systmr_clo();
    for (int i = 0; i < nvms; i++) {
        u32 before = vms[i].timer.cs;
        timer_poll(&vms[i], now);
        if (vms[i].timer.cs != before)
            sched_vm_changed(&vms[i]);
    }
}

/* ---- interrupt controller ---- */

static u32 pending1(struct vm *vm)
{
    u32 raw = vm->timer.cs & 0xf;
    if (uart_irq(&vm->uart))
        raw |= 1u << IRQ_AUX;
    return raw & vm->intc.enable1;
}

int vdev_line(struct vm *vm)
{
    return pending1(vm) != 0;
}

static u32 intc_read(struct vm *vm, u32 off)
{
    switch (off) {
    case IC_BASIC_PENDING: return pending1(vm) ? (1u << 8) : 0;
    case IC_PENDING1: return pending1(vm);
    case IC_FIQ: return vm->intc.fiq;
    case IC_ENABLE1: return vm->intc.enable1;
    case IC_ENABLE2: return vm->intc.enable2;
    case IC_ENABLE_B: return vm->intc.enable_basic;
    }
    return 0;
}

static void intc_write(struct vm *vm, u32 off, u32 v)
{
    struct vintc *ic = &vm->intc;
    switch (off) {
    case IC_FIQ: ic->fiq = v & 0xff; break;
    case IC_ENABLE1: ic->enable1 |= v; break;
    case IC_ENABLE2: ic->enable2 |= v; break;
    case IC_ENABLE_B: ic->enable_basic |= v & 0xff; break;
    case IC_DISABLE1: ic->enable1 &= ~v; break;
    case IC_DISABLE2: ic->enable2 &= ~v; break;
    case IC_DISABLE_B: ic->enable_basic &= ~v; break;
    }
}

/* ---- dispatch ---- */

static void unknown(struct vm *vm, u64 ipa, int write)
{
    if (vm->unknown_logged >= 4)
        return;
    vm->unknown_logged++;
    con_hyp_line();
    con_puts("VM ");
    con_dec(vm->vmid);
    con_puts(write ? ": write to unemulated IPA 0x" : ": read of unemulated IPA 0x");
    con_hex(ipa, 8);
    con_puts(" ignored\n");
}

u32 vdev_read(struct vm *vm, u64 ipa)
{
    vm->mmio_traps++;
    if (ipa >= AUX_BASE && ipa < AUX_BASE + 0x80)
        return uart_read(vm, ipa - AUX_BASE);
    if (ipa >= SYSTMR_BASE && ipa < SYSTMR_BASE + 0x1c) {
        u32 off = ipa - SYSTMR_BASE;
        timer_poll(vm, systmr_clo());
        if (off == ST_CS)
            return vm->timer.cs;
        if (off == ST_CLO)
            return systmr_clo();
        if (off == ST_CHI)
            return mmio_read(SYSTMR_BASE + ST_CHI);
        return vm->timer.c[(off - ST_C0) / 4];
    }
    if (ipa >= IC_BASE && ipa < IC_BASE + 0x28)
        return intc_read(vm, ipa - IC_BASE);
    unknown(vm, ipa, 0);
    return 0;
}

void vdev_write(struct vm *vm, u64 ipa, u32 v)
{
    vm->mmio_traps++;
    if (ipa >= AUX_BASE && ipa < AUX_BASE + 0x80) {
        uart_write(vm, ipa - AUX_BASE, v);
        return;
    }
    if (ipa >= SYSTMR_BASE && ipa < SYSTMR_BASE + 0x1c) {
        u32 off = ipa - SYSTMR_BASE;
        struct vtimer *t = &vm->timer;
        if (off == ST_CS) {
            t->cs &= ~(v & 0xf);
        } else if (off >= ST_C0) {
            int n = (off - ST_C0) / 4;
            t->c[n] = v;
            t->armed_at[n] = systmr_clo();
            t->armed |= 1u << n;
        }
        return;
    }
    if (ipa >= IC_BASE && ipa < IC_BASE + 0x28) {
        intc_write(vm, ipa - IC_BASE, v);
        return;
    }
    unknown(vm, ipa, 1);
}
