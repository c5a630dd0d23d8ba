/*
 * hypbench: a small type-1 hypervisor for the Raspberry Pi 3, written to be
 * trap-heavy, as a benchmark for vizor against QEMU raspi3b.
 *
 * Core 0 at EL2 (start.S got it here from EL3) runs two VMs, VMID 1 ("A")
 * and VMID 2 ("B"), one vCPU each, on itself:
 *  - stage 2 per VM (VTCR_EL2: 4 KiB granule, 32-bit IPA, walks from level
 *    1): the guest code pages (guest.S) read-only at IPA = PA, shared by
 *    both, and 16 KiB of the VM's own RAM at IPA 0x100000.  Nothing else: the
 *    guests' mini UART accesses are stage-2 translation faults.
 *  - every exit (data abort, HVC, IRQ) saves the running vCPU's EL1 system
 *    registers (EL1_REGS below) with MRS and loads them back with MSR before
 *    the ERET, whether or not the vCPU changed.
 *  - the mini UART is emulated: LSR reads "transmitter empty and idle", IO
 *    writes go to the VM's line queue; whole lines reach the real mini UART
 *    in a fixed order (A's line 1, B's line 1, A's line 2, ...), so what is
 *    printed does not depend on where the switches fell.
 *  - the BCM system timer compare 1 (IRQ 1 of the interrupt controller,
 *    routed to core 0 as at reset) ticks every TICK_US microseconds as a
 *    physical IRQ taken to EL2 (HCR_EL2.IMO); each tick switches to the
 *    other VM (VTTBR_EL2 with its VMID, frame and EL1 registers).
 *  - a guest that has printed its lines issues HVC #1; once both have, the
 *    hypervisor prints "hypbench done" and parks core 0 in WFI, every
 *    interrupt masked.
 * hb_stats counts what happened (not printed: the counts depend on timing).
 */
typedef unsigned long u64;
typedef long s64;
typedef unsigned int u32;
typedef unsigned char u8;

/* The run's size, patchable in the ELF (symbol hb_params; benchmarks/hypervisor.py
   shortens it for its --short mode): */
#define LINES       200             /* lines each guest prints (at most 9999) */
#define WORK        20000           /* xorshift rounds before each line (5 instructions each) */
#define TICK_US     2000            /* time slice: the system timer runs at 1 MHz */

#define SYSTMR_CS       0x3F003000UL
#define SYSTMR_CLO      0x3F003004UL
#define SYSTMR_C1       0x3F003010UL
#define IC_PENDING1     0x3F00B204UL
#define IC_ENABLE1      0x3F00B210UL
#define IC_DISABLE1     0x3F00B21CUL
#define TIMER_M1        (1u << 1)   /* CS.M1, IRQ 1 */
#define GPFSEL1         0x3F200004UL
#define AUX_ENABLES     0x3F215004UL
#define MU_BASE         0x3F215000UL
#define MU_IO           0x40
#define MU_IER          0x44
#define MU_IIR          0x48
#define MU_LCR          0x4c
#define MU_MCR          0x50
#define MU_LSR          0x54
#define MU_CNTL         0x60
#define MU_BAUD         0x68
#define MU_SIZE         0x100
#define LSR_TX_EMPTY    0x20
#define LSR_TX_IDLE     0x40

#define HCR_VM          (1UL << 0)
#define HCR_SWIO        (1UL << 1)
#define HCR_FMO         (1UL << 3)
#define HCR_IMO         (1UL << 4)
#define HCR_AMO         (1UL << 5)
#define HCR_TSC         (1UL << 19)
#define HCR_RW          (1UL << 31)
/* VTCR_EL2: T0SZ 32 (4 GiB IPA), SL0 1 (start at level 1), walks non-cacheable
   (EL2 runs with its MMU and caches off), 4 KiB granule, PS 32 bits */
#define VTCR            ((1UL << 31) | (1UL << 6) | 32)

/* stage-2 descriptors */
#define S2_TABLE        3UL
#define S2_PAGE         3UL
#define S2_NORMAL_WB    (0xfUL << 2)
#define S2_AP_RO        (1UL << 6)
#define S2_AP_RW        (3UL << 6)
#define S2_SH_INNER     (3UL << 8)
#define S2_AF           (1UL << 10)
#define S2_XN           (1UL << 54)

#define EC_HVC64        0x16
#define EC_DABT_LOWER   0x24
#define ISS_ISV         (1u << 24)

#define GUEST_RAM_IPA   0x100000UL
#define GUEST_RAM_SIZE  0x4000UL
#define NVM             2
#define QUEUE_SIZE      16384       /* bytes of complete lines a VM may be ahead */

struct frame { u64 x[31]; u64 elr, spsr, pad; };   /* start.S: FRAME_SIZE 272 */

