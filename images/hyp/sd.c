/*
 * vizor demo hypervisor: the SD card, read at boot (core 0, before the VMs
 * exist) through the EMMC host controller at 0x3F300000, polled.  BCM2835
 * ARM Peripherals ch. 5 for the registers, the SD Physical Layer spec for
 * the commands: GPIO 48-53 to ALT3 (the EMMC), host reset, identification
 * clock, CMD0, CMD8, CMD55+ACMD41 until powered up, CMD2, CMD3, CMD7, CMD16;
 * then CMD17 single-block reads.  Every wait is bounded: no card, or a card
 * that does not answer, makes sd_init fail and the built-in guests boot.
 */
#include "hyp.h"

#define EMMC_BASE       0x3F300000UL
#define EMMC_BLKSIZECNT (EMMC_BASE + 0x04)
#define EMMC_ARG1       (EMMC_BASE + 0x08)
#define EMMC_CMDTM      (EMMC_BASE + 0x0C)
#define EMMC_RESP0      (EMMC_BASE + 0x10)
#define EMMC_DATA       (EMMC_BASE + 0x20)
#define EMMC_STATUS     (EMMC_BASE + 0x24)
#define EMMC_CONTROL0   (EMMC_BASE + 0x28)
#define EMMC_CONTROL1   (EMMC_BASE + 0x2C)
#define EMMC_INTERRUPT  (EMMC_BASE + 0x30)
#define EMMC_IRPT_MASK  (EMMC_BASE + 0x34)
#define EMMC_IRPT_EN    (EMMC_BASE + 0x38)

#define SR_CMD_INHIBIT  (1u << 0)
#define C1_CLK_INTLEN   (1u << 0)
#define C1_CLK_STABLE   (1u << 1)
#define C1_CLK_EN       (1u << 2)
#define C1_TOUNIT_MAX   (0xeu << 16)
#define C1_SRST_HC      (1u << 24)
#define INT_CMD_DONE    (1u << 0)
#define INT_DATA_DONE   (1u << 1)
#define INT_READ_RDY    (1u << 5)
#define INT_ERRORS      0xffff8000u

/* CMDTM: index << 24 | response type << 16 | ISDATA | direction */
#define RSP_NONE        0x000000u
#define RSP_136         0x010000u
#define RSP_48          0x020000u
#define RSP_48B         0x030000u
#define TM_READ         (1u << 4)
#define IS_DATA         (1u << 21)
#define CMD(i, f)       (((u32)(i) << 24) | (f))

#define GPFSEL4         0x3F200010UL
#define GPFSEL5         0x3F200014UL
#define GPPUD           0x3F200094UL
#define GPPUDCLK1       0x3F20009CUL

#define WAIT            100000

static u32 rca, block_addressed;

static void delay(int n)
{
    for (volatile int i = 0; i < n; i++)
        ;
}

/* wait for `mask` (or an error) in INTERRUPT and clear it; 0 on success */
static int wait_int(u32 mask)
{
    for (int i = 0; i < WAIT; i++) {
        u32 v = mmio_read(EMMC_INTERRUPT);
        if (v & (mask | INT_ERRORS)) {
            mmio_write(EMMC_INTERRUPT, v & (mask | INT_ERRORS));
            return (v & INT_ERRORS) ? -1 : 0;
        }
    }
    return -1;
}

/* one command; RESP0 in *resp; 0 on success */
static int cmd(u32 cmdtm, u32 arg, u32 *resp)
{
    for (int i = 0; i < WAIT && (mmio_read(EMMC_STATUS) & SR_CMD_INHIBIT); i++)
        ;
    mmio_write(EMMC_INTERRUPT, 0xffffffff);
    mmio_write(EMMC_ARG1, arg);
    mmio_write(EMMC_CMDTM, cmdtm);
    if (wait_int(INT_CMD_DONE))
        return -1;
    if (resp)
        *resp = mmio_read(EMMC_RESP0);
    return 0;
}

