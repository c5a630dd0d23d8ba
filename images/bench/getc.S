/* A console echo loop polling the PL011 for input, as tutorial kernels read
 * a character (uart_getc): core 0 prints "ready", then forever waits for a
 * byte (FR.RXFE clear), reads it from DR and writes it back.  Other cores
 * park in `b .` with interrupts masked.  tests/test_quiet_poll.py runs it
 * with no input for a long while: vizor skips the poll (cpu/quiet.py).
 */
    .file   "getc.S"
    .include "console.inc"
    .equ    FR, 0x18
    .equ    FR_RXFE, 4

    .section .text.boot, "ax"
    .globl _start
_start:
    core0_with_console
    adr     x0, s_ready
    bl      puts
    .globl  getc
getc:
    ldr     w1, [x20, #FR]
    tbnz    w1, #FR_RXFE, getc
    ldr     w0, [x20]
    strb    w0, [x20]
    b       getc

    console_routines

s_ready: .asciz  "ready\n"
