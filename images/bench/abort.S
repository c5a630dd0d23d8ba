/* Stage-2 data-abort round-trip benchmark kernel (entered at EL2, core 0, as
 * vizor boots).
 *
 * EL2: stage 2 with VMID 1 maps IPA 0-1 GiB to PA 0-1 GiB (one level-1 block,
 * 4 KiB granule, T0SZ = 32, start at level 1); IPA 1 GiB up is unmapped.
 * HCR_EL2 = RW | VM; ERET to EL1h with DAIF masked and the EL1 MMU off.
 * EL1: `ldr w0, [x1]` from IPA 0x40000000 `iterations` times: each load is a
 * stage-2 translation fault taken to EL2 (EC 0x24, ISV set), whose handler
 * only steps ELR_EL2 over the load and ERETs: a hypervisor's trapped MMIO
 * read with nothing emulated.  Then `hvc #0`, and EL2 parks in WFI.
 * Other cores park in WFI.
 *
 * The benchmark patches the `iterations` literal (8 bytes).
 */
    .file   "abort.S"
    .section .text.boot, "ax"
    .globl _start
_start:
    mrs     x9, mpidr_el1
    and     x9, x9, #0xff
    cbnz    x9, park
    adr     x1, vectors
    msr     vbar_el2, x1
    adr     x1, s2_l1
    mov     x2, #0x7fd              /* block at PA 0: AF, SH inner, S2AP RW, normal WB */
    str     x2, [x1]
    str     xzr, [x1, #8]           /* 1-2 GiB: no mapping */
    dsb     ish
    orr     x1, x1, #(1 << 48)      /* VMID 1 */
    msr     vttbr_el2, x1
    ldr     x1, =0x80003560         /* VTCR: T0SZ 32, SL0 1, IRGN/ORGN WB, SH inner, TG0 4K, PS 40 bits */
    msr     vtcr_el2, x1
    ldr     x1, =0x80000001         /* HCR_EL2: RW, VM */
    msr     hcr_el2, x1
    tlbi    alle1
    dsb     ish
    mov     x1, #0x3c5              /* EL1h, DAIF masked */
    msr     spsr_el2, x1
    adr     x1, el1_entry
    msr     elr_el2, x1
    isb
    eret

el1_entry:
    ldr     x2, iterations
    mov     x1, #0x40000000         /* an IPA stage 2 does not map */
    cbz     x2, 2f
    .globl abort_loop
abort_loop:
    ldr     w0, [x1]
    subs    x2, x2, #1
    b.ne    abort_loop
2:  hvc     #0
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
    .ltorg

    .balign 2048
    .globl vectors
vectors:
    .rept 8                         /* current-EL entries: should not happen, spin */
    b       .
    .balign 128
    .endr
    mrs     x9, esr_el2             /* 0x400: lower EL, AArch64, synchronous */
    lsr     x9, x9, #26
    cmp     x9, #0x24               /* data abort from a lower EL: step over the load */
    b.ne    1f
    mrs     x10, elr_el2
    add     x10, x10, #4
    msr     elr_el2, x10
    eret
1:  b       done                    /* the closing HVC */
    .balign 128
    .rept 7                         /* lower-EL IRQ/FIQ/SError and AArch32: spin */
    b       .
    .balign 128
    .endr

    .balign 4096                    /* in .text: the link script has no .bss (written at run time) */
s2_l1:
    .space  4096
