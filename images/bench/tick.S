/* Timer-interrupt benchmark kernel: a 1 kHz tick on each of the four cores.
 *
 * Entered at EL2 on core 0 as vizor boots (cores 1-3 in the firmware spin
 * table).  Core 0 writes _start into the release slots 0xe0/0xe8/0xf0 and
 * SEVs; then every core, at EL2:
 *   - VBAR_EL2 = vectors, HCR_EL2 = RW | IMO (physical IRQs taken to EL2);
 *   - CNTHP_CVAL_EL2 = now + PERIOD, CNTHP_CTL_EL2 = ENABLE (PERIOD = 19,200
 *     counter ticks = 1 ms at the firmware's 19.2 MHz CNTFRQ);
 *   - ARM-local core timer interrupt control (0x40000040 + 4 * core) = bit 2,
 *     CNTHP -> IRQ;
 *   - unmasks IRQs and runs `iterations` rounds of an 8-instruction compute
 *     loop (as loop.S).  The IRQ handler (EL2h current-EL IRQ vector, 0x280)
 *     advances CVAL by PERIOD (drift-free re-arm), counts the tick in x20 and
 *     ERETs; it uses only x18-x20 (x19 = PERIOD), which the loop does not touch, so no stack.
 * After the loop each core masks IRQs, stores its tick count at ticks + 8*core,
 * disables its timer and parks in WFI; core 0 also writes "DONE\n" to the PL011.
 *
 * The benchmark patches the `iterations` literal (8 bytes).
 */
    .file   "tick.S"
    .equ    PERIOD, 19200           /* 19.2 MHz / 1 kHz */
    .equ    LOCAL_TIMER_CTL, 0x40000040
    .equ    CNTHP_IRQ, 1 << 2

    .section .text.boot, "ax"
    .globl _start
_start:
    mrs     x9, mpidr_el1
    and     x9, x9, #0xff
    cbnz    x9, setup
    adr     x1, _start              /* core 0 releases cores 1-3 */
    mov     x2, #0xe0
    str     x1, [x2]
    str     x1, [x2, #8]
    str     x1, [x2, #16]
    dsb     sy
    sev
setup:
    adr     x1, vectors
    msr     vbar_el2, x1
    mov     x1, #0x80000000         /* HCR_EL2.RW */
    orr     x1, x1, #(1 << 4)       /* HCR_EL2.IMO */
    msr     hcr_el2, x1
    isb
    mov     x19, #PERIOD
    mov     x20, #0                 /* ticks taken */
    mrs     x1, cntpct_el0
    add     x1, x1, x19
    msr     cnthp_cval_el2, x1
    mov     x1, #1                  /* ENABLE, IMASK clear */
    msr     cnthp_ctl_el2, x1
    ldr     x10, =LOCAL_TIMER_CTL
    mov     w11, #CNTHP_IRQ
    str     w11, [x10, x9, lsl #2]
    isb
    msr     daifclr, #2             /* unmask IRQ */
    ldr     x0, iterations
    mov     x1, #1
    mov     x2, #3
    mov     x3, #5
    mov     x4, #7
    cbz     x0, loop_end
    .globl loop
loop:                               /* 8 instructions per iteration */
    add     x1, x1, x0
    eor     x2, x2, x1, lsl #3
    mul     x3, x3, x2
    add     x4, x4, x3, lsr #7
    orr     x5, x4, x1
    sub     x6, x5, x2
    subs    x0, x0, #1
    b.ne    loop
    .globl loop_end
loop_end:
    msr     daifset, #2
    msr     cnthp_ctl_el2, xzr
    adr     x10, ticks
    str     x20, [x10, x9, lsl #3]
    cbnz    x9, park
    ldr     x10, =0x3F201000
    mov     w11, #'D'
    str     w11, [x10]
    mov     w11, #'O'
    str     w11, [x10]
    mov     w11, #'N'
    str     w11, [x10]
    mov     w11, #'E'
    str     w11, [x10]
    mov     w11, #'\n'
    str     w11, [x10]
    dsb     sy
park:
    wfi
    b       park

    .balign 8
    .globl iterations
iterations:
    .quad   20000000
    .globl ticks
ticks:
    .quad   0, 0, 0, 0
    .ltorg

    .balign 2048
    .globl vectors
vectors:
    .rept 5                         /* EL2t entries and EL2h sync: should not happen, spin */
    b       .
    .balign 128
    .endr
    .globl tick_irq
tick_irq:                           /* 0x280: current EL with SPx, IRQ */
    mrs     x18, cnthp_cval_el2
    add     x18, x18, x19
    msr     cnthp_cval_el2, x18
    add     x20, x20, #1
    eret
    .balign 128
    .rept 10                        /* EL2h FIQ/SError, lower ELs: spin */
    b       .
    .balign 128
    .endr
