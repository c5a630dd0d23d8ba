/*
 * vizor demo hypervisor: boot.  Core 0 builds the EL2 identity map and one VM
 * per entry of hyp_vm_images (guests.S), releases cores 1-3, waits for them,
 * then every core schedules vCPUs (sched.c).  Memory map: images/README.md.
 * A VM's image comes from the SD card when its FAT32 partition 1 holds
 * <NAME>.BIN for the VM's guest (ECHO.BIN, MINIOS.BIN), else built in.
 */
#include "hyp.h"

struct vm vms[MAX_VMS];
int nvms;
volatile u64 hyp_release;
volatile u64 hyp_cores_up;
static u64 entry_el;
static int sd_state;                /* SD_NONE, SD_NO_FAT, SD_MOUNTED */
enum { SD_NONE, SD_NO_FAT, SD_MOUNTED };

extern u64 hyp_l1[512], hyp_l2[512];
extern char _start[], __hyp_end[];

/* stage-2 tables: a level-1 table (4 entries, T0SZ=32) and one level-2 table */
static u64 s2_l1[MAX_VMS][512] __attribute__((aligned(4096), section(".tables")));
static u64 s2_l2[MAX_VMS][512] __attribute__((aligned(4096), section(".tables")));

/* descriptor bits */
#define D_VALID     (1UL << 0)
#define D_TABLE     (3UL << 0)
#define D_AF        (1UL << 10)
#define D_SH_INNER  (3UL << 8)
#define D_XN        (1UL << 54)
#define S1_ATTR(n)  ((u64)(n) << 2)         /* MAIR_EL2 index: 0 normal, 1 device */
#define S2_NORMAL   (0xfUL << 2)            /* MemAttr: outer/inner write-back */
#define S2_RW       (3UL << 6)
#define VTCR_VAL    0x80003560UL            /* T0SZ=32, SL0=1 (level 1), 4K, WB, inner shareable */

/* Cortex-A53 r0p4 ID values as the BCM2837 has them (no crypto), as seen by
 * a guest: EL2 and EL3 are not offered (ID_AA64PFR0_EL1 EL2/EL3 fields 0),
 * and the IMPLEMENTATION DEFINED ID_AA64AFR0_EL1 holds the VMID. */
#define ID_AA64PFR0 0x0022UL
#define ID_AA64DFR0 0x10305106UL
#define ID_AA64ISAR0 0x00010000UL
#define ID_AA64MMFR0 0x00001122UL
#define IDX(crm, op2) (((crm) - 1) * 8 + (op2))

static void mmu_build(void)
{
    hyp_l1[0] = (u64)hyp_l2 | D_TABLE;
    hyp_l1[1] = 0x40000000UL | D_VALID | D_AF | S1_ATTR(1) | D_XN;   /* ARM-local */
    for (u64 i = 0; i < 512; i++) {
        u64 pa = i << 21;
        if (pa < PERIPH_BASE)
            hyp_l2[i] = pa | D_VALID | D_AF | D_SH_INNER | S1_ATTR(0);
        else
            hyp_l2[i] = pa | D_VALID | D_AF | S1_ATTR(1) | D_XN;
    }
    __asm__ volatile("dsb sy");
}

/* the compiler's own calls for struct copies */
void *memcpy(void *dst, const void *src, unsigned long n)
{
    u8 *d = dst;
    const u8 *s = src;
    if ((((u64)d | (u64)s | n) & 7) == 0) {
        for (u64 i = 0; i < n / 8; i++)
            ((u64 *)d)[i] = ((const u64 *)s)[i];
        return dst;
    }
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, unsigned long n)
{
    u8 *d = dst;
    while (n--)
        *d++ = (u8)c;
    return dst;
}

static void clean_to_poc(u64 start, u64 len)
{
    for (u64 a = start & ~63UL; a < start + len; a += 64)
        __asm__ volatile("dc cvac, %0" : : "r"(a) : "memory");
    __asm__ volatile("dsb sy\n ic iallu\n dsb sy\n isb" ::: "memory");
}

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* the file name on the card: "minios" -> "MINIOS.BIN" (dot = 1) or the
 * directory entry's "MINIOS  BIN" (dot = 0); names of up to 8 characters */
