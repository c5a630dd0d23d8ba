/* PL011 output (0x3F201000).  Transmit only; the firmware/emulator has set it up. */
#include "rt.h"

#define UART_BASE 0x3F201000UL
#define UART_DR   (*(volatile u32 *)(UART_BASE + 0x00))
#define UART_FR   (*(volatile u32 *)(UART_BASE + 0x18))
#define FR_TXFF   (1u << 5)

void uart_putc(char c)
{
    while (UART_FR & FR_TXFF)
        ;
    UART_DR = (u32)(u8)c;
}

void puts(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

static void put_num(u64 v, unsigned base, int width, char pad)
{
    char buf[24];
    int n = 0;
    do {
        unsigned d = v % base;
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    while (n < width && n < (int)sizeof buf)
        buf[n++] = pad;
    while (n)
        uart_putc(buf[--n]);
}

void put_hex(u64 v) { put_num(v, 16, 0, '0'); }

void pr(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            uart_putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0;
        if (*fmt == '0') { pad = '0'; fmt++; }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 'x': put_num(va_arg(ap, u64), 16, width, pad); break;
        case 'd': put_num(va_arg(ap, u64), 10, width, pad); break;
        case 's': puts(va_arg(ap, const char *)); break;
        case 'c': uart_putc((char)va_arg(ap, int)); break;
        case '%': uart_putc('%'); break;
        default: uart_putc('?'); break;
        }
    }
    va_end(ap);
}

void *memset(void *d, int c, unsigned long n)
{
    volatile u8 *p = d;
    while (n--)
        *p++ = (u8)c;
    return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
    volatile u8 *p = d;
    const u8 *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}
