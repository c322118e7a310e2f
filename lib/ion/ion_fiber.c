/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An external fiber's side of a claim (ion_fiber.h):
 * claim the fiber from its host, map each granted ring with the
 * protection of its grant, put it in a CSpace; and the SIGSEGV handler
 * that tells the host which ring a write it was not allowed hit.
 * Control path only.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ion_claim_proto.h"
#include "ion_ring.h"

/* ---- telling the host about a write the grant did not allow ---- */

/* Every ring mapped by an attached fiber of this process, for the
 * handler: entries are filled before n_regs counts them, and a detached
 * ring's entry is cleared (hi = 0), never reused. */
#define REG_MAX 256

static struct reg {
	uintptr_t lo, hi; /* the ring's mapping */
	const struct ion_ring *ring;
	uint32_t channel;
	uint32_t perm;
	int sock;
} regs[REG_MAX];
static unsigned int n_regs;
static struct sigaction prev_segv;
static int segv_installed;

static void
reg_add(const struct ion_fiber *f, const struct ion_fiber_ring *r)
{
	unsigned int i = __atomic_load_n(&n_regs, __ATOMIC_RELAXED);

	if (i == REG_MAX)
		return; /* no report for it, the fault still kills */
	regs[i].lo = (uintptr_t)r->map.ring;
	regs[i].ring = r->map.ring;
	regs[i].channel = r->channel;
	regs[i].perm = r->perm;
	regs[i].sock = f->sock;
	__atomic_store_n(&regs[i].hi, (uintptr_t)r->map.ring + r->map.len,
			 __ATOMIC_RELAXED);
	/* release: the handler sees the entry whole once it counts it */
	__atomic_store_n(&n_regs, i + 1, __ATOMIC_RELEASE);
}

static void
reg_del(const struct ion_ring *ring)
{
	unsigned int i, n = __atomic_load_n(&n_regs, __ATOMIC_ACQUIRE);

	for (i = 0; i < n; i++)
		if (regs[i].ring == ring)
			/* relaxed: the handler of this thread only */
			__atomic_store_n(&regs[i].hi, 0, __ATOMIC_RELAXED);
}

/* The permission a write at offset @off of ring @r would need that the
 * grant @perm does not give: READ (the consumer's page), WRITE (the
 * producer's), 0 (the header: nobody's); ~0u if the grant allows it. */
static uint32_t
lacked(const struct ion_ring *r, uintptr_t off, uint32_t perm)
{
	if (off < r->hdr.cons_offset)
		return 0;
	if (off < r->hdr.cons_offset + ION_RING_PAGE)
		return (perm & ION_PERM_READ) ? ~0u : ION_PERM_READ;
	if (off >= r->hdr.prod_offset)
		return (perm & ION_PERM_WRITE) ? ~0u : ION_PERM_WRITE;
	return ~0u; /* the hole before a huge page: not a ring's page */
}

static void
on_segv(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	unsigned int i, n = __atomic_load_n(&n_regs, __ATOMIC_ACQUIRE);
	int saved = errno;

	for (i = 0; i < n; i++) {
		struct reg *g = &regs[i];
		uintptr_t hi = __atomic_load_n(&g->hi, __ATOMIC_RELAXED);
		struct ion_claim_msg m;
		uint32_t need;

		if (a < g->lo || a >= hi)
			continue;
		need = lacked(g->ring, a - g->lo, g->perm);
		if (need == ~0u)
			break;
		ion_claim_msg_init(&m, ION_CLAIM_FAULT);
		m.channel = g->channel;
		m.perm = need;
		m.addr = a - g->lo;
		ion_claim_send(g->sock, &m, NULL, 0, 0);
		break;
	}
	errno = saved;
	/* whatever it was, the previous disposition decides: returning
	 * re-executes the access under it (the default: death by SIGSEGV,
	 * the status the host reads) */
	if ((prev_segv.sa_flags & SA_SIGINFO) &&
	    prev_segv.sa_sigaction != NULL) {
		prev_segv.sa_sigaction(sig, si, uc);
		return;
	}
	sigaction(SIGSEGV, &prev_segv, NULL);
}

