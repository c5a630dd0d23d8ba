/*
 * secmon -- a minimal secure monitor at EL3 between a Secure-EL1 payload and
 * a Non-secure EL2/EL1 kernel, switching worlds with SMC.
 *
 * start.S entered at EL3 leaves SCR_EL3 = 0x531 (NS, HCE, RW; SMD = 0) and
 * runs main() at NS-EL2.  The monitor is this kernel's EL3 exception hook:
 *  - SMC #0 with x0 = CALL_SECURE from the Non-secure world saves its context
 *    (x0-x30, ELR_EL3, SPSR_EL3 and the EL1 registers the two worlds share:
 *    SCTLR_EL1, VBAR_EL1, SP_EL1, SP_EL0 -- AArch64 banks none of them by
 *    security state, so the monitor keeps a copy per world), loads the Secure
 *    world's, clears SCR_EL3.NS (and sets ST, so that Secure EL1 may use the
 *    secure physical timer) and ERETs to secure_main(x1) at S-EL1h;
 *  - SMC #0 with x0 = SECURE_DONE from the Secure world saves the Secure
 *    EL1 registers, restores the Non-secure context with x0 = x1 (the result),
 *    sets SCR_EL3.NS again and ERETs to the instruction after the caller's SMC.
 * The payload sets its own VBAR_EL1 and SCTLR_EL1.I on its first call; each
 * world must see its own values every time.  Calls come from NS-EL2 (twice)
 * and from NS-EL1 (once, run by call_lower).  Every line is tagged [el3]:
 * entered at EL2 (the firmware's boot) there is no monitor of ours.
 */
#include "rt.h"

#define CALL_SECURE 0x1
#define SECURE_DONE 0x2
#define SCR_NS      (1UL << 0)
#define SCR_ST      (1UL << 11)
#define SCTLR_I     (1UL << 12)
#define EC_SMC      0x17

extern char vectors_el1[], secure_vectors[];

struct world {
    struct frame f;
    u64 elr, spsr, sctlr, vbar, sp_el1, sp_el0;
};
static struct world ns_ctx;
static u64 s_sctlr = SCTLR_EL1_RESET, s_vbar;     /* the Secure world's EL1 registers */
static u8 secure_stack[4096] __attribute__((aligned(16)));
static volatile u64 calls, switches;

static const char *where(u64 v)
{
    if (v == (u64)vectors_el1)
        return "vectors_el1";
    if (v == (u64)secure_vectors)
        return "secure_vectors";
    return v ? "?" : "0";
}

static u64 current_el(void) { return (rd(CurrentEL) >> 2) & 3; }

static inline u64 smc(u64 fid, u64 arg)
{
    register u64 x0 __asm__("x0") = fid;
    register u64 x1 __asm__("x1") = arg;
    __asm__ volatile("smc #0" : "+r"(x0), "+r"(x1) :: "memory");
    return x0;
}

static void __attribute__((noreturn, used)) secure_main(u64 arg)
{
    u64 sctlr = rd(sctlr_el1), vbar = rd(vbar_el1);
    pr("ok [el3] secure call=%d currentel=%d sctlr_el1=%x vbar_el1=%s cntps_ctl=%x arg=%x\n",
       calls, current_el(), sctlr, where(vbar), rd(cntps_ctl_el1), arg);
    if (calls == 1) {                 /* the payload's own set-up, kept by the monitor */
        wr(vbar_el1, (u64)secure_vectors);
        wr(sctlr_el1, sctlr | SCTLR_I);
        isb();
    }
    smc(SECURE_DONE, arg * 3 + 1);
    for (;;)
        ;
}

