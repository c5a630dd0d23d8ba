    .file "exc_traps.S"
/* exc_traps: EL1 system-register accesses with a fixed Rt (x2); x_<name> labels
   the instruction HCR_EL2 may trap. */
    .text
.macro RD name, reg
    .globl r_\name, xr_\name
    .balign 4
r_\name:
    mov     x2, #0
xr_\name:
    mrs     x2, \reg
    mov     x0, x2
    ret
.endm
.macro WRT name, reg
    .globl w_\name, xw_\name
    .balign 4
w_\name:
    mov     x2, x0
xw_\name:
    msr     \reg, x2
    ret
.endm

RD revidr,  S3_0_C0_C0_6
RD aidr,    S3_1_C0_C0_7
RD ctr,     S3_3_C0_C0_1
RD ccsidr,  S3_1_C0_C0_0
RD clidr,   S3_1_C0_C0_1
RD csselr,  S3_2_C0_C0_0
WRT csselr, S3_2_C0_C0_0
RD pfr0,    S3_0_C0_C4_0
RD mmfr0,   S3_0_C0_C7_0
RD actlr,   S3_0_C1_C0_1
WRT actlr,  S3_0_C1_C0_1
RD sctlr,   S3_0_C1_C0_0
WRT sctlr,  S3_0_C1_C0_0
WRT ttbr0,  S3_0_C2_C0_0
RD l2ctlr,  S3_1_C11_C0_2

    .globl t_wfi, x_wfi
    .balign 4
t_wfi:
x_wfi:
    wfi
    ret

    .globl t_wfe, x_wfe
    .balign 4
t_wfe:
    sevl
    wfe                     /* event register set: completes, clears it */
x_wfe:
    wfe                     /* would sleep: trapped by HCR_EL2.TWE */
    ret

    .globl t_smc, x_smc
    .balign 4
t_smc:
x_smc:
    smc     #0x11
    ret
