/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fibers, and the lcore scheduler that runs them.
 *
 * A fiber is a cooperative step: a function that handles at most one
 * burst and returns.  It reaches ION rings only through its capability
 * space (CSpace): it opens a ring end the first time it touches it, and a
 * touch without the capability is a capability fault that kills the fiber
 * (state KILLED, never scheduled again) while everything else runs on.
 *
 * What a fiber does is its kind.  Kinds are listed in one table,
 * fiber_kinds[], in the manner of testpmd's fwd_engines[]: a kind is a
 * struct fiber_kind in a file of its own (kind_*.c) with its name, its
 * config keys, and its init, step, kill and fini functions and counters.
 * Adding a kind touches that file, the table and the docs, nothing else
 * (docs/architecture.md, "Adding a fiber kind").
 *
 * The scheduler: each lcore runs a list of steps round robin, each to
 * completion -- the NetSwitch's RX and TX, fibers, the daemon's own
 * control step -- and backs off only when every one of its steps found
 * nothing to do.  Any step may share any lcore.
 */
#ifndef FIBER_H
#define FIBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ctr.h>
#include <ion_ring.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FIBER_NAME_LEN	  32
#define FIBER_MAX_ENDS	  24  /**< ring ends of one fiber */
#define FIBER_PARAMS_MAX  512 /**< bytes of a kind's parameter struct */
#define FIBER_MAX_PARAMS  16  /**< config keys of one kind */
#define FIBER_MAX_BINDS	  16  /**< entries of a FIBER_P_BINDS key */
#define FIBER_STATS_MAX	  512 /**< bytes of a kind's counter struct */
#define FIBER_MAX_LCORES  128 /**< RTE_MAX_LCORE of Debian's DPDK */
#define FIBER_LCORE_STEPS 40  /**< steps of one lcore */
#define FIBER_SCHED_MAX	  64  /**< fibers of one scheduler */

struct fiber;
struct fiber_sched;
struct console_ops;

/* ------------------------------------------------------------------ */
/* Kinds                                                               */
/* ------------------------------------------------------------------ */

/** Types of a kind's config keys (the loader checks and converts them). */
enum fiber_param_type {
	FIBER_P_BOOL,	 /**< bool */
	FIBER_P_UINT,	 /**< uint32_t in [min, max] */
	FIBER_P_CHANNEL, /**< uint32_t ring id, 0 = none; must be a channel */
	FIBER_P_IPV4,	 /**< uint32_t, network byte order, from "a.b.c.d" */
	FIBER_P_PATH,	 /**< char[FIBER_PATH_LEN], an absolute path */
	FIBER_P_BINDS,	 /**< struct fiber_binds: ( { port; channel; }, ...) */
};

#define FIBER_PATH_LEN 256

/** One config key of a kind: where it lands in the kind's parameters. */
struct fiber_param {
	const char *key;
	enum fiber_param_type type;
	uint32_t off;	    /**< in the kind's parameter struct */
	long long min, max; /**< FIBER_P_UINT */
	const char *def;  /**< default, as a config writes it; NULL: required */
	const char *help; /**< one line, for the docs and refusals */
};

/** FIBER_P_BINDS: port -> channel, e.g. UTCP destination ports. */
struct fiber_bind {
	uint16_t port;
	uint32_t channel;
	int line; /**< in the config, for refusals */
};

struct fiber_binds {
	unsigned int n;
	struct fiber_bind b[FIBER_MAX_BINDS];
};

/** What the host gives every fiber: plain values, no config types. */
struct fiber_env {
	uint8_t mac[6]; /**< the port's */
	/** the host's figures as JSON (the membrane's GET /stats) */
	size_t (*stats_json)(char *buf, size_t len, void *arg);
	/** the host's figures in the Prometheus format (GET /metrics) */
	size_t (*stats_prom)(char *buf, size_t len, void *arg);
	void *stats_arg;
	const struct console_ops *console; /**< what console commands do */
};

/** The common part of a fiber's configuration. */
struct fiber_conf {
	const char *name;
	const struct fiber_kind *kind;
	unsigned int lcore;
	uint32_t rx, tx;    /**< channels it reads and writes (tx 0: none) */
	uint16_t burst;	    /**< frames a step handles at most */
	const void *params; /**< kind->params_size bytes, kind's own struct */
};

