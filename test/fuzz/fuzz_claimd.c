/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: the claim server (ion_claimd.c, ion_claimd_fiber.c) on what
 * its connections send, not only the message parser: accepts, claims,
 * MAP answers with ring files, refusals, kills, deadlines and the end of
 * a claim, on a real socket with the descriptors the bytes ask for.
 *
 * The server knows its peer by SO_PEERCRED and kills a claimant that
 * breaks the protocol, so the connections are not made from this
 * process: a long-lived "puppet" process connects on request and hands
 * the connected socket back (SCM_RIGHTS); the server sees the puppet's
 * pid and kills the puppet, never the fuzzer.  The puppets are forked by
 * a parent of their own, itself forked at the start while the fuzzer is
 * small (cheap forks); it keeps a puppet that died a zombie until the
 * server of the input is closed (its pid is no other process's
 * meanwhile), and a new puppet is forked when a connection is wanted.
 * When the fuzzer dies, the parent removes the server's socket file and
 * exits, and the puppets with it.
 *
 * Each input opens a server (first_ms 10, per_uid 2) with fibers "app"
 * (our uid, may restart: READ on ring 1, WRITE on ring 2 with a host
 * eventfd), "once" (our uid, no restart: READ on ring 1), "strict"
 * (uid 65534) and "inside" (in the host), then reads messages:
 *
 *   control byte c: c & 3 is a connection 0..2 (opened when first used,
 *     again after it closed), or 3: an action, by c >> 2: 0..3 SIGKILL
 *     the puppet, 4..7 the puppet exits (status c >> 2 & 3), 8..11 close
 *     every connection, 12..23 open connection (c >> 2) % 3 and send
 *     nothing, 24..27 the operator kills fiber (c >> 2) - 24 (app once
 *     strict inside; ion_claimd_kill()), 28 a fiber there is not, 63
 *     serve until no connection of ours waits to claim (the server
 *     refused them late: first_ms, once an input), else poll again.  For
 *     a connection:
 *     (c >> 2) & 7 the descriptors attached: 0 none, 1 an eventfd, 2 a
 *     pipe's end, 3 two eventfds, 4 five eventfds (more than fit), else
 *     none; c & 0x20 raw, else structured; c & 0x40 no poll after it (the
 *     next messages queue up); c & 0x80 close the connection after it.
 *   structured: a byte o: op o & 7 (0 is none; 2, 3, 5 are the
 *     host's), o & 0x08 a wrong magic, o & 0x10 a version from the next
 *     byte, o & 0x20 1..16 bytes too long, o & 0x40 1..16 bytes short.
 *     CLAIM: a byte naming app strict inside once nope "" a full field
 *     with no NUL, or (7) 32 bytes of the input.  MAP and FAULT: a byte,
 *     & 3 the channel (ring 1's, ring 2's, 0, or 4 bytes), >> 2 & 3 the
 *     perm, & 0x10 the perm from 4 bytes instead.
 *   raw: a 2-byte length (at most twice a message) and that many bytes.
 *
 * After each message the server is polled and every answer read (every
 * descriptor received closed).  At the end, claims are given back (BYE),
 * the connections closed and the puppet killed if a claim is still open,
 * until the server has no connection left.  Checked: the refusals add up
 * by reason and were each told once; every claim ended; a refusal names
 * the right fiber and our uid and no control character; what the server
 * sends is a message of the protocol; OK carries a manifest's grants,
 * RING only a granted channel and perm, with files writable exactly as
 * the grant allows; nothing claimed is ever this process; no descriptor
 * of this process leaks.  And a message to a connection waiting to claim,
 * sent while the server was idle, is answered as the protocol says (an
 * oracle, expect()): refused once for its length, descriptors, magic,
 * version, order, name, uid or the fiber's state, and its connection
 * closed, or claimed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ion_claimd.h>
#include <ion_ring.h>

#include "ion_claim_proto.h"

#define CH_1	    0x0602 /* "app", "once": READ */
#define CH_2	    0x0603 /* "app": WRITE, with the host's eventfd */
#define SLOTS	    3
#define MAX_MSGS    64
#define MAX_PUPPETS 48
#define FIRST_MS    10
#define PER_UID	    2
#define END_MS	    2000 /* the server must see every end within */
#define OTHER_UID   65534u

enum { FB_APP, FB_ONCE, FB_STRICT, FB_INSIDE, FB_COUNT };

static const char *const fb_names[FB_COUNT] = {"app", "once", "strict",
					       "inside"};

/* ---- state kept across inputs ------------------------------------- */

static struct ion_ring_map ring1, ring2;
static int host_efd = -1;
static char sock_path[108];
static int master_sp = -1; /* the puppets' parent */
static pid_t puppet = -1;  /* the current one, or -1 */
static int puppet_sp = -1, puppet_pidfd = -1;

/* ---- state of one input --------------------------------------------- */

struct slot {
	int fd; /* -1: not open */
	struct timespec opened;
	int claimed;
	unsigned int n_grants;
	struct ion_claim_grant grants[ION_CSPACE_SLOTS];
};

static struct {
	struct ion_claimd *d;
	struct slot s[SLOTS];
	pid_t pids[MAX_PUPPETS + 1]; /* every puppet of this input */
	unsigned int n_pids;
	uint64_t refused, claimed, ended;
	int fb_claimed[FB_COUNT];
	int fb_killed[FB_COUNT];
	int slept;
	int quiet;   /* the server had nothing left to do at its last poll */
	int killing; /* in ion_claimd_kill() */
} it;

static uint32_t
uid_of(int fb)
{
	return fb == FB_STRICT ? OTHER_UID : (uint32_t)getuid();
}

static void die(const char *what) __attribute__((noreturn));

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_claimd: %s\n", what);
	abort();
}

static int
known_pid(uint32_t pid)
{
	unsigned int i;

	for (i = 0; i < it.n_pids; i++)
		if ((uint32_t)it.pids[i] == pid)
			return 1;
	return 0;
}

/* ---- the server's callbacks ---------------------------------------- */

/* A fiber's arg is its index + 1: NULL stands for none. */

static void
on_claimed(void *arg, uint32_t pid)
{
	int fb = (int)(intptr_t)arg - 1;

	if (pid == (uint32_t)getpid() || !known_pid(pid))
		die("claimed by a process that is no puppet");
	if (fb < 0 || fb >= FB_COUNT || fb == FB_INSIDE ||
	    uid_of(fb) != (uint32_t)getuid())
		die("a fiber claimed that nobody here may claim");
	if (it.fb_claimed[fb])
		die("a fiber claimed twice");
	if (fb != FB_APP && it.fb_killed[fb])
		die("a fiber restarted whose manifest says no");
	it.fb_claimed[fb] = 1;
	it.claimed++;
}

static void
on_ended(void *arg, const struct ion_claimd_end *e)
{
	int fb = (int)(intptr_t)arg - 1;

	if (fb < 0 || fb >= FB_COUNT)
		die("a claim ended of a fiber not ours");
	if (memchr(e->why, '\0', sizeof(e->why)) == NULL)
		die("an end's why is not a string");
	if (!it.fb_claimed[fb]) {
		/* the operator killed it, unclaimed */
		if (!it.killing || !e->killed)
			die("a claim ended that was not claimed");
		it.fb_killed[fb] = 1;
		return;
	}
	it.fb_claimed[fb] = 0;
	it.fb_killed[fb] = e->killed;
	it.ended++;
}

static void
on_refused(void *arg, uint32_t uid, uint32_t pid, int err, const char *why)
{
	int fb = arg == NULL ? -1 : (int)(intptr_t)arg - 1;

	it.refused++;
	if (uid != (uint32_t)getuid() || pid == (uint32_t)getpid() ||
	    !known_pid(pid))
		die("a refusal names another peer than a puppet");
	if (strpbrk(why, "\n\r\x1b") != NULL)
		die("a refusal's sentence carries a control character");
	if (fb < -1 || fb >= FB_COUNT)
		die("a refusal's fiber is none of ours");
	switch (err) {
	case -ENOENT:
		if (fb != -1)
			die("ENOENT for a fiber of ours");
		break;
	case -EPERM:
		if (fb != FB_INSIDE)
			die("EPERM for a fiber not in the host");
		break;
	case -EACCES:
		if (fb < 0 || uid_of(fb) == uid)
			die("EACCES for the uid the manifest names");
		break;
	case -EBUSY:
		if (fb < 0 || !it.fb_claimed[fb])
			die("EBUSY for a fiber not claimed");
		break;
	case -ESRCH: /* dead, or could not be watched */
	case -EINVAL:
	case -EMSGSIZE:
	case -EPROTO:
	case -EPROTONOSUPPORT:
	case -EBADMSG:
	case -ETIMEDOUT:
	case -EAGAIN:
		break;
	default:
		die("a refusal with an errno of no reason");
	}
}

/* ---- the puppets ---------------------------------------------------- */

