/*
 * exc_sync: synchronous exceptions -- SVC/HVC/SMC/BRK/UDF, instruction and data
 * aborts (same EL and lower EL, stage 1 and stage 2 with the ISV syndrome),
 * PC and SP alignment faults; ESR/ELR/SPSR/FAR/HPFAR and the vector offset.
 */
#include "rt.h"
#include "check.h"
#include "mmu.h"

extern char x_svc[], x_svc_sp0[], x_svc_el0[], x_hvc[], x_hvc_el2[], x_smc_el2[], x_smc_tsc[];
extern char x_brk[], x_udf[], x_ldrb[], x_ldrsh_w[], x_ldrsh_x[], x_ldr_w[], x_ldr_x[];
extern char x_str_x[], x_ldp[], x_ldr_post[], x_sp_align[], x_target[];
void t_svc(void), t_svc_sp0(void), t_svc_el0(void), t_hvc(void), t_hvc_el2(void);
void t_smc_el2(void), t_smc_tsc(void), t_brk(void), t_udf(void), t_call(u64);
void t_ldrb(u64), t_ldrsh_w(u64), t_ldrsh_x(u64), t_ldr_w(u64), t_ldr_x(u64);
void t_str_x(u64, u64), t_ldp(u64), t_ldr_post(u64), t_sp_align(void);

#define EL1H (SPSR_DAIF | SPSR_EL1H)
#define EL0T (SPSR_DAIF | SPSR_EL0T)

static volatile u64 el1_only_word = 0x1234;   /* EL1-only page: EL0 permission fault */
static u64 s2_l1[512] __attribute__((aligned(4096), section(".tables")));
static u64 s2_l2[512] __attribute__((aligned(4096), section(".tables")));

/* ---- code run at EL0 (text is RO/executable for EL0; only the EL0 stack is writable) ---- */
static u64 el0_svc(u64 a) { t_svc_el0(); return 0; }
static u64 el0_iabt(u64 a) { t_call(0x40000000UL); return 0; }
static u64 el0_dabt(u64 a) { t_ldr_x(0x1ff008UL); return 0; }
static u64 el0_perm(u64 a) { t_ldr_x((u64)&el1_only_word); return 0; }

/* ---- code run at EL1 ---- */
enum { T_SVC, T_SVC_SP0, T_EL0_SVC, T_HVC, T_SMC_TSC, T_BRK, T_UDF, T_IABT, T_EL0_IABT,
       T_LDRB, T_STR, T_EL0_DABT, T_EL0_PERM, T_PC_ALIGN, T_SP_ALIGN,
       T_S2_LDRB, T_S2_LDRSH_W, T_S2_LDRSH_X, T_S2_LDR_W, T_S2_STR_X, T_S2_LDP, T_S2_LDR_POST,
       T_S2_IABT };

static u64 el1_run(u64 t)
{
    switch (t) {
    case T_SVC: t_svc(); break;
    case T_SVC_SP0: t_svc_sp0(); break;
    case T_EL0_SVC: call_lower(el0_svc, 0, EL0T); break;
    case T_HVC: t_hvc(); break;
    case T_SMC_TSC: t_smc_tsc(); break;
    case T_BRK: t_brk(); break;
    case T_UDF: t_udf(); break;
    case T_IABT: t_call(0x200000UL); break;
    case T_EL0_IABT: call_lower(el0_iabt, 0, EL0T); break;
    case T_LDRB: t_ldrb(0x1ff010UL); break;
    case T_STR: t_str_x(0x1ff018UL, 0x55); break;
    case T_EL0_DABT: call_lower(el0_dabt, 0, EL0T); break;
    case T_EL0_PERM: call_lower(el0_perm, 0, EL0T); break;
    case T_PC_ALIGN: t_call((u64)x_target + 2); break;
    case T_SP_ALIGN: t_sp_align(); break;
    case T_S2_LDRB: t_ldrb(0x200001UL); break;
    case T_S2_LDRSH_W: t_ldrsh_w(0x200002UL); break;
    case T_S2_LDRSH_X: t_ldrsh_x(0x200004UL); break;
    case T_S2_LDR_W: t_ldr_w(0x200008UL); break;
    case T_S2_STR_X: t_str_x(0x200010UL, 0x66); break;
    case T_S2_LDP: t_ldp(0x200020UL); break;
    case T_S2_LDR_POST: t_ldr_post(0x200030UL); break;
    case T_S2_IABT: t_call(0x200000UL); break;
    }
    return 0;
}

