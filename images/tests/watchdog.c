/*
 * watchdog: the power manager's reset control and watchdog (0x3F100000:
 * PM_RSTC 0x1c, PM_RSTS 0x20, PM_WDOG 0x24; every write carries the password
 * 0x5a in bits 31:24).  First boot: a WDOG write without the password is
 * ignored (reads 0), with it the count reads back (not more than written) and
 * a write of 0 stops it; then a full reset (WDOG = 10 ticks, RSTC WRCFG =
 * full reset) with RSTS partition 0 — the board restarts and the kernel runs
 * again from its entry.  RAM outside the image survives: a boot counter at
 * 0x03000000 tells the second boot from the first.  Second boot: the kernel
 * sets the firmware's "halt" partition (63: RSTS |= 0x555) and resets again,
 * which powers the board off.  DONE is printed before the final request.
 */
#include "rt.h"
#include "bcm.h"

#define PM_RSTC 0x3F10001CUL
#define PM_RSTS 0x3F100020UL
#define PM_WDOG 0x3F100024UL
#define PM_PASSWORD 0x5a000000u
#define RSTC_WRCFG_CLR 0xffffffcfu
#define RSTC_WRCFG_FULL_RESET 0x20u
#define RSTS_HALT 0x555u
#define BOOTS ((volatile u32 *)0x03000000UL)
#define MAGIC 0x0b00c0de

static void full_reset(u32 ticks)
{
    mmio_wr(PM_WDOG, PM_PASSWORD | ticks);
    mmio_wr(PM_RSTC, PM_PASSWORD | (mmio_rd(PM_RSTC) & RSTC_WRCFG_CLR) | RSTC_WRCFG_FULL_RESET);
}

int main(void)
{
    if (BOOTS[1] != MAGIC) { BOOTS[0] = 0; BOOTS[1] = MAGIC; }
    BOOTS[0]++;
    dsb();
    pr("watchdog boot %d\n", BOOTS[0]);
    if (BOOTS[0] == 1) {
        mmio_wr(PM_WDOG, 0x1000);                 /* no password */
        pr("%s no_password wdog=%x\n", OKF(mmio_rd(PM_WDOG) == 0), mmio_rd(PM_WDOG));
        mmio_wr(PM_WDOG, PM_PASSWORD | 0x10000);  /* one second */
        u32 left = mmio_rd(PM_WDOG);
        pr("%s password running=%x not_above_written=%x\n", OKF(left > 0 && left <= 0x10000),
           left > 0, left <= 0x10000);
        mmio_wr(PM_WDOG, PM_PASSWORD | 0);
        pr("%s stopped wdog=%x\n", OKF(mmio_rd(PM_WDOG) == 0), mmio_rd(PM_WDOG));
        mmio_wr(PM_RSTS, PM_PASSWORD | (mmio_rd(PM_RSTS) & ~RSTS_HALT));
        puts("ok reset requested partition=0\n");
        full_reset(10);
    } else if (BOOTS[0] == 2) {
        puts("ok came_back ram_kept=1\n");
        mmio_wr(PM_RSTS, PM_PASSWORD | mmio_rd(PM_RSTS) | RSTS_HALT);
        pr("ok halt_partition rsts_partition_bits=%x\n", mmio_rd(PM_RSTS) & RSTS_HALT);
        puts("DONE\n");
        full_reset(10);
    } else {
        puts("FAIL powered_off the board came back a third time\n");
        done();
    }
    for (int n = 0; n < 100000000; n++)
        __asm__ volatile("wfe");
    puts("FAIL reset the watchdog did not reset the board\n");
    done();
}
