/* Translation table helpers (4 KiB granule) for the conformance kernels. */
#ifndef MMU_H
#define MMU_H
#include "rt.h"

/* stage 1 descriptor bits */
#define S1_VALID    (1UL << 0)
#define S1_TABLE    (3UL << 0)          /* table (L0-2) or page (L3) */
#define S1_BLOCK    (1UL << 0)
#define S1_ATTR(i)  ((u64)(i) << 2)     /* MAIR index: 0 normal, 1 device */
#define S1_AP_EL1RW (0UL << 6)
#define S1_AP_RW    (1UL << 6)          /* EL1 RW, EL0 RW */
#define S1_AP_EL1RO (2UL << 6)
#define S1_AP_RO    (3UL << 6)          /* EL1 RO, EL0 RO */
#define S1_SH_IS    (3UL << 8)
#define S1_AF       (1UL << 10)
#define S1_PXN      (1UL << 53)
#define S1_UXN      (1UL << 54)

/* stage 2 descriptor bits */
#define S2_MEM_NORMAL (0xfUL << 2)      /* MemAttr: Normal, outer/inner WB */
#define S2_MEM_DEVICE (0x0UL << 2)      /* MemAttr: Device-nGnRnE */
#define S2AP_RO     (1UL << 6)
#define S2AP_WO     (2UL << 6)
#define S2AP_RW     (3UL << 6)
#define S2_SH_IS    (3UL << 8)
#define S2_AF       (1UL << 10)
#define S2_XN       (1UL << 54)

#define TLBI_ALL() __asm__ volatile("dsb ishst\n tlbi alle1\n tlbi alle2\n dsb ish\n isb" ::: "memory")

/* Identity map for EL1 (TTBR0_EL1, T0SZ=32, start at level 1):
 *   0x00000000-0x001fffff  4 KiB pages: image text RO EL0+EL1 executable,
 *                          EL0 stacks RW EL0+EL1, rest RW EL1 only;
 *                          page 0x001ff000 unmapped (level-3 translation fault)
 *   0x00200000-0x003fffff  unmapped (level-2 translation fault)
 *   0x00400000-0x3effffff  normal RW EL1, 2 MiB blocks
 *   0x3f000000-0x3fffffff  device RW EL1
 *   0x40000000-0xffffffff  unmapped (level-1 translation fault)
 * Returns the TTBR0 value. */
u64 s1_identity_el1(void);
void s1_enable_el1(u64 ttbr0);    /* programs MAIR/TCR/TTBR0 and sets SCTLR_EL1.M (from EL2) */
void s1_disable_el1(void);        /* from EL2 */

/* Fill a stage-2 level-2 table with 2 MiB identity blocks for IPA base..base+1GiB
 * (RAM normal RW, 0x3f000000+ device RW). */
void s2_fill_l2_identity(u64 *l2, u64 base);

#define VTCR_RES1   (1UL << 31)
#define VTCR_4K_L1(t0sz, ps) (VTCR_RES1 | ((u64)(ps) << 16) | (0UL << 14) | (3UL << 12) | \
                              (1UL << 10) | (1UL << 8) | (1UL << 6) | (u64)(t0sz))
#endif
