/*
 * vizor's native accelerator for the system-register instruction hooks.
 *
 * Unicorn calls a UC_HOOK_INSN callback before every MRS, MSR and SYS the
 * guest executes (DESIGN.md fact 6).  Most of those accesses need nothing
 * from vizor: QEMU inside Unicorn executes them itself.  Only a few need the
 * Python handlers of sysreg_hooks.py: the generic timers and the PMU (served
 * from virtual time), MPIDR, ISR_EL1, HCR_EL2/SCR_EL3/SPSR_ELx (vizor keeps copies),
 * TLB and instruction-cache maintenance (broadcast to the other cores),
 * watched register writes (the debugger), and EL0/EL1 accesses that the
 * HCR_EL2 trap bits send to EL2.  This filter runs in C for every access and
 * calls the Python handler only when one of those may apply; otherwise it
 * returns 0 ("execute the instruction") without leaving C.
 *
 * The filter may send an access to Python that Python then leaves alone (the
 * trap masks below are coarser than the Arm ARM's rules in arch/traps.py);
 * it must never keep from Python an access Python would act on.
 * tests/test_accel.py checks that against the Python handlers themselves.
 *
 * Loaded with ctypes by accel.py; built by `pip install .` where a C
 * compiler exists (setup.py).  No Python API is used.
 */
#include "accel.h"
#include "fasttrap.h"

#define VZ_WATCH_ALL 0xffffffffu

/* One per hook (MRS, MSR, SYS) of a core. */
typedef struct {
    vz_core *core;
    vz_python python;
    int32_t kind;
} vz_hook;

enum { VZ_MRS = 0, VZ_MSR = 1, VZ_SYS = 2 };

/* HCR_EL2 and SCR_EL3 bits (Arm ARM D13.2.46, D13.2.112) */
#define HCR_TWI   (1ull << 13)
#define VZ_SKIP   2                   /* vz_needs_python: done in C, skip the instruction */
#define HCR_TID1  (1ull << 16)
#define HCR_TID2  (1ull << 17)
#define HCR_TID3  (1ull << 18)
#define HCR_TIDCP (1ull << 20)
#define HCR_TACR  (1ull << 21)
#define HCR_TSW   (1ull << 22)
#define HCR_TPC   (1ull << 23)
#define HCR_TPU   (1ull << 24)
#define HCR_TTLB  (1ull << 25)
#define HCR_TVM   (1ull << 26)
#define HCR_TDZ   (1ull << 28)
#define HCR_TRVM  (1ull << 30)
#define SCR_NS    (1ull << 0)
#define SCR_RW    (1ull << 10)
#define HCR_RW    (1ull << 31)
#define HCR_TGE   (1ull << 27)

#define ENC(op0, op1, crn, crm, op2) \
    (((uint32_t)(op0) << 14) | ((uint32_t)(op1) << 11) | ((uint32_t)(crn) << 7) | ((uint32_t)(crm) << 3) | (uint32_t)(op2))

static inline uint32_t enc_of(const vz_cp *cp)
{
    return ENC(cp->op0, cp->op1, cp->crn, cp->crm, cp->op2);
}

/* The HCR_EL2 bits that may trap this access from EL0/EL1 (0: none can). */
static uint64_t trap_bits(int kind, const vz_cp *cp, uint32_t enc)
{
    if (cp->op0 == 1)
        return HCR_TTLB | HCR_TSW | HCR_TPC | HCR_TPU | HCR_TDZ;
    if (cp->op0 != 3)
        return 0;
    if (cp->crn == 0)
        return HCR_TID1 | HCR_TID2 | HCR_TID3;
    if (cp->crn == 11 || cp->crn == 15)
        return HCR_TIDCP;
    switch (enc) {
    case ENC(3, 0, 1, 0, 1):                          /* ACTLR_EL1 */
        return HCR_TACR;
    case ENC(3, 0, 1, 0, 0): case ENC(3, 0, 2, 0, 0): /* SCTLR, TTBR0 */
    case ENC(3, 0, 2, 0, 1): case ENC(3, 0, 2, 0, 2): /* TTBR1, TCR */
    case ENC(3, 0, 5, 1, 0): case ENC(3, 0, 5, 1, 1): /* AFSR0, AFSR1 */
    case ENC(3, 0, 5, 2, 0): case ENC(3, 0, 6, 0, 0): /* ESR, FAR */
    case ENC(3, 0, 10, 2, 0): case ENC(3, 0, 10, 3, 0): /* MAIR, AMAIR */
    case ENC(3, 0, 13, 0, 1):                         /* CONTEXTIDR */
        return kind == VZ_MRS ? HCR_TRVM : HCR_TVM;
    }
    return 0;
}

