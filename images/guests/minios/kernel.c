/* The mini OS kernel: banner, timer interrupt, system calls, faults.
 *
 * Timer: BCM2835 system timer compare 1 (IRQ 1 of the BCM2835 interrupt
 * controller, "pending 1" bit 1), re-armed every TICK_US microseconds.
 */
#include "minios.h"

#define STIMER_BASE     0x3F003000UL
#define STIMER_CS       (STIMER_BASE + 0x00)
#define STIMER_CLO      (STIMER_BASE + 0x04)
#define STIMER_C1       (STIMER_BASE + 0x10)
#define IC_BASE         0x3F00B200UL
#define IC_PENDING1     (IC_BASE + 0x04)
#define IC_ENABLE1      (IC_BASE + 0x10)
#define IC_DISABLE1     (IC_BASE + 0x1C)
#define IRQ_TIMER1      (1U << 1)

#define EC_SVC64        0x15
#define MAX_WRITE       256

#define LINK_VALUE(sym) ({ u64 _v; __asm__("ldr %0, =" #sym : "=r"(_v)); _v; })

static u32 next_compare;

/* Next compare TICK_US after the previous one.  A compare value already
 * passed would match only after 2^32 us: if the counter got there first
 * (ticks missed, or a slow write), start again from the counter. */
static void timer_arm(void)
{
    next_compare += TICK_US;
    mmio_write(STIMER_C1, next_compare);
    while ((int)(next_compare - mmio_read(STIMER_CLO)) <= 0) {
        next_compare = mmio_read(STIMER_CLO) + TICK_US;
        mmio_write(STIMER_C1, next_compare);
    }
}

static void timer_init(void)
{
    next_compare = mmio_read(STIMER_CLO);
    mmio_write(STIMER_CS, IRQ_TIMER1);          /* clear a stale match */
    timer_arm();
    mmio_write(IC_ENABLE1, IRQ_TIMER1);
}

static void timer_ack(void)
{
    mmio_write(STIMER_CS, IRQ_TIMER1);
    timer_arm();
}

void irq_handler(struct frame *f)
{
    if (mmio_read(IC_PENDING1) & IRQ_TIMER1) {
        timer_ack();
        sched_tick();
    }
    if (need_resched) {
        need_resched = 0;
        schedule();
    }
}

void svc_handler(struct frame *f)
{
    u64 nr = f->x[8], a0 = f->x[0], a1 = f->x[1];
    switch (nr) {
    case SYS_WRITE:                             /* one call = one line, written atomically */
        if (a1 > MAX_WRITE || !mm_user_range_ok(a0, a1)) {
            f->x[0] = (u64)-1;
            break;
        }
        uart_write((const char *)a0, a1);
        f->x[0] = a1;
        break;
    case SYS_GETPID:
        f->x[0] = current->pid;
        break;
    case SYS_YIELD:
        f->x[0] = 0;
        schedule();
        break;
    case SYS_SLEEP:
        f->x[0] = 0;
        task_sleep(a0);
        break;
    case SYS_EXIT:
        task_exit((int)a0);
        break;
    default:
        f->x[0] = (u64)-1;
    }
}

void el0_sync_handler(struct frame *f)
{
    u64 esr = read_sysreg(esr_el1);
    if (esr >> 26 == EC_SVC64) {
        svc_handler(f);
        return;
    }
    uart_puts("[kernel] pid ");
    put_dec(current->pid);
    uart_puts(" fault ESR_EL1=");
    put_hex(esr);
    uart_puts(" ELR_EL1=");
    put_hex(f->elr);
    uart_puts(" FAR_EL1=");
    put_hex(read_sysreg(far_el1));
    uart_puts("\n");
    task_exit(-1);
}

void kernel_fault(struct frame *f, u64 vector)
{
    uart_puts("[kernel] PANIC: exception at vector ");
    put_hex(vector);
    uart_puts(" ESR_EL1=");
    put_hex(read_sysreg(esr_el1));
    uart_puts(" ELR_EL1=");
    put_hex(f->elr);
    uart_puts(" FAR_EL1=");
    put_hex(read_sysreg(far_el1));
    uart_puts("\n");
    mmio_write(IC_DISABLE1, IRQ_TIMER1);
    for (;;)
        __asm__ volatile("wfi");
}

static void banner_reg(const char *name, u64 value)
{
    uart_puts(" ");
    uart_puts(name);
    uart_puts("=");
    put_hex(value);
}

static void banner(void)
{
    uart_puts("minios: mini OS guest, kernel at 0xffff000000000000 | IPA through TTBR1_EL1\n");
    uart_puts("minios:");
    banner_reg("MPIDR_EL1", read_sysreg(mpidr_el1));
    banner_reg("MIDR_EL1", read_sysreg(midr_el1));
    uart_puts("\nminios:");
    banner_reg("ID_AA64PFR0_EL1", read_sysreg(id_aa64pfr0_el1));
    banner_reg("ID_AA64MMFR0_EL1", read_sysreg(id_aa64mmfr0_el1));
    uart_puts("\nminios: CurrentEL=");
    put_dec(read_sysreg(CurrentEL) >> 2 & 3);
    banner_reg("TTBR1_EL1", read_sysreg(ttbr1_el1));
    banner_reg("TCR_EL1", read_sysreg(tcr_el1));
    uart_puts("\n");
}

struct program {
    const char *name;
    u64 entry;
    u64 arg;
    int daemon;
};

void kernel_main(void)
{
    const struct program programs[] = {
        {"ticker", LINK_VALUE(user_ticker), 2, 0},
        {"worker", LINK_VALUE(user_worker), 300000, 0},
        {"yielder", LINK_VALUE(user_yielder), 6, 0},
        {"background", LINK_VALUE(user_background), 3, 1},
    };
    uart_init();
    banner();
    sched_init();
    for (u64 i = 0; i < sizeof programs / sizeof programs[0]; i++) {
        int pid = spawn(programs[i].entry, programs[i].arg, programs[i].daemon);
        uart_puts("[kernel] spawned pid ");
        put_dec(pid);
        uart_puts(" ");
        uart_puts(programs[i].name);
        uart_puts("\n");
    }
    uart_puts("minios: timer C1 every ");
    put_dec(TICK_US);
    uart_puts(" us, round-robin scheduling\n");
    timer_init();
    for (;;) {                                  /* the idle task */
        if (runnable_tasks()) {
            schedule();
            continue;
        }
        /* Wait with IRQs unmasked: the IRQ is taken at 0x280 right after
         * the WFI (or before it, if already pending; the handler then
         * schedules whatever it woke).  A short unmask window after a masked
         * WFI would be the tighter idiom, but vizor delivers interrupts only
         * between execution slices and would mostly miss such a window. */
        __asm__ volatile("msr daifclr, #2\n\twfi\n\tmsr daifset, #2" : : : "memory");
    }
}