/* A puppet: connects to the path asked and hands the socket back. */
static void
puppet_main(int sp)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		union {
			char b[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} u;
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		char st = 0;
		struct iovec iov = {.iov_base = &st, .iov_len = 1};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n;
		int s;

		n = recv(sp, sa.sun_path, sizeof(sa.sun_path) - 1, 0);
		if (n <= 0)
			_exit(0);
		if (sa.sun_path[0] == '!')
			_exit(n > 1 ? sa.sun_path[1] : 0);
		s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		if (s >= 0 &&
		    connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			struct cmsghdr *c;

			memset(&u, 0, sizeof(u));
			mh.msg_control = u.b;
			mh.msg_controllen = sizeof(u.b);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &s, sizeof(s));
		} else {
			st = 1;
		}
		if (sendmsg(sp, &mh, MSG_NOSIGNAL) < 0)
			_exit(0);
		if (s >= 0)
			close(s);
	}
}

/* Send @len bytes and @fd (or -1) on @sp. */
static int
send_fd(int sp, const void *buf, size_t len, int fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = sizeof(u.b);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	}
	return sendmsg(sp, &mh, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/* Receive at most @len bytes and one descriptor (*fd, or -1). */
static ssize_t
recv_fd(int sp, void *buf, size_t len, int *fd)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 2)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.b,
			    .msg_controllen = sizeof(u.b)};
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sp, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	c = n < 0 ? NULL : CMSG_FIRSTHDR(&mh);
	if (c != NULL && c->cmsg_level == SOL_SOCKET &&
	    c->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(c), sizeof(*fd));
	return n;
}

/* A new puppet: its pid and our end of a socket to it in *sp. */
static pid_t
puppet_fork(int *sp)
{
	int ps[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ps) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(ps[1], 3);
		close_range(4, ~0u, 0);
		puppet_main(3);
	}
	close(ps[1]);
	if (pid < 0)
		close(ps[0]);
	else
		*sp = ps[0];
	return pid;
}

/*
 * The puppets' parent, forked before the fuzzing starts, while this
 * process is small (a fork of the fuzzer later costs milliseconds, of it
 * a fraction of one).  'S': a puppet, its pid and our end of a socket to
 * it (one is forked ahead, while the fuzzer goes on); 'R': reap the
 * puppets that died (until then they are zombies: the server's pid of
 * one is no other process's).
 */
static void
master_main(int sp)
{
	pid_t kids[MAX_PUPPETS + 8], spare = -1;
	unsigned int n_kids = 0, i;
	int spare_sp = -1;

	for (;;) {
		pid_t pid = 0;
		char op;

		/* the fuzzer is gone: if it died in an input, its server's
		 * socket file is left (the puppets die with us) */
		if (recv(sp, &op, 1, 0) <= 0) {
			unlink(sock_path);
			_exit(0);
		}
		if (op == 'R') {
			for (i = 0; i < n_kids;)
				if (kids[i] != spare &&
				    waitpid(kids[i], NULL, WNOHANG) == kids[i])
					kids[i] = kids[--n_kids];
				else
					i++;
		} else if (spare < 0 && n_kids < MAX_PUPPETS + 8) {
			spare = puppet_fork(&spare_sp);
			if (spare > 0)
				kids[n_kids++] = spare;
		}
		if (op == 'S' && spare > 0)
			pid = spare;
		if (send_fd(sp, &pid, sizeof(pid), pid > 0 ? spare_sp : -1) < 0)
			_exit(0);
		if (pid > 0) {
			close(spare_sp);
			spare = -1;
			if (n_kids < MAX_PUPPETS + 8) {
				spare = puppet_fork(&spare_sp);
				if (spare > 0)
					kids[n_kids++] = spare;
			}
		}
	}
}

static void
master_start(void)
{
	int sp[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0 ||
	    (pid = fork()) < 0)
		die("cannot fork the puppets' parent");
	if (pid == 0) {
		/* nothing of the fuzzer's but its socket */
		dup2(sp[1], 3);
		close_range(4, ~0u, 0);
		master_main(3);
	}
	close(sp[1]);
	master_sp = sp[0];
}

static int
puppet_dead(void)
{
	struct pollfd p = {.fd = puppet_pidfd, .events = POLLIN};

	return poll(&p, 1, 0) != 0;
}

static void
puppet_kill(void)
{
	if (puppet > 0)
		syscall(SYS_pidfd_send_signal, puppet_pidfd, SIGKILL, NULL, 0);
}

static void
puppet_drop(void)
{
	if (puppet > 0) {
		close(puppet_sp);
		close(puppet_pidfd);
	}
	puppet = -1;
	puppet_sp = puppet_pidfd = -1;
}

static int
puppet_spawn(void)
{
	pid_t pid = 0;
	int fd;

	if (send(master_sp, "S", 1, MSG_NOSIGNAL) < 0 ||
	    recv_fd(master_sp, &pid, sizeof(pid), &fd) != sizeof(pid))
		die("the puppets' parent is gone");
	if (pid <= 0 || fd < 0)
		return -1;
	puppet_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (puppet_pidfd < 0)
		die("cannot watch a puppet");
	puppet = pid;
	puppet_sp = fd;
	return 0;
}

