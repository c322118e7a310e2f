/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fibers: units of work pinned to worker lcores, run round-robin.  A fiber
 * yields by returning from its step.  It reaches rings only through its
 * CSpace; a capability fault kills it (never scheduled again, state KILLED
 * with the channel and permission it lacked), and the rest keeps running.
 */
#ifndef IONSWITCHD_FIBER_H
#define IONSWITCHD_FIBER_H

#include <stdbool.h>
#include <stdint.h>

#include <string.h>

#include <rte_ether.h>

#include <ion_ring.h>
#include <wire.h>

#include "config.h"

enum fiber_state {
	FIBER_READY,  /**< runs when its lcore gets to it */
	FIBER_KILLED, /**< capability fault or killed by the operator */
	FIBER_DONE,   /**< drained at shutdown */
};

struct fiber;

/**
 * One step: handle at most one burst, return the frames handled (0: no
 * work), or a negative errno; -EACCES (a capability fault) kills the fiber.
 */
typedef int (*fiber_step_fn)(struct fiber *f);

struct fiber_stats {
	uint64_t frames; /**< frames read from its rx ring */
	uint64_t sent;	 /**< frames written to its tx ring */
	uint64_t steps;
	/* lwf: every frame read is accepted (lwf[LWF_OK]) or refused for one
	 * reason (lwf[1 .. LWF_N_REASONS - 1], lwf[LWF_N_REASONS]: not LWF) */
	uint64_t lwf[LWF_N_REASONS + 1];
	/* utcp: the same, by utcp_reason; [UTCP_N_REASONS]: not UTCP */
	uint64_t utcp[UTCP_N_REASONS + 1];
	uint64_t unbound;  /**< utcp: accepted, but no ring bound to its port */
	uint64_t app;	   /**< accepted frames written to the app ring */
	uint64_t app_full; /**< accepted frames the app ring had no room for */
};

struct fiber {
	char name[CFG_NAME_LEN];
	enum cfg_fiber_kind kind;
	unsigned int lcore;
	fiber_step_fn step;
	uint16_t burst;
	uint32_t rx_ch, tx_ch;
	struct ion_cspace cs;
	struct ion_cons rx;
	struct ion_prod tx;
	bool rx_open, tx_open;
	uint32_t app_ch; /**< lwf: ring of accepted frames, or 0 */
	bool reflect;	 /**< lwf: accepted frames back out on tx */
	struct ion_prod app;
	bool app_open;
	struct lwf_replay *replay; /**< lwf: per-session windows */
	unsigned int n_binds;	   /**< utcp: destination port -> ring */
	struct {
		uint16_t port;
		uint32_t channel;
		bool open;
		struct ion_prod end;
	} binds[CFG_MAX_BINDS];
	void *priv;	/**< membrane, vfs, console: the kind's own state */
	uint32_t state; /**< enum fiber_state, atomic */
	struct ion_cap_fault fault; /**< what it lacked, when KILLED */
	struct fiber_stats st;	    /**< written by its lcore only */
};

/**
 * Set up @p f from @p fc: its CSpace from the grants (rings[] maps a
 * channel id to its ring, NULL when unknown).  Opens nothing yet: a fiber
 * opens an end the first time it touches it.
 */
int fiber_init(struct fiber *f, const struct cfg_fiber *fc,
	       struct ion_ring *(*ring_of)(void *arg, uint32_t channel),
	       void *arg, uint16_t burst);

/** Run one step; on a fault mark the fiber KILLED.  @return frames or 0. */
int fiber_run(struct fiber *f);

/**
 * Kill @p f on behalf of the operator or a fault.  Safe from any thread:
 * the fiber's lcore sees the state before its next step.
 */
void fiber_kill(struct fiber *f);

/* fiber_lwf.c: the lwf kind's step, set-up and tear-down */
int fiber_lwf_step(struct fiber *f);
int fiber_lwf_init(struct fiber *f);
void fiber_lwf_fini(struct fiber *f);

/* fiber_utcp.c: the utcp kind's step */
int fiber_utcp_step(struct fiber *f);
void fiber_utcp_fini(struct fiber *f);

/* fiber_console.c: the console kind's step (its state, f->priv, is set up
 * by fiber_console_init() in console.h once the daemon is wired) */
int fiber_console_step(struct fiber *f);
void fiber_console_fini(struct fiber *f);

/* Ends opened on first touch; NULL on a capability fault (fiber.c). */
struct ion_cons *fiber_rx_end(struct fiber *f);
struct ion_prod *fiber_tx_end(struct fiber *f);

/**
 * Write frame @p d (slot @p in) into reserved tx slot @p i with the MAC
 * addresses swapped: the reflect of every fiber kind.  A frame longer than
 * a tx slot is cut to it.
 */
static inline void
fiber_reflect_slot(struct ion_prod *tx, uint32_t i, const uint8_t *d,
		   const struct ion_slot *in)
{
	uint8_t *o = ion_prod_data(tx, i);
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)o;
	uint32_t len = in->len;

	if (len > ion_ring_slot_size(tx->ring))
		len = ion_ring_slot_size(tx->ring);
	memcpy(o, d, len);
	if (len >= sizeof(*eh)) {
		struct rte_ether_addr a = eh->dst_addr;

		eh->dst_addr = eh->src_addr;
		eh->src_addr = a;
	}
	ion_prod_slot(tx, i)->len = len;
	ion_prod_slot(tx, i)->tag = in->tag;
}

/** Release the endpoints a fiber holds (its lcore must be stopped). */
void fiber_fini(struct fiber *f);

/** Frames waiting in the fiber's rx ring (0 if it has none open). */
uint32_t fiber_backlog(const struct fiber *f);

static inline enum fiber_state
fiber_state_get(const struct fiber *f)
{
	/* acquire: a KILLED state is seen with the fault record written before
	 */
	return (enum fiber_state)__atomic_load_n(&f->state, __ATOMIC_ACQUIRE);
}

const char *fiber_state_str(enum fiber_state s);
const char *fiber_kind_str(enum cfg_fiber_kind k);

/** Snapshot of a fiber's counters, from any thread. */
void fiber_stats_get(const struct fiber *f, struct fiber_stats *st);

#endif /* IONSWITCHD_FIBER_H */