static void file_name(const char *name, char *out, int dot)
{
    int k = 0, o = 0;
    for (; k < 8 && name[k]; k++)
        out[o++] = name[k] >= 'a' && name[k] <= 'z' ? name[k] - 'a' + 'A' : name[k];
    while (!dot && o < 8)
        out[o++] = ' ';
    if (dot)
        out[o++] = '.';
    out[o++] = 'B';
    out[o++] = 'I';
    out[o++] = 'N';
    out[o] = 0;
}

/* VM i's image from the card into its RAM: its size, or -1 */
static s64 load_from_sd(int i, const char *name)
{
    char n83[12];
    for (int j = 0; j < i; j++)                     /* another instance read it already */
        if (vms[j].sd_bytes >= 0 && streq(vms[j].name, name)) {
            memcpy((void *)GUEST_PA(i), (void *)vms[j].pa, vms[j].sd_bytes);
            return vms[j].sd_bytes;
        }
    file_name(name, n83, 0);
    return fat_load(n83, (u8 *)GUEST_PA(i), GUEST_MAX_IMAGE);
}

static void vm_create(int i, const struct guest_image *img)
{
    struct vm *vm = &vms[i];
    u64 size = img->end - img->start;

    vm->vmid = i + 1;
    vm->name = img->name;
    vm->pa = GUEST_PA(i);
    /* Guest RAM beyond the image is not cleared (guest_contract.md): each
     * DC on vizor is a hooked instruction, and the boards start zeroed. */
    vm->sd_bytes = sd_state == SD_MOUNTED ? load_from_sd(i, img->name) : -1;
    if (vm->sd_bytes >= 0) {
        size = vm->sd_bytes;
    } else {
        if (size > GUEST_MAX_IMAGE)
            hyp_panic("guest image larger than 1 MiB");
        memcpy((void *)vm->pa, img->start, size);
    }
    clean_to_poc(vm->pa, size);

    /* IPA 0-16 MiB -> vm->pa, 2 MiB blocks; the device window stays unmapped */
    s2_l1[i][0] = (u64)s2_l2[i] | D_TABLE;
    for (u64 b = 0; b < GUEST_RAM_SIZE >> 21; b++)
        s2_l2[i][b] = (vm->pa + (b << 21)) | D_VALID | D_AF | D_SH_INNER | S2_NORMAL | S2_RW;
    vm->vttbr = ((u64)vm->vmid << 48) | (u64)s2_l1[i];

    vm->idregs[IDX(4, 0)] = ID_AA64PFR0;
    vm->idregs[IDX(5, 0)] = ID_AA64DFR0;
    vm->idregs[IDX(5, 4)] = vm->vmid;               /* ID_AA64AFR0_EL1 */
    vm->idregs[IDX(6, 0)] = ID_AA64ISAR0;
    vm->idregs[IDX(7, 0)] = ID_AA64MMFR0;

    vdev_reset(vm);
    struct vcpu *v = &vm->vcpu;
    v->vm = vm;
    v->core = -1;
    v->vmpidr = 0x80000000UL;                       /* Aff0-3 = 0, RES1 bit 31 */
    v->ctx.elr = 0;
    v->ctx.spsr = 0x3c5;                            /* EL1h, DAIF masked */
    v->el1[R_sctlr_el1] = 0x30d00800UL;             /* reset value: MMU and caches off */
}

