/*
 * vizor demo hypervisor: files from the FAT32 file system in partition 1 of
 * the SD card's MBR (the layout `vizor mksd` writes).  Only what booting
 * guests needs: the BPB, the root directory's short (8.3) names, and a file
 * read through its FAT chain.  Microsoft's FAT32 specification (fatgen103)
 * for the on-disk fields.
 */
#include "hyp.h"

static u8 blk[512];
static u32 fat_start, data_start, spc, root_cluster;

static u32 le16(const u8 *p) { return p[0] | p[1] << 8; }
static u32 le32(const u8 *p) { return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24; }

int fat_mount(void)
{
    if (sd_read(0, blk) || blk[510] != 0x55 || blk[511] != 0xaa)
        return -1;
    u8 type = blk[0x1be + 4];
    u32 part = le32(blk + 0x1be + 8);
    if (type != 0x0b && type != 0x0c)          /* FAT32 CHS / LBA */
        return -1;
    if (sd_read(part, blk) || le16(blk + 0x0b) != 512 || blk[510] != 0x55)
        return -1;
    spc = blk[0x0d];
    u32 reserved = le16(blk + 0x0e), nfats = blk[0x10], spf = le32(blk + 0x24);
    root_cluster = le32(blk + 0x2c);
    if (!spc || !nfats || !spf || le16(blk + 0x16))  /* FAT32: BPB_FATSz16 = 0 */
        return -1;
    fat_start = part + reserved;
    data_start = fat_start + nfats * spf;
    return 0;
}

static int last(u32 c) { return c < 2 || c >= 0x0ffffff8; }

static u32 next_cluster(u32 c)
{
    if (sd_read(fat_start + c / 128, blk))
        return 0x0fffffff;
    return le32(blk + (c % 128) * 4) & 0x0fffffff;
}

/* the root-directory entry named `name83` (11 characters, space padded):
 * its first cluster and size; 0 if found */
static int lookup(const char *name83, u32 *cluster, u32 *size)
{
    for (u32 c = root_cluster, hops = 0; !last(c) && hops < 4096; c = next_cluster(c), hops++) {
        for (u32 s = 0; s < spc; s++) {
            if (sd_read(data_start + (c - 2) * spc + s, blk))
                return -1;
            for (int e = 0; e < 512; e += 32) {
                const u8 *d = blk + e;
                if (d[0] == 0)
                    return -1;                  /* end of the directory */
                if (d[0] == 0xe5 || (d[11] & 0x18))
                    continue;                   /* deleted, LFN part, label, directory */
                int k = 0;
                while (k < 11 && d[k] == (u8)name83[k])
                    k++;
                if (k == 11) {
                    *cluster = le16(d + 0x14) << 16 | le16(d + 0x1a);
                    *size = le32(d + 0x1c);
                    return 0;
                }
            }
        }
    }
    return -1;
}

s64 fat_load(const char *name83, u8 *dst, u64 max)
{
    u32 c, size;
    if (lookup(name83, &c, &size) || size > max)
        return -1;
    u64 done = 0;
    for (u32 hops = 0; done < size && !last(c) && hops < 65536; hops++) {
        for (u32 s = 0; s < spc && done < size; s++) {
            if (sd_read(data_start + (c - 2) * spc + s, blk))
                return -1;
            u64 n = size - done < 512 ? size - done : 512;
            memcpy(dst + done, blk, n);
            done += n;
        }
        if (done < size)
            c = next_cluster(c);
    }
    return done == size ? (s64)size : -1;
}
