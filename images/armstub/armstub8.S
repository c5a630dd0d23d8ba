    .file "armstub8.S"
/*
 * vizor's armstub: what config.txt `armstub=armstub8.bin` runs before a
 * 64-bit kernel on the Pi 3.  Our own code, to the interface the Pi firmware
 * and the arm64 boot protocol define:
 *
 *  - the firmware loads the stub at 0 and starts all four cores there at EL3;
 *  - if the word at 0xf0 is the magic 0x5afe570b, it writes the device
 *    tree's address at 0xf8 (dtb_ptr32) and the kernel's at 0xfc
 *    (kernel_entry32), and clears the magic and the version word at 0xf4, so
 *    that 0xf0 reads 0 as core 3's spin-table slot;
 *  - the spin table: core n waits for a non-zero address at 0xd8 + 8n.
 *
 * Every core: SCR_EL3 = NS | RES1 | SMD | HCE | RW (0x5b1: EL2 and EL1 are
 * AArch64, HVC on, SMC off), CPTR_EL3 = 0 (no FP/SIMD traps),
 * ACTLR_EL3 = 0x73 (EL2 and EL1 may reach the A53's CPUACTLR, CPUECTLR,
 * L2CTLR, L2ECTLR and L2ACTLR), CNTFRQ_EL0 = 19.2 MHz (the crystal),
 * CPUECTLR_EL1.SMPEN set (coherent with the other cores), SCTLR_EL2 at
 * its RES1 bits (MMU and caches off), HCR_EL2 = RW (EL1 is AArch64, nothing
 * trapped), then ERET to EL2h with D A I F masked: the state the firmware's
 * direct path leaves (docs/machine.md, "Where the firmware's state comes from").
 * At EL2, core 0 jumps to the kernel with x0 = the tree, x1-x3 = 0; cores
 * 1-3 wait (WFE) until their slot holds an address and jump there with
 * x0-x3 = 0.
 */
#define SCR_EL3_VAL     0x5b1           /* NS(0) RES1(4,5) SMD(7) HCE(8) RW(10) */
#define ACTLR_EL3_VAL   0x73            /* CPUACTLR(0) CPUECTLR(1) L2CTLR(4) L2ECTLR(5) L2ACTLR(6) */
#define CRYSTAL_HZ      19200000
#define SMPEN           (1 << 6)        /* CPUECTLR_EL1 (S3_1_C15_C2_1) */
#define SCTLR_EL2_VAL   0x30c50830      /* RES1 bits only */
#define HCR_EL2_RW      (1 << 31)
#define SPSR_EL2H       0x3c9           /* EL2h, D A I F set */

    .section .text.boot, "ax"
    .globl _start
_start:
    mov     x0, #SCR_EL3_VAL
    msr     scr_el3, x0
    mov     x0, #ACTLR_EL3_VAL
    msr     actlr_el3, x0
    msr     cptr_el3, xzr
    ldr     x0, =CRYSTAL_HZ
    msr     cntfrq_el0, x0
    mrs     x0, s3_1_c15_c2_1
    orr     x0, x0, #SMPEN
    msr     s3_1_c15_c2_1, x0
    ldr     x0, =SCTLR_EL2_VAL
    msr     sctlr_el2, x0
    mov     x0, #HCR_EL2_RW
    msr     hcr_el2, x0
    mov     x0, #SPSR_EL2H
    msr     spsr_el3, x0
    adr     x0, at_el2
    msr     elr_el3, x0
    eret

at_el2:
    mrs     x6, mpidr_el1
    and     x6, x6, #3
    mov     x1, xzr
    mov     x2, xzr
    mov     x3, xzr
    cbnz    x6, wait
    ldr     w4, kernel_entry32
    ldr     w0, dtb_ptr32
    br      x4

wait:                                   /* cores 1-3: the spin table */
    adr     x5, spin_table
    add     x5, x5, x6, lsl #3
1:  wfe
    ldr     x4, [x5]
    cbz     x4, 1b
    mov     x0, xzr
    br      x4

    .ltorg

    .org    0xd8
    .globl  spin_table
spin_table:                             /* 0xd8 + 8n: core n's release address */
    .quad   0, 0, 0
    .org    0xf0                        /* core 3's slot: the firmware clears the magic */
    .globl  stub_magic
stub_magic:
    .word   0x5afe570b
    .globl  stub_version
stub_version:
    .word   0
    .globl  dtb_ptr32
dtb_ptr32:
    .word   0
    .globl  kernel_entry32
kernel_entry32:
    .word   0
