/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ionctl: the console of a running ionswitchd, over its UNIX socket.
 *
 *   ionctl [-s PATH | -p FILE_PREFIX] [-t SECONDS] [COMMAND...]
 *
 * With a command: send it, print the reply, exit 0; 1 when the daemon
 * answers with an error, 2 when it cannot be reached or does not answer.
 * Without: a prompt; each line typed is a command, EOF or "quit" ends;
 * the exit status is 1 when any command failed.
 *
 * The protocol is the daemon's plain-text console (docs/console.md): the
 * daemon sends the prompt "ionswitchd> " on connect and after each reply,
 * so a reply is everything up to the next prompt (or to the end of the
 * connection after "quit" and "shutdown").  A reply that reports a failure
 * starts with "error: ".  No DPDK here: ionctl is a plain socket client.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PROMPT		"ionswitchd> "
#define DEFAULT_PREFIX	"ionswitchd"
#define SOCK_DIR	"/run/ionswitchd"
#define DEFAULT_TIMEOUT 10

#define EXIT_CMD_FAILED 1 /* the daemon answered "error: ..." */
#define EXIT_NO_DAEMON	2 /* unreachable, no answer, or a usage error */

struct conn {
	int fd;
	const char *path;
	int timeout_ms;
	char *buf; /* received, not yet handed out */
	size_t len, cap;
	bool closed; /* the daemon ended the connection */
};

static void
usage(FILE *to)
{
	fprintf(to,
		"usage: ionctl [-s PATH | -p FILE_PREFIX] [-t SECONDS] "
		"[COMMAND...]\n"
		"  -s, --socket PATH        the daemon's console socket\n"
		"  -p, --file-prefix NAME   its EAL file prefix: socket "
		"%s/NAME.sock\n"
		"                           (default %s)\n"
		"  -t, --timeout SECONDS    wait that long for a reply "
		"(default %d)\n"
		"  -h, --help               this text\n"
		"Without COMMAND: an interactive prompt.  'help' lists the "
		"daemon's commands.\n",
		SOCK_DIR, DEFAULT_PREFIX, DEFAULT_TIMEOUT);
}

static int
connect_to(struct conn *c)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (strlen(c->path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "ionctl: %s: path too long for a socket\n",
			c->path);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", c->path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 ||
	    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		fprintf(stderr, "ionctl: cannot reach ionswitchd at %s: %s%s\n",
			c->path, strerror(e),
			e == ENOENT || e == ECONNREFUSED
				? " (is it running, with a console fiber? "
				  "-p/-s name another one)"
				: "");
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		return -e;
	}
	return 0;
}

/* Does the data end with a prompt that follows a complete line? */
static bool
at_prompt(const struct conn *c)
{
	size_t n = sizeof(PROMPT) - 1;

	if (c->len < n || memcmp(c->buf + c->len - n, PROMPT, n) != 0)
		return false;
	return c->len == n || c->buf[c->len - n - 1] == '\n';
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Read until the daemon's prompt or the end of the connection.  The text
 * before the prompt is left in c->buf[0 .. *reply_len).
 * @return 0, or -ETIMEDOUT, or another negative errno.
 */
static int
read_reply(struct conn *c, size_t *reply_len)
{
	long deadline = now_ms() + c->timeout_ms;

	c->len = 0;
	while (!at_prompt(c)) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p.revents == 0)
			continue;
		if (c->cap - c->len < 4096) {
			char *b = realloc(c->buf, c->cap + 65536);

			if (b == NULL)
				return -ENOMEM;
			c->buf = b;
			c->cap += 65536;
		}
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNRESET) {
				c->closed = true;
				break;
			}
			return -errno;
		}
		if (n == 0) {
			c->closed = true;
			break;
		}
		c->len += (size_t)n;
	}
	*reply_len = c->closed ? c->len : c->len - (sizeof(PROMPT) - 1);
	return 0;
}

static int
send_line(struct conn *c, const char *line, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, line, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		line += n;
		len -= (size_t)n;
	}
	return 0;
}

static bool
is_error(const char *reply, size_t len)
{
	return len >= 7 && memcmp(reply, "error: ", 7) == 0;
}

static int
fail_io(const struct conn *c, int rc)
{
	if (rc == -ETIMEDOUT)
		fprintf(stderr, "ionctl: no reply from %s in %d s\n", c->path,
			c->timeout_ms / 1000);
	else
		fprintf(stderr, "ionctl: %s: %s\n", c->path, strerror(-rc));
	return EXIT_NO_DAEMON;
}

