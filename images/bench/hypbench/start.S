    .file "start.S"
/*
 * hypbench: entry at EL3, the drop to EL2, and the EL2 vector table.
 *
 * Loaded at 0 and entered there by all four cores at EL3, as the Pi firmware
 * does with config.txt kernel_old=1 (and QEMU -kernel hypbench.elf does with
 * an ELF).  Cores 1-3 mask every interrupt and park in `b .` for ever.
 * Core 0 sets SCR_EL3 (NS, RW, HCE, SMD), ERETs to EL2h, sets up its stack
 * and VBAR_EL2, clears .bss and calls hb_main (hypbench.c).
 *
 * Every exception from a guest enters through the lower-EL vectors, which
 * push x0-x30, ELR_EL2 and SPSR_EL2 as a struct frame (hypbench.c) on the
 * EL2 stack and call C with a pointer to it; C may replace the frame with
 * another guest's (a switch), and the exit path ERETs to whatever it holds.
 */
#define SCR_EL3_NS_RW_HCE   0x5b1       /* NS(0), RES1(4,5), SMD(7), HCE(8), RW(10) */
#define SPSR_EL2H_MASKED    0x3c9       /* EL2h, D A I F set */
#define SCTLR_EL2_MMU_OFF   0x30c50830  /* RES1 bits only: MMU, caches, alignment check off */
#define CPTR_EL2_NO_TRAPS   0x33ff      /* RES1 bits, TFP = 0 */
#define FRAME_SIZE          272         /* sizeof(struct frame), a multiple of 16 */
#define F_ELR               248
#define F_SPSR              256

    .section .text.boot, "ax"
    .globl _start
_start:
    msr     daifset, #0xf
    mrs     x0, mpidr_el1
    tst     x0, #0xff
    b.eq    primary
    .globl secondary_park
secondary_park:                         /* cores 1-3: D A I F all set, for ever */
    b       secondary_park

primary:
    mrs     x0, CurrentEL
    cmp     x0, #(3 << 2)
    b.ne    el2_entry                   /* already at EL2: nothing to drop */
    mov     x0, #SCR_EL3_NS_RW_HCE
    msr     scr_el3, x0
    msr     cptr_el3, xzr
    mov     x0, #SPSR_EL2H_MASKED
    msr     spsr_el3, x0
    adr     x0, el2_entry
    msr     elr_el3, x0
    isb
    eret

el2_entry:
    ldr     x0, =__stack_top
    mov     sp, x0
    ldr     x0, =SCTLR_EL2_MMU_OFF
    msr     sctlr_el2, x0
    ldr     x0, =hb_vectors
    msr     vbar_el2, x0
    mov     x0, #CPTR_EL2_NO_TRAPS
    msr     cptr_el2, x0
    msr     hstr_el2, xzr
    mov     x0, #3                      /* CNTHCTL_EL2: EL1 may use the physical counter/timer */
    msr     cnthctl_el2, x0
    msr     cntvoff_el2, xzr
    isb
    ldr     x0, =__bss_start
    ldr     x1, =__bss_end
1:  cmp     x0, x1
    b.hs    2f
    stp     xzr, xzr, [x0], #16
    b       1b
2:  bl      hb_main
    b       hb_park

/* void hb_park(void): mask everything and sleep for ever (the end of the run). */
    .text
    .globl hb_park
hb_park:
    msr     daifset, #0xf
1:  wfi
    b       1b

/* void hb_enter(const struct frame *f): first entry into a guest.  The EL2
 * stack starts empty again: every later exit builds its frame at its top. */
    .globl hb_enter
hb_enter:
    ldr     x1, =__stack_top
    mov     sp, x1
    ldr     x1, [x0, #F_ELR]
    msr     elr_el2, x1
    ldr     x1, [x0, #F_SPSR]
    msr     spsr_el2, x1
    ldp     x2, x3, [x0, #16]
    ldp     x4, x5, [x0, #32]
    ldp     x6, x7, [x0, #48]
    ldp     x8, x9, [x0, #64]
    ldp     x10, x11, [x0, #80]
    ldp     x12, x13, [x0, #96]
    ldp     x14, x15, [x0, #112]
    ldp     x16, x17, [x0, #128]
    ldp     x18, x19, [x0, #144]
    ldp     x20, x21, [x0, #160]
    ldp     x22, x23, [x0, #176]
    ldp     x24, x25, [x0, #192]
    ldp     x26, x27, [x0, #208]
    ldp     x28, x29, [x0, #224]
    ldr     x30, [x0, #240]
    ldp     x0, x1, [x0]
    eret

/* ---- EL2 vectors ------------------------------------------------------- */

    .macro  push_frame
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp]
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
    str     x0, [sp, #F_SPSR]
    mov     x0, sp
    .endm

    .macro  vec_guest handler           /* an exit from a guest: handle, resume */
    .balign 0x80
    push_frame
    bl      \handler
    b       to_guest
    .endm

    .macro  vec_bad offset              /* must not happen: report and park */
    .balign 0x80
    push_frame
    mov     x1, #\offset
    bl      hb_bad_vector
    b       hb_park
    .endm

    .section .text.vectors, "ax"
    .balign 0x800
    .globl hb_vectors
hb_vectors:
    vec_bad 0x000                       /* EL2t */
    vec_bad 0x080
    vec_bad 0x100
    vec_bad 0x180
    vec_bad 0x200                       /* EL2h: the hypervisor runs with D A I F set */
    vec_bad 0x280
    vec_bad 0x300
    vec_bad 0x380
    vec_guest hb_guest_sync             /* 0x400 lower EL AArch64: aborts, HVC */
    vec_guest hb_guest_irq              /* 0x480: the system timer tick (HCR_EL2.IMO) */
    vec_bad 0x500
    vec_bad 0x580
    vec_bad 0x600                       /* lower EL AArch32: the guests are AArch64 */
    vec_bad 0x680
    vec_bad 0x700
    vec_bad 0x780

to_guest:
    ldp     x0, x1, [sp, #F_ELR]        /* ELR, SPSR */
    msr     elr_el2, x0
    msr     spsr_el2, x1
    ldp     x0, x1, [sp]
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
    add     sp, sp, #FRAME_SIZE
    eret