static void
segv_install(void)
{
	struct sigaction sa;

	if (__atomic_exchange_n(&segv_installed, 1, __ATOMIC_RELAXED))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &prev_segv);
}

/* ---- attach, map, detach ---- */

static int64_t
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Bound what blocks on @sock (connect, send, recv) by @deadline (ms of
 * CLOCK_MONOTONIC; -1: no bound).  Such a call then fails with EAGAIN.
 * @return 0, -ETIMEDOUT (passed) or -errno. */
static int
bound(int sock, int64_t deadline)
{
	struct timeval tv = {0, 0}; /* no timeout */

	if (deadline >= 0) {
		int64_t left = deadline - now_ms();

		if (left <= 0)
			return -ETIMEDOUT;
		tv.tv_sec = (time_t)(left / 1000);
		tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	}
	if (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

static int
refused(const struct ion_claim_msg *m, char *why, size_t whylen)
{
	if (why != NULL)
		snprintf(why, whylen, "%s", m->text);
	return m->err < 0 ? m->err : -EPROTO;
}

/*
 * Send @m (with @fds) and receive the answer into @m, by @deadline.  A
 * host that refused and hung up before our message went out has its
 * answer queued for us all the same: a send to a closed peer still reads
 * it.  @return 0, -ETIMEDOUT, or a negative errno with @p why.
 */
static int
ask(int sock, struct ion_claim_msg *m, const int *fds, unsigned int nfd_out,
    int *in, unsigned int *nfd, int64_t deadline, char *why, size_t whylen)
{
	int rc = bound(sock, deadline), sent;

	*nfd = 0;
	if (rc == 0) {
		sent = ion_claim_send(sock, m, fds, nfd_out, 0);
		rc = sent == 0 || sent == -EPIPE || sent == -ECONNRESET
			     ? ion_claim_recv(sock, m, in, ION_CLAIM_MAX_FDS,
					      nfd, 0)
			     : sent;
		/* A host that closed with our message unread resets the
		 * socket, and the kernel reports that before what is queued:
		 * the answer may still be there. */
		if (rc == -ECONNRESET) {
			rc = ion_claim_recv(sock, m, in, ION_CLAIM_MAX_FDS, nfd,
					    MSG_DONTWAIT);
			rc = rc == -EAGAIN ? -ECONNRESET : rc;
		}
	}
	if (rc == -EAGAIN && deadline >= 0)
		rc = -ETIMEDOUT;
	if (rc < 0 && why != NULL)
		snprintf(why, whylen, "the host: %s", strerror(-rc));
	return rc;
}

static int
map_ring(struct ion_fiber *f, uint32_t channel, uint32_t perm, int64_t deadline,
	 char *why, size_t whylen)
{
	struct ion_fiber_ring *r;
	struct ion_claim_msg m;
	int fds[ION_CLAIM_MAX_FDS];
	unsigned int nfd;
	int rc;

	if (f == NULL || f->n_rings == ION_CSPACE_SLOTS)
		return -EINVAL;
	ion_claim_msg_init(&m, ION_CLAIM_MAP);
	m.channel = channel;
	m.perm = perm;
	rc = ask(f->sock, &m, NULL, 0, fds, &nfd, deadline, why, whylen);
	if (rc < 0)
		return rc;
	if (m.op == ION_CLAIM_ERR) {
		while (nfd > 0)
			close(fds[--nfd]);
		return refused(&m, why, whylen);
	}
	if (m.op != ION_CLAIM_RING || m.channel != channel ||
	    nfd != 3 + ((m.flags & ION_CLAIM_F_WAKE) ? 1u : 0u)) {
		while (nfd > 0)
			close(fds[--nfd]);
		if (why != NULL)
			snprintf(why, whylen, "the host answered nonsense");
		return -EPROTO;
	}
	r = &f->rings[f->n_rings];
	memset(r, 0, sizeof(*r));
	r->channel = channel;
	r->perm = m.perm;
	r->wake_fd = nfd == 4 ? fds[3] : -1;
	rc = ion_ring_map_split(&r->map, fds, m.perm,
				&(struct ion_ring_params){.channel = channel},
				why, whylen);
	if (rc == 0) {
		rc = ion_cspace_grant(&f->cs, r->map.ring, m.perm);
		rc = rc < 0 ? rc
			    : ion_cspace_set_wake_fd(&f->cs, channel,
						     r->wake_fd);
		if (rc < 0)
			ion_ring_unmap(&r->map);
	}
	if (rc < 0) {
		if (r->wake_fd >= 0)
			close(r->wake_fd);
		return rc;
	}
	reg_add(f, r);
	f->n_rings++;
	return 0;
}

int
ion_fiber_map(struct ion_fiber *f, uint32_t channel, uint32_t perm, char *why,
	      size_t whylen)
{
	return map_ring(f, channel, perm, -1, why, whylen);
}

int
ion_fiber_attach_timeout(const char *socket_path, const char *name, int efd,
			 int timeout_ms, struct ion_fiber **out, char *why,
			 size_t whylen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
	struct ion_claim_msg m;
	struct ion_fiber *f;
	int fds[ION_CLAIM_MAX_FDS];
	unsigned int i, nfd;
	int rc;

	if (socket_path == NULL || name == NULL || out == NULL ||
	    strlen(socket_path) >= sizeof(sa.sun_path) ||
	    strlen(name) >= sizeof(m.name))
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return -ENOMEM;
	snprintf(f->name, sizeof(f->name), "%s", name);
	ion_cspace_init(&f->cs);
	memcpy(sa.sun_path, socket_path, strlen(socket_path));
	f->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	rc = f->sock < 0 ? -errno : bound(f->sock, deadline);
	/* a connect that waits for room in the host's backlog is bounded
	 * by the send timeout, and then fails with EAGAIN */
	if (rc == 0 && connect(f->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		rc = errno == EAGAIN && deadline >= 0 ? -ETIMEDOUT : -errno;
	if (rc < 0) {
		if (why != NULL)
			snprintf(why, whylen, "%s: %s", socket_path,
				 strerror(-rc));
		goto fail;
	}
	segv_install();
	ion_claim_msg_init(&m, ION_CLAIM_CLAIM);
	snprintf(m.name, sizeof(m.name), "%s", name);
	rc = ask(f->sock, &m, &efd, efd >= 0 ? 1 : 0, fds, &nfd, deadline, why,
		 whylen);
	if (rc < 0)
		goto fail;
	while (nfd > 0)
		close(fds[--nfd]);
	if (m.op != ION_CLAIM_OK) {
		rc = m.op == ION_CLAIM_ERR ? refused(&m, why, whylen) : -EPROTO;
		goto fail;
	}
	f->host_pid = m.pid;
	f->n_grants = m.n < ION_CSPACE_SLOTS ? m.n : ION_CSPACE_SLOTS;
	for (i = 0; i < f->n_grants; i++) {
		f->grants[i].channel = m.grants[i].channel;
		f->grants[i].perm = m.grants[i].perm;
	}
	for (i = 0; i < f->n_grants; i++) {
		rc = map_ring(f, f->grants[i].channel, f->grants[i].perm,
			      deadline, why, whylen);
		if (rc < 0)
			goto fail;
	}
	/* claimed: what comes later on the socket is not bounded */
	rc = bound(f->sock, -1);
	if (rc < 0)
		goto fail;
	*out = f;
	return 0;
fail:
	ion_fiber_detach(f);
	return rc;
}

int
ion_fiber_attach(const char *socket_path, const char *name, int efd,
		 struct ion_fiber **out, char *why, size_t whylen)
{
	return ion_fiber_attach_timeout(socket_path, name, efd, -1, out, why,
					whylen);
}

void
ion_fiber_detach(struct ion_fiber *f)
{
	struct ion_claim_msg m;
	unsigned int i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n_rings; i++) {
		reg_del(f->rings[i].map.ring);
		ion_ring_unmap(&f->rings[i].map);
		if (f->rings[i].wake_fd >= 0)
			close(f->rings[i].wake_fd);
	}
	/* claimed: say so, or the host takes a closed socket for a
	 * claimer that let go without giving anything back */
	if (f->sock >= 0 && f->host_pid != 0) {
		ion_claim_msg_init(&m, ION_CLAIM_BYE);
		ion_claim_send(f->sock, &m, NULL, 0, 0);
	}
	if (f->sock >= 0)
		close(f->sock);
	free(f);
}
