/* vizor conformance kernels -- shared runtime API */
#ifndef RT_H
#define RT_H
#include <stdarg.h>
#include "rt_asm.h"

typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef long s64;

#define rd(r) ({ u64 __v; __asm__ volatile("mrs %0, " #r : "=r"(__v)); __v; })
#define wr(r, v) __asm__ volatile("msr " #r ", %0" :: "r"((u64)(v)) : "memory")
#define isb() __asm__ volatile("isb" ::: "memory")
#define dsb() __asm__ volatile("dsb sy" ::: "memory")
#define barrier() __asm__ volatile("" ::: "memory")

/* SPSR values (M[3:0] | DAIF) */
#define SPSR_DAIF   0x3c0
#define SPSR_EL0T   0x0
#define SPSR_EL1T   0x4
#define SPSR_EL1H   0x5
#define SPSR_EL2T   0x8
#define SPSR_EL2H   0x9

/* HCR_EL2 bits */
#define HCR_VM    (1UL << 0)
#define HCR_FMO   (1UL << 3)
#define HCR_IMO   (1UL << 4)
#define HCR_VF    (1UL << 6)
#define HCR_VI    (1UL << 7)
#define HCR_TWI   (1UL << 13)
#define HCR_TWE   (1UL << 14)
#define HCR_TID1  (1UL << 16)
#define HCR_TID2  (1UL << 17)
#define HCR_TID3  (1UL << 18)
#define HCR_TSC   (1UL << 19)
#define HCR_TIDCP (1UL << 20)
#define HCR_TACR  (1UL << 21)
#define HCR_TVM   (1UL << 26)
#define HCR_TRVM  (1UL << 30)
#define HCR_RW_   (1UL << 31)

/* uart.c */
void uart_putc(char c);
void puts(const char *s);          /* no newline added */
void put_hex(u64 v);               /* minimal lowercase hex, no prefix */
void pr(const char *fmt, ...);     /* %x %d %s %c, optional 0-padded width */
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);

/* exc.c */
struct frame { u64 x[31]; u64 pad; };
struct exc_rec {
    u64 count;      /* exceptions recorded since exc_expect() */
    u64 el;         /* EL the exception was taken to */
    u64 vec;        /* vector offset entered */
    u64 esr, far, elr, spsr, hpfar;
};
enum { ACT_UNEXPECTED = 0, ACT_RETURN, ACT_SKIP, ACT_LR, ACT_MASK_IF };
typedef int (*exc_hook_t)(struct frame *f, struct exc_rec *r);
extern volatile struct exc_rec exc_last;
#define EXC_LOG_MAX 16
extern volatile struct exc_rec exc_log[EXC_LOG_MAX];   /* every exception since exc_expect */
extern volatile u64 exc_log_n;
extern volatile int exc_act;
extern volatile exc_hook_t exc_hook;
void exc_expect(int act);           /* reset record, set action, no hook */
void exc_expect_hook(exc_hook_t h); /* reset record, action from hook */
void done(void) __attribute__((noreturn));   /* prints DONE and parks */

/* start.S */
extern volatile u64 rt_entry_el;    /* EL core 0 entered at (2 or 3) */
u64 call_lower(void *fn, u64 arg, u64 spsr);
void lower_return(u64 v) __attribute__((noreturn));
void park(void) __attribute__((noreturn));
void rt_release_secondaries(void);
extern char __image_start[], __text_end[], __bss_start[], __bss_end[];
extern char __stacks_start[], __stacks_end[], __image_end[];
static inline u64 stack_top(u64 core, u64 el) {
    return (u64)__stacks_start + ((core * 4 + el + 1) << 12);
}
static inline u64 have_el3(void) { return rt_entry_el == 3; }

/* ESR helpers */
#define ESR_EC(e)  (((e) >> 26) & 0x3f)
#define ESR_ISS(e) ((e) & 0x1ffffff)

#endif