static void banner(void)
{
    con_hyp_line();
    con_puts("vizor demo hypervisor, entered at EL");
    con_dec(entry_el);
    con_puts(", ");
    con_dec(nvms);
    con_puts(" VMs, ");
    con_dec(1000 / TICK_HZ);
    con_puts(" ms time slice\n");
    con_hyp_line();
    int from_sd = 0;
    for (int i = 0; i < nvms; i++)
        from_sd += vms[i].sd_bytes >= 0;
    if (sd_state == SD_NONE)
        con_puts("guests: built in (no SD card)\n");
    else if (sd_state == SD_NO_FAT)
        con_puts("guests: built in (no FAT32 in partition 1 of the SD card)\n");
    else {
        con_puts("guests: ");
        con_dec(from_sd);
        con_puts(" of ");
        con_dec(nvms);
        con_puts(" VMs from the SD card\n");
    }
    for (int i = 0; i < nvms; i++) {
        struct vm *vm = &vms[i];
        con_hyp_line();
        con_puts("VM ");
        con_dec(vm->vmid);
        con_puts(" (");
        con_puts(vm->name);
        con_puts("): IPA 0x0-0xffffff at PA 0x");
        con_hex(vm->pa, 8);
        con_puts(", VTTBR_EL2 0x");
        con_hex(vm->vttbr, 16);
        con_putc('\n');
        if (sd_state != SD_MOUNTED)
            continue;
        char file[16];
        file_name(vm->name, file, 1);
        con_hyp_line();
        con_puts("VM ");
        con_dec(vm->vmid);
        if (vm->sd_bytes >= 0) {
            con_puts(": ");
            con_puts(file);
            con_puts(" from the SD card, ");
            con_dec(vm->sd_bytes);
            con_puts(" bytes\n");
        } else {
            con_puts(": no ");
            con_puts(file);
            con_puts(" on the SD card, built in\n");
        }
    }
}

static void start_guests(void)
{
    hyp_lock();
    con_hyp_line();
    con_dec(hyp_cores_up);
    con_puts(" cores up; Ctrl-A h for help; console: VM 1 (");
    con_puts(vms[0].name);
    con_puts(")\n");
    for (int i = 0; i < nvms; i++)
        sched_make_ready(&vms[i].vcpu);
    con_rx_irq();   /* bytes typed before now: their interrupt was cleared in con_init */
}

static void run(int core)
{
    struct frame f __attribute__((aligned(16)));  /* the first guest's context lands here, then ERET */
    extern void hyp_enter_guest(struct frame *f);
    WRITE_SYSREG(vpidr_el2, READ_SYSREG(midr_el1));
    WRITE_SYSREG(vtcr_el2, VTCR_VAL);
    sched_init_core(core);
    if (core)
        hyp_lock();
    sched_exit(&f, 0);
    hyp_enter_guest(&f);
}

void hyp_secondary_main(u64 core)
{
    __atomic_fetch_add(&hyp_cores_up, 1, __ATOMIC_SEQ_CST);
    run(core);
}

void hyp_main(u64 el)
{
    entry_el = el;
    mmu_build();
    mmu_enable();
    con_init();
    sd_state = sd_init() ? SD_NONE : fat_mount() ? SD_NO_FAT : SD_MOUNTED;
    nvms = hyp_nvms > MAX_VMS ? MAX_VMS : hyp_nvms;
    for (int i = 0; i < nvms; i++)
        vm_create(i, &hyp_vm_images[i]);
    __asm__ volatile("tlbi alle1is\n dsb sy\n isb" ::: "memory");
    hyp_lock();
    banner();
    hyp_unlock();

    hyp_cores_up = 1;
    hyp_release = 1;
    __asm__ volatile("dc civac, %0\n dsb sy" : : "r"(&hyp_release) : "memory");
    if (entry_el == 2) {        /* the firmware parked cores 1-3 on its spin table */
        volatile u64 *spin = (volatile u64 *)0xd8UL;
        __asm__("" : "+r"(spin));
        for (int slot = 1; slot < NCORES; slot++)
            spin[slot] = (u64)_start;
    }   /* entered at EL3, every core is in _start already (and at 0, 0xd8 is our code) */
    __asm__ volatile("dsb sy\n sev" ::: "memory");
    for (int c = 1; c < NCORES; c++)                /* wake cores waiting in WFI */
        mmio_write(LOCAL_MBOX_SET(c, 0), 1);
    for (u64 n = 0; hyp_cores_up < NCORES && n < 10000000; n++)
        __asm__ volatile("yield");
    start_guests();                                 /* keeps the lock for run() */
    run(0);
}
