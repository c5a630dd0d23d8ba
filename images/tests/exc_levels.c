/*
 * exc_levels: exception level switching (ERET down with EL2h/EL1h/EL1t/EL0t,
 * back up with SVC/HVC/SMC), SPSel, an illegal exception return, DAIF in
 * SPSR, VMPIDR_EL2/VPIDR_EL2 as seen by EL1, and virtual IRQ/FIQ injection
 * with HCR_EL2.VI/VF.
 */
#include "rt.h"
#include "check.h"

u64 get_el(void), get_spsel(void), get_daif(void), get_sp(void), get_sp_via_sel0(void);
void t_el0_svc(void), t_hvc(void), t_hvc_el2t(void), t_smc(void), t_daif_svc(u64);
void t_illegal(void), t_unmask_i(void), t_unmask_f(void), t_el0_nop(void);
extern char x_el0_svc[], x_hvc[], x_hvc_el2t[], x_smc[], x_daif_svc[], x_ill_eret[];
extern char x_ill_target[], x_after_i[], x_after_f[], x_el0_nop[];

#define EL1H (SPSR_DAIF | SPSR_EL1H)
#define EL1T (SPSR_DAIF | SPSR_EL1T)
#define EL0T (SPSR_DAIF | SPSR_EL0T)

static int in_page(u64 sp, u64 top) { return sp <= top && sp > top - 0x1000; }

/* ---- EL-switch chain ---- */
struct state { u64 el, spsel, daif, sp_ok; };
static volatile struct state st[4];

static u64 el0_body(u64 a) { t_el0_svc(); return 0x0e10; }
static u64 el1_body(u64 a)
{
    st[1].el = get_el(); st[1].spsel = get_spsel(); st[1].daif = get_daif();
    st[1].sp_ok = in_page(get_sp(), stack_top(0, st[1].spsel ? EL1 : EL0));
    u64 r = call_lower(el0_body, 0, EL0T);
    t_hvc();
    return r + 0x1000;
}
static u64 el2_body(u64 a)
{
    st[2].el = get_el(); st[2].spsel = get_spsel(); st[2].daif = get_daif();
    st[2].sp_ok = in_page(get_sp(), stack_top(0, EL2));
    return call_lower(el1_body, 0, a) + 0x10000;
}
static int el3_hook(struct frame *f, struct exc_rec *r)
{
    if (r->el != 3)
        return ACT_RETURN;               /* the SVC/HVC further down the chain */
    st[3].el = get_el();
    f->x[0] = call_lower(el2_body, EL1H, SPSR_DAIF | SPSR_EL2H);   /* nested: EL3 -> EL2 -> EL1 -> EL0 */
    return ACT_RETURN;
}

static void print_log(const char *name, u64 n_exp)
{
    pr("%s n=%d", name, exc_log_n);
    for (u64 i = 0; i < exc_log_n && i < EXC_LOG_MAX; i++)
        pr(" [el%d vec=%03x esr=%08x spsr=%x]", exc_log[i].el, exc_log[i].vec,
           exc_log[i].esr, exc_log[i].spsr);
    puts("\n");
}

/* ---- SPSel / DAIF / illegal return / ID virtualisation, run at EL1 ---- */
static volatile u64 v_sp1, v_sp0, v_mpidr, v_midr, v_isr, v_pending_seen;
static u64 el1_spsel(u64 a)
{
    v_sp1 = get_sp();
    v_sp0 = get_sp_via_sel0();
    return 0;
}
static u64 el1_daif(u64 a) { t_daif_svc(a); return 0; }
static u64 el1_illegal(u64 a) { t_illegal(); return get_el(); }
static u64 el1_ids(u64 a)
{
    v_mpidr = rd(mpidr_el1);
    v_midr = rd(midr_el1);
    return 0;
}
static int illegal_hook(struct frame *f, struct exc_rec *r)
{
    if (r->el == 1 && ESR_EC(r->esr) == 0x0e) {
        r->spsr &= ~(1UL << 20);   /* clear PSTATE.IL and resume at ELR */
        return ACT_RETURN;
    }
    return ACT_UNEXPECTED;
}
static u64 el1_virq(u64 which)
{
    v_isr = rd(isr_el1);
    for (volatile int i = 0; i < 100; i++)   /* masked: must not be taken */
        ;
    v_pending_seen = exc_log_n;
    if (which == 0)
        t_unmask_i();
    else if (which == 1)
        t_unmask_f();
    else
        call_lower(t_el0_nop, 0, SPSR_EL0T);  /* EL0 with DAIF clear */
    return 0;
}

