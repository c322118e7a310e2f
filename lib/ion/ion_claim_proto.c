/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The claim protocol's messages on the wire (ion_claim_proto.h), for both
 * of its ends: ion_fiber.c (the claimer) and ion_claimd.c (the host).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ion_claim_proto.h"

void
ion_claim_msg_init(struct ion_claim_msg *m, enum ion_claim_op op)
{
	memset(m, 0, sizeof(*m));
	m->magic = ION_CLAIM_MAGIC;
	m->version = ION_CLAIM_VERSION;
	m->op = (uint16_t)op;
}

int
ion_claim_send(int sock, const struct ion_claim_msg *m, const int *fds,
	       unsigned int nfd, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * ION_CLAIM_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)m,
			    .iov_len = sizeof(*m)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfd > ION_CLAIM_MAX_FDS)
		return -EINVAL;
	if (nfd > 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfd);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfd);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfd);
	}
	/* SOCK_SEQPACKET: a message goes whole or not at all */
	return sendmsg(sock, &mh, MSG_NOSIGNAL | flags) < 0 ? -errno : 0;
}

static int
hung_up(int sock)
{
	struct pollfd p = {.fd = sock, .events = POLLRDHUP};

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP));
}

int
ion_claim_recv(int sock, struct ion_claim_msg *m, int *fds, unsigned int max,
	       unsigned int *nfd, int flags)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * ION_CLAIM_MAX_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c;
	ssize_t n;
	int rc;

	*nfd = 0;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_TRUNC | flags);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	/* every descriptor received is kept or closed: none leaks */
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		unsigned int k, got;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		got = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (k = 0; k < got; k++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(fd));
			if (*nfd < max)
				fds[(*nfd)++] = fd;
			else
				close(fd);
		}
	}
	rc = 0;
	/* the length first: a magic or version past its end is garbage.  A
	 * message of 0 bytes reads as the end of the stream does: the
	 * socket's hang-up tells them apart */
	if (n == 0)
		rc = hung_up(sock) ? -ECONNRESET : -EMSGSIZE;
	else if ((size_t)n != sizeof(*m) || (mh.msg_flags & MSG_TRUNC))
		rc = -EMSGSIZE;
	else if (mh.msg_flags & MSG_CTRUNC)
		rc = -EBADF;
	else if (m->magic != ION_CLAIM_MAGIC)
		rc = -EPROTO;
	else if (m->version != ION_CLAIM_VERSION)
		rc = -EPROTONOSUPPORT;
	if (rc < 0)
		while (*nfd > 0)
			close(fds[--(*nfd)]);
	return rc;
}
