/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The host's side of a claim (ion_ring.h, "Hosting external fibers"): a
 * SOCK_SEQPACKET socket, the manifests, a pidfd per claiming process, one
 * epoll set for all of them.  Everything runs in ion_claimd_poll(), on
 * the host's control thread, without blocking.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ion_claim_proto.h"
#include "ion_ring.h"

#define MAX_FIBERS 64
#define MAX_CONNS  64
/* a connection that has not claimed anything by then is closed */
#define UNCLAIMED_MS 2000
/* a claimer whose socket closed and who is still there then is killed */
#define EOF_GRACE_MS 200

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

/* PIDFD_GET_INFO (Linux 6.15): the exit status of a process that is not
 * our child, kept with its pidfd.  Older kernels: /proc, while it is a
 * zombie. */
struct pidfd_info {
	uint64_t mask;
	uint64_t cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid,
		fsgid;
	int32_t exit_code;
	uint32_t coredump_mask;
	uint32_t spare;
};
#define PIDFD_GET_INFO_IOCTL _IOWR(0xFF, 11, struct pidfd_info)
#define PIDFD_INFO_EXIT_BIT  (1ull << 3)

enum { EV_LISTEN, EV_CONN, EV_PID };

struct conn {
	int fd; /* -1: free */
	int pidfd;
	uint32_t pid, uid, gid;
	int fiber; /* claimed, or -1 */
	uint64_t since_ms;
	int killing;	 /* SIGKILL sent: its death ends the claim */
	uint64_t eof_ms; /* its socket closed then, and it lived on */
	int fault;
	uint32_t fault_channel, fault_perm;
	char why[48]; /* why it was killed */
};

enum fstate { F_IDLE, F_CLAIMED, F_KILLED };

struct fib {
	struct ion_claimd_fiber conf;
	char name[32];
	struct ion_claimd_grant grants[ION_CSPACE_SLOTS];
	enum fstate state;
	int wake_fd;  /* the slot the host's ends write */
	int dummy_fd; /* what the slot holds between claims */
	struct conn *conn;
};

struct ion_claimd {
	int lfd, epfd;
	char path[108];
	struct ion_claimd_ops ops;
	unsigned int n_fibers;
	struct fib fibers[MAX_FIBERS];
	struct conn conns[MAX_CONNS];
};

static uint64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static int
watch(struct ion_claimd *d, int fd, uint32_t kind, uint32_t idx)
{
	struct epoll_event ev = {.events = EPOLLIN,
				 .data.u64 = (uint64_t)kind << 32 | idx};

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void __attribute__((format(printf, 3, 4)))
send_err(struct conn *c, int err, const char *fmt, ...)
{
	struct ion_claim_msg m;
	va_list ap;

	ion_claim_msg_init(&m, ION_CLAIM_ERR);
	m.err = err;
	va_start(ap, fmt);
	vsnprintf(m.text, sizeof(m.text), fmt, ap);
	va_end(ap);
	ion_claim_send(c->fd, &m, NULL, 0, MSG_DONTWAIT);
}

/* One message and its descriptors (at most one is expected: CLAIM's
 * eventfd), without blocking.  1, 0 (nothing), -ECONNRESET, -EPROTO. */
static int
recv_msg(struct conn *c, struct ion_claim_msg *m, int *fd)
{
	unsigned int nfd;
	int rc;

	*fd = -1;
	rc = ion_claim_recv(c->fd, m, fd, 1, &nfd, MSG_DONTWAIT);
	if (rc == -EAGAIN)
		return 0;
	if (rc < 0)
		return rc == -EPROTO ? -EPROTO : -ECONNRESET;
	return 1;
}

static void
conn_close(struct ion_claimd *d, struct conn *c)
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
}

/* Kill @c's process; its death (the pidfd) ends the claim with @why. */
static void
conn_kill(struct conn *c, const char *why)
{
	if (c->killing)
		return;
	c->killing = 1;
	snprintf(c->why, sizeof(c->why), "%s", why);
	if (c->pidfd >= 0)
		syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
}