/* the EL1 context: saved on every exit, restored before every entry */
#define EL1_REGS(X) \
    X(sctlr_el1) X(ttbr0_el1) X(ttbr1_el1) X(tcr_el1) X(mair_el1) X(amair_el1) \
    X(vbar_el1) X(contextidr_el1) X(tpidr_el0) X(tpidr_el1) X(tpidrro_el0) \
    X(sp_el0) X(sp_el1) X(elr_el1) X(spsr_el1) X(esr_el1) X(far_el1) \
    X(afsr0_el1) X(afsr1_el1) X(par_el1) X(cpacr_el1) X(cntkctl_el1) \
    X(csselr_el1) X(mdscr_el1) X(cntv_ctl_el0) X(cntv_cval_el0) \
    X(vmpidr_el2) X(vpidr_el2)
#define AS_ENUM(r) R_##r,
enum { EL1_REGS(AS_ENUM) N_EL1 };

struct queue { u8 buf[QUEUE_SIZE]; u32 head, tail, lines; };

struct vcpu {
    struct frame ctx;               /* while not running */
    u64 el1[N_EL1];
    u64 vttbr;
    int done;
    char name;
    struct queue out;
};

struct stats {
    u64 exits, aborts, lsr_reads, io_writes, other_mmio, hvcs, ticks, switches, lines;
};

struct params { u64 lines, work, tick_us; };
const volatile struct params hb_params = { LINES, WORK, TICK_US };
struct stats hb_stats;
struct vcpu hb_vcpu[NVM];
int hb_current;                     /* index of the vCPU on core 0 */
u32 hb_next_tick;                   /* CLO value of the next tick */
static int turn;                    /* whose line the console prints next */

/* stage 2: per VM a level 1, 2 and 3 table */
static u64 s2_tables[NVM][3][512] __attribute__((aligned(4096)));
/* the VMs' RAM */
static u8 guest_ram[NVM][GUEST_RAM_SIZE] __attribute__((aligned(4096)));

extern char __guest_start[], __guest_end[];
extern void guest_entry(void);
void hb_enter(const struct frame *f) __attribute__((noreturn));
void hb_park(void) __attribute__((noreturn));

#define MRS(r) ({ u64 _v; __asm__ volatile("mrs %0, " #r : "=r"(_v)); _v; })
#define MSR(r, v) __asm__ volatile("msr " #r ", %0" :: "r"((u64)(v)))

static inline u32 rd32(u64 a) { return *(volatile u32 *)a; }
static inline void wr32(u64 a, u32 v) { *(volatile u32 *)a = v; }

/* ---- EL1 context ---- */

#define SAVE(r) v->el1[R_##r] = MRS(r);
#define LOAD(r) MSR(r, v->el1[R_##r]);

static void el1_save(struct vcpu *v) { EL1_REGS(SAVE) }
static void el1_load(struct vcpu *v) { EL1_REGS(LOAD) }

static void copy_frame(struct frame *to, const struct frame *from)
{
    const volatile u64 *s = (const volatile u64 *)from;
    volatile u64 *d = (volatile u64 *)to;
    for (unsigned i = 0; i < sizeof(struct frame) / 8; i++)
        d[i] = s[i];
}

/* ---- the real mini UART (EL2's console) ---- */

static void uart_init(void)
{
    u32 sel = rd32(GPFSEL1);
    sel &= ~((7u << 12) | (7u << 15));
    sel |= (2u << 12) | (2u << 15);             /* GPIO 14, 15: ALT5 = TXD1, RXD1 */
    wr32(GPFSEL1, sel);
    wr32(AUX_ENABLES, rd32(AUX_ENABLES) | 1);
    wr32(MU_BASE + MU_CNTL, 0);
    wr32(MU_BASE + MU_IER, 0);
    wr32(MU_BASE + MU_LCR, 3);                  /* 8 bits */
    wr32(MU_BASE + MU_MCR, 0);
    wr32(MU_BASE + MU_IIR, 0xc6);               /* clear both FIFOs */
    wr32(MU_BASE + MU_BAUD, 270);               /* 115200 at a 250 MHz core clock */
    wr32(MU_BASE + MU_CNTL, 3);
}

static void putc(char c)
{
    while (!(rd32(MU_BASE + MU_LSR) & LSR_TX_EMPTY))
        ;
    wr32(MU_BASE + MU_IO, (u8)c);
}

static void puts(const char *s)
{
    while (*s)
        putc(*s++);
}

static void puthex(u64 v, int digits)
{
    for (int i = digits - 1; i >= 0; i--)
        putc("0123456789abcdef"[(v >> (4 * i)) & 0xf]);
}

static void putdec(u64 v)
{
    char b[20];
    int n = 0;
    do { b[n++] = '0' + v % 10; v /= 10; } while (v);
    while (n)
        putc(b[--n]);
}

