/* The hypervisor's one lock: a test-and-set spinlock on LDAXR/STXR (the
 * Cortex-A53 is ARMv8.0, no LSE atomics).  Waiters sleep in WFE; the
 * releasing STLR clears the exclusive monitors, which wakes them. */
#include "hyp.h"

static volatile u32 lock_word;

void hyp_lock(void)
{
    u32 tmp, one = 1;
    __asm__ volatile(
        "   sevl\n"
        "1: wfe\n"
        "2: ldaxr   %w0, [%1]\n"
        "   cbnz    %w0, 1b\n"
        "   stxr    %w0, %w2, [%1]\n"
        "   cbnz    %w0, 2b\n"
        : "=&r"(tmp) : "r"(&lock_word), "r"(one) : "memory");
}

void hyp_unlock(void)
{
    __asm__ volatile("stlr wzr, [%0]" : : "r"(&lock_word) : "memory");
}
