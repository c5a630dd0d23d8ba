/*
 * sdcard: the SD card through the EMMC host controller (0x3F300000), driven
 * the way the classic Pi 3 bare-metal kernels do it: GPIO 47-53 functions
 * (47 input with pull-up and high detect, 48-53 ALT3), host reset, the
 * identification clock, CMD0, CMD8, CMD55+ACMD41 (looped until the card is
 * powered up), CMD2, CMD3, CMD9 (capacity from the CSD), CMD7, CMD13,
 * CMD16, ACMD51 (SCR), ACMD6 + 4-bit bus; then blocks: the MBR (CMD17), a
 * single-block write read back (CMD24/CMD17), a two-block write and read
 * (CMD25/CMD18, each closed by CMD12), an illegal command (command timeout);
 * then the FAT32 partition `vizor mksd` made: BPB, the root directory, the
 * file HELLO.TXT found by its short name and "A long file name.txt" by its
 * long name, each read through the FAT chain and printed.  Every wait is
 * bounded and prints FAIL.  The test supplies the image (tests/test_sd.py).
 */
#include "rt.h"
#include "emmc.h"

static u32 rca, ccs;
static u8 blk[512], blk2[1024], cmpbuf[1024];

static void delay(int n) { for (volatile int i = 0; i < n; i++) ; }

/* wait for any of `mask` (or an error) in INTERRUPT; clear what it waited for */
static int wait_int(u32 mask)
{
    for (int i = 0; i < 100000; i++) {
        u32 v = mmio_rd(EMMC_INTERRUPT);
        if (v & (mask | INT_ERRORS)) {
            mmio_wr(EMMC_INTERRUPT, v & (mask | INT_ERRORS));
            return (v & INT_ERRORS) ? -(int)(v >> 16 ? v >> 16 : 1) : 0;
        }
    }
    return -0x8000;
}

/* a command; returns RESP0 or -1 on error (err holds the error bits) */
static u32 err;
static s64 cmd(u32 cmdtm, u32 arg)
{
    for (int i = 0; i < 100000 && (mmio_rd(EMMC_STATUS) & SR_CMD_INHIBIT); i++) ;
    mmio_wr(EMMC_INTERRUPT, 0xffffffff);
    mmio_wr(EMMC_ARG1, arg);
    mmio_wr(EMMC_CMDTM, cmdtm);
    int r = wait_int(INT_CMD_DONE);
    if (r < 0) { err = (u32)-r; return -1; }
    return mmio_rd(EMMC_RESP(0));
}
static s64 acmd(u32 cmdtm, u32 arg)
{
    if (cmd(CMD(55, RSP_48), rca << 16) < 0) return -1;
    return cmd(cmdtm, arg);
}

static int read_words(u8 *buf, int n)   /* n bytes after READ_RDY */
{
    if (wait_int(INT_READ_RDY) < 0) return -1;
    for (int i = 0; i < n; i += 4) {
        u32 w = mmio_rd(EMMC_DATA);
        buf[i] = w; buf[i + 1] = w >> 8; buf[i + 2] = w >> 16; buf[i + 3] = w >> 24;
    }
    return 0;
}

static u32 addr(u32 lba) { return ccs ? lba : lba * 512; }

static int read_blocks(u32 lba, u8 *buf, u32 n)
{
    mmio_wr(EMMC_BLKSIZECNT, (n << 16) | 512);
    if (cmd(n > 1 ? CMD(18, RSP_48 | IS_DATA | TM_READ | TM_MULTI | TM_BLKCNT)
                  : CMD(17, RSP_48 | IS_DATA | TM_READ), addr(lba)) < 0) return -1;
    for (u32 b = 0; b < n; b++)
        if (read_words(buf + 512 * b, 512) < 0) return -2;
    if (wait_int(INT_DATA_DONE) < 0) return -3;
    if (n > 1 && cmd(CMD(12, RSP_48B), 0) < 0) return -4;
    return 0;
}

static int write_blocks(u32 lba, const u8 *buf, u32 n)
{
    mmio_wr(EMMC_BLKSIZECNT, (n << 16) | 512);
    if (cmd(n > 1 ? CMD(25, RSP_48 | IS_DATA | TM_MULTI | TM_BLKCNT) : CMD(24, RSP_48 | IS_DATA),
            addr(lba)) < 0) return -1;
    for (u32 b = 0; b < n; b++) {
        if (wait_int(INT_WRITE_RDY) < 0) return -2;
        for (int i = 0; i < 512; i += 4) {
            const u8 *p = buf + 512 * b + i;
            mmio_wr(EMMC_DATA, p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24);
        }
    }
    if (wait_int(INT_DATA_DONE) < 0) return -3;
    if (n > 1 && cmd(CMD(12, RSP_48B), 0) < 0) return -4;
    return 0;
}

