/*
 * uart_rx: both UARTs print and receive input typed on the host, polled and
 * by interrupt through the BCM2835 interrupt controller (core 0, EL2).
 *
 * Input (tests/conformance.py INPUTS): one line ending in '\r' on each UART.
 *  - PL011 (0x3F201000), FIFOs off (LCRH.FEN=0: the RX interrupt at one
 *    byte): the first byte polled through FR.RXFE/DR; the rest by the RX
 *    interrupt (IMSC.RXIM; MIS bit 4; GPU IRQ 57 = pending 2 bit 25, basic
 *    pending bits 9 and 19); ICR; the final state with nothing left.
 *  - mini UART (AUX 0x3F215000): AUX_ENABLES, register read-back, the RX
 *    interrupt (IER bit 0, AUX_IRQ bit 0, IIR=0xc4, GPU IRQ 29 = pending 1
 *    bit 29, basic pending bit 8), IIR=0xc1 once drained, then the TX
 *    interrupt (IER bit 1, IIR=0xc2) with an empty FIFO; every byte received
 *    is echoed on the mini UART,
 *    whose output the test compares too (uart_rx.mini.expected).
 * Everything else is printed on the PL011.  Bytes arrive at host-dependent
 * times on QEMU, so only the first interrupt's registers, the received text
 * and the final state are printed, never a count of interrupts.
 */
#include "rt.h"
#include "bcm.h"

#define PL_BASE 0x3F201000UL
#define PL_DR   (PL_BASE + 0x00)
#define PL_FR   (PL_BASE + 0x18)
#define PL_LCRH (PL_BASE + 0x2C)
#define PL_CR   (PL_BASE + 0x30)
#define PL_IMSC (PL_BASE + 0x38)
#define PL_MIS  (PL_BASE + 0x40)
#define PL_ICR  (PL_BASE + 0x44)
#define FR_RXFE (1u << 4)
#define INT_RX  (1u << 4)

#define AUX_BASE     0x3F215000UL
#define AUX_IRQ      (AUX_BASE + 0x00)
#define AUX_ENABLES  (AUX_BASE + 0x04)
#define MU_IO        (AUX_BASE + 0x40)
#define MU_IER       (AUX_BASE + 0x44)
#define MU_IIR       (AUX_BASE + 0x48)
#define MU_LCR       (AUX_BASE + 0x4C)
#define MU_MCR       (AUX_BASE + 0x50)
#define MU_LSR       (AUX_BASE + 0x54)
#define MU_SCRATCH   (AUX_BASE + 0x5C)
#define MU_CNTL      (AUX_BASE + 0x60)
#define MU_BAUD      (AUX_BASE + 0x68)
#define LSR_DR       (1u << 0)
#define LSR_TX_EMPTY (1u << 5)

#define IRQ_AUX_BIT  (1u << 29)          /* pending 1 */
#define IRQ_UART_BIT (1u << (57 - 32))   /* pending 2 */

#define BUF 64
struct rx {
    char buf[BUF];
    u64 len, done, irqs;
    u32 mis, iir, aux, pend, basic, src;   /* at the first interrupt */
};
static volatile struct rx pl, mu;

static void mu_putc(char c)
{
    while (!(mmio_rd(MU_LSR) & LSR_TX_EMPTY))
        ;
    mmio_wr(MU_IO, (u8)c);
}
static void mu_puts(const char *s) { while (*s) mu_putc(*s++); }

static void take(volatile struct rx *r, u32 c)
{
    if (c == '\r') {
        r->done = 1;
    } else if (r->len < BUF - 1) {
        r->buf[r->len++] = (char)c;
        r->buf[r->len] = 0;
    }
}

