    .file "watch.S"
/* watch: one labelled load or store per routine, for watchpoint tests.
 * Each x_* label is the access itself; the instruction after it is where a
 * debugger reports the watchpoint (after the access). */
    .text
    .globl w_ldrb, x_ldrb, w_ldrh, x_ldrh, w_ldrw, x_ldrw, w_ldrx, x_ldrx
    .globl w_strb, x_strb, w_strh, x_strh, w_strw, x_strw, w_strx, x_strx
    .globl w_ldp, x_ldp, w_stp, x_stp, w_excl, x_ldxr, x_stxr
    .globl w_far, x_far_str, x_far_ldr, w_el1, x_el1_ldr, x_el1_str
    .balign 4
w_ldrb:                         /* u64 w_ldrb(u64 addr) */
x_ldrb:
    ldrb    w0, [x0]
    ret
w_ldrh:
x_ldrh:
    ldrh    w0, [x0]
    ret
w_ldrw:
x_ldrw:
    ldr     w0, [x0]
    ret
w_ldrx:
x_ldrx:
    ldr     x0, [x0]
    ret
w_strb:                         /* void w_strb(u64 addr, u64 val) */
x_strb:
    strb    w1, [x0]
    ret
w_strh:
x_strh:
    strh    w1, [x0]
    ret
w_strw:
x_strw:
    str     w1, [x0]
    ret
w_strx:
x_strx:
    str     x1, [x0]
    ret
w_ldp:                          /* void w_ldp(u64 addr, u64 out[2]) */
x_ldp:
    ldp     x2, x3, [x0]
    stp     x2, x3, [x1]
    ret
w_stp:                          /* void w_stp(u64 addr, u64 a, u64 b) */
x_stp:
    stp     x1, x2, [x0]
    ret
w_excl:                         /* u64 w_excl(u64 addr): *(u32 *)addr += 1; returns the STXR status */
x_ldxr:
    ldxr    w1, [x0]
    add     w1, w1, #1
x_stxr:
    stxr    w2, w1, [x0]
    mov     w0, w2
    ret
w_far:                          /* u64 w_far(u64 addr, u64 val): store then load back */
x_far_str:
    str     x1, [x0]
x_far_ldr:
    ldr     x0, [x0]
    ret
w_el1:                          /* u64 w_el1(u64 ipa), at EL1: [ipa+0x70] = [ipa+0x30] + 1 */
x_el1_ldr:
    ldr     x1, [x0, #0x30]
    add     x1, x1, #1
x_el1_str:
    str     x1, [x0, #0x70]
    mov     x0, x1
    ret

/* The watched buffer: its own 4 KiB page, initial values from the image (so
 * that no store touches it before the checks). */
    .data
    .globl watch_buf
    .balign 4096
watch_buf:
    .quad 0x11223344556677a5    /* 0x00 LDRB */
    .quad 0
    .quad 0x0102030405068899    /* 0x10 LDRH */
    .quad 0
    .quad 0x0a0b0c0dcafef00d    /* 0x20 LDR W */
    .quad 0
    .quad 0x7766554433221100    /* 0x30 LDR X (and the EL1 load) */
    .quad 0
    .quad 0x4040404040404040    /* 0x40 STRB */
    .quad 0
    .quad 0x5050505050505050    /* 0x50 STRH */
    .quad 0
    .quad 0x6060606060606060    /* 0x60 STR W */
    .quad 0
    .quad 0x7070707070707070    /* 0x70 STR X (and the EL1 store) */
    .quad 0
    .quad 0x8080808080808081    /* 0x80 LDP first */
    .quad 0x8888888888888882    /* 0x88 LDP second */
    .quad 0, 0
    .quad 0xa0a0a0a0a0a0a0a0    /* 0xa0 STP first */
    .quad 0xa8a8a8a8a8a8a8a8    /* 0xa8 STP second */
    .quad 0, 0
    .quad 0x0000000000000029    /* 0xc0 LDXR/STXR word */
    .fill (0x800 - 0xc8) / 8, 8, 0
    .quad 0x0800080008000800    /* 0x800 outside every watched range */
    .fill (0x1000 - 0x808) / 8, 8, 0
