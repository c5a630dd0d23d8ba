/* Console on the mini UART (BCM2835 AUX, UART1), polled.
 * BCM2835 ARM Peripherals, 2.2: AUX_ENABLES bit 0 enables the mini UART;
 * AUX_MU_LSR bit 5 = transmitter can accept a byte. */
#include "minios.h"

#define AUX_BASE        0x3F215000UL
#define AUX_ENABLES     (AUX_BASE + 0x04)
#define AUX_MU_IO       (AUX_BASE + 0x40)
#define AUX_MU_IER      (AUX_BASE + 0x44)
#define AUX_MU_IIR      (AUX_BASE + 0x48)
#define AUX_MU_LCR      (AUX_BASE + 0x4C)
#define AUX_MU_MCR      (AUX_BASE + 0x50)
#define AUX_MU_LSR      (AUX_BASE + 0x54)
#define AUX_MU_CNTL     (AUX_BASE + 0x60)
#define AUX_MU_BAUD     (AUX_BASE + 0x68)
#define LSR_TX_EMPTY    (1U << 5)

void uart_init(void)
{
    mmio_write(AUX_ENABLES, mmio_read(AUX_ENABLES) | 1);
    mmio_write(AUX_MU_CNTL, 0);
    mmio_write(AUX_MU_IER, 0);
    mmio_write(AUX_MU_LCR, 3);          /* 8 bits */
    mmio_write(AUX_MU_MCR, 0);
    mmio_write(AUX_MU_IIR, 0xC6);       /* clear both FIFOs */
    mmio_write(AUX_MU_BAUD, 270);       /* 115200 baud at a 250 MHz core clock */
    mmio_write(AUX_MU_CNTL, 3);         /* receiver and transmitter on */
}

static void uart_tx(char c)
{
    while (!(mmio_read(AUX_MU_LSR) & LSR_TX_EMPTY))
        ;
    mmio_write(AUX_MU_IO, (u8)c);
}

void uart_putc(char c)
{
    if (c == '\n')
        uart_tx('\r');
    uart_tx(c);
}

void uart_write(const char *s, u64 n)
{
    for (u64 i = 0; i < n; i++)
        uart_putc(s[i]);
}

void uart_puts(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

void put_hex(u64 v)
{
    uart_puts("0x");
    for (int shift = 60; shift >= 0; shift -= 4)
        uart_putc("0123456789abcdef"[(v >> shift) & 0xF]);
}

void put_dec(u64 v)
{
    char buf[20];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        uart_putc(buf[--n]);
}
