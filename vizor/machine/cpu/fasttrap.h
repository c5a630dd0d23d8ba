/*
 * What fasttrap.c (exceptions taken in C) and systimer.c (the system timer's
 * counter read in C) share: the per-core state of the native fast paths
 * (fasttrap.py declares the same layout with ctypes; keep them in step and
 * bump VZ_ABI in accel.h with them).
 */
#ifndef VZ_FASTTRAP_H
#define VZ_FASTTRAP_H

#include "accel.h"


#define VZ_RING 1024
#define VZ_WAYS 4                     /* a set per PC and word: a guest's same access under */
#define VZ_ABORTS (64 * VZ_WAYS)      /* several VMIDs or address spaces */
#define VZ_WALK_WORDS 24              /* a two-stage walk of 4 + 4 x 5 descriptors */
#define VZ_NTR 12                     /* faults._TR_NAMES */
#define VZ_TR_HCR 5
#define VZ_TR_VTTBR 7
/* HCR_EL2.VF, VI and VSE: pending virtual interrupts, which no walk reads
   (mmu.py) and a hypervisor flips often; left out of the key (fasttrap.py too) */
#define VZ_HCR_VIRQS (7ull << 6)
#define VZ_WARP_REGS 33               /* X0-X30, SP, PSTATE (NZCV with it) */
#define VZ_POLL_ASK 8
#define VZ_POLL_BACKOFF 4096

/* QEMU exception numbers (target/arm/cpu.h) */
enum { EXCP_SWI = 2, EXCP_DATA_ABORT = 4, EXCP_HVC = 11 };
enum { PROT_EXEC = 4 };
/* load/store address forms (insn.LoadStore.mode) */
enum { MODE_IMM = 0, MODE_POST = 1, MODE_REG = 2, MODE_LITERAL = 3 };

/* Unicorn register ids Python fills in (fasttrap.py: IDS, same order). */
enum {
    R_PC, R_PSTATE, R_SP, R_SP_EL0, R_SP_EL1, R_SP_EL2, R_SP_EL3,
    R_ELR1, R_ELR2, R_ELR3, R_ESR1, R_ESR2, R_ESR3, R_FAR1, R_FAR2, R_FAR3,
    R_VBAR1, R_VBAR2, R_VBAR3, R_X0, VZ_NIDS = R_X0 + 31
};

typedef void (*vz_intr)(void *uc, uint32_t intno, void *user_data);
typedef uint64_t (*vz_mmio_read)(void *uc, uint64_t offset, unsigned size, void *user_data);

/* One exception taken in C, for ExceptionRecord. */
typedef struct {
    uint64_t esr, elr, far, hpfar, time;
    int32_t from_el, to_el, has_far, has_hpfar, vmid;   /* vmid < 0: none */
    int32_t pad;
} vz_exc;

/* A data abort Python classified: the key, what validates it, the syndrome. */
typedef struct {
    uint64_t pc, va;
    int64_t imm;
    uint32_t word;
    int32_t valid, el, mode, rn, rm, extend, shift, nwords, has_hpfar;
    int32_t unused_tr, pad;           /* TTBR0 or TTBR1_EL1: the one this VA's walk never reads */
    uint64_t tr[VZ_NTR];
    uint64_t widx[VZ_WALK_WORDS], wval[VZ_WALK_WORDS];   /* RAM word index, value */
    uint64_t esr, hpfar;
} vz_abort;

typedef struct {
    vz_core *core;
    vz_intr python;                   /* Python's UC_HOOK_INTR callback */
    int32_t enabled;                  /* set by Python for each slice */
    int32_t nring;
    uint64_t taken, declined;
    uint64_t *counter;                /* Unicorn's instruction counter (Core._counter) */
    const uint64_t *ram;              /* guest RAM from PA 0, as 64-bit words */
    uint64_t ram_words;
    vz_reg_batch read_batch, write_batch;
    vz_vmem_read vmem_read;
    int32_t ids[VZ_NIDS];
    vz_cp tr_cp[VZ_NTR];              /* the translation registers, by encoding */
    vz_cp hpfar_cp, spsr_cp[4], vttbr_cp;
    /* Core._stuck_sig and _stuck_n (entry.py), kept here */
    uint64_t sig_elr, sig_esr, sig_vec;
    int32_t sig_set, stuck_n;
    /* the system timer's page (see vz_systimer_read) */
    uint64_t slice_start;             /* Core._slice_start of the running slice */
    vz_mmio_read timer_python;        /* the page's other registers: Python (mmio_access.py) */
    int32_t timer_to_python;          /* every read to Python (an abandoned load completed) */
    int32_t poll_n;                   /* CLO reads in a row from poll_pc, poll_len apart */
    uint64_t poll_pc, poll_at, poll_len;
    uint64_t timer_reads;             /* CLO/CHI reads answered here (cpu/quiet.py) */
    /* a loop that reads only the system timer, advanced within each microsecond (see warp) */
    uint64_t budget;                  /* the slice's instruction budget */
    uint64_t warp_pc, warp_len, warp_at, warped;
    uint32_t warp_word;
    int32_t warp_have;
    uint64_t warp_state[VZ_WARP_REGS];
    vz_exc ring[VZ_RING];
    vz_abort aborts[VZ_ABORTS];
} vz_fast;

#endif
