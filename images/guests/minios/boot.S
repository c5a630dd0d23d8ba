/* Boot stub of the mini OS: entered at IPA 0, EL1h, MMU off (guest contract).
 *
 * It zeroes .bss, builds the kernel's stage-1 tables (one set, used through
 * TTBR1_EL1 for VA = 0xffff000000000000 | IPA; during the switch the same
 * L0 table also sits in TTBR0_EL1, so the stub keeps running at VA = IPA
 * right after SCTLR_EL1.M is set), turns the MMU on and jumps to the kernel's
 * high half.  The kernel then points TTBR0_EL1 at an empty table.
 *
 * Kernel map (4 KiB granule, 48-bit VAs, level-2 blocks of 2 MiB):
 *   IPA 0x00000000-0x00FFFFFF  Normal WB (MAIR attr 1), EL1 RW, UXN
 *   IPA 0x3F000000-0x3FFFFFFF  Device-nGnRnE (MAIR attr 0), EL1 RW, PXN UXN
 */
#include "minios.h"

        .file   "boot.S"

#define MAIR_VALUE      0xFF00                  /* attr0 Device-nGnRnE, attr1 Normal WB RA WA */
#define TCR_VALUE       0x2B5103510             /* T0SZ=T1SZ=16, TG0=4K, TG1=4K, WB, inner shareable, IPS=40 bits, 8-bit ASID */
#define SCTLR_VALUE     0x30D5180D              /* RES1 | M | C | SA | I | nTWI | nTWE */
#define BLOCK_NORMAL    0x0040000000000705      /* block | AttrIndx 1 | SH inner | AF | UXN */
#define BLOCK_DEVICE    0x0060000000000401      /* block | AttrIndx 0 | AF | PXN | UXN */
#define RAM_BLOCKS      8                       /* 16 MiB guest RAM */
#define DEV_FIRST       (MMIO_IPA >> 21)        /* L2 index of 0x3F000000 */

        .section .boot, "ax"
        .global _start
_start:
        msr     daifset, #0xf
        ldr     x2, =KVA
        ldr     x0, =__bss_start
        ldr     x1, =__bss_end
        sub     x0, x0, x2
        sub     x1, x1, x2
1:      cmp     x0, x1
        b.hs    2f
        str     xzr, [x0], #8
        b       1b
2:      ldr     x3, =kern_l0
        ldr     x4, =kern_l1
        ldr     x5, =kern_l2
        sub     x3, x3, x2
        sub     x4, x4, x2
        sub     x5, x5, x2
        orr     x6, x4, #3                      /* table descriptors */
        str     x6, [x3]
        orr     x6, x5, #3
        str     x6, [x4]
        mov     x7, #0
        ldr     x8, =BLOCK_NORMAL
3:      lsl     x9, x7, #21
        orr     x9, x9, x8
        str     x9, [x5, x7, lsl #3]
        add     x7, x7, #1
        cmp     x7, #RAM_BLOCKS
        b.lo    3b
        mov     x7, #DEV_FIRST
        ldr     x8, =BLOCK_DEVICE
4:      lsl     x9, x7, #21
        orr     x9, x9, x8
        str     x9, [x5, x7, lsl #3]
        add     x7, x7, #1
        cmp     x7, #512
        b.lo    4b
        dsb     sy
        ldr     x0, =MAIR_VALUE
        msr     mair_el1, x0
        ldr     x0, =TCR_VALUE
        msr     tcr_el1, x0
        msr     ttbr0_el1, x3
        msr     ttbr1_el1, x3
        isb
        tlbi    vmalle1
        dsb     nsh
        isb
        ldr     x0, =SCTLR_VALUE
        msr     sctlr_el1, x0
        isb
        ldr     x0, =kernel_entry
        br      x0
        .ltorg

        .text
        .global kernel_entry
kernel_entry:                                   /* now at the high VA */
        ldr     x0, =idle_stack_top
        mov     sp, x0
        ldr     x0, =vectors
        msr     vbar_el1, x0
        ldr     x0, =empty_l0
        ldr     x1, =KVA
        sub     x0, x0, x1
        msr     ttbr0_el1, x0                   /* no low half until a process runs */
        isb
        tlbi    vmalle1
        dsb     nsh
        isb
        bl      kernel_main
5:      wfi
        b       5b

        .section .bss.tables, "aw", %nobits
        .balign 4096
        .global kern_l0, kern_l1, kern_l2, empty_l0
kern_l0: .skip  4096
kern_l1: .skip  4096
kern_l2: .skip  4096
empty_l0: .skip 4096

        .section .bss.stack, "aw", %nobits
        .balign 16
idle_stack:
        .skip   KSTACK_SIZE
        .global idle_stack_top
idle_stack_top:
