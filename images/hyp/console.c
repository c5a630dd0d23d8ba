/*
 * The PL011 console and its multiplexer.
 *
 * Guest output (each VM's virtual mini UART) goes into that VM's ring buffer
 * and, for the selected VM only, to the PL011.  The hypervisor's own lines
 * start with "hyp: " on a fresh line.  Input (PL011 RX interrupt, core 0):
 *   Ctrl-A l      list the VMs (VMID, name, state, core)
 *   Ctrl-A 1..9   show VM n's console (its unseen output is replayed)
 *   Ctrl-A h, ?   help
 *   Ctrl-A Ctrl-A send one Ctrl-A to the selected VM
 * Every other byte goes to the selected VM's mini UART.
 */
#include "hyp.h"

#define PL011_DR    (PL011_BASE + 0x00)
#define PL011_FR    (PL011_BASE + 0x18)
#define PL011_IBRD  (PL011_BASE + 0x24)
#define PL011_FBRD  (PL011_BASE + 0x28)
#define PL011_LCRH  (PL011_BASE + 0x2C)
#define PL011_CR    (PL011_BASE + 0x30)
#define PL011_IMSC  (PL011_BASE + 0x38)
#define PL011_ICR   (PL011_BASE + 0x44)
#define FR_RXFE     (1u << 4)
#define FR_TXFF     (1u << 5)
#define INT_RX      (1u << 4)
#define INT_RT      (1u << 6)
#define CTRL_A      0x01

int con_selected;               /* index into vms[] */
static int at_line_start = 1;
static int escape;

void con_init(void)
{
    mmio_write(PL011_CR, 0);
    mmio_write(PL011_ICR, 0x7ff);
    mmio_write(PL011_IBRD, 26);         /* 115200 baud at 48 MHz */
    mmio_write(PL011_FBRD, 3);
    mmio_write(PL011_LCRH, 0x60);       /* 8N1, no FIFOs: an RX interrupt per byte */
    mmio_write(PL011_IMSC, INT_RX | INT_RT);
    mmio_write(PL011_CR, 0x301);        /* UARTEN, TXE, RXE */
    mmio_write(IC_BASE + 0x14, 1u << (IRQ_PL011 - 32));    /* enable 2: GPU IRQ 57 */
}

static void raw_putc(char c)
{
    while (mmio_read(PL011_FR) & FR_TXFF)
        ;
    mmio_write(PL011_DR, (u8)c);
    at_line_start = c == '\n';
}

void con_putc(char c)
{
    if (c == '\n')
        raw_putc('\r');
    raw_putc(c);
}

void con_puts(const char *s)
{
    while (*s)
        con_putc(*s++);
}

void con_hex(u64 v, int digits)
{
    for (int i = digits - 1; i >= 0; i--)
        con_putc("0123456789abcdef"[(v >> (4 * i)) & 0xf]);
}

void con_dec(u64 v)
{
    char buf[21];
    int n = 0;
    do {
        buf[n++] = '0' + v % 10;
        v /= 10;
    } while (v);
    while (n)
        con_putc(buf[--n]);
}

void con_hyp_line(void)
{
    if (!at_line_start)
        con_putc('\n');
    con_puts("hyp: ");
}

void con_guest_out(struct vm *vm, u8 c)
{
    vm->out[vm->out_n % CONSOLE_BUF] = c;
    vm->out_n++;
    if (vm == &vms[con_selected]) {
        raw_putc(c);
        vm->out_shown = vm->out_n;
    }
}

static void pad(const char *s, int width)
{
    int n = 0;
    for (; s[n]; n++)
        con_putc(s[n]);
    for (; n < width; n++)
        con_putc(' ');
}

static void list_vms(void)
{
    con_hyp_line();
    con_puts("VMID NAME     STATE    CORE\n");
    for (int i = 0; i < nvms; i++) {
        struct vm *vm = &vms[i];
        con_hyp_line();
        con_putc(' ');
        con_dec(vm->vmid);
        con_puts(vm->vmid < 10 ? "   " : "  ");
        pad(vm->name, 9);
        pad(vcpu_state_name(vm->vcpu.state), 9);
        if (vm->vcpu.state == V_RUNNING)
            con_dec(vm->vcpu.core);
        else
            con_putc('-');
        con_puts(i == con_selected ? "    <- console\n" : "\n");
    }
}

static void help(void)
{
    con_hyp_line();
    con_puts("Ctrl-A l: list VMs, Ctrl-A 1-");
    con_dec(nvms);
    con_puts(": show that VM's console, Ctrl-A Ctrl-A: send Ctrl-A\n");
}

static void select_vm(int i)
{
    struct vm *vm = &vms[i];
    con_selected = i;
    con_hyp_line();
    con_puts("console: VM ");
    con_dec(vm->vmid);
    con_puts(" (");
    con_puts(vm->name);
    con_puts(")\n");
    u64 from = vm->out_shown;
    if (vm->out_n - from > CONSOLE_BUF)
        from = vm->out_n - CONSOLE_BUF;
    for (; from < vm->out_n; from++)
        raw_putc(vm->out[from % CONSOLE_BUF]);
    vm->out_shown = vm->out_n;
}

static void input(u8 c)
{
    if (escape) {
        escape = 0;
        if (c == 'l')
            list_vms();
        else if (c == 'h' || c == '?')
            help();
        else if (c >= '1' && c < '1' + nvms)
            select_vm(c - '1');
        else if (c == CTRL_A)
            vdev_uart_input(&vms[con_selected], c);
        else {
            con_hyp_line();
            con_puts("unknown command (Ctrl-A h for help)\n");
        }
    } else if (c == CTRL_A) {
        escape = 1;
    } else {
        vdev_uart_input(&vms[con_selected], c);
    }
}

void con_rx_irq(void)
{
    /* clear first: a byte arriving while we drain raises the line again */
    mmio_write(PL011_ICR, INT_RX | INT_RT);
    while (!(mmio_read(PL011_FR) & FR_RXFE))
        input((u8)mmio_read(PL011_DR));
}
