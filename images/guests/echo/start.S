    .file "start.S"
/*
 * echo guest: entry at IPA 0, EL1h, MMU off, DAIF masked (guest contract).
 * Sets its stack and VBAR_EL1, clears .bss, runs main().  Its only interrupt
 * is the mini UART RX interrupt (BCM2835 IRQ 29), taken at VBAR_EL1 + 0x280.
 */
    .section .text.boot, "ax"
    .globl _start
_start:
    ldr     x0, =__stack_top
    mov     sp, x0
    adr     x0, vectors
    msr     vbar_el1, x0
    isb
    ldr     x0, =__bss_start
    ldr     x1, =__bss_end
1:  cmp     x0, x1
    b.hs    2f
    str     xzr, [x0], #8
    b       1b
2:  bl      main
3:  wfi
    b       3b

/* Any exception but an IRQ from EL1h: report it and stop. */
    .macro  bad_vector n
    .balign 0x80
    mov     x0, #\n
    b       unexpected
    .endm

    .section .text.vectors, "ax"
    .balign 0x800
vectors:
    bad_vector 0x000
    bad_vector 0x080
    bad_vector 0x100
    bad_vector 0x180
    bad_vector 0x200
    .balign 0x80                    /* 0x280: IRQ, current EL with SPx */
    stp     x29, x30, [sp, #-176]!
    stp     x0, x1, [sp, #16]
    stp     x2, x3, [sp, #32]
    stp     x4, x5, [sp, #48]
    stp     x6, x7, [sp, #64]
    stp     x8, x9, [sp, #80]
    stp     x10, x11, [sp, #96]
    stp     x12, x13, [sp, #112]
    stp     x14, x15, [sp, #128]
    stp     x16, x17, [sp, #144]
    str     x18, [sp, #160]
    bl      irq_handler
    ldr     x18, [sp, #160]
    ldp     x16, x17, [sp, #144]
    ldp     x14, x15, [sp, #128]
    ldp     x12, x13, [sp, #112]
    ldp     x10, x11, [sp, #96]
    ldp     x8, x9, [sp, #80]
    ldp     x6, x7, [sp, #64]
    ldp     x4, x5, [sp, #48]
    ldp     x2, x3, [sp, #32]
    ldp     x0, x1, [sp, #16]
    ldp     x29, x30, [sp], #176
    eret
    bad_vector 0x300
    bad_vector 0x380
    bad_vector 0x400
    bad_vector 0x480
    bad_vector 0x500
    bad_vector 0x580
    bad_vector 0x600
    bad_vector 0x680
    bad_vector 0x700
    bad_vector 0x780
