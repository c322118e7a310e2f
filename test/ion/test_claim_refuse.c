/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The claim server's refusals (claim_host.h): every path by which a claim
 * or a message is turned away is answered with its errno, counted under
 * its reason, told to the host once with the peer's pid and uid, and the
 * connection closed, and the server goes on: a valid claim succeeds after
 * each.  Then the limits that keep one user from starving the others: a
 * connection that sends nothing in time, a uid at its limit of waiting
 * connections (refused with a readable EAGAIN while other uids claim), a
 * flood of connections from another uid during which every claim succeeds
 * at its first try, and the socket's own mode and group.
 *
 * The malformed messages are sent from this process on raw connections
 * (the host answers before anything is claimed); what needs a process of
 * its own (a claimant that breaks the protocol is killed) or another uid
 * (root only) is a claimer spawned through libion.
 *
 *   test_ion_claim_refuse
 */
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ion_claimd.h>
#include <ion_ring.h>

#include "claim_host.h"
#include "cunit_main.h"
/* the wire format, to break it on purpose */
#include "ion_claim_proto.h"

#define FLOODERS      2
#define FLOOD_HOLD    128 /* connections a flooder keeps open */
#define FLOOD_CLAIMS  20
#define ANSWER_WAIT_S 5

/* ---- raw connections from this process ------------------------------ */

static int
raw_connect(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h.sock);
	if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(s);
		return -1;
	}
	return s;
}

static void
msg(struct ion_claim_msg *m, uint16_t op, const char *name)
{
	memset(m, 0, sizeof(*m));
	m->magic = ION_CLAIM_MAGIC;
	m->version = ION_CLAIM_VERSION;
	m->op = op;
	if (name != NULL)
		memcpy(m->name, name, strnlen(name, sizeof(m->name)));
}

static int
raw_send(int s, const void *buf, size_t len, const int *fds, unsigned int nfd)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfd > 0) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfd);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfd);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfd);
	}
	return sendmsg(s, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
}

/*
 * Serve until @s has its answer and then its end: the answer's errno (0:
 * no ERR came, 1: something else came), *closed whether the host hung up.
 */
static int
answer(int s, int *closed)
{
	struct pollfd p[2] = {{.fd = ion_claimd_fd(h.d), .events = POLLIN},
			      {.fd = s, .events = POLLIN}};
	time_t t0 = time(NULL);
	struct ion_claim_msg m;
	int err = 0;

	*closed = 0;
	while (time(NULL) - t0 < ANSWER_WAIT_S) {
		ssize_t n;

		poll(p, 2, 10);
		ion_claimd_poll(h.d);
		n = recv(s, &m, sizeof(m), MSG_DONTWAIT);
		if (n == 0) {
			*closed = 1;
			break;
		}
		if (n == (ssize_t)sizeof(m) && m.op == ION_CLAIM_ERR)
			err = m.err;
		else if (n > 0)
			err = 1;
	}
	return err;
}

static uint64_t
counter(const struct ion_claimd_stats *st, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)st + off, sizeof(v));
	return v;
}

/* Connect, send @buf (and @fds), and see it refused with @err, counted
 * under @ctr, told once; then the server still grants a claim. */
static void
refused_raw(const char *what, const void *buf, size_t len, const int *fds,
	    unsigned int nfd, int err, size_t ctr)
{
	struct ion_claimd_stats a, b;
	unsigned int told = h.refused;
	int s = raw_connect(), closed = 0, got;

	ion_claimd_stats(h.d, &a);
	CU_ASSERT_FATAL(s >= 0);
	CU_ASSERT(raw_send(s, buf, len, fds, nfd) == 0);
	got = answer(s, &closed);
	close(s);
	ion_claimd_stats(h.d, &b);
	if (got != err || !closed)
		fprintf(stderr, "\n  %s: answered %d (%s), %s ", what, got,
			strerrorname_np(-got), closed ? "closed" : "open");
	CU_ASSERT(got == err);
	CU_ASSERT(closed);
	CU_ASSERT(counter(&b, ctr) == counter(&a, ctr) + 1);
	CU_ASSERT(b.refused == a.refused + 1);
	CU_ASSERT(h.refused == told + 1);
	CU_ASSERT(h.last_err == err &&
		  h.last_refused_pid == (uint32_t)getpid() &&
		  h.last_refused_uid == getuid());
	CU_ASSERT(b.claims == a.claims && h.claimed == 0);
	CU_ASSERT(b.open == 0);
	/* no control character of a peer's reaches the host's log */
	CU_ASSERT(strpbrk(h.last_why, "\n\r\x1b") == NULL);
}

