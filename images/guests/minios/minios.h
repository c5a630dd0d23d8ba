/* The mini OS guest: shared definitions.
 *
 * Address map (see README.md in this directory):
 *   kernel VA = KVA | IPA, through TTBR1_EL1 (T1SZ = 16, 4 KiB granule);
 *   EL0 processes: USER_TEXT.. (shared program text, read-only) and a private
 *   stack below USER_STACK_TOP, through per-process TTBR0_EL1 tables tagged
 *   with ASID = pid.
 */
#ifndef MINIOS_H
#define MINIOS_H

#define KVA             0xffff000000000000UL
#define MMIO_IPA        0x3F000000UL
#define MMIO_VA         (KVA | MMIO_IPA)

#define USER_TEXT       0x400000UL
#define USER_STACK_TOP  0x600000UL
#define USER_STACK_PAGES 4
#define USER_LIMIT      USER_STACK_TOP

#define PAGE_SIZE       4096UL
#define KSTACK_SIZE     8192UL
#define MAX_TASKS       5           /* task 0 = idle (kernel), 1.. = processes */

#define TICK_US         1000U       /* system timer C1 period */

/* System calls: number in x8, arguments in x0..x2, result in x0. */
#define SYS_WRITE       0
#define SYS_GETPID      1
#define SYS_YIELD       2
#define SYS_SLEEP       3
#define SYS_EXIT        4

#ifndef __ASSEMBLER__
typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned char u8;

/* Exception frame built by vectors.S (x0..x30, SP_EL0, ELR_EL1, SPSR_EL1). */
struct frame {
    u64 x[31];
    u64 sp_el0;
    u64 elr;
    u64 spsr;
};

/* Callee-saved state kept by cpu_switch_to (vectors.S). */
struct cpu_context {
    u64 x19, x20, x21, x22, x23, x24, x25, x26, x27, x28, fp, sp, pc;
};

enum task_state { TASK_UNUSED, TASK_RUNNABLE, TASK_SLEEPING, TASK_EXITED };

struct task {
    struct cpu_context ctx;     /* first: cpu_switch_to relies on it */
    int pid;
    enum task_state state;
    int daemon;                 /* not waited for by "all foreground processes exited" */
    u64 wake_tick;
    u64 ttbr0;                  /* IPA of the L0 table | ASID << 48; 0 for the idle task */
    u64 *kstack_top;
};

/* MMIO: single 32-bit LDR/STR without writeback (guest contract). */
static inline u32 mmio_read(u64 ipa)
{
    u32 v;
    __asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(KVA | ipa) : "memory");
    return v;
}

static inline void mmio_write(u64 ipa, u32 v)
{
    __asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(KVA | ipa) : "memory");
}

#define read_sysreg(r) ({ u64 _v; __asm__ volatile("mrs %0, " #r : "=r"(_v)); _v; })
#define write_sysreg(r, v) __asm__ volatile("msr " #r ", %0" : : "r"((u64)(v)))
#define isb() __asm__ volatile("isb" : : : "memory")

static inline u64 virt_to_phys(const void *p) { return (u64)p - KVA; }

/* uart.c */
void uart_init(void);
void uart_putc(char c);
void uart_puts(const char *s);
void uart_write(const char *s, u64 n);
void put_hex(u64 v);
void put_dec(u64 v);

/* mm.c */
u64 mm_user_tables(int slot, int pid);
int mm_user_range_ok(u64 va, u64 len);

/* sched.c */
extern struct task tasks[MAX_TASKS];
extern struct task *current;
extern u64 ticks;
extern int need_resched;
void sched_init(void);
int spawn(u64 entry, u64 arg, int daemon);
void schedule(void);
void sched_tick(void);
void task_sleep(u64 nticks);
void task_exit(int code);
int runnable_tasks(void);

/* vectors.S */
extern char vectors[];
void cpu_switch_to(struct task *prev, struct task *next);
void ret_to_user(void);

/* kernel.c */
void el0_sync_handler(struct frame *f);
void svc_handler(struct frame *f);
void irq_handler(struct frame *f);
void kernel_fault(struct frame *f, u64 vector);
void kernel_main(void);
#endif
#endif