struct fiber_kind {
	const char *name; /**< the config's kind = "...", the counters' set */
	const char *help; /**< one line */
	const struct fiber_param *params; /**< its config keys */
	unsigned int n_params;
	size_t params_size; /**< <= FIBER_PARAMS_MAX */
	bool needs_tx;	    /**< refuse a fiber of this kind without tx */
	/**
	 * A full tx ring makes it drop (the membrane: TCP resends), not wait:
	 * its lcore does not sleep on tx's room, and input still wakes it.
	 */
	bool tx_drops;
	/** The operator's console: the daemon's console host serves the
	 *  first fiber of such a kind (its rx and tx carry the sessions). */
	bool console;
	/**
	 * Checks across keys, before anything starts; NULL if none.  @return
	 * 0, or -EINVAL with the reason (a sentence about fiber @p c->name) in
	 * @p why.
	 */
	int (*check)(const struct fiber_conf *c, char *why, size_t len);
	/** Set up f->priv from the parameters; NULL if nothing to do. */
	int (*init)(struct fiber *f, const void *params,
		    const struct fiber_env *env);
	/**
	 * One step: handle at most f->burst frames.  @return the work done
	 * (0: nothing to do) or a negative errno; -EACCES is a capability
	 * fault.  Either kills the fiber.
	 */
	int (*step)(struct fiber *f);
	/** The fiber was killed (any thread); stop side effects.  Optional. */
	void (*kill)(struct fiber *f);
	/**
	 * Shutting down, the fiber emptied its input and is about to be DONE:
	 * stop what could still write its rings from another thread (a
	 * stack's timers), so that the NetSwitch's last TX pass sees every
	 * frame it will ever get.  Optional.
	 */
	void (*done)(struct fiber *f);
	/**
	 * Its step runs in another process, which claims it (kind
	 * external): no lcore, rx or tx; the host does not schedule it.
	 */
	bool remote;
	/** Release what init and the steps took (the lcore has stopped). */
	void (*fini)(struct fiber *f);
	/**
	 * Sleeping: what wakes it besides input on its consumer ends and room
	 * on a full back-pressure tx (fiber_arm()); all optional.  arm
	 * returns 0 or < 0 (cannot sleep), having undone what it armed.
	 */
	int (*arm)(struct fiber *f);
	bool (*ready)(struct fiber *f);
	void (*disarm)(struct fiber *f);
	/** TSC of its next timer (UINT64_MAX: none): its lcore sleeps no
	 *  longer than that.  Optional. */
	uint64_t (*deadline)(struct fiber *f);
	/** Its own counters, nested under its name; NULL if none. */
	const struct ctr_set *counters;
	/**
	 * Snapshot them into @p out (counters' struct, <= FIBER_STATS_MAX),
	 * from any thread.  NULL: they are a struct of uint64_t at
	 * stats_offset in priv, stats_size bytes, written by its lcore only.
	 */
	void (*stats)(const struct fiber *f, void *out);
	size_t stats_offset, stats_size;
};

/** Every kind, NULL-terminated (fiber_kinds.c). */
extern const struct fiber_kind *const fiber_kinds[];

/** The kind named @p name, or NULL. */
const struct fiber_kind *fiber_kind_find(const char *name);

/** The parameter @p key of @p k, or NULL. */
const struct fiber_param *fiber_kind_param(const struct fiber_kind *k,
					   const char *key);

/** Kind @p k's keys as a Markdown table (--kinds, docs/configuration.md). */
void fiber_kind_describe(FILE *out, const struct fiber_kind *k);

/**
 * Fill @p params (FIBER_PARAMS_MAX bytes at most) with @p k's defaults;
 * required keys are left zero.  @return 0, or -E2BIG.
 */
int fiber_params_default(const struct fiber_kind *k, void *params);

/**
 * Set parameter @p p in @p params from text @p v, as a config writes it
 * ("true", "80", "0x0602", "10.0.0.2", "/srv/www").
 * @return 0, or -EINVAL with a sentence in @p why.
 */
int fiber_param_parse(const struct fiber_param *p, void *params, const char *v,
		      char *why, size_t len);

/* ------------------------------------------------------------------ */
/* Fibers                                                              */
/* ------------------------------------------------------------------ */

