/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * external: a fiber that runs in a process of its own.  The host exports
 * it on its claim socket (ion_claimd, ion_ring.h); a process whose uid
 * (and gid, if given) the manifest names claims it and gets the rings of
 * its grants, each mapped with the protection of its grant, and nothing
 * else.  It has no step here: its state follows its claims (WAITING until
 * claimed, RUNNING while claimed, KILLED when its process died, was killed
 * or faulted; WAITING again when it gave its rings back), and a new claim
 * restarts a killed one only if `restart` says so.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_malloc.h>

#include "fiber_external.h"
#include "fiber_impl.h"

struct external_params {
	uint32_t uid;
	uint32_t gid;
	bool restart;
};

#define ANY_GID "4294967295"

static const struct fiber_param external_params[] = {
	{"uid", FIBER_P_UINT, offsetof(struct external_params, uid), 0,
	 4294967294LL, NULL, "the user id of the process that may claim it"},
	{"gid", FIBER_P_UINT, offsetof(struct external_params, gid), 0,
	 4294967295LL, ANY_GID, "and its group id (4294967295: any group)"},
	{"restart", FIBER_P_BOOL, offsetof(struct external_params, restart), 0,
	 0, "false", "a new claim may restart it after it was killed"},
};

struct external_stats {
	uint64_t claims;     /**< claims accepted */
	uint64_t refused;    /**< claims and messages refused */
	uint64_t faults;     /**< capability faults */
	uint64_t deaths;     /**< claims ended by the process dying */
	uint64_t given_back; /**< claims ended by the process giving back */
	uint64_t skipped;    /**< messages skipped when its ends came back */
	uint64_t pid;	     /**< the claiming process, 0 if none */
};

static const struct ctr_desc external_ctrs[] = {
	CTR(struct external_stats, claims, "claims accepted"),
	CTR(struct external_stats, refused,
	    "claims of it refused (wrong uid or gid, claimed, killed for "
	    "good) and messages of its claimant refused (the host's claims "
	    "counters say why)"),
	CTR(struct external_stats, faults,
	    "capability faults: a channel not granted asked for, or a "
	    "page of a ring written that its grant maps read-only"),
	CTR(struct external_stats, deaths,
	    "claims ended by the process dying (killed, faulted, exited)"),
	CTR(struct external_stats, given_back,
	    "claims ended by the process giving its rings back"),
	CTR(struct external_stats, skipped,
	    "messages skipped when its consumer ends came back from a dead "
	    "process (it had them peeked)"),
	CTR_G(struct external_stats, pid, "the claiming process, 0 if none"),
};

static const struct ctr_set external_ctr_set =
	CTR_SET("external", external_ctrs, "external fiber");

struct external_priv {
	struct external_params p;
	int index;		  /**< in the host's claim server */
	uint32_t kill_req;	  /**< atomic: killed from another thread */
	struct external_stats st; /**< written by the host's control step */
};

static int
external_init(struct fiber *f, const void *params, const struct fiber_env *env)
{
	struct external_priv *x;

	(void)env;
	x = rte_zmalloc("external", sizeof(*x), RTE_CACHE_LINE_SIZE);
	if (x == NULL)
		return -ENOMEM;
	memcpy(&x->p, params, sizeof(x->p));
	x->index = -1;
	f->priv = x;
	f->state = FIBER_WAITING;
	return 0;
}

static void
external_kill(struct fiber *f)
{
	struct external_priv *x = f->priv;
	uint64_t one = 1;

	/* release: the host's control step acts on it (and its process) */
	__atomic_store_n(&x->kill_req, 1, __ATOMIC_RELEASE);
	if (f->efd >= 0 && write(f->efd, &one, sizeof(one)) < 0) {
		/* EAGAIN: already signalled; the control step polls too */
	}
}

static void
external_fini(struct fiber *f)
{
	rte_free(f->priv);
	f->priv = NULL;
}

const struct fiber_kind fiber_kind_external = {
	.name = "external",
	.help = "Runs in a process of its own that claims it on the host's "
		"fibers socket and gets the rings of its grants, mapped as "
		"they allow",
	.params = external_params,
	.n_params = RTE_DIM(external_params),
	.params_size = sizeof(struct external_params),
	.remote = true,
	.init = external_init,
	.kill = external_kill,
	.fini = external_fini,
	.counters = &external_ctr_set,
	.stats_offset = offsetof(struct external_priv, st),
	.stats_size = sizeof(struct external_stats),
};

/* ---- what the host's claim server tells it ---- */

static struct external_priv *
ext(const struct fiber *f)
{
	/* NULL: a refusal that named no fiber of ours */
	return f != NULL && f->kind == &fiber_kind_external ? f->priv : NULL;
}

bool
fiber_is_external(const struct fiber *f)
{
	return ext(f) != NULL;
}

int
fiber_external_manifest(const struct fiber *f, uint32_t *uid, uint32_t *gid,
			bool *restart)
{
	const struct external_priv *x = ext(f);

	if (x == NULL)
		return -EINVAL;
	*uid = x->p.uid;
	*gid = x->p.gid;
	*restart = x->p.restart;
	return 0;
}

void
fiber_external_set_index(struct fiber *f, int index)
{
	if (ext(f) != NULL)
		ext(f)->index = index;
}

int
fiber_external_index(const struct fiber *f)
{
	return ext(f) != NULL ? ext(f)->index : -1;
}

bool
fiber_external_kill_requested(struct fiber *f)
{
	struct external_priv *x = ext(f);

	/* acquire: pairs with external_kill() */
	return x != NULL &&
	       __atomic_exchange_n(&x->kill_req, 0, __ATOMIC_ACQUIRE) != 0;
}

void
fiber_external_claimed(struct fiber *f, uint32_t pid)
{
	struct external_priv *x = ext(f);

	if (x == NULL)
		return;
	KIND_STAT_ADD(&x->st, claims, 1);
	/* relaxed: a gauge, read whole */
	__atomic_store_n(&x->st.pid, pid, __ATOMIC_RELAXED);
	FIBER_LOG(NOTICE, "%s: claimed by process %u\n", f->name, pid);
	/* release: its counters before its state */
	__atomic_store_n(&f->state, FIBER_READY, __ATOMIC_RELEASE);
}

void
fiber_external_refused(struct fiber *f)
{
	struct external_priv *x = ext(f);

	if (x != NULL)
		KIND_STAT_ADD(&x->st, refused, 1);
}

void
fiber_external_ended(struct fiber *f, bool killed, bool fault, uint32_t channel,
		     uint32_t perm, uint32_t skipped, const char *why)
{
	struct external_priv *x = ext(f);

	if (x == NULL)
		return;
	__atomic_store_n(&x->st.pid, 0, __ATOMIC_RELAXED);
	KIND_STAT_ADD(&x->st, skipped, skipped);
	if (!killed) {
		KIND_STAT_ADD(&x->st, given_back, 1);
		FIBER_LOG(NOTICE, "%s: %s\n", f->name, why);
		/* release: its counters before its state */
		__atomic_store_n(&f->state, FIBER_WAITING, __ATOMIC_RELEASE);
		return;
	}
	KIND_STAT_ADD(&x->st, deaths, 1);
	if (fault) {
		KIND_STAT_ADD(&x->st, faults, 1);
		f->fault.channel = channel;
		f->fault.perm = perm;
		f->fault.count++;
	}
	FIBER_LOG(WARNING, "%s KILLED: %s%s\n", f->name, why,
		  x->p.restart ? "; a new claim may restart it" : "");
	/* not fiber_kill(): its process is gone already */
	fiber_set_killed(f, why);
}
