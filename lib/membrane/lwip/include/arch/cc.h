/* SPDX-License-Identifier: BSD-3-Clause */
/* lwIP's platform for the membrane: glibc, little or big endian as the
 * compiler says, and an assertion that logs where and aborts. */
#ifndef ION_LWIP_ARCH_CC_H
#define ION_LWIP_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

#define LWIP_ERRNO_STDINCLUDE 1
#define LWIP_TIMEVAL_PRIVATE  0
#include <sys/time.h>

/* a random 32-bit value: local ports and the like, not secrets */
#define LWIP_RAND() ((u32_t)random())

#define LWIP_PLATFORM_DIAG(x)                                                  \
	do {                                                                   \
		printf x;                                                      \
	} while (0)
#define LWIP_PLATFORM_ASSERT(x)                                                \
	do {                                                                   \
		fprintf(stderr, "lwIP assertion \"%s\" failed at %s:%d\n", x,  \
			__FILE__, __LINE__);                                   \
		fflush(NULL);                                                  \
		abort();                                                       \
	} while (0)

#endif /* ION_LWIP_ARCH_CC_H */