enum fiber_state {
	FIBER_READY,   /**< runs when its lcore gets to it (or its process) */
	FIBER_KILLED,  /**< capability fault, failed step, or the operator */
	FIBER_DONE,    /**< drained at shutdown */
	FIBER_WAITING, /**< a remote fiber no process has claimed (yet) */
};

/** A ring end of a fiber, opened through its CSpace on first touch. */
struct fiber_end {
	uint32_t channel;
	uint32_t perm; /**< ION_PERM_READ: the consumer end; WRITE: producer */
	bool open;
	union {
		struct ion_cons cons;
		struct ion_prod prod;
	};
};

/** The ends every fiber has: its conf's rx and tx. */
#define FIBER_RX 0u
#define FIBER_TX 1u

/** Counters every fiber has, written by its lcore only. */
struct fiber_stats {
	uint64_t frames; /**< messages taken from its rx ring */
	uint64_t sent;	 /**< messages written to its tx ring */
	uint64_t steps;	 /**< times it ran */
};

struct fiber {
	char name[FIBER_NAME_LEN];
	const struct fiber_kind *kind;
	unsigned int lcore;
	uint16_t burst;
	uint32_t state;			 /**< enum fiber_state, atomic */
	const struct fiber_sched *sched; /**< its run state, once scheduled */
	int efd;       /**< its lcore's doorbell eventfd, or -1 (no sleeping) */
	bool tx_armed; /**< its lcore sleeps until tx has room */
	struct ion_cspace cs;
	struct ion_cap_fault fault; /**< what it lacked, when KILLED */
	char why[CTR_STR_MAX];	    /**< why it was KILLED */
	unsigned int n_ends;
	struct fiber_end ends[FIBER_MAX_ENDS];
	void *priv; /**< the kind's state */
	struct fiber_stats st;
};

/**
 * Set up @p f from @p c and @p env: its rx and tx ends (FIBER_RX,
 * FIBER_TX), then its kind's init.  The CSpace starts empty: grant it with
 * fiber_grant().  Nothing is opened yet.
 * @return 0 or a negative errno (fiber_fini() cleans up either way).
 */
int fiber_init(struct fiber *f, const struct fiber_conf *c,
	       const struct fiber_env *env);

/** Give @p f the capability @p perms on @p ring. @return 0 or -errno. */
int fiber_grant(struct fiber *f, struct ion_ring *ring, uint32_t perms);

/**
 * Declare another ring end (a kind's init does): @p perm ION_PERM_READ for
 * the consumer end, ION_PERM_WRITE for the producer end.
 * @return its index for fiber_cons()/fiber_prod(), or -ENOSPC.
 */
int fiber_end_add(struct fiber *f, uint32_t channel, uint32_t perm);

/** Open end @p i through the CSpace.  @return 0, -EACCES (a capability
 * fault, recorded), -EBUSY. */
int fiber_end_open(struct fiber *f, unsigned int i);

/** The consumer end @p i, opened on first touch; NULL on a fault. */
static inline struct ion_cons *
fiber_cons(struct fiber *f, unsigned int i)
{
	struct fiber_end *e = &f->ends[i];

	if (__builtin_expect(!e->open, 0) && fiber_end_open(f, i) < 0)
		return NULL;
	return &e->cons;
}

/** The producer end @p i, opened on first touch; NULL on a fault. */
static inline struct ion_prod *
fiber_prod(struct fiber *f, unsigned int i)
{
	struct fiber_end *e = &f->ends[i];

	if (__builtin_expect(!e->open, 0) && fiber_end_open(f, i) < 0)
		return NULL;
	return &e->prod;
}

/* relaxed: own counter, a stats reader needs only no tearing */
#define FIBER_STAT_ADD(f, field, n)                                            \
	__atomic_store_n(&(f)->st.field, (f)->st.field + (n), __ATOMIC_RELAXED)

/**
 * Run one step of @p f.  A fault or a failed step kills it (logged once,
 * with the channel and permission it lacked).  While the host drains, a
 * fiber that found nothing to do and has nothing left in its rx ring
 * becomes DONE.  @return the work done, 0 if none or not runnable.
 */
unsigned int fiber_run(struct fiber *f);

/**
 * Kill @p f, from any thread, for @p why (one line, shown with its
 * counters): its lcore sees it before the next step; a remote fiber's
 * process is killed by its host.
 */
void fiber_kill(struct fiber *f, const char *why);