static int acmd(u32 cmdtm, u32 arg, u32 *resp)
{
    if (cmd(CMD(55, RSP_48), rca << 16, 0))
        return -1;
    return cmd(cmdtm, arg, resp);
}

static int clock_on(u32 divider_bits)
{
    int n;
    mmio_write(EMMC_CONTROL1, mmio_read(EMMC_CONTROL1) & ~C1_CLK_EN);
    mmio_write(EMMC_CONTROL1, C1_TOUNIT_MAX | divider_bits | C1_CLK_INTLEN);
    for (n = 0; n < WAIT && !(mmio_read(EMMC_CONTROL1) & C1_CLK_STABLE); n++)
        ;
    mmio_write(EMMC_CONTROL1, mmio_read(EMMC_CONTROL1) | C1_CLK_EN);
    return n < WAIT ? 0 : -1;
}

int sd_init(void)
{
    /* GPIO 47 input (card detect), 48-53 ALT3: the EMMC; pull-ups on 47-53 */
    u32 f4 = mmio_read(GPFSEL4), f5 = mmio_read(GPFSEL5);
    f4 = (f4 & ~(0777u << 21)) | (077u << 24);
    f5 = (f5 & ~0xfffu) | 0xfffu;
    mmio_write(GPFSEL4, f4);
    mmio_write(GPFSEL5, f5);
    mmio_write(GPPUD, 2);
    delay(150);
    mmio_write(GPPUDCLK1, 0x7fu << 15);
    delay(150);
    mmio_write(GPPUD, 0);
    mmio_write(GPPUDCLK1, 0);

    /* host reset, identification clock (about 400 kHz) */
    mmio_write(EMMC_CONTROL0, 0);
    mmio_write(EMMC_CONTROL1, mmio_read(EMMC_CONTROL1) | C1_SRST_HC);
    int n;
    for (n = 0; n < WAIT && (mmio_read(EMMC_CONTROL1) & C1_SRST_HC); n++)
        ;
    if (n == WAIT || clock_on(0x68u << 8))
        return -1;
    mmio_write(EMMC_IRPT_EN, 0);                /* polled: no interrupt line */
    mmio_write(EMMC_IRPT_MASK, 0xffffffff);

    u32 r = 0;
    if (cmd(CMD(0, RSP_NONE), 0, 0))
        return -1;
    if (cmd(CMD(8, RSP_48), 0x1aa, &r) || r != 0x1aa)
        return -1;                              /* no card (command timeout) */
    for (n = 0; n < 1000; n++) {
        if (acmd(CMD(41, RSP_48), 0x51ff8000, &r))
            return -1;
        if (r & 0x80000000)
            break;
        delay(1000);
    }
    if (!(r & 0x80000000))
        return -1;
    block_addressed = r >> 30 & 1;              /* CCS: SDHC/SDXC */
    if (cmd(CMD(2, RSP_136), 0, 0) || cmd(CMD(3, RSP_48), 0, &r))
        return -1;
    rca = r >> 16;
    if (cmd(CMD(7, RSP_48B), rca << 16, 0) || cmd(CMD(16, RSP_48), 512, 0))
        return -1;
    return clock_on(1u << 8);                   /* data clock, about 25 MHz */
}

int sd_read(u32 lba, u8 *buf)
{
    mmio_write(EMMC_BLKSIZECNT, (1u << 16) | 512);
    if (cmd(CMD(17, RSP_48 | IS_DATA | TM_READ), block_addressed ? lba : lba * 512, 0))
        return -1;
    if (wait_int(INT_READ_RDY))
        return -1;
    for (int i = 0; i < 512; i += 4) {
        u32 w = mmio_read(EMMC_DATA);
        buf[i] = w;
        buf[i + 1] = w >> 8;
        buf[i + 2] = w >> 16;
        buf[i + 3] = w >> 24;
    }
    return wait_int(INT_DATA_DONE);
}
