    .file "start.S"
/*
 * vizor conformance kernels -- entry and EL plumbing.
 *
 * Entry conditions handled:
 *  - Pi firmware style: core 0 at _start at EL2, cores 1-3 released later from
 *    the spin table (0xd8 + 8*n) at EL2.
 *  - QEMU -kernel x.elf / vizor --boot-el 3: all cores at _start at EL3.
 * At EL3 we program SCR_EL3 like the firmware (NS, RW, HCE) but leave SMC
 * enabled (SMD=0) so that tests can reach our own EL3 vectors, then ERET to
 * EL2h.  Everything else runs at EL2 or below.
 */
#include "rt_asm.h"

    .section .text.boot, "ax"
    .globl _start
_start:
    msr     daifset, #0xf
    mrs     x19, mpidr_el1
    and     x19, x19, #0xff                 /* core number = Aff0 */
    mrs     x20, CurrentEL
    ubfx    x20, x20, #2, #2                /* entry EL */
    cmp     x20, #3
    b.ne    1f

    /* ---- EL3: firmware-like setup, then drop to EL2h ---- */
    adr     x0, vectors_el3
    msr     vbar_el3, x0
    mov     x0, #SCR_EL3_VALUE
    msr     scr_el3, x0
    msr     cptr_el3, xzr
    mov     x0, #EL3
    bl      stack_top
    mov     sp, x0
    mov     x0, #0x3c9                      /* EL2h, DAIF masked */
    msr     spsr_el3, x0
    adr     x0, 1f
    msr     elr_el3, x0
    isb
    eret

1:  mrs     x0, CurrentEL
    cmp     x0, #(2 << 2)
    b.ne    bad_entry
    /* ---- EL2 ---- */
    mov     x0, #EL2
    bl      stack_top
    mov     sp, x0
    mov     x0, #EL1
    bl      stack_top
    msr     sp_el1, x0
    mov     x0, #EL0
    bl      stack_top
    msr     sp_el0, x0
    adr     x0, vectors_el2
    msr     vbar_el2, x0
    adr     x0, vectors_el1
    msr     vbar_el1, x0
    mov     x0, #HCR_RW
    msr     hcr_el2, x0
    ldr     x0, =SCTLR_EL1_RESET
    msr     sctlr_el1, x0
    mov     x0, #3
    msr     cnthctl_el2, x0
    msr     cntvoff_el2, xzr
    mov     x0, #0x33ff
    msr     cptr_el2, x0
    msr     hstr_el2, xzr
    mrs     x0, midr_el1
    msr     vpidr_el2, x0
    mrs     x0, mpidr_el1
    msr     vmpidr_el2, x0
    isb
    cbnz    x19, secondary

    /* ---- core 0 ---- */
    ldr     x0, =__bss_start
    ldr     x1, =__bss_end
2:  cmp     x0, x1
    b.hs    3f
    str     xzr, [x0], #8
    b       2b
3:  ldr     x0, =rt_entry_el
    str     x20, [x0]
    bl      rt_release_secondaries
    bl      main
    b       park

    /* ---- cores 1-3: wait on our own release flag ---- */
secondary:
    ldr     x1, =rt_release_flag
4:  ldr     x0, [x1]
    cbnz    x0, 5f
    wfe
    b       4b
5:  mov     x0, x19
    bl      secondary_main
    b       park

bad_entry:
    b       bad_entry

    .text
    .globl park
park:
    wfi
    b       park

/* u64 stack_top(el) for the calling core (uses x19 = core; clobbers x0,x1) */
stack_top:
    mov     x1, #4
    madd    x0, x19, x1, x0                 /* core*4 + el */
    add     x0, x0, #1
    lsl     x0, x0, #12
    ldr     x1, =__stacks_start
    add     x0, x0, x1
    ret

    .weak secondary_main
secondary_main:
    b       park

/* void rt_release_secondaries(void): own flag + spin table + SEV */
    .globl rt_release_secondaries
rt_release_secondaries:
    ldr     x1, =rt_release_flag
    mov     x0, #1
    str     x0, [x1]
    dsb     sy
    ldr     x0, =_start
    mov     x1, #0xe0
    str     x0, [x1]
    str     x0, [x1, #8]
    str     x0, [x1, #16]
    dsb     sy
    sev
    ret

/*
 * u64 call_lower(fn, arg, spsr): ERET from the current EL (3, 2 or 1) to fn(arg)
 * with the given SPSR.  When fn returns it lands in a stub that executes
 * SMC/HVC/SVC #0xffff (depending on the caller's EL); the handler at the
 * caller's EL recognises it and calls lower_return(x0), which resumes here.
 */
    .globl call_lower
call_lower:
    stp     x19, x20, [sp, #-112]!
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    mrs     x9, CurrentEL
    ubfx    x9, x9, #2, #2
    ldr     x10, =rt_lower_ctx
    ldr     x11, [x10, x9, lsl #3]          /* keep the outer context (nesting) */
    str     x11, [sp, #96]
    mrs     x11, spsel
    str     x11, [sp, #104]
    mov     x11, sp
    str     x11, [x10, x9, lsl #3]
    cmp     x9, #3
    b.eq    6f
    cmp     x9, #2
    b.eq    7f
    msr     elr_el1, x0
    msr     spsr_el1, x2
    adr     x30, stub_svc
    b       8f
6:  msr     elr_el3, x0
    msr     spsr_el3, x2
    adr     x30, stub_smc
    b       8f
7:  msr     elr_el2, x0
    msr     spsr_el2, x2
    adr     x30, stub_hvc
8:  mov     x0, x1
    isb
    eret

    .globl lower_return
lower_return:
    mrs     x9, CurrentEL
    ubfx    x9, x9, #2, #2
    ldr     x10, =rt_lower_ctx
    ldr     x11, [x10, x9, lsl #3]
    ldr     x12, [x11, #104]
    cbnz    x12, 9f
    msr     spsel, #0                       /* caller ran on SP_EL0 (ELxt) */
9:  mov     sp, x11
    ldr     x11, [sp, #96]
    str     x11, [x10, x9, lsl #3]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    ldp     x19, x20, [sp], #112
    ret

    .globl stub_svc, stub_hvc, stub_smc
stub_svc:
    svc     #0xffff
    b       .
stub_hvc:
    hvc     #0xffff
    b       .
stub_smc:
    smc     #0xffff
    b       .

    .data
    .balign 8
    .globl rt_release_flag
rt_release_flag:
    .quad 0