static int current_el(const vz_core *c, void *uc)
{
    uint64_t pstate = 0;
    c->reg_read(uc, c->pstate_id, &pstate);
    return (int)((pstate >> 2) & 3);
}

/* Whether an ERET at ``at_el`` with this SPSR could be an illegal exception
   return: exceptions.eret_may_be_illegal, the same rules (tests/test_accel.py
   compares the two). */
int vz_eret_may_be_illegal(uint64_t spsr, int at_el, uint64_t hcr, uint64_t scr)
{
    unsigned m = (unsigned)(spsr & 0x1f);
    int target = (int)((m >> 2) & 3), ns = (scr & SCR_NS) != 0;
    if (m & 0x10)                                     /* AArch32 target */
        return 1;
    if ((m & 2) || m == 1)                            /* reserved M, EL0 with SP_ELx */
        return 1;
    if (target > at_el)
        return 1;
    if (target == 3 || target == at_el)
        return 0;
    if (target == 2)
        return !ns;                                   /* no Secure EL2 on the A53 */
    if (at_el >= 2 && ns) {
        if (target == 1 && (hcr & HCR_TGE))
            return 1;
        if (!(hcr & HCR_RW))
            return 1;
    }
    if (at_el == 3 && !ns && !(scr & SCR_RW))
        return 1;
    return 0;
}

static int eret_watch_of(const vz_core *c)
{
    for (int el = 1; el <= 3; el++)
        if (vz_eret_may_be_illegal(c->spsr[el], el, c->hcr, c->scr))
            return 1;
    return 0;
}

static int watched(const vz_core *c, uint32_t enc)
{
    if (c->nwatch == VZ_WATCH_ALL)
        return 1;
    for (uint32_t i = 0; i < c->nwatch; i++)
        if (c->watch[i] == enc)
            return 1;
    return 0;
}

/* Accesses Python handles whatever the EL. */
static int always_python(vz_core *c, void *uc, int kind, const vz_cp *cp, uint32_t enc)
{
    if (kind == VZ_SYS) {
        if (cp->crn == 8 && (cp->crm == 3 || (cp->op1 == 4 && cp->crm == 0))) {  /* TLBI ...IS */
            /* QEMU invalidates this core's TLB; the others drop theirs before they
               next run (Core.invalidate_tlb).  Python traps it under HCR_EL2.TTLB. */
            if (!c->tlb_stale || ((c->scr & SCR_NS) && (c->hcr & HCR_TTLB)))
                return 1;
            for (int i = 0; i < 4; i++)
                if (i != c->index)
                    c->tlb_stale[i] = 1;
            return 0;
        }
        if (cp->crn == 7 && (cp->crm == 1 || cp->crm == 5) && cp->op2 <= 1) {  /* IC IALLU(IS), IVAU */
            /* This core's own code writes already dropped its stale translations
               (QEMU tracks them); only another core's writes could leave some,
               and none ran since this core last dropped all of its code
               (Core._code_changed): nothing to do here but tell the others,
               which drop the line (its PA, noted here) or, after IALLUIS or
               when it cannot be noted, all of their code. */
            if (!c->ic_local)
                return 1;
            if (cp->op2 == 1) {
                uint64_t va = 0, pa = 0;
                if (uc && c->vmem_translate && c->ic_n < VZ_IC_LINES && !c->reg_read(uc, c->cur_reg, &va)
                    && !c->vmem_translate(uc, va & ~63ull, 1 /* UC_PROT_READ */, &pa))
                    c->ic_lines[c->ic_n++] = pa & ~63ull;
                else
                    c->ic_others = 1;
            } else if (cp->crm == 1) {
                c->ic_others = 1;
            }
            return 0;
        }
        return 0;
    }
    if (cp->op0 == 3 && cp->crn == 14)                /* the generic timers (but see vz_needs_python) */
        return 1;
    if (cp->op0 == 3 && cp->op1 == 3 && cp->crn == 9 && cp->crm >= 12)  /* PMU */
        return 1;
    if (kind == VZ_MRS) {
        if (enc == ENC(3, 0, 0, 0, 5))                /* MPIDR_EL1 */
            return 1;
        if (enc == ENC(3, 0, 12, 1, 0))               /* ISR_EL1: vizor's interrupt lines */
            return 1;
        if (enc == ENC(3, 4, 1, 1, 0) && (c->hcr & HCR_TWI))  /* HCR_EL2 with TWI */
            return 1;
        return 0;
    }
    if (enc == ENC(3, 6, 1, 1, 0))                    /* SCR_EL3 */
        return 1;
    return watched(c, enc);
}

