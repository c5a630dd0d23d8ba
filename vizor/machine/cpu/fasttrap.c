/*
 * vizor's native fast path for the exceptions a hypervisor takes most often
 * (part of the accelerator, with accel.c; loaded by accel.py and fasttrap.py).
 *
 * Unicorn reports a synchronous exception to a UC_HOOK_INTR callback with
 * QEMU's exception number and nothing else (DESIGN.md fact 3); vizor takes it
 * architecturally in Python (unicorn_exceptions.py, faults.py, entry.py), at
 * ~40 µs a trap.  This callback stands in front of that Python hook and takes
 * three kinds itself, exactly as the Python path would:
 *
 *  - SVC and HVC: the syndrome is the immediate of the instruction before PC;
 *  - a data abort from EL0/EL1 whose stage-2 fault Python has classified
 *    before, at the same PC, instruction word, EL and virtual address, under
 *    the same twelve translation registers, with every descriptor word of its
 *    walk still holding the value Python's walk read (fasttrap.py writes such
 *    a classification into ``aborts`` when it makes one): a hypervisor's
 *    trapped MMIO access.
 *
 * The entry itself mirrors ExceptionEntry.take_exception register for
 * register.  Each exception taken here is appended to ``ring``, which Python
 * drains into Core.exceptions and exception_counts (at the end of a slice,
 * and before the Python path records one of its own, so the order holds).
 * Everything else, and anything a Python check would act on (the illegal
 * return watch, a core about to be declared stuck, a full ring), goes to
 * Python, and so does every exception to EL3.  Python turns the path off
 * (``enabled`` = 0) while a listener needs every exception or the debugger
 * single-steps.  tests/test_fasttrap.py runs images
 * both ways and compares whole-machine hashes and the exception records.
 */
#include "accel.h"

#define VZ_RING 1024
#define VZ_WAYS 4                     /* a set per PC and word: a guest's same access under */
#define VZ_ABORTS (64 * VZ_WAYS)      /* several VMIDs or address spaces */
#define VZ_WALK_WORDS 24              /* a two-stage walk of 4 + 4 x 5 descriptors */
#define VZ_NTR 12                     /* faults._TR_NAMES */
#define VZ_TR_HCR 5
#define VZ_TR_VTTBR 7
/* HCR_EL2.VF, VI and VSE: pending virtual interrupts, which no walk reads
   (mmu.py) and a hypervisor flips often; left out of the key (fasttrap.py too) */
#define VZ_HCR_VIRQS (7ull << 6)
#define VZ_WARP_REGS 33               /* X0-X30, SP, PSTATE (NZCV with it) */
#define VZ_POLL_ASK 8
#define VZ_POLL_BACKOFF 4096

/* QEMU exception numbers (target/arm/cpu.h) */
enum { EXCP_SWI = 2, EXCP_DATA_ABORT = 4, EXCP_HVC = 11 };
enum { PROT_EXEC = 4 };
/* load/store address forms (insn.LoadStore.mode) */
enum { MODE_IMM = 0, MODE_POST = 1, MODE_REG = 2, MODE_LITERAL = 3 };

/* Unicorn register ids Python fills in (fasttrap.py: IDS, same order). */
enum {
    R_PC, R_PSTATE, R_SP, R_SP_EL0, R_SP_EL1, R_SP_EL2, R_SP_EL3,
    R_ELR1, R_ELR2, R_ELR3, R_ESR1, R_ESR2, R_ESR3, R_FAR1, R_FAR2, R_FAR3,
    R_VBAR1, R_VBAR2, R_VBAR3, R_X0, VZ_NIDS = R_X0 + 31
};

typedef void (*vz_intr)(void *uc, uint32_t intno, void *user_data);
typedef uint64_t (*vz_mmio_read)(void *uc, uint64_t offset, unsigned size, void *user_data);

/* One exception taken in C, for ExceptionRecord. */
typedef struct {
    uint64_t esr, elr, far, hpfar, time;
    int32_t from_el, to_el, has_far, has_hpfar, vmid;   /* vmid < 0: none */
    int32_t pad;
} vz_exc;

