    .file "stage2.S"
/* stage2: load/store snippets with fixed registers (SRT) */
    .text
    .globl t_ldr, x_ldr, t_str, x_str
    .balign 4
t_ldr:                          /* u64 t_ldr(u64 addr) */
    msr     nzcv, xzr
    mov     x1, #0
x_ldr:
    ldr     x1, [x0]
    mov     x0, x1
    ret
    .balign 4
t_str:                          /* void t_str(u64 addr, u64 val) */
    msr     nzcv, xzr
    mov     x2, x1
x_str:
    str     x2, [x0]
    ret
