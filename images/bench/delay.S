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
    .equ    PL011_DR, 0x3F201000

    .section .text.boot, "ax"
    .globl _start
_start:
    msr     daifset, #15
    mrs     x9, mpidr_el1
    and     x9, x9, #0xff
    cbz     x9, main
park:
    b       .
main:
    mov     x20, #PL011_DR & 0xffff
    movk    x20, #PL011_DR >> 16, lsl #16
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

putline:                            /* w0, then a newline */
    strb    w0, [x20]
    mov     w0, #'\n'
    strb    w0, [x20]
    ret

puts:                               /* the NUL-terminated string at x0 */
    ldrb    w1, [x0], #1
    cbz     w1, 1f
    strb    w1, [x20]
    b       puts
1:  ret

    .balign 8
    .globl  millis
millis: .quad   1000
s_wait: .asciz  "wait\n"
s_done: .asciz  "DONE\n"
