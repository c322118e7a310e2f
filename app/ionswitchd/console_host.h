/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The main lcore's side of the console (console_host.c): the interactive
 * session on stdin/stdout and the UNIX socket's sessions, multiplexed onto
 * the console fiber's two rings (lib/console/console.h has the protocol).
 */
#ifndef IONSWITCHD_CONSOLE_HOST_H
#define IONSWITCHD_CONSOLE_HOST_H

#include <stdbool.h>

#include <console.h>

struct ionswitchd;

/** What console commands act on: the daemon's counters, its fibers. */
void console_host_ops(struct ionswitchd *d);

struct console_conf {
	bool interactive;	 /**< -i: a session on stdin/stdout */
	const char *socket_path; /**< NULL: no socket */
	bool socket_given; /**< --console-socket was on the command line */
};

struct console_host;

/**
 * Wire the console: take the main lcore's ends of the first console
 * fiber's rings through d->con_cs, listen on the socket.  *out is NULL when the
 * config has no console fiber and nothing asked for one.
 * @return 0, or a negative errno after logging why.
 */
int console_host_open(struct ionswitchd *d, const struct console_conf *cc,
		      struct console_host **out);

/**
 * Serve the console for at most @p max_ms (0: look and return): wait for
 * input (poll(2)), pass command lines to the fiber, relay its replies.
 * Returns early on a signal.  @return events handled (0: none).
 */
unsigned int console_host_poll(struct console_host *h, unsigned int max_ms);

/* The main lcore sleeps until a reply arrives on the console output ring
 * (its doorbell), or a session's socket is readable (watched). */
int console_host_arm(struct console_host *h);
bool console_host_ready(struct console_host *h);
void console_host_disarm(struct console_host *h);

/** NULL, or why the console asked the daemon to stop (quit, shutdown). */
const char *console_host_stop(const struct console_host *h);

/** Close the sessions, remove the socket, give the ring ends back. */
void console_host_close(struct console_host *h);

#endif /* IONSWITCHD_CONSOLE_HOST_H */