#define ST(f) offsetof(struct ion_claimd_stats, f)

static void
test_malformed(void)
{
	struct ion_claim_msg m;
	char big[sizeof(m) + 64];
	int efd[5], pfd[2], i;

	host_start(0);
	msg(&m, ION_CLAIM_CLAIM, "app");
	m.magic = 0xdeadbeef;
	refused_raw("magic", &m, sizeof(m), NULL, 0, -EPROTO, ST(bad_magic));
	msg(&m, ION_CLAIM_CLAIM, "app");
	m.version = ION_CLAIM_VERSION + 1;
	refused_raw("version", &m, sizeof(m), NULL, 0, -EPROTONOSUPPORT,
		    ST(bad_version));
	msg(&m, ION_CLAIM_CLAIM, "app");
	refused_raw("short", &m, 10, NULL, 0, -EMSGSIZE, ST(bad_length));
	refused_raw("empty", &m, 0, NULL, 0, -EMSGSIZE, ST(bad_length));
	/* a longer message whose first bytes are a valid claim: not one */
	memset(big, 'x', sizeof(big));
	memcpy(big, &m, sizeof(m));
	refused_raw("long", big, sizeof(big), NULL, 0, -EMSGSIZE,
		    ST(bad_length));
	/* out of order: a request before any claim, an answer's op, none */
	msg(&m, ION_CLAIM_MAP, NULL);
	m.channel = CH_APP;
	m.perm = ION_PERM_READ;
	refused_raw("map first", &m, sizeof(m), NULL, 0, -EBADMSG,
		    ST(out_of_order));
	msg(&m, ION_CLAIM_OK, NULL);
	refused_raw("ok", &m, sizeof(m), NULL, 0, -EBADMSG, ST(out_of_order));
	msg(&m, 999, NULL);
	refused_raw("op 999", &m, sizeof(m), NULL, 0, -EBADMSG,
		    ST(out_of_order));
	/* descriptors: not an eventfd, two, more than a message carries */
	for (i = 0; i < 5; i++)
		efd[i] = eventfd(0, EFD_CLOEXEC);
	CU_ASSERT_FATAL(pipe(pfd) == 0);
	msg(&m, ION_CLAIM_CLAIM, "app");
	refused_raw("a pipe", &m, sizeof(m), pfd, 1, -EINVAL, ST(bad_fd));
	refused_raw("two eventfds", &m, sizeof(m), efd, 2, -EINVAL, ST(bad_fd));
	refused_raw("five", &m, sizeof(m), efd, 5, -EINVAL, ST(bad_fd));
	msg(&m, ION_CLAIM_BYE, NULL);
	refused_raw("bye first, with a descriptor", &m, sizeof(m), efd, 1,
		    -EBADMSG, ST(out_of_order));
	for (i = 0; i < 5; i++)
		close(efd[i]);
	close(pfd[0]);
	close(pfd[1]);
	/* after all that, a claim is granted */
	CU_ASSERT(serve(spawn("consume", "app", 0, 0, 0, -1), 1, 1) == 0);
	CU_ASSERT(h.claimed == 1);
	host_stop();
}

static void
test_names(void)
{
	struct ion_claim_msg m;

	host_start(0);
	msg(&m, ION_CLAIM_CLAIM, "no-such-fiber");
	refused_raw("unknown", &m, sizeof(m), NULL, 0, -ENOENT, ST(unknown));
	CU_ASSERT(strstr(h.last_why, "no fiber named 'no-such-fiber'") != NULL);
	CU_ASSERT(h.last_refused_arg == NULL);
	/* a name that fills its field, and one with control characters */
	msg(&m, ION_CLAIM_CLAIM, NULL);
	memset(m.name, 'A', sizeof(m.name));
	refused_raw("unterminated", &m, sizeof(m), NULL, 0, -ENOENT,
		    ST(unknown));
	msg(&m, ION_CLAIM_CLAIM, "app\n\x1b[2J");
	refused_raw("control characters", &m, sizeof(m), NULL, 0, -ENOENT,
		    ST(unknown));
	CU_ASSERT(strstr(h.last_why, "'app??[2J'") != NULL);
	msg(&m, ION_CLAIM_CLAIM, "inside");
	refused_raw("in the host", &m, sizeof(m), NULL, 0, -EPERM, ST(in_host));
	CU_ASSERT(strstr(h.last_why, "runs inside the host") != NULL);
	msg(&m, ION_CLAIM_CLAIM, "grouped");
	refused_raw("gid", &m, sizeof(m), NULL, 0, -EACCES, ST(denied));
	CU_ASSERT(strstr(h.last_why, "may not claim fiber 'grouped'") != NULL);
	/* through libion: the errno ion_fiber_attach() returns */
	CU_ASSERT(serve(spawn("expect", "no-such-fiber", ENOENT, 0, 0, -1), 1,
			0) == 0);
	CU_ASSERT(serve(spawn("expect", "inside", EPERM, 0, 0, -1), 1, 0) == 0);
	CU_ASSERT(serve(spawn("consume", "app", 0, 0, 0, -1), 1, 1) == 0);
	host_stop();
}

