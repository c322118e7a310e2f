/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The main lcore's side of the console: the interactive session on
 * stdin/stdout (-i) and the sessions of the UNIX socket clients (ionctl,
 * socat), multiplexed onto the console fiber's two rings.
 *
 * Each session has at most one command in flight: a line goes into the
 * console input ring tagged with the session's id, and the session's next
 * line waits until the reply's last slot (CONSOLE_OUT_END) has come back.
 * That keeps replies in order per session, lets sessions take turns, and
 * keeps the input ring from filling up.
 *
 * Socket protocol, plain text so that socat works: the daemon sends the
 * prompt "ionswitchd> " (no newline) on connect and after every reply;
 * the client sends one command a line.  A reply is text lines; one that
 * reports a failure starts with "error: ".  "quit" ends the session after
 * its reply ("bye"), "shutdown" too and stops the daemon.
 *
 * The main lcore never blocks on a client: sockets are non-blocking and
 * a reply a client does not read is buffered, up to OUT_MAX bytes, after
 * which that client is dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_lcore.h>

#include "console_host.h"
#include "ionswitchd.h"

#define MAX_SOCK_SESSIONS 16
#define N_SESSIONS	  (MAX_SOCK_SESSIONS + 1) /* [0]: stdin */
#define IN_BUF		  4096			  /* lines read ahead */
#define OUT_MAX		  (1u << 20)		  /* unread reply bytes */
#define REPLY_WAIT_MS	  1 /* poll timeout while a reply is due */

struct session {
	int fd; /* -1: free; STDIN_FILENO for the interactive one */
	uint16_t id;
	bool interactive;
	bool eof;      /* no more input: ends once its reply is out */
	bool closing;  /* ends once its output is written (quit) */
	bool discard;  /* dropping the rest of an overlong line */
	bool inflight; /* a command was sent, its reply has not ended */
	bool dead;     /* the client went away: write nothing more */
	char in[IN_BUF];
	size_t in_len;
	char *out; /* sockets: bytes not written yet */
	size_t out_len, out_cap;
};

struct console_host {
	struct ionswitchd *d;
	struct fiber *fiber;
	struct ion_prod in;   /* console input: lines to the fiber */
	struct ion_cons rout; /* console output: its replies */
	bool in_open, rout_open;
	uint32_t in_slot; /* bytes an input slot holds */
	int listen_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct session s[N_SESSIONS];
	uint16_t next_id;
	unsigned int rr; /* session that sends first next time */
	bool greeted;	 /* the interactive prompt was shown */
	bool fiber_gone; /* logged: the console fiber stopped */
	const char *stop;
};

static struct session *
session_by_id(struct console_host *h, uint16_t id)
{
	unsigned int i;

	for (i = 0; i < N_SESSIONS; i++)
		if (h->s[i].fd >= 0 && h->s[i].id == id)
			return &h->s[i];
	return NULL;
}

/* A session id no open session has, never 0. */
static uint16_t
new_id(struct console_host *h)
{
	do {
		h->next_id++;
	} while (h->next_id == 0 || session_by_id(h, h->next_id) != NULL);
	return h->next_id;
}

static void
session_open(struct console_host *h, struct session *s, int fd,
	     bool interactive)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->interactive = interactive;
	s->id = new_id(h);
}

/* Its lcore wakes when @p fd is readable (when it sleeps on doorbells);
 * an fd epoll refuses (a regular file on stdin) is always readable and
 * read at once anyway. */
static void
watch(struct console_host *h, int fd)
{
	fiber_sched_watch(&h->d->sched, rte_get_main_lcore(), fd, false);
}

static void
session_close(struct console_host *h, struct session *s)
{
	fiber_sched_unwatch(&h->d->sched, rte_get_main_lcore(), s->fd);
	if (!s->interactive)
		close(s->fd);
	free(s->out);
	s->out = NULL;
	s->out_len = s->out_cap = 0;
	s->fd = -1;
}

/* Write what the client takes now, without waiting. */
static void
session_flush(struct session *s)
{
	while (s->out_len > 0) {
		ssize_t n = send(s->fd, s->out, s->out_len,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				/* the client went away: nothing to tell */
				s->out_len = 0;
				s->dead = true;
			}
			return;
		}
		memmove(s->out, s->out + n, s->out_len - (size_t)n);
		s->out_len -= (size_t)n;
	}
}

