/* Common exception handler for EL3/EL2/EL1 (called from vectors.S). */
#include "rt.h"

volatile struct exc_rec exc_last;
volatile struct exc_rec exc_log[EXC_LOG_MAX];
volatile u64 exc_log_n;
volatile int exc_act;
volatile exc_hook_t exc_hook;
volatile u64 rt_entry_el;
u64 rt_lower_ctx[4];

void exc_expect(int act)
{
    exc_hook = 0;
    exc_last.count = exc_last.el = exc_last.vec = 0;
    exc_last.esr = exc_last.far = exc_last.elr = 0;
    exc_last.spsr = exc_last.hpfar = 0;
    exc_log_n = 0;
    exc_act = act;
    dsb();
}

void exc_expect_hook(exc_hook_t h)
{
    exc_expect(ACT_RETURN);
    exc_hook = h;
    dsb();
}

void done(void)
{
    puts("DONE\n");
    park();
}

#define GET(el, r1, r2, r3) ((el) == 3 ? rd(r3) : (el) == 2 ? rd(r2) : rd(r1))

void exc_entry(struct frame *f, u64 vec, u64 el)
{
    u64 esr, far, elr, spsr, hpfar = 0;
    if (el == 3) {
        esr = rd(esr_el3); far = rd(far_el3); elr = rd(elr_el3); spsr = rd(spsr_el3);
    } else if (el == 2) {
        esr = rd(esr_el2); far = rd(far_el2); elr = rd(elr_el2); spsr = rd(spsr_el2);
        hpfar = rd(hpfar_el2);
    } else {
        esr = rd(esr_el1); far = rd(far_el1); elr = rd(elr_el1); spsr = rd(spsr_el1);
    }

    /* return from call_lower(): SVC/HVC/SMC #0xffff from the lower EL */
    if (vec == 0x400 && (esr & 0xffff) == 0xffff) {
        u64 ec = ESR_EC(esr);
        if ((el == 1 && ec == 0x15) || (el == 2 && ec == 0x16) || (el == 3 && ec == 0x17))
            lower_return(f->x[0]);
    }

    struct exc_rec cur = { exc_last.count + 1, el, vec, esr, far, elr, spsr, hpfar };
    exc_last = cur;
    if (exc_log_n < EXC_LOG_MAX)
        exc_log[exc_log_n++] = cur;

    int act = exc_act;
    if (exc_hook)
        act = exc_hook(f, &cur);     /* may edit cur.elr / cur.spsr; may nest exceptions */
    elr = cur.elr;
    spsr = cur.spsr;

    switch (act) {
    case ACT_RETURN: break;
    case ACT_SKIP: elr += 4; break;
    case ACT_LR: elr = f->x[30]; break;
    case ACT_MASK_IF: spsr |= 0xc0; break;
    default:
        pr("FAIL unexpected exception el=%d vec=%x esr=%x elr=%x far=%x spsr=%x\n",
           el, vec, esr, elr, far, spsr);
        done();
    }
    if (el == 3) {
        wr(elr_el3, elr); wr(spsr_el3, spsr);
    } else if (el == 2) {
        wr(elr_el2, elr); wr(spsr_el2, spsr);
    } else {
        wr(elr_el1, elr); wr(spsr_el1, spsr);
    }
}