static void __attribute__((noreturn)) panic(const char *why, u64 esr, u64 elr)
{
    puts("\nhypbench: panic: ");
    puts(why);
    puts(" (VM ");
    putc(hb_vcpu[hb_current].name);
    puts(", ESR_EL2 ");
    puthex(esr, 8);
    puts(", ELR_EL2 ");
    puthex(elr, 8);
    puts(")\n");
    hb_park();
}

/* ---- console: the guests' lines, in a fixed order ---- */

static void queue_put(struct vcpu *v, u8 c)
{
    struct queue *q = &v->out;
    if (q->head - q->tail == QUEUE_SIZE)
        panic("console queue full", 0, 0);
    q->buf[q->head++ % QUEUE_SIZE] = c;
    if (c == '\n')
        q->lines++;
}

static void queue_print_line(struct queue *q)
{
    u8 c;
    do {
        c = q->buf[q->tail++ % QUEUE_SIZE];
        putc(c);
    } while (c != '\n');
    q->lines--;
}

/* Print what the order allows: the VM whose turn it is prints one line, then
 * the other; a finished VM with nothing left gives up its turns. */
static void console_drain(void)
{
    for (;;) {
        struct vcpu *v = &hb_vcpu[turn], *o = &hb_vcpu[turn ^ 1];
        if (v->out.lines) {
            queue_print_line(&v->out);
            hb_stats.lines++;
            turn ^= 1;
        } else if (v->done && o->out.lines) {
            turn ^= 1;
        } else {
            return;
        }
    }
}

/* ---- the emulated mini UART ---- */

static u32 vuart_read(u64 off)
{
    if (off == MU_LSR) {
        hb_stats.lsr_reads++;
        return LSR_TX_EMPTY | LSR_TX_IDLE;
    }
    hb_stats.other_mmio++;
    return 0;                       /* IO: no input; the rest reads as reset */
}

static void vuart_write(struct vcpu *v, u64 off, u32 val)
{
    if (off == MU_IO) {
        hb_stats.io_writes++;
        queue_put(v, (u8)val);
        if (val == '\n')
            console_drain();
    } else {
        hb_stats.other_mmio++;
    }
}

/* ---- scheduling ---- */

static void switch_to(struct frame *f, int next)
{
    struct vcpu *v = &hb_vcpu[next];
    copy_frame(&hb_vcpu[hb_current].ctx, f);
    copy_frame(f, &v->ctx);
    hb_current = next;
    MSR(vttbr_el2, v->vttbr);
    __asm__ volatile("isb");
    hb_stats.switches++;
}

static void __attribute__((noreturn)) finish(void)
{
    wr32(IC_DISABLE1, TIMER_M1);
    console_drain();
    puts("hypbench done\n");
    hb_park();
}

/* ---- exits ---- */

static void data_abort(struct vcpu *v, struct frame *f, u64 esr)
{
    u32 iss = esr & 0x1ffffff;
    u64 ipa = ((MRS(hpfar_el2) >> 4) << 12) | (MRS(far_el2) & 0xfff);
    if (!(iss & ISS_ISV))
        panic("data abort without syndrome", esr, f->elr);
    if ((iss & 0x3c) != 0x04)       /* DFSC: translation fault, any level */
        panic("data abort that is not a translation fault", esr, f->elr);
    if (((iss >> 22) & 3) != 2 || ipa < MU_BASE || ipa >= MU_BASE + MU_SIZE)
        panic("access outside the mini UART or not 32 bits", esr, ipa);
    unsigned rt = (iss >> 16) & 31;
    hb_stats.aborts++;
    if (iss & (1u << 6)) {          /* WnR */
        vuart_write(v, ipa - MU_BASE, rt == 31 ? 0 : (u32)f->x[rt]);
    } else {
        u32 val = vuart_read(ipa - MU_BASE);
        if (rt != 31)
            f->x[rt] = val;
    }
    f->elr += 4;
}

void hb_guest_sync(struct frame *f)
{
    struct vcpu *v = &hb_vcpu[hb_current];
    el1_save(v);
    hb_stats.exits++;
    u64 esr = MRS(esr_el2);
    switch (esr >> 26) {
    case EC_DABT_LOWER:
        data_abort(v, f, esr);
        break;
    case EC_HVC64:
        hb_stats.hvcs++;
        if ((esr & 0xffff) != 1)
            panic("exception in the guest (HVC #2 from its vectors)", v->el1[R_esr_el1], v->el1[R_elr_el1]);
        v->done = 1;
        console_drain();
        if (hb_vcpu[hb_current ^ 1].done)
            finish();
        switch_to(f, hb_current ^ 1);
        break;
    default:
        panic("unexpected exit", esr, f->elr);
    }
    el1_load(&hb_vcpu[hb_current]);
}