static void
test_wrong_uid(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "(not root: no other uid to try) ");
		return;
	}
	host_start(0);
	/* uid 65534 asks for a fiber of ours; ours asks for its */
	CU_ASSERT(serve(spawn("refused", "app", 0, OTHER_UID, OTHER_GID, -1), 1,
			0) == 0);
	CU_ASSERT(h.refused == 1 && h.last_refused_uid == OTHER_UID);
	CU_ASSERT(h.last_err == -EACCES);
	CU_ASSERT(serve(spawn("refused", "strict", 0, 0, 0, -1), 1, 0) == 0);
	CU_ASSERT(h.refused == 2 && h.last_refused_uid == 0);
	CU_ASSERT(h.claimed == 0);
	host_stop();
}

/* A claimant that breaks the protocol holds rings: killed, its fiber
 * KILLED, the refusal counted; a new claim restarts it. */
static void
test_claimant_out_of_order(void)
{
	struct ion_claimd_stats st;
	int status;

	host_start(1);
	status = serve(spawn("claim-twice", "app", 0, 0, 0, -1), 1, 1);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CU_ASSERT(h.claimed == 1 && h.ended == 1 && h.last_end.killed);
	CU_ASSERT(strstr(h.last_end.why, "operation 1 while") != NULL);
	ion_claimd_stats(h.d, &st);
	CU_ASSERT(st.out_of_order == 1 && st.refused == 1 && h.refused == 1);
	CU_ASSERT(h.last_err == -EBADMSG);
	CU_ASSERT(serve(spawn("consume", "app", 0, 0, 0, -1), 1, 2) == 0);
	host_stop();
}

/* A connection that sends nothing is closed at its deadline, answered. */
static void
test_late(void)
{
	struct ion_claimd_stats st;
	int s, closed;

	host_start(0);
	s = raw_connect();
	CU_ASSERT_FATAL(s >= 0);
	CU_ASSERT(answer(s, &closed) == -ETIMEDOUT);
	CU_ASSERT(closed);
	close(s);
	ion_claimd_stats(h.d, &st);
	CU_ASSERT(st.late == 1 && st.refused == 1 && st.open == 0);
	CU_ASSERT(strstr(h.last_why, "within 200 ms") != NULL);
	host_stop();
}

/* Serve for @ms. */
static void
serve_ms(int ms)
{
	struct pollfd p = {.fd = ion_claimd_fd(h.d), .events = POLLIN};
	int i;

	for (i = 0; i < ms / 10; i++) {
		poll(&p, 1, 10);
		ion_claimd_poll(h.d);
	}
}

static void
test_uid_limit(void)
{
	int held[ION_CLAIMD_DEF_PER_UID], s, closed, i;
	struct ion_claimd_stats st;

	host_start(0);
	/* our uid's limit of connections waiting to claim ... */
	for (i = 0; i < ION_CLAIMD_DEF_PER_UID; i++) {
		held[i] = raw_connect();
		CU_ASSERT_FATAL(held[i] >= 0);
	}
	serve_ms(50);
	ion_claimd_stats(h.d, &st);
	CU_ASSERT(st.open == ION_CLAIMD_DEF_PER_UID && st.refused == 0);
	/* ... one more is refused, with an answer it can read */
	s = raw_connect();
	CU_ASSERT_FATAL(s >= 0);
	CU_ASSERT(answer(s, &closed) == -EAGAIN && closed);
	close(s);
	CU_ASSERT(strstr(h.last_why, "its limit: try again") != NULL);
	ion_claimd_stats(h.d, &st);
	CU_ASSERT(st.uid_limit == 1);
	/* so is a claim through libion: -EAGAIN, not a broken pipe */
	CU_ASSERT(serve(spawn("expect", "app", EAGAIN, 0, 0, -1), 1, 0) == 0);
	/* another uid claims meanwhile */
	if (geteuid() == 0)
		CU_ASSERT(serve(spawn("expect", "strict", 0, OTHER_UID,
				      OTHER_GID, -1),
				1, 1) == 0);
	for (i = 0; i < ION_CLAIMD_DEF_PER_UID; i++)
		close(held[i]);
	CU_ASSERT(serve(spawn("expect", "app", 0, 0, 0, -1), 1,
			geteuid() == 0 ? 2 : 1) == 0);
	ion_claimd_stats(h.d, &st);
	CU_ASSERT(st.uid_limit == 2 && st.full == 0);
	host_stop();
}

