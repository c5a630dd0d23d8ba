/* The EMMC (Arasan SDHCI, 0x3F300000) registers and a polled SD driver for the
   sdcard kernel (BCM2835 ARM Peripherals ch. 5, SD Physical Layer spec). */
#ifndef EMMC_H
#define EMMC_H
#include "bcm.h"

#define EMMC_BASE        0x3F300000UL
#define EMMC_BLKSIZECNT  (EMMC_BASE + 0x04)
#define EMMC_ARG1        (EMMC_BASE + 0x08)
#define EMMC_CMDTM       (EMMC_BASE + 0x0C)
#define EMMC_RESP(n)     (EMMC_BASE + 0x10 + 4 * (u64)(n))
#define EMMC_DATA        (EMMC_BASE + 0x20)
#define EMMC_STATUS      (EMMC_BASE + 0x24)
#define EMMC_CONTROL0    (EMMC_BASE + 0x28)
#define EMMC_CONTROL1    (EMMC_BASE + 0x2C)
#define EMMC_INTERRUPT   (EMMC_BASE + 0x30)
#define EMMC_IRPT_MASK   (EMMC_BASE + 0x34)
#define EMMC_IRPT_EN     (EMMC_BASE + 0x38)
#define EMMC_SLOTISR_VER (EMMC_BASE + 0xFC)

#define SR_CMD_INHIBIT   (1u << 0)
#define SR_DAT_INHIBIT   (1u << 1)
#define C1_CLK_INTLEN    (1u << 0)
#define C1_CLK_STABLE    (1u << 1)
#define C1_CLK_EN        (1u << 2)
#define C1_TOUNIT_MAX    (0xeu << 16)
#define C1_SRST_HC       (1u << 24)
#define C1_SRST_CMD      (1u << 25)
#define C1_SRST_DATA     (1u << 26)
#define C0_HCTL_DWIDTH   (1u << 1)
#define INT_CMD_DONE     (1u << 0)
#define INT_DATA_DONE    (1u << 1)
#define INT_WRITE_RDY    (1u << 4)
#define INT_READ_RDY     (1u << 5)
#define INT_ERR          (1u << 15)
#define INT_CTO_ERR      (1u << 16)
#define INT_ERRORS       0xffff8000u

/* CMDTM: index << 24 | response type << 16 | ISDATA | direction | multi | block count */
#define RSP_NONE  0x000000u
#define RSP_136   0x010000u
#define RSP_48    0x020000u
#define RSP_48B   0x030000u
#define TM_BLKCNT (1u << 1)
#define TM_READ   (1u << 4)
#define TM_MULTI  (1u << 5)
#define IS_DATA   (1u << 21)
#define CMD(i, f) (((u32)(i) << 24) | (f))

#define GPFSEL4   0x3F200010UL
#define GPFSEL5   0x3F200014UL
#define GPPUD     0x3F200094UL
#define GPPUDCLK1 0x3F20009CUL
#define GPHEN1    0x3F200068UL
#endif
