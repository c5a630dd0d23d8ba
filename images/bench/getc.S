/* A console echo loop polling the PL011 for input, as tutorial kernels read
 * a character (uart_getc): core 0 prints "ready", then forever waits for a
 * byte (FR.RXFE clear), reads it from DR and writes it back.  Other cores
 * park in `b .` with interrupts masked.  tests/test_quiet_poll.py runs it
 * with no input for a long while: vizor skips the poll (cpu/quiet.py).
 */
    .file   "getc.S"
    .equ    PL011_DR, 0x3F201000
    .equ    FR, 0x18
    .equ    FR_RXFE, 4

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
    adr     x0, s_ready
1:  ldrb    w1, [x0], #1
    cbz     w1, 2f
    strb    w1, [x20]
    b       1b
2:
    .globl  getc
getc:
    ldr     w1, [x20, #FR]
    tbnz    w1, #FR_RXFE, getc
    ldr     w0, [x20]
    strb    w0, [x20]
    b       getc

s_ready: .asciz  "ready\n"