/* As @uid: keep FLOOD_HOLD connections open, each new one closing the
 * oldest, for @seconds. */
static void
flood(uid_t uid, gid_t gid, int seconds)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int held[FLOOD_HOLD], n = 0, next = 0, i;
	time_t t0 = time(NULL);

	if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)
		_exit(99);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", h.sock);
	while (time(NULL) - t0 < seconds) {
		int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);

		if (s < 0 ||
		    connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			if (s >= 0)
				close(s);
			continue;
		}
		if (n == FLOOD_HOLD)
			close(held[next]);
		else
			n++;
		held[next] = s;
		next = (next + 1) % FLOOD_HOLD;
	}
	for (i = 0; i < n; i++)
		close(held[i]);
	_exit(0);
}

/*
 * Another uid floods the socket with connections, each flooder holding
 * FLOOD_HOLD open: a claimer of ours claims FLOOD_CLAIMS times, each
 * bounded by 5 s, and every one succeeds at its first try.  Without the
 * limit per uid the flood fills every slot and the claims are refused.
 */
static void
test_flood(void)
{
	struct ion_claimd_stats a, b;
	pid_t fl[FLOODERS];
	int i, status;

	if (geteuid() != 0) {
		fprintf(stderr, "(not root: no other uid to flood from) ");
		return;
	}
	host_start(1);
	ion_claimd_stats(h.d, &a);
	for (i = 0; i < FLOODERS; i++) {
		fl[i] = fork();
		if (fl[i] == 0)
			flood(OTHER_UID, OTHER_GID, 60);
		CU_ASSERT_FATAL(fl[i] > 0);
	}
	serve_ms(200); /* the flood first */
	status = serve(spawn("claims", "app", FLOOD_CLAIMS, 0, 0, -1), 1,
		       FLOOD_CLAIMS);
	for (i = 0; i < FLOODERS; i++) {
		kill(fl[i], SIGKILL);
		waitpid(fl[i], NULL, 0);
	}
	ion_claimd_stats(h.d, &b);
	fprintf(stderr,
		"(flood: %llu connections, %llu refused at the uid limit, %llu "
		"late; %llu claims) ",
		(unsigned long long)(b.connections - a.connections),
		(unsigned long long)(b.uid_limit - a.uid_limit),
		(unsigned long long)(b.late - a.late),
		(unsigned long long)(b.claims - a.claims));
	CU_ASSERT(status == 0);
	CU_ASSERT(b.claims - a.claims == FLOOD_CLAIMS);
	CU_ASSERT(b.uid_limit - a.uid_limit > 0);
	CU_ASSERT(b.full == a.full);
	host_stop();
}

/* The first gate: mode 0660 in the socket's group; a uid without the
 * group cannot even connect (the server never hears of it). */
static void
test_socket_access(void)
{
	struct ion_claimd_stats a, b;
	struct stat sb;

	if (geteuid() != 0) {
		fprintf(stderr, "(not root: no group to set) ");
		return;
	}
	host_start(0);
	CU_ASSERT_FATAL(stat(h.sock, &sb) == 0);
	CU_ASSERT((sb.st_mode & 07777) == 0660);
	CU_ASSERT(sb.st_uid == 0 && sb.st_gid == OTHER_GID);
	ion_claimd_stats(h.d, &a);
	CU_ASSERT(serve(spawn("expect", "strict", EACCES, OTHER_UID, 1, -1), 1,
			0) == 0);
	ion_claimd_stats(h.d, &b);
	CU_ASSERT(b.connections == a.connections && h.refused == 0);
	/* with the group: through the first gate, granted by the second */
	CU_ASSERT(serve(spawn("expect", "strict", 0, OTHER_UID, OTHER_GID, -1),
			1, 1) == 0);
	host_stop();
}

int
main(int argc, char **argv)
{
	static const struct test_case refuse[] = {
		TEST(test_malformed), TEST(test_names),
		TEST(test_wrong_uid), TEST(test_claimant_out_of_order),
		TEST(test_late),      TEST(test_uid_limit),
		TEST(test_flood),     TEST(test_socket_access),
	};

	if (argc > 4 && strcmp(argv[1], "--client") == 0)
		return claim_client(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	if (CU_initialize_registry() != CUE_SUCCESS ||
	    test_add_suite("claim_refuse", refuse, N_TESTS(refuse)) < 0)
		return 1;
	return test_run_all();
}
