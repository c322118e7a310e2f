/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The console's command parser and dispatcher (console_cmd.c), driven with
 * stub callbacks: no EAL, no rings.  Each test runs a command line into a
 * memory stream and checks the reply text, the flags and which callback
 * ran with what.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ion/cunit_main.h"

#include "console.h"

struct calls {
	unsigned int port, rings, fibers, lcores, kills;
	char killed[64];
};

static struct calls calls;

static void
stub_port(void *arg, FILE *out)
{
	(void)arg;
	calls.port++;
	fputs("PORT\n", out);
}

static void
stub_rings(void *arg, FILE *out)
{
	(void)arg;
	calls.rings++;
	fputs("RINGS\n", out);
}

static void
stub_fibers(void *arg, FILE *out)
{
	(void)arg;
	calls.fibers++;
	fputs("FIBERS\n", out);
}

static void
stub_lcores(void *arg, FILE *out)
{
	(void)arg;
	calls.lcores++;
	fputs("LCORES\n", out);
}

static int
stub_kill(void *arg, const char *name, FILE *out)
{
	(void)arg;
	calls.kills++;
	snprintf(calls.killed, sizeof(calls.killed), "%s", name);
	if (strcmp(name, "ghost") == 0) {
		fprintf(out, "error: no fiber named '%s'\n", name);
		return -ENOENT;
	}
	fprintf(out, "fiber '%s' killed\n", name);
	return 0;
}

static struct console_ops ops = {
	.show_port = stub_port,
	.show_rings = stub_rings,
	.show_fibers = stub_fibers,
	.show_lcores = stub_lcores,
	.kill_fiber = stub_kill,
};

