/* HVC round-trip benchmark kernel (entered at EL2, core 0, as vizor boots).
 *
 * EL2: VBAR_EL2 = vectors (its lower-EL AArch64 sync entry is a bare ERET),
 * HCR_EL2 = RW, ERET to EL1h with DAIF masked (SPSR_EL2 = 0x3c5).
 * EL1: `hvc #0` `iterations` times, then WFI.  Other cores park in WFI.
 *
 * The benchmark patches the `iterations` literal (8 bytes).
 */
    .file   "hvc.S"
    .section .text.boot, "ax"
    .globl _start
_start:
    mrs     x9, mpidr_el1
    and     x9, x9, #0xff
    cbnz    x9, park
    adr     x1, vectors
    msr     vbar_el2, x1
    mov     x1, #0x80000000         /* HCR_EL2.RW: EL1 is AArch64 */
    msr     hcr_el2, x1
    mov     x1, #0x3c5              /* EL1h, DAIF masked */
    msr     spsr_el2, x1
    adr     x1, el1_entry
    msr     elr_el2, x1
    isb
    eret

el1_entry:
    ldr     x0, iterations
    cbz     x0, done
    .globl hvc_loop
hvc_loop:
    hvc     #0
    subs    x0, x0, #1
    b.ne    hvc_loop
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
    .quad   100000

    .balign 2048
    .globl vectors
vectors:
    .rept 8                         /* current-EL entries: should not happen, spin */
    b       .
    .balign 128
    .endr
    eret                            /* 0x400: lower EL, AArch64, synchronous */
    .balign 128
    .rept 7                         /* lower-EL IRQ/FIQ/SError and AArch32: spin */
    b       .
    .balign 128
    .endr
