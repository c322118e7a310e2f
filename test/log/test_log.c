/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * log_journal_init() (app/ionswitchd/log.c): the "<N>" prefixes journald
 * reads priorities from.  No EAL: rte_log() and rte_openlog_stream() work
 * without it.  Each case runs in a child process whose stdout and stderr
 * are files, with JOURNAL_STREAM naming (or not) those files the way
 * systemd names its journal socket, and the parent reads what came out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_log.h>

#include "../ion/cunit_main.h"

/* in ionswitchd.h once log.c is in the daemon; declared here so the test
 * does not depend on that */
int log_journal_init(void);

enum journal_says {
	JOURNAL_UNSET,	/* no JOURNAL_STREAM */
	JOURNAL_STDERR, /* it names the child's stderr and stdout */
	JOURNAL_OTHER,	/* it names some other file */
};

struct outputs {
	char out[4096]; /* the child's stdout */
	char err[4096]; /* its stderr */
	int rc;		/* log_journal_init()'s return */
};

static void
read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f != NULL) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* What the daemon writes: rte_log at several levels (one message of two
 * lines, one line in two messages), main()'s own error, a stats line. */
static void
child_writes(void)
{
	rte_log_set_level(RTE_LOGTYPE_USER1, RTE_LOG_DEBUG);
	rte_log(RTE_LOG_ERR, RTE_LOGTYPE_USER1, "port: setup failed\n");
	rte_log(RTE_LOG_WARNING, RTE_LOGTYPE_USER1,
		"fiber lwf KILLED\ncapability fault\n");
	rte_log(RTE_LOG_NOTICE, RTE_LOGTYPE_USER1, "console: ");
	rte_log(RTE_LOG_NOTICE, RTE_LOGTYPE_USER1, "fiber killed\n");
	rte_log(RTE_LOG_INFO, RTE_LOGTYPE_USER1, "running: 12 rings\n");
	rte_log(RTE_LOG_DEBUG, RTE_LOGTYPE_USER1, "refusing a client\n");
	rte_log(RTE_LOG_CRIT, RTE_LOGTYPE_USER1, "panic\n");
	fprintf(stderr, "ionswitchd: bad.conf:41: refused\n");
	printf("  Port 0\n");
	printf("    rx %d", 5);
	printf(" tx %d\n", 6);
	fflush(stdout);
}

/* Run child_writes() with its output in files, JOURNAL_STREAM as @p js. */
static void
run_child(enum journal_says js, struct outputs *o)
{
	char out_path[] = "/tmp/ion-test-log-out.XXXXXX";
	char err_path[] = "/tmp/ion-test-log-err.XXXXXX";
	int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
	int status = 0;
	pid_t pid;

	CU_ASSERT_FATAL(out_fd >= 0 && err_fd >= 0);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct stat st;
		char env[64];
		int rc;

		if (dup2(out_fd, STDOUT_FILENO) < 0 ||
		    dup2(err_fd, STDERR_FILENO) < 0)
			_exit(100);
		/* systemd's stdout and stderr are one socket: here the
		 * variable names stderr's file, and stdout gets the same
		 * treatment only where it is that same file */
		if (js == JOURNAL_STDERR) {
			if (dup2(err_fd, STDOUT_FILENO) < 0)
				_exit(100);
		}
		/* JOURNAL_OTHER: "/", a file that is neither */
		if (js == JOURNAL_OTHER ? stat("/", &st) : fstat(err_fd, &st))
			_exit(100);
		snprintf(env, sizeof(env), "%llu:%llu",
			 (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
		if (js == JOURNAL_UNSET)
			unsetenv("JOURNAL_STREAM");
		else
			setenv("JOURNAL_STREAM", env, 1);
		rc = log_journal_init();
		child_writes();
		_exit(rc < 0 ? 101 : rc);
	}
	CU_ASSERT_FATAL(waitpid(pid, &status, 0) == pid);
	CU_ASSERT_FATAL(WIFEXITED(status));
	o->rc = WEXITSTATUS(status);
	read_file(out_path, o->out, sizeof(o->out));
	read_file(err_path, o->err, sizeof(o->err));
	close(out_fd);
	close(err_fd);
	unlink(out_path);
	unlink(err_path);
}

static void
test_journal(void)
{
	/* stdout and stderr interleave on the one journal stream, in the
	 * order written: every line with its priority */
	static const char want[] = "<3>port: setup failed\n"
				   "<4>fiber lwf KILLED\n"
				   "<4>capability fault\n"
				   "<5>console: fiber killed\n"
				   "<6>running: 12 rings\n"
				   "<7>refusing a client\n"
				   "<2>panic\n"
				   "<3>ionswitchd: bad.conf:41: refused\n"
				   "<6>  Port 0\n"
				   "<6>    rx 5 tx 6\n";
	struct outputs o;

	run_child(JOURNAL_STDERR, &o);
	CU_ASSERT_EQUAL(o.rc, 1);
	CU_ASSERT_STRING_EQUAL(o.err, want);
	CU_ASSERT_STRING_EQUAL(o.out, "");
	if (strcmp(o.err, want) != 0)
		fprintf(stderr, "got:\n%s", o.err);
}

/* Not the journal, or not this descriptor: nothing changes, no prefix.
 * (EAL's own stream is not there without rte_eal_init(): rte_log writes
 * to stderr as it is.) */
static void
check_plain(enum journal_says js)
{
	struct outputs o;

	run_child(js, &o);
	CU_ASSERT_EQUAL(o.rc, 0);
	CU_ASSERT_PTR_NULL(strchr(o.err, '<'));
	CU_ASSERT_PTR_NULL(strchr(o.out, '<'));
	CU_ASSERT_PTR_NOT_NULL(strstr(o.err, "port: setup failed\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(o.err, "ionswitchd: bad.conf:41: refused\n"));
	CU_ASSERT_STRING_EQUAL(o.out, "  Port 0\n    rx 5 tx 6\n");
}

static void
test_unset(void)
{
	check_plain(JOURNAL_UNSET);
}

static void
test_other_file(void)
{
	check_plain(JOURNAL_OTHER);
}

int
main(void)
{
	static const struct test_case tests[] = {
		TEST(test_journal),
		TEST(test_unset),
		TEST(test_other_file),
	};

	if (CU_initialize_registry() != CUE_SUCCESS ||
	    test_add_suite("log_journal", tests, N_TESTS(tests)) < 0)
		return 1;
	return test_run_all();
}