/* Send @p len bytes to the session's client (stdout when interactive). */
static void
session_write(struct session *s, const void *buf, size_t len)
{
	if (s->interactive) {
		fwrite(buf, 1, len, stdout);
		return;
	}
	if (s->dead)
		return;
	if (s->out_len + len > s->out_cap) {
		size_t cap = s->out_cap ? s->out_cap : 4096;
		char *p;

		while (cap < s->out_len + len)
			cap *= 2;
		if (cap > OUT_MAX || (p = realloc(s->out, cap)) == NULL) {
			DLOG(WARNING,
			     "console: session %u does not read its replies "
			     "(%zu bytes waiting): closed\n",
			     s->id, s->out_len);
			s->out_len = 0;
			s->dead = true;
			return;
		}
		s->out = p;
		s->out_cap = cap;
	}
	memcpy(s->out + s->out_len, buf, len);
	s->out_len += len;
}

static void
session_puts(struct session *s, const char *str)
{
	session_write(s, str, strlen(str));
}

static void
prompt(struct session *s)
{
	session_puts(s, CONSOLE_PROMPT);
	if (s->interactive)
		fflush(stdout);
}

/* ---- input: lines into the console input ring ---- */

/* Put one line (or the head of an overlong one) in a slot. */
static bool
send_line(struct console_host *h, struct session *s, const char *line,
	  size_t len, bool overlong)
{
	struct ion_slot *slot;

	if (ion_prod_reserve(&h->in, 1) == 0)
		return false; /* full: the line stays, retried next poll */
	if (len > h->in_slot) {
		len = h->in_slot;
		overlong = true;
	}
	slot = ion_prod_slot(&h->in, 0);
	memcpy(ion_prod_data(&h->in, 0), line, len);
	slot->len = (uint32_t)len;
	slot->tag = s->id | (overlong ? CONSOLE_IN_OVERLONG : 0);
	ion_prod_commit(&h->in, 1);
	s->inflight = true;
	return true;
}

static void
consume(struct session *s, size_t n)
{
	memmove(s->in, s->in + n, s->in_len - n);
	s->in_len -= n;
}

/* The console fiber no longer runs: answer in its place. */
static void
refuse_line(struct console_host *h, struct session *s)
{
	char msg[160];

	snprintf(msg, sizeof(msg),
		 "error: console fiber '%s' is %s: no command can run "
		 "(SIGTERM stops the daemon)\n",
		 h->fiber->name, fiber_state_str(fiber_state_get(h->fiber)));
	session_puts(s, msg);
	if (!s->eof)
		prompt(s);
}

/* Send the session's next complete line, if it has none in flight. */
static void
session_send(struct console_host *h, struct session *s)
{
	while (!s->inflight && s->fd >= 0 && !s->closing) {
		char *nl = memchr(s->in, '\n', s->in_len);
		size_t len, used;

		if (nl == NULL) {
			if (s->in_len == sizeof(s->in)) {
				/* no newline in a full buffer: refuse it now,
				 * drop the rest of it as it arrives */
				if (!s->discard &&
				    !send_line(h, s, s->in, s->in_len, true))
					return;
				s->discard = true;
				s->in_len = 0;
				continue;
			}
			if (!s->eof || s->in_len == 0)
				return;
			nl = s->in + s->in_len; /* last line, no newline */
			used = s->in_len;
		} else {
			used = (size_t)(nl - s->in) + 1;
		}
		len = (size_t)(nl - s->in);
		if (len > 0 && s->in[len - 1] == '\r')
			len--;
		if (s->discard) {
			s->discard = false;
			consume(s, used);
			continue;
		}
		if (fiber_state_get(h->fiber) != FIBER_READY) {
			refuse_line(h, s);
			consume(s, used);
			continue;
		}
		if (!send_line(h, s, s->in, len, false))
			return;
		consume(s, used);
	}
}

/* Read what the client sent; note the end of its input. */
static void
session_read(struct session *s)
{
	ssize_t n;

	if (s->in_len == sizeof(s->in) || s->eof)
		return;
	n = read(s->fd, s->in + s->in_len, sizeof(s->in) - s->in_len);
	if (n > 0) {
		s->in_len += (size_t)n;
	} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
			      errno != EINTR)) {
		s->eof = true;
		/* Ctrl-D: the shell's prompt goes on a line of its own */
		if (s->interactive && isatty(STDOUT_FILENO))
			fputc('\n', stdout);
	}
}

/* ---- output: replies from the console output ring ---- */

