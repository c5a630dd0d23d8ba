/*
 * exc_traps: HCR_EL2 trap controls for EL1 (TID1, TID2, TID3, TACR, TSC, TVM,
 * TRVM, TIDCP, TWI, TWE): each trapped access is taken to EL2 with the full
 * ISS; the EL2 handler skips the instruction and, for MRS, writes a marker
 * value into Rt so the EL1 code sees the emulated value.  With the trap bit
 * clear the same accesses do not trap.
 */
#include "rt.h"

#define MARK 0x7a00000000000000UL      /* emulated value = MARK | ISS */

struct sysreg {
    const char *name;
    u64 (*rdf)(void); char *xrd;        /* MRS snippet + label of the MRS */
    void (*wrf)(u64); char *xwr;       /* MSR snippet (or 0) */
    u32 op0, op1, crn, crm, op2;
};

#define DECL_R(n) u64 r_##n(void); extern char xr_##n[];
#define DECL_W(n) void w_##n(u64); extern char xw_##n[];
DECL_R(revidr) DECL_R(aidr) DECL_R(ctr) DECL_R(ccsidr) DECL_R(clidr) DECL_R(csselr)
DECL_R(pfr0) DECL_R(mmfr0) DECL_R(actlr) DECL_R(sctlr) DECL_R(l2ctlr)
DECL_W(csselr) DECL_W(actlr) DECL_W(sctlr) DECL_W(ttbr0)
void t_wfi(void), t_wfe(void), t_smc(void);
extern char x_wfi[], x_wfe[], x_smc[];

#define R(n, a, b, c, d, e) { #n, r_##n, xr_##n, 0, 0, a, b, c, d, e }
#define RW(n, a, b, c, d, e) { #n, r_##n, xr_##n, w_##n, xw_##n, a, b, c, d, e }
#define W(n, a, b, c, d, e) { #n, 0, 0, w_##n, xw_##n, a, b, c, d, e }

static const struct sysreg REVIDR = R(revidr, 3, 0, 0, 0, 6);
static const struct sysreg AIDR   = R(aidr, 3, 1, 0, 0, 7);
static const struct sysreg CTR    = R(ctr, 3, 3, 0, 0, 1);
static const struct sysreg CCSIDR = R(ccsidr, 3, 1, 0, 0, 0);
static const struct sysreg CLIDR  = R(clidr, 3, 1, 0, 0, 1);
static const struct sysreg CSSELR = RW(csselr, 3, 2, 0, 0, 0);
static const struct sysreg PFR0   = R(pfr0, 3, 0, 0, 4, 0);
static const struct sysreg MMFR0  = R(mmfr0, 3, 0, 0, 7, 0);
static const struct sysreg ACTLR  = RW(actlr, 3, 0, 1, 0, 1);
static const struct sysreg SCTLR  = RW(sctlr, 3, 0, 1, 0, 0);
static const struct sysreg TTBR0  = W(ttbr0, 3, 0, 2, 0, 0);
static const struct sysreg L2CTLR = R(l2ctlr, 3, 1, 11, 0, 2);   /* Cortex-A53 IMPLEMENTATION DEFINED */

static volatile u64 trap_wval;     /* value an EL1 MSR tried to write */

static int trap_hook(struct frame *f, struct exc_rec *r)
{
    u64 ec = ESR_EC(r->esr), iss = ESR_ISS(r->esr);
    if (r->el != 2 || r->vec != 0x400)
        return ACT_UNEXPECTED;
    if (ec == 0x18) {
        u64 rt = (iss >> 5) & 31;
        if (iss & 1) {
            if (rt != 31)
                f->x[rt] = MARK | iss;
        } else {
            trap_wval = rt == 31 ? 0 : f->x[rt];
        }
        return ACT_SKIP;
    }
    if (ec == 0x01 || ec == 0x17)
        return ACT_SKIP;
    return ACT_UNEXPECTED;
}

/* ---- EL1 side ---- */
static volatile u64 el1_val;
struct req { const struct sysreg *r; int write; u64 val; void (*fn)(void); };
static u64 el1_do(u64 arg)
{
    const struct req *q = (const struct req *)arg;
    if (q->fn)
        q->fn();
    else if (q->write)
        q->r->wrf(q->val);
    else
        el1_val = q->r->rdf();
    return 0;
}

