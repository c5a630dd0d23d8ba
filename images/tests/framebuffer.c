/*
 * framebuffer: the firmware framebuffer through the VideoCore mailbox
 * property channel (8).  One message sets the physical size 64x48, the
 * virtual size 64x48, the virtual offset 0,0, depth 32 and pixel order RGB,
 * allocates the buffer (alignment 16) and gets the pitch; every tag must
 * come back with the response bit, the values as asked; the buffer must lie
 * in the GPU memory above the ARM memory the mailbox reports (get ARM
 * memory).  Then a pattern is drawn: four colour bands (red, green, blue,
 * white, 12 rows each) with a black 8x8 square at 28,20 and a gradient in
 * the first row; tests/test_framebuffer.py checks the PNG vizor writes
 * pixel by pixel.  Last, get depth/pitch again on a second message.
 */
#include "rt.h"
#include "bcm.h"

#define MBOX_READ   0x3F00B880UL
#define MBOX_STATUS 0x3F00B898UL
#define MBOX_WRITE  0x3F00B8A0UL
#define MBOX_FULL   0x80000000u
#define MBOX_EMPTY  0x40000000u

static volatile u32 __attribute__((aligned(16))) m[64];

static int call(void)
{
    dsb();
    while (mmio_rd(MBOX_STATUS) & MBOX_FULL) ;
    mmio_wr(MBOX_WRITE, (u32)(u64)m | 8);
    for (int n = 0; n < 1000000; n++) {
        if (mmio_rd(MBOX_STATUS) & MBOX_EMPTY) continue;
        if (mmio_rd(MBOX_READ) == ((u32)(u64)m | 8)) return m[1] == 0x80000000;
    }
    return 0;
}

#define W 64
#define H 48

int main(void)
{
    puts("framebuffer\n");
    int i = 0;
    m[i++] = 0; m[i++] = 0;
    m[i++] = 0x00010005; m[i++] = 8; m[i++] = 0; m[i++] = 0; m[i++] = 0;   /* 2: ARM memory */
    m[i++] = 0x00048003; m[i++] = 8; m[i++] = 0; m[i++] = W; m[i++] = H;   /* 7: physical */
    m[i++] = 0x00048004; m[i++] = 8; m[i++] = 0; m[i++] = W; m[i++] = H;   /* 12: virtual */
    m[i++] = 0x00048009; m[i++] = 8; m[i++] = 0; m[i++] = 0; m[i++] = 0;   /* 17: offset */
    m[i++] = 0x00048005; m[i++] = 4; m[i++] = 0; m[i++] = 32;              /* 22: depth */
    m[i++] = 0x00048006; m[i++] = 4; m[i++] = 0; m[i++] = 1;               /* 26: pixel order */
    m[i++] = 0x00040001; m[i++] = 8; m[i++] = 0; m[i++] = 16; m[i++] = 0;  /* 30: allocate */
    m[i++] = 0x00040008; m[i++] = 4; m[i++] = 0; m[i++] = 0;               /* 35: pitch */
    m[i++] = 0;
    m[0] = i * 4;
    int ok = call();
    pr("%s mbox_call code=%x\n", OKF(ok), m[1]);
    int resp = 1;
    for (int t = 2; t < 39; ) {
        if (!(m[t + 2] & 0x80000000)) resp = 0;
        t += 3 + m[t + 1] / 4;
    }
    pr("%s responses all_tags=%x\n", OKF(resp), resp);
    u32 arm_end = m[5] + m[6];
    pr("%s geometry physical=%dx%d virtual=%dx%d offset=%d,%d depth=%d order=%d\n",
       OKF(m[10] == W && m[11] == H && m[15] == W && m[16] == H && m[20] == 0 && m[21] == 0 &&
           m[25] == 32 && m[29] == 1), m[10], m[11], m[15], m[16], m[20], m[21], m[25], m[29]);
    u32 base = m[33] & 0x3fffffff, size = m[34], pitch = m[38];
    pr("%s allocate size=%d pitch=%d in_gpu_memory=%x aligned=%x\n",
       OKF(base && size >= pitch * H && pitch >= W * 4 && base >= arm_end && base + size <= 0x3f000000 &&
           (base & 15) == 0), size, pitch, base >= arm_end && base + size <= 0x3f000000, (base & 15) == 0);
    if (!base) done();
    /* the pattern: bands R, G, B, white; a black square; a gradient in row 0 */
    static const u32 band[4] = {0x000000ff, 0x0000ff00, 0x00ff0000, 0x00ffffff};   /* RGB: R in byte 0 */
    for (u32 y = 0; y < H; y++) {
        volatile u32 *row = (volatile u32 *)(u64)(base + y * pitch);
        for (u32 x = 0; x < W; x++) {
            u32 c = band[y / 12];
            if (x >= 28 && x < 36 && y >= 20 && y < 28) c = 0;
            if (y == 0) c = (x * 4) | (x * 4) << 8 | (255 - x * 4) << 16;
            row[x] = c;
        }
    }
    dsb();
    puts("ok drawn bands=4 square=28,20 gradient=row0\n");
    i = 0;
    m[i++] = 0; m[i++] = 0;
    m[i++] = 0x00040005; m[i++] = 4; m[i++] = 0; m[i++] = 0;   /* 2: get depth */
    m[i++] = 0x00040003; m[i++] = 8; m[i++] = 0; m[i++] = 0; m[i++] = 0;   /* 6: get physical */
    m[i++] = 0;
    m[0] = i * 4;
    ok = call();
    pr("%s get_again depth=%d physical=%dx%d\n", OKF(ok && m[5] == 32 && m[9] == W && m[10] == H),
       m[5], m[9], m[10]);
    done();
}
