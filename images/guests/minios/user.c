/* The EL0 programs.  Their code (.user.text) and constant strings
 * (.user.rodata) form the image's .user section (link.ld), which runs at
 * USER_TEXT through each process's TTBR0_EL1 tables.  So nothing here may
 * reach kernel code or data: no library calls, nothing the compiler turns
 * into memcpy/memset, no string literals (they would land in the kernel's
 * .rodata) — only SVC.
 *
 * Every process prints a fixed sequence of lines "[pid N] ...", each with one
 * write system call, so the per-pid sequences do not depend on scheduling.
 */
#include "minios.h"

#define UTEXT __attribute__((section(".user.text")))
#define USTR(name, text) static const char name[] __attribute__((section(".user.rodata"))) = text

USTR(s_pid, "[pid ");
USTR(s_close, "] ");
USTR(s_newline, "\n");
USTR(s_0x, "0x");
USTR(s_digits, "0123456789abcdef");
USTR(s_tick, "tick ");
USTR(s_work, "work ");
USTR(s_sum, " sum=");
USTR(s_yield, "yield ");
USTR(s_background, "background, sleeping ");
USTR(s_rounds, " ticks between rounds of work");

UTEXT static long sys(long nr, long a0, long a1)
{
    register long x8 __asm__("x8") = nr;
    register long x0 __asm__("x0") = a0;
    register long x1 __asm__("x1") = a1;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1) : "memory");
    return x0;
}

struct line {
    char buf[96];
    int n;
};

UTEXT static void add_str(struct line *l, const char *s)
{
    while (*s && l->n < (int)sizeof l->buf)
        l->buf[l->n++] = *s++;
}

UTEXT static void add_dec(struct line *l, unsigned long v)
{
    char tmp[20];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k && l->n < (int)sizeof l->buf)
        l->buf[l->n++] = tmp[--k];
}

UTEXT static void add_hex(struct line *l, unsigned long v)
{
    add_str(l, s_0x);
    for (int shift = 28; shift >= 0; shift -= 4)
        if (l->n < (int)sizeof l->buf)
            l->buf[l->n++] = s_digits[(v >> shift) & 0xF];
}

/* "[pid N] " then the caller adds the rest. */
UTEXT static void start_line(struct line *l)
{
    l->n = 0;
    add_str(l, s_pid);
    add_dec(l, (unsigned long)sys(SYS_GETPID, 0, 0));
    add_str(l, s_close);
}

UTEXT static void put_line(struct line *l)
{
    add_str(l, s_newline);
    sys(SYS_WRITE, (long)l->buf, l->n);
}

/* A deterministic computation long enough to be preempted by the tick. */
UTEXT static unsigned long work(unsigned long seed, unsigned long rounds)
{
    unsigned long x = seed * 0x9E3779B97F4A7C15UL + 1, sum = 0;
    for (unsigned long i = 0; i < rounds; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        sum += x;
    }
    return sum & 0xFFFFFFFFUL;
}

/* Prints a counter, sleeping `period` ticks between lines. */
UTEXT void user_ticker(long period)
{
    struct line l;
    for (int i = 0; i < 5; i++) {
        start_line(&l);
        add_str(&l, s_tick);
        add_dec(&l, i);
        put_line(&l);
        sys(SYS_SLEEP, period, 0);
    }
    sys(SYS_EXIT, 0, 0);
}

/* Computes (and is preempted), printing each result. */
UTEXT void user_worker(long rounds)
{
    struct line l;
    for (int i = 0; i < 4; i++) {
        unsigned long sum = work(i, rounds);
        start_line(&l);
        add_str(&l, s_work);
        add_dec(&l, i);
        add_str(&l, s_sum);
        add_hex(&l, sum);
        put_line(&l);
    }
    sys(SYS_EXIT, 0, 0);
}

/* Prints `count` lines, yielding after each. */
UTEXT void user_yielder(long count)
{
    struct line l;
    for (long i = 0; i < count; i++) {
        start_line(&l);
        add_str(&l, s_yield);
        add_dec(&l, i);
        put_line(&l);
        sys(SYS_YIELD, 0, 0);
    }
    sys(SYS_EXIT, 3, 0);
}

/* Never exits: keeps the OS busy (timer, scheduler, EL0 code) after the
 * others are done, silently after its first line. */
UTEXT void user_background(long period)
{
    struct line l;
    start_line(&l);
    add_str(&l, s_background);
    add_dec(&l, period);
    add_str(&l, s_rounds);
    put_line(&l);
    for (unsigned long i = 0;; i++) {
        work(i, 20000);
        sys(SYS_SLEEP, period, 0);
    }
}