static u64 iss_of(const struct sysreg *s, int rt, int read)
{
    return ((u64)s->op0 << 20) | ((u64)s->op2 << 17) | ((u64)s->op1 << 14) |
           ((u64)s->crn << 10) | ((u64)rt << 5) | ((u64)s->crm << 1) | (u64)read;
}

static void set_hcr(u64 bits)
{
    wr(hcr_el2, HCR_RW_ | bits);
    isb();
}

static void run_el1(const struct req *q)
{
    exc_expect_hook(trap_hook);
    el1_val = 0;
    trap_wval = 0;
    call_lower(el1_do, (u64)q, SPSR_DAIF | SPSR_EL1H);
}

/* trapped access: expect one exception to EL2, EC 0x18, exact ISS, ELR at the insn */
static void trapped(const char *bit, u64 hcr, const struct sysreg *s, int write, u64 val)
{
    struct req q = { s, write, val, 0 };
    set_hcr(hcr);
    run_el1(&q);
    set_hcr(0);
    u64 iss = iss_of(s, 2, !write);
    u64 esr = (0x18UL << 26) | (1UL << 25) | iss;
    char *insn = write ? s->xwr : s->xrd;
    volatile struct exc_rec *r = &exc_last;
    int ok = r->count == 1 && r->el == 2 && r->vec == 0x400 && r->esr == esr &&
             r->elr == (u64)insn && r->spsr == 0x3c5;
    u64 got = write ? trap_wval : el1_val;
    u64 want = write ? val : (MARK | iss);
    ok = ok && got == want;
    const char *dir = write ? "msr" : "mrs";
    if (ok)
        pr("ok %s %s_%s esr=%08x op0=%d op1=%d crn=%d crm=%d op2=%d rt=2 dir=%s elr=x%s_%s %s=%x\n",
           bit, dir, s->name, r->esr, s->op0, s->op1, s->crn, s->crm, s->op2,
           write ? "write" : "read", write ? "w" : "r", s->name, write ? "wval" : "val", got);
    else if (r->count == 0)
        pr("FAIL %s %s_%s expected esr=%08x got no trap%s%x\n", bit, dir, s->name, esr,
           write ? " (written) " : " value=", write ? val : el1_val);
    else
        pr("FAIL %s %s_%s expected esr=%08x elr=%x val=%x got n=%d el=%d vec=%03x esr=%08x elr=%x val=%x\n",
           bit, dir, s->name, esr, (u64)insn, want, r->count, r->el, r->vec, r->esr, r->elr, got);
}

/* untrapped access: expect no exception; show_val prints the value read */
static void untrapped(const char *bit, u64 hcr, const struct sysreg *s, int write, u64 val, int show_val)
{
    struct req q = { s, write, val, 0 };
    set_hcr(hcr);
    run_el1(&q);
    set_hcr(0);
    const char *dir = write ? "msr" : "mrs";
    if (exc_last.count)
        pr("FAIL %s %s_%s expected no trap got esr=%08x\n", bit, dir, s->name, exc_last.esr);
    else if (show_val && !write)
        pr("ok %s %s_%s not trapped val=%x\n", bit, dir, s->name, el1_val);
    else
        pr("ok %s %s_%s not trapped\n", bit, dir, s->name);
}

static void wfx(const char *bit, u64 hcr, void (*fn)(void), char *insn, u64 esr, int expect_trap)
{
    struct req q = { 0, 0, 0, fn };
    set_hcr(hcr);
    run_el1(&q);
    set_hcr(0);
    volatile struct exc_rec *r = &exc_last;
    const char *name = fn == t_wfi ? "wfi" : "wfe";
    if (!expect_trap) {
        if (r->count == 0)
            pr("ok %s %s not trapped\n", bit, name);
        else
            pr("FAIL %s %s expected no trap got esr=%08x\n", bit, name, r->esr);
        return;
    }
    if (r->count == 1 && r->el == 2 && r->vec == 0x400 && r->esr == esr && r->elr == (u64)insn)
        pr("ok %s %s esr=%08x ti=%d elr=x_%s\n", bit, name, r->esr, r->esr & 1, name);
    else if (r->count == 0)
        pr("FAIL %s %s expected esr=%08x elr=x_%s got no trap (instruction completed)\n",
           bit, name, esr, name);
    else
        pr("FAIL %s %s expected esr=%08x got n=%d esr=%08x elr=%x\n", bit, name, esr,
           r->count, r->esr, r->elr);
}