/* Run @p line; the reply goes to *reply (free it), flags are returned. */
static uint32_t
run(const char *line, char **reply)
{
	size_t len = 0;
	FILE *out;
	uint32_t flags;

	memset(&calls, 0, sizeof(calls));
	*reply = NULL;
	out = open_memstream(reply, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	flags = console_exec(&ops, line, strlen(line), out);
	fclose(out);
	return flags;
}

static bool
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
test_show(void)
{
	char *r;

	CU_ASSERT_EQUAL(run("show rings", &r), 0);
	CU_ASSERT_STRING_EQUAL(r, "RINGS\n");
	CU_ASSERT_EQUAL(calls.rings, 1);
	CU_ASSERT_EQUAL(calls.port + calls.fibers + calls.kills, 0);
	free(r);
	CU_ASSERT_EQUAL(run("show port", &r), 0);
	CU_ASSERT_STRING_EQUAL(r, "PORT\n");
	free(r);
	CU_ASSERT_EQUAL(run("show fibers", &r), 0);
	CU_ASSERT_STRING_EQUAL(r, "FIBERS\n");
	free(r);
	CU_ASSERT_EQUAL(run("show lcores", &r), 0);
	CU_ASSERT_STRING_EQUAL(r, "LCORES\n");
	CU_ASSERT_EQUAL(calls.lcores, 1);
	free(r);
	/* blanks anywhere, a CR from a telnet-ish client, a newline */
	CU_ASSERT_EQUAL(run("  \tshow   fibers \r\n", &r), 0);
	CU_ASSERT_STRING_EQUAL(r, "FIBERS\n");
	CU_ASSERT_EQUAL(calls.fibers, 1);
	free(r);
}

static void
test_show_errors(void)
{
	static const char *const bad[] = {"show", "show ring", "show rings x",
					  "show PORT"};
	unsigned int i;
	char *r;

	for (i = 0; i < N_TESTS(bad); i++) {
		CU_ASSERT_EQUAL(run(bad[i], &r), CONSOLE_OUT_ERROR);
		CU_ASSERT_TRUE(starts(r, "error: usage: show"));
		CU_ASSERT_EQUAL(calls.port + calls.rings + calls.fibers +
					calls.lcores,
				0);
		free(r);
	}
}

static void
test_kill(void)
{
	char *r;

	CU_ASSERT_EQUAL(run("kill fiber utcp", &r), 0);
	CU_ASSERT_EQUAL(calls.kills, 1);
	CU_ASSERT_STRING_EQUAL(calls.killed, "utcp");
	CU_ASSERT_STRING_EQUAL(r, "fiber 'utcp' killed\n");
	free(r);
	/* the callback's refusal is the reply, with the error flag */
	CU_ASSERT_EQUAL(run("kill fiber ghost", &r), CONSOLE_OUT_ERROR);
	CU_ASSERT_STRING_EQUAL(r, "error: no fiber named 'ghost'\n");
	free(r);
	/* malformed: the callback is not called */
	CU_ASSERT_EQUAL(run("kill fiber", &r), CONSOLE_OUT_ERROR);
	CU_ASSERT_TRUE(starts(r, "error: usage: kill fiber NAME"));
	CU_ASSERT_EQUAL(calls.kills, 0);
	free(r);
	CU_ASSERT_EQUAL(run("kill lcore 2", &r), CONSOLE_OUT_ERROR);
	CU_ASSERT_EQUAL(calls.kills, 0);
	free(r);
	CU_ASSERT_EQUAL(run("kill fiber a b", &r), CONSOLE_OUT_ERROR);
	CU_ASSERT_EQUAL(calls.kills, 0);
	free(r);
	/* the fiber running the console refuses to kill itself, the others
	 * still go */
	ops.self = "console";
	CU_ASSERT_EQUAL(run("kill fiber console", &r), CONSOLE_OUT_ERROR);
	CU_ASSERT_TRUE(starts(r, "error: fiber 'console' runs this console"));
	CU_ASSERT_EQUAL(calls.kills, 0);
	free(r);
	CU_ASSERT_EQUAL(run("kill fiber utcp", &r), 0);
	CU_ASSERT_EQUAL(calls.kills, 1);
	ops.self = NULL;
	free(r);
}

static void
test_session(void)
{
	char *r;

	CU_ASSERT_EQUAL(run("quit", &r), CONSOLE_OUT_QUIT);
	CU_ASSERT_STRING_EQUAL(r, "bye\n");
	free(r);
	CU_ASSERT_EQUAL(run("exit", &r), CONSOLE_OUT_QUIT);
	free(r);
	CU_ASSERT_EQUAL(run("shutdown", &r), CONSOLE_OUT_SHUTDOWN);
	CU_ASSERT_TRUE(starts(r, "shutting down"));
	free(r);
	CU_ASSERT_EQUAL(run("quit now", &r), CONSOLE_OUT_ERROR);
	free(r);
	CU_ASSERT_EQUAL(run("shutdown -f", &r), CONSOLE_OUT_ERROR);
	free(r);
}

static void
test_help_and_empty(void)
{
	static const char *const cmds[] = {"show port",	  "show rings",
					   "show fibers", "kill fiber NAME",
					   "quit",	  "shutdown"};
	unsigned int i;
	char *r;

	CU_ASSERT_EQUAL(run("help", &r), 0);
	/* help names every command the dispatcher knows */
	for (i = 0; i < N_TESTS(cmds); i++)
		CU_ASSERT_PTR_NOT_NULL(strstr(r, cmds[i]));
	free(r);
	/* nothing to do: an empty reply, no error (the prompt comes back) */
	CU_ASSERT_EQUAL(run("", &r), 0);
	CU_ASSERT_STRING_EQUAL(r, "");
	free(r);
	CU_ASSERT_EQUAL(run("   \t ", &r), 0);
	CU_ASSERT_STRING_EQUAL(r, "");
	free(r);
	CU_ASSERT_EQUAL(run("# show rings", &r), 0);
	CU_ASSERT_STRING_EQUAL(r, "");
	CU_ASSERT_EQUAL(calls.rings, 0);
	free(r);
}

static void
test_unknown(void)
{
	char *r;

	CU_ASSERT_EQUAL(run("frobnicate the rings", &r), CONSOLE_OUT_ERROR);
	CU_ASSERT_TRUE(starts(r, "error: unknown command 'frobnicate'"));
	free(r);
	/* case matters, as in testpmd */
	CU_ASSERT_EQUAL(run("SHOW rings", &r), CONSOLE_OUT_ERROR);
	free(r);
	CU_ASSERT_EQUAL(run("a b c d e f g h i j", &r), CONSOLE_OUT_ERROR);
	CU_ASSERT_TRUE(starts(r, "error: too many words"));
	free(r);
}

static void
test_not_terminated(void)
{
	size_t len = 0;
	char *r = NULL;
	FILE *out = open_memstream(&r, &len);

	/* the line is a slot's bytes, not a C string: only len counts */
	CU_ASSERT_EQUAL(console_exec(&ops, "show ringsXXXX", 10, out), 0);
	fclose(out);
	CU_ASSERT_STRING_EQUAL(r, "RINGS\n");
	free(r);
}

static void
test_overlong(void)
{
	char line[300];
	size_t len = 0;
	char *r = NULL;
	FILE *out = open_memstream(&r, &len);

	memset(line, 'x', sizeof(line));
	memcpy(line, "show ", 5);
	CU_ASSERT_EQUAL(console_refuse_overlong(line, 256, 256, out),
			CONSOLE_OUT_ERROR);
	fclose(out);
	CU_ASSERT_TRUE(starts(r, "error: command line too long"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "256 bytes"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "'show xxx"));
	/* one line, the start of the command quoted, not all of it */
	CU_ASSERT_EQUAL(strchr(r, '\n'), r + strlen(r) - 1);
	CU_ASSERT_TRUE(strlen(r) < 120);
	free(r);
	/* control bytes are not echoed to the user's terminal */
	r = NULL;
	out = open_memstream(&r, &len);
	CU_ASSERT_EQUAL(console_refuse_overlong("\x1b[2J\aabc", 8, 4, out),
			CONSOLE_OUT_ERROR);
	fclose(out);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "'?[2J?abc...'"));
	CU_ASSERT_PTR_NULL(strchr(r, '\x1b'));
	free(r);
}