/* Send one command, print its reply.  @return the exit status. */
static int
run_command(struct conn *c, const char *cmd)
{
	size_t len;
	int rc;

	rc = send_line(c, cmd, strlen(cmd));
	if (rc == 0)
		rc = send_line(c, "\n", 1);
	if (rc == 0)
		rc = read_reply(c, &len);
	if (rc < 0)
		return fail_io(c, rc);
	fwrite(c->buf, 1, len, stdout);
	fflush(stdout);
	if (len == 0 && c->closed) {
		fprintf(stderr, "ionctl: %s closed the connection\n", c->path);
		return EXIT_NO_DAEMON;
	}
	return is_error(c->buf, len) ? EXIT_CMD_FAILED : 0;
}

static int
interactive(struct conn *c)
{
	char *line = NULL;
	size_t cap = 0;
	bool tty = isatty(STDIN_FILENO);
	int status = 0;

	for (;;) {
		ssize_t n;
		size_t len;
		int rc;

		if (tty) {
			fputs(PROMPT, stdout);
			fflush(stdout);
		}
		n = getline(&line, &cap, stdin);
		if (n < 0) {
			if (tty)
				fputc('\n', stdout);
			break;
		}
		rc = send_line(c, line, (size_t)n);
		if (rc == 0 && line[n - 1] != '\n')
			rc = send_line(c, "\n", 1);
		if (rc == 0)
			rc = read_reply(c, &len);
		if (rc < 0) {
			status = fail_io(c, rc);
			break;
		}
		fwrite(c->buf, 1, len, stdout);
		fflush(stdout);
		/* a script of commands fails if any of them does */
		if (is_error(c->buf, len))
			status = EXIT_CMD_FAILED;
		if (c->closed)
			break; /* quit or shutdown */
	}
	free(line);
	return status;
}

int
main(int argc, char **argv)
{
	static const struct option longs[] = {
		{"socket", required_argument, NULL, 's'},
		{"file-prefix", required_argument, NULL, 'p'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct conn c = {.fd = -1, .timeout_ms = DEFAULT_TIMEOUT * 1000};
	const char *sock = NULL, *prefix = NULL;
	char path[256], cmd[4096];
	size_t len, n = 0;
	int ch, i, status;

	while ((ch = getopt_long(argc, argv, "+s:p:t:h", longs, NULL)) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'p':
			prefix = optarg;
			break;
		case 't':
			c.timeout_ms = atoi(optarg) * 1000;
			if (c.timeout_ms <= 0) {
				fprintf(stderr,
					"ionctl: --timeout %s: expected "
					"seconds > 0\n",
					optarg);
				return EXIT_NO_DAEMON;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_NO_DAEMON;
		}
	}
	if (sock != NULL && prefix != NULL) {
		fprintf(stderr, "ionctl: -s and -p name the same thing; give "
				"one\n");
		return EXIT_NO_DAEMON;
	}
	if (sock == NULL) {
		snprintf(path, sizeof(path), "%s/%s.sock", SOCK_DIR,
			 prefix != NULL ? prefix : DEFAULT_PREFIX);
		sock = path;
	}
	c.path = sock;

	/* the command: the remaining words, as one line */
	cmd[0] = '\0';
	for (i = optind; i < argc; i++) {
		len = strlen(argv[i]);
		if (n + len + 2 > sizeof(cmd)) {
			fprintf(stderr,
				"ionctl: command longer than %zu "
				"bytes\n",
				sizeof(cmd) - 2);
			return EXIT_NO_DAEMON;
		}
		if (strchr(argv[i], '\n') != NULL) {
			fprintf(stderr, "ionctl: a command is one line\n");
			return EXIT_NO_DAEMON;
		}
		if (n > 0)
			cmd[n++] = ' ';
		memcpy(cmd + n, argv[i], len + 1);
		n += len;
	}

	if (connect_to(&c) < 0)
		return EXIT_NO_DAEMON;
	/* the first prompt says the session is open; a daemon with no room
	 * for another session sends an error instead and closes */
	status = read_reply(&c, &len);
	if (status < 0) {
		status = fail_io(&c, status);
	} else if (c.closed) {
		fwrite(c.buf, 1, len, stderr);
		if (len == 0)
			fprintf(stderr, "ionctl: %s closed the connection\n",
				c.path);
		status = EXIT_NO_DAEMON;
	} else if (optind < argc) {
		status = run_command(&c, cmd);
	} else {
		status = interactive(&c);
	}
	close(c.fd);
	free(c.buf);
	return status;
}