/* The puppets that died are reaped: no server may name one any more. */
static void
puppets_reap(void)
{
	pid_t r;
	int none;

	if (send(master_sp, "R", 1, MSG_NOSIGNAL) < 0 ||
	    recv_fd(master_sp, &r, sizeof(r), &none) != sizeof(r))
		die("the puppets' parent is gone");
}

/* Between inputs: a puppet that died is replaced. */
static void
puppet_ensure(void)
{
	if (puppet > 0 && puppet_dead()) {
		puppet_drop();
		puppets_reap();
	}
	if (puppet < 0 && puppet_spawn() < 0)
		die("cannot fork a puppet");
}

/* During an input: a new one takes over from the one that is dying. */
static int
puppet_replace(void)
{
	if (it.n_pids > MAX_PUPPETS)
		return -1;
	if (puppet > 0) {
		struct pollfd p = {.fd = puppet_pidfd, .events = POLLIN};

		/* its socket closed: it is dying */
		if (poll(&p, 1, 1000) == 0) {
			puppet_kill();
			poll(&p, 1, -1);
		}
		puppet_drop();
	}
	if (puppet_spawn() < 0)
		return -1;
	it.pids[it.n_pids++] = puppet;
	return 0;
}

/* A new connection to the server, from the puppet: its fd, or -1. */
static int
puppet_connect(void)
{
	int tries;

	for (tries = 0; tries < 3; tries++) {
		ssize_t n = -1;
		char st = 1;
		int fd = -1;

		if ((puppet < 0 || puppet_dead()) && puppet_replace() < 0)
			return -1;
		if (send(puppet_sp, sock_path, strlen(sock_path),
			 MSG_NOSIGNAL) > 0)
			n = recv_fd(puppet_sp, &st, 1, &fd);
		if (n <= 0) {
			/* killed under the request: a new one is asked */
			if (puppet_replace() < 0)
				return -1;
			continue;
		}
		if (st != 0 || fd < 0)
			die("the puppet could not connect to the server");
		return fd;
	}
	return -1;
}

/* ---- talking to the server ------------------------------------------ */

static void
check_stats(void)
{
	struct ion_claimd_stats st;

	ion_claimd_stats(it.d, &st);
	if (st.refused != st.unknown + st.in_host + st.denied + st.busy +
				  st.dead + st.vanished + st.bad_fd +
				  st.bad_length + st.bad_magic +
				  st.bad_version + st.out_of_order + st.late +
				  st.uid_limit + st.full)
		die("the refusals do not add up by reason");
	if (st.refused != it.refused)
		die("a refusal not told once to the host");
	if (st.claims != it.claimed || it.ended > it.claimed)
		die("claims and their ends do not add up");
	if (st.open > st.connections)
		die("more connections open than accepted");
}

