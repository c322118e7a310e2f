/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The console protocol: an operator's command line into the running
 * daemon, over two ION rings, and the command parser.  No DPDK, no EAL:
 * the console fiber kind (lib/fiber) and the daemon's host side
 * (app/ionswitchd/console_host.c) share it, and the unit test drives the
 * parser with stubs.
 *
 *   stdin (-i) / UNIX socket clients          console fiber (worker lcore)
 *          |                                          ^       |
 *   main lcore: one line -> one slot ---- console RX (0x1000) |
 *               slots -> text <--------- console TX (0x1001) -+
 *
 * The console fiber is a fiber like any other: it reaches its two rings
 * through its CSpace and never blocks.  The other ends belong to the main
 * lcore, which holds its own CSpace for them (d->con_cs).
 *
 * Framing on the rings (docs/console.md):
 *  - input: one command line per slot, without its newline; the tag holds
 *    the session id (low 16 bits) and CONSOLE_IN_OVERLONG when the line
 *    did not fit a slot (the slot then holds its first bytes; the fiber
 *    refuses it with an error reply).
 *  - output: a reply is one or more slots of text tagged with the session
 *    of its command; its last slot carries CONSOLE_OUT_END and the flags
 *    that tell the main lcore what to do next (error, quit, shutdown).
 *    Replies are never interleaved: the fiber runs one command at a time.
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONSOLE_PROMPT "ionswitchd> "

/* Slot tags of both console rings: session id in the low 16 bits. */
#define CONSOLE_TAG_SESSION(tag) ((uint16_t)((tag)&0xffffu))
/** input: the line was longer than a slot; refused */
#define CONSOLE_IN_OVERLONG (1u << 16)
/** output: the last slot of a reply */
#define CONSOLE_OUT_END (1u << 16)
/** output: the command failed (the reply starts with "error: ") */
#define CONSOLE_OUT_ERROR (1u << 17)
/** output: the session asked to end ("quit") */
#define CONSOLE_OUT_QUIT (1u << 18)
/** output: the daemon is asked to stop ("shutdown") */
#define CONSOLE_OUT_SHUTDOWN (1u << 19)

/*
 * What the commands act on, supplied by the daemon (app/ionswitchd) or
 * by a test.  Each show callback writes its section of text to @p out.
 */
struct console_ops {
	void (*show_port)(void *arg, FILE *out);
	void (*show_rings)(void *arg, FILE *out);
	void (*show_fibers)(void *arg, FILE *out);
	void (*show_lcores)(void *arg, FILE *out);
	/**
	 * Kill fiber @p name and write the reply to @p out: a confirmation,
	 * or a line "error: ..." naming the reason.  @return 0 or a negative
	 * errno.
	 */
	int (*kill_fiber)(void *arg, const char *name, FILE *out);
	void *arg;
	/** The fiber running the commands, or NULL: "kill fiber" refuses it,
	 * which would leave no way to send commands. */
	const char *self;
};

/** Longest command line the console accepts, whatever the slot size. */
#define CONSOLE_LINE_MAX 1024

/**
 * Run one command line (@p len bytes, need not be NUL-terminated; a
 * trailing CR or LF is ignored) and write its reply to @p out.  An empty
 * line or a comment (#) has an empty reply.
 * @return CONSOLE_OUT_* flags (ERROR, QUIT, SHUTDOWN) for the reply's end.
 */
uint32_t console_exec(const struct console_ops *ops, const char *line,
		      size_t len, FILE *out);

/** Write the "line too long" refusal of a line of which @p len bytes
 * arrived.  @return CONSOLE_OUT_ERROR. */
uint32_t console_refuse_overlong(const char *line, size_t len, uint32_t max,
				 FILE *out);

/**
 * Cut a reply of @p len bytes into the first slot of at most @p max
 * bytes: at the last newline that fits when there is one, so slots hold
 * whole lines.  @return the bytes of that slot (len itself when it fits).
 */
size_t console_cut(const char *text, size_t len, size_t max);

#endif /* CONSOLE_H */