void hb_guest_irq(struct frame *f)
{
    el1_save(&hb_vcpu[hb_current]);
    hb_stats.exits++;
    if (rd32(IC_PENDING1) & TIMER_M1) {
        wr32(SYSTMR_CS, TIMER_M1);
        u32 now = rd32(SYSTMR_CLO);
        hb_next_tick += hb_params.tick_us;
        if ((int)(hb_next_tick - now) <= 0)    /* late: a whole period from now */
            hb_next_tick = now + hb_params.tick_us;
        wr32(SYSTMR_C1, hb_next_tick);
        hb_stats.ticks++;
        if (!hb_vcpu[hb_current ^ 1].done)
            switch_to(f, hb_current ^ 1);
    }
    el1_load(&hb_vcpu[hb_current]);
}

void hb_bad_vector(struct frame *f, u64 offset)
{
    puts("\nhypbench: unexpected exception at EL2, vector offset ");
    puthex(offset, 3);
    puts(", ESR_EL2 ");
    puthex(MRS(esr_el2), 8);
    puts(", ELR_EL2 ");
    puthex(f->elr, 8);
    putc('\n');
}

/* ---- boot ---- */

static void stage2_build(int i)
{
    u64 *l1 = s2_tables[i][0], *l2 = s2_tables[i][1], *l3 = s2_tables[i][2];
    l1[0] = (u64)l2 | S2_TABLE;                 /* IPA 0-1 GiB */
    l2[0] = (u64)l3 | S2_TABLE;                 /* IPA 0-2 MiB, 4 KiB pages */
    for (u64 pa = (u64)__guest_start; pa < (u64)__guest_end; pa += 4096)
        l3[pa >> 12] = pa | S2_PAGE | S2_NORMAL_WB | S2_AP_RO | S2_SH_INNER | S2_AF;
    for (u64 off = 0; off < GUEST_RAM_SIZE; off += 4096)
        l3[(GUEST_RAM_IPA + off) >> 12] = ((u64)guest_ram[i] + off) | S2_PAGE | S2_NORMAL_WB |
                                           S2_AP_RW | S2_SH_INNER | S2_AF | S2_XN;
}

static void vcpu_init(int i)
{
    struct vcpu *v = &hb_vcpu[i];
    v->name = 'A' + i;
    v->vttbr = ((u64)(i + 1) << 48) | (u64)s2_tables[i][0];     /* VMID i + 1 */
    v->ctx.x[0] = v->name;
    v->ctx.x[1] = hb_params.lines;
    v->ctx.x[2] = hb_params.work;
    v->ctx.elr = (u64)guest_entry;
    v->ctx.spsr = 0x3c5;                        /* EL1h, D A I F set */
    v->el1[R_sctlr_el1] = 0x30d00800;           /* reset value: MMU and caches off */
    v->el1[R_sp_el1] = GUEST_RAM_IPA + GUEST_RAM_SIZE;
    v->el1[R_vmpidr_el2] = 0x80000000;          /* a uniprocessor guest sees core 0 */
    v->el1[R_vpidr_el2] = MRS(midr_el1);
    v->el1[R_csselr_el1] = 0;
    stage2_build(i);
}

void hb_main(void)
{
    uart_init();
    puts("hypbench: EL3 -> EL2, 2 VMs of ");
    putdec(hb_params.lines);
    puts(" lines, ");
    putdec(hb_params.work);
    puts(" rounds of work a line, stage-2 trapped mini UART, ");
    putdec(hb_params.tick_us);
    puts(" us system timer slice\n");
    if ((u64)__guest_end > GUEST_RAM_IPA)
        panic("guest code overlaps the guest RAM IPA", 0, 0);
    for (int i = 0; i < NVM; i++)
        vcpu_init(i);

    MSR(vtcr_el2, VTCR);
    MSR(hcr_el2, HCR_RW | HCR_TSC | HCR_AMO | HCR_IMO | HCR_FMO | HCR_SWIO | HCR_VM);
    __asm__ volatile("isb; tlbi alle1; dsb sy; isb" ::: "memory");

    wr32(SYSTMR_CS, TIMER_M1);                  /* a stale match */
    hb_next_tick = rd32(SYSTMR_CLO) + hb_params.tick_us;
    wr32(SYSTMR_C1, hb_next_tick);
    wr32(IC_ENABLE1, TIMER_M1);                 /* GPU IRQs go to core 0 (ARM-local reset routing) */

    hb_current = 0;
    struct vcpu *v = &hb_vcpu[0];
    MSR(vttbr_el2, v->vttbr);
    el1_load(v);
    __asm__ volatile("isb");
    hb_enter(&v->ctx);
}