static void
slot_close(struct slot *s)
{
	if (s->fd >= 0)
		close(s->fd);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

static int
slot_open(struct slot *s)
{
	clock_gettime(CLOCK_MONOTONIC, &s->opened);
	s->fd = puppet_connect();
	return s->fd;
}

static int
access_mode(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 ? -1 : fl & O_ACCMODE;
}

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

/* The grants of an OK: one manifest's, exactly. */
static void
check_ok(struct slot *s, const struct ion_claim_msg *m)
{
	static const struct ion_claim_grant app[] = {{CH_1, ION_PERM_READ},
						     {CH_2, ION_PERM_WRITE}};
	static const struct ion_claim_grant once[] = {{CH_1, ION_PERM_READ}};

	if (m->pid != (uint32_t)getpid())
		die("OK names another host");
	if (!(m->n == 2 && memcmp(m->grants, app, sizeof(app)) == 0) &&
	    !(m->n == 1 && memcmp(m->grants, once, sizeof(once)) == 0))
		die("OK carries grants of no manifest");
	if (s->claimed)
		die("OK twice on one connection");
	s->claimed = 1;
	s->n_grants = m->n;
	memcpy(s->grants, m->grants, sizeof(*m->grants) * m->n);
}

/* A RING: a channel granted, with files writable as the grant says. */
static void
check_ring(const struct slot *s, const struct ion_claim_msg *m, const int *fds,
	   unsigned int nfd)
{
	unsigned int i, wake = (m->flags & ION_CLAIM_F_WAKE) != 0;
	int ok = 0;

	if (!s->claimed)
		die("RING before OK");
	for (i = 0; i < s->n_grants; i++)
		ok |= s->grants[i].channel == m->channel && m->perm != 0 &&
		      (m->perm & ~s->grants[i].perm) == 0;
	if (!ok)
		die("RING of a channel or perm not granted");
	if (nfd != 3 + wake || (m->flags & ~ION_CLAIM_F_WAKE) != 0)
		die("RING with other descriptors than a ring's");
	if (access_mode(fds[ION_PART_HDR]) != O_RDONLY ||
	    access_mode(fds[ION_PART_CONS]) !=
		    ((m->perm & ION_PERM_READ) ? O_RDWR : O_RDONLY) ||
	    access_mode(fds[ION_PART_PROD]) !=
		    ((m->perm & ION_PERM_WRITE) ? O_RDWR : O_RDONLY))
		die("a ring's file writable beyond the grant");
	if (wake && !is_eventfd(fds[3]))
		die("a ring's wake descriptor is not an eventfd");
}

/* Read every answer waiting on @s, closing what it carries. */
static void
drain(struct slot *s)
{
	int reset = 0;

	while (s->fd >= 0) {
		union {
			char b[CMSG_SPACE(sizeof(int) * 8)];
			struct cmsghdr align;
		} u;
		struct ion_claim_msg m;
		struct iovec iov = {.iov_base = &m, .iov_len = sizeof(m)};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = u.b,
				    .msg_controllen = sizeof(u.b)};
		int fds[8];
		unsigned int nfd = 0, i;
		struct cmsghdr *c;
		ssize_t n;

		n = recvmsg(s->fd, &mh,
			    MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
		/* a server that closed with a message of ours unread resets
		 * the socket, reported before what it had sent */
		if (n < 0 && errno == ECONNRESET && !reset) {
			reset = 1;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR) && !reset)
			return;
		if (n <= 0) {
			slot_close(s); /* the server hung up */
			return;
		}
		for (c = CMSG_FIRSTHDR(&mh); c != NULL;
		     c = CMSG_NXTHDR(&mh, c)) {
			unsigned int k, got;

			if (c->cmsg_level != SOL_SOCKET ||
			    c->cmsg_type != SCM_RIGHTS)
				continue;
			got = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) /
					     sizeof(int));
			for (k = 0; k < got && nfd < 8; k++)
				memcpy(&fds[nfd++],
				       CMSG_DATA(c) + k * sizeof(int),
				       sizeof(int));
		}
		if ((size_t)n != sizeof(m) || (mh.msg_flags & MSG_CTRUNC) ||
		    m.magic != ION_CLAIM_MAGIC ||
		    m.version != ION_CLAIM_VERSION)
			die("the server sent what is not a message");
		switch (m.op) {
		case ION_CLAIM_OK:
			if (nfd != 0)
				die("OK with descriptors");
			check_ok(s, &m);
			break;
		case ION_CLAIM_ERR:
			if (nfd != 0 || m.err >= 0 ||
			    memchr(m.text, '\0', sizeof(m.text)) == NULL)
				die("a malformed ERR");
			break;
		case ION_CLAIM_RING:
			check_ring(s, &m, fds, nfd);
			break;
		default:
			die("the server sent an op of the client's");
		}
		for (i = 0; i < nfd; i++)
			close(fds[i]);
	}
}

/* Poll @rounds times, and on while there is work (a few more at most):
 * then read the answers. */
static void
serve(int rounds)
{
	int i, work = 1;

	for (i = 0; i < rounds || (work != 0 && i < rounds + 4); i++)
		work = ion_claimd_poll(it.d);
	it.quiet = work == 0;
	for (i = 0; i < SLOTS; i++)
		drain(&it.s[i]);
	check_stats();
}

/* ---- the input ------------------------------------------------------ */

struct in {
	const uint8_t *p;
	size_t left;
};

static uint8_t
byte(struct in *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

static uint32_t
word(struct in *in)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++)
		v |= (uint32_t)byte(in) << (8 * i);
	return v;
}

static void
take(struct in *in, void *to, size_t n)
{
	size_t k = n < in->left ? n : in->left;

	memcpy(to, in->p, k);
	memset((char *)to + k, 0, n - k);
	in->p += k;
	in->left -= k;
}