static void
test_cut(void)
{
	static const char text[] = "line one\nline two\nthree\n";
	size_t n = strlen(text);

	/* fits: all of it */
	CU_ASSERT_EQUAL(console_cut(text, n, 256), n);
	CU_ASSERT_EQUAL(console_cut(text, n, n), n);
	CU_ASSERT_EQUAL(console_cut("", 0, 256), 0);
	/* at the last newline that fits: whole lines per slot */
	CU_ASSERT_EQUAL(console_cut(text, n, 20), 18);
	CU_ASSERT_EQUAL(console_cut(text, n, 9), 9);
	/* a line longer than a slot is cut where the slot ends */
	CU_ASSERT_EQUAL(console_cut(text, n, 8), 8);
	CU_ASSERT_EQUAL(console_cut("abcdefghij", 10, 4), 4);
}

/* A reply cut slot by slot comes back whole, in order. */
static void
test_cut_reassembles(void)
{
	char text[3000], back[3000];
	size_t n = 0, off = 0, got = 0, slots = 0;
	unsigned int i;

	for (i = 0; n < sizeof(text) - 100; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%*u\n",
				      (int)(i % 300), i);
	while (off < n) {
		size_t cut = console_cut(text + off, n - off, 256);

		CU_ASSERT_TRUE_FATAL(cut > 0 && cut <= 256);
		memcpy(back + got, text + off, cut);
		got += cut;
		off += cut;
		slots++;
	}
	CU_ASSERT_EQUAL(got, n);
	CU_ASSERT_EQUAL(memcmp(back, text, n), 0);
	CU_ASSERT_TRUE(slots >= n / 256);
}

int
main(void)
{
	static const struct test_case t[] = {
		TEST(test_show),
		TEST(test_show_errors),
		TEST(test_kill),
		TEST(test_session),
		TEST(test_help_and_empty),
		TEST(test_unknown),
		TEST(test_not_terminated),
		TEST(test_overlong),
		TEST(test_cut),
		TEST(test_cut_reassembles),
	};

	if (CU_initialize_registry() != CUE_SUCCESS ||
	    test_add_suite("console", t, N_TESTS(t)) < 0)
		return 2;
	return test_run_all();
}
