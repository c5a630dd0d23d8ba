/* Compare the last recorded exception with an expectation and print one line. */
#ifndef CHECK_H
#define CHECK_H
#include "rt.h"

struct want {
    const char *name;
    u64 el, vec, esr, spsr;
    const char *elr_sym; u64 elr_base; u64 elr_off;   /* elr_sym=0: absolute elr_off */
    int far;  const char *far_sym; u64 far_base; u64 far_off;   /* far=1: check FAR */
    int hpfar; u64 hpfar_val;                          /* hpfar=1: check HPFAR_EL2 */
};
/* returns 1 if it matched */
int check_exc(const struct want *w);
void check_none(const char *name);   /* no exception expected since exc_expect */
#define ESR_ANY (~0UL)   /* asynchronous exception: ESR is not written */
#define SYM(s) #s, (u64)(s)
#endif