/* A data abort Python classified: the key, what validates it, the syndrome. */
typedef struct {
    uint64_t pc, va;
    int64_t imm;
    uint32_t word;
    int32_t valid, el, mode, rn, rm, extend, shift, nwords, has_hpfar;
    int32_t unused_tr, pad;           /* TTBR0 or TTBR1_EL1: the one this VA's walk never reads */
    uint64_t tr[VZ_NTR];
    uint64_t widx[VZ_WALK_WORDS], wval[VZ_WALK_WORDS];   /* RAM word index, value */
    uint64_t esr, hpfar;
} vz_abort;

typedef struct {
    vz_core *core;
    vz_intr python;                   /* Python's UC_HOOK_INTR callback */
    int32_t enabled;                  /* set by Python for each slice */
    int32_t nring;
    uint64_t taken, declined;
    uint64_t *counter;                /* Unicorn's instruction counter (Core._counter) */
    const uint64_t *ram;              /* guest RAM from PA 0, as 64-bit words */
    uint64_t ram_words;
    vz_reg_batch read_batch, write_batch;
    vz_vmem_read vmem_read;
    int32_t ids[VZ_NIDS];
    vz_cp tr_cp[VZ_NTR];              /* the translation registers, by encoding */
    vz_cp hpfar_cp, spsr_cp[4], vttbr_cp;
    /* Core._stuck_sig and _stuck_n (entry.py), kept here */
    uint64_t sig_elr, sig_esr, sig_vec;
    int32_t sig_set, stuck_n;
    /* the system timer's page (see vz_systimer_read) */
    uint64_t slice_start;             /* Core._slice_start of the running slice */
    vz_mmio_read timer_python;        /* the page's other registers: Python (mmio_access.py) */
    int32_t timer_to_python;          /* every read to Python (an abandoned load completed) */
    int32_t poll_n;                   /* CLO reads in a row from poll_pc, poll_len apart */
    uint64_t poll_pc, poll_at, poll_len;
    uint64_t timer_reads;             /* CLO/CHI reads answered here (cpu/quiet.py) */
    /* a loop that reads only the system timer, advanced within each microsecond (see warp) */
    uint64_t budget;                  /* the slice's instruction budget */
    uint64_t warp_pc, warp_len, warp_at, warped;
    uint32_t warp_word;
    int32_t warp_have;
    uint64_t warp_state[VZ_WARP_REGS];
    vz_exc ring[VZ_RING];
    vz_abort aborts[VZ_ABORTS];
} vz_fast;

/* The first entry of the set of VZ_WAYS entries that may hold (pc, word). */
unsigned vz_abort_slot(uint64_t pc, uint32_t word)
{
    uint64_t h = (pc >> 2) * 0x9E3779B97F4A7C15ull ^ (uint64_t)word * 0xC2B2AE3D27D4EB4Full;
    return (unsigned)((h ^ (h >> 29)) >> 58) * VZ_WAYS;   /* 6 bits: 64 sets */
}

static int read_ids(vz_fast *f, void *uc, const int *which, uint64_t *out, int n)
{
    int ids[8];
    void *ptrs[8];
    for (int i = 0; i < n; i++) {
        ids[i] = f->ids[which[i]];
        out[i] = 0;
        ptrs[i] = &out[i];
    }
    return f->read_batch(uc, ids, ptrs, n);
}

static int write_ids(vz_fast *f, void *uc, const int *which, uint64_t *vals, int n)
{
    int ids[8];
    void *ptrs[8];
    for (int i = 0; i < n; i++) {
        ids[i] = f->ids[which[i]];
        ptrs[i] = &vals[i];
    }
    return f->write_batch(uc, ids, ptrs, n);
}

static uint64_t xreg(vz_fast *f, void *uc, int n, uint64_t sp)
{
    if (n == 31)
        return sp;
    uint64_t v = 0;
    f->core->reg_read(uc, f->ids[R_X0 + n], &v);
    return v;
}