/*
 * The wait status of @c's process, which has exited: from its pidfd once
 * it is reaped, from /proc while it is a zombie (checked to be the same
 * process after the read); -1 if neither says.
 */
static int
exit_status(const struct conn *c)
{
	struct pidfd_info info;
	char path[64], buf[1024], *p;
	FILE *f;
	int code;

	memset(&info, 0, sizeof(info));
	info.mask = PIDFD_INFO_EXIT_BIT;
	if (ioctl(c->pidfd, PIDFD_GET_INFO_IOCTL, &info) == 0 &&
	    (info.mask & PIDFD_INFO_EXIT_BIT))
		return info.exit_code;
	snprintf(path, sizeof(path), "/proc/%u/stat", c->pid);
	f = fopen(path, "r");
	if (f == NULL)
		goto again;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	/* after the command name: state, ..., exit_code the last field */
	p = p != NULL ? strrchr(buf, ')') : NULL;
	if (p == NULL || p[1] != ' ' || p[2] != 'Z')
		goto again;
	p = strrchr(buf, ' ');
	code = p != NULL ? atoi(p + 1) : -1;
	/* still our zombie, not a process that took its pid since */
	if (syscall(SYS_pidfd_send_signal, c->pidfd, 0, NULL, 0) == 0)
		return code;
again:
	memset(&info, 0, sizeof(info));
	info.mask = PIDFD_INFO_EXIT_BIT;
	if (ioctl(c->pidfd, PIDFD_GET_INFO_IOCTL, &info) == 0 &&
	    (info.mask & PIDFD_INFO_EXIT_BIT))
		return info.exit_code;
	return -1;
}

static void
status_why(int status, char *why, size_t len)
{
	if (status < 0)
		snprintf(why, len, "died");
	else if ((status & 0x7f) == 0)
		snprintf(why, len, "exited %d", (status >> 8) & 0xff);
	else
		snprintf(why, len, "killed by signal %d (%s)", status & 0x7f,
			 sigabbrev_np(status & 0x7f) != NULL
				 ? sigabbrev_np(status & 0x7f)
				 : "?");
}

/* Take the fiber's ends back: renew what the claimer could write, then
 * make each end it held consistent for the next one. */
static uint32_t
take_back(struct fib *f)
{
	uint32_t skipped = 0;
	unsigned int i;

	for (i = 0; i < f->conf.n_grants; i++) {
		struct ion_claimd_grant *g = &f->grants[i];

		if (g->perm & ION_PERM_READ) {
			ion_ring_renew_part(g->map, ION_PART_CONS);
			skipped +=
				ion_ring_take_back(g->map->ring, ION_END_CONS);
		}
		if (g->perm & ION_PERM_WRITE) {
			ion_ring_renew_part(g->map, ION_PART_PROD);
			ion_ring_take_back(g->map->ring, ION_END_PROD);
		}
	}
	return skipped;
}

/* The claim of @c is over: @killed (the process is dead), or given back. */
static void
claim_end(struct ion_claimd *d, struct conn *c, int killed, int status)
{
	struct fib *f = &d->fibers[c->fiber];
	struct ion_claimd_end e;

	memset(&e, 0, sizeof(e));
	e.killed = killed;
	e.status = status;
	e.fault = c->fault;
	e.channel = c->fault_channel;
	e.perm = c->fault_perm;
	if (c->fault && c->why[0] == '\0')
		snprintf(c->why, sizeof(c->why),
			 "capability fault: wrote 0x%04x, holds %s",
			 c->fault_channel,
			 ion_perm_str(c->fault_perm == ION_PERM_WRITE
					      ? ION_PERM_READ
					      : ION_PERM_WRITE));
	if (c->why[0] != '\0')
		snprintf(e.why, sizeof(e.why), "%s", c->why);
	else if (killed)
		status_why(status, e.why, sizeof(e.why));
	else
		snprintf(e.why, sizeof(e.why), "gave its rings back");
	e.skipped = take_back(f);
	/* nothing the ends ring reaches the old process any more */
	dup3(f->dummy_fd, f->wake_fd, O_CLOEXEC);
	f->state = killed ? F_KILLED : F_IDLE;
	f->conn = NULL;
	conn_close(d, c);
	if (d->ops.ended != NULL)
		d->ops.ended(f->conf.arg, &e);
}

