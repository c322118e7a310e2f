/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by config.c and config_check.c: naming a setting's FILE:LINE. */
#ifndef IONSWITCHD_CONFIG_IMPL_H
#define IONSWITCHD_CONFIG_IMPL_H

#include <stdarg.h>
#include <stddef.h>

/* The path of @p name, as libconfig reports a setting's file: the top file
 * @p top itself, or an @include'd file resolved against @p dir. */
void cfg_file_path(const char *top, const char *dir, const char *name,
		   char *out, size_t len);
/* The directory of @p path ("." when it has none). */
void cfg_dir_of(const char *path, char *out, size_t len);
/* "FILE:LINE: sentence" into @p err.  @return -EINVAL. */
int cfg_vrefuse(char *err, size_t errlen, const char *file, int line,
		const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

#endif /* IONSWITCHD_CONFIG_IMPL_H */