/* The VMID recorded for an exception from ``cur`` (Core.vmid); -1: none. */
static int vmid_of(vz_fast *f, void *uc, int cur, const uint64_t *vttbr)
{
    vz_core *c = f->core;
    if (cur >= 2 || !(c->hcr & 1) || !(c->scr & 1))
        return -1;
    if (vttbr)
        return (int)((*vttbr >> 48) & 0xff);
    f->vttbr_cp.val = 0;
    c->reg_read(uc, c->cp_reg_id, &f->vttbr_cp);
    return (int)((f->vttbr_cp.val >> 48) & 0xff);
}

/* Whether Python's _check_stuck would count this exception (then Python takes it). */
static int stuck_candidate(const vz_fast *f, uint64_t elr, uint64_t esr)
{
    return f->sig_set && f->sig_esr == esr && f->sig_vec <= elr && elr - f->sig_vec < 0x80;   /* no wrap at 2^64 */
}

/* ExceptionEntry.take_exception for a synchronous exception, register for register. */
static void enter(vz_fast *f, void *uc, int cur, int target, uint64_t elr, uint64_t pstate, uint64_t sp,
                  uint64_t esr, int has_far, uint64_t far, int has_hpfar, uint64_t hpfar, int vmid)
{
    vz_core *c = f->core;
    uint64_t got[2];
    int rd[2] = {R_VBAR1 + target - 1, R_SP_EL0 + target};
    read_ids(f, uc, rd, got, 2);
    uint64_t vector = got[0] + (target > cur ? 0x400 : (pstate & 1) ? 0x200 : 0);
    int bank = (pstate & 1) ? cur : 0;
    uint64_t new_sp = bank == target ? sp : got[1];
    uint64_t entry = (pstate & 0xF0000000u) | 0x3C0 | ((uint64_t)target << 2) | 1;
    int wr[5] = {R_ELR1 + target - 1, R_SP_EL0 + bank, R_PSTATE, R_ESR1 + target - 1, R_FAR1 + target - 1};
    uint64_t vals[5] = {elr, sp, entry, esr, far};
    write_ids(f, uc, wr, vals, has_far ? 5 : 4);
    if (has_hpfar) {
        f->hpfar_cp.val = hpfar;
        c->reg_write(uc, c->cp_reg_id, &f->hpfar_cp);
    }
    uint64_t spsr = pstate & 0xF03003DFu;
    f->spsr_cp[target].val = spsr;
    c->reg_write(uc, c->cp_reg_id, &f->spsr_cp[target]);   /* also refreshes QEMU's EL */
    c->spsr[target] = spsr;
    int jw[2] = {R_SP, R_PC};
    uint64_t jv[2] = {new_sp, vector};
    write_ids(f, uc, jw, jv, 2);
    vz_exc *r = &f->ring[f->nring++];
    r->esr = esr;
    r->elr = elr;
    r->far = far;
    r->hpfar = hpfar;
    r->time = *f->counter;
    r->from_el = cur;
    r->to_el = target;
    r->has_far = has_far;
    r->has_hpfar = has_hpfar;
    r->vmid = vmid;
    f->warp_pc = 0;                    /* a timer loop is armed only until the next exception */
    f->stuck_n = 0;
    f->sig_elr = elr;
    f->sig_esr = esr;
    f->sig_vec = vector;
    f->sig_set = 1;
}

/* SVC or HVC (PC is past the instruction). */
static int take_call(vz_fast *f, void *uc, uint32_t intno, uint64_t pc, uint64_t pstate, uint64_t sp)
{
    vz_core *c = f->core;
    int cur = (int)((pstate >> 2) & 3), target;
    uint32_t word = 0;
    if (f->vmem_read(uc, pc - 4, PROT_EXEC, &word, 4))
        return 0;
    uint64_t esr = (1u << 25) | ((word >> 5) & 0xffff);
    if (intno == EXCP_HVC) {
        target = cur == 3 ? 3 : 2;
        esr |= (uint64_t)0x16 << 26;
    } else {
        target = cur != 0 ? cur : ((c->hcr & (1ull << 27)) && (c->scr & 1)) ? 2 : 1;
        esr |= (uint64_t)0x15 << 26;
    }
    if (target == 3 || stuck_candidate(f, pc, esr))     /* EL3: the debugger sees world entries */
        return 0;
    enter(f, uc, cur, target, pc, pstate, sp, esr, 0, 0, 0, 0, vmid_of(f, uc, cur, 0));
    return 1;
}

