/*
 * vCPU scheduling across the four cores: one shared FIFO run queue under
 * hyp_lock, round-robin with a CNTHP time slice (every tick preempts the
 * running vCPU when another one is ready), WFI blocks a vCPU until its
 * virtual IRQ line rises, and a core with nothing to run sleeps in WFI at
 * EL2 until a mailbox IPI (a vCPU became ready) or its tick.
 */
#include "hyp.h"

struct pcpu {
    struct vcpu *cur;
    u64 hcr;                        /* last value written to HCR_EL2 */
};

static struct pcpu pcpus[NCORES];
static struct vcpu *rq_head, *rq_tail;
static u32 idle_mask;               /* cores waiting in the idle loop */

/* The core number from the stack pointer (each core has its own EL2 stack,
 * start.S): cheaper than MRS MPIDR_EL1, which vizor serves from a hook. */
int this_core(void)
{
    extern char __stacks_start[];
    u64 sp;
    __asm__("mov %0, sp" : "=r"(sp));
    return (sp - (u64)__stacks_start) / STACK_SIZE;
}

const char *vcpu_state_name(int s)
{
    static const char *const names[] = { "ready", "running", "waiting", "stopped" };
    return names[s];
}

static void send_ipi(int core)
{
    mmio_write(LOCAL_MBOX_SET(core, 0), 1);
}

void sched_init_core(int core)
{
    u64 frq = READ_SYSREG(cntfrq_el0);
    mmio_write(LOCAL_MBOX_INT_CTL(core), 1);        /* mailbox 0 -> IRQ */
    mmio_write(LOCAL_TIMER_INT_CTL(core), 1u << 2); /* nCNTHPIRQ -> IRQ */
    WRITE_SYSREG(cnthp_tval_el2, frq / TICK_HZ);
    WRITE_SYSREG(cnthp_ctl_el2, 1);
    (void)core;
}

void sched_kick_idle(void)
{
    int me = this_core();
    for (int c = 0; c < NCORES; c++) {
        if (c != me && (idle_mask & (1u << c))) {
            send_ipi(c);
            return;
        }
    }
}

static void enqueue(struct vcpu *v)
{
    v->state = V_READY;
    v->next = 0;
    if (rq_tail)
        rq_tail->next = v;
    else
        rq_head = v;
    rq_tail = v;
}

static struct vcpu *dequeue(void)
{
    struct vcpu *v = rq_head;
    if (v) {
        rq_head = v->next;
        if (!rq_head)
            rq_tail = 0;
    }
    return v;
}

void sched_make_ready(struct vcpu *v)
{
    enqueue(v);
    sched_kick_idle();
}

/* The VM's virtual line may have changed: wake its vCPU or tell its core. */
void sched_vm_changed(struct vm *vm)
{
    struct vcpu *v = &vm->vcpu;
    if (v->state == V_WAITING && vdev_line(vm))
        sched_make_ready(v);
    else if (v->state == V_RUNNING && v->core != this_core())
        send_ipi(v->core);
}

#define SAVE_EL1(r) v->el1[R_##r] = READ_SYSREG(r);
#define LOAD_EL1(r) WRITE_SYSREG(r, v->el1[R_##r]);

static void vcpu_save(struct vcpu *v, struct frame *f)
{
    v->ctx = *f;
    EL1_REGS(SAVE_EL1)
}

static void vcpu_load(struct vcpu *v, struct frame *f)
{
    *f = v->ctx;
    EL1_REGS(LOAD_EL1)
    WRITE_SYSREG(vttbr_el2, v->vm->vttbr);
    WRITE_SYSREG(vmpidr_el2, v->vmpidr);
    __asm__ volatile("isb");
}

/*
 * Leave the hypervisor for a guest: keep the current vCPU unless it blocked,
 * stopped or (preempt) another vCPU is ready; otherwise switch, idling until
 * there is something to run.  Called with hyp_lock held; releases it.
 */
void sched_exit(struct frame *f, int preempt)
{
    int core = this_core();
    struct pcpu *pc = &pcpus[core];
    struct vcpu *v = pc->cur;

    if (v && v->state == V_RUNNING && !(preempt && rq_head))
        goto run;
    if (v) {
        vcpu_save(v, f);
        v->core = -1;
        if (v->state == V_RUNNING)
            enqueue(v);
        pc->cur = 0;
    }
    while (!(v = dequeue())) {
        if (pc->hcr & HCR_VI) {         /* no vCPU here: no virtual IRQ either */
            pc->hcr &= ~HCR_VI;
            WRITE_SYSREG(hcr_el2, pc->hcr);
            __asm__ volatile("isb");
        }
        idle_mask |= 1u << core;
        hyp_unlock();
        /* IRQs stay masked: a pending IRQ ends the WFI all the same, and the
         * sources are then served here rather than through the vector. */
        __asm__ volatile("dsb sy\n wfi" ::: "memory");
        hyp_lock();
        idle_mask &= ~(1u << core);
        irq_dispatch();
    }
    v->state = V_RUNNING;
    v->core = core;
    pc->cur = v;
    vcpu_load(v, f);
run:;
    u64 hcr = HCR_GUEST | (vdev_line(v->vm) ? HCR_VI : 0);
    if (hcr != pc->hcr) {
        WRITE_SYSREG(hcr_el2, hcr);
        __asm__ volatile("isb");
        pc->hcr = hcr;
    }
    hyp_unlock();
}

struct vcpu *sched_current(void)
{
    return pcpus[this_core()].cur;
}
