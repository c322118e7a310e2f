/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The console fiber: reads command lines from its rx ring (console input,
 * one line a slot), runs them (console_cmd.c) and writes each reply to its
 * tx ring (console output) cut into slots, the last one tagged
 * CONSOLE_OUT_END with the reply's flags (console.h).
 *
 * It never blocks and never drops output: a reply the tx ring has no room
 * for stays here and goes out on the next steps, and no new command is
 * read before it has.  The console is not a hot path: a reply is rendered
 * into a memory stream allocated per command.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>

#include "console.h"
#include "ionswitchd.h"

#define STAT_ADD(f, field, n)                                                  \
	/* relaxed: own counter, a stats reader needs only no tearing */       \
	__atomic_store_n(&(f)->st.field, (f)->st.field + (n), __ATOMIC_RELAXED)

/* The reply when no memory is left to render one. */
static const char no_memory[] = "error: out of memory\n";

struct console_fiber {
	struct ionswitchd *d;
	struct fiber *self;
	struct console_ops ops;
	/* the reply being written: buf[off .. len) is still to go */
	char *buf;
	size_t len, off;
	bool pending;
	bool static_buf; /* buf is no_memory, not to be freed */
	uint32_t tag;	 /* session | CONSOLE_OUT_* of the reply's end */
	/* "show port": rates since the previous one */
	uint64_t prev_tsc, prev_rx, prev_tx;
	char line[CONSOLE_LINE_MAX];
};

static void
show_port(void *arg, FILE *out)
{
	struct console_fiber *c = arg;
	uint64_t now = rte_rdtsc();
	struct stats_snap s;
	struct stats_rates r;

	/* the first "show port": the rates since the daemon started */
	if (c->prev_tsc == 0)
		c->prev_tsc = c->d->start_tsc;
	r.dt = (double)(now - c->prev_tsc) / (double)rte_get_tsc_hz();
	r.prev_rx = c->prev_rx;
	r.prev_tx = c->prev_tx;
	stats_snap_get(c->d, &s);
	stats_show_port(out, c->d, &s, &r);
	c->prev_tsc = now;
	c->prev_rx = s.port.ipackets;
	c->prev_tx = s.port.opackets;
}

static void
show_rings(void *arg, FILE *out)
{
	struct console_fiber *c = arg;
	struct stats_snap s;

	stats_snap_get(c->d, &s);
	stats_show_rings(out, c->d, &s);
}

static void
show_fibers(void *arg, FILE *out)
{
	struct console_fiber *c = arg;

	stats_show_fibers(out, c->d);
}

static int
kill_fiber(void *arg, const char *name, FILE *out)
{
	struct console_fiber *c = arg;
	struct ionswitchd *d = c->d;
	unsigned int i;

	for (i = 0; i < d->n_fibers; i++) {
		struct fiber *f = &d->fibers[i];
		enum fiber_state s;

		if (strcmp(f->name, name) != 0)
			continue;
		/* killing the console would leave no way to send commands */
		if (f == c->self) {
			fprintf(out,
				"error: fiber '%s' runs this console; "
				"'quit' ends the session, 'shutdown' the "
				"daemon\n",
				name);
			return -EPERM;
		}
		s = fiber_state_get(f);
		if (s != FIBER_READY) {
			fprintf(out, "error: fiber '%s' is already %s\n", name,
				fiber_state_str(s));
			return -EALREADY;
		}
		fiber_kill(f);
		DLOG(NOTICE, "console: fiber %s killed by the operator\n",
		     name);
		fprintf(out, "fiber '%s' killed\n", name);
		return 0;
	}
	fprintf(out, "error: no fiber named '%s'; 'show fibers' lists them\n",
		name);
	return -ENOENT;
}

int
fiber_console_init(struct fiber *f, struct ionswitchd *d)
{
	struct console_fiber *c;

	if (f->kind != CFG_FIBER_CONSOLE)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->d = d;
	c->self = f;
	c->ops = (struct console_ops){
		.show_port = show_port,
		.show_rings = show_rings,
		.show_fibers = show_fibers,
		.kill_fiber = kill_fiber,
		.arg = c,
	};
	f->priv = c;
	return 0;
}

static void
reply_done(struct console_fiber *c)
{
	if (!c->static_buf)
		free(c->buf);
	c->buf = NULL;
	c->len = c->off = 0;
	c->pending = false;
	c->static_buf = false;
}

