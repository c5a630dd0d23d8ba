#ifndef RT_ASM_H
#define RT_ASM_H
#define EL0 0
#define EL1 1
#define EL2 2
#define EL3 3
#define SCR_EL3_VALUE   0x531           /* NS | RES1(5:4) | HCE | RW; SMD = 0 */
#define HCR_RW          (1 << 31)
#define SCTLR_EL1_RESET 0x30d00800      /* RES1 bits, MMU/caches off */
#define FRAME_SIZE      256
#endif
