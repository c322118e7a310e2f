/* SPDX-License-Identifier: BSD-3-Clause */
/* The fiber kinds built on lib/membrane: the membrane and the VFS. */
#ifndef IONSWITCHD_FIBER_KINDS_H
#define IONSWITCHD_FIBER_KINDS_H

#include <membrane.h>
#include <membrane_vfs.h>

#include "fiber.h"

/* fiber_membrane.c; its state is set up by fiber_membrane_init() once the
 * port's MAC address is known */
int fiber_membrane_init(struct fiber *f, const struct cfg_fiber *fc,
			const uint8_t mac[6], membrane_stats_fn stats,
			void *arg);
int fiber_membrane_step(struct fiber *f);
/** Stop lwIP transmitting for a killed fiber (any thread). */
void fiber_membrane_kill(struct fiber *f);
void fiber_membrane_fini(struct fiber *f);
/** The fiber's membrane, NULL before its first step (any thread). */
struct membrane *fiber_membrane_get(const struct fiber *f);

/* fiber_vfs.c */
int fiber_vfs_init(struct fiber *f, const struct cfg_fiber *fc);
int fiber_vfs_step(struct fiber *f);
void fiber_vfs_fini(struct fiber *f);

#endif /* IONSWITCHD_FIBER_KINDS_H */