/* The virtual address the load or store ``a`` describes accesses now. */
static uint64_t address_of(vz_fast *f, void *uc, const vz_abort *a, uint64_t pc, uint64_t sp)
{
    if (a->mode == MODE_LITERAL)
        return pc + (uint64_t)a->imm;
    uint64_t base = xreg(f, uc, a->rn, sp);
    if (a->mode == MODE_POST)
        return base;
    if (a->mode == MODE_REG) {
        uint64_t off = a->rm == 31 ? 0 : xreg(f, uc, a->rm, sp);
        if (a->extend == 2)
            off &= 0xffffffffu;
        else if (a->extend == 6)
            off = (uint64_t)(int64_t)(int32_t)(uint32_t)off;
        return base + (off << a->shift);
    }
    return base + (uint64_t)a->imm;
}

/* Whether entry ``a`` is this abort: same key, and every input of its walk
   unchanged.  The translation registers are read once (``*have_tr``). */
static int matches(vz_fast *f, void *uc, const vz_abort *a, uint64_t pc, uint32_t word, int cur,
                   uint64_t sp, int *have_tr)
{
    vz_core *c = f->core;
    if (!a->valid || a->pc != pc || a->word != word || a->el != cur)
        return 0;
    if (address_of(f, uc, a, pc, sp) != a->va)
        return 0;
    if (!*have_tr) {
        int ids[VZ_NTR];
        void *ptrs[VZ_NTR];
        for (int i = 0; i < VZ_NTR; i++) {
            ids[i] = c->cp_reg_id;
            f->tr_cp[i].val = 0;
            ptrs[i] = &f->tr_cp[i];
        }
        if (f->read_batch(uc, ids, ptrs, VZ_NTR))
            return 0;
        f->tr_cp[VZ_TR_HCR].val = c->hcr & ~VZ_HCR_VIRQS;   /* the architectural HCR (QEMU's lacks TWI) */
        *have_tr = 1;
    }
    for (int i = 0; i < VZ_NTR; i++)
        if (f->tr_cp[i].val != a->tr[i] && i != a->unused_tr)
            return 0;
    for (int i = 0; i < a->nwords; i++)
        if (a->widx[i] >= f->ram_words || f->ram[a->widx[i]] != a->wval[i])
            return 0;
    return 1;
}

/* A data abort from EL0/EL1 that Python classified as a stage-2 fault before. */
static int take_abort(vz_fast *f, void *uc, uint64_t pc, uint64_t pstate, uint64_t sp)
{
    int cur = (int)((pstate >> 2) & 3);
    uint32_t word = 0;
    if (cur >= 2 || f->vmem_read(uc, pc, PROT_EXEC, &word, 4))
        return 0;
    vz_abort *set = &f->aborts[vz_abort_slot(pc, word)], *a = 0;
    int have_tr = 0;
    for (int w = 0; w < VZ_WAYS && !a; w++)
        if (matches(f, uc, &set[w], pc, word, cur, sp, &have_tr))
            a = &set[w];
    if (!a)
        return 0;
    if (stuck_candidate(f, pc, a->esr))
        return 0;
    enter(f, uc, cur, 2, pc, pstate, sp, a->esr, 1, a->va, a->has_hpfar, a->hpfar,
          vmid_of(f, uc, cur, &a->tr[VZ_TR_VTTBR]));
    return 1;
}

void vz_hook_intr(void *uc, uint32_t intno, void *user_data)
{
    vz_fast *f = (vz_fast *)user_data;
    if (f->enabled && f->nring < VZ_RING && !f->core->eret_watch
        && (intno == EXCP_DATA_ABORT || intno == EXCP_HVC || intno == EXCP_SWI)) {
        uint64_t v[3];
        int rd[3] = {R_PC, R_PSTATE, R_SP};
        if (!read_ids(f, uc, rd, v, 3)) {
            int done = intno == EXCP_DATA_ABORT ? take_abort(f, uc, v[0], v[1], v[2])
                                                 : take_call(f, uc, intno, v[0], v[1], v[2]);
            if (done) {
                f->taken++;
                return;
            }
        }
    }
    f->declined++;
    f->python(uc, intno, 0);
}

