/* Tasks and the preemptive round-robin scheduler.
 *
 * Task 0 is the idle task (kernel_main's loop, no address space of its own);
 * tasks 1.. are EL0 processes with pid = slot.  The system timer tick
 * (sched_tick, from the IRQ handler) wakes sleepers and asks for a
 * reschedule; schedule() runs at the end of the IRQ handler or from a system
 * call, always with IRQs masked, and picks the next runnable process after
 * the current one (round robin), or the idle task when none is runnable.
 */
#include "minios.h"

struct task tasks[MAX_TASKS];
struct task *current = &tasks[0];
u64 ticks;
int need_resched;

static u8 kstacks[MAX_TASKS][KSTACK_SIZE] __attribute__((aligned(16)));
static int foreground_left;

void sched_init(void)
{
    tasks[0].pid = 0;
    tasks[0].state = TASK_RUNNABLE;
    current = &tasks[0];
}

/* Create an EL0 process running entry(arg) with its own tables; returns its pid. */
int spawn(u64 entry, u64 arg, int daemon)
{
    int slot;
    for (slot = 1; slot < MAX_TASKS; slot++)
        if (tasks[slot].state == TASK_UNUSED)
            break;
    if (slot == MAX_TASKS)
        return -1;
    struct task *t = &tasks[slot];
    t->pid = slot;
    t->daemon = daemon;
    t->ttbr0 = mm_user_tables(slot, slot);
    t->kstack_top = (u64 *)(kstacks[slot] + KSTACK_SIZE);
    struct frame *f = (struct frame *)((u8 *)t->kstack_top - sizeof(struct frame));
    for (int i = 0; i < 31; i++)
        f->x[i] = 0;
    f->x[0] = arg;
    f->sp_el0 = USER_STACK_TOP;
    f->elr = entry;
    f->spsr = 0;                        /* EL0t, DAIF clear */
    t->ctx.sp = (u64)f;
    t->ctx.pc = (u64)ret_to_user;
    t->state = TASK_RUNNABLE;
    if (!daemon)
        foreground_left++;
    return t->pid;
}

static struct task *pick_next(void)
{
    int start = current - tasks;
    for (int i = 1; i < MAX_TASKS; i++) {
        int slot = (start + i) % MAX_TASKS;
        if (slot != 0 && tasks[slot].state == TASK_RUNNABLE)
            return &tasks[slot];
    }
    if (current != &tasks[0] && current->state == TASK_RUNNABLE)
        return current;
    return &tasks[0];
}

void schedule(void)
{
    struct task *prev = current, *next = pick_next();
    if (next == prev)
        return;
    if (next->ttbr0) {
        write_sysreg(ttbr0_el1, next->ttbr0);
        isb();
    }
    current = next;
    cpu_switch_to(prev, next);
}

int runnable_tasks(void)
{
    int n = 0;
    for (int i = 1; i < MAX_TASKS; i++)
        n += tasks[i].state == TASK_RUNNABLE;
    return n;
}

void sched_tick(void)
{
    ticks++;
    for (int i = 1; i < MAX_TASKS; i++)
        if (tasks[i].state == TASK_SLEEPING && tasks[i].wake_tick <= ticks) {
            tasks[i].state = TASK_RUNNABLE;
            need_resched = 1;
        }
    if (current != &tasks[0])
        need_resched = 1;                /* time slice over */
}

void task_sleep(u64 nticks)
{
    current->wake_tick = ticks + (nticks ? nticks : 1);
    current->state = TASK_SLEEPING;
    schedule();
}

void task_exit(int code)
{
    current->state = TASK_EXITED;
    uart_puts("[kernel] pid ");
    put_dec(current->pid);
    uart_puts(" exited with status ");
    if (code < 0) {
        uart_putc('-');
        code = -code;
    }
    put_dec((u64)code);
    uart_puts("\n");
    if (!current->daemon && --foreground_left == 0)
        uart_puts("[kernel] all foreground processes exited\n");
    schedule();
    for (;;)
        ;                               /* not reached: an exited task is never picked */
}