static u32 le32(const u8 *p) { return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24; }
static u32 le16(const u8 *p) { return p[0] | p[1] << 8; }

static int init(void)
{
    /* GPIO 47 input, pull-up, high detect; 48-53 ALT3 (the EMMC) */
    u32 f4 = mmio_rd(GPFSEL4), f5 = mmio_rd(GPFSEL5);
    f4 = (f4 & ~(7u << 21) & ~(7u << 24) & ~(7u << 27)) | (7u << 24) | (7u << 27);
    f5 = (f5 & ~0xfffu) | 0xfffu;
    mmio_wr(GPFSEL4, f4); mmio_wr(GPFSEL5, f5);
    mmio_wr(GPPUD, 2); delay(150);
    mmio_wr(GPPUDCLK1, 0x7fu << 15); delay(150);
    mmio_wr(GPPUD, 0); mmio_wr(GPPUDCLK1, 0);
    mmio_wr(GPHEN1, mmio_rd(GPHEN1) | (1u << 15));
    pr("%s gpio fsel4=%x fsel5=%x\n", OKF((mmio_rd(GPFSEL4) >> 21 & 0x1ff) == 0770 &&
       (mmio_rd(GPFSEL5) & 0xfff) == 0xfff), mmio_rd(GPFSEL4) >> 21 & 0x1ff, mmio_rd(GPFSEL5) & 0xfff);

    u32 ver = mmio_rd(EMMC_SLOTISR_VER);
    pr("%s host_version spec=%x\n", OKF((ver >> 16 & 0xff) == 2), ver >> 16 & 0xff);
    /* reset the host, then the identification clock (about 400 kHz) */
    mmio_wr(EMMC_CONTROL0, 0);
    mmio_wr(EMMC_CONTROL1, mmio_rd(EMMC_CONTROL1) | C1_SRST_HC);
    int n = 0;
    while ((mmio_rd(EMMC_CONTROL1) & C1_SRST_HC) && n < 10000) n++;
    pr("%s host_reset srst_hc=%x\n", OKF(n < 10000), mmio_rd(EMMC_CONTROL1) >> 24 & 1);
    mmio_wr(EMMC_CONTROL1, C1_TOUNIT_MAX | (0x68u << 8) | C1_CLK_INTLEN);
    for (n = 0; n < 10000 && !(mmio_rd(EMMC_CONTROL1) & C1_CLK_STABLE); n++) ;
    mmio_wr(EMMC_CONTROL1, mmio_rd(EMMC_CONTROL1) | C1_CLK_EN);
    u32 c1 = mmio_rd(EMMC_CONTROL1);
    pr("%s clock intlen=%x stable=%x en=%x\n", OKF((c1 & 7) == 7), c1 & 1, c1 >> 1 & 1, c1 >> 2 & 1);
    mmio_wr(EMMC_IRPT_EN, 0xffffffff);
    mmio_wr(EMMC_IRPT_MASK, 0xffffffff);
    u32 st = mmio_rd(EMMC_STATUS);
    pr("%s idle_status cmd_inhibit=%x dat_inhibit=%x\n", OKF((st & 3) == 0), st & 1, st >> 1 & 1);

    s64 r = cmd(CMD(0, RSP_NONE), 0);
    pr("%s cmd0 go_idle\n", OKF(r >= 0));
    r = cmd(CMD(8, RSP_48), 0x1aa);
    pr("%s cmd8 if_cond=%x\n", OKF(r == 0x1aa), (u32)r);
    for (n = 0; n < 1000; n++) {
        r = acmd(CMD(41, RSP_48), 0x51ff8000);
        if (r < 0 || (r & 0x80000000)) break;
        delay(1000);
    }
    ccs = r >= 0 && (r >> 30 & 1);
    pr("%s acmd41 powered_up=%x ccs=%x voltages=%x\n", OKF(r >= 0 && (r >> 31)), (u32)r >> 31,
       ccs, ((u32)r >> 15) & 0x1ff);
    r = cmd(CMD(2, RSP_136), 0);
    u32 cid = mmio_rd(EMMC_RESP(0)) | mmio_rd(EMMC_RESP(1)) | mmio_rd(EMMC_RESP(2)) | mmio_rd(EMMC_RESP(3));
    pr("%s cmd2 cid_nonzero=%x\n", OKF(r >= 0 && cid), cid != 0);
    r = cmd(CMD(3, RSP_48), 0);
    rca = (u32)r >> 16;
    pr("%s cmd3 rca_nonzero=%x state=%x\n", OKF(r >= 0 && rca), rca != 0, ((u32)r >> 9) & 0xf);
    r = cmd(CMD(9, RSP_136), rca << 16);
    /* RESP3..0 = CSD bits 127:8 */
    u32 c3 = mmio_rd(EMMC_RESP(3)), c2 = mmio_rd(EMMC_RESP(2)), c1r = mmio_rd(EMMC_RESP(1));
    u32 csd_ver = c3 >> 22 & 3;
    u64 mib;
    if (csd_ver == 1) {
        u32 csize = (c1r >> 8) & 0x3fffff;           /* CSD 69:48 */
        mib = ((u64)csize + 1) / 2;
    } else {
        u32 bl_len = c2 >> 8 & 0xf;                  /* CSD 83:80 */
        u32 csize = ((c2 & 3) << 10) | (c1r >> 22);  /* CSD 73:62 */
        u32 mult = c1r >> 7 & 7;                     /* CSD 49:47 */
        mib = (((u64)csize + 1) << (mult + 2 + bl_len)) >> 20;
    }
    pr("%s cmd9 csd_structure=%x capacity_mib=%d\n", OKF(r >= 0 && mib == 64), csd_ver, mib);
    r = cmd(CMD(7, RSP_48B), rca << 16);
    pr("%s cmd7 select state=%x\n", OKF(r >= 0 && (((u32)r >> 9) & 0xf) == 3), ((u32)r >> 9) & 0xf);
    r = cmd(CMD(13, RSP_48), rca << 16);
    pr("%s cmd13 state=%x ready_for_data=%x\n", OKF(r >= 0 && (((u32)r >> 9) & 0xf) == 4),
       ((u32)r >> 9) & 0xf, ((u32)r >> 8) & 1);
    r = cmd(CMD(16, RSP_48), 512);
    pr("%s cmd16 blocklen\n", OKF(r >= 0));
    mmio_wr(EMMC_BLKSIZECNT, (1u << 16) | 8);
    r = acmd(CMD(51, RSP_48 | IS_DATA | TM_READ), 0);
    u8 scr[8] = {0};
    int rd_ok = r >= 0 && read_words(scr, 8) == 0 && wait_int(INT_DATA_DONE) == 0;
    pr("%s acmd51 scr_structure=%x sd_spec=%x bus_width_4=%x\n", OKF(rd_ok && (scr[1] & 4)),
       scr[0] >> 4, scr[0] & 0xf, (scr[1] >> 2) & 1);
    r = acmd(CMD(6, RSP_48), 2);
    mmio_wr(EMMC_CONTROL0, mmio_rd(EMMC_CONTROL0) | C0_HCTL_DWIDTH);
    pr("%s acmd6 bus_width=4 app_cmd=%x\n", OKF(r >= 0 && (r >> 5 & 1)), (u32)(r >> 5) & 1);
    /* data clock: about 25 MHz */
    mmio_wr(EMMC_CONTROL1, mmio_rd(EMMC_CONTROL1) & ~C1_CLK_EN);
    mmio_wr(EMMC_CONTROL1, (mmio_rd(EMMC_CONTROL1) & ~0xffc0u) | (1u << 8));
    for (n = 0; n < 10000 && !(mmio_rd(EMMC_CONTROL1) & C1_CLK_STABLE); n++) ;
    mmio_wr(EMMC_CONTROL1, mmio_rd(EMMC_CONTROL1) | C1_CLK_EN);
    return 0;
}