/** Close its ends and run its kind's fini (its lcore must be stopped). */
void fiber_fini(struct fiber *f);

static inline enum fiber_state
fiber_state_get(const struct fiber *f)
{
	/* acquire: a KILLED state comes with the fault record written before */
	return (enum fiber_state)__atomic_load_n(&f->state, __ATOMIC_ACQUIRE);
}

/** "RUNNING", "KILLED", "DONE" or "WAITING". */
const char *fiber_state_str(enum fiber_state s);

/**
 * Its lcore is about to sleep: arm the doorbells of its open consumer ends,
 * and of tx when a full tx holds it back.  @return 0, or < 0 (nothing left
 * armed): its lcore backs off instead.
 */
int fiber_arm(struct fiber *f);
/** After ion_arm_barrier(): does it have work it can do? */
bool fiber_ready(struct fiber *f);
void fiber_disarm(struct fiber *f);

/** Messages waiting in its rx ring. */
uint32_t fiber_backlog(const struct fiber *f);

/** True once the host drains (the kind's step may stop taking work). */
bool fiber_draining(const struct fiber *f);

/** Snapshot @p f's kind counters (kind->counters' struct) into @p out
 * (FIBER_STATS_MAX bytes), from any thread. */
void fiber_kind_stats(const struct fiber *f, void *out);

/** The counters every fiber has, as a set (struct fiber_stats). */
extern const struct ctr_set fiber_ctr_set;

/**
 * One row of the fibers' counters for @p f: name, kind, lcore, state,
 * fault as attributes, struct fiber_stats, and the kind's own set.
 * @p snap and @p kind_snap hold the values until the row is emitted.
 */
void fiber_ctr_row(const struct fiber *f, struct ctr_row *r,
		   struct fiber_stats *snap, void *kind_snap);

/* ------------------------------------------------------------------ */
/* The lcore scheduler                                                 */
/* ------------------------------------------------------------------ */

/** The host's run state, moved forward only by the host's control step. */
enum fiber_run {
	FIBER_RUN_STARTING,
	FIBER_RUN_RUNNING,
	FIBER_RUN_DRAINING, /**< inputs stop; fibers empty their rings */
	FIBER_RUN_STOPPING, /**< fibers are done; outputs are flushed */
	FIBER_RUN_STOPPED,  /**< every lcore returns */
};

/**
 * A step: one unit of work an lcore runs to completion.  To let its lcore
 * sleep instead of polling when every step is idle, a step says what wakes
 * it (ion_doorbell.h): the lcore arms every step, issues one
 * ion_arm_barrier(), asks every step whether work arrived meanwhile, and
 * only then sleeps in epoll until a doorbell, a watched fd or the nearest
 * deadline.  A step without arm keeps its lcore polling (with back-off).
 */
struct fiber_step {
	const char *name;
	/** @return the work done (frames, events); 0 when there was none */
	unsigned int (*run)(void *arg);
	void *arg;
	/** Arm the wake sources; @return 0, or < 0: it cannot sleep now
	 * (having undone what it armed). */
	int (*arm)(void *arg);
	/** After the barrier: is there work?  It may do some (a port RX). */
	bool (*ready)(void *arg);
	void (*disarm)(void *arg);
	/** TSC of its next timer, or UINT64_MAX; NULL: none. */
	uint64_t (*deadline)(void *arg);
};

/** An lcore's accounting, written by that lcore only. */
struct fiber_lcore_stats {
	uint64_t busy_cycles; /**< loops in which some step worked */
	uint64_t idle_cycles; /**< loops in which none did, back-off included */
	uint64_t sleeps;      /**< sleeps: back-off, or in epoll */
	uint64_t loops;
	uint64_t wakeups;  /**< epoll sleeps ended by a doorbell or an fd */
	uint64_t timeouts; /**< epoll sleeps ended by the deadline */
	uint64_t late;	   /**< of those, found work at once: a wake-up
			    *   that did not come (a step armed nothing for
			    *   it); 0 but for a coincidence */
};

struct fiber_lcore {
	uint64_t last_work; /**< TSC of its last round that did work */
	unsigned int n_steps;
	struct fiber_step steps[FIBER_LCORE_STEPS];
	uint32_t max_sleep_us; /**< longest back-off sleep of this lcore */
	int epfd;	       /**< where it sleeps, or -1 */
	int efd;	       /**< its doorbell (eventfd), or -1 */
	bool polls;	       /**< logged: it backs off instead of sleeping */
	bool timed_out;	       /**< its last sleep ended by the deadline */
	uint32_t returned;     /**< atomic: fiber_sched_lcore() returned */
	struct fiber_lcore_stats st __attribute__((aligned(64)));
};

