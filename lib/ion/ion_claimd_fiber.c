/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The claim server's fibers (ion_claimd.h): the
 * checks of a claim, the rings sent to a claimant, the end of a claim
 * (given back, or its process dead: the ends taken back), the operator's
 * kill.  ion_claimd.c hands it the messages that are well formed and in
 * order.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ion_claimd_impl.h"

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

static int
pidfd_exit_code(int pidfd)
{
	struct pidfd_info info;

	memset(&info, 0, sizeof(info));
	info.mask = PIDFD_INFO_EXIT_BIT;
	if (ioctl(pidfd, PIDFD_GET_INFO_IOCTL, &info) == 0 &&
	    (info.mask & PIDFD_INFO_EXIT_BIT))
		return info.exit_code;
	return -1;
}

/*
 * From its pidfd once it is reaped, from /proc while it is a zombie
 * (checked to be the same process after the read); -1 if neither says.
 */
int
claimd_exit_status(const struct claimd_conn *c)
{
	char path[64], buf[1024], *p;
	FILE *f;
	int code;

	code = pidfd_exit_code(c->pidfd);
	if (code >= 0)
		return code;
	snprintf(path, sizeof(path), "/proc/%u/stat", c->pid);
	f = fopen(path, "r");
	if (f == NULL)
		return pidfd_exit_code(c->pidfd);
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	/* after the command name: state, ..., exit_code the last field */
	p = p != NULL ? strrchr(buf, ')') : NULL;
	if (p == NULL || p[1] != ' ' || p[2] != 'Z')
		return pidfd_exit_code(c->pidfd);
	p = strrchr(buf, ' ');
	code = p != NULL ? atoi(p + 1) : -1;
	/* still our zombie, not a process that took its pid since */
	if (syscall(SYS_pidfd_send_signal, c->pidfd, 0, NULL, 0) == 0)
		return code;
	return pidfd_exit_code(c->pidfd);
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
take_back(struct claimd_fib *f)
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

void
claimd_claim_end(struct ion_claimd *d, struct claimd_conn *c, int killed,
		 int status)
{
	struct claimd_fib *f = &d->fibers[c->fiber];
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
	claimd_conn_close(d, c);
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

static struct claimd_fib *
find(struct ion_claimd *d, const char *name, size_t len)
{
	unsigned int i;

	/* a name that fills its field has no NUL: no fiber has it */
	if (memchr(name, '\0', len) == NULL)
		return NULL;
	for (i = 0; i < d->n_fibers; i++)
		if (strcmp(d->fibers[i].name, name) == 0)
			return &d->fibers[i];
	return NULL;
}

/* The checks of a claim, in order; 0 if it may have the fiber. */
static int
check_claim(struct ion_claimd *d, struct claimd_conn *c,
	    const struct ion_claim_msg *m, const int *fds, unsigned int nfd)
{
	struct claimd_fib *f = find(d, m->name, sizeof(m->name));
	char name[40];

	claimd_printable(name, sizeof(name), m->name, sizeof(m->name));
	if (f == NULL)
		claimd_refuse(d, c, NULL, R_UNKNOWN, "no fiber named '%s'",
			      name);
	else if (f->conf.in_host)
		claimd_refuse(d, c, f, R_IN_HOST,
			      "fiber '%s' runs inside the host: only an "
			      "external fiber can be claimed",
			      name);
	else if (c->uid != f->conf.uid ||
		 (f->conf.gid != ION_CLAIMD_ANY_GID && c->gid != f->conf.gid))
		claimd_refuse(d, c, f, R_DENIED,
			      "uid %u gid %u may not claim fiber '%s' (its "
			      "manifest: uid %u%s)",
			      c->uid, c->gid, f->name, f->conf.uid,
			      f->conf.gid != ION_CLAIMD_ANY_GID ? ", gid set"
								: "");
	else if (f->state == F_CLAIMED)
		claimd_refuse(d, c, f, R_BUSY,
			      "fiber '%s' is claimed by process %u", f->name,
			      f->conn->pid);
	else if (f->state == F_KILLED && !f->conf.restart)
		claimd_refuse(d, c, f, R_DEAD,
			      "fiber '%s' was killed and its manifest does not "
			      "let it restart",
			      f->name);
	else if (nfd > 1 || (nfd == 1 && !is_eventfd(fds[0])))
		claimd_refuse(d, c, f, R_BAD_FD,
			      "a claim carries one eventfd or nothing, not %s",
			      nfd > 1 ? "more descriptors" : "another file");
	else
		return 0;
	return -1;
}

void
claimd_claim(struct ion_claimd *d, struct claimd_conn *c,
	     const struct ion_claim_msg *m, int *fds, unsigned int nfd)
{
	struct claimd_fib *f = find(d, m->name, sizeof(m->name));
	struct ion_claim_msg ok;
	unsigned int i;
	socklen_t len;
	int pidfd = -1;

	if (check_claim(d, c, m, fds, nfd) < 0)
		goto out;
	/* the process itself, whatever becomes of its pid */
	len = sizeof(pidfd);
	if (getsockopt(c->fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0 ||
	    pidfd < 0)
		pidfd = (int)syscall(SYS_pidfd_open, (pid_t)c->pid, 0);
	if (pidfd < 0 ||
	    claimd_watch(d, pidfd, EV_PID, (uint32_t)(c - d->conns)) < 0) {
		if (pidfd >= 0)
			close(pidfd);
		claimd_refuse(d, c, f, R_VANISHED, "cannot watch process %u",
			      c->pid);
		goto out;
	}
	c->pidfd = pidfd;
	if (nfd == 1)
		dup3(fds[0], f->wake_fd, O_CLOEXEC);
	c->fiber = (int)(f - d->fibers);
	d->deadlines_moved = 1; /* its claim is no longer due */
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
	claimd_bump(&d->st.claims);
	if (d->ops.claimed != NULL)
		d->ops.claimed(f->conf.arg, c->pid);
out:
	for (i = 0; i < nfd; i++)
		close(fds[i]);
}

void
claimd_map(struct ion_claimd *d, struct claimd_conn *c,
	   const struct ion_claim_msg *m)
{
	struct claimd_fib *f = &d->fibers[c->fiber];
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
		claimd_send_err(c, -EACCES,
				"fiber '%s' holds no grant \"%s\" on channel "
				"0x%04x: a capability fault",
				f->name, ion_perm_str(m->perm), m->channel);
		snprintf(why, sizeof(why), "asked for 0x%04x %s: not granted",
			 m->channel, ion_perm_str(m->perm));
		claimd_conn_kill(c, why);
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
		claimd_send_err(c, fds[i], "fiber '%s': ring 0x%04x: %s",
				f->name, m->channel, strerror(-fds[i]));
	else
		ion_claim_send(c->fd, &r, fds, nfd, MSG_DONTWAIT);
	for (i = 0; i < nfd; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int
ion_claimd_add(struct ion_claimd *d, const struct ion_claimd_fiber *f)
{
	struct claimd_fib *x;
	unsigned int i;

	if (d == NULL || f == NULL || f->name == NULL ||
	    strlen(f->name) >= sizeof(x->name) ||
	    f->n_grants > ION_CSPACE_SLOTS || d->n_fibers == CLAIMD_MAX_FIBERS)
		return -EINVAL;
	for (i = 0; !f->in_host && i < f->n_grants; i++)
		if (f->grants[i].map == NULL ||
		    f->grants[i].map->part_fd[ION_PART_HDR] < 0 ||
		    f->grants[i].map->perm != ION_PERM_RW)
			return -EINVAL; /* not a split ring of ours */
	x = &d->fibers[d->n_fibers];
	memset(x, 0, sizeof(*x));
	x->conf = *f;
	snprintf(x->name, sizeof(x->name), "%s", f->name);
	x->conf.name = x->name;
	x->wake_fd = x->dummy_fd = -1;
	if (f->in_host) {
		x->conf.n_grants = 0;
		x->conf.grants = NULL;
		return (int)d->n_fibers++;
	}
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
	return d != NULL && fiber < d->n_fibers &&
			       !d->fibers[fiber].conf.in_host
		       ? d->fibers[fiber].wake_fd
		       : -EINVAL;
}

int
ion_claimd_kill(struct ion_claimd *d, unsigned int fiber, const char *why)
{
	struct ion_claimd_end e;
	struct claimd_fib *f;

	if (d == NULL || fiber >= d->n_fibers || d->fibers[fiber].conf.in_host)
		return -EINVAL;
	f = &d->fibers[fiber];
	if (f->state == F_CLAIMED) {
		claimd_conn_kill(f->conn, why);
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
claimd_fibers_close(struct ion_claimd *d)
{
	unsigned int i;

	for (i = 0; i < d->n_fibers; i++) {
		if (d->fibers[i].wake_fd >= 0)
			close(d->fibers[i].wake_fd);
		if (d->fibers[i].dummy_fd >= 0)
			close(d->fibers[i].dummy_fd);
	}
}
