    .file "exc_sync.S"
/* exc_sync: instruction snippets; each x_* label marks the instruction that
   raises the exception.  Every snippet clears NZCV first so SPSR is exact. */
    .text
.macro FUNC name
    .globl \name
    .type \name, %function
    .balign 4
\name:
    msr     nzcv, xzr
.endm
.macro AT name
    .globl \name
\name:
.endm

FUNC t_svc
AT x_svc
    svc     #0x123
    ret

FUNC t_svc_sp0                  /* at EL1h: switch to SP_EL0, SVC, back */
    msr     spsel, #0
AT x_svc_sp0
    svc     #0x7
    msr     spsel, #1
    ret

FUNC t_svc_el0
AT x_svc_el0
    svc     #0x45
    ret

FUNC t_hvc
AT x_hvc
    hvc     #0x42
    ret

FUNC t_hvc_el2
AT x_hvc_el2
    hvc     #0x43
    ret

FUNC t_smc_el2
AT x_smc_el2
    smc     #0x77
    ret

FUNC t_smc_tsc
AT x_smc_tsc
    smc     #0x33
    ret

FUNC t_brk
AT x_brk
    brk     #0x99
    ret

FUNC t_udf
AT x_udf
    .inst   0x00001234          /* UDF #0x1234 */
    ret

FUNC t_call                     /* call x0; an abort there resumes at our LR */
    stp     x29, x30, [sp, #-16]!
    msr     nzcv, xzr
    blr     x0
    ldp     x29, x30, [sp], #16
    ret

FUNC t_ldrb
AT x_ldrb
    ldrb    w1, [x0]
    ret
FUNC t_ldrsh_w
AT x_ldrsh_w
    ldrsh   w2, [x0]
    ret
FUNC t_ldrsh_x
AT x_ldrsh_x
    ldrsh   x3, [x0]
    ret
FUNC t_ldr_w
AT x_ldr_w
    ldr     w4, [x0]
    ret
FUNC t_ldr_x
AT x_ldr_x
    ldr     x9, [x0]
    ret
FUNC t_str_x
    mov     x5, x1
AT x_str_x
    str     x5, [x0]
    ret
FUNC t_ldp
AT x_ldp
    ldp     x6, x7, [x0]
    ret
FUNC t_ldr_post
    mov     x8, x0
AT x_ldr_post
    ldr     x10, [x8], #8
    ret

FUNC t_sp_align                 /* at EL1h with SCTLR_EL1.SA=1 */
    msr     spsel, #0
    mov     x9, sp
    sub     x10, x9, #8         /* 8-byte aligned: misaligned for the 16-byte check */
    mov     sp, x10
AT x_sp_align
    ldr     x11, [sp]
    mov     sp, x9
    msr     spsel, #1
    ret

    .balign 16
    .globl x_target
x_target:                       /* branch target for the PC alignment check */
    nop
    ret