/* An MSR to SPSR_EL1/2/3: kept in C (its copy in ``c->spsr``) unless it turns
   the illegal-ERET watch on or off, which Python does (eret_watch.py). */
static int spsr_write(vz_core *c, void *uc, const vz_cp *cp, int el, int reg_el)
{
    if (watched(c, enc_of(cp)))
        return 1;
    if (el < 0)
        el = current_el(c, uc);
    if (el < reg_el)
        return 0;                                     /* UNDEFINED: QEMU raises it */
    uint64_t old = c->spsr[reg_el];
    c->spsr[reg_el] = cp->val;
    if (eret_watch_of(c) != (c->eret_watch != 0)) {
        c->spsr[reg_el] = old;                        /* Python writes it and recomputes */
        return 1;
    }
    return 0;
}

/* An MSR to HCR_EL2 at EL2/EL3: Core.hcr is ``c->hcr``.  QEMU's copy never
   holds TWI (vizor applies it, Core._wfi_trapped), so a value with TWI is
   written here without it and the instruction skipped.  Python sees the write
   when it turns the illegal-ERET watch on or off, or when it is watched. */
static int hcr_write(vz_core *c, void *uc, const vz_cp *cp, int el)
{
    if (watched(c, ENC(3, 4, 1, 1, 0)))
        return 1;
    if (el < 0)
        el = current_el(c, uc);
    if (el < 2)
        return 0;                                     /* UNDEFINED: QEMU raises it */
    uint64_t old = c->hcr;
    c->hcr = cp->val;
    if (eret_watch_of(c) != (c->eret_watch != 0)) {
        c->hcr = old;
        return 1;
    }
    if (!(cp->val & HCR_TWI))
        return 0;
    if (!uc)                                          /* tests/test_accel.py asks without a CPU */
        return VZ_SKIP;
    vz_cp w = *cp;
    w.val = cp->val & ~HCR_TWI;
    c->reg_write(uc, c->cp_reg_id, &w);
    return VZ_SKIP;
}

/* 1 when the Python handler must see this access, VZ_SKIP when C did what it
   asks and the instruction is skipped, 0 when QEMU executes it as it is;
   ``el`` < 0: read PSTATE. */