/* FAT32 */
static u32 part, fat_start, data_start, spc;

static u32 next_cluster(u32 c)
{
    if (read_blocks(fat_start + c * 4 / 512, blk, 1)) return 0x0fffffff;
    return le32(blk + (c * 4) % 512) & 0x0fffffff;
}

static void print_file(const char *what, u32 cluster, u32 size)
{
    pr("ok %s size=%d text=\"", what, size);
    while (size && cluster >= 2 && cluster < 0x0ffffff8) {
        for (u32 s = 0; s < spc && size; s++) {
            if (read_blocks(data_start + (cluster - 2) * spc + s, blk, 1)) { puts("<read error>"); size = 0; break; }
            for (u32 i = 0; i < 512 && size; i++, size--)
                if (blk[i] == '\n') puts("\\n"); else uart_putc(blk[i]);
        }
        cluster = next_cluster(cluster);
    }
    puts("\"\n");
}

static int name_eq(const char *a, const char *b)
{
    while (*a && *a == *b) { a++; b++; }
    return *a == *b;
}

static void fat32(void)
{
    int r = read_blocks(0, blk, 1);
    part = le32(blk + 0x1c6);
    pr("%s mbr signature=%x type=%x start=%d\n", OKF(r == 0 && blk[510] == 0x55 && blk[511] == 0xaa &&
       blk[0x1c2] == 0x0c), blk[510] | blk[511] << 8, blk[0x1c2], part);
    r = read_blocks(part, blk, 1);
    u32 bps = le16(blk + 0x0b), reserved = le16(blk + 0x0e), nfats = blk[0x10];
    u32 spf = le32(blk + 0x24), root = le32(blk + 0x2c);
    spc = blk[0x0d];
    int fs32 = blk[0x52] == 'F' && blk[0x53] == 'A' && blk[0x54] == 'T' && blk[0x55] == '3' && blk[0x56] == '2';
    pr("%s bpb bytes_per_sector=%d fats=%d root_cluster=%d fat32=%x\n", OKF(r == 0 && bps == 512 && fs32),
       bps, nfats, root, fs32);
    fat_start = part + reserved;
    data_start = fat_start + nfats * spf;
    /* the root directory: short names and long names (LFN entries before their short entry) */
    char lfn[256];
    int have_lfn = 0, found_short = 0, found_long = 0;
    for (u32 c = root; c >= 2 && c < 0x0ffffff8; c = next_cluster(c)) {
        for (u32 s = 0; s < spc; s++) {
            u8 dir[512];
            if (read_blocks(data_start + (c - 2) * spc + s, dir, 1)) return;
            for (int e = 0; e < 512; e += 32) {
                u8 *d = dir + e;
                if (d[0] == 0) goto end;
                if (d[0] == 0xe5) { have_lfn = 0; continue; }
                if (d[11] == 0x0f) {
                    int seq = (d[0] & 0x1f) - 1;
                    static const u8 off[13] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};
                    if (d[0] & 0x40) { memset(lfn, 0, sizeof lfn); have_lfn = 1; }
                    for (int k = 0; k < 13 && seq * 13 + k < 255; k++) {
                        u16 ch = le16(d + off[k]);
                        lfn[seq * 13 + k] = (ch == 0xffff) ? 0 : (char)ch;
                    }
                    continue;
                }
                u32 cl = le16(d + 0x14) << 16 | le16(d + 0x1a), size = le32(d + 0x1c);
                int is_hello = 1;
                for (int k = 0; k < 11; k++) if (d[k] != (u8)"HELLO   TXT"[k]) is_hello = 0;
                if (is_hello && !found_short) { found_short = 1; print_file("file_short_name HELLO.TXT", cl, size); }
                if (have_lfn && name_eq(lfn, "A long file name.txt") && !found_long) {
                    found_long = 1;
                    print_file("file_long_name \"A long file name.txt\"", cl, size);
                }
                have_lfn = 0;
            }
        }
    }
