/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The journal's priorities for what the daemon writes, when systemd runs
 * it with its output connected to the journal (StandardOutput=journal,
 * the default).
 *
 * journald reads a service's stdout and stderr as lines and takes a
 * line's priority from a "<N>" prefix (sd-daemon(3); SyslogLevelPrefix=
 * is on by default); a line without one gets SyslogLevel=, info.  So:
 *
 *   rte_log()      every line prefixed with the priority of its message:
 *                  RTE_LOG_EMERG .. RTE_LOG_DEBUG (1 .. 8) are syslog's
 *                  LOG_EMERG .. LOG_DEBUG (0 .. 7);
 *   stderr         what main() prints there itself (a refused config,
 *                  EAL init failed, usage) is an error: "<3>";
 *   stdout         the stats block and the totals: "<6>" (info).
 *
 * Replacing rte_log's stream also stops EAL's own one, which writes each
 * message to stderr and to syslog(3) as well: under systemd both reach
 * the journal, so every message was there twice.
 *
 * Nothing changes when the output is not the journal's: systemd.exec(5)
 * says to compare JOURNAL_STREAM ("DEV:INODE") with the descriptor itself,
 * since a service may run a program with its output redirected and the
 * variable still set.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <rte_log.h>

#include "ionswitchd.h"

/* Lines with no priority of their own: fixed, or the rte_log message's. */
#define PRIO_FROM_RTE_LOG -1

struct journal_stream {
	int fd;
	int prio;
	bool bol; /* the next byte starts a line: prefix it */
};

/* RTE_LOG_EMERG (1) .. RTE_LOG_DEBUG (8) -> LOG_EMERG (0) .. LOG_DEBUG (7);
 * anything else (0: no rte_log message) as info */
static int
prio_of_rte_level(int level)
{
	if (level < (int)RTE_LOG_EMERG || level > (int)RTE_LOG_DEBUG)
		return 6;
	return level - 1;
}

static int
write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* fopencookie's write: each line with its "<N>" prefix, in one writev so
 * that another writer of the same descriptor cannot come between them.
 * The streams are unbuffered, so this runs in the thread that logs, inside
 * its rte_log() call: rte_log_cur_msg_loglevel() is that message's. */
static ssize_t
journal_write(void *cookie, const char *buf, size_t size)
{
	struct journal_stream *js = cookie;
	size_t done = 0;

	while (done < size) {
		const char *nl = memchr(buf + done, '\n', size - done);
		size_t len = nl != NULL ? (size_t)(nl - (buf + done)) + 1
					: size - done;
		struct iovec iov[2];
		char prefix[8];
		int n = 0;

		if (js->bol) {
			int prio = js->prio;

			if (prio == PRIO_FROM_RTE_LOG)
				prio = prio_of_rte_level(
					rte_log_cur_msg_loglevel());
			iov[n].iov_base = prefix;
			iov[n].iov_len = (size_t)snprintf(
				prefix, sizeof(prefix), "<%d>", prio);
			n++;
		}
		iov[n].iov_base = (void *)(uintptr_t)(buf + done);
		iov[n].iov_len = len;
		n++;
		if (write_all(js->fd, iov, n) < 0)
			return done > 0 ? (ssize_t)done : -1;
		done += len;
		js->bol = nl != NULL;
	}
	return (ssize_t)done;
}

/* Whether @p fd is the journal's stream that JOURNAL_STREAM names. */
static bool
fd_is_journal(int fd, const char *journal)
{
	unsigned long long dev, ino;
	struct stat st;
	char tail;

	if (sscanf(journal, "%llu:%llu%c", &dev, &ino, &tail) != 2)
		return false;
	if (fstat(fd, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

/* An unbuffered stream that writes @p fd with priority @p prio. */
static FILE *
journal_stream_open(int fd, int prio)
{
	static const cookie_io_functions_t io = {.write = journal_write};
	struct journal_stream *js;
	FILE *f;

	js = malloc(sizeof(*js));
	if (js == NULL)
		return NULL;
	js->fd = fd;
	js->prio = prio;
	js->bol = true;
	/* never closed: the daemon writes to it until it exits */
	f = fopencookie(js, "w", io);
	if (f == NULL) {
		free(js);
		return NULL;
	}
	setvbuf(f, NULL, _IONBF, 0);
	return f;
}

int
log_journal_init(void)
{
	const char *journal = getenv("JOURNAL_STREAM");
	bool err_journal, out_journal;
	FILE *rte, *err = NULL, *out = NULL;

	if (journal == NULL)
		return 0;
	err_journal = fd_is_journal(STDERR_FILENO, journal);
	out_journal = fd_is_journal(STDOUT_FILENO, journal);
	if (!err_journal && !out_journal)
		return 0;

	if (err_journal) {
		rte = journal_stream_open(STDERR_FILENO, PRIO_FROM_RTE_LOG);
		err = journal_stream_open(STDERR_FILENO, 3);
		if (rte == NULL || err == NULL)
			return -ENOMEM;
		/* rte_log keeps writing to the stream it is given */
		rte_openlog_stream(rte);
	}
	if (out_journal) {
		out = journal_stream_open(STDOUT_FILENO, 6);
		if (out == NULL)
			return -ENOMEM;
	}
	/* glibc's stdout and stderr are variables a program may set
	 * (glibc manual, "Standard Streams"); what is buffered in the old
	 * ones goes out first, unprefixed */
	if (err != NULL) {
		fflush(stderr);
		stderr = err;
	}
	if (out != NULL) {
		fflush(stdout);
		stdout = out;
	}
	return 1;
}