int vz_needs_python(vz_core *c, void *uc, int kind, const vz_cp *cp, int el)
{
    uint32_t enc = enc_of(cp);
    if (kind == VZ_MSR && enc == ENC(3, 4, 1, 1, 0))
        return hcr_write(c, uc, cp, el);
    if (enc == ENC(3, 0, 14, 1, 0) && !(kind == VZ_MSR && watched(c, enc)))
        return 0;                                     /* CNTKCTL_EL1: QEMU's alone, no trap bit */
    if (kind == VZ_MRS && enc == ENC(3, 3, 14, 0, 0)) {   /* CNTFRQ_EL0: QEMU's copy is the model's */
        if (el < 0)
            el = current_el(c, uc);
        if (el > 0)
            return 0;                                 /* EL0 needs CNTKCTL's rights (Python) */
    }
    if (kind == VZ_MSR && cp->op0 == 3 && cp->crn == 4 && cp->crm == 0 && cp->op2 == 0
        && (cp->op1 == 0 || cp->op1 == 4 || cp->op1 == 6))             /* SPSR_EL1/2/3 */
        return spsr_write(c, uc, cp, el, cp->op1 == 0 ? 1 : cp->op1 == 4 ? 2 : 3);
    if (always_python(c, uc, kind, cp, enc))
        return 1;
    if (kind == VZ_MSR && (enc == ENC(3, 0, 1, 0, 0) || enc == ENC(3, 4, 1, 0, 0) || enc == ENC(3, 6, 1, 0, 0))) {
        /* SCTLR_ELx of the current regime: an MMU switch without ISB (sysreg_hooks) */
        if (el < 0)
            el = current_el(c, uc);
        if ((el < 1 ? 1 : el) == (cp->op1 == 0 ? 1 : cp->op1 == 4 ? 2 : 3))
            return 1;
    }
    if (!(c->scr & SCR_NS) || !(c->hcr & trap_bits(kind, cp, enc)))
        return 0;
    if (el < 0)
        el = current_el(c, uc);
    return el < 2;
}

/* An MRS of CNTVCT_EL0 or CNTPCT_EL0 at EL1-EL3 that does not trap (CNTPCT at
   Non-secure EL1 needs CNTHCTL_EL2.EL1PCTEN; GenericTimer.access): answered from virtual time as GenericTimer.read_sysreg answers it
   (counter_at(cycles), cycles = the slice's start + the instructions run in it),
   and 1 returned; 0 leaves it to Python.  So does a read from the PC of the
   previous one at most POLL_REPEAT cycles later, which may be a delay loop
   that idle.py skips (Core._last_poll is poll_pc/kind/at, kept the same way
   by Python, so it sees such reads exactly as it would alone). */
#define POLL_REPEAT 4                 /* idle.py: decode_poll_loop's longest loop */

static int counter_read(vz_core *c, void *uc, int reg, uint32_t enc)
{
    const vz_fast *f = (const vz_fast *)c->fast;
    if (!f)
        return 0;
    int kind = enc == ENC(3, 3, 14, 0, 2) ? 2 : 1;
    int el = current_el(c, uc);
    if (el == 0 || (kind == 1 && el == 1 && (c->scr & SCR_NS) && !(c->hctl & 1)))
        return 0;
    uint64_t cycles = f->slice_start + *f->counter;
    if (c->skip_idle) {
        uint64_t pc = 0;
        c->reg_read(uc, c->pc_id, &pc);
        if (pc == c->poll_pc && kind == c->poll_kind && cycles > c->poll_at && cycles - c->poll_at <= POLL_REPEAT)
            return 0;
        c->poll_pc = pc;
        c->poll_kind = kind;
        c->poll_at = cycles;
    }
    uint64_t v = cycles / 125 * 2 + cycles % 125 * 2 / 125;   /* cycles * 2 // 125, no overflow */
    if (kind == 2)
        v -= c->voff;
    c->reg_write(uc, reg, &v);
    c->counter_reads++;
    return 1;
}

uint32_t vz_hook_insn(void *uc, int reg, const vz_cp *cp, void *user_data)
{
    vz_hook *h = (vz_hook *)user_data;
    if (h->kind == VZ_MRS && cp->op0 == 3 && cp->op1 == 3 && cp->crn == 14 && cp->crm == 0
        && (cp->op2 == 1 || cp->op2 == 2) && counter_read(h->core, uc, reg, enc_of(cp))) {
        h->core->native++;
        return 1;
    }
    h->core->cur_reg = reg;
    int r = vz_needs_python(h->core, uc, h->kind, cp, -1);
    if (r == 1) {
        h->core->python++;
        return h->python(uc, reg, cp, 0);
    }
    h->core->native++;
    return r == VZ_SKIP;
}

int vz_abi(void)
{
    return VZ_ABI;
}

#ifndef VZ_SOURCE
#define VZ_SOURCE "unknown"
#endif

/* The SHA-256 (16 hex digits) of this file when it was built (setup.py). */
const char *vz_source(void)
{
    return VZ_SOURCE;
}