static void run1(u64 t, int act) { exc_expect(act); call_lower(el1_run, t, EL1H); }

int main(void)
{
    puts("exc_sync\n");

    /* SVC / HVC / SMC / BRK / UDF */
    run1(T_SVC, ACT_RETURN);
    check_exc(&(struct want){ "svc_el1", 1, 0x200, 0x56000123, 0x3c5, SYM(x_svc), 4 });
    run1(T_SVC_SP0, ACT_RETURN);
    check_exc(&(struct want){ "svc_el1t_sp0", 1, 0x000, 0x56000007, 0x3c4, SYM(x_svc_sp0), 4 });
    run1(T_EL0_SVC, ACT_RETURN);
    check_exc(&(struct want){ "svc_el0", 1, 0x400, 0x56000045, 0x3c0, SYM(x_svc_el0), 4 });
    run1(T_HVC, ACT_RETURN);
    check_exc(&(struct want){ "hvc_el1", 2, 0x400, 0x5a000042, 0x3c5, SYM(x_hvc), 4 });
    exc_expect(ACT_RETURN);
    t_hvc_el2();
    check_exc(&(struct want){ "hvc_el2", 2, 0x200, 0x5a000043, 0x3c9, SYM(x_hvc_el2), 4 });
    if (have_el3()) {
        exc_expect(ACT_RETURN);
        t_smc_el2();
        check_exc(&(struct want){ "[el3] smc_el2", 3, 0x400, 0x5e000077, 0x3c9, SYM(x_smc_el2), 4 });
    } else {
        puts("skip [el3] smc_el2 (entered at EL2: EL3 belongs to the firmware)\n");
    }
    wr(hcr_el2, rd(hcr_el2) | HCR_TSC); isb();
    run1(T_SMC_TSC, ACT_SKIP);
    wr(hcr_el2, rd(hcr_el2) & ~HCR_TSC); isb();
    check_exc(&(struct want){ "smc_el1_tsc", 2, 0x400, 0x5e000033, 0x3c5, SYM(x_smc_tsc), 0 });
    run1(T_BRK, ACT_SKIP);
    check_exc(&(struct want){ "brk_el1", 1, 0x200, 0xf2000099, 0x3c5, SYM(x_brk), 0 });
    run1(T_UDF, ACT_SKIP);
    check_exc(&(struct want){ "udf_el1", 1, 0x200, 0x02000000, 0x3c5, SYM(x_udf), 0 });

    /* PC / SP alignment (EL1 MMU off) */
    run1(T_PC_ALIGN, ACT_LR);
    check_exc(&(struct want){ "pc_align_el1", 1, 0x200, 0x8a000000, 0x3c5, SYM(x_target), 2,
                              1, SYM(x_target), 2 });
    wr(sctlr_el1, rd(sctlr_el1) | (1UL << 3)); isb();
    run1(T_SP_ALIGN, ACT_SKIP);
    wr(sctlr_el1, rd(sctlr_el1) & ~(1UL << 3)); isb();
    check_exc(&(struct want){ "sp_align_el1t", 1, 0x000, 0x9a000000, 0x3c4, SYM(x_sp_align), 0 });

    /* stage-1 aborts with the EL1 MMU on (identity map with holes at 0x1ff000 (L3),
       0x200000 (L2), 0x40000000 (L1)) */
    s1_enable_el1(s1_identity_el1());
    run1(T_IABT, ACT_LR);
    check_exc(&(struct want){ "iabt_el1_l2", 1, 0x200, 0x86000006, 0x3c5, 0, 0, 0x200000,
                              1, 0, 0, 0x200000 });
    run1(T_EL0_IABT, ACT_LR);
    check_exc(&(struct want){ "iabt_el0_l1", 1, 0x400, 0x82000005, 0x3c0, 0, 0, 0x40000000,
                              1, 0, 0, 0x40000000 });
    run1(T_LDRB, ACT_SKIP);
    check_exc(&(struct want){ "dabt_el1_l3_ldrb", 1, 0x200, 0x96000007, 0x3c5, SYM(x_ldrb), 0,
                              1, 0, 0, 0x1ff010 });
    run1(T_STR, ACT_SKIP);
    check_exc(&(struct want){ "dabt_el1_l3_str", 1, 0x200, 0x96000047, 0x3c5, SYM(x_str_x), 0,
                              1, 0, 0, 0x1ff018 });
    run1(T_EL0_DABT, ACT_SKIP);
    check_exc(&(struct want){ "dabt_el0_l3", 1, 0x400, 0x92000007, 0x3c0, SYM(x_ldr_x), 0,
                              1, 0, 0, 0x1ff008 });
    run1(T_EL0_PERM, ACT_SKIP);
    check_exc(&(struct want){ "dabt_el0_perm_l3", 1, 0x400, 0x9200000f, 0x3c0, SYM(x_ldr_x), 0,
                              1, "el1_only_word", (u64)&el1_only_word, 0 });
    s1_disable_el1();

    /* stage-2 aborts taken to EL2 (EL1 MMU off, IPA 0x200000-0x3fffff unmapped at level 2) */
    for (int i = 0; i < 512; i++)
        s2_l1[i] = 0;
    s2_l1[0] = (u64)s2_l2 | S1_TABLE;
    s2_fill_l2_identity(s2_l2, 0);
    s2_l2[1] = 0;
    dsb();
    wr(vtcr_el2, VTCR_4K_L1(32, 2));
    wr(vttbr_el2, (u64)s2_l1 | (1UL << 48));
    wr(hcr_el2, rd(hcr_el2) | HCR_VM);
    isb();
    TLBI_ALL();
    run1(T_S2_LDRB, ACT_SKIP);
    check_exc(&(struct want){ "s2_dabt_ldrb", 2, 0x400, 0x93010006, 0x3c5, SYM(x_ldrb), 0,
                              1, 0, 0, 0x200001, 1, 0x2000 });
    run1(T_S2_LDRSH_W, ACT_SKIP);
    check_exc(&(struct want){ "s2_dabt_ldrsh_w", 2, 0x400, 0x93620006, 0x3c5, SYM(x_ldrsh_w), 0,
                              1, 0, 0, 0x200002, 1, 0x2000 });
    run1(T_S2_LDRSH_X, ACT_SKIP);
    check_exc(&(struct want){ "s2_dabt_ldrsh_x", 2, 0x400, 0x93638006, 0x3c5, SYM(x_ldrsh_x), 0,
                              1, 0, 0, 0x200004, 1, 0x2000 });
    run1(T_S2_LDR_W, ACT_SKIP);
    check_exc(&(struct want){ "s2_dabt_ldr_w", 2, 0x400, 0x93840006, 0x3c5, SYM(x_ldr_w), 0,
                              1, 0, 0, 0x200008, 1, 0x2000 });
    run1(T_S2_STR_X, ACT_SKIP);
    check_exc(&(struct want){ "s2_dabt_str_x", 2, 0x400, 0x93c58046, 0x3c5, SYM(x_str_x), 0,
                              1, 0, 0, 0x200010, 1, 0x2000 });
    run1(T_S2_LDP, ACT_SKIP);
    check_exc(&(struct want){ "s2_dabt_ldp", 2, 0x400, 0x92000006, 0x3c5, SYM(x_ldp), 0,
                              1, 0, 0, 0x200020, 1, 0x2000 });
    run1(T_S2_LDR_POST, ACT_SKIP);
    check_exc(&(struct want){ "s2_dabt_ldr_post", 2, 0x400, 0x92000006, 0x3c5, SYM(x_ldr_post), 0,
                              1, 0, 0, 0x200030, 1, 0x2000 });
    run1(T_S2_IABT, ACT_LR);
    check_exc(&(struct want){ "s2_iabt", 2, 0x400, 0x82000006, 0x3c5, 0, 0, 0x200000,
                              1, 0, 0, 0x200000, 1, 0x2000 });
    wr(hcr_el2, rd(hcr_el2) & ~HCR_VM);
    isb();
    TLBI_ALL();
    done();
}
