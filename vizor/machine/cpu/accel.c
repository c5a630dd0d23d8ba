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
#include <stdint.h>

#define VZ_ABI 1

/* uc_arm64_cp_reg of unicorn/arm64.h */
typedef struct {
    uint32_t crn, crm, op0, op1, op2;
    uint64_t val;
} vz_cp;

typedef int (*vz_reg_read)(void *uc, int regid, void *value);
typedef uint32_t (*vz_python)(void *uc, int reg, const vz_cp *cp, void *user_data);

#define VZ_MAX_WATCH 8

/* One per core, shared by its three hooks; Python keeps hcr/scr/watch current. */
typedef struct {
    uint64_t hcr, scr;
    uint64_t native, python;          /* accesses kept in C / sent to Python */
    vz_reg_read reg_read;             /* Unicorn's uc_reg_read */
    int32_t pstate_id;                /* UC_ARM64_REG_PSTATE */
    uint32_t nwatch;                  /* watched MSR encodings; VZ_WATCH_ALL: every MSR */
    uint32_t watch[VZ_MAX_WATCH];
} vz_core;

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

/* Accesses Python handles whatever the EL. */
static int always_python(const vz_core *c, int kind, const vz_cp *cp, uint32_t enc)
{
    if (kind == VZ_SYS) {
        if (cp->crn == 8 && (cp->crm == 3 || (cp->op1 == 4 && cp->crm == 0)))  /* TLBI ...IS */
            return 1;
        if (cp->crn == 7 && (cp->crm == 1 || cp->crm == 5) && cp->op2 <= 1)   /* IC IALLU(IS), IVAU */
            return 1;
        return 0;
    }
    if (cp->op0 == 3 && cp->crn == 14)                /* the generic timers */
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
    switch (enc) {
    case ENC(3, 4, 1, 1, 0): case ENC(3, 6, 1, 1, 0): /* HCR_EL2, SCR_EL3 */
    case ENC(3, 0, 4, 0, 0): case ENC(3, 4, 4, 0, 0): case ENC(3, 6, 4, 0, 0):  /* SPSR_EL1/2/3 */
        return 1;
    }
    if (c->nwatch == VZ_WATCH_ALL)
        return 1;
    for (uint32_t i = 0; i < c->nwatch; i++)
        if (c->watch[i] == enc)
            return 1;
    return 0;
}

static int current_el(const vz_core *c, void *uc)
{
    uint64_t pstate = 0;
    c->reg_read(uc, c->pstate_id, &pstate);
    return (int)((pstate >> 2) & 3);
}

/* 1 when the Python handler must see this access; ``el`` < 0: read PSTATE. */
int vz_needs_python(vz_core *c, void *uc, int kind, const vz_cp *cp, int el)
{
    uint32_t enc = enc_of(cp);
    if (always_python(c, kind, cp, enc))
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

uint32_t vz_hook_insn(void *uc, int reg, const vz_cp *cp, void *user_data)
{
    vz_hook *h = (vz_hook *)user_data;
    if (vz_needs_python(h->core, uc, h->kind, cp, -1)) {
        h->core->python++;
        return h->python(uc, reg, cp, 0);
    }
    h->core->native++;
    return 0;
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
