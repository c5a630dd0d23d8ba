#include "mmu.h"

static u64 s1_l1[512] __attribute__((aligned(4096), section(".tables")));
static u64 s1_l2[512] __attribute__((aligned(4096), section(".tables")));
static u64 s1_l3[512] __attribute__((aligned(4096), section(".tables")));

u64 s1_identity_el1(void)
{
    u64 text0 = (u64)__image_start, text1 = (u64)__text_end;
    u64 stk0 = stack_top(0, EL0) - 0x1000, stk1 = (u64)__stacks_end;
    for (int i = 0; i < 512; i++) {
        u64 pa = (u64)i << 12;
        u64 d = pa | S1_TABLE | S1_AF | S1_SH_IS | S1_ATTR(0);
        if (pa >= text0 && pa < text1)
            d |= S1_AP_RO;                          /* executable at EL0 and EL1 */
        else if (pa >= stk0 && pa < stk1)
            d |= S1_AP_RW | S1_PXN | S1_UXN;        /* EL0 stacks */
        else
            d |= S1_AP_EL1RW | S1_UXN;
        s1_l3[i] = (i == 511) ? 0 : d;
    }
    for (int i = 0; i < 512; i++) {
        u64 pa = (u64)i << 21;
        if (i == 0)
            s1_l2[i] = (u64)s1_l3 | S1_TABLE;
        else if (i == 1)
            s1_l2[i] = 0;
        else if (pa >= 0x3f000000UL)
            s1_l2[i] = pa | S1_BLOCK | S1_AF | S1_ATTR(1) | S1_AP_EL1RW | S1_PXN | S1_UXN;
        else
            s1_l2[i] = pa | S1_BLOCK | S1_AF | S1_SH_IS | S1_ATTR(0) | S1_AP_EL1RW | S1_UXN;
    }
    for (int i = 0; i < 512; i++)
        s1_l1[i] = 0;
    s1_l1[0] = (u64)s1_l2 | S1_TABLE;
    dsb();
    return (u64)s1_l1;
}

void s1_enable_el1(u64 ttbr0)
{
    wr(mair_el1, 0x00ffUL);                         /* attr0 normal WB, attr1 device nGnRnE */
    /* T0SZ=32, IRGN0/ORGN0 WB, SH0 inner, TG0 4K, EPD1, IPS 40 bits */
    wr(tcr_el1, 32UL | (1UL << 8) | (1UL << 10) | (3UL << 12) | (1UL << 23) | (2UL << 32));
    wr(ttbr0_el1, ttbr0);
    isb();
    TLBI_ALL();
    wr(sctlr_el1, rd(sctlr_el1) | 1);
    isb();
}

void s1_disable_el1(void)
{
    wr(sctlr_el1, rd(sctlr_el1) & ~1UL);
    isb();
    TLBI_ALL();
}

void s2_fill_l2_identity(u64 *l2, u64 base)
{
    for (int i = 0; i < 512; i++) {
        u64 pa = base + ((u64)i << 21);
        if ((pa & 0x3fffffffUL) >= 0x3f000000UL)
            l2[i] = pa | S1_BLOCK | S2_AF | S2_MEM_DEVICE | S2AP_RW | S2_XN;
        else
            l2[i] = pa | S1_BLOCK | S2_AF | S2_SH_IS | S2_MEM_NORMAL | S2AP_RW;
    }
    dsb();
}
