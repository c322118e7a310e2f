/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The console's command parser and dispatcher (console.h).  It knows
 * nothing of DPDK or the rings: what a command acts on comes through
 * struct console_ops, so the unit test drives it with stubs and no EAL
 * (test/console).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "console.h"

#define MAX_WORDS 8

struct words {
	char buf[CONSOLE_LINE_MAX + 1];
	char *w[MAX_WORDS];
	unsigned int n;
	bool too_many;
};

/* Split @p line at blanks; the words point into a copy. */
static void
split(struct words *ws, const char *line, size_t len)
{
	char *p, *save = NULL;

	if (len > CONSOLE_LINE_MAX)
		len = CONSOLE_LINE_MAX;
	memcpy(ws->buf, line, len);
	ws->buf[len] = '\0';
	/* a NUL inside the line ends it, as it would for a C string */
	ws->n = 0;
	ws->too_many = false;
	for (p = strtok_r(ws->buf, " \t\r\n", &save); p != NULL;
	     p = strtok_r(NULL, " \t\r\n", &save)) {
		if (ws->n == MAX_WORDS) {
			ws->too_many = true;
			break;
		}
		ws->w[ws->n++] = p;
	}
}

static void
help(FILE *out)
{
	fputs("Commands:\n"
	      "  help              this list\n"
	      "  show port         port and NetSwitch counters, per EtherType\n"
	      "  show rings        every ring: enqueued, dequeued, dropped, "
	      "used\n"
	      "  show fibers       every fiber: kind, lcore, state, counters\n"
	      "  show lcores       every lcore: its steps, busy and idle time\n"
	      "  kill fiber NAME   stop scheduling fiber NAME (state KILLED)\n"
	      "  quit              end this session (on ionswitchd -i: stop "
	      "the daemon)\n"
	      "  shutdown          stop the daemon: drain, totals, exit\n",
	      out);
}

/* Write "error: ...\n".  @return CONSOLE_OUT_ERROR. */
static uint32_t __attribute__((format(printf, 2, 3)))
fail(FILE *out, const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", out);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	return CONSOLE_OUT_ERROR;
}

static uint32_t
show(const struct console_ops *ops, const struct words *ws, FILE *out)
{
	if (ws->n != 2)
		return fail(out, "usage: show port|rings|fibers|lcores");
	if (strcmp(ws->w[1], "port") == 0 || strcmp(ws->w[1], "ports") == 0)
		ops->show_port(ops->arg, out);
	else if (strcmp(ws->w[1], "rings") == 0)
		ops->show_rings(ops->arg, out);
	else if (strcmp(ws->w[1], "fibers") == 0)
		ops->show_fibers(ops->arg, out);
	else if (strcmp(ws->w[1], "lcores") == 0)
		ops->show_lcores(ops->arg, out);
	else
		return fail(out, "usage: show port|rings|fibers|lcores");
	return 0;
}

static uint32_t
kill_cmd(const struct console_ops *ops, const struct words *ws, FILE *out)
{
	if (ws->n != 3 || strcmp(ws->w[1], "fiber") != 0)
		return fail(out, "usage: kill fiber NAME");
	if (ops->self != NULL && strcmp(ws->w[2], ops->self) == 0)
		return fail(out,
			    "fiber '%s' runs this console; 'quit' ends the "
			    "session, 'shutdown' the daemon",
			    ops->self);
	if (ops->kill_fiber(ops->arg, ws->w[2], out) < 0) {
		/* the callback wrote the reason; the flag tells the client */
		return CONSOLE_OUT_ERROR;
	}
	return 0;
}

uint32_t
console_exec(const struct console_ops *ops, const char *line, size_t len,
	     FILE *out)
{
	struct words ws;

	split(&ws, line, len);
	if (ws.n == 0 || ws.w[0][0] == '#')
		return 0;
	if (ws.too_many)
		return fail(out, "too many words in '%s'", ws.w[0]);
	if (strcmp(ws.w[0], "help") == 0 || strcmp(ws.w[0], "?") == 0) {
		if (ws.n != 1)
			return fail(out, "usage: help");
		help(out);
		return 0;
	}
	if (strcmp(ws.w[0], "show") == 0)
		return show(ops, &ws, out);
	if (strcmp(ws.w[0], "kill") == 0)
		return kill_cmd(ops, &ws, out);
	if (strcmp(ws.w[0], "quit") == 0 || strcmp(ws.w[0], "exit") == 0) {
		if (ws.n != 1)
			return fail(out, "usage: quit");
		fputs("bye\n", out);
		return CONSOLE_OUT_QUIT;
	}
	if (strcmp(ws.w[0], "shutdown") == 0) {
		if (ws.n != 1)
			return fail(out, "usage: shutdown");
		fputs("shutting down: draining rings\n", out);
		return CONSOLE_OUT_SHUTDOWN;
	}
	return fail(out, "unknown command '%s'; 'help' lists the commands",
		    ws.w[0]);
}

uint32_t
console_refuse_overlong(const char *line, size_t len, uint32_t max, FILE *out)
{
	char head[25];
	size_t i, n = len < sizeof(head) - 1 ? len : sizeof(head) - 1;

	/* quote the start so the user sees which line it was, without the
	 * control bytes a binary blob would send to their terminal */
	for (i = 0; i < n; i++)
		head[i] = isprint((unsigned char)line[i]) ? line[i] : '?';
	head[n] = '\0';
	fprintf(out,
		"error: command line too long (more than %u bytes): "
		"'%s...'\n",
		max, head);
	return CONSOLE_OUT_ERROR;
}

size_t
console_cut(const char *text, size_t len, size_t max)
{
	const char *nl;

	if (len <= max)
		return len;
	nl = memrchr(text, '\n', max);
	return nl != NULL ? (size_t)(nl - text) + 1 : max;
}
