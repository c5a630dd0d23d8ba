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
#include "fasttrap.h"

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

/* For tests: the layout Python must agree with. */
size_t vz_fast_size(void)
{
    return sizeof(vz_fast);
}
