/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The claim server's front door (ion_claimd.h):
 * a SOCK_SEQPACKET socket of mode 0660 in the config's group, its
 * connections, the limits that keep one user from starving the others,
 * every message checked before ion_claimd_fiber.c acts on it, and every
 * refusal answered, counted and told to the host once.  Everything runs
 * in ion_claimd_poll(), on the host's control thread, without blocking:
 * one epoll set for the socket, the connections, the claimants' pidfds
 * and a timerfd for the deadlines.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ion_claimd_impl.h"

/* a claimer whose socket closed and who is still there then is killed */
#define EOF_GRACE_MS 200
/* Work done in one poll, at most, so that a flood of connections or of
 * messages on one of them cannot keep the poller from the rest (epoll is
 * level-triggered: what is left comes again at the next poll). */
#define ACCEPT_BURST 64
#define READ_BURST   16
/*
 * Connections the kernel queues before they are accepted.  Short: a
 * claimant that arrives behind a flood waits for every connection ahead
 * of it to be accepted and refused (measured: a median of 96 ms behind
 * 4096, 0.15 ms behind 32; ion-bench claims).  One that finds the queue
 * full sleeps in connect() and is woken, in its turn among the sleepers,
 * as an accept makes room; a flood's non-blocking connects get EAGAIN.
 */
#define BACKLOG 32

/* Each refusal's errno and counter. */
static const struct {
	int err;
	size_t ctr; /* offsetof(struct ion_claimd_stats, ...) */
} refusals[R__COUNT] = {
#define R(r, e, field) [r] = {e, offsetof(struct ion_claimd_stats, field)}
	R(R_UNKNOWN, -ENOENT, unknown),
	R(R_IN_HOST, -EPERM, in_host),
	R(R_DENIED, -EACCES, denied),
	R(R_BUSY, -EBUSY, busy),
	R(R_DEAD, -ESRCH, dead),
	R(R_VANISHED, -ESRCH, vanished),
	R(R_BAD_FD, -EINVAL, bad_fd),
	R(R_BAD_LENGTH, -EMSGSIZE, bad_length),
	R(R_BAD_MAGIC, -EPROTO, bad_magic),
	R(R_BAD_VERSION, -EPROTONOSUPPORT, bad_version),
	R(R_OUT_OF_ORDER, -EBADMSG, out_of_order),
	R(R_LATE, -ETIMEDOUT, late),
	R(R_UID_LIMIT, -EAGAIN, uid_limit),
	R(R_FULL, -EAGAIN, full),
#undef R
};

uint64_t
claimd_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

