    .file "vectors.S"
/*
 * Exception vector tables for EL3, EL2 and EL1.  Every entry saves x0-x30 in a
 * frame on SP_ELx and calls exc_entry(frame, vector_offset, el) in exc.c, which
 * records ESR/FAR/ELR/SPSR(/HPFAR) and performs the action the test asked for.
 */
#include "rt_asm.h"

.macro VENT el, off
    .balign 0x80
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
    mov     x1, #\off
    b       exc_common_el\el
.endm

.macro VTABLE el
    .balign 0x800
    .globl vectors_el\el
vectors_el\el:
    VENT \el, 0x000
    VENT \el, 0x080
    VENT \el, 0x100
    VENT \el, 0x180
    VENT \el, 0x200
    VENT \el, 0x280
    VENT \el, 0x300
    VENT \el, 0x380
    VENT \el, 0x400
    VENT \el, 0x480
    VENT \el, 0x500
    VENT \el, 0x580
    VENT \el, 0x600
    VENT \el, 0x680
    VENT \el, 0x700
    VENT \el, 0x780
    .balign 0x80
exc_common_el\el:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    str     x30, [sp, #240]
    mov     x0, sp
    mov     x2, #\el
    bl      exc_entry
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    ldr     x30, [sp, #240]
    ldp     x0, x1, [sp, #0]
    add     sp, sp, #FRAME_SIZE
    eret
.endm

    .section .text.vectors, "ax"
    VTABLE 3
    VTABLE 2
    VTABLE 1