/* An eventfd, and nothing else, may be written by the host's ends. */
static int
is_eventfd(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[eventfd]") == 0;
}

static void
refuse(struct ion_claimd *d, struct conn *c, struct fib *f, int err,
       const char *why)
{
	struct ion_claim_msg m;

	ion_claim_msg_init(&m, ION_CLAIM_ERR);
	m.err = err;
	snprintf(m.text, sizeof(m.text), "%s", why);
	ion_claim_send(c->fd, &m, NULL, 0, MSG_DONTWAIT);
	if (d->ops.refused != NULL)
		d->ops.refused(f != NULL ? f->conf.arg : NULL, c->uid, c->pid,
			       why);
	conn_close(d, c);
}

static void
do_claim(struct ion_claimd *d, struct conn *c, const struct ion_claim_msg *m,
	 int efd)
{
	struct ion_claim_msg ok;
	char why[128];
	struct fib *f = NULL;
	unsigned int i;
	socklen_t len;
	int pidfd = -1;

	for (i = 0; i < d->n_fibers; i++)
		if (strncmp(d->fibers[i].name, m->name, sizeof(m->name)) == 0)
			f = &d->fibers[i];
	if (f == NULL) {
		snprintf(why, sizeof(why), "no external fiber named '%.32s'",
			 m->name);
		refuse(d, c, NULL, -ENOENT, why);
		goto out;
	}
	if (c->uid != f->conf.uid ||
	    (f->conf.gid != ION_CLAIMD_ANY_GID && c->gid != f->conf.gid)) {
		snprintf(why, sizeof(why),
			 "uid %u gid %u may not claim fiber '%s' (its "
			 "manifest: uid %u%s)",
			 c->uid, c->gid, f->name, f->conf.uid,
			 f->conf.gid != ION_CLAIMD_ANY_GID ? ", gid set" : "");
		refuse(d, c, f, -EACCES, why);
		goto out;
	}
	if (f->state == F_CLAIMED) {
		snprintf(why, sizeof(why),
			 "fiber '%s' is claimed by process %u", f->name,
			 f->conn->pid);
		refuse(d, c, f, -EBUSY, why);
		goto out;
	}
	if (f->state == F_KILLED && !f->conf.restart) {
		snprintf(why, sizeof(why),
			 "fiber '%s' was killed and its manifest does not let "
			 "it restart",
			 f->name);
		refuse(d, c, f, -ESRCH, why);
		goto out;
	}
	if (efd >= 0 && !is_eventfd(efd)) {
		snprintf(why, sizeof(why),
			 "what came with the claim is not an "
			 "eventfd");
		refuse(d, c, f, -EINVAL, why);
		goto out;
	}
	/* the process itself, whatever becomes of its pid */
	len = sizeof(pidfd);
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0 ||
	    pidfd < 0)
		pidfd = (int)syscall(SYS_pidfd_open, (pid_t)c->pid, 0);
	if (pidfd < 0 || watch(d, pidfd, EV_PID, (uint32_t)(c - d->conns))) {
		snprintf(why, sizeof(why), "cannot watch process %u", c->pid);
		if (pidfd >= 0)
			close(pidfd);
		refuse(d, c, f, -ESRCH, why);
		goto out;
	}
	c->pidfd = pidfd;
	if (efd >= 0)
		dup3(efd, f->wake_fd, O_CLOEXEC);
	c->fiber = (int)(f - d->fibers);
	f->state = F_CLAIMED;
	f->conn = c;
	ion_claim_msg_init(&ok, ION_CLAIM_OK);
	ok.pid = (uint32_t)getpid();
	ok.n = f->conf.n_grants;
	for (i = 0; i < f->conf.n_grants; i++) {
		ok.grants[i].channel = f->grants[i].channel;
		ok.grants[i].perm = f->grants[i].perm;
	}
	ion_claim_send(c->fd, &ok, NULL, 0, MSG_DONTWAIT);
	if (d->ops.claimed != NULL)
		d->ops.claimed(f->conf.arg, c->pid);
