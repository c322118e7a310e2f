/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * console: reads command lines from its rx ring (console input, one line a
 * slot), runs them (lib/console) and writes each reply to its tx ring
 * (console output) cut into slots, the last one tagged CONSOLE_OUT_END
 * with the reply's flags (console.h).  What a command acts on comes from
 * the host (fiber_env.console).
 *
 * It never blocks and never drops output: a reply the tx ring has no room
 * for stays here and goes out on the next steps, and no new command is
 * read before it has.  The console is not a hot path: a reply is rendered
 * into a memory stream allocated per command.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <console.h>

#include "fiber_impl.h"

/* The reply when no memory is left to render one. */
static const char no_memory[] = "error: out of memory\n";

struct console_kind_priv {
	struct console_ops ops; /* the host's, but it cannot kill itself */
	/* the reply being written: buf[off .. len) is still to go */
	char *buf;
	size_t len, off;
	bool pending;
	bool static_buf; /* buf is no_memory, not to be freed */
	uint32_t tag;	 /* session | CONSOLE_OUT_* of the reply's end */
	char line[CONSOLE_LINE_MAX];
};

static int
console_init(struct fiber *f, const void *params, const struct fiber_env *env)
{
	struct console_kind_priv *c;

	(void)params;
	if (env->console == NULL) {
		FIBER_LOG(ERR, "%s: the host gives no console commands\n",
			  f->name);
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->ops = *env->console;
	c->ops.self = f->name;
	f->priv = c;
	return 0;
}

static void
reply_done(struct console_kind_priv *c)
{
	if (!c->static_buf)
		free(c->buf);
	c->buf = NULL;
	c->len = c->off = 0;
	c->pending = false;
	c->static_buf = false;
}

static void
console_fini(struct fiber *f)
{
	struct console_kind_priv *c = f->priv;

	if (c == NULL)
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
flush(struct fiber *f, struct console_kind_priv *c)
{
	struct ion_prod *tx = fiber_prod(f, FIBER_TX);
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
	FIBER_STAT_ADD(f, sent, i);
	return (int)i;
}

static void
use_no_memory(struct console_kind_priv *c)
{
	c->buf = (char *)no_memory;
	c->len = sizeof(no_memory) - 1;
	c->static_buf = true;
}

/* Run the command line of @p len bytes and make its reply pending. */
static void
run_line(struct fiber *f, struct console_kind_priv *c, uint32_t tag, size_t len,
	 uint32_t max)
{
	uint16_t session = CONSOLE_TAG_SESSION(tag);
	uint32_t flags = CONSOLE_OUT_ERROR;
	FILE *out;

	c->buf = NULL;
	c->len = 0;
	out = open_memstream(&c->buf, &c->len);
	if (out == NULL) {
		FIBER_LOG(ERR, "%s: no memory for a reply: %s\n", f->name,
			  strerror(errno));
		use_no_memory(c);
	} else {
		if (tag & CONSOLE_IN_OVERLONG)
			flags = console_refuse_overlong(c->line, len, max, out);
		else
			flags = console_exec(&c->ops, c->line, len, out);
		if (fclose(out) != 0 || c->buf == NULL) {
			free(c->buf);
			use_no_memory(c);
			flags = CONSOLE_OUT_ERROR;
		}
	}
	if (flags & CONSOLE_OUT_SHUTDOWN)
		FIBER_LOG(NOTICE, "%s: shutdown asked by session %u\n", f->name,
			  session);
	c->off = 0;
	c->tag = session | CONSOLE_OUT_END | flags;
	c->pending = true;
}

static int
console_step(struct fiber *f)
{
	struct console_kind_priv *c = f->priv;
	struct ion_cons *rx = fiber_cons(f, FIBER_RX);
	const struct ion_slot *s;
	uint32_t max, tag;
	size_t len;
	int rc;

	if (rx == NULL)
		return -EACCES;
	/*
	 * Draining: the host reads no more replies, so run nothing more and
	 * let the rx ring empty, or the drain would wait for us.
	 */
	if (fiber_draining(f)) {
		uint32_t n = ion_cons_peek(rx, f->burst);

		if (c->pending)
			reply_done(c);
		if (n != 0) {
			ion_cons_release(rx, n);
			FIBER_STAT_ADD(f, frames, n);
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
	FIBER_STAT_ADD(f, frames, 1);
	run_line(f, c, tag, len, max);
	rc = flush(f, c);
	return rc < 0 ? rc : 1;
}

const struct fiber_kind fiber_kind_console = {
	.name = "console",
	.help = "Runs the console's commands (ionctl, ionswitchd -i): rx "
		"console input, tx console output",
	.needs_tx = true,
	.console = true,
	.init = console_init,
	.step = console_step,
	.fini = console_fini,
};