/* A loop whose only input is the system timer, checked by Python one
   iteration at a time (quiet.py: no store, no other device access, every
   register back as it was), reads the same CLO and CHI in every iteration
   within one microsecond of virtual time, so there its iterations are all
   the same: at a CLO read from its PC that finds every register as at the
   previous one, one iteration earlier, the iterations whose reads all fall
   before the next microsecond are counted as executed (Unicorn's counter
   advanced) instead of run.  ``*n`` is the counter, updated. */
static void warp(vz_fast *f, void *uc, uint64_t pc, uint64_t *n)
{
    if (pc != f->warp_pc)
        return;
    uint64_t st[VZ_WARP_REGS];
    int ids[VZ_WARP_REGS];
    void *ptrs[VZ_WARP_REGS];
    for (int i = 0; i < VZ_WARP_REGS; i++) {
        ids[i] = f->ids[i < 31 ? R_X0 + i : i == 31 ? R_SP : R_PSTATE];
        st[i] = 0;
        ptrs[i] = &st[i];
    }
    if (f->read_batch(uc, ids, ptrs, VZ_WARP_REGS))
        return;
    int same = f->warp_have && *n - f->warp_at == f->warp_len;
    for (int i = 0; same && i < VZ_WARP_REGS; i++)
        same = st[i] == f->warp_state[i];
    for (int i = 0; i < VZ_WARP_REGS; i++)
        f->warp_state[i] = st[i];
    f->warp_have = 1;
    uint64_t len = f->warp_len, cyc = f->slice_start + *n;
    uint64_t k = ((cyc / 1200 + 1) * 1200 - cyc) / len;    /* this microsecond's iterations */
    k = k ? k - 1 : 0;                                      /* ... each wholly inside it */
    uint64_t room = f->budget > *n + len ? (f->budget - *n - len) / len : 0;
    if (k > room)
        k = room;
    uint32_t word = 0;
    if (same && k && !f->vmem_read(uc, pc, PROT_EXEC, &word, 4) && word == f->warp_word) {
        *n += k * len;
        *f->counter = *n;
        f->warped += k * len;
    }
    f->warp_at = *n;
}

/* A read of the BCM2835 system timer's page (0x3F003000): its free-running
   counter, CLO and CHI, answered here from virtual time as SystemTimer.read
   answers it (micros_at(cycles), cycles = the slice's start + the instructions
   run in it, Core._time_in_round), so that a kernel polling it to wait costs
   no Python; every other register goes to Python. */
uint64_t vz_systimer_read(void *uc, uint64_t offset, unsigned size, void *user_data)
{
    vz_fast *f = (vz_fast *)user_data;
    if (size != 4 || (offset != 4 && offset != 8) || f->timer_to_python)
        return f->timer_python(uc, offset, size, 0);
    uint64_t n = *f->counter;
    f->timer_reads++;
    if (offset == 4 && f->enabled) {
        /* A delay loop polling CLO: after VZ_POLL_ASK reads from one PC at one
           distance, Python sees one (it may skip the loop, idle.py), then not
           again for VZ_POLL_BACKOFF reads. */
        uint64_t pc = 0;
        f->core->reg_read(uc, f->ids[R_PC], &pc);
        uint64_t len = n - f->poll_at;
        if (pc == f->poll_pc && len == f->poll_len)
            f->poll_n++;
        else
            f->poll_n = 0, f->poll_len = len;
        f->poll_pc = pc;
        f->poll_at = n;
        if (f->poll_n == VZ_POLL_ASK && len <= 32) {
            f->poll_n = -VZ_POLL_BACKOFF;
            return f->timer_python(uc, offset, size, 0);
        }
        if (f->warp_pc)
            warp(f, uc, pc, &n);
    }
    uint64_t micros = (f->slice_start + n) / 1200;   /* micros_at: CPU_HZ / 1 MHz */
    return offset == 4 ? (micros & 0xffffffffu) : ((micros >> 32) & 0xffffffffu);
}

/* For tests: the layout Python must agree with. */
size_t vz_fast_size(void)
{
    return sizeof(vz_fast);
}