static int hook(struct frame *f, struct exc_rec *r)
{
    if (r->el != 2 || r->vec != 0x280)
        return ACT_UNEXPECTED;
    u32 p1 = mmio_rd(IC_PENDING1), p2 = mmio_rd(IC_PENDING2);
    if (p2 & IRQ_UART_BIT) {
        if (!pl.irqs++) {
            pl.mis = mmio_rd(PL_MIS);
            pl.pend = p2;
            pl.basic = mmio_rd(IC_BASIC_PENDING);
            pl.src = mmio_rd(LOCAL_IRQ_SRC(0));
        }
        mmio_wr(PL_ICR, 0x7ff);     /* before draining: a byte arriving after the loop raises RX again */
        while (!(mmio_rd(PL_FR) & FR_RXFE))
            take(&pl, mmio_rd(PL_DR) & 0xff);
    }
    if (p1 & IRQ_AUX_BIT) {
        if (!mu.irqs++) {
            mu.aux = mmio_rd(AUX_IRQ);
            mu.iir = mmio_rd(MU_IIR);
            mu.pend = p1;
            mu.basic = mmio_rd(IC_BASIC_PENDING);
            mu.src = mmio_rd(LOCAL_IRQ_SRC(0));
        }
        while (mmio_rd(MU_LSR) & LSR_DR) {
            u32 c = mmio_rd(MU_IO) & 0xff;
            take(&mu, c);
            if (c != '\r')
                mu_putc((char)c);                /* echo */
        }
    }
    if (!(p1 & IRQ_AUX_BIT) && !(p2 & IRQ_UART_BIT))
        return ACT_UNEXPECTED;
    return ACT_RETURN;
}