int main(void)
{
    puts("exc_traps\n");
    u64 sctlr = rd(sctlr_el1);

    trapped("tid1", HCR_TID1, &REVIDR, 0, 0);
    trapped("tid1", HCR_TID1, &AIDR, 0, 0);
    untrapped("tid1=0", 0, &REVIDR, 0, 0, 0);
    untrapped("tid1=0", 0, &AIDR, 0, 0, 0);

    trapped("tid2", HCR_TID2, &CTR, 0, 0);
    trapped("tid2", HCR_TID2, &CCSIDR, 0, 0);
    trapped("tid2", HCR_TID2, &CLIDR, 0, 0);
    trapped("tid2", HCR_TID2, &CSSELR, 0, 0);
    trapped("tid2", HCR_TID2, &CSSELR, 1, 2);
    untrapped("tid2=0", 0, &CTR, 0, 0, 1);
    untrapped("tid2=0", 0, &CLIDR, 0, 0, 1);
    untrapped("tid2=0", 0, &CSSELR, 1, 0, 0);
    untrapped("tid2=0", 0, &CSSELR, 0, 0, 1);

    trapped("tid3", HCR_TID3, &MMFR0, 0, 0);
    trapped("tid3", HCR_TID3, &PFR0, 0, 0);
    untrapped("tid3=0", 0, &MMFR0, 0, 0, 1);
    untrapped("tid3=0", 0, &PFR0, 0, 0, 1);

    trapped("tacr", HCR_TACR, &ACTLR, 0, 0);
    trapped("tacr", HCR_TACR, &ACTLR, 1, 0);
    untrapped("tacr=0", 0, &ACTLR, 0, 0, 0);

    trapped("tvm", HCR_TVM, &SCTLR, 1, sctlr);
    trapped("tvm", HCR_TVM, &TTBR0, 1, 0x12345000UL);
    untrapped("tvm", HCR_TVM, &SCTLR, 0, 0, 0);        /* TVM traps writes only */
    trapped("trvm", HCR_TRVM, &SCTLR, 0, 0);
    untrapped("trvm", HCR_TRVM, &SCTLR, 1, sctlr, 0);  /* TRVM traps reads only */
    untrapped("tvm=0", 0, &SCTLR, 1, sctlr, 0);
    untrapped("tvm=0", 0, &TTBR0, 1, 0, 0);

    trapped("tidcp", HCR_TIDCP, &L2CTLR, 0, 0);
    untrapped("tidcp=0", 0, &L2CTLR, 0, 0, 0);

    /* SMC from EL1 with TSC: EC 0x17, preferred return = the SMC itself */
    {
        struct req q = { 0, 0, 0, t_smc };
        set_hcr(HCR_TSC);
        run_el1(&q);
        set_hcr(0);
        volatile struct exc_rec *r = &exc_last;
        if (r->count == 1 && r->el == 2 && r->esr == 0x5e000011 && r->elr == (u64)x_smc)
            pr("ok tsc smc esr=%08x elr=x_smc\n", r->esr);
        else
            pr("FAIL tsc smc expected esr=5e000011 elr=x_smc got n=%d esr=%08x elr=%x\n",
               r->count, r->esr, r->elr);
    }

    wfx("twi", HCR_TWI, t_wfi, x_wfi, 0x07e00000, 1);
    /* WFE: SEVL; WFE; WFE -- the second would sleep, so TWE traps it.  Fallback
       against a hang where WFE is not trapped: the EL1 virtual-counter event
       stream (CNTKCTL_EL1.EVNTEN, bit 15) wakes it. */
    wr(cntkctl_el1, (1UL << 2) | (15UL << 4));
    isb();
    wfx("twe", HCR_TWE, t_wfe, x_wfe, 0x07e00001, 1);
    wfx("twe=0", 0, t_wfe, x_wfe, 0, 0);
    wr(cntkctl_el1, 0);
    isb();
    done();
}
