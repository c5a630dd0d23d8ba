/*
 * What accel.c (the system-register filter) and fasttrap.c (the exception
 * fast path) share: the per-core state Python mirrors (accel.py declares the
 * same layouts with ctypes; keep the two in step and bump VZ_ABI with them).
 */
#ifndef VZ_ACCEL_H
#define VZ_ACCEL_H

#include <stddef.h>
#include <stdint.h>

#define VZ_ABI 5

/* uc_arm64_cp_reg of unicorn/arm64.h */
typedef struct {
    uint32_t crn, crm, op0, op1, op2;
    uint64_t val;
} vz_cp;

typedef int (*vz_reg_read)(void *uc, int regid, void *value);
typedef int (*vz_reg_write)(void *uc, int regid, const void *value);
typedef int (*vz_reg_batch)(void *uc, int *regs, void **vals, int count);
typedef int (*vz_vmem_read)(void *uc, uint64_t address, int prot, void *bytes, size_t size);
typedef int (*vz_vmem_translate)(void *uc, uint64_t address, int prot, uint64_t *paddress);
typedef uint32_t (*vz_python)(void *uc, int reg, const vz_cp *cp, void *user_data);

#define VZ_MAX_WATCH 8
#define VZ_IC_LINES 64

/* One per core, shared by its three hooks; Python keeps hcr/scr/watch current. */
typedef struct {
    uint64_t hcr, scr;
    uint64_t native, python;          /* accesses kept in C / sent to Python */
    vz_reg_read reg_read;             /* Unicorn's uc_reg_read */
    int32_t pstate_id;                /* UC_ARM64_REG_PSTATE */
    uint32_t nwatch;                  /* watched MSR encodings; VZ_WATCH_ALL: every MSR */
    uint32_t watch[VZ_MAX_WATCH];
    uint64_t spsr[4];                 /* SPSR_EL1..3 as last written (Core._spsr is this array) */
    int32_t eret_watch;               /* Core._eret_watch, mirrored by Python */
    int32_t cp_reg_id;                /* UC_ARM64_REG_CP_REG */
    vz_reg_write reg_write;           /* Unicorn's uc_reg_write */
    int32_t ic_local;                 /* no other core ran since this one's code was all dropped */
    int32_t ic_others;                /* set by an IC ...IS kept in C: the others drop theirs */
    uint8_t *tlb_stale;               /* the board's flags, one per core (Core.invalidate_tlb); NULL: none */
    int32_t index;                    /* this core's index in them */
    int32_t pc_id;                    /* UC_ARM64_REG_PC */
    void *fast;                       /* this core's vz_fast (slice start, counter); NULL: none */
    uint64_t voff, hctl;              /* CNTVOFF_EL2 and CNTHCTL_EL2 as the timer model holds them */
    uint64_t poll_pc, poll_at;        /* the last CNTPCT/CNTVCT read (Core._last_poll): PC, cycle */
    int32_t poll_kind;                /* ... 0 none, 1 CNTPCT_EL0, 2 CNTVCT_EL0 */
    int32_t skip_idle;                /* Core.skip_idle */
    uint64_t counter_reads;           /* CNTPCT/CNTVCT reads answered in C */
    vz_vmem_translate vmem_translate; /* Unicorn's uc_vmem_translate */
    int32_t cur_reg;                  /* the register operand of the access being filtered */
    int32_t ic_n;                     /* IC IVAU lines kept in C this run (PAs): the others drop them */
    uint64_t ic_lines[VZ_IC_LINES];
} vz_core;

#endif