static void
reply_end(struct console_host *h, struct session *s, uint32_t tag)
{
	s->inflight = false;
	if (tag & CONSOLE_OUT_SHUTDOWN) {
		h->stop = "shutdown from the console";
		s->closing = true;
	} else if (tag & CONSOLE_OUT_QUIT) {
		/* on the daemon's own terminal, quit means the daemon */
		if (s->interactive)
			h->stop = "quit on the interactive console";
		s->closing = true;
	} else if (!s->eof) {
		prompt(s);
	}
}

static uint32_t
relay_replies(struct console_host *h)
{
	uint32_t i, n = ion_cons_peek(&h->rout, 32);

	for (i = 0; i < n; i++) {
		const struct ion_slot *slot = ion_cons_slot(&h->rout, i);
		struct session *s =
			session_by_id(h, CONSOLE_TAG_SESSION(slot->tag));

		/* a reply to a session that has ended goes nowhere */
		if (s == NULL)
			continue;
		session_write(s, ion_cons_data(&h->rout, i), slot->len);
		if (slot->tag & CONSOLE_OUT_END)
			reply_end(h, s, slot->tag);
	}
	if (n != 0)
		ion_cons_release(&h->rout, n);
	return n;
}

/* The fiber died with commands in flight: end those replies here. */
static void
fiber_gone(struct console_host *h)
{
	unsigned int i;

	if (!h->fiber_gone)
		DLOG(ERR,
		     "console: fiber %s is %s: console commands fail from "
		     "now on\n",
		     h->fiber->name,
		     fiber_state_str(fiber_state_get(h->fiber)));
	h->fiber_gone = true;
	for (i = 0; i < N_SESSIONS; i++) {
		struct session *s = &h->s[i];

		if (s->fd >= 0 && s->inflight) {
			s->inflight = false;
			refuse_line(h, s);
		}
	}
}

/* ---- the socket ---- */

