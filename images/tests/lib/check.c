#include "check.h"

static void put_addr(const char *sym, u64 base, u64 off, u64 val, int match)
{
    if (match && sym)
        pr("%s+%d", sym, off);
    else
        pr("%x", val);
}

static void put_esr(u64 want, u64 v)
{
    if (want == ESR_ANY)
        puts("esr=-");
    else
        pr("esr=%08x", v);
}

int check_exc(const struct want *w)
{
    volatile struct exc_rec *r = &exc_last;
    u64 elr_exp = (w->elr_sym ? w->elr_base : 0) + w->elr_off;
    u64 far_exp = (w->far_sym ? w->far_base : 0) + w->far_off;
    int ok = r->count == 1 && r->el == w->el && r->vec == w->vec && (w->esr == ESR_ANY || r->esr == w->esr) &&
             r->spsr == w->spsr && r->elr == elr_exp &&
             (!w->far || r->far == far_exp) && (!w->hpfar || r->hpfar == w->hpfar_val);
    if (ok) {
        pr("ok %s el=%d vec=%03x ", w->name, r->el, r->vec);
        put_esr(w->esr, r->esr);
        puts(" elr=");
        put_addr(w->elr_sym, w->elr_base, w->elr_off, r->elr, 1);
        if (w->far) {
            puts(" far=");
            put_addr(w->far_sym, w->far_base, w->far_off, r->far, 1);
        }
        if (w->hpfar)
            pr(" hpfar=%x", r->hpfar);
        pr(" spsr=%x\n", r->spsr);
        return 1;
    }
    pr("FAIL %s expected el=%d vec=%03x ", w->name, w->el, w->vec);
    put_esr(w->esr, w->esr);
    puts(" elr=");
    put_addr(w->elr_sym, w->elr_base, w->elr_off, elr_exp, 1);
    if (w->far) {
        puts(" far=");
        put_addr(w->far_sym, w->far_base, w->far_off, far_exp, 1);
    }
    if (w->hpfar)
        pr(" hpfar=%x", w->hpfar_val);
    pr(" spsr=%x got", w->spsr);
    if (r->count == 0) {
        puts(" no exception\n");
        return 0;
    }
    pr(" el=%d vec=%03x ", r->el, r->vec);
    put_esr(w->esr, r->esr);
    puts(" elr=");
    put_addr(w->elr_sym, w->elr_base, w->elr_off, r->elr, r->elr == elr_exp);
    if (w->far) {
        puts(" far=");
        put_addr(w->far_sym, w->far_base, w->far_off, r->far, r->far == far_exp);
    }
    if (w->hpfar)
        pr(" hpfar=%x", r->hpfar);
    pr(" spsr=%x n=%d\n", r->spsr, r->count);
    return 0;
}

void check_none(const char *name)
{
    if (exc_last.count == 0)
        pr("ok %s no exception\n", name);
    else
        pr("FAIL %s expected no exception got el=%d vec=%03x esr=%08x\n",
           name, exc_last.el, exc_last.vec, exc_last.esr);
}
