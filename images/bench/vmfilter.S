/*
 * vmfilter: two VMs run the same guest code at the same VA, one busy, one quiet
 * (benchmarks/gdb.py: a VMID-filtered breakpoint against a gdb condition).
 *
 * Core 0 at EL2 runs both VMs in turn; cores 1-3 park.  Both VMs share one
 * stage-2 table (IPA 0-1 GiB -> PA 0-1 GiB, one level-1 block) with their own
 * VMID, MMU off at EL1, so VA = IPA = PA.  The guest calls `spot` x3 times,
 * x0 xorshift rounds before each call, then yields with HVC #0.  VM 1
 * (VMID 1) makes `busy_calls` (1000) calls of 1 round per turn, VM 2 (VMID 2)
 * 1 call of 1 round: a breakpoint at `spot` for VM 2 is passed 1000 times in
 * VM 1 per hit, the same on every emulator (no timers, no other core).
 * EL2 counts VM 1's turns in x22 (the guest never touches it).
 *
 * Entry: core 0 at EL2 (vizor's firmware boot, QEMU with a raw image) or every
 * core at EL3 (QEMU -kernel ELF, vizor --boot-el 3).
 */
    .file "vmfilter.S"
    .section .text.boot, "ax"
    .globl _start
_start:
    mrs     x0, CurrentEL
    cmp     x0, #0xc
    b.ne    el2
    ldr     x0, =0x5b1                  /* NS | RES1 | SMD | HCE | RW */
    msr     scr_el3, x0
    mov     x0, #0x3c9                  /* EL2h, DAIF masked */
    msr     spsr_el3, x0
    adr     x0, el2
    msr     elr_el3, x0
    eret
el2:
    mrs     x1, mpidr_el1
    and     x1, x1, #3
    cbz     x1, core0
park:
    wfe
    b       park
core0:
    adr     x0, vectors
    msr     vbar_el2, x0
    ldr     x0, =0x80003560             /* T0SZ 32, SL0 level 1, WB walks, inner shareable */
    msr     vtcr_el2, x0
    ldr     x0, =0x80000001             /* RW | VM */
    msr     hcr_el2, x0
    ldr     x0, =0x30d00800             /* SCTLR_EL1 RES1, MMU off */
    msr     sctlr_el1, x0
    mov     x19, #1                     /* the VMID to enter */
    mov     x22, #0                     /* VM 1's turns */
enter:
    adr     x0, s2_l1
    orr     x0, x0, x19, lsl #48
    msr     vttbr_el2, x0
    mov     x0, #0x3c5                  /* EL1h, DAIF masked */
    msr     spsr_el2, x0
    adr     x0, guest
    msr     elr_el2, x0
    mov     x0, #1                      /* rounds per call */
    mov     x3, #1                      /* calls per turn: VM 2 */
    cmp     x19, #1
    b.ne    1f
    ldr     x3, busy_calls              /* VM 1 */
1:  isb
    eret

yield:                                  /* HVC #0 from a guest: the other VM's turn */
    cmp     x19, #1
    cinc    x22, x22, eq
    eor     x19, x19, #3
    b       enter

guest:                                  /* EL1: x3 calls of spot, x0 rounds before each */
    ldr     x9, =0x9e3779b97f4a7c15
1:  mov     x1, x0
2:  eor     x9, x9, x9, lsl #13
    eor     x9, x9, x9, lsr #7
    eor     x9, x9, x9, lsl #17
    subs    x1, x1, #1
    b.ne    2b
    bl      spot
    subs    x3, x3, #1
    b.ne    1b
    hvc     #0
    b       .

    .globl spot
spot:
    add     x2, x2, #1
    ret

    .balign 8
    .globl busy_calls
busy_calls:
    .quad   1000
    .ltorg

    .balign 0x800
vectors:
    .rept   8
    b       .
    .balign 0x80
    .endr
    b       yield                       /* lower EL, AArch64, synchronous */
    .balign 0x80
    .rept   7
    b       .
    .balign 0x80
    .endr

    .balign 4096
s2_l1:                                  /* block 0: PA 0, Normal WB, S2AP RW, inner shareable, AF */
    .quad   0x7fd
    .quad   0, 0, 0
