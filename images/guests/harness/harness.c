/* Native harness: runs the mini OS at EL1 under a minimal stage 2.
 *
 * Stage 2 (VTCR_EL2: 4 KiB granule, T0SZ = 32, start at level 1, VMID 1):
 *   IPA 0x00000000-0x00FFFFFF -> PA GUEST_PA (Normal WB, RW)
 *   IPA 0x3F000000-0x40FFFFFF -> the same PA (Device-nGnRnE, RW, XN): passthrough
 * HCR_EL2 = VM | RW: IMO = 0, so the board's IRQs go straight to EL1; no traps.
 * VMPIDR_EL2 = 0x80000000, as the demo hypervisor gives its guests.
 */
typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned char u8;

#define GUEST_PA        0x01000000UL
#define GUEST_RAM       0x01000000UL
#define BLOCK           0x200000UL
#define S2_TABLE        3UL
#define S2_NORMAL       0x00000000000007FDUL    /* block | MemAttr Normal WB | S2AP RW | SH inner | AF */
#define S2_DEVICE       0x00400000000004C1UL    /* block | MemAttr Device-nGnRnE | S2AP RW | AF | XN */
#define VTCR_VALUE      (0x80000000UL | 32 | 1 << 6 | 1 << 8 | 1 << 10 | 3 << 12)
#define HCR_VM          (1UL << 0)
#define HCR_RW          (1UL << 31)
#define SPSR_EL1H_MASKED 0x3C5UL

#define AUX_ENABLES     0x3F215004UL
#define AUX_MU_IO       0x3F215040UL
#define AUX_MU_LCR      0x3F21504CUL
#define AUX_MU_LSR      0x3F215054UL
#define AUX_MU_CNTL     0x3F215060UL

#define read_sysreg(r) ({ u64 _v; __asm__ volatile("mrs %0, " #r : "=r"(_v)); _v; })
#define write_sysreg(r, v) __asm__ volatile("msr " #r ", %0" : : "r"((u64)(v)))

extern const u8 guest_image[], guest_image_end[];
void enter_guest(void) __attribute__((noreturn));
void harness_main(void);
void harness_exception(u64 vector);

static u64 s2_l1[512] __attribute__((aligned(4096)));
static u64 s2_l2_low[512] __attribute__((aligned(4096)));
static u64 s2_l2_high[512] __attribute__((aligned(4096)));

static inline u32 mmio_read(u64 pa)
{
    u32 v;
    __asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(pa) : "memory");
    return v;
}

static inline void mmio_write(u64 pa, u32 v)
{
    __asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(pa) : "memory");
}

static void putc(char c)
{
    while (!(mmio_read(AUX_MU_LSR) & (1U << 5)))
        ;
    mmio_write(AUX_MU_IO, (u8)c);
}

static void puts(const char *s)
{
    for (; *s; s++) {
        if (*s == '\n')
            putc('\r');
        putc(*s);
    }
}

static void put_hex(u64 v)
{
    puts("0x");
    for (int shift = 60; shift >= 0; shift -= 4)
        putc("0123456789abcdef"[(v >> shift) & 0xF]);
}

void harness_exception(u64 vector)
{
    puts("harness: unexpected exception at EL2, vector ");
    put_hex(vector);
    puts(" ESR_EL2=");
    put_hex(read_sysreg(esr_el2));
    puts(" ELR_EL2=");
    put_hex(read_sysreg(elr_el2));
    puts(" FAR_EL2=");
    put_hex(read_sysreg(far_el2));
    puts(" HPFAR_EL2=");
    put_hex(read_sysreg(hpfar_el2));
    puts("\n");
}

void harness_main(void)
{
    u64 size = (u64)(guest_image_end - guest_image);
    volatile u64 *dst = (volatile u64 *)GUEST_PA;
    const u64 *src = (const u64 *)guest_image;

    mmio_write(AUX_ENABLES, mmio_read(AUX_ENABLES) | 1);
    mmio_write(AUX_MU_LCR, 3);
    mmio_write(AUX_MU_CNTL, 3);
    puts("harness: EL2, guest of ");
    put_hex(size);
    puts(" bytes at PA ");
    put_hex(GUEST_PA);
    puts(", entering it at IPA 0 in EL1h\n");

    for (u64 i = 0; i < (size + 7) / 8; i++)     /* guest.S aligns the image */
        dst[i] = src[i];
    for (u64 i = 0; i < GUEST_RAM / BLOCK; i++)
        s2_l2_low[i] = (GUEST_PA + i * BLOCK) | S2_NORMAL;
    for (u64 i = 0x3F000000UL / BLOCK; i < 512; i++)
        s2_l2_low[i] = (i * BLOCK) | S2_DEVICE;
    for (u64 i = 0; i < 0x01000000UL / BLOCK; i++)
        s2_l2_high[i] = (0x40000000UL + i * BLOCK) | S2_DEVICE;
    s2_l1[0] = (u64)s2_l2_low | S2_TABLE;
    s2_l1[1] = (u64)s2_l2_high | S2_TABLE;
    __asm__ volatile("dsb sy" : : : "memory");

    write_sysreg(vtcr_el2, VTCR_VALUE);
    write_sysreg(vttbr_el2, (u64)s2_l1 | 1UL << 48);
    write_sysreg(vmpidr_el2, 0x80000000UL);
    write_sysreg(vpidr_el2, read_sysreg(midr_el1));
    write_sysreg(cptr_el2, 0x33FFUL);
    write_sysreg(hstr_el2, 0);
    write_sysreg(cnthctl_el2, 3);
    write_sysreg(cntvoff_el2, 0);
    write_sysreg(sctlr_el1, 0x30D00800UL);
    write_sysreg(hcr_el2, HCR_VM | HCR_RW);
    write_sysreg(spsr_el2, SPSR_EL1H_MASKED);
    write_sysreg(elr_el2, 0);
    __asm__ volatile("isb\n\ttlbi vmalls12e1\n\tdsb sy\n\tic iallu\n\tdsb sy\n\tisb" : : : "memory");
    enter_guest();
}
