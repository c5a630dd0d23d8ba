/* Native test harness for the guests: entry, EL3 -> EL2, EL2 vectors.
 *
 * Entered at 0x80000 at EL2 (Pi firmware, vizor's default boot: core 0
 * only) or at EL3 on every core (QEMU -kernel harness.elf, vizor
 * --boot-el 3).  Cores other than 0 park.  Core 0 drops to EL2 if it
 * is at EL3 (SCR_EL3 = NS | RES1 | SMD | HCE | RW, as the firmware leaves
 * it) and calls harness_main(), which starts the guest at EL1.  Parked
 * cores sleep in WFI (nothing ever interrupts them).
 */
        .file   "start.S"

        .section .text.start, "ax"
        .global _start
_start:
        mrs     x0, mpidr_el1
        and     x0, x0, #0xff
        cbnz    x0, park
        mrs     x0, CurrentEL
        lsr     x0, x0, #2
        cmp     x0, #3
        b.ne    at_el2
        ldr     x0, =0x5b1
        msr     scr_el3, x0
        mov     x0, #0x3c9                      /* EL2h, DAIF masked */
        msr     spsr_el3, x0
        adr     x0, at_el2
        msr     elr_el3, x0
        eret
at_el2:
        ldr     x0, =stack_top
        mov     sp, x0
        ldr     x0, =el2_vectors
        msr     vbar_el2, x0
        isb
        ldr     x0, =__bss_start
        ldr     x1, =__bss_end
1:      cmp     x0, x1
        b.hs    2f
        str     xzr, [x0], #8
        b       1b
2:      bl      harness_main
park:   wfi
        b       park

/* enter_guest(): ERET to ELR_EL2/SPSR_EL2 (set by harness_main) with x0 = 0. */
        .text
        .global enter_guest
enter_guest:
        mov     x0, #0
        mov     x1, #0
        eret

.macro ventry offset
        .balign 0x80
        mov     x0, #\offset
        b       el2_unexpected
.endm

        .balign 2048
el2_vectors:
        .irp    off, 0x000, 0x080, 0x100, 0x180, 0x200, 0x280, 0x300, 0x380, 0x400, 0x480, 0x500, 0x580, 0x600, 0x680, 0x700, 0x780
        ventry  \off
        .endr
el2_unexpected:
        ldr     x1, =stack_top
        mov     sp, x1
        bl      harness_exception
3:      wfi
        b       3b

        .section .bss.stack, "aw", %nobits
        .balign 16
        .skip   4096
stack_top:
