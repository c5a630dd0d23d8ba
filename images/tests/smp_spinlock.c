/*
 * smp_spinlock: core 0 releases cores 1-3 (spin table + own flag + SEV); all
 * four cores increment a shared counter N times each under an LDAXR/STXR
 * spinlock (ARMv8.0: no LSE atomics), then core 0 checks the total and which
 * cores (MPIDR Aff0) checked in.
 */
#include "rt.h"

#define N 100000UL

static volatile u32 lock;
static volatile u64 counter;
static volatile u64 per_core[4];
static volatile u64 checked_in[4];   /* Aff0 + 1 once the core finished */
static volatile u64 started[4];      /* EL the core ran its loop at */

static void spin_lock(volatile u32 *l)
{
    u32 tmp, fail;
    __asm__ volatile(
        "1: ldaxr   %w0, [%2]\n"
        "   cbnz    %w0, 1b\n"
        "   stxr    %w1, %w3, [%2]\n"
        "   cbnz    %w1, 1b\n"
        : "=&r"(tmp), "=&r"(fail)
        : "r"(l), "r"(1u)
        : "memory");
}

static void spin_unlock(volatile u32 *l)
{
    __asm__ volatile("stlr wzr, [%0]" :: "r"(l) : "memory");
}

static void work(u64 core)
{
    started[core] = rd(CurrentEL) >> 2;
    for (u64 i = 0; i < N; i++) {
        spin_lock(&lock);
        counter = counter + 1;
        per_core[core] = per_core[core] + 1;
        spin_unlock(&lock);
    }
    dsb();
    checked_in[core] = (rd(mpidr_el1) & 0xff) + 1;
    dsb();
}

void secondary_main(u64 core)
{
    if (core < 4)
        work(core);
}

int main(void)
{
    pr("smp_spinlock: 4 cores x %d increments\n", N);
    work(0);
    /*
     * Wait for cores 1-3, bounded so a failed release cannot hang the test.
     * The bound is 2 s of the system counter, not a number of polls: on QEMU
     * (one host thread per core) a poll count is host-scheduling time, and a
     * core the host had not run for a few tens of ms was reported as lost
     * increments.  The counter is read every 1024 polls.
     */
    isb();
    u64 end = rd(cntpct_el0) + rd(cntfrq_el0) * 2, spins = 0;
    for (;;) {
        int all = 1;
        for (int c = 1; c < 4; c++)
            if (!checked_in[c])
                all = 0;
        if (all)
            break;
        if (!(++spins & 1023)) {
            isb();
            if (rd(cntpct_el0) >= end)
                break;
        }
    }
    dsb();      /* the counter is read after the check-ins */
    u64 total = counter;
    if (total == 4 * N)
        pr("ok total %d\n", total);
    else
        pr("FAIL total expected %d got %d\n", 4 * N, total);
    for (int c = 0; c < 4; c++) {
        if (checked_in[c] == (u64)c + 1 && per_core[c] == N && started[c] == 2)
            pr("ok core%d aff0=%d increments=%d el=%d\n", c, checked_in[c] - 1, per_core[c], started[c]);
        else
            pr("FAIL core%d expected aff0=%d increments=%d el=2 got checked_in=%d increments=%d el=%d\n",
               c, c, N, checked_in[c], per_core[c], started[c]);
    }
    done();
}