/* A structured message: a message of the protocol, bent as told. */
static size_t
structured(struct in *in, uint8_t *buf)
{
	static const char *const names[] = {"app",  "strict", "inside",
					    "once", "nope",   ""};
	struct ion_claim_msg m;
	uint8_t o = byte(in);
	size_t len = sizeof(m);

	ion_claim_msg_init(&m, ION_CLAIM_CLAIM);
	m.op = o & 7;
	if (o & 0x08)
		m.magic ^= 0x01000000u;
	if (o & 0x10)
		m.version = byte(in);
	if (m.op == ION_CLAIM_CLAIM) {
		uint8_t n = byte(in) & 7;

		if (n < 6) {
			memcpy(m.name, names[n], strlen(names[n]));
		} else if (n == 6) {
			memset(m.name, 'x', sizeof(m.name));
			memcpy(m.name, "app", 3);
		} else {
			take(in, m.name, sizeof(m.name));
		}
	} else if (m.op == ION_CLAIM_MAP || m.op == ION_CLAIM_FAULT) {
		uint8_t b = byte(in);
		static const uint32_t ch[] = {CH_1, CH_2, 0};

		m.channel = (b & 3) < 3 ? ch[b & 3] : word(in);
		m.perm = (b & 0x10) ? word(in) : (uint32_t)(b >> 2) & 3;
		if (m.op == ION_CLAIM_FAULT)
			m.addr = 0x1000u * (b >> 5);
	}
	memcpy(buf, &m, sizeof(m));
	if (o & 0x20) {
		size_t extra = 1 + (byte(in) & 15);

		memset(buf + len, 'x', extra);
		len += extra;
	}
	if (o & 0x40)
		len -= 1 + (byte(in) & 15);
	return len;
}

/* Send one datagram of @len bytes with the descriptors @what asks for. */
static void
send_with(int sock, const uint8_t *buf, size_t len, unsigned int what)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 5)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	int fds[5], nfd = 0, p[2], i;

	switch (what) {
	case 1:
		fds[nfd++] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		break;
	case 2:
		if (pipe2(p, O_CLOEXEC) == 0) {
			fds[nfd++] = p[0];
			close(p[1]);
		}
		break;
	case 3:
	case 4:
		for (i = 0; i < (what == 3 ? 2 : 5); i++)
			fds[nfd++] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		break;
	default:
		break;
	}
	for (i = 0; i < nfd; i++)
		if (fds[i] < 0)
			die("out of descriptors");
	if (nfd > 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfd);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfd);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfd);
	}
	/* EPIPE and the like: the server has closed it; drain() sees */
	if (sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
	}
	for (i = 0; i < nfd; i++)
		close(fds[i]);
}

static long
since_us(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000;
}

/* Serve until no connection of ours waits to claim (the server refused
 * the late ones), FIRST_MS + 1 at most; at once if none waits. */
static void
sleep_past_deadlines(void)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = {.fd = ion_claimd_fd(it.d), .events = POLLIN};
		unsigned int i, waiting = 0;
		long us;

		serve(1);
		for (i = 0; i < SLOTS; i++)
			waiting += it.s[i].fd >= 0 && !it.s[i].claimed;
		us = since_us(&t0);
		if (waiting == 0 || us > (FIRST_MS + 1) * 1000)
			break;
		poll(&p, 1, (int)((FIRST_MS + 1) * 1000 - us) / 1000 + 1);
	}
}

static void
action(uint8_t c)
{
	unsigned int a = c >> 2, i;

	if (a == 63 && !it.slept) {
		it.slept = 1;
		sleep_past_deadlines();
	} else if (a < 4) {
		puppet_kill();
		serve(2);
	} else if (a < 8) {
		/* it exits on its own, with status a & 3 */
		char bye[2] = {'!', (char)(a & 3)};

		if (puppet > 0 && send(puppet_sp, bye, 2, MSG_NOSIGNAL) < 0) {
			/* dead already */
		}
		serve(2);
	} else if (a < 12) {
		for (i = 0; i < SLOTS; i++)
			slot_close(&it.s[i]);
		serve(2);
	} else if (a < 24) {
		/* a connection that says nothing (yet) */
		struct slot *s = &it.s[a % SLOTS];

		if (s->fd < 0)
			slot_open(s);
		serve(1);
	} else if (a < 29) {
		/* the operator's kill: 28 names no fiber */
		int rc;

		it.killing = 1;
		rc = ion_claimd_kill(it.d, a - 24, "killed by the operator");
		it.killing = 0;
		if (rc != (a - 24 >= FB_INSIDE ? -EINVAL : 0))
			die("ion_claimd_kill() answers otherwise");
		serve(2);
	} else {
		serve(1);
	}
}

/* What the server may make of a message to a connection waiting to
 * claim, as refusal reasons X_* (stats order) or X_CLAIMED, a mask. */
enum {
	X_UNKNOWN,
	X_IN_HOST,
	X_DENIED,
	X_BUSY,
	X_DEAD,
	X_VANISHED,
	X_BAD_FD,
	X_BAD_LENGTH,
	X_BAD_MAGIC,
	X_BAD_VERSION,
	X_OUT_OF_ORDER,
	X_LATE,
	X_UID_LIMIT,
	X_FULL,
	X_CLAIMED,
};

