/* EL1 vector table, exception frames and the context switch.
 *
 * Every entry saves a struct frame (minios.h: x0-x30, SP_EL0, ELR_EL1,
 * SPSR_EL1; 272 bytes) on the current kernel stack (SP_EL1) and calls C.
 * Kernel code runs with IRQs masked; IRQs are taken from EL0, or at EL1 in
 * the idle loop's window after WFI.
 */
#include "minios.h"

        .file   "vectors.S"

#define FRAME_SIZE 272

.macro save_frame
        sub     sp, sp, #FRAME_SIZE
        stp     x0, x1, [sp, #16 * 0]
        stp     x2, x3, [sp, #16 * 1]
        stp     x4, x5, [sp, #16 * 2]
        stp     x6, x7, [sp, #16 * 3]
        stp     x8, x9, [sp, #16 * 4]
        stp     x10, x11, [sp, #16 * 5]
        stp     x12, x13, [sp, #16 * 6]
        stp     x14, x15, [sp, #16 * 7]
        stp     x16, x17, [sp, #16 * 8]
        stp     x18, x19, [sp, #16 * 9]
        stp     x20, x21, [sp, #16 * 10]
        stp     x22, x23, [sp, #16 * 11]
        stp     x24, x25, [sp, #16 * 12]
        stp     x26, x27, [sp, #16 * 13]
        stp     x28, x29, [sp, #16 * 14]
        mrs     x21, sp_el0
        mrs     x22, elr_el1
        mrs     x23, spsr_el1
        stp     x30, x21, [sp, #16 * 15]
        stp     x22, x23, [sp, #16 * 16]
.endm

.macro ventry target
        .balign 0x80
        b       \target
.endm

.macro bad_vector name, offset
\name:
        save_frame
        mov     x0, sp
        mov     x1, #\offset
        bl      kernel_fault
        b       .
.endm

        .text
        .balign 2048
        .global vectors
vectors:
        ventry  bad_sp0_sync            /* 0x000 current EL, SP0 */
        ventry  bad_sp0_irq
        ventry  bad_sp0_fiq
        ventry  bad_sp0_serror
        ventry  el1h_sync               /* 0x200 current EL, SPx */
        ventry  el1h_irq
        ventry  bad_el1h_fiq
        ventry  bad_el1h_serror
        ventry  el0_sync                /* 0x400 lower EL, AArch64 */
        ventry  el0_irq
        ventry  bad_el0_fiq
        ventry  bad_el0_serror
        ventry  bad_a32_sync            /* 0x600 lower EL, AArch32 */
        ventry  bad_a32_irq
        ventry  bad_a32_fiq
        ventry  bad_a32_serror

        bad_vector bad_sp0_sync, 0x000
        bad_vector bad_sp0_irq, 0x080
        bad_vector bad_sp0_fiq, 0x100
        bad_vector bad_sp0_serror, 0x180
        bad_vector el1h_sync, 0x200
        bad_vector bad_el1h_fiq, 0x300
        bad_vector bad_el1h_serror, 0x380
        bad_vector bad_el0_fiq, 0x500
        bad_vector bad_el0_serror, 0x580
        bad_vector bad_a32_sync, 0x600
        bad_vector bad_a32_irq, 0x680
        bad_vector bad_a32_fiq, 0x700
        bad_vector bad_a32_serror, 0x780

el1h_irq:
        save_frame
        mov     x0, sp
        bl      irq_handler
        b       ret_to_user

el0_sync:
        save_frame
        mov     x0, sp
        bl      el0_sync_handler
        b       ret_to_user

el0_irq:
        save_frame
        mov     x0, sp
        bl      irq_handler
        /* fall through */

/* Restore the frame at SP and return from the exception.  A new process
 * starts here too (its cpu_context.pc), with a frame made by spawn(). */
        .global ret_to_user
ret_to_user:
        ldp     x22, x23, [sp, #16 * 16]
        ldp     x30, x21, [sp, #16 * 15]
        msr     sp_el0, x21
        msr     elr_el1, x22
        msr     spsr_el1, x23
        ldp     x0, x1, [sp, #16 * 0]
        ldp     x2, x3, [sp, #16 * 1]
        ldp     x4, x5, [sp, #16 * 2]
        ldp     x6, x7, [sp, #16 * 3]
        ldp     x8, x9, [sp, #16 * 4]
        ldp     x10, x11, [sp, #16 * 5]
        ldp     x12, x13, [sp, #16 * 6]
        ldp     x14, x15, [sp, #16 * 7]
        ldp     x16, x17, [sp, #16 * 8]
        ldp     x18, x19, [sp, #16 * 9]
        ldp     x20, x21, [sp, #16 * 10]
        ldp     x22, x23, [sp, #16 * 11]
        ldp     x24, x25, [sp, #16 * 12]
        ldp     x26, x27, [sp, #16 * 13]
        ldp     x28, x29, [sp, #16 * 14]
        add     sp, sp, #FRAME_SIZE
        eret

/* cpu_switch_to(prev, next): save prev's callee-saved registers, SP and
 * return address in prev->ctx, load next's, return into next. */
        .global cpu_switch_to
cpu_switch_to:
        mov     x9, sp
        stp     x19, x20, [x0, #0]
        stp     x21, x22, [x0, #16]
        stp     x23, x24, [x0, #32]
        stp     x25, x26, [x0, #48]
        stp     x27, x28, [x0, #64]
        stp     x29, x9, [x0, #80]
        str     x30, [x0, #96]
        ldp     x19, x20, [x1, #0]
        ldp     x21, x22, [x1, #16]
        ldp     x23, x24, [x1, #32]
        ldp     x25, x26, [x1, #48]
        ldp     x27, x28, [x1, #64]
        ldp     x29, x9, [x1, #80]
        ldr     x30, [x1, #96]
        mov     sp, x9
        ret