static void
accept_clients(struct console_host *h)
{
	for (;;) {
		int fd = accept4(h->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		unsigned int i;

		if (fd < 0)
			return; /* EAGAIN, or a client that gave up */
		for (i = 1; i < N_SESSIONS && h->s[i].fd >= 0; i++)
			;
		if (i == N_SESSIONS) {
			char busy[96];
			int n = snprintf(busy, sizeof(busy),
					 "error: too many console sessions (at "
					 "most %u); try again later\n",
					 MAX_SOCK_SESSIONS);

			/* best effort: the socket buffer of a new
			 * connection has room for one line */
			if (send(fd, busy, (size_t)n,
				 MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				DLOG(DEBUG, "console: refusing a client: %s\n",
				     strerror(errno));
			close(fd);
			continue;
		}
		session_open(h, &h->s[i], fd, false);
		watch(h, fd);
		prompt(&h->s[i]);
		session_flush(&h->s[i]);
	}
}

/* mkdir -p of the directory that holds @p path. */
static int
make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (p == NULL || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int
listen_on(struct console_host *h, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		DLOG(ERR, "console socket %s: path longer than %zu bytes\n",
		     path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	rc = make_parent(path);
	if (rc < 0) {
		DLOG(ERR,
		     "console socket %s: cannot create its directory: %s\n",
		     path, strerror(-rc));
		return rc;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* a socket file nobody answers on is left by a daemon that died */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		DLOG(ERR,
		     "console socket %s: another daemon is serving it "
		     "(--console-socket picks another path)\n",
		     path);
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* the console can kill fibers and stop the daemon: owner only */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, MAX_SOCK_SESSIONS) < 0) {
		rc = -errno;
		DLOG(ERR, "console socket %s: %s\n", path, strerror(-rc));
		close(fd);
		unlink(path);
		return rc;
	}
	h->listen_fd = fd;
	watch(h, fd);
	snprintf(h->path, sizeof(h->path), "%s", path);
	return 0;
}

/* ---- what the commands act on ---- */

static void
show(void *arg, FILE *out, unsigned int what)
{
	struct ctr_emit e;

	ctr_emit_init(&e, CTR_TEXT, out);
	counters_emit(arg, &e, what);
	ctr_emit_end(&e);
}

static void
show_port(void *arg, FILE *out)
{
	show(arg, out, COUNTERS_PORT);
}

static void
show_rings(void *arg, FILE *out)
{
	show(arg, out, COUNTERS_RINGS);
}

static void
show_fibers(void *arg, FILE *out)
{
	show(arg, out, COUNTERS_FIBERS);
}

static void
show_lcores(void *arg, FILE *out)
{
	show(arg, out, COUNTERS_LCORES);
}

static int
kill_fiber(void *arg, const char *name, FILE *out)
{
	struct ionswitchd *d = arg;
	unsigned int i;

	for (i = 0; i < d->n_fibers; i++) {
		struct fiber *f = &d->fibers[i];
		enum fiber_state s;

		if (strcmp(f->name, name) != 0)
			continue;
		s = fiber_state_get(f);
		if (s != FIBER_READY && s != FIBER_WAITING) {
			fprintf(out, "error: fiber '%s' is already %s\n", name,
				fiber_state_str(s));
			return -EALREADY;
		}
		fiber_kill(f, "killed by the operator");
		DLOG(NOTICE, "console: fiber %s killed by the operator\n",
		     name);
		fprintf(out, "fiber '%s' killed\n", name);
		return 0;
	}
	fprintf(out, "error: no fiber named '%s'; 'show fibers' lists them\n",
		name);
	return -ENOENT;
}

void
console_host_ops(struct ionswitchd *d)
{
	d->ops = (struct console_ops){
		.show_port = show_port,
		.show_rings = show_rings,
		.show_fibers = show_fibers,
		.show_lcores = show_lcores,
		.kill_fiber = kill_fiber,
		.arg = d,
	};
}

/* ---- set-up and the main loop's part ---- */

static int
open_ends(struct console_host *h)
{
	struct ionswitchd *d = h->d;
	struct fiber *f = h->fiber;
	uint32_t rx_ch = f->ends[FIBER_RX].channel;
	uint32_t tx_ch = f->ends[FIBER_TX].channel;
	struct ion_ring *in = ionswitchd_ring(d, rx_ch);
	struct ion_ring *out = ionswitchd_ring(d, tx_ch);
	int rc;

	if (tx_ch == 0 || in == NULL || out == NULL) {
		DLOG(ERR,
		     "console fiber %s needs both rx (console input) and tx "
		     "(console output) rings\n",
		     f->name);
		return -EINVAL;
	}
	/* the main lcore is the other end of the fiber's two rings, and like
	 * everyone else reaches them only through capabilities */
	ion_cspace_init(&d->con_cs);
	rc = ion_cspace_grant(&d->con_cs, in, ION_PERM_WRITE);
	if (rc >= 0)
		rc = ion_cspace_grant(&d->con_cs, out, ION_PERM_READ);
	if (rc < 0)
		return rc;
	ionswitchd_external_wakes(d, &d->con_cs);
	rc = ion_cspace_open_prod(&d->con_cs, rx_ch, &h->in);
	if (rc < 0) {
		DLOG(ERR, "console input ring 0x%04x: %s (another writer?)\n",
		     rx_ch, strerror(-rc));
		return rc;
	}
	h->in_open = true;
	rc = ion_cspace_open_cons(&d->con_cs, tx_ch, &h->rout);
	if (rc < 0) {
		DLOG(ERR, "console output ring 0x%04x: %s (another reader?)\n",
		     tx_ch, strerror(-rc));
		return rc;
	}
	h->rout_open = true;
	h->in_slot = ion_ring_slot_size(in);
	/* replies wake the main lcore */
	rc = fiber_sched_eventfd(&d->sched, rte_get_main_lcore());
	if (rc >= 0)
		rc = ion_cons_set_eventfd(&h->rout, rc);
	return rc < 0 && rc != -ENOTSUP ? rc : 0;
}

int
console_host_arm(struct console_host *h)
{
	return ion_cons_arm(&h->rout);
}

bool
console_host_ready(struct console_host *h)
{
	return ion_cons_ready(&h->rout) != 0;
}

void
console_host_disarm(struct console_host *h)
{
	ion_cons_disarm(&h->rout);
}

int
console_host_open(struct ionswitchd *d, const struct console_conf *cc,
		  struct console_host **out)
{
	struct console_host *h;
	unsigned int i;
	int rc;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	h->d = d;
	h->listen_fd = -1;
	for (i = 0; i < N_SESSIONS; i++)
		h->s[i].fd = -1;
	for (i = 0; i < d->n_fibers; i++) {
		struct fiber *f = &d->fibers[i];

		if (!f->kind->console)
			continue;
		if (h->fiber == NULL)
			h->fiber = f;
		else
			DLOG(WARNING,
			     "console fiber %s: the console serves %s, the "
			     "first one\n",
			     f->name, h->fiber->name);
	}
	if (h->fiber == NULL) {
		free(h);
		if (cc->interactive || cc->socket_given) {
			DLOG(ERR,
			     "%s has no console fiber (kind = "
			     "\"console\"): no console\n",
			     d->cfg.file);
			return -ENOENT;
		}
		DLOG(INFO, "no console fiber in %s: no console socket\n",
		     d->cfg.file);
		return 0;
	}
	rc = open_ends(h);
	if (rc == 0 && cc->socket_path != NULL) {
		rc = listen_on(h, cc->socket_path);
		/* a socket asked for must work; the default one is a
		 * convenience: without it the daemon still does its job */
		if (rc < 0 && !cc->socket_given) {
			DLOG(WARNING,
			     "console: running without a socket "
			     "(--console-socket picks another path)\n");
			rc = 0;
		}
	}
	if (rc < 0) {
		console_host_close(h);
		return rc;
	}
	if (cc->interactive) {
		session_open(h, &h->s[0], STDIN_FILENO, true);
		watch(h, STDIN_FILENO);
	}
	DLOG(INFO, "console: fiber %s%s%s%s\n", h->fiber->name,
	     h->path[0] ? ", socket " : "", h->path,
	     cc->interactive ? ", interactive on stdin" : "");
	*out = h;
	return 0;
}

const char *
console_host_stop(const struct console_host *h)
{
	return h != NULL ? h->stop : NULL;
}

unsigned int
console_host_poll(struct console_host *h, unsigned int max_ms)
{
	struct pollfd pfd[N_SESSIONS + 1];
	struct session *who[N_SESSIONS + 1];
	unsigned int i, n = 0, work;
	int ready, timeout = (int)max_ms;
	bool alive = fiber_state_get(h->fiber) == FIBER_READY;

	if (!alive && !h->fiber_gone)
		fiber_gone(h);
	for (i = 0; i < N_SESSIONS; i++) {
		struct session *s = &h->s[i];
		short ev = 0;

		if (s->fd < 0)
			continue;
		/* the first prompt once running, the others after replies */
		if (s->interactive && !h->greeted) {
			h->greeted = true;
			prompt(s);
		}
		if (!s->eof && s->in_len < sizeof(s->in))
			ev |= POLLIN;
		if (s->out_len > 0)
			ev |= POLLOUT;
		if (s->inflight && alive && timeout > REPLY_WAIT_MS)
			timeout = REPLY_WAIT_MS;
		if (ev == 0)
			continue;
		pfd[n].fd = s->fd;
		pfd[n].events = ev;
		pfd[n].revents = 0;
		who[n++] = s;
	}
	if (h->listen_fd >= 0) {
		pfd[n].fd = h->listen_fd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		who[n++] = NULL;
	}
	ready = poll(pfd, n, timeout);
	if (ready < 0)
		return 0; /* EINTR: the caller looks at the signal */
	work = (unsigned int)ready;
	for (i = 0; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		if (who[i] == NULL) {
			accept_clients(h);
			continue;
		}
		if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
			session_read(who[i]);
	}
	work += relay_replies(h);
	for (i = 0; i < N_SESSIONS; i++) {
		unsigned int k = (h->rr + i) % N_SESSIONS;
		struct session *s = &h->s[k];

		if (s->fd < 0)
			continue;
		session_send(h, s);
		if (!s->interactive)
			session_flush(s);
		/* a finished session: its last reply is out */
		if (s->dead || (!s->inflight && s->out_len == 0 &&
				(s->closing || (s->eof && s->in_len == 0)))) {
			if (s->interactive && h->stop == NULL)
				h->stop = "end of input on the console";
			session_close(h, s);
		}
	}
	h->rr = (h->rr + 1) % N_SESSIONS;
	fflush(stdout);
	return work;
}

void
console_host_close(struct console_host *h)
{
	unsigned int i;

	if (h == NULL)
		return;
	for (i = 0; i < N_SESSIONS; i++)
		if (h->s[i].fd >= 0) {
			if (!h->s[i].interactive)
				session_flush(&h->s[i]);
			session_close(h, &h->s[i]);
		}
	if (h->listen_fd >= 0) {
		close(h->listen_fd);
		unlink(h->path);
	}
	if (h->in_open)
		ion_prod_close(&h->in);
	if (h->rout_open)
		ion_cons_close(&h->rout);
	free(h);
}
