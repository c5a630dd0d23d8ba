/* Delay loops polling the generic timer, as tutorial kernels and drivers wait.
 *
 * Core 0 (at EL2 on vizor's firmware boot, at EL3 on QEMU's -kernel ELF; both
 * can read the counters) prints "wait" on the PL011, then waits `millis`
 * milliseconds (a patchable literal, default 1000) three times, each time
 * with another shape of loop that compilers emit, and prints its number:
 *   1  mrs x2, cntpct_el0; cmp x2, x1; b.lo          (until a deadline)
 *   2  mrs x2, cntpct_el0; sub x4, x2, x0; cmp x4, x5; b.lo   (elapsed < ticks)
 *   3  mrs x2, cntvct_el0; cmp x1, x2; b.hi          (deadline > now, operands swapped)
 * then "DONE" and parks in WFI.  The ticks come from CNTFRQ_EL0, so the waits
 * are `millis` of the board's time on vizor (19.2 MHz) and on QEMU (62.5 MHz).
 * Other cores park in `b .` with interrupts masked.
 */
    .file   "delay.S"
    .include "console.inc"

    .section .text.boot, "ax"
    .globl _start
_start:
    core0_with_console
    adr     x0, s_wait
    bl      puts
    mrs     x6, cntfrq_el0
    ldr     x7, millis
    mul     x5, x6, x7
    mov     x8, #1000
    udiv    x5, x5, x8              /* x5 = ticks to wait */

    mrs     x0, cntpct_el0
    add     x1, x0, x5
    .globl  wait1
wait1:
    mrs     x2, cntpct_el0
    cmp     x2, x1
    b.lo    wait1
    mov     w0, #'1'
    bl      putline

    mrs     x0, cntpct_el0
    .globl  wait2
wait2:
    mrs     x2, cntpct_el0
    sub     x4, x2, x0
    cmp     x4, x5
    b.lo    wait2
    mov     w0, #'2'
    bl      putline

    mrs     x0, cntvct_el0
    add     x1, x0, x5
    .globl  wait3
wait3:
    mrs     x2, cntvct_el0
    cmp     x1, x2
    b.hi    wait3
    mov     w0, #'3'
    bl      putline

    adr     x0, s_done
    bl      puts
    .globl  done
done:
    wfi
    b       done

    console_routines

    .balign 8
    .globl  millis
millis: .quad   1000
s_wait: .asciz  "wait\n"
s_done: .asciz  "DONE\n"
