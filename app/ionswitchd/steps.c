/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's own steps, run by the lcore scheduler (lib/fiber) like any
 * fiber, on the lcores the config names:
 *
 *   netswitch-rx  one RX burst from the port into the rings
 *   netswitch-tx  one pass over the TX rings to the port
 *   control       (main lcore) signals, the console's sessions, the stats
 *                 block, and the shutdown's phases
 *
 * Each says what wakes its lcore when it sleeps (lib/fiber): the RX step
 * the port's RX interrupt, the TX step the TX rings' doorbells, the
 * control step the console's sockets and output ring, and its timers.
 *
 * Shutdown, moved forward by the control step only:
 *   RUNNING -> DRAINING   stop reading the port; fibers empty their rings
 *   DRAINING -> STOPPING  every fiber is DONE (or KILLED), or drain_ms
 *   STOPPING -> STOPPED   the NetSwitch's TX is empty, or drain_ms
 */
#include <errno.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "console_host.h"
#include "ionswitchd.h"

/* The console is polled every millisecond: replies within ms, and no
 * system call on every round of a data lcore it shares. */
#define CONSOLE_POLL_US 1000

static unsigned int
rx_step(void *arg)
{
	struct ionswitchd *d = arg;

	if (fiber_sched_state(&d->sched) <= FIBER_RUN_RUNNING)
		return netswitch_rx(d->ns);
	if (!d->rx_off) {
		d->rx_off = true;
		fiber_sched_inputs_closed(&d->sched);
	}
	return 0;
}

/* The port's RX interrupt: on only while the lcore sleeps, so that the
 * vhost peer does not kick us for every frame while we poll anyway. */
static int
rx_arm(void *arg)
{
	struct ionswitchd *d = arg;

	if (d->rx_off)
		return 0; /* the port is no longer read: nothing to wake for */
	if (d->rx_intr_fd < 0)
		return -ENOTSUP;
	return d->rx_sock ? 0 : rte_eth_dev_rx_intr_enable(d->port_id, 0);
}

/* After enabling the interrupt, frames that came before it raised none:
 * one more RX burst catches them (and is work when it finds some). */
static bool
rx_ready(void *arg)
{
	struct ionswitchd *d = arg;

	return !d->rx_off && netswitch_rx(d->ns) != 0;
}

static void
rx_disarm(void *arg)
{
	struct ionswitchd *d = arg;

	if (!d->rx_off && d->rx_intr_fd >= 0 && !d->rx_sock)
		rte_eth_dev_rx_intr_disable(d->port_id, 0);
}

static int
tx_arm(void *arg)
{
	return netswitch_tx_arm(((struct ionswitchd *)arg)->ns);
}

static bool
tx_ready(void *arg)
{
	return netswitch_tx_ready(((struct ionswitchd *)arg)->ns);
}

static void
tx_disarm(void *arg)
{
	netswitch_tx_disarm(((struct ionswitchd *)arg)->ns);
}

static unsigned int
tx_step(void *arg)
{
	struct ionswitchd *d = arg;
	unsigned int n = netswitch_tx(d->ns);

	/* fibers are done: what the TX rings hold is all that is left */
	if (n == 0 && fiber_sched_state(&d->sched) == FIBER_RUN_STOPPING &&
	    netswitch_tx_pending(d->ns) == 0)
		/* release: the last TX precedes "flushed" */
		__atomic_store_n(&d->flushed, 1, __ATOMIC_RELEASE);
	return n;
}

void
steps_stop(struct ionswitchd *d, const char *why)
{
	if (d->stop_why == NULL)
		d->stop_why = why;
}

static uint64_t
after_ms(unsigned int ms)
{
	return rte_get_timer_cycles() + rte_get_timer_hz() * ms / 1000;
}

/* Move the run state on when the current phase is over. */
static void
shutdown_phase(struct ionswitchd *d, uint64_t now)
{
	switch (fiber_sched_state(&d->sched)) {
	case FIBER_RUN_RUNNING:
		DLOG(INFO, "%s: stopping RX, draining rings\n", d->stop_why);
		d->deadline = after_ms(d->cfg.drain_ms);
		fiber_sched_set(&d->sched, FIBER_RUN_DRAINING);
		break;
	case FIBER_RUN_DRAINING:
		if (!fiber_sched_fibers_done(&d->sched) && now < d->deadline)
			break;
		if (now >= d->deadline)
			DLOG(WARNING, "fibers did not drain in %u ms\n",
			     d->cfg.drain_ms);
		d->deadline = after_ms(d->cfg.drain_ms);
		fiber_sched_set(&d->sched, FIBER_RUN_STOPPING);
		break;
	case FIBER_RUN_STOPPING:
		/* acquire: pairs with the TX step's release */
		if (!__atomic_load_n(&d->flushed, __ATOMIC_ACQUIRE) &&
		    now < d->deadline)
			break;
		if (now >= d->deadline)
			DLOG(WARNING, "TX did not flush in %u ms\n",
			     d->cfg.drain_ms);
		fiber_sched_set(&d->sched, FIBER_RUN_STOPPED);
		break;
	default:
		break;
	}
}

