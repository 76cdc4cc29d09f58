/* RFLAGS bits (Intel SDM vol. 1, 3.4.3) and the debug-register bits (vol.
 * 3B, 18.2) that the interrupt and guest-debug paths use. */
#ifndef HV_RFLAGS_H
#define HV_RFLAGS_H

#define RFLAGS_TF       (1ull << 8)   /* trap after each instruction */
#define RFLAGS_IF       (1ull << 9)   /* maskable interrupts enabled */
#define RFLAGS_NT       (1ull << 14)  /* a task nested: IRET returns to the back link */
#define RFLAGS_RF       (1ull << 16)  /* suppress instruction breakpoints once */
#define RFLAGS_VM       (1ull << 17)  /* virtual-8086 mode */

#define DR6_B0_B3       0xfull        /* which breakpoint matched */
#define DR6_BS          (1ull << 14)  /* single step */
#define DR6_RESET       0xffff0ff0ull /* DR6 with no condition reported */
#define DR7_RESET       0x400ull

#define VECTOR_DEBUG    1

#endif
