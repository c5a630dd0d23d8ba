/* Per-process address spaces (TTBR0_EL1).
 *
 * Each process has its own four-level table (L0..L3, 4 KiB granule, 48-bit
 * VAs) and ASID = pid in TTBR0_EL1[55:48]; its pages are non-global (nG), so
 * no TLB maintenance is needed on a switch.  Pids are never reused.
 *   USER_TEXT..       the shared program text (.user of the image), EL0/EL1 read-only, PXN
 *   ..USER_STACK_TOP  USER_STACK_PAGES private pages, EL0/EL1 read-write, UXN PXN
 * The kernel's own map is in TTBR1_EL1 (boot.S).
 */
#include "minios.h"

#define DESC_TABLE      3UL
#define PAGE_UTEXT      0x0020000000000FC7UL    /* page | AttrIndx 1 | AP RO EL0+EL1 | SH inner | AF | nG | PXN */
#define PAGE_UDATA      0x0060000000000F47UL    /* page | AttrIndx 1 | AP RW EL0+EL1 | SH inner | AF | nG | PXN | UXN */
#define LINK_VALUE(sym) ({ u64 _v; __asm__("ldr %0, =" #sym : "=r"(_v)); _v; })

typedef u64 table_t[512] __attribute__((aligned(4096)));

static table_t user_l0[MAX_TASKS], user_l1[MAX_TASKS], user_l2[MAX_TASKS], user_l3[MAX_TASKS];
static u8 user_stack[MAX_TASKS][USER_STACK_PAGES][PAGE_SIZE] __attribute__((aligned(4096)));

static u64 user_text_size(void)
{
    return LINK_VALUE(__user_size);
}

/* Build the tables of process slot `slot`; returns its TTBR0_EL1 value. */
u64 mm_user_tables(int slot, int pid)
{
    u64 text_pa = LINK_VALUE(__user_pa);
    u64 pages = (user_text_size() + PAGE_SIZE - 1) / PAGE_SIZE;
    u64 first = (USER_TEXT >> 12) & 511;
    /* text and stack share the 2 MiB covered by this one L3 table */
    u64 stack_first = ((USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE) >> 12) & 511;

    user_l0[slot][0] = virt_to_phys(user_l1[slot]) | DESC_TABLE;
    user_l1[slot][0] = virt_to_phys(user_l2[slot]) | DESC_TABLE;
    user_l2[slot][USER_TEXT >> 21] = virt_to_phys(user_l3[slot]) | DESC_TABLE;
    for (u64 i = 0; i < pages; i++)
        user_l3[slot][first + i] = (text_pa + i * PAGE_SIZE) | PAGE_UTEXT;
    for (u64 i = 0; i < USER_STACK_PAGES; i++)
        user_l3[slot][stack_first + i] = virt_to_phys(user_stack[slot][i]) | PAGE_UDATA;
    __asm__ volatile("dsb ishst" : : : "memory");
    return virt_to_phys(user_l0[slot]) | (u64)pid << 48;
}

/* Is [va, va+len) inside the current process's text or stack? */
int mm_user_range_ok(u64 va, u64 len)
{
    u64 end = va + len;
    u64 stack_low = USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE;
    if (end < va)
        return 0;
    if (va >= USER_TEXT && end <= USER_TEXT + user_text_size())
        return 1;
    return va >= stack_low && end <= USER_STACK_TOP;
}
