/*
 * The BCM2835 system timer's free-running counter read in C (part of the
 * accelerator, with accel.c and fasttrap.c; mapped on each core's page
 * 0x3F003000 by fasttrap.py): CLO and CHI from virtual time, the runs of CLO
 * reads that Python is asked about (idle.py, quiet.py), and the timer loops
 * advanced within each microsecond once Python has checked them.
 */
#include "fasttrap.h"

/* A loop whose only input is the system timer, checked by Python one
   iteration at a time (quiet.py: no store, no other device access, every
   register back as it was), reads the same CLO and CHI in every iteration
   within one microsecond of virtual time, so there its iterations are all
   the same: at a CLO read from its PC that finds every register as at the
   previous one, one iteration earlier, the iterations whose reads all fall
   before the next microsecond are counted as executed (Unicorn's counter
   advanced) instead of run.  ``*n`` is the counter, updated. */
static void warp(vz_fast *f, void *uc, uint64_t pc, uint64_t *n)
{
    if (pc != f->warp_pc)
        return;
    uint64_t st[VZ_WARP_REGS];
    int ids[VZ_WARP_REGS];
    void *ptrs[VZ_WARP_REGS];
    for (int i = 0; i < VZ_WARP_REGS; i++) {
        ids[i] = f->ids[i < 31 ? R_X0 + i : i == 31 ? R_SP : R_PSTATE];
        st[i] = 0;
        ptrs[i] = &st[i];
    }
    if (f->read_batch(uc, ids, ptrs, VZ_WARP_REGS))
        return;
    int same = f->warp_have && *n - f->warp_at == f->warp_len;
    for (int i = 0; same && i < VZ_WARP_REGS; i++)
        same = st[i] == f->warp_state[i];
    for (int i = 0; i < VZ_WARP_REGS; i++)
        f->warp_state[i] = st[i];
    f->warp_have = 1;
    uint64_t len = f->warp_len, cyc = f->slice_start + *n;
    uint64_t k = ((cyc / 1200 + 1) * 1200 - cyc) / len;    /* this microsecond's iterations */
    k = k ? k - 1 : 0;                                      /* ... each wholly inside it */
    uint64_t room = f->budget > *n + len ? (f->budget - *n - len) / len : 0;
    if (k > room)
        k = room;
    uint32_t word = 0;
    if (same && k && !f->vmem_read(uc, pc, PROT_EXEC, &word, 4) && word == f->warp_word) {
        *n += k * len;
        *f->counter = *n;
        f->warped += k * len;
    }
    f->warp_at = *n;
}

/* A read of the BCM2835 system timer's page (0x3F003000): its free-running
   counter, CLO and CHI, answered here from virtual time as SystemTimer.read
   answers it (micros_at(cycles), cycles = the slice's start + the instructions
   run in it, Core._time_in_round), so that a kernel polling it to wait costs
   no Python; every other register goes to Python. */
uint64_t vz_systimer_read(void *uc, uint64_t offset, unsigned size, void *user_data)
{
    vz_fast *f = (vz_fast *)user_data;
    if (size != 4 || (offset != 4 && offset != 8) || f->timer_to_python)
        return f->timer_python(uc, offset, size, 0);
    uint64_t n = *f->counter;
    f->timer_reads++;
    if (offset == 4 && f->enabled) {
        /* A delay loop polling CLO: after VZ_POLL_ASK reads from one PC at one
           distance, Python sees one (it may skip the loop, idle.py), then not
           again for VZ_POLL_BACKOFF reads. */
        uint64_t pc = 0;
        f->core->reg_read(uc, f->ids[R_PC], &pc);
        uint64_t len = n - f->poll_at;
        if (pc == f->poll_pc && len == f->poll_len)
            f->poll_n++;
        else
            f->poll_n = 0, f->poll_len = len;
        f->poll_pc = pc;
        f->poll_at = n;
        if (f->poll_n == VZ_POLL_ASK && len <= 32) {
            f->poll_n = -VZ_POLL_BACKOFF;
            return f->timer_python(uc, offset, size, 0);
        }
        if (f->warp_pc)
            warp(f, uc, pc, &n);
    }
    uint64_t micros = (f->slice_start + n) / 1200;   /* micros_at: CPU_HZ / 1 MHz */
    return offset == 4 ? (micros & 0xffffffffu) : ((micros >> 32) & 0xffffffffu);
}
