/*
 * echo guest for the vizor demo hypervisor (see guest_contract.md).
 *
 * Prints a banner with the MPIDR_EL1 its vCPU reads (VMPIDR_EL2) and two
 * ID registers the hypervisor serves per VM (HCR_EL2.TID3), then echoes
 * every byte typed on its mini UART, from the RX interrupt.  MMIO is done
 * only with single 32-bit LDR/STR (so each access traps with ISV=1).
 */
#include <stdint.h>

#define AUX_BASE        0x3F215000UL
#define AUX_ENABLES     (AUX_BASE + 0x04)
#define AUX_MU_IO       (AUX_BASE + 0x40)
#define AUX_MU_IER      (AUX_BASE + 0x44)
#define AUX_MU_IIR      (AUX_BASE + 0x48)
#define AUX_MU_LCR      (AUX_BASE + 0x4C)
#define AUX_MU_LSR      (AUX_BASE + 0x54)
#define AUX_MU_CNTL     (AUX_BASE + 0x60)
#define AUX_MU_BAUD     (AUX_BASE + 0x68)
#define LSR_DATA_READY  (1u << 0)
#define LSR_TX_EMPTY    (1u << 5)
#define IER_RX          (1u << 0)

#define IC_ENABLE_1     0x3F00B210UL
#define IRQ_AUX         29

static inline uint32_t mmio_read(uintptr_t a)
{
    uint32_t v;
    __asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(a) : "memory");
    return v;
}

static inline void mmio_write(uintptr_t a, uint32_t v)
{
    __asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(a) : "memory");
}

#define READ_SYSREG(name) ({ uint64_t _v; __asm__ volatile("mrs %0, " #name : "=r"(_v)); _v; })

static void putc_mu(char c)
{
    while (!(mmio_read(AUX_MU_LSR) & LSR_TX_EMPTY))
        ;
    mmio_write(AUX_MU_IO, (uint8_t)c);
}

static void puts_mu(const char *s)
{
    for (; *s; s++) {
        if (*s == '\n')
            putc_mu('\r');
        putc_mu(*s);
    }
}

static void puthex(uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--)
        putc_mu("0123456789abcdef"[(v >> (4 * i)) & 0xf]);
}

static unsigned long echoed;

void irq_handler(void)
{
    while (mmio_read(AUX_MU_LSR) & LSR_DATA_READY) {
        char c = (char)mmio_read(AUX_MU_IO);   /* reading IO acknowledges RX */
        if (c == '\r' || c == '\n')
            puts_mu("\n");
        else
            putc_mu(c);
        echoed++;
    }
}

void unexpected(uint64_t vector)
{
    puts_mu("echo: unexpected exception, vector ");
    puthex(vector, 3);
    puts_mu(" ESR_EL1 ");
    puthex(READ_SYSREG(esr_el1), 8);
    puts_mu(" ELR_EL1 ");
    puthex(READ_SYSREG(elr_el1), 8);
    puts_mu("\n");
    for (;;)
        __asm__ volatile("wfi");
}

int main(void)
{
    mmio_write(AUX_ENABLES, 1);                 /* mini UART on */
    mmio_write(AUX_MU_CNTL, 0);
    mmio_write(AUX_MU_IER, 0);
    mmio_write(AUX_MU_LCR, 3);                  /* 8 bits */
    mmio_write(AUX_MU_BAUD, 270);               /* 115200 at 250 MHz */
    mmio_write(AUX_MU_CNTL, 3);                 /* RX and TX on */

    puts_mu("echo: MPIDR_EL1 ");
    puthex(READ_SYSREG(mpidr_el1), 8);
    puts_mu(" ID_AA64PFR0_EL1 ");
    puthex(READ_SYSREG(id_aa64pfr0_el1), 8);
    puts_mu(" ID_AA64AFR0_EL1 ");
    puthex(READ_SYSREG(id_aa64afr0_el1), 8);
    puts_mu("\necho: type, I echo\n");

    mmio_write(AUX_MU_IER, IER_RX);
    mmio_write(IC_ENABLE_1, 1u << IRQ_AUX);
    __asm__ volatile("msr daifclr, #2" ::: "memory");
    for (;;)
        __asm__ volatile("wfi");
}