struct fiber_sched {
	uint32_t run;		/**< enum fiber_run, atomic */
	uint32_t inputs_closed; /**< atomic: no new message enters a ring */
	uint32_t idle_polls;	/**< empty loops before backing off */
	uint64_t spin_cycles;	/**< keep polling this long after work */
	bool doorbells;		/**< idle lcores sleep in epoll */
	unsigned int n_fibers;
	struct fiber *fibers[FIBER_SCHED_MAX];
	struct fiber_lcore lcores[FIBER_MAX_LCORES];
};

/**
 * Set up @p s: an lcore backs off after @p idle_polls empty loops, pausing
 * the CPU, then sleeping 1, 2, 4 ... up to @p max_sleep_us.
 */
void fiber_sched_init(struct fiber_sched *s, uint32_t idle_polls,
		      uint32_t max_sleep_us);

/**
 * Idle lcores sleep on doorbells, watched fds and deadlines (epoll)
 * instead of backing off; call before adding steps.  @return 0 or -errno.
 */
int fiber_sched_use_doorbells(struct fiber_sched *s);

/**
 * An lcore keeps polling (without sleeping) for @p us microseconds after
 * its last round that did work: traffic that comes in bursts closer than
 * that pays no wake-up; an idle lcore still sleeps.
 */
void fiber_sched_spin(struct fiber_sched *s, uint32_t us);

/** The eventfd that wakes lcore @p lcore (made on first use), -ENOTSUP
 *  when the lcores back off instead of sleeping on doorbells, or -errno. */
int fiber_sched_eventfd(struct fiber_sched *s, unsigned int lcore);

/** Wake lcore @p lcore when @p fd is readable (@p edge: EPOLLET); 0 and
 *  nothing to do when the lcores back off instead. */
int fiber_sched_watch(struct fiber_sched *s, unsigned int lcore, int fd,
		      bool edge);
void fiber_sched_unwatch(struct fiber_sched *s, unsigned int lcore, int fd);

/** Close the lcores' epoll and eventfd descriptors (they have returned). */
void fiber_sched_fini(struct fiber_sched *s);

/** Append @p st to lcore @p lcore's steps.  @return 0, -EINVAL, -ENOSPC. */
int fiber_sched_add(struct fiber_sched *s, unsigned int lcore,
		    const struct fiber_step *st);

/** Append fiber @p f as a step of its lcore. */
int fiber_sched_add_fiber(struct fiber_sched *s, struct fiber *f);

/** Run lcore @p lcore's steps until the run state is STOPPED. */
int fiber_sched_lcore(struct fiber_sched *s, unsigned int lcore);

/**
 * Once the lcores have returned (rte_eal_mp_wait_lcore()): everything they
 * wrote happens before what the caller does next, also for
 * ThreadSanitizer, which does not see DPDK's own hand-off (the EAL is not
 * instrumented).  @return lcores with steps that never ran
 * fiber_sched_lcore() to its end (0 after a normal stop).
 */
unsigned int fiber_sched_joined(struct fiber_sched *s);

static inline enum fiber_run
fiber_sched_state(const struct fiber_sched *s)
{
	/* acquire: pairs with fiber_sched_set(); orders the phases */
	return (enum fiber_run)__atomic_load_n(&s->run, __ATOMIC_ACQUIRE);
}

static inline void
fiber_sched_set(struct fiber_sched *s, enum fiber_run r)
{
	/* release: what the control step did before is seen with the state */
	__atomic_store_n(&s->run, r, __ATOMIC_RELEASE);
}

/** The host's inputs have stopped: what is in the rings is all there is. */
void fiber_sched_inputs_closed(struct fiber_sched *s);

/** True when every scheduled fiber is DONE or KILLED. */
bool fiber_sched_fibers_done(const struct fiber_sched *s);

/** The lcores' counters, as a set (struct fiber_lcore_stats). */
extern const struct ctr_set fiber_lcore_ctr_set;

#ifdef __cplusplus
}
#endif

#endif /* FIBER_H */
