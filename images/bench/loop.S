/* Compute-loop benchmark kernel.
 *
 * Runs `iterations` rounds of an 8-instruction arithmetic loop on core 0,
 * writes "DONE\n" to the PL011 data register (0x3F201000; the firmware and
 * QEMU leave UART0 enabled, no init needed) and parks in WFI.  Other cores
 * (QEMU starts all four at the ELF entry) park in WFI at once.
 * Works at any EL (EL1 bare Unicorn, EL2 vizor, EL3 QEMU -kernel ELF), MMU off.
 *
 * The benchmark patches the `iterations` literal (8 bytes) per engine.
 */
    .file   "loop.S"
    .section .text.boot, "ax"
    .globl _start
_start:
    mrs     x9, mpidr_el1
    and     x9, x9, #0xff
    cbnz    x9, park
    ldr     x0, iterations
    mov     x1, #1
    mov     x2, #3
    mov     x3, #5
    mov     x4, #7
    cbz     x0, loop_end
    .globl loop
loop:                           /* 8 instructions per iteration */
    add     x1, x1, x0
    eor     x2, x2, x1, lsl #3
    mul     x3, x3, x2
    add     x4, x4, x3, lsr #7
    orr     x5, x4, x1
    sub     x6, x5, x2
    subs    x0, x0, #1
    b.ne    loop
    .globl loop_end
loop_end:
    ldr     x10, =0x3F201000
    mov     w11, #'D'
    str     w11, [x10]
    mov     w11, #'O'
    str     w11, [x10]
    mov     w11, #'N'
    str     w11, [x10]
    mov     w11, #'E'
    str     w11, [x10]
    mov     w11, #'\n'
    str     w11, [x10]
    dsb     sy
    .globl done
done:
    wfi
    b       done
park:
    wfi
    b       park

    .balign 8
    .globl iterations
iterations:
    .quad   20000000
    .ltorg