static void to_secure(struct frame *f, struct exc_rec *r, u64 scr)
{
    ns_ctx.f = *f;
    ns_ctx.elr = r->elr;
    ns_ctx.spsr = r->spsr;
    ns_ctx.sctlr = rd(sctlr_el1);
    ns_ctx.vbar = rd(vbar_el1);
    ns_ctx.sp_el1 = rd(sp_el1);
    ns_ctx.sp_el0 = rd(sp_el0);
    calls++;
    switches++;
    u64 arg = f->x[1];
    wr(sctlr_el1, s_sctlr);
    wr(vbar_el1, s_vbar);
    wr(sp_el1, (u64)secure_stack + sizeof secure_stack);
    wr(scr_el3, (scr & ~SCR_NS) | SCR_ST);
    isb();
    pr("ok [el3] monitor ns->s call=%d from=el%d esr=%08x scr=%x->%x ns_sctlr=%x ns_vbar=%s\n",
       calls, (r->spsr >> 2) & 3, r->esr, scr, rd(scr_el3), ns_ctx.sctlr, where(ns_ctx.vbar));
    memset(f, 0, sizeof *f);
    f->x[0] = arg;
    r->elr = (u64)secure_main;
    r->spsr = SPSR_DAIF | SPSR_EL1H;
}

static void to_nonsecure(struct frame *f, struct exc_rec *r, u64 scr)
{
    u64 result = f->x[1];
    s_sctlr = rd(sctlr_el1);
    s_vbar = rd(vbar_el1);
    switches++;
    *f = ns_ctx.f;
    f->x[0] = result;
    r->elr = ns_ctx.elr;
    r->spsr = ns_ctx.spsr;
    wr(sctlr_el1, ns_ctx.sctlr);
    wr(vbar_el1, ns_ctx.vbar);
    wr(sp_el1, ns_ctx.sp_el1);
    wr(sp_el0, ns_ctx.sp_el0);
    wr(scr_el3, (scr | SCR_NS) & ~SCR_ST);
    isb();
    pr("ok [el3] monitor s->ns call=%d esr=%08x scr=%x->%x s_sctlr=%x s_vbar=%s result=%x to=el%d\n",
       calls, r->esr, scr, rd(scr_el3), s_sctlr, where(s_vbar), result, (r->spsr >> 2) & 3);
}

static int monitor(struct frame *f, struct exc_rec *r)
{
    if (r->el != 3 || ESR_EC(r->esr) != EC_SMC)
        return ACT_UNEXPECTED;
    u64 scr = rd(scr_el3), fid = f->x[0];
    if ((scr & SCR_NS) && fid == CALL_SECURE)
        to_secure(f, r, scr);
    else if (!(scr & SCR_NS) && fid == SECURE_DONE)
        to_nonsecure(f, r, scr);
    else {
        pr("FAIL [el3] monitor unexpected smc fid=%x x1=%x scr=%x elr=%x\n", fid, f->x[1], scr, r->elr);
        done();
    }
    return ACT_RETURN;
}

static void show_ns(const char *who)
{
    pr("ok [el3] %s currentel=%d sctlr_el1=%x vbar_el1=%s\n", who, current_el(),
       rd(sctlr_el1), where(rd(vbar_el1)));
}

static u64 ns_el1_client(u64 arg)
{
    show_ns("ns_el1 before");
    u64 res = smc(CALL_SECURE, arg);
    pr("ok [el3] ns_el1 call result=%x\n", res);
    show_ns("ns_el1 after");
    return res + 1;
}

int main(void)
{
    if (!have_el3()) {              /* one line per kind of check, as the other kernels skip */
        static const char *const checks[] = { "ns_el2", "monitor", "secure", "ns_el1", "switches" };
        for (u64 i = 0; i < sizeof checks / sizeof checks[0]; i++)
            pr("skip [el3] %s (entered at EL2: EL3 belongs to the firmware)\n", checks[i]);
        done();
    }
    exc_expect_hook(monitor);
    show_ns("ns_el2 before");
    for (u64 i = 1; i <= 2; i++) {
        u64 res = smc(CALL_SECURE, 0x10 * i);
        pr("ok [el3] ns_el2 call=%d result=%x\n", i, res);
        show_ns("ns_el2 after");
    }
    u64 r = call_lower(ns_el1_client, 0x30, SPSR_DAIF | SPSR_EL1H);
    pr("ok [el3] ns_el1 returned=%x\n", r);
    pr("ok [el3] switches=%d calls=%d\n", switches, calls);
    done();
}