int
claimd_watch(struct ion_claimd *d, int fd, uint32_t kind, uint32_t idx)
{
	struct epoll_event ev = {.events = EPOLLIN,
				 .data.u64 = (uint64_t)kind << 32 | idx};

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

void
claimd_bump(uint64_t *ctr)
{
	/* relaxed: one writer (the poller); a reader wants the word whole */
	__atomic_store_n(ctr, *ctr + 1, __ATOMIC_RELAXED);
}

static void
set_open(struct ion_claimd *d, int delta)
{
	__atomic_store_n(&d->st.open, d->st.open + (uint64_t)(int64_t)delta,
			 __ATOMIC_RELAXED);
}

void
claimd_printable(char *out, size_t outlen, const char *in, size_t inlen)
{
	size_t i;

	for (i = 0; i + 1 < outlen && i < inlen && in[i] != '\0'; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	if (outlen > 0)
		out[i] = '\0';
}

static void
send_err_fd(int fd, int err, const char *text)
{
	struct ion_claim_msg m;

	ion_claim_msg_init(&m, ION_CLAIM_ERR);
	m.err = err;
	snprintf(m.text, sizeof(m.text), "%s", text);
	/* never blocks: a peer that does not read misses its answer */
	ion_claim_send(fd, &m, NULL, 0, MSG_DONTWAIT);
}

void
claimd_send_err(struct claimd_conn *c, int err, const char *fmt, ...)
{
	char text[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	send_err_fd(c->fd, err, text);
}

/* Answer, count and tell the host: once for each refusal. */
static void
refuse_fd(struct ion_claimd *d, int fd, uint32_t uid, uint32_t pid, void *arg,
	  enum claimd_refusal r, const char *why)
{
	send_err_fd(fd, refusals[r].err, why);
	claimd_bump((uint64_t *)((char *)&d->st + refusals[r].ctr));
	claimd_bump(&d->st.refused);
	if (d->ops.refused != NULL)
		d->ops.refused(arg, uid, pid, refusals[r].err, why);
}

void
claimd_refuse(struct ion_claimd *d, struct claimd_conn *c,
	      const struct claimd_fib *f, enum claimd_refusal r,
	      const char *fmt, ...)
{
	char why[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	refuse_fd(d, c->fd, c->uid, c->pid, f != NULL ? f->conf.arg : NULL, r,
		  why);
	/* a claimant that breaks the protocol holds rings: it goes the way
	 * of one that breaks its grant */
	if (c->fiber >= 0)
		claimd_conn_kill(c, why);
	else
		claimd_conn_close(d, c);
}

void
claimd_conn_close(struct ion_claimd *d, struct claimd_conn *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->pidfd >= 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
		close(c->pidfd);
	}
	memset(c, 0, sizeof(*c));
	c->fd = c->pidfd = -1;
	c->fiber = -1;
	set_open(d, -1);
	d->deadlines_moved = 1;
}

/* Kill @c's process; its death (the pidfd) ends the claim with @why. */
void
claimd_conn_kill(struct claimd_conn *c, const char *why)
{
	if (c->killing)
		return;
	c->killing = 1;
	/* one line of the fiber's state: cut to fit */
	snprintf(c->why, sizeof(c->why), "%.*s", (int)sizeof(c->why) - 1, why);
	if (c->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
}

/* The message @rc of ion_claim_recv() was not one of the protocol: why. */
static enum claimd_refusal
malformed(int rc)
{
	switch (rc) {
	case -EMSGSIZE:
		return R_BAD_LENGTH;
	case -EBADF:
		return R_BAD_FD;
	case -EPROTO:
		return R_BAD_MAGIC;
	case -EPROTONOSUPPORT:
		return R_BAD_VERSION;
	default:
		return R__COUNT; /* the socket's end, or its error */
	}
}

/* Its socket ended (or failed).  @return -1: @c is gone. */
static int
hang_up(struct ion_claimd *d, struct claimd_conn *c)
{
	struct pollfd p = {.fd = c->pidfd, .events = POLLIN};

	if (c->fiber < 0) {
		claimd_conn_close(d, c);
		return -1;
	}
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	/* its socket closed as it died: its death ends the claim */
	if (poll(&p, 1, 0) == 1) {
		claimd_claim_end(d, c, 1, claimd_exit_status(c));
		return -1;
	}
	/* an exiting process closes its files before it is gone: it gets
	 * EOF_GRACE_MS to be gone, then it is killed (expire()) */
	if (c->eof_ms == 0) {
		c->eof_ms = claimd_now_ms();
		d->deadlines_moved = 1;
	}
	return 0;
}

/* One well-formed message of @c. */
static void
handle(struct ion_claimd *d, struct claimd_conn *c,
       const struct ion_claim_msg *m, int *fds, unsigned int nfd)
{
	const struct claimd_fib *f =
		c->fiber >= 0 ? &d->fibers[c->fiber] : NULL;
	unsigned int i;

	if (c->fiber < 0 && m->op == ION_CLAIM_CLAIM) {
		claimd_claim(d, c, m, fds, nfd); /* closes them */
		return;
	}
	for (i = 0; i < nfd; i++)
		close(fds[i]);
	/* being killed, it is heard only on what it wrote */
	if (c->killing) {
		if (m->op == ION_CLAIM_FAULT) {
			c->fault = 1;
			c->fault_channel = m->channel;
			c->fault_perm = m->perm;
		}
		return;
	}
	if (c->fiber < 0) {
		claimd_refuse(d, c, NULL, R_OUT_OF_ORDER,
			      "operation %u before a claim", m->op);
		return;
	}
	if (nfd > 0) {
		claimd_refuse(d, c, f, R_BAD_FD,
			      "operation %u carries descriptors", m->op);
		return;
	}
	switch (m->op) {
	case ION_CLAIM_MAP:
		claimd_map(d, c, m);
		break;
	case ION_CLAIM_FAULT:
		c->fault = 1;
		c->fault_channel = m->channel;
		c->fault_perm = m->perm;
		break;
	case ION_CLAIM_BYE:
		claimd_claim_end(d, c, 0, -1);
		break;
	default:
		claimd_refuse(d, c, f, R_OUT_OF_ORDER,
			      "operation %u while fiber '%s' is claimed", m->op,
			      f->name);
		break;
	}
}

/* What @c sent, READ_BURST messages at most.  @return -1 once @c is
 * gone. */
static int
conn_read(struct ion_claimd *d, struct claimd_conn *c)
{
	static const char *const what[] = {
		[R_BAD_LENGTH] = "a message of another length than the "
				 "protocol's",
		[R_BAD_FD] = "more descriptors than a message carries",
		[R_BAD_MAGIC] = "not the claim protocol (magic)",
		[R_BAD_VERSION] = "another version of the claim protocol",
	};
	int fds[ION_CLAIM_MAX_FDS];
	struct ion_claim_msg m;
	unsigned int k, nfd;
	int rc;

	for (k = 0; k < READ_BURST && c->fd >= 0 && c->eof_ms == 0; k++) {
		enum claimd_refusal r;

		rc = ion_claim_recv(c->fd, &m, fds, ION_CLAIM_MAX_FDS, &nfd,
				    MSG_DONTWAIT);
		if (rc == -EAGAIN)
			break;
		r = rc < 0 ? malformed(rc) : R__COUNT;
		if (rc < 0 && r == R__COUNT)
			return hang_up(d, c);
		if (rc < 0 && !c->killing)
			claimd_refuse(d, c,
				      c->fiber >= 0 ? &d->fibers[c->fiber]
						    : NULL,
				      r, "%s", what[r]);
		else if (rc == 0)
			handle(d, c, &m, fds, nfd);
	}
	return c->fd >= 0 ? 0 : -1;
}

static void
on_death(struct ion_claimd *d, struct claimd_conn *c)
{
	/* a FAULT it sent on its way out comes first (and the end of its
	 * socket may end the claim there) */
	if (conn_read(d, c) < 0 || c->fd < 0)
		return;
	claimd_claim_end(d, c, 1, claimd_exit_status(c));
}

/* Connections waiting to claim that @uid has open. */
static unsigned int
waiting(const struct ion_claimd *d, uint32_t uid)
{
	unsigned int i, n = 0;

	for (i = 0; i < CLAIMD_MAX_CONNS; i++)
		n += d->conns[i].fd >= 0 && d->conns[i].fiber < 0 &&
		     d->conns[i].uid == uid;
	return n;
}

static struct claimd_conn *
free_conn(struct ion_claimd *d)
{
	unsigned int i;

	for (i = 0; i < CLAIMD_MAX_CONNS; i++)
		if (d->conns[i].fd < 0)
			return &d->conns[i];
	return NULL;
}

/* New connections, each let in or refused at once: a refusal can be
 * read (ION_CLAIM_ERR -EAGAIN), not a bare hang-up. */
static int
on_accept(struct ion_claimd *d)
{
	char why[128];
	int k;

	for (k = 0; k < ACCEPT_BURST; k++) {
		struct ucred cr;
		socklen_t len = sizeof(cr);
		struct claimd_conn *c;
		unsigned int n;
		int fd;

		fd = accept4(d->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			break;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
			close(fd);
			continue;
		}
		claimd_bump(&d->st.connections);
		n = waiting(d, cr.uid);
		c = n < d->per_uid ? free_conn(d) : NULL;
		if (c == NULL) {
			if (n >= d->per_uid)
				snprintf(why, sizeof(why),
					 "uid %u has %u connections waiting "
					 "to claim, its limit: try again",
					 cr.uid, n);
			else
				snprintf(why, sizeof(why),
					 "all %u connections are taken: try "
					 "again",
					 CLAIMD_MAX_CONNS);
			refuse_fd(d, fd, cr.uid, (uint32_t)cr.pid, NULL,
				  n >= d->per_uid ? R_UID_LIMIT : R_FULL, why);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->pidfd = -1;
		c->pid = (uint32_t)cr.pid;
		c->uid = cr.uid;
		c->gid = cr.gid;
		c->fiber = -1;
		c->due_ms = claimd_now_ms() + d->first_ms;
		set_open(d, 1);
		d->deadlines_moved = 1;
		if (claimd_watch(d, fd, EV_CONN, (uint32_t)(c - d->conns)) < 0)
			claimd_conn_close(d, c);
	}
	return k;
}

/* The next deadline of any connection, or UINT64_MAX. */
static uint64_t
next_deadline(const struct ion_claimd *d)
{
	uint64_t t = UINT64_MAX;
	unsigned int i;

	for (i = 0; i < CLAIMD_MAX_CONNS; i++) {
		const struct claimd_conn *c = &d->conns[i];

		if (c->fd < 0)
			continue;
		if (c->fiber < 0 && c->due_ms < t)
			t = c->due_ms;
		if (c->eof_ms != 0 && !c->killing &&
		    c->eof_ms + EOF_GRACE_MS < t)
			t = c->eof_ms + EOF_GRACE_MS;
	}
	return t;
}

/* Deadlines that passed: a claim not sent in time, a claimant that let
 * go of its socket without giving its rings back and lived on. */
static void
expire(struct ion_claimd *d, uint64_t now)
{
	unsigned int i;

	for (i = 0; i < CLAIMD_MAX_CONNS; i++) {
		struct claimd_conn *c = &d->conns[i];

		if (c->fd >= 0 && c->fiber < 0 && now >= c->due_ms)
			claimd_refuse(d, c, NULL, R_LATE,
				      "sent no claim within %u ms",
				      d->first_ms);
		else if (c->fd >= 0 && c->eof_ms != 0 &&
			 now >= c->eof_ms + EOF_GRACE_MS)
			/* its death ends the claim */
			claimd_conn_kill(c, "closed its claim without giving "
					    "it back");
	}
	d->deadlines_moved = 1;
}

/* The timerfd wakes the poller at the next deadline. */
static void
arm_timer(struct ion_claimd *d)
{
	struct itimerspec it;
	uint64_t t = next_deadline(d);

	d->deadlines_moved = 0;
	if (t == d->timer_ms)
		return;
	memset(&it, 0, sizeof(it));
	if (t != UINT64_MAX) {
		/* 0 would disarm it: a deadline already passed fires now */
		it.it_value.tv_sec = (time_t)(t / 1000);
		it.it_value.tv_nsec = (long)(t % 1000) * 1000000 + 1;
	}
	if (timerfd_settime(d->tfd, TFD_TIMER_ABSTIME, &it, NULL) == 0)
		d->timer_ms = t;
}

int
ion_claimd_poll(struct ion_claimd *d)
{
	struct epoll_event ev[16];
	uint64_t now, ticks;
	int n, k, work = 0;

	n = epoll_wait(d->epfd, ev, 16, 0);
	for (k = 0; k < n; k++) {
		uint32_t kind = (uint32_t)(ev[k].data.u64 >> 32);
		struct claimd_conn *c =
			&d->conns[(uint32_t)ev[k].data.u64 % CLAIMD_MAX_CONNS];

		work++;
		if (kind == EV_LISTEN)
			on_accept(d);
		else if (kind == EV_CONN && c->fd >= 0)
			conn_read(d, c);
		else if (kind == EV_PID && c->fd >= 0 && c->fiber >= 0)
			on_death(d, c);
		else if (kind == EV_TIMER &&
			 read(d->tfd, &ticks, sizeof(ticks)) < 0) {
			/* EAGAIN: read already; the deadline decides */
		}
	}
	/* after the events: what they stamped is not in the future */
	now = claimd_now_ms();
	if (now >= d->timer_ms)
		expire(d, now);
	if (d->deadlines_moved)
		arm_timer(d);
	return work;
}

void
ion_claimd_stats(const struct ion_claimd *d, struct ion_claimd_stats *st)
{
	const uint64_t *from = (const uint64_t *)&d->st;
	uint64_t *to = (uint64_t *)st;
	size_t i;

	/* relaxed: each word whole; the set is not a snapshot */
	for (i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		to[i] = __atomic_load_n(&from[i], __ATOMIC_RELAXED);
}

int
ion_claimd_fd(const struct ion_claimd *d)
{
	return d->epfd;
}

/* Bind @conf->path with its mode and group; listen only then, so that
 * nobody connects to a socket of looser access. */
static int
listen_on(struct ion_claimd *d, const struct ion_claimd_conf *conf)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memcpy(sa.sun_path, conf->path, strlen(conf->path));
	unlink(conf->path);
	if (bind(d->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	if (chmod(conf->path,
		  conf->mode != 0 ? conf->mode : ION_CLAIMD_DEF_MODE) < 0 ||
	    (conf->gid != ION_CLAIMD_HOST_GID &&
	     chown(conf->path, (uid_t)-1, conf->gid) < 0) ||
	    listen(d->lfd, BACKLOG) < 0) {
		int rc = -errno;

		unlink(conf->path);
		return rc;
	}
	return 0;
}

int
ion_claimd_open(struct ion_claimd **out, const struct ion_claimd_conf *conf,
		const struct ion_claimd_ops *ops)
{
	struct ion_claimd *d;
	unsigned int i;
	int rc;

	if (out == NULL || conf == NULL || conf->path == NULL ||
	    strlen(conf->path) >= sizeof(d->path))
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	for (i = 0; i < CLAIMD_MAX_CONNS; i++) {
		d->conns[i].fd = d->conns[i].pidfd = -1;
		d->conns[i].fiber = -1;
	}
	if (ops != NULL)
		d->ops = *ops;
	d->per_uid =
		conf->per_uid != 0 ? conf->per_uid : ION_CLAIMD_DEF_PER_UID;
	d->first_ms =
		conf->first_ms != 0 ? conf->first_ms : ION_CLAIMD_DEF_FIRST_MS;
	d->timer_ms = UINT64_MAX;
	snprintf(d->path, sizeof(d->path), "%s", conf->path);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	d->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);
	if (d->epfd < 0 || d->tfd < 0 || d->lfd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = listen_on(d, conf);
	if (rc == 0)
		rc = claimd_watch(d, d->lfd, EV_LISTEN, 0);
	if (rc == 0)
		rc = claimd_watch(d, d->tfd, EV_TIMER, 0);
	if (rc < 0)
		goto fail;
	*out = d;
	return 0;
fail:
	if (d->lfd >= 0) {
		close(d->lfd);
		unlink(d->path);
	}
	if (d->tfd >= 0)
		close(d->tfd);
	if (d->epfd >= 0)
		close(d->epfd);
	free(d);
	return rc;
}

void
ion_claimd_close(struct ion_claimd *d)
{
	unsigned int i;

	if (d == NULL)
		return;
	for (i = 0; i < CLAIMD_MAX_CONNS; i++)
		claimd_conn_close(d, &d->conns[i]);
	claimd_fibers_close(d);
	close(d->lfd);
	close(d->tfd);
	close(d->epfd);
	unlink(d->path);
	free(d);
}