static void irqs_on(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
static void irqs_off(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }

static void pl011(void)
{
    mmio_wr(PL_IMSC, 0);
    mmio_wr(PL_ICR, 0x7ff);
    mmio_wr(PL_CR, 0);                            /* configure disabled, then enable */
    mmio_wr(PL_LCRH, 0x60);                       /* 8 bits, FIFOs off */
    mmio_wr(PL_CR, 0x301);                        /* UARTEN, TXE, RXE */
    u32 lcrh = mmio_rd(PL_LCRH), cr = mmio_rd(PL_CR);
    pr("%s pl011_setup lcrh=%x cr=%x\n", OKF(lcrh == 0x60 && cr == 0x301), lcrh, cr);

    /* polled (IRQs masked): the first byte.  The RX interrupt is enabled
       only so that a pending, masked IRQ ends the WFI of the bounded wait. */
    mmio_wr(PL_IMSC, INT_RX);
    mmio_wr(IC_ENABLE2, IRQ_UART_BIT);
    WAIT(!(mmio_rd(PL_FR) & FR_RXFE), MS(2000));
    u32 fr = mmio_rd(PL_FR);
    u32 c = fr & FR_RXFE ? 0 : mmio_rd(PL_DR) & 0xff;
    pr("%s pl011_polled rxfe=%d byte=%c\n", OKF(!(fr & FR_RXFE) && c == 'P'), !!(fr & FR_RXFE),
       c >= ' ' && c < 0x7f ? c : '?');

    /* the rest by interrupt */
    u32 imsc = mmio_rd(PL_IMSC);
    irqs_on();
    int ok = WAIT(pl.done, MS(2000));
    irqs_off();
    pr("%s pl011_rx_irq done=%d imsc=%x text=\"%s\"\n", OKF(ok && imsc == INT_RX), ok, imsc, pl.buf);
    pr("%s pl011_first_irq mis=%x pending2=%x basic=%x src=%x\n",
       OKF(pl.irqs && pl.mis == INT_RX && pl.pend == IRQ_UART_BIT && pl.basic == ((1u << 9) | (1u << 19)) &&
           pl.src == SRC_GPU),
       pl.mis, pl.pend, pl.basic, pl.src);
    u32 mis = mmio_rd(PL_MIS), p2 = mmio_rd(IC_PENDING2), b = mmio_rd(IC_BASIC_PENDING);
    fr = mmio_rd(PL_FR);
    pr("%s pl011_drained rxfe=%d mis=%x pending2=%x basic=%x\n",
       OKF(fr & FR_RXFE && mis == 0 && p2 == 0 && b == 0), !!(fr & FR_RXFE), mis, p2, b);
    mmio_wr(IC_DISABLE2, IRQ_UART_BIT);
    mmio_wr(PL_IMSC, 0);
}

static void mini(void)
{
    mmio_wr(AUX_ENABLES, 1);
    u32 en = mmio_rd(AUX_ENABLES);
    mmio_wr(MU_CNTL, 0);
    mmio_wr(MU_IER, 0);
    mmio_wr(MU_LCR, 3);
    mmio_wr(MU_MCR, 0);
    mmio_wr(MU_BAUD, 270);                       /* 115200 baud at 250 MHz */
    mmio_wr(MU_SCRATCH, 0x5a);
    mmio_wr(MU_CNTL, 3);
    pr("%s mini_enables aux_enables=%x\n", OKF(en == 1), en);
    u32 lcr = mmio_rd(MU_LCR), baud = mmio_rd(MU_BAUD), cntl = mmio_rd(MU_CNTL), scr = mmio_rd(MU_SCRATCH);
    pr("%s mini_readback lcr=%x baud=%d cntl=%x scratch=%x\n",
       OKF(lcr == 3 && baud == 270 && cntl == 3 && scr == 0x5a), lcr, baud, cntl, scr);
    mu_puts("mini: ");

    /* receive interrupt */
    mmio_wr(IC_ENABLE1, IRQ_AUX_BIT);
    mmio_wr(MU_IER, 1);
    irqs_on();
    int ok = WAIT(mu.done, MS(2000));
    irqs_off();
    mu_puts("\n");
    pr("%s mini_rx_irq done=%d text=\"%s\"\n", OKF(ok), ok, mu.buf);
    pr("%s mini_first_irq aux_irq=%x iir=%x pending1=%x basic=%x src=%x\n",
       OKF(mu.irqs && mu.aux == 1 && (mu.iir & 7) == 4 && mu.pend == IRQ_AUX_BIT && mu.basic == 1u << 8 &&
           mu.src == SRC_GPU),
       mu.aux, mu.iir & 7, mu.pend, mu.basic, mu.src);
    u32 aux = mmio_rd(AUX_IRQ);
    u32 iir = mmio_rd(MU_IIR);
    u32 lsr = mmio_rd(MU_LSR);
    u32 p1 = mmio_rd(IC_PENDING1);
    pr("%s mini_drained aux_irq=%x iir=%x data_ready=%d pending1=%x\n",
       OKF(aux == 0 && (iir & 7) == 1 && !(lsr & LSR_DR) && p1 == 0), aux, iir & 7, lsr & LSR_DR, p1);
    /* transmit interrupt: the TX FIFO is empty, so it is pending at once */
    mmio_wr(MU_IER, 2);
    aux = mmio_rd(AUX_IRQ);
    iir = mmio_rd(MU_IIR);
    p1 = mmio_rd(IC_PENDING1);
    mmio_wr(MU_IER, 0);
    u32 aux0 = mmio_rd(AUX_IRQ), p10 = mmio_rd(IC_PENDING1);
    pr("%s mini_tx_irq aux_irq=%x iir=%x pending1=%x; ier=0: aux_irq=%x pending1=%x\n",
       OKF(aux == 1 && (iir & 7) == 2 && p1 == IRQ_AUX_BIT && aux0 == 0 && p10 == 0), aux, iir & 7, p1, aux0, p10);
    mmio_wr(MU_IER, 0);
    mmio_wr(IC_DISABLE1, IRQ_AUX_BIT);
}

int main(void)
{
    puts("uart_rx\n");
    wr(hcr_el2, HCR_RW_ | HCR_IMO);
    isb();
    mmio_wr(IC_DISABLE1, 0xffffffff);
    mmio_wr(IC_DISABLE2, 0xffffffff);
    mmio_wr(LOCAL_GPU_ROUTING, 0);
    exc_expect_hook(hook);
    pl011();
    mini();
    exc_expect(ACT_UNEXPECTED);
    done();
}
