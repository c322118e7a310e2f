/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * External fibers (kind_external.c): a fiber whose step runs in a process
 * of its own, which claims it over the host's claim server.  What the
 * host (its claim server) tells such a fiber, and asks of it; the rest of
 * the daemon sees it as any fiber (fiber.h).
 */
#ifndef FIBER_EXTERNAL_H
#define FIBER_EXTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "fiber.h"

#ifdef __cplusplus
extern "C" {
#endif

/** @p f is of kind external. */
bool fiber_is_external(const struct fiber *f);
/** Its manifest: who may claim it, and whether it may restart. */
int fiber_external_manifest(const struct fiber *f, uint32_t *uid, uint32_t *gid,
			    bool *restart);
/** Its index in the host's claim server. */
void fiber_external_set_index(struct fiber *f, int index);
int fiber_external_index(const struct fiber *f);
/** Somebody killed it (fiber_kill()); true once per kill. */
bool fiber_external_kill_requested(struct fiber *f);
/** A process claimed it: RUNNING. */
void fiber_external_claimed(struct fiber *f, uint32_t pid);
/** A claim of it, or a message of its claimant, was refused (counted; the
 * host logs it). */
void fiber_external_refused(struct fiber *f);
/**
 * Its claim ended: KILLED (@p killed, with @p why, and what it lacked if
 * it was a capability @p fault), or WAITING again when it gave its rings
 * back; @p skipped messages skipped on its consumer ends.
 */
void fiber_external_ended(struct fiber *f, bool killed, bool fault,
			  uint32_t channel, uint32_t perm, uint32_t skipped,
			  const char *why);

#ifdef __cplusplus
}
#endif

#endif /* FIBER_EXTERNAL_H */