#define ST(f) offsetof(struct ion_claimd_stats, f)
static const size_t reason_ctr[X_CLAIMED + 1] = {
	ST(unknown),   ST(in_host),	ST(denied),	  ST(busy),
	ST(dead),      ST(vanished),	ST(bad_fd),	  ST(bad_length),
	ST(bad_magic), ST(bad_version), ST(out_of_order), ST(late),
	ST(uid_limit), ST(full),	ST(claims)};
#undef ST

static uint64_t
ctr(const struct ion_claimd_stats *st, unsigned int x)
{
	uint64_t v;

	memcpy(&v, (const char *)st + reason_ctr[x], sizeof(v));
	return v;
}

/* In the order of the server's checks (ion_claim_recv(), handle(),
 * check_claim()); a claimant that dies meanwhile may free its fiber. */
static unsigned int
expect(const uint8_t *buf, size_t len, unsigned int fds)
{
	struct ion_claim_msg m;
	unsigned int rest;
	int fb = -1, i;

	if (len != sizeof(m))
		return 1u << X_BAD_LENGTH;
	if (fds == 4)
		return 1u << X_BAD_FD; /* more than a message carries */
	memcpy(&m, buf, sizeof(m));
	if (m.magic != ION_CLAIM_MAGIC)
		return 1u << X_BAD_MAGIC;
	if (m.version != ION_CLAIM_VERSION)
		return 1u << X_BAD_VERSION;
	if (m.op != ION_CLAIM_CLAIM)
		return 1u << X_OUT_OF_ORDER;
	for (i = 0;
	     memchr(m.name, '\0', sizeof(m.name)) != NULL && i < FB_COUNT; i++)
		if (strcmp(m.name, fb_names[i]) == 0)
			fb = i;
	if (fb < 0)
		return 1u << X_UNKNOWN;
	if (fb == FB_INSIDE)
		return 1u << X_IN_HOST;
	if (uid_of(fb) != (uint32_t)getuid())
		return 1u << X_DENIED;
	/* a pipe's end, two eventfds: not one eventfd or nothing */
	rest = fds == 2 || fds == 3 ? 1u << X_BAD_FD
				    : 1u << X_CLAIMED | 1u << X_VANISHED;
	if (it.fb_claimed[fb])
		return 1u << X_BUSY | (fb == FB_APP ? rest : 1u << X_DEAD);
	if (fb != FB_APP && it.fb_killed[fb])
		return 1u << X_DEAD;
	return rest;
}

/* The server made @what of it: one refusal (besides late ones) or one
 * claim, as expected; a refused connection is closed. */
static void
check_answer(const struct ion_claimd_stats *a, const struct ion_claimd_stats *b,
	     unsigned int what, const struct slot *s)
{
	uint64_t refused = b->refused - a->refused;
	unsigned int x, got = X_CLAIMED + 1;

	if (b->late != a->late)
		return; /* its deadline may have come first */
	for (x = 0; x <= X_CLAIMED; x++)
		if (ctr(b, x) != ctr(a, x)) {
			if (got <= X_CLAIMED)
				die("one message answered twice");
			got = x;
		}
	if (got > X_CLAIMED || refused != (got == X_CLAIMED ? 0 : 1) ||
	    ctr(b, got) != ctr(a, got) + 1) {
		fprintf(stderr, "fuzz_claimd: expected 0x%x\n", what);
		die("a message to a waiting connection not answered once");
	}
	if (!(what & 1u << got)) {
		fprintf(stderr, "fuzz_claimd: expected 0x%x, got %u\n", what,
			got);
		die("a message answered otherwise than the protocol says");
	}
	if (got != X_CLAIMED && s->fd >= 0)
		die("a refused connection left open");
}

static void
message(struct in *in)
{
	static uint8_t buf[2 * sizeof(struct ion_claim_msg)];
	struct ion_claimd_stats before, after;
	uint8_t c = byte(in);
	struct slot *s = &it.s[c & 3];
	unsigned int what = 0;
	int oracle;
	size_t len;

	if ((c & 3) == 3) {
		action(c);
		return;
	}
	if (s->fd < 0) {
		if (slot_open(s) < 0)
			return;
		serve(1); /* accepted (or refused at once) */
		if (s->fd < 0)
			return;
	}
	if (c & 0x20) {
		len = (byte(in) | (size_t)byte(in) << 8) % (sizeof(buf) + 1);
		take(in, buf, len);
	} else {
		len = structured(in, buf);
	}
	/* a connection waiting to claim, the server idle, an answer to be
	 * had at once: the answer is known */
	oracle = !s->claimed && it.quiet && !(c & 0xc0) &&
		 since_us(&s->opened) < FIRST_MS * 500;
	if (oracle) {
		what = expect(buf, len, (c >> 2) & 7);
		ion_claimd_stats(it.d, &before);
	}
	send_with(s->fd, buf, len, (c >> 2) & 7);
	it.quiet = 0;
	if (c & 0x80)
		slot_close(s);
	if (!(c & 0x40))
		serve(2);
	if (oracle) {
		ion_claimd_stats(it.d, &after);
		check_answer(&before, &after, what, s);
	}
}