void
fiber_console_fini(struct fiber *f)
{
	struct console_fiber *c = f->priv;

	if (f->kind != CFG_FIBER_CONSOLE || c == NULL)
		return;
	reply_done(c);
	free(c);
	f->priv = NULL;
}

/*
 * Write as much of the pending reply as the tx ring takes.
 * @return slots written, or -EACCES (no WRITE on tx: a capability fault).
 */
static int
flush(struct fiber *f, struct console_fiber *c)
{
	struct ion_prod *tx = fiber_tx_end(f);
	uint32_t i, n, max;

	if (tx == NULL)
		return -EACCES;
	max = ion_ring_slot_size(tx->ring);
	n = ion_prod_reserve(tx, f->burst);
	for (i = 0; i < n && c->pending; i++) {
		struct ion_slot *s = ion_prod_slot(tx, i);
		size_t cut = console_cut(c->buf + c->off, c->len - c->off, max);

		memcpy(ion_prod_data(tx, i), c->buf + c->off, cut);
		s->len = (uint32_t)cut;
		c->off += cut;
		/* an empty reply is still one slot: its end */
		if (c->off == c->len) {
			s->tag = c->tag;
			reply_done(c);
		} else {
			s->tag = CONSOLE_TAG_SESSION(c->tag);
		}
	}
	ion_prod_commit(tx, i);
	STAT_ADD(f, sent, i);
	return (int)i;
}

/* Run the command line of @p len bytes and make its reply pending. */
static void
run_line(struct console_fiber *c, uint32_t tag, size_t len, uint32_t max)
{
	uint16_t session = CONSOLE_TAG_SESSION(tag);
	uint32_t flags;
	FILE *out;

	c->buf = NULL;
	c->len = 0;
	out = open_memstream(&c->buf, &c->len);
	if (out == NULL) {
		DLOG(ERR, "console: no memory for a reply: %s\n",
		     strerror(errno));
		c->buf = (char *)no_memory;
		c->len = sizeof(no_memory) - 1;
		c->static_buf = true;
		flags = CONSOLE_OUT_ERROR;
	} else {
		if (tag & CONSOLE_IN_OVERLONG)
			flags = console_refuse_overlong(c->line, len, max, out);
		else
			flags = console_exec(&c->ops, c->line, len, out);
		if (fclose(out) != 0 || c->buf == NULL) {
			free(c->buf);
			c->buf = (char *)no_memory;
			c->len = sizeof(no_memory) - 1;
			c->static_buf = true;
			flags = CONSOLE_OUT_ERROR;
		}
	}
	if (flags & CONSOLE_OUT_SHUTDOWN)
		DLOG(NOTICE, "console: shutdown asked by session %u\n",
		     session);
	c->off = 0;
	c->tag = session | CONSOLE_OUT_END | flags;
	c->pending = true;
}

int
fiber_console_step(struct fiber *f)
{
	struct console_fiber *c = f->priv;
	struct ion_cons *rx = fiber_rx_end(f);
	const struct ion_slot *s;
	uint32_t max, tag;
	size_t len;
	int rc;

	if (c == NULL)
		return -EINVAL; /* fiber_console_init() was not called */
	if (rx == NULL)
		return -EACCES;
	/*
	 * Draining: the main lcore reads no more replies, so run nothing
	 * more and let the rx ring empty, or the drain would wait for us.
	 */
	if (run_state_get(c->d) >= RUN_DRAINING) {
		uint32_t n = ion_cons_peek(rx, f->burst);

		if (c->pending)
			reply_done(c);
		if (n != 0) {
			ion_cons_release(rx, n);
			STAT_ADD(f, frames, n);
		}
		return (int)n;
	}
	/* the previous reply goes out whole before the next command runs */
	if (c->pending) {
		rc = flush(f, c);
		if (rc < 0 || c->pending)
			return rc;
	}
	if (ion_cons_peek(rx, 1) == 0)
		return 0;
	s = ion_cons_slot(rx, 0);
	tag = s->tag;
	/* the longest line accepted: what a slot holds, within line[] */
	max = ion_ring_slot_size(rx->ring);
	if (max > sizeof(c->line))
		max = sizeof(c->line);
	len = s->len;
	if (len > max) {
		len = max;
		tag |= CONSOLE_IN_OVERLONG;
	}
	memcpy(c->line, ion_cons_data(rx, 0), len);
	/* released before it runs, so that "show rings" sees it read */
	ion_cons_release(rx, 1);
	STAT_ADD(f, frames, 1);
	run_line(c, tag, len, max);
	rc = flush(f, c);
	return rc < 0 ? rc : 1;
}