static unsigned int
control_step(void *arg)
{
	struct ionswitchd *d = arg;
	uint64_t now = rte_get_timer_cycles();
	unsigned int work = 0;
	int sig;

	/* relaxed: the handler's store; nothing else is read through it */
	sig = __atomic_load_n(d->signal, __ATOMIC_RELAXED);
	if (sig != 0 && d->stop_why == NULL) {
		snprintf(d->why, sizeof(d->why), "signal %d", sig);
		steps_stop(d, d->why);
	}
	if (now >= d->next_console && d->con != NULL) {
		d->next_console =
			now + rte_get_timer_hz() / 1000000 * CONSOLE_POLL_US;
		work += console_host_poll(d->con, 0);
		if (console_host_stop(d->con) != NULL)
			steps_stop(d, console_host_stop(d->con));
	}
	if (d->claimd != NULL)
		work += claims_poll(d);
	if (d->stats_period != 0 && now >= d->next_stats) {
		d->next_stats = now + rte_get_timer_hz() * d->stats_period;
		counters_print(d, false);
	}
	if (d->stop_why != NULL)
		shutdown_phase(d, now);
	return work;
}

/* The console's output ring: replies wake the main lcore. */
static int
control_arm(void *arg)
{
	struct ionswitchd *d = arg;

	return d->con != NULL ? console_host_arm(d->con) : 0;
}

/* Shutting down, it moves the phases on as soon as it can: it polls. */
static bool
control_ready(void *arg)
{
	struct ionswitchd *d = arg;

	return d->stop_why != NULL ||
	       (d->con != NULL && console_host_ready(d->con));
}

static void
control_disarm(void *arg)
{
	struct ionswitchd *d = arg;

	if (d->con != NULL)
		console_host_disarm(d->con);
}

/* The next stats block. */
static uint64_t
control_deadline(void *arg)
{
	struct ionswitchd *d = arg;

	return d->stats_period != 0 ? d->next_stats : UINT64_MAX;
}

int
steps_add(struct ionswitchd *d, unsigned int main_lcore)
{
	const struct fiber_step rx = {.name = "netswitch-rx",
				      .run = rx_step,
				      .arg = d,
				      .arm = rx_arm,
				      .ready = rx_ready,
				      .disarm = rx_disarm};
	const struct fiber_step tx = {.name = "netswitch-tx",
				      .run = tx_step,
				      .arg = d,
				      .arm = tx_arm,
				      .ready = tx_ready,
				      .disarm = tx_disarm};
	const struct fiber_step ctl = {.name = "control",
				       .run = control_step,
				       .arg = d,
				       .arm = control_arm,
				       .ready = control_ready,
				       .disarm = control_disarm,
				       .deadline = control_deadline};
	unsigned int i;
	int rc, efd;

	/* the TX rings' producers wake the NetSwitch's lcore; its port's RX
	 * interrupt too, where the port has one (nothing to wake when the
	 * scheduler's lcores back off instead: -ENOTSUP) */
	efd = fiber_sched_eventfd(&d->sched, d->cfg.ns_lcore);
	if (efd != -ENOTSUP) {
		rc = efd < 0 ? efd : netswitch_tx_set_eventfd(d->ns, efd);
		/* the interrupt's eventfd is edge-triggered; a port's
		 * socket stays readable while frames wait */
		if (rc == 0 && d->rx_intr_fd >= 0)
			rc = fiber_sched_watch(&d->sched, d->cfg.ns_lcore,
					       d->rx_intr_fd, !d->rx_sock);
		if (rc == 0)
			rc = fiber_sched_eventfd(&d->sched, main_lcore);
		/* claims and their processes' deaths wake the main lcore */
		if (rc >= 0 && d->claimd != NULL)
			rc = fiber_sched_watch(&d->sched, main_lcore,
					       ion_claimd_fd(d->claimd), false);
		if (rc < 0)
			return rc;
	}
	/* a round on a shared lcore follows a frame's path: in from the
	 * port, through the fibers, out in the same round */
	rc = fiber_sched_add(&d->sched, main_lcore, &ctl);
	if (rc == 0)
		rc = fiber_sched_add(&d->sched, d->cfg.ns_lcore, &rx);
	for (i = 0; rc == 0 && i < d->n_fibers; i++)
		/* an external fiber runs in its own process, not here */
		if (!d->fibers[i].kind->remote)
			rc = fiber_sched_add_fiber(&d->sched, &d->fibers[i]);
	if (rc == 0)
		rc = fiber_sched_add(&d->sched, d->cfg.ns_lcore, &tx);
	d->next_stats =
		rte_get_timer_cycles() + rte_get_timer_hz() * d->stats_period;
	return rc;
}