/* Give back, hang up, kill if need be: until the server holds nothing. */
static void
finish(void)
{
	struct ion_claimd_stats st;
	struct timespec t0;
	unsigned int i;
	int killed = 0;

	for (i = 0; i < SLOTS; i++)
		if (it.s[i].fd >= 0 && it.s[i].claimed) {
			struct ion_claim_msg m;

			ion_claim_msg_init(&m, ION_CLAIM_BYE);
			send_with(it.s[i].fd, (const uint8_t *)&m, sizeof(m),
				  0);
		}
	serve(2);
	for (i = 0; i < SLOTS; i++)
		slot_close(&it.s[i]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0;; i++) {
		struct pollfd p = {.fd = ion_claimd_fd(it.d), .events = POLLIN};

		serve(1);
		ion_claimd_stats(it.d, &st);
		if (st.open == 0)
			break;
		/* a claimant that hung up without BYE and lives on */
		if (i >= 2 && !killed) {
			killed = 1;
			puppet_kill();
		}
		if (since_us(&t0) > END_MS * 1000)
			die("the server did not see every connection end");
		poll(&p, 1, i < 2 ? 0 : 10);
	}
	if (it.ended != it.claimed)
		die("a claim never ended although its connection did");
}

static int
count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (dir == NULL)
		die("cannot read /proc/self/fd");
	while ((e = readdir(dir)) != NULL)
		n++;
	closedir(dir);
	return n;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ion_ring_params p1 = {
		.channel = CH_1, .capacity = 64, .slot_size = 64, .name = "in"};
	struct ion_ring_params p2 = {.channel = CH_2,
				     .capacity = 64,
				     .slot_size = 64,
				     .name = "out"};

	(void)argc;
	(void)argv;
	/* tmpfs if there is one: a socket file on ext4 costs a bind more
	 * than all the rest of an input */
	snprintf(sock_path, sizeof(sock_path), "%s/ion-fuzz-claimd.%d.sock",
		 access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp",
		 (int)getpid());
	master_start();
	host_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (host_efd < 0 || ion_ring_create_split(&ring1, "in", &p1, 0) != 0 ||
	    ion_ring_create_split(&ring2, "out", &p2, 0) != 0)
		die("cannot create the rings");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ion_claimd_ops ops = {.claimed = on_claimed,
					   .ended = on_ended,
					   .refused = on_refused};
	const struct ion_claimd_conf conf = {.path = sock_path,
					     .gid = ION_CLAIMD_HOST_GID,
					     .per_uid = PER_UID,
					     .first_ms = FIRST_MS};
	const struct ion_claimd_grant g_app[] = {
		{CH_1, ION_PERM_READ, &ring1, -1},
		{CH_2, ION_PERM_WRITE, &ring2, host_efd}};
	struct in in = {data, size};
	unsigned int i, n;
	int fds0;

	puppet_ensure();
	memset(&it, 0, sizeof(it));
	for (i = 0; i < SLOTS; i++)
		it.s[i].fd = -1;
	it.pids[it.n_pids++] = puppet;
	fds0 = count_fds();
	if (ion_claimd_open(&it.d, &conf, &ops) != 0)
		die("cannot open the server");
	for (i = 0; i < FB_COUNT; i++) {
		struct ion_claimd_fiber f = {.name = fb_names[i],
					     .in_host = i == FB_INSIDE,
					     .uid = uid_of((int)i),
					     .gid = ION_CLAIMD_ANY_GID,
					     .restart = i == FB_APP,
					     .n_grants = i == FB_APP ? 2 : 1,
					     .grants = g_app,
					     .arg = (void *)(intptr_t)(i + 1)};

		if (ion_claimd_add(it.d, &f) != (int)i)
			die("cannot add a fiber");
		/* the slot the host's ends write: one for an external fiber */
		if (i == FB_INSIDE ? ion_claimd_wake_fd(it.d, i) != -EINVAL
				   : !is_eventfd(ion_claimd_wake_fd(it.d, i)))
			die("a fiber's wake descriptor is not as it should be");
	}
	if (ion_claimd_wake_fd(it.d, FB_COUNT) != -EINVAL)
		die("a wake descriptor of no fiber");
	for (n = 0; n < MAX_MSGS && in.left > 0; n++)
		message(&in);
	finish();
	check_stats();
	ion_claimd_close(it.d);
	if (it.n_pids > 1)
		puppets_reap();
	if (count_fds() != fds0)
		die("a descriptor leaked");
	return 0;
}
