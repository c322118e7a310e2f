/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one table of fiber kinds, like testpmd's fwd_engines[].  A new kind
 * is a file kind_<name>.c defining a struct fiber_kind, a line here, and
 * its section in docs/configuration.md.
 */
#include <string.h>

#include "fiber_impl.h"

extern const struct fiber_kind fiber_kind_rxonly;
extern const struct fiber_kind fiber_kind_reflect;
extern const struct fiber_kind fiber_kind_lwf;
extern const struct fiber_kind fiber_kind_utcp;
extern const struct fiber_kind fiber_kind_membrane;
extern const struct fiber_kind fiber_kind_vfs;
extern const struct fiber_kind fiber_kind_console;
extern const struct fiber_kind fiber_kind_external;

const struct fiber_kind *const fiber_kinds[] = {
	&fiber_kind_rxonly,  &fiber_kind_reflect,  &fiber_kind_lwf,
	&fiber_kind_utcp,    &fiber_kind_membrane, &fiber_kind_vfs,
	&fiber_kind_console, &fiber_kind_external, NULL,
};

const struct fiber_kind *
fiber_kind_find(const char *name)
{
	const struct fiber_kind *const *k;

	for (k = fiber_kinds; *k != NULL; k++)
		if (strcmp((*k)->name, name) == 0)
			return *k;
	return NULL;
}