int main(void)
{
    puts("exc_levels\n");

    /* EL2 -> EL1h -> EL0t, back with SVC (EL0->EL1) and HVC (EL1->EL2) */
    exc_expect(ACT_RETURN);
    u64 r = call_lower(el1_body, 0, EL1H);
    if (r == 0x1e10 && st[1].el == 1 && st[1].spsel == 1 && st[1].daif == 0x3c0 && st[1].sp_ok)
        pr("ok eret_el2_to_el1h currentel=1 spsel=1 daif=3c0 sp=sp_el1 ret=%x\n", r);
    else
        pr("FAIL eret_el2_to_el1h got currentel=%d spsel=%d daif=%x sp_ok=%d ret=%x\n",
           st[1].el, st[1].spsel, st[1].daif, st[1].sp_ok, r);
    print_log("ok updown_el2_el1_el0 log", 2);
    if (exc_log_n == 2 && exc_log[0].elr == (u64)x_el0_svc + 4 && exc_log[1].elr == (u64)x_hvc + 4)
        puts("ok updown elr svc=x_el0_svc+4 hvc=x_hvc+4\n");
    else
        puts("FAIL updown elr\n");

    /* EL2 -> EL1t: SP is SP_EL0 */
    exc_expect(ACT_RETURN);
    st[1].el = 0;
    r = call_lower(el1_body, 0, EL1T);
    if (st[1].el == 1 && st[1].spsel == 0 && st[1].sp_ok && exc_log_n == 2 && exc_log[1].spsr == 0x3c4)
        pr("ok eret_el2_to_el1t currentel=1 spsel=0 sp=sp_el0 hvc_spsr=%x\n", exc_log[1].spsr);
    else
        pr("FAIL eret_el2_to_el1t got currentel=%d spsel=%d sp_ok=%d n=%d hvc_spsr=%x\n",
           st[1].el, st[1].spsel, st[1].sp_ok, exc_log_n, exc_log[1].spsr);

    /* EL3 -> EL2 -> EL1 -> EL0 via our EL3 (only when we entered at EL3) */
    if (have_el3()) {
        exc_expect_hook(el3_hook);
        st[3].el = st[2].el = 0;
        t_smc();
        r = exc_log_n;
        if (st[3].el == 3 && st[2].el == 2 && st[2].spsel == 1 && st[2].sp_ok && r == 3 &&
            exc_log[0].el == 3 && exc_log[0].spsr == 0x3c9 && exc_log[0].esr == 0x5e000030 &&
            exc_log[0].elr == (u64)x_smc + 4)
            pr("ok [el3] smc_el2_to_el3 esr=%08x spsr=%x elr=x_smc+4, eret el3->el2h currentel=%d spsel=%d\n",
               exc_log[0].esr, exc_log[0].spsr, st[2].el, st[2].spsel);
        else
            pr("FAIL [el3] smc_el2_to_el3 got el3=%d el2=%d n=%d esr=%08x spsr=%x\n",
               st[3].el, st[2].el, r, exc_log[0].esr, exc_log[0].spsr);
        print_log("ok [el3] chain log", 3);
    } else {
        puts("skip [el3] smc_el2_to_el3 (entered at EL2: EL3 belongs to the firmware)\n");
        puts("skip [el3] chain log\n");
    }

    /* SPSel at EL1 and at EL2 */
    call_lower(el1_spsel, 0, EL1H);
    if (in_page(v_sp1, stack_top(0, EL1)) && in_page(v_sp0, stack_top(0, EL0)))
        puts("ok spsel_el1 spsel=1:sp_el1 spsel=0:sp_el0\n");
    else
        pr("FAIL spsel_el1 sp1=%x sp0=%x\n", v_sp1, v_sp0);
    exc_expect(ACT_RETURN);
    t_hvc_el2t();
    check_exc(&(struct want){ "hvc_el2t_sp0_vector", 2, 0x000, 0x5a000021, 0x3c8, SYM(x_hvc_el2t), 4 });

    /* DAIF preserved in SPSR */
    exc_expect(ACT_RETURN);
    call_lower(el1_daif, 0x280, EL1H);
    check_exc(&(struct want){ "daif_da_svc", 1, 0x200, 0x56000011, 0x285, SYM(x_daif_svc), 4 });
    exc_expect(ACT_RETURN);
    call_lower(el1_daif, 0x140, EL1H);
    check_exc(&(struct want){ "daif_af_svc", 1, 0x200, 0x56000011, 0x145, SYM(x_daif_svc), 4 });

    /* illegal exception return: EL1 ERET with SPSR.M = EL2h */
    exc_expect_hook(illegal_hook);
    r = call_lower(el1_illegal, 0, EL1H);
    check_exc(&(struct want){ "illegal_return", 1, 0x200, 0x3a000000, 0x1003c5, SYM(x_ill_target), 0 });
    pr("%s illegal_return stays at el=%d\n", r == 1 ? "ok" : "FAIL", r);

    /* VMPIDR_EL2 / VPIDR_EL2 */
    u64 mpidr = rd(mpidr_el1), midr = rd(midr_el1);
    wr(vmpidr_el2, 0x80000102UL);
    wr(vpidr_el2, 0x412fd0ffUL);
    isb();
    exc_expect(ACT_UNEXPECTED);
    call_lower(el1_ids, 0, EL1H);
    u64 mpidr2 = rd(mpidr_el1), midr2 = rd(midr_el1);
    pr("%s vmpidr el1_mpidr=%x el2_mpidr=%x\n",
       v_mpidr == 0x80000102UL && mpidr2 == mpidr && (mpidr & 0xff) == 0 ? "ok" : "FAIL", v_mpidr, mpidr2);
    pr("%s vpidr el1_midr=%x el2_midr=%x\n",
       v_midr == 0x412fd0ffUL && midr2 == midr ? "ok" : "FAIL", v_midr, midr2);
    wr(vmpidr_el2, mpidr);
    wr(vpidr_el2, midr);
    isb();

    /* virtual IRQ / FIQ */
    static const char *names[3] = { "virq_el1", "vfiq_el1", "virq_el0" };
    static const u64 hcr_bits[3] = { HCR_VI, HCR_VF, HCR_VI };
    static const u64 vec[3] = { 0x280, 0x300, 0x480 };
    static const u64 spsr[3] = { 0x345, 0x385, 0x000 };
    static const u64 isr[3] = { 0x80, 0x40, 0x80 };
    char *elr[3] = { x_after_i, x_after_f, x_el0_nop };
    static const char *elr_name[3] = { "x_after_i", "x_after_f", "x_el0_nop" };
    for (int i = 0; i < 3; i++) {
        exc_expect(ACT_MASK_IF);
        wr(hcr_el2, HCR_RW_ | HCR_IMO | HCR_FMO | hcr_bits[i]);
        isb();
        call_lower(el1_virq, i, EL1H);
        wr(hcr_el2, HCR_RW_);
        isb();
        if (v_pending_seen == 0 && v_isr == isr[i])
            pr("ok %s_masked not taken isr_el1=%x\n", names[i], v_isr);
        else
            pr("FAIL %s_masked expected no exception isr_el1=%x got n=%d isr_el1=%x\n",
               names[i], isr[i], v_pending_seen, v_isr);
        check_exc(&(struct want){ names[i], 1, vec[i], ESR_ANY, spsr[i], elr_name[i], (u64)elr[i], 0 });
    }
    done();
}