out:
	if (efd >= 0)
		close(efd);
}

static void
do_map(struct ion_claimd *d, struct conn *c, const struct ion_claim_msg *m)
{
	struct fib *f = &d->fibers[c->fiber];
	const struct ion_claimd_grant *g = NULL;
	struct ion_claim_msg r;
	int fds[ION_CLAIM_MAX_FDS];
	unsigned int i, nfd = 0;
	char why[48];

	for (i = 0; i < f->conf.n_grants; i++)
		if (f->grants[i].channel == m->channel)
			g = &f->grants[i];
	if (m->perm == 0 || (m->perm & ~(uint32_t)ION_PERM_RW) != 0 ||
	    g == NULL || (g->perm & m->perm) != m->perm) {
		/* a capability fault: refused, recorded, the claim ended */
		c->fault = 1;
		c->fault_channel = m->channel;
		c->fault_perm = m->perm;
		send_err(c, -EACCES,
			 "fiber '%s' holds no grant \"%s\" on channel 0x%04x: "
			 "a capability fault",
			 f->name, ion_perm_str(m->perm), m->channel);
		snprintf(why, sizeof(why), "asked for 0x%04x %s: not granted",
			 m->channel, ion_perm_str(m->perm));
		conn_kill(c, why);
		return;
	}
	/* the header read-only; a part writable only if the grant says */
	fds[nfd++] = ion_ring_part_fd(g->map, ION_PART_HDR, 0);
	fds[nfd++] = ion_ring_part_fd(g->map, ION_PART_CONS,
				      (m->perm & ION_PERM_READ) != 0);
	fds[nfd++] = ion_ring_part_fd(g->map, ION_PART_PROD,
				      (m->perm & ION_PERM_WRITE) != 0);
	ion_claim_msg_init(&r, ION_CLAIM_RING);
	r.channel = m->channel;
	r.perm = m->perm;
	if (g->host_wake_fd >= 0) {
		fds[nfd] = fcntl(g->host_wake_fd, F_DUPFD_CLOEXEC, 0);
		if (fds[nfd] >= 0) {
			nfd++;
			r.flags |= ION_CLAIM_F_WAKE;
		}
	}
	for (i = 0; i < 3; i++)
		if (fds[i] < 0)
			break;
	if (i < 3)
		send_err(c, fds[i], "fiber '%s': ring 0x%04x: %s", f->name,
			 m->channel, strerror(-fds[i]));
	else
		ion_claim_send(c->fd, &r, fds, nfd, MSG_DONTWAIT);
	for (i = 0; i < nfd; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Everything @c sent.  @return 0, or -1 once @c is gone. */
static int
conn_read(struct ion_claimd *d, struct conn *c)
{
	struct ion_claim_msg m;
	int fd, rc;

	while ((rc = recv_msg(c, &m, &fd)) > 0) {
		if (c->fiber < 0 && m.op != ION_CLAIM_CLAIM) {
			if (fd >= 0)
				close(fd);
			conn_close(d, c);
			return -1;
		}
		switch (m.op) {
		case ION_CLAIM_CLAIM:
			if (c->fiber >= 0) {
				if (fd >= 0)
					close(fd);
				conn_kill(c, "claimed twice");
				break;
			}
			do_claim(d, c, &m, fd);
			if (c->fd < 0)
				return -1;
			break;
		case ION_CLAIM_MAP:
			if (!c->killing)
				do_map(d, c, &m);
			break;
		case ION_CLAIM_FAULT:
			c->fault = 1;
			c->fault_channel = m.channel;
			c->fault_perm = m.perm;
			break;
		case ION_CLAIM_BYE:
			if (!c->killing) {
				claim_end(d, c, 0, -1);
				return -1;
			}
			break;
		default:
			conn_kill(c, "spoke nonsense");
			break;
		}
		if (fd >= 0 && m.op != ION_CLAIM_CLAIM)
			close(fd);
	}
	if (rc < 0) {
		struct pollfd p = {.fd = c->pidfd, .events = POLLIN};

		if (c->fiber < 0) {
			conn_close(d, c);
			return -1;
		}
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		/* its socket closed as it died: its death ends the claim */
		if (poll(&p, 1, 0) == 1) {
			claim_end(d, c, 1, exit_status(c));
			return -1;
		}
		/* an exiting process closes its files before it is gone: it
		 * gets EOF_GRACE_MS to be gone, then it is killed
		 * (ion_claimd_poll) */
		if (c->eof_ms == 0)
			c->eof_ms = now_ms();
	}
	return 0;
}

static void
on_death(struct ion_claimd *d, struct conn *c)
{
	int status;

	/* a FAULT it sent on its way out comes first (and the end of its
	 * socket may end the claim there) */
	if (conn_read(d, c) < 0)
		return;
	status = exit_status(c);
	claim_end(d, c, 1, status);
}

static void
on_accept(struct ion_claimd *d)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	unsigned int i;
	int fd;

	while ((fd = accept4(d->lfd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct conn *c = NULL;

		for (i = 0; i < MAX_CONNS && c == NULL; i++)
			if (d->conns[i].fd < 0)
				c = &d->conns[i];
		if (c == NULL ||
		    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->pidfd = -1;
		c->pid = (uint32_t)cr.pid;
		c->uid = cr.uid;
		c->gid = cr.gid;
		c->fiber = -1;
		c->since_ms = now_ms();
		if (watch(d, fd, EV_CONN, (uint32_t)(c - d->conns)) < 0)
			conn_close(d, c);
	}
}

int
ion_claimd_poll(struct ion_claimd *d)
{
	struct epoll_event ev[16];
	unsigned int i;
	uint64_t now;
	int n, k, work = 0;

	n = epoll_wait(d->epfd, ev, 16, 0);
	for (k = 0; k < n; k++) {
		uint32_t kind = (uint32_t)(ev[k].data.u64 >> 32);
		struct conn *c =
			&d->conns[(uint32_t)ev[k].data.u64 % MAX_CONNS];

		work++;
		if (kind == EV_LISTEN)
			on_accept(d);
		else if (kind == EV_CONN && c->fd >= 0)
			conn_read(d, c);
		else if (kind == EV_PID && c->fd >= 0 && c->fiber >= 0)
			on_death(d, c);
	}
	/* after the events: what they stamped is not in the future */
	now = now_ms();
	for (i = 0; i < MAX_CONNS; i++) {
		struct conn *c = &d->conns[i];

		if (c->fd >= 0 && c->fiber < 0 &&
		    now - c->since_ms > UNCLAIMED_MS)
			conn_close(d, c);
		/* a claimer that let go of its socket without giving its
		 * rings back is ended; its death ends the claim */
		if (c->fd >= 0 && c->eof_ms != 0 &&
		    now - c->eof_ms > EOF_GRACE_MS)
			conn_kill(c, "closed its claim without giving it back");
	}
	return work;
}

int
ion_claimd_open(struct ion_claimd **out, const char *path,
		const struct ion_claimd_ops *ops)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ion_claimd *d;
	unsigned int i;
	int rc;

	if (out == NULL || path == NULL || strlen(path) >= sizeof(sa.sun_path))
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	for (i = 0; i < MAX_CONNS; i++) {
		d->conns[i].fd = d->conns[i].pidfd = -1;
		d->conns[i].fiber = -1;
	}
	if (ops != NULL)
		d->ops = *ops;
	snprintf(d->path, sizeof(d->path), "%s", path);
	memcpy(sa.sun_path, path, strlen(path));
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);
	if (d->epfd < 0 || d->lfd < 0) {
		rc = -errno;
		goto fail;
	}
	unlink(path);
	if (bind(d->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0666) < 0 || listen(d->lfd, 16) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = watch(d, d->lfd, EV_LISTEN, 0);
	if (rc < 0)
		goto fail;
	*out = d;
	return 0;
fail:
	if (d->lfd >= 0) {
		close(d->lfd);
		unlink(path);
	}
	if (d->epfd >= 0)
		close(d->epfd);
	free(d);
	return rc;
}

int
ion_claimd_add(struct ion_claimd *d, const struct ion_claimd_fiber *f)
{
	struct fib *x;
	unsigned int i;

	if (d == NULL || f == NULL || f->name == NULL ||
	    f->n_grants > ION_CSPACE_SLOTS || d->n_fibers == MAX_FIBERS)
		return -EINVAL;
	for (i = 0; i < f->n_grants; i++)
		if (f->grants[i].map == NULL ||
		    f->grants[i].map->part_fd[ION_PART_HDR] < 0 ||
		    f->grants[i].map->perm != ION_PERM_RW)
			return -EINVAL; /* not a split ring of ours */
	x = &d->fibers[d->n_fibers];
	memset(x, 0, sizeof(*x));
	x->conf = *f;
	snprintf(x->name, sizeof(x->name), "%s", f->name);
	x->conf.name = x->name;
	memcpy(x->grants, f->grants, sizeof(*f->grants) * f->n_grants);
	x->conf.grants = x->grants;
	x->dummy_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	x->wake_fd =
		x->dummy_fd < 0 ? -1 : fcntl(x->dummy_fd, F_DUPFD_CLOEXEC, 0);
	if (x->wake_fd < 0) {
		int rc = -errno;

		if (x->dummy_fd >= 0)
			close(x->dummy_fd);
		return rc;
	}
	return (int)d->n_fibers++;
}

int
ion_claimd_wake_fd(const struct ion_claimd *d, unsigned int fiber)
{
	return d != NULL && fiber < d->n_fibers ? d->fibers[fiber].wake_fd
						: -EINVAL;
}

int
ion_claimd_fd(const struct ion_claimd *d)
{
	return d->epfd;
}

int
ion_claimd_kill(struct ion_claimd *d, unsigned int fiber, const char *why)
{
	struct ion_claimd_end e;
	struct fib *f;

	if (d == NULL || fiber >= d->n_fibers)
		return -EINVAL;
	f = &d->fibers[fiber];
	if (f->state == F_CLAIMED) {
		conn_kill(f->conn, why);
		return 0;
	}
	if (f->state == F_KILLED)
		return 0;
	f->state = F_KILLED;
	memset(&e, 0, sizeof(e));
	e.killed = 1;
	e.status = -1;
	snprintf(e.why, sizeof(e.why), "%s", why);
	if (d->ops.ended != NULL)
		d->ops.ended(f->conf.arg, &e);
	return 0;
}

void
ion_claimd_close(struct ion_claimd *d)
{
	unsigned int i;

	if (d == NULL)
		return;
	for (i = 0; i < MAX_CONNS; i++)
		conn_close(d, &d->conns[i]);
	for (i = 0; i < d->n_fibers; i++) {
		close(d->fibers[i].wake_fd);
		close(d->fibers[i].dummy_fd);
	}
	close(d->lfd);
	close(d->epfd);
	unlink(d->path);
	free(d);
}
