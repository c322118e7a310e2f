/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: the configuration loader and checker on arbitrary files. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg c;
	bool lcores[CFG_MAX_LCORES] = {true, true, true, true};
	char path[64], err[CFG_ERR_LEN];
	int fd = memfd_create("cfg", 0);

	/* @include would read other files (or this process's stdin through
	 * /proc/self/fd): that is libconfig's job, not the loader's */
	if (fd < 0 || memmem(data, size, "@include", 8) != NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (cfg_load(&c, path, err, sizeof(err)) == 0) {
		(void)cfg_check(&c, lcores, err, sizeof(err));
		cfg_free(&c);
	} else if (strchr(err, ':') == NULL) {
		__builtin_trap(); /* every refusal names FILE:LINE */
	}
	close(fd);
	return 0;
}
