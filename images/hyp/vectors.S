    .file "vectors.S"
/*
 * EL2 vector table.  Every entry saves x0-x30, ELR_EL2 and SPSR_EL2 as a
 * struct frame (hyp.h) on the EL2 stack and calls C with it; C may replace
 * the frame's contents (a vCPU switch), and the ERET below resumes whatever
 * the frame then holds.
 */
#define FRAME_SIZE 272

    .macro  save_frame
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
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
    mrs     x0, elr_el2
    stp     x30, x0, [sp, #240]
    mrs     x0, spsr_el2
    str     x0, [sp, #256]
    mov     x0, sp
    .endm

    .macro  entry handler
    .balign 0x80
    save_frame
    bl      \handler
    b       restore_frame
    .endm

    .macro  bad n
    .balign 0x80
    save_frame
    mov     x1, #\n
    bl      hyp_bad_vector
    b       .
    .endm

    .section .text.vectors, "ax"
    .balign 0x800
    .globl hyp_vectors
hyp_vectors:
    bad     0x000                       /* current EL, SP0 */
    bad     0x080
    bad     0x100
    bad     0x180
    bad     0x200                       /* current EL, SPx: sync */
    entry   hyp_irq_el2                 /* IRQ while idle at EL2 */
    bad     0x300
    bad     0x380
    entry   hyp_sync_lower              /* lower EL, AArch64 */
    entry   hyp_irq_lower
    bad     0x500
    bad     0x580
    bad     0x600                       /* lower EL, AArch32 */
    bad     0x680
    bad     0x700
    bad     0x780

restore_frame:
    ldr     x0, [sp, #256]
    msr     spsr_el2, x0
    ldp     x30, x0, [sp, #240]
    msr     elr_el2, x0
    ldp     x0, x1, [sp, #0]
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
    add     sp, sp, #FRAME_SIZE
    eret

/* void hyp_enter_guest(struct frame *f): first entry of a core into a guest. */
    .globl hyp_enter_guest
hyp_enter_guest:
    mov     sp, x0
    b       restore_frame