end:
    if (!found_short) puts("FAIL file_short_name HELLO.TXT not found\n");
    if (!found_long) puts("FAIL file_long_name \"A long file name.txt\" not found\n");
}

int main(void)
{
    puts("sdcard\n");
    init();
    /* blocks */
    int r = read_blocks(0, blk, 1);
    pr("%s cmd17 read_mbr signature=%x\n", OKF(r == 0 && blk[510] == 0x55), blk[510] | blk[511] << 8);
    for (int i = 0; i < 512; i++) blk[i] = (u8)(i * 7 + 3);
    r = write_blocks(100, blk, 1);
    memset(cmpbuf, 0, 512);
    int r2 = read_blocks(100, cmpbuf, 1);
    int same = 1;
    for (int i = 0; i < 512; i++) if (cmpbuf[i] != (u8)(i * 7 + 3)) same = 0;
    pr("%s cmd24_cmd17 write=%d read=%d same=%x\n", OKF(r == 0 && r2 == 0 && same), r, r2, same);
    for (int i = 0; i < 1024; i++) blk2[i] = (u8)(i ^ (i >> 8) ^ 0x5a);
    r = write_blocks(200, blk2, 2);
    memset(cmpbuf, 0, 1024);
    r2 = read_blocks(200, cmpbuf, 2);
    same = 1;
    for (int i = 0; i < 1024; i++) if (cmpbuf[i] != (u8)(i ^ (i >> 8) ^ 0x5a)) same = 0;
    u32 st = mmio_rd(EMMC_STATUS);
    pr("%s cmd25_cmd18 write=%d read=%d same=%x dat_inhibit=%x\n", OKF(r == 0 && r2 == 0 && same && !(st & 2)),
       r, r2, same, (st >> 1) & 1);
    s64 s = cmd(CMD(13, RSP_48), rca << 16);
    pr("%s cmd13_after state=%x\n", OKF(s >= 0 && (((u32)s >> 9) & 0xf) == 4), ((u32)s >> 9) & 0xf);
    s = cmd(CMD(9, RSP_136), rca << 16);   /* CMD9 is not allowed in the transfer state */
    pr("%s illegal_cmd9_in_tran timeout=%x\n", OKF(s < 0 && (err & 1)), s < 0 && (err & 1));
    mmio_wr(EMMC_CONTROL1, mmio_rd(EMMC_CONTROL1) | C1_SRST_CMD);
    for (int n = 0; n < 10000 && (mmio_rd(EMMC_CONTROL1) & C1_SRST_CMD); n++) ;
    fat32();
    done();
}
