    .file "guest.S"
/*
 * hypbench guest: one small EL1 program, run by both VMs from the same
 * read-only pages (IPA = PA of .guest).  MMU off, so VA = IPA.
 *
 * Entry (set up by the hypervisor): x0 = the VM's letter ('A', 'B'),
 * x1 = lines to print, x2 = work per line (xorshift rounds), SP_EL1 = the top
 * of the VM's own RAM at IPA 0x100000, EL1h with D A I F set.
 *
 * For each line n = 1..x1 it runs x2 rounds of xorshift64 (5 instructions
 * each) and prints "<letter> <n, 4 digits> <low 32 bits of the state, hex>\n"
 * through the mini UART, polling LSR.TX_EMPTY before every byte.  The mini UART
 * is not mapped in stage 2: every poll and every byte is a data abort to EL2.
 * The line counter lives in the VM's RAM (same IPA in both VMs, other PA), and
 * each line checks the EL1 registers it set at entry: if the hypervisor lost
 * any of them across its exits and switches the line says " sysregs!", if a
 * counter leaked between the VMs the numbers say so.
 * When done: HVC #1.  An exception at EL1 (none is expected): HVC #2.
 */
#define MU_BASE     0x3F215000
#define MU_IO       0x40
#define MU_LSR      0x54
#define LSR_TX_EMPTY_BIT 5
#define VM_RAM      0x100000            /* IPA of the VM's own RAM */

    .section .guest, "ax"
    .balign 0x800
guest_vectors:                          /* VBAR_EL1: report any exception to EL2 */
    .rept   16
    hvc     #2
    b       .
    .balign 0x80
    .endr

    .globl guest_entry
guest_entry:
    mov     x19, x0                     /* letter */
    mov     x20, x1                     /* lines */
    mov     x21, x2                     /* work */
    lsl     x3, x19, #8
    orr     x4, x3, #1
    msr     tpidr_el1, x4
    orr     x4, x3, #2
    msr     tpidr_el0, x4
    orr     x4, x3, #3
    msr     tpidrro_el0, x4
    orr     x4, x3, #0x40
    msr     sp_el0, x4
    msr     contextidr_el1, x19
    adr     x4, guest_vectors
    msr     vbar_el1, x4
    isb
    mov     x26, #VM_RAM
    mov     x4, #1
    str     x4, [x26]                   /* line number, in the VM's RAM */
    ldr     x23, =0x9e3779b97f4a7c15    /* xorshift state: seeded by the letter */
    mul     x23, x23, x19

next_line:
    mov     x9, x21
    cbz     x9, print
1:  eor     x23, x23, x23, lsl #13      /* xorshift64, 5 instructions a round */
    eor     x23, x23, x23, lsr #7
    eor     x23, x23, x23, lsl #17
    subs    x9, x9, #1
    b.ne    1b
print:
    mov     w0, w19
    bl      putc
    mov     w0, #' '
    bl      putc
    ldr     x0, [x26]
    bl      put_dec4
    mov     w0, #' '
    bl      putc
    mov     x0, x23
    bl      put_hex8
    bl      check_sysregs
    cbz     x0, 2f
    adr     x0, bad_sysregs
    bl      puts
2:  mov     w0, #'\n'
    bl      putc
    ldr     x0, [x26]
    add     x0, x0, #1
    str     x0, [x26]
    cmp     x0, x20
    b.ls    next_line
    hvc     #1                          /* done; the hypervisor does not resume us */
    b       .

/* putc(w0): poll LSR, then write IO.  Clobbers x9, x10. */
putc:
    ldr     x9, =MU_BASE
1:  ldr     w10, [x9, #MU_LSR]
    tbz     w10, #LSR_TX_EMPTY_BIT, 1b
    str     w0, [x9, #MU_IO]
    ret

/* puts(x0): a NUL-terminated string.  Clobbers x0, x9-x11, x25. */
puts:
    mov     x25, x30
    mov     x11, x0
1:  ldrb    w0, [x11], #1
    cbz     w0, 2f
    bl      putc
    b       1b
2:  mov     x30, x25
    ret

/* put_dec4(x0): x0 mod 10000 as four decimal digits.  Clobbers x0, x9-x14, x25. */
put_dec4:
    mov     x25, x30
    mov     x14, #10000
    udiv    x11, x0, x14
    msub    x11, x11, x14, x0
    mov     x12, #1000
    mov     x14, #10
1:  udiv    x13, x11, x12
    msub    x11, x13, x12, x11
    add     w0, w13, #'0'
    bl      putc
    udiv    x12, x12, x14
    cbnz    x12, 1b
    mov     x30, x25
    ret

/* put_hex8(x0): the low 32 bits of x0 in hex.  Clobbers x0, x9-x15, x25. */
put_hex8:
    mov     x25, x30
    mov     x11, x0
    mov     x12, #28
1:  lsr     x13, x11, x12
    and     x13, x13, #0xf
    add     x14, x13, #'0'
    add     x15, x13, #('a' - 10)
    cmp     x13, #10
    csel    x0, x14, x15, lo
    bl      putc
    subs    x12, x12, #4
    b.ge    1b
    mov     x30, x25
    ret

/* check_sysregs: x0 = 0 if the EL1 registers set at entry still hold. */
check_sysregs:
    lsl     x3, x19, #8
    mov     x0, #0
    mrs     x4, tpidr_el1
    orr     x5, x3, #1
    cmp     x4, x5
    cinc    x0, x0, ne
    mrs     x4, tpidr_el0
    orr     x5, x3, #2
    cmp     x4, x5
    cinc    x0, x0, ne
    mrs     x4, tpidrro_el0
    orr     x5, x3, #3
    cmp     x4, x5
    cinc    x0, x0, ne
    mrs     x4, sp_el0
    orr     x5, x3, #0x40
    cmp     x4, x5
    cinc    x0, x0, ne
    mrs     x4, contextidr_el1
    cmp     x4, x19
    cinc    x0, x0, ne
    mrs     x4, vbar_el1
    adr     x5, guest_vectors
    cmp     x4, x5
    cinc    x0, x0, ne
    ret

bad_sysregs:
    .asciz  " sysregs!"
    .balign 4
    .ltorg
