    .file "exc_levels.S"
/* exc_levels: snippets; x_* labels mark interesting instructions. */
    .text
.macro FUNC name
    .globl \name
    .type \name, %function
    .balign 4
\name:
.endm
.macro AT name
    .globl \name
\name:
.endm

FUNC get_el                     /* EL1 and above */
    mrs     x0, CurrentEL
    lsr     x0, x0, #2
    ret
FUNC get_spsel
    mrs     x0, spsel
    ret
FUNC get_daif
    mrs     x0, daif
    ret
FUNC get_sp                     /* current SP */
    mov     x0, sp
    ret
FUNC get_sp_via_sel0            /* SP_EL0 as seen after SPSel=0 */
    msr     spsel, #0
    mov     x0, sp
    msr     spsel, #1
    ret

FUNC t_el0_svc                  /* EL0 */
    msr     nzcv, xzr
AT x_el0_svc
    svc     #0x10
    ret

FUNC t_hvc
    msr     nzcv, xzr
AT x_hvc
    hvc     #0x20
    ret

FUNC t_hvc_el2t                 /* at EL2h: HVC with SPSel=0 -> "current EL with SP0" */
    msr     nzcv, xzr
    msr     spsel, #0
AT x_hvc_el2t
    hvc     #0x21
    msr     spsel, #1
    ret

FUNC t_smc
    msr     nzcv, xzr
AT x_smc
    smc     #0x30
    ret

/* u64 t_daif_svc(u64 daif_bits): set DAIF = arg, SVC, mask everything again */
FUNC t_daif_svc
    msr     nzcv, xzr
    msr     daif, x0
AT x_daif_svc
    svc     #0x11
    msr     daifset, #0xf
    ret

FUNC t_illegal                  /* EL1: ERET to EL2h = illegal exception return */
    msr     nzcv, xzr
    adr     x1, x_ill_target
    msr     elr_el1, x1
    mov     x1, #0x3c9
    msr     spsr_el1, x1
    isb
AT x_ill_eret
    eret
AT x_ill_target
    nop
    ret

FUNC t_unmask_i                 /* EL1 with a virtual IRQ pending */
    msr     nzcv, xzr
    msr     daifclr, #2
AT x_after_i
    nop
    msr     daifset, #2
    ret

FUNC t_unmask_f
    msr     nzcv, xzr
    msr     daifclr, #1
AT x_after_f
    nop
    msr     daifset, #1
    ret

FUNC t_el0_nop                  /* EL0 entry point for the virtual IRQ from EL0 */
AT x_el0_nop
    nop
    ret
