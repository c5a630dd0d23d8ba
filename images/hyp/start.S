    .file "start.S"
/*
 * vizor demo hypervisor: entry.
 *
 * Two ways in, both at _start:
 *  - Pi firmware (vizor default): core 0 at EL2; cores 1-3 wait in the
 *    firmware spin table and are released by hyp_main writing _start to
 *    0xe0/0xe8/0xf0.
 *  - EL3 (QEMU -kernel hyp.elf, vizor --boot-el 3): every core at _start at
 *    EL3; each sets SCR_EL3 like the firmware and drops to EL2h.
 * Secondaries then wait at EL2 on hyp_release (set by core 0 once the page
 * tables and VMs exist), turn the MMU on and enter hyp_secondary_main.
 */
#define STACK_SIZE  0x4000                  /* hyp.h */
#define LOCAL_MBOX_INT_CTL 0x40000050  /* + 4 * core */
#define SCR_EL3_VAL 0x5b1               /* NS, RES1 (4,5), SMD, HCE, RW */

    .section .text.boot, "ax"
    .globl _start
_start:
    msr     daifset, #0xf
    mrs     x20, CurrentEL
    ubfx    x20, x20, #2, #2
    cmp     x20, #3
    b.ne    el2_entry
    mov     x0, #SCR_EL3_VAL
    msr     scr_el3, x0
    msr     cptr_el3, xzr
    mov     x0, #0x3c9                  /* EL2h, DAIF masked */
    msr     spsr_el3, x0
    adr     x0, el2_entry
    msr     elr_el3, x0
    isb
    eret

el2_entry:
    mrs     x19, mpidr_el1
    and     x19, x19, #3
    ldr     x1, =__stacks_start
    add     x0, x19, #1
    mov     x2, #STACK_SIZE
    madd    x0, x0, x2, x1
    mov     sp, x0
    ldr     x0, =hyp_vectors
    msr     vbar_el2, x0
    mov     x0, #0x33ff                 /* CPTR_EL2: no FP/SIMD traps */
    msr     cptr_el2, x0
    msr     hstr_el2, xzr
    mov     x0, #(1 << 31)              /* HCR_EL2.RW (EL1 is AArch64), as the firmware sets it */
    msr     hcr_el2, x0
    mov     x0, #3                      /* CNTHCTL_EL2: EL1 counter/timer access */
    msr     cnthctl_el2, x0
    msr     cntvoff_el2, xzr
    isb
    cbnz    x19, secondary
    ldr     x0, =__bss_start
    ldr     x1, =__bss_end
1:  cmp     x0, x1
    b.hs    2f
    stp     xzr, xzr, [x0], #16
    b       1b
2:  mov     x0, x20
    bl      hyp_main
    b       .

/* Wait for core 0 (EL3 entry: all cores start together).  WFI, not WFE:
 * core 0 sends mailbox 0 after setting hyp_release, and a pending IRQ ends
 * WFI even with IRQs masked.  (A WFE poll costs vizor a round trip each.) */
secondary:
    ldr     x0, =LOCAL_MBOX_INT_CTL
    add     x0, x0, x19, lsl #2
    mov     w1, #1
    str     w1, [x0]
    ldr     x1, =hyp_release
3:  ldr     x0, [x1]
    cbnz    x0, 4f
    wfi
    b       3b
4:  bl      mmu_enable
    mov     x0, x19
    bl      hyp_secondary_main
    b       .

/* Stage 1 at EL2: the identity map built by mmu_build() (main.c). */
    .text
    .globl mmu_enable
mmu_enable:
    ldr     x0, =0x00ff                 /* MAIR: attr0 normal WB, attr1 device-nGnRnE */
    msr     mair_el2, x0
    ldr     x0, =0x80803520             /* TCR: T0SZ=32, 4K, WB/WB inner shareable, PS 4 GiB */
    msr     tcr_el2, x0
    ldr     x0, =hyp_l1
    msr     ttbr0_el2, x0
    isb
    tlbi    alle2
    dsb     sy
    isb
    ldr     x0, =0x30c51835             /* SCTLR_EL2: RES1 | M | C | I */
    msr     sctlr_el2, x0
    isb
    ret

    .section .tables, "aw", %nobits
    .balign 4096
    .globl hyp_l1, hyp_l2
hyp_l1: .skip 4096
hyp_l2: .skip 4096
