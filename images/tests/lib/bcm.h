/* BCM2837 and ARM-local (QA7) register addresses, MMIO access and the
   bounded wait used by the interrupt kernels.  Header only: the kernels that
   do not include it are built byte for byte as before. */
#ifndef BCM_H
#define BCM_H
#include "rt.h"

static inline u32 mmio_rd(u64 a) { return *(volatile u32 *)a; }
static inline void mmio_wr(u64 a, u32 v) { *(volatile u32 *)a = v; dsb(); }

/* ARM-local peripherals (QA7 rev 3.4) */
#define LOCAL_GPU_ROUTING     0x4000000CUL
#define LOCAL_TIMER_CTL(n)    (0x40000040UL + 4 * (u64)(n))   /* core timer interrupt control */
#define LOCAL_MBOX_CTL(n)     (0x40000050UL + 4 * (u64)(n))   /* core mailbox interrupt control */
#define LOCAL_IRQ_SRC(n)      (0x40000060UL + 4 * (u64)(n))
#define LOCAL_FIQ_SRC(n)      (0x40000070UL + 4 * (u64)(n))
#define LOCAL_MBOX_SET(c, m)  (0x40000080UL + 0x10 * (u64)(c) + 4 * (u64)(m))
#define LOCAL_MBOX_CLR(c, m)  (0x400000C0UL + 0x10 * (u64)(c) + 4 * (u64)(m))
#define SRC_CNTPS  (1u << 0)
#define SRC_CNTPNS (1u << 1)
#define SRC_CNTHP  (1u << 2)
#define SRC_CNTV   (1u << 3)
#define SRC_MBOX(m) (1u << (4 + (m)))
#define SRC_GPU    (1u << 8)
/* core timer interrupt control: IRQ bit n, FIQ bit n+4 (n: 0 CNTPS 1 CNTPNS 2 CNTHP 3 CNTV) */
#define TCTL_IRQ(n) (1u << (n))
#define TCTL_FIQ(n) (1u << ((n) + 4))

/* BCM2835 ARM interrupt controller */
#define IC_BASIC_PENDING 0x3F00B200UL
#define IC_PENDING1      0x3F00B204UL
#define IC_PENDING2      0x3F00B208UL
#define IC_FIQ_CONTROL   0x3F00B20CUL
#define IC_ENABLE1       0x3F00B210UL
#define IC_ENABLE2       0x3F00B214UL
#define IC_DISABLE1      0x3F00B21CUL
#define IC_DISABLE2      0x3F00B220UL

/* BCM2835 system timer */
#define ST_CS  0x3F003000UL
#define ST_CLO 0x3F003004UL
#define ST_CHI 0x3F003008UL
#define ST_C(n) (0x3F00300CUL + 4 * (u64)(n))

/* generic timer CTL bits */
#define CTL_ENABLE  1u
#define CTL_IMASK   2u
#define CTL_ISTATUS 4u

static inline u64 core_id(void) { return rd(mpidr_el1) & 0xff; }
static inline u64 cntpct(void) { isb(); return rd(cntpct_el0); }
static inline u64 cntvct(void) { isb(); return rd(cntvct_el0); }

/*
 * WAIT(cond, ticks): WFI until `cond` holds or `ticks` of the system counter
 * have passed; evaluates to the final value of `cond`.  The deadline is kept
 * by CNTP (EL1 physical timer, usable at EL1 and EL2), routed as an FIQ by the
 * core's timer interrupt control: the FIQ is never taken (PSTATE.F stays set,
 * and with HCR_EL2.FMO clear it targets EL1), but a pending FIQ ends a WFI, so
 * a failed check prints FAIL instead of sleeping for ever.
 */
#define WAIT(cond, ticks) ({                                                   \
    u64 __c = core_id();                                                       \
    u64 __end = cntpct() + (ticks);                                            \
    wr(cntp_cval_el0, __end);                                                  \
    wr(cntp_ctl_el0, CTL_ENABLE);                                              \
    isb();                                                                     \
    mmio_wr(LOCAL_TIMER_CTL(__c), mmio_rd(LOCAL_TIMER_CTL(__c)) | TCTL_FIQ(1)); \
    int __ok;                                                                  \
    while (!(__ok = !!(cond)) && cntpct() < __end)                             \
        __asm__ volatile("wfi" ::: "memory");                                  \
    mmio_wr(LOCAL_TIMER_CTL(__c), mmio_rd(LOCAL_TIMER_CTL(__c)) & ~TCTL_FIQ(1)); \
    wr(cntp_ctl_el0, 0);                                                       \
    isb();                                                                     \
    __ok; })

#define OKF(c) ((c) ? "ok" : "FAIL")
#define MS(n) (rd(cntfrq_el0) / 1000 * (n))   /* n milliseconds of the system counter */

#endif
