    .file "secmon.S"
/*
 * secmon -- the Secure-EL1 payload's vector table.  The payload takes no
 * exception of its own; an entry here means something went wrong, and it
 * says so to the monitor: SMC with function 0xbad and the vector offset in x1.
 */
#include "rt_asm.h"

.macro SVENT off
    .balign 0x80
    mov     x1, #\off
    mov     x0, #0xbad
    smc     #0
    b       .
.endm

    .section .text.vectors, "ax"
    .balign 0x800
    .globl secure_vectors
secure_vectors:
    .irp off, 0x000, 0x080, 0x100, 0x180, 0x200, 0x280, 0x300, 0x380, 0x400, 0x480, 0x500, 0x580, 0x600, 0x680, 0x700, 0x780
    SVENT \off
    .endr
