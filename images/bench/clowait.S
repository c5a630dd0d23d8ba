/* Delay loops polling the BCM2835 system timer (CLO/CHI at 0x3F003004/8, a
 * 1 MHz counter), as tutorial kernels wait when they use the system timer.
 *
 * Core 0 prints "wait" on the PL011, then waits `millis` milliseconds (a
 * patchable literal, default 1000) twice, each time with another loop shape,
 * and prints its number:
 *   1  ldr w2, [x0, #4]; sub w2, w2, w1; cmp w2, w3; b.lo   (CLO - start < n)
 *   2  the 64-bit time read as CHI, CLO, CHI again (a second read of both if
 *      CHI changed in between), then now - start < n  (a C get_system_timer)
 * then "DONE" and parks in WFI.  Other cores park in `b .` with interrupts
 * masked.  The system timer counts in microseconds on vizor and on QEMU.
 */
    .file   "clowait.S"
    .include "console.inc"
    .equ    SYSTIMER, 0x3F003000

    .section .text.boot, "ax"
    .globl _start
_start:
    core0_with_console
    mov     x19, #SYSTIMER & 0xffff
    movk    x19, #SYSTIMER >> 16, lsl #16
    adr     x0, s_wait
    bl      puts
    ldr     x7, millis
    mov     x8, #1000
    mul     x3, x7, x8              /* x3 = microseconds to wait */

    mov     x0, x19
    ldr     w1, [x0, #4]
    .globl  wait1
wait1:
    ldr     w2, [x0, #4]
    sub     w2, w2, w1
    cmp     w2, w3
    b.lo    wait1
    mov     w0, #'1'
    bl      putline

    bl      now64
    mov     x21, x0                 /* start */
    .globl  wait2
wait2:
    bl      now64
    sub     x0, x0, x21
    cmp     x0, x3
    b.lo    wait2
    mov     w0, #'2'
    bl      putline

    adr     x0, s_done
    bl      puts
    .globl  done
done:
    wfi
    b       done

now64:                              /* x0 = CHI:CLO, read consistently */
    ldr     w4, [x19, #8]
    ldr     w5, [x19, #4]
    ldr     w6, [x19, #8]
    cmp     w4, w6
    b.eq    1f
    ldr     w4, [x19, #8]
    ldr     w5, [x19, #4]
1:  orr     x0, x5, x4, lsl #32
    ret

    console_routines

    .balign 8
    .globl  millis
millis: .quad   1000
s_wait: .asciz  "wait\n"
s_done: .asciz  "DONE\n"
