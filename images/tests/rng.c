/*
 * rng: the hardware random number generator (0x3F104000; the Linux
 * bcm2835-rng layout: CTRL 0x00, STATUS 0x04 = words available << 24 |
 * warm-up count, DATA 0x08, INT_MASK 0x10).  Before RBGEN no word is
 * available; the warm-up count is written and read back; after RBGEN the
 * status counts words (waited for, bounded), DATA pops one; 16 words are
 * read, each after waiting for the count, and must not all be the same, nor
 * all zero.  The values themselves are never printed (QEMU's come from the
 * host, vizor's from its seeded generator).
 */
#include "rt.h"
#include "bcm.h"

#define RNG_CTRL     0x3F104000UL
#define RNG_STATUS   0x3F104004UL
#define RNG_DATA     0x3F104008UL
#define RNG_INT_MASK 0x3F104010UL
#define RBGEN 1u

static u32 words[16];

int main(void)
{
    puts("rng\n");
    u32 st = mmio_rd(RNG_STATUS);
    pr("%s before_enable ctrl=%x available=%d\n", OKF(mmio_rd(RNG_CTRL) == 0 && (st >> 24) == 0),
       mmio_rd(RNG_CTRL), st >> 24);
    mmio_wr(RNG_INT_MASK, 1);
    mmio_wr(RNG_STATUS, 0x40000);
    pr("%s warmup status=%x int_mask=%x\n", OKF((mmio_rd(RNG_STATUS) & 0xfffff) == 0x40000 &&
       mmio_rd(RNG_INT_MASK) == 1), mmio_rd(RNG_STATUS) & 0xfffff, mmio_rd(RNG_INT_MASK));
    mmio_wr(RNG_CTRL, RBGEN);
    int n = 0;
    while ((mmio_rd(RNG_STATUS) >> 24) == 0 && n < 1000000) n++;
    st = mmio_rd(RNG_STATUS);
    pr("%s enabled ctrl=%x available_ge1=%x available_le4=%x\n", OKF(mmio_rd(RNG_CTRL) == 1 &&
       (st >> 24) >= 1 && (st >> 24) <= 4), mmio_rd(RNG_CTRL), (st >> 24) >= 1, (st >> 24) <= 4);
    int waited = 1;
    for (int i = 0; i < 16; i++) {
        for (n = 0; (mmio_rd(RNG_STATUS) >> 24) == 0 && n < 1000000; n++) ;
        if (n >= 1000000) waited = 0;
        words[i] = mmio_rd(RNG_DATA);
    }
    int distinct = 0, nonzero = 0;
    for (int i = 0; i < 16; i++) {
        if (words[i]) nonzero++;
        if (words[i] != words[0]) distinct = 1;
    }
    pr("%s words read=16 waited=%x not_all_equal=%x nonzero_ge8=%x\n", OKF(waited && distinct && nonzero >= 8),
       waited, distinct, nonzero >= 8);
    done();
}
