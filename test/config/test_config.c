/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config loader: the shipped and integration configs load and check,
 * and every refusal says "FILE:LINE: " with the exact file and line.
 *
 *   test_config SOURCE_ROOT
 *
 * Each refusal test writes a small config to /tmp and marks the line the
 * refusal must name with a "#<" comment; the expected line is computed
 * from the marker, so a loader naming any other line fails the test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "config.h"

#define MARK "#<"

enum stage {
	AT_LOAD,  /* cfg_load() refuses */
	AT_CHECK, /* cfg_load() accepts, cfg_check() refuses */
};

static const char *srcroot = ".";

/* lcores 0-3 enabled, 0 the main lcore: the shipped config's set-up */
static bool lcores4[CFG_MAX_LCORES] = {true, true, true, true};

static void
src_path(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/%s", srcroot, rel);
}

/* A kind's parameter of fiber @p f, by its key, through the kind's table:
 * the test knows the keys, not the kind's struct. */
static const void *
param(const struct cfg_fiber *f, const char *key)
{
	const struct fiber_param *p = fiber_kind_param(f->kind, key);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	return f->params.bytes + p->off;
}

#define P_U32(f, k)   (*(const uint32_t *)param(f, k))
#define P_BOOL(f, k)  (*(const bool *)param(f, k))
#define P_STR(f, k)   ((const char *)param(f, k))
#define P_BINDS(f, k) ((const struct fiber_binds *)param(f, k))
#define KIND(name)    fiber_kind_find(name)

/* Write @p text to a new file in @p dir; its path goes to @p path. */
static int
write_tmp(const char *dir, const char *name, const char *text, char *path,
	  size_t len)
{
	FILE *f;
	int fd;

	if (name != NULL) {
		snprintf(path, len, "%s/%s", dir, name);
		fd = -1;
		f = fopen(path, "w");
	} else {
		snprintf(path, len, "%s/cfgtest-XXXXXX", dir);
		fd = mkstemp(path);
		f = fd >= 0 ? fdopen(fd, "w") : NULL;
	}
	if (f == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fputs(text, f);
	fclose(f);
	return 0;
}

/* The line of @p text carrying the marker, 1-based; 0 if none. */
static int
marked_line(const char *text)
{
	const char *m = strstr(text, MARK);
	const char *p;
	int line = 1;

	if (m == NULL)
		return 0;
	for (p = text; p < m; p++)
		if (*p == '\n')
			line++;
	return line;
}

/*
 * Load @p path (and check it, at AT_CHECK) and require a refusal that
 * starts "@p file:@p line: " and contains @p word.
 */
static void
expect_at(const char *path, enum stage stage, const char *file, int line,
	  const char *word)
{
	static struct cfg c; /* large */
	char err[CFG_ERR_LEN] = "", prefix[CFG_PATH_LEN + 32];
	int rc;

	rc = cfg_load(&c, path, err, sizeof(err));
	if (stage == AT_LOAD) {
		CU_ASSERT_EQUAL(rc, -EINVAL);
	} else {
		CU_ASSERT_EQUAL(rc, 0);
		if (rc != 0)
			printf("\n  unexpected load refusal: %s\n", err);
		if (rc == 0)
			rc = cfg_check(&c, lcores4, err, sizeof(err));
		CU_ASSERT_EQUAL(rc, -EINVAL);
	}
	snprintf(prefix, sizeof(prefix), "%s:%d: ", file, line);
	CU_ASSERT_EQUAL(strncmp(err, prefix, strlen(prefix)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, word));
	if (strncmp(err, prefix, strlen(prefix)) != 0 ||
	    strstr(err, word) == NULL)
		printf("\n  want \"%s...%s...\"\n  got  \"%s\"\n", prefix, word,
		       err);
	cfg_free(&c);
}

/* Write @p text to a temp file and expect a refusal at its marker. */
static void
expect_refusal(const char *text, enum stage stage, const char *word)
{
	char path[CFG_PATH_LEN];

	CU_ASSERT_FATAL(marked_line(text) > 0);
	CU_ASSERT_FATAL(write_tmp("/tmp", NULL, text, path, sizeof(path)) == 0);
	expect_at(path, stage, path, marked_line(text), word);
	unlink(path);
}

/* Write @p text and require it to load and check. */
static void
expect_ok(const char *text)
{
	static struct cfg c;
	char path[CFG_PATH_LEN], err[CFG_ERR_LEN] = "";
	int rc;

	CU_ASSERT_FATAL(write_tmp("/tmp", NULL, text, path, sizeof(path)) == 0);
	rc = cfg_load(&c, path, err, sizeof(err));
	if (rc == 0)
		rc = cfg_check(&c, lcores4, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, 0);
	if (rc != 0)
		printf("\n  unexpected refusal: %s\n", err);
	cfg_free(&c);
	unlink(path);
}

/* A valid base the refusal tests vary one thing of. */
#define CHANNELS                                                               \
	"channels = (\n"                                                       \
	"  { id = 0x0500; name = \"net-rx\"; },\n"                             \
	"  { id = 0x0501; name = \"net-tx\"; },\n"                             \
	"  { id = 0x0600; },\n"                                                \
	"  { id = 0x0601; slots = 64; slot_size = 2048; }\n"                   \
	");\n"
#define NETSWITCH                                                              \
	"netswitch = {\n"                                                      \
	"  lcore = 1;\n"                                                       \
	"  dispatch = ( { ethertype = 0x0800; channel = 0x0500; } );\n"        \
	"  tx = [ 0x0501 ];\n"                                                 \
	"};\n"
#define FIBER_A                                                                \
	"  { name = \"a\"; lcore = 2; kind = \"reflect\"; rx = 0x0500; "       \
	"tx = 0x0501;\n"                                                       \
	"    grants = ( { channel = 0x0500; perm = \"r\"; },\n"                \
	"               { channel = 0x0501; perm = \"w\"; } ); }"

/* ------------------------------------------------------------------ */
/* Configs that load                                                  */
/* ------------------------------------------------------------------ */

/* The line of @p file containing @p needle, 1-based; 0 if none. */
static int
line_of(const char *file, const char *needle)
{
	char buf[1024];
	FILE *f = fopen(file, "r");
	int line = 0, found = 0;

	if (f == NULL)
		return 0;
	while (fgets(buf, sizeof(buf), f) != NULL) {
		line++;
		if (strstr(buf, needle) != NULL) {
			found = line;
			break;
		}
	}
	fclose(f);
	return found;
}

static void
test_shipped(void)
{
	static struct cfg c;
	static const char *const eal[] = {
		"--lcores",
		"(0-1)@(0,1)",
		"--file-prefix",
		"ionswitchd",
		"--no-pci",
		"--single-file-segments",
		"--force-max-simd-bitwidth=512",
	};
	char path[CFG_PATH_LEN], err[CFG_ERR_LEN] = "";
	const struct cfg_fiber *m;
	bool one[CFG_MAX_LCORES] = {true};
	unsigned int i;
	int rc;

	src_path(path, sizeof(path), "config/ionswitchd.conf");
	rc = cfg_load(&c, path, err, sizeof(err));
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	rc = cfg_check(&c, lcores4, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, 0);
	if (rc != 0)
		printf("\n  %s\n", err);

	CU_ASSERT_STRING_EQUAL(c.file, path);
	CU_ASSERT_EQUAL_FATAL(c.eal_argc, 7);
	for (i = 0; i < 7; i++)
		CU_ASSERT_STRING_EQUAL(c.eal_argv[i], eal[i]);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.devargs, "net_virtio_user0,path="));
	CU_ASSERT_EQUAL(c.rx_desc, 1024);
	CU_ASSERT_EQUAL(c.tx_desc, 1024);
	CU_ASSERT_EQUAL(c.mbufs, 8191);
	CU_ASSERT_TRUE(c.promiscuous);
	CU_ASSERT_EQUAL(c.ns_lcore, 1);
	CU_ASSERT_EQUAL(c.burst, 32);

	CU_ASSERT_EQUAL_FATAL(c.n_channels, 12);
	CU_ASSERT_EQUAL(c.channels[0].id, 0x0500);
	CU_ASSERT_STRING_EQUAL(c.channels[0].name, "net-rx");
	CU_ASSERT_EQUAL(c.channels[0].slots, 2048);
	CU_ASSERT_EQUAL(c.channels[0].slot_size, 1514);
	CU_ASSERT_EQUAL(c.channels[0].line, line_of(path, "\"net-rx\""));
	CU_ASSERT_PTR_NOT_NULL(cfg_channel(&c, 0x0701));
	CU_ASSERT_STRING_EQUAL(cfg_channel(&c, 0x0701)->name, "utcp-tx");
	CU_ASSERT_PTR_NULL(cfg_channel(&c, 0x0999));

	CU_ASSERT_EQUAL_FATAL(c.n_routes, 5);
	CU_ASSERT_EQUAL(c.routes[3].route.ethertype, 0x88B5);
	CU_ASSERT_EQUAL(c.routes[3].route.channel, 0x0700);
	CU_ASSERT_EQUAL(c.routes[3].line, line_of(path, "0x88B5"));
	CU_ASSERT_EQUAL_FATAL(c.n_tx, 3);
	CU_ASSERT_EQUAL(c.tx[0].channel, 0x0501);
	CU_ASSERT_EQUAL(c.tx[2].channel, 0x0601);

	CU_ASSERT_EQUAL_FATAL(c.n_fibers, 5);
	m = &c.fibers[0];
	CU_ASSERT_STRING_EQUAL(m->name, "membrane");
	CU_ASSERT_PTR_EQUAL(m->kind, KIND("membrane"));
	CU_ASSERT_EQUAL(m->lcore, 1);
	CU_ASSERT_EQUAL(m->rx, 0x0500);
	CU_ASSERT_EQUAL(m->tx, 0x0501);
	CU_ASSERT_EQUAL(m->line, line_of(path, "name = \"membrane\""));
	CU_ASSERT_EQUAL(P_U32(m, "ip"), htonl(0xc0a84d02)); /* 192.168.77.2 */
	CU_ASSERT_EQUAL(P_U32(m, "netmask"), htonl(0xffffff00));
	CU_ASSERT_EQUAL(P_U32(m, "gateway"), htonl(0xc0a84d01));
	CU_ASSERT_TRUE(P_BOOL(m, "echo") && P_BOOL(m, "http"));
	CU_ASSERT_EQUAL(P_U32(m, "http_port"), 80);
	CU_ASSERT_EQUAL(P_U32(m, "vfs_req"), ION_CH_VFS_REQ);
	CU_ASSERT_EQUAL(P_U32(m, "vfs_rsp"), ION_CH_VFS_RSP);
	CU_ASSERT_EQUAL_FATAL(m->n_grants, 4);
	CU_ASSERT_EQUAL(m->grants[0].channel, 0x0500);
	CU_ASSERT_EQUAL(m->grants[0].perms, ION_PERM_READ);
	CU_ASSERT_EQUAL(m->grants[0].line, m->line + 4);
	CU_ASSERT_EQUAL(m->grants[1].channel, 0x0501);
	CU_ASSERT_EQUAL(m->grants[1].perms, ION_PERM_WRITE);
	CU_ASSERT_EQUAL(m->grants[1].line, m->line + 5);
	CU_ASSERT_STRING_EQUAL(c.fibers[1].name, "vfs");
	CU_ASSERT_PTR_EQUAL(c.fibers[1].kind, KIND("vfs"));
	CU_ASSERT_STRING_EQUAL(P_STR(&c.fibers[1], "root"),
			       "/var/lib/ionswitchd/www");
	CU_ASSERT_EQUAL(cfg_channel(&c, ION_CH_VFS_REQ)->slot_size,
			ION_VFS_SLOT_SIZE);
	CU_ASSERT_EQUAL(cfg_channel(&c, ION_CH_VFS_RSP)->slots, ION_VFS_SLOTS);
	CU_ASSERT_STRING_EQUAL(c.fibers[2].name, "utcp");
	CU_ASSERT_PTR_EQUAL(c.fibers[2].kind, KIND("utcp"));
	CU_ASSERT_TRUE(P_BOOL(&c.fibers[2], "reflect"));
	CU_ASSERT_EQUAL_FATAL(P_BINDS(&c.fibers[2], "bind")->n, 1);
	CU_ASSERT_EQUAL(P_BINDS(&c.fibers[2], "bind")->b[0].port, 7);
	CU_ASSERT_EQUAL(P_BINDS(&c.fibers[2], "bind")->b[0].channel, 0x0710);
	CU_ASSERT_STRING_EQUAL(c.fibers[3].name, "lwf");
	CU_ASSERT_PTR_EQUAL(c.fibers[3].kind, KIND("lwf"));
	CU_ASSERT_EQUAL(P_U32(&c.fibers[3], "app"), 0x0602);
	CU_ASSERT_EQUAL(c.fibers[3].lcore, 1);
	/* the console: its rings at the spec's size */
	CU_ASSERT_STRING_EQUAL(c.fibers[4].name, "console");
	CU_ASSERT_PTR_EQUAL(c.fibers[4].kind, KIND("console"));
	CU_ASSERT_EQUAL(c.fibers[4].rx, ION_CH_CONSOLE_RX);
	CU_ASSERT_EQUAL(c.fibers[4].tx, ION_CH_CONSOLE_TX);
	CU_ASSERT_EQUAL(cfg_channel(&c, ION_CH_CONSOLE_RX)->slots,
			ION_CONSOLE_SLOTS);
	CU_ASSERT_EQUAL(cfg_channel(&c, ION_CH_CONSOLE_TX)->slot_size,
			ION_CONSOLE_SLOT_SIZE);

	CU_ASSERT_EQUAL(c.stats_period, 5);
	CU_ASSERT_EQUAL(c.idle_polls, 256);
	CU_ASSERT_EQUAL(c.idle_spin_us, 0);
	CU_ASSERT_EQUAL(c.idle_sleep_us, 200);
	CU_ASSERT_TRUE(c.idle_doorbells);
	CU_ASSERT_EQUAL(c.drain_ms, 2000);
	/* the claim socket's group, created by the package and setup.sh */
	CU_ASSERT_STRING_EQUAL(c.claims_group, "ionfibers");
	CU_ASSERT(getgrnam("ionfibers") != NULL &&
		  c.claims_gid == getgrnam("ionfibers")->gr_gid);
	CU_ASSERT_EQUAL(c.claims_per_uid, 4);
	CU_ASSERT_EQUAL(c.claims_first_ms, 200);

	/* with only lcore 0 the NetSwitch has no lcore to run on */
	rc = cfg_check(&c, one, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "lcore 1"));
	cfg_free(&c);
	CU_ASSERT_EQUAL(c.eal_argc, 0);
	cfg_free(&c); /* twice is harmless */
}

static void
load_integration(const char *name, struct cfg *c, unsigned int n_fibers)
{
	char path[CFG_PATH_LEN], err[CFG_ERR_LEN] = "";
	int rc;

	snprintf(path, sizeof(path), "%s/test/ionswitchd/integration/%s",
		 srcroot, name);
	rc = cfg_load(c, path, err, sizeof(err));
	if (rc == 0)
		rc = cfg_check(c, lcores4, err, sizeof(err));
	if (rc != 0)
		printf("\n  %s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	/* base.conf, included */
	CU_ASSERT_EQUAL(c->n_channels, 8);
	CU_ASSERT_EQUAL(c->n_routes, 5);
	CU_ASSERT_EQUAL(c->n_tx, 3);
	CU_ASSERT_EQUAL(c->mbufs, 4095);
	CU_ASSERT_EQUAL(c->stats_period, 0);
	CU_ASSERT_EQUAL(c->rx_desc, 1024);  /* default */
	CU_ASSERT_EQUAL(c->burst, 32);	    /* default */
	CU_ASSERT_EQUAL(c->drain_ms, 2000); /* default */
	CU_ASSERT_EQUAL_FATAL(c->eal_argc, 8);
	CU_ASSERT_STRING_EQUAL(c->eal_argv[3], "ion-it");
	CU_ASSERT_STRING_EQUAL(c->eal_argv[6], "-m");
	CU_ASSERT_STRING_EQUAL(c->eal_argv[7], "256");
	CU_ASSERT_EQUAL_FATAL(c->n_fibers, n_fibers);
}

static void
test_mix(void)
{
	static struct cfg c;

	load_integration("mix.conf", &c, 3);
	CU_ASSERT_PTR_EQUAL(c.fibers[0].kind, KIND("rxonly"));
	CU_ASSERT_EQUAL(c.fibers[0].tx, 0);
	CU_ASSERT_EQUAL(c.fibers[0].n_grants, 2);
	cfg_free(&c);
}

static void
test_kill(void)
{
	static struct cfg c;
	const struct cfg_fiber *lwf = &c.fibers[2];

	load_integration("kill.conf", &c, 3);
	/* tx without a WRITE grant is valid: the fiber dies at run time */
	CU_ASSERT_STRING_EQUAL(lwf->name, "lwf");
	CU_ASSERT_EQUAL(lwf->tx, 0x0602);
	CU_ASSERT_EQUAL(lwf->n_grants, 2);
	CU_ASSERT_EQUAL(lwf->grants[1].channel, 0x0602);
	CU_ASSERT_EQUAL(lwf->grants[1].perms, ION_PERM_READ);
	cfg_free(&c);
}

static void
test_utcp(void)
{
	static struct cfg c;
	const struct cfg_fiber *u = &c.fibers[1];

	load_integration("utcp.conf", &c, 3);
	CU_ASSERT_PTR_EQUAL(u->kind, KIND("utcp"));
	CU_ASSERT_TRUE(P_BOOL(u, "reflect"));
	CU_ASSERT_EQUAL_FATAL(P_BINDS(u, "bind")->n, 1);
	CU_ASSERT_EQUAL(P_BINDS(u, "bind")->b[0].port, 7);
	CU_ASSERT_EQUAL(P_BINDS(u, "bind")->b[0].channel, 0x0710);
	cfg_free(&c);
}

static void
test_lwf(void)
{
	static struct cfg c;
	const struct cfg_fiber *l = &c.fibers[2];

	load_integration("lwf.conf", &c, 4);
	CU_ASSERT_PTR_EQUAL(l->kind, KIND("lwf"));
	CU_ASSERT_TRUE(P_BOOL(l, "reflect"));
	CU_ASSERT_EQUAL(P_U32(l, "app"), 0x0602);
	/* ion-lwf-sink's fiber: a process of its own, granted lwf-app only */
	CU_ASSERT_PTR_EQUAL(c.fibers[3].kind, KIND("external"));
	CU_ASSERT_EQUAL_FATAL(c.fibers[3].n_grants, 1);
	CU_ASSERT_EQUAL(c.fibers[3].grants[0].channel, 0x0602);
	CU_ASSERT_EQUAL(c.fibers[3].grants[0].perms, ION_PERM_READ);
	CU_ASSERT_EQUAL(P_U32(&c.fibers[3], "uid"), 0);
	cfg_free(&c);
}

static void
test_defaults(void)
{
	static struct cfg c;
	char path[CFG_PATH_LEN], err[CFG_ERR_LEN] = "";

	CU_ASSERT_FATAL(write_tmp("/tmp", NULL,
				  "channels = ( { id = 0x1000; }, "
				  "{ id = 0x0777; } );\n",
				  path, sizeof(path)) == 0);
	CU_ASSERT_EQUAL_FATAL(cfg_load(&c, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(c.eal_argc, 2);
	CU_ASSERT_STRING_EQUAL(c.eal_argv[0], "--file-prefix");
	CU_ASSERT_STRING_EQUAL(c.eal_argv[1], "ionswitchd");
	CU_ASSERT_STRING_EQUAL(c.devargs, "net_virtio_user0,path=/run/"
					  "ionswitchd/vhost.sock,queues=1,"
					  "queue_size=1024");
	CU_ASSERT_EQUAL(c.rx_desc, 1024);
	CU_ASSERT_EQUAL(c.tx_desc, 1024);
	CU_ASSERT_EQUAL(c.mbufs, 8191);
	CU_ASSERT_TRUE(c.promiscuous);
	CU_ASSERT_EQUAL(c.ns_lcore, 1);
	CU_ASSERT_EQUAL(c.burst, 32);
	CU_ASSERT_EQUAL(c.n_routes, 0);
	CU_ASSERT_EQUAL(c.n_fibers, 0);
	CU_ASSERT_EQUAL(c.stats_period, 5);
	CU_ASSERT_EQUAL(c.idle_polls, 256);
	CU_ASSERT_EQUAL(c.idle_spin_us, 0);
	CU_ASSERT_EQUAL(c.idle_sleep_us, 200);
	CU_ASSERT_TRUE(c.idle_doorbells);
	CU_ASSERT_EQUAL(c.drain_ms, 2000);
	/* a well-known channel takes its sizes, another a network ring's */
	CU_ASSERT_STRING_EQUAL(c.channels[0].name, "console-rx");
	CU_ASSERT_EQUAL(c.channels[0].slots, ION_CONSOLE_SLOTS);
	CU_ASSERT_EQUAL(c.channels[0].slot_size, ION_CONSOLE_SLOT_SIZE);
	CU_ASSERT_EQUAL(c.channels[1].slots, ION_NET_SLOTS);
	CU_ASSERT_EQUAL(c.channels[1].slot_size, ION_NET_SLOT_SIZE);
	CU_ASSERT_EQUAL(cfg_check(&c, lcores4, err, sizeof(err)), 0);
	cfg_free(&c);
	unlink(path);
}

static void
test_base_ok(void)
{
	expect_ok(CHANNELS NETSWITCH "fibers = (\n" FIBER_A "\n);\n");
}

/* The AF_XDP example: the shipped config with its own port and lcores. */
static void
test_shipped_af_xdp(void)
{
	static struct cfg c;
	static const bool two[CFG_MAX_LCORES] = {true, true};
	char path[CFG_PATH_LEN], err[CFG_ERR_LEN] = "";
	int rc;

	src_path(path, sizeof(path), "config/ionswitchd-af_xdp.conf");
	rc = cfg_load(&c, path, err, sizeof(err));
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	rc = cfg_check(&c, two, err, sizeof(err));
	CU_ASSERT_EQUAL(rc, 0);
	if (rc != 0)
		printf("\n  %s\n", err);
	CU_ASSERT_STRING_EQUAL(c.devargs,
			       "net_af_xdp0,iface=ion0d,busy_budget=0");
	CU_ASSERT_STRING_EQUAL(c.eal_argv[1], "0@0,1@1");
	CU_ASSERT_EQUAL(c.n_fibers, 5);
	cfg_free(&c);
}

/* claims: its defaults, a group by name, and each refusal */
static void
test_claims(void)
{
	static struct cfg c;
	char path[CFG_PATH_LEN], err[CFG_ERR_LEN] = "";

	CU_ASSERT_FATAL(write_tmp("/tmp", NULL,
				  CHANNELS NETSWITCH "fibers = (\n" FIBER_A
						     "\n);\n",
				  path, sizeof(path)) == 0);
	CU_ASSERT_EQUAL_FATAL(cfg_load(&c, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c.claims_gid, ION_CLAIMD_HOST_GID);
	CU_ASSERT_STRING_EQUAL(c.claims_group, "");
	CU_ASSERT_EQUAL(c.claims_per_uid, ION_CLAIMD_DEF_PER_UID);
	CU_ASSERT_EQUAL(c.claims_first_ms, ION_CLAIMD_DEF_FIRST_MS);
	cfg_free(&c);
	unlink(path);
	CU_ASSERT_FATAL(write_tmp("/tmp", NULL,
				  CHANNELS NETSWITCH
				  "fibers = (\n" FIBER_A "\n);\n"
				  "claims = { socket_group = \"root\"; "
				  "waiting_per_uid = 1; first_message_ms = 10; "
				  "};\n",
				  path, sizeof(path)) == 0);
	CU_ASSERT_EQUAL_FATAL(cfg_load(&c, path, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c.claims_gid, 0);
	CU_ASSERT_EQUAL(c.claims_per_uid, 1);
	CU_ASSERT_EQUAL(c.claims_first_ms, 10);
	cfg_free(&c);
	unlink(path);
	expect_refusal(CHANNELS NETSWITCH
		       "fibers = (\n" FIBER_A "\n);\n"
		       "claims = {\n"
		       "  socket_group = \"no-such-group\"; " MARK "\n};\n",
		       AT_LOAD,
		       "claims.socket_group \"no-such-group\": no "
		       "such group");
	expect_refusal(CHANNELS NETSWITCH "fibers = (\n" FIBER_A "\n);\n"
					  "claims = {\n"
					  "  waiting_per_uid = 0; " MARK
					  "\n};\n",
		       AT_LOAD, "claims.waiting_per_uid = 0 is out of range");
	expect_refusal(CHANNELS NETSWITCH "fibers = (\n" FIBER_A "\n);\n"
					  "claims = {\n"
					  "  first_message_ms = 5; " MARK
					  "\n};\n",
		       AT_LOAD, "claims.first_message_ms = 5 is out of range");
	expect_refusal(CHANNELS NETSWITCH "fibers = (\n" FIBER_A "\n);\n"
					  "claims = {\n"
					  "  socket_mode = 0666; " MARK
					  "\n};\n",
		       AT_LOAD, "socket_mode");
}

static void
test_tx_without_grant_ok(void)
{
	/* as kill.conf: tx names a ring the fiber holds only "r" on */
	expect_ok(CHANNELS NETSWITCH
		  "fibers = (\n" FIBER_A ",\n"
		  "  { name = \"b\"; lcore = 3; kind = \"reflect\"; "
		  "rx = 0x0600; tx = 0x0601;\n"
		  "    grants = ( { channel = 0x0600; perm = \"r\"; },\n"
		  "               { channel = 0x0601; perm = \"r\"; } ); }\n"
		  ");\n");
}

/* ------------------------------------------------------------------ */
/* cfg_check refusals                                                 */
/* ------------------------------------------------------------------ */

static void
test_unknown_channel_grant(void)
{
	expect_refusal(CHANNELS NETSWITCH
		       "fibers = (\n"
		       "  { name = \"a\"; lcore = 2; kind = \"rxonly\"; "
		       "rx = 0x0500;\n"
		       "    grants = ( { channel = 0x0500; perm = \"r\"; },\n"
		       "               { channel = 0x0999; perm = \"w\"; } "
		       "); } " MARK "\n"
		       ");\n",
		       AT_CHECK, "0x0999");
}

static void
test_unknown_channel_dispatch(void)
{
	expect_refusal(CHANNELS
		       "netswitch = {\n"
		       "  dispatch = (\n"
		       "    { ethertype = 0x0800; channel = 0x0500; },\n"
		       "    { ethertype = 0x88B5; channel = 0x0999; } " MARK
		       "\n"
		       "  );\n"
		       "  tx = [ 0x0501 ];\n"
		       "};\n"
		       "fibers = (\n" FIBER_A "\n);\n",
		       AT_CHECK, "0x0999");
}

static void
test_unknown_channel_tx(void)
{
	expect_refusal(CHANNELS "netswitch = {\n"
				"  dispatch = ( { ethertype = 0x0800; "
				"channel = 0x0500; } );\n"
				"  tx = [ 0x0501,\n"
				"         0x0999 ]; " MARK "\n"
				"};\n"
				"fibers = (\n" FIBER_A "\n);\n",
		       AT_CHECK, "0x0999");
}

static void
test_unknown_channel_rx(void)
{
	expect_refusal(CHANNELS NETSWITCH
		       "fibers = (\n" FIBER_A ",\n"
		       "  { name = \"b\"; lcore = 3; kind = \"rxonly\"; " MARK
		       "\n"
		       "    rx = 0x0998; }\n"
		       ");\n",
		       AT_CHECK, "0x0998");
}

static void
test_two_writers(void)
{
	expect_refusal(CHANNELS NETSWITCH
		       "fibers = (\n" FIBER_A ",\n"
		       "  { name = \"b\"; lcore = 3; kind = \"rxonly\"; "
		       "rx = 0x0600;\n"
		       "    grants = ( { channel = 0x0600; perm = \"r\"; },\n"
		       "               { channel = 0x0501; perm = \"w\"; } "
		       "); } " MARK "\n"
		       ");\n",
		       AT_CHECK, "two writers");
}

static void
test_two_writers_netswitch(void)
{
	/* 0x0500 is routed: the NetSwitch writes it */
	expect_refusal(CHANNELS NETSWITCH
		       "fibers = (\n" FIBER_A ",\n"
		       "  { name = \"b\"; lcore = 3; kind = \"rxonly\"; "
		       "rx = 0x0600;\n"
		       "    grants = ( { channel = 0x0600; perm = \"r\"; },\n"
		       "               { channel = 0x0500; perm = \"rw\"; } "
		       "); } " MARK "\n"
		       ");\n",
		       AT_CHECK, "two writers on channel 0x0500");
}

static void
test_two_readers(void)
{
	expect_refusal(CHANNELS NETSWITCH
		       "fibers = (\n" FIBER_A ",\n"
		       "  { name = \"b\"; lcore = 3; kind = \"rxonly\"; "
		       "rx = 0x0500;\n"
		       "    grants = ( { channel = 0x0500; perm = \"r\"; } ); "
		       "} " MARK "\n"
		       ");\n",
		       AT_CHECK, "two readers");
}

static void
test_two_readers_netswitch(void)
{
	/* 0x0501 is in netswitch.tx: the NetSwitch reads it */
	expect_refusal(CHANNELS NETSWITCH
		       "fibers = (\n" FIBER_A ",\n"
		       "  { name = \"b\"; lcore = 3; kind = \"rxonly\"; "
		       "rx = 0x0600;\n"
		       "    grants = ( { channel = 0x0600; perm = \"r\"; },\n"
		       "               { channel = 0x0501; perm = \"r\"; } "
		       "); } " MARK "\n"
		       ");\n",
		       AT_CHECK, "two readers on channel 0x0501");
}

static void
test_fiber_lcore_disabled(void)
{
	expect_refusal(CHANNELS NETSWITCH
		       "fibers = (\n"
		       "  { name = \"a\"; lcore = 5; kind = \"reflect\"; " MARK
		       "\n"
		       "    rx = 0x0500; tx = 0x0501;\n"
		       "    grants = ( { channel = 0x0500; perm = \"r\"; },\n"
		       "               { channel = 0x0501; perm = \"w\"; } ); "
		       "}\n"
		       ");\n",
		       AT_CHECK, "lcore 5");
}

/* Any step may share any lcore: a fiber on the main lcore, a fiber on the
 * NetSwitch's, the NetSwitch on the main lcore. */
static void
test_fiber_on_main_lcore(void)
{
	expect_ok(CHANNELS NETSWITCH
		  "fibers = (\n"
		  "  { name = \"a\"; lcore = 0; kind = \"reflect\";\n"
		  "    rx = 0x0500; tx = 0x0501;\n"
		  "    grants = ( { channel = 0x0500; perm = \"r\"; },\n"
		  "               { channel = 0x0501; perm = \"w\"; } ); }\n"
		  ");\n");
}

static void
test_fiber_on_netswitch_lcore(void)
{
	expect_ok(CHANNELS NETSWITCH
		  "fibers = (\n"
		  "  { name = \"a\"; lcore = 1; kind = \"reflect\";\n"
		  "    rx = 0x0500; tx = 0x0501;\n"
		  "    grants = ( { channel = 0x0500; perm = \"r\"; },\n"
		  "               { channel = 0x0501; perm = \"w\"; } ); }\n"
		  ");\n");
}

static void
test_netswitch_lcore_disabled(void)
{
	expect_refusal(CHANNELS "netswitch = { " MARK "\n"
				"  lcore = 7;\n"
				"  dispatch = ( { ethertype = 0x0800; "
				"channel = 0x0500; } );\n"
				"};\n"
				"fibers = (\n" FIBER_A "\n);\n",
		       AT_CHECK, "lcore 7");
}

static void
test_netswitch_on_main_lcore(void)
{
	expect_ok(CHANNELS "netswitch = {\n"
			   "  lcore = 0;\n"
			   "  dispatch = ( { ethertype = 0x0800; "
			   "channel = 0x0500; } );\n"
			   "  tx = [ 0x0501 ];\n"
			   "};\n"
			   "fibers = (\n" FIBER_A "\n);\n");
}

static void
test_no_reader(void)
{
	expect_refusal(CHANNELS
		       "netswitch = {\n"
		       "  dispatch = (\n"
		       "    { ethertype = 0x0800; channel = 0x0500; },\n"
		       "    { ethertype = 0x4C57; channel = 0x0600; } " MARK
		       "\n"
		       "  );\n"
		       "};\n"
		       "fibers = (\n" FIBER_A "\n);\n",
		       AT_CHECK, "no reader");
}

/* ------------------------------------------------------------------ */
/* cfg_load refusals                                                  */
/* ------------------------------------------------------------------ */

static void
test_too_many_grants(void)
{
	char text[8192];
	size_t n;
	int i;

	n = (size_t)snprintf(text, sizeof(text),
			     "channels = ( { id = 0x0500; } );\n"
			     "fibers = (\n"
			     "  { name = \"greedy\"; lcore = 2; "
			     "kind = \"rxonly\"; rx = 0x0500;\n"
			     "    grants = (\n");
	for (i = 0; i < 66; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "      { channel = 0x%04x; perm = \"r\"; "
				      "}%s%s\n",
				      0x1000 + i, i < 65 ? "," : "",
				      i == 64 ? " " MARK : "");
	snprintf(text + n, sizeof(text) - n, "    ); }\n);\n");
	CU_ASSERT_FATAL(n < sizeof(text) - 32);
	expect_refusal(text, AT_LOAD,
		       "fiber 'greedy' has 66 grants; a CSpace holds at most "
		       "64");
}

static void
test_string_for_number(void)
{
	expect_refusal(CHANNELS "port = {\n"
				"  rx_desc = \"many\"; " MARK "\n"
				"};\n",
		       AT_LOAD,
		       "port.rx_desc must be an integer, not the "
		       "string \"many\"");
}

static void
test_float_for_number(void)
{
	expect_refusal("channels = (\n"
		       "  { id = 0x0500; slots = 25.6; } " MARK "\n"
		       ");\n",
		       AT_LOAD, "slots must be an integer");
}

static void
test_slots_not_power_of_two(void)
{
	expect_refusal("channels = (\n"
		       "  { id = 0x0500; },\n"
		       "  { id = 0x0501;\n"
		       "    slots = 100; } " MARK "\n"
		       ");\n",
		       AT_LOAD, "100 is not a power of two");
}

static void
test_spin_out_of_range(void)
{
	expect_refusal(CHANNELS "idle = {\n"
				"  spin_us = 2000000; " MARK "\n"
				"};\n",
		       AT_LOAD, "spin_us = 2000000 is out of range");
}

static void
test_slot_size_zero(void)
{
	expect_refusal("channels = (\n"
		       "  { id = 0x0500; slot_size = 0; } " MARK "\n"
		       ");\n",
		       AT_LOAD, "slot_size = 0 is out of range");
}

static void
test_slot_size_too_big(void)
{
	expect_refusal("channels = (\n"
		       "  { id = 0x0500; slot_size = 65536; } " MARK "\n"
		       ");\n",
		       AT_LOAD, "65536");
}

static void
test_duplicate_channel(void)
{
	expect_refusal("channels = (\n"
		       "  { id = 0x0500; },\n"
		       "  { id = 0x0500; name = \"again\"; } " MARK "\n"
		       ");\n",
		       AT_LOAD, "duplicate channel id 0x0500");
}

static void
test_name_too_long(void)
{
	expect_refusal(
		"channels = (\n"
		"  { id = 0x0500;\n"
		"    name = \"abcdefghijklmnopqrstuvwxyz0123456\"; } " MARK "\n"
		");\n",
		AT_LOAD, "too long");
}

static void
test_bad_perm(void)
{
	expect_refusal(CHANNELS "fibers = (\n"
				"  { name = \"a\"; lcore = 2; "
				"kind = \"rxonly\"; rx = 0x0500;\n"
				"    grants = ( { channel = 0x0500;\n"
				"                 perm = \"x\"; } ); } " MARK
				"\n"
				");\n",
		       AT_LOAD, "perm \"x\" is not \"r\", \"w\" or \"rw\"");
}

static void
test_bad_kind(void)
{
	expect_refusal(CHANNELS "fibers = (\n"
				"  { name = \"a\"; lcore = 2;\n"
				"    kind = \"bounce\"; rx = 0x0500; } " MARK
				"\n"
				");\n",
		       AT_LOAD, "kind \"bounce\"");
}

/* A utcp fiber reading 0x0500 and binding ports, @p binds its list body. */
#define UTCP_FIBER(binds)                                                      \
	CHANNELS NETSWITCH                                                     \
		"fibers = (\n"                                                 \
		"  { name = \"u\"; lcore = 2; kind = \"utcp\"; "               \
		"rx = 0x0500;\n"                                               \
		"    grants = ( { channel = 0x0500; perm = \"r\"; } "          \
		");\n"                                                         \
		"    bind = (\n" binds "    ); }\n"                            \
		");\n"

static void
test_bind_twice(void)
{
	expect_refusal(UTCP_FIBER("      { port = 7; channel = 0x0600; },\n"
				  "      { port = 7; channel = 0x0601; } " MARK
				  "\n"),
		       AT_LOAD, "binds port 7 twice");
}

static void
test_bind_unknown_channel(void)
{
	expect_refusal(
		UTCP_FIBER("      { port = 7; channel = 0x0999; } " MARK "\n"),
		AT_CHECK, "channel 0x0999, which is not in 'channels'");
}

static void
test_bind_bad_port(void)
{
	expect_refusal(
		UTCP_FIBER("      { port = 65536; channel = 0x0600; } " MARK
			   "\n"),
		AT_LOAD, "port");
}

static void
test_bind_wrong_kind(void)
{
	expect_refusal(CHANNELS NETSWITCH
		       "fibers = (\n"
		       "  { name = \"a\"; lcore = 2; kind = \"reflect\"; "
		       "rx = 0x0500; tx = 0x0501;\n"
		       "    bind = ( { port = 7; channel = 0x0600; } ); } " MARK
		       "\n"
		       ");\n",
		       AT_LOAD, "'bind' is a key of kind \"utcp\" only");
}

static void
test_app_wrong_kind(void)
{
	expect_refusal(
		CHANNELS NETSWITCH
		"fibers = (\n"
		"  { name = \"u\"; lcore = 2; kind = \"utcp\"; rx = 0x0500;\n"
		"    app = 0x0600; } " MARK "\n"
		");\n",
		AT_LOAD, "'app' is a key of kind \"lwf\" only");
}

/* A membrane fiber on 0x0500/0x0501; @p keys its kind-specific keys. */
#define MEMBRANE_FIBER(keys)                                                   \
	CHANNELS NETSWITCH                                                     \
		"fibers = (\n"                                                 \
		"  { name = \"m\"; lcore = 2; kind = \"membrane\"; "           \
		"rx = 0x0500; tx = 0x0501;\n" keys                             \
		"    grants = ( { channel = 0x0500; perm = \"r\"; } "          \
		"); }\n"                                                       \
		");\n"

static void
test_membrane_ok(void)
{
	expect_ok(MEMBRANE_FIBER("    ip = \"10.0.0.2\"; http = false;\n"));
}

static void
test_membrane_bad_ip(void)
{
	expect_refusal(MEMBRANE_FIBER("    ip = \"10.0.0.256\"; " MARK "\n"),
		       AT_LOAD, "is not an IPv4 address");
}

static void
test_membrane_no_ip(void)
{
	expect_refusal(CHANNELS NETSWITCH
		       "fibers = (\n"
		       "  { name = \"m\"; lcore = 2; kind = \"membrane\"; " MARK
		       "\n"
		       "    rx = 0x0500; tx = 0x0501; http = false; }\n"
		       ");\n",
		       AT_LOAD, "has no 'ip'");
}

static void
test_membrane_http_without_vfs(void)
{
	expect_refusal(CHANNELS NETSWITCH
		       "fibers = (\n"
		       "  { name = \"m\"; lcore = 2; kind = \"membrane\"; " MARK
		       "\n"
		       "    rx = 0x0500; tx = 0x0501; ip = \"10.0.0.2\"; }\n"
		       ");\n",
		       AT_LOAD, "serves HTTP but has no 'vfs_req'");
}

/* The HTTP limits: in range, and the target within the head. */
static void
test_membrane_http_limits(void)
{
	expect_ok(MEMBRANE_FIBER("    ip = \"10.0.0.2\"; http = false;\n"
				 "    http_max_conns = 4096; http_max_head = "
				 "1024;\n    http_max_target = 992;\n"));
	expect_refusal(MEMBRANE_FIBER("    ip = \"10.0.0.2\"; http = false;\n"
				      "    http_max_conns = 0; " MARK "\n"),
		       AT_LOAD, "http_max_conns = 0 is out of range 1..16384");
	expect_refusal(CHANNELS NETSWITCH
		       "fibers = (\n"
		       "  { name = \"m\"; lcore = 2; kind = \"membrane\"; " MARK
		       "\n"
		       "    rx = 0x0500; tx = 0x0501; ip = \"10.0.0.2\";\n"
		       "    http = false; http_max_head = 2048;\n"
		       "    http_max_target = 2020; }\n"
		       ");\n",
		       AT_LOAD, "http_max_target 2020 leaves no room");
}

static void
test_membrane_vfs_unknown_channel(void)
{
	expect_refusal(CHANNELS NETSWITCH
		       "fibers = (\n"
		       "  { name = \"m\"; lcore = 2; kind = \"membrane\"; " MARK
		       "\n"
		       "    rx = 0x0500; tx = 0x0501; ip = \"10.0.0.2\";\n"
		       "    vfs_req = 0x2000; vfs_rsp = 0x0601; }\n"
		       ");\n",
		       AT_CHECK, "channel 0x2000 (vfs_req), which is not in");
}

static void
test_ip_on_wrong_kind(void)
{
	expect_refusal(CHANNELS NETSWITCH
		       "fibers = (\n"
		       "  { name = \"a\"; lcore = 2; kind = \"rxonly\"; "
		       "rx = 0x0500;\n"
		       "    ip = \"10.0.0.2\"; } " MARK "\n"
		       ");\n",
		       AT_LOAD, "'ip' is a key of kind \"membrane\" only");
}

static void
test_vfs_relative_root(void)
{
	expect_refusal(CHANNELS NETSWITCH
		       "fibers = (\n"
		       "  { name = \"v\"; lcore = 2; kind = \"vfs\"; "
		       "rx = 0x0600; tx = 0x0601;\n"
		       "    root = \"www\"; } " MARK "\n"
		       ");\n",
		       AT_LOAD, "is not an absolute path");
}

static void
test_vfs_no_root(void)
{
	expect_refusal(CHANNELS NETSWITCH
		       "fibers = (\n"
		       "  { name = \"v\"; lcore = 2; kind = \"vfs\"; " MARK "\n"
		       "    rx = 0x0600; tx = 0x0601; }\n"
		       ");\n",
		       AT_LOAD, "has no 'root'");
}

static void
test_bad_ethertype(void)
{
	expect_refusal(CHANNELS
		       "netswitch = {\n"
		       "  dispatch = (\n"
		       "    { ethertype = 0x05DC; channel = 0x0500; } " MARK
		       "\n"
		       "  );\n"
		       "};\n",
		       AT_LOAD, "ethertype = 0x05dc is out of range");
}

static void
test_bad_burst(void)
{
	expect_refusal(CHANNELS "netswitch = {\n"
				"  lcore = 1;\n"
				"  burst = 0; " MARK "\n"
				"};\n",
		       AT_LOAD, "netswitch.burst = 0 is out of range 1..64");
	expect_refusal(CHANNELS "netswitch = {\n"
				"  burst = 65; " MARK "\n"
				"};\n",
		       AT_LOAD, "netswitch.burst = 65");
}

static void
test_too_many_routes(void)
{
	char text[4096];
	size_t n;
	int i;

	n = (size_t)snprintf(text, sizeof(text),
			     "channels = ( { id = 0x0500; } );\n"
			     "netswitch = {\n  dispatch = (\n");
	for (i = 0; i < NETSWITCH_MAX_ROUTES + 2; i++)
		n += (size_t)snprintf(
			text + n, sizeof(text) - n,
			"    { ethertype = 0x%04x; "
			"channel = 0x0500; }%s%s\n",
			0x0800 + i, i < NETSWITCH_MAX_ROUTES + 1 ? "," : "",
			i == NETSWITCH_MAX_ROUTES ? " " MARK : "");
	snprintf(text + n, sizeof(text) - n, "  );\n};\n");
	expect_refusal(text, AT_LOAD, "has 18 items; at most 16");
}

static void
test_syntax_error(void)
{
	expect_refusal(CHANNELS "port = {\n"
				"  rx_desc = ; " MARK "\n"
				"};\n",
		       AT_LOAD, "syntax error");
}

static void
test_unknown_key(void)
{
	expect_refusal(CHANNELS "port = {\n"
				"  rx_desc = 512;\n"
				"  tx_dsc = 512; " MARK "\n"
				"};\n",
		       AT_LOAD, "unknown key 'tx_dsc' in 'port'");
}

/* inside a list element too: a typo there would silently drop a grant */
static void
test_unknown_key_in_grant(void)
{
	expect_refusal(CHANNELS "fibers = (\n"
				"  { name = \"a\"; lcore = 2; "
				"kind = \"rxonly\"; rx = 0x0500;\n"
				"    grants = ( { channel = 0x0500;\n"
				"                 prem = \"r\"; } ); } " MARK
				"\n"
				");\n",
		       AT_LOAD, "unknown key 'prem' in 'fibers[0].grants[0]'");
}

static void
test_unknown_group(void)
{
	expect_refusal(CHANNELS "\n"
				"netswich = { lcore = 1; }; " MARK "\n",
		       AT_LOAD, "unknown key 'netswich'");
}

/* The whole file lacks it: line 0, no line to point at. */
static void
test_no_channels(void)
{
	char path[CFG_PATH_LEN];

	CU_ASSERT_FATAL(write_tmp("/tmp", NULL, "port = { mbufs = 1023; };\n",
				  path, sizeof(path)) == 0);
	expect_at(path, AT_LOAD, path, 0, "no 'channels'");
	unlink(path);
}

static void
test_missing_file(void)
{
	static struct cfg c;
	char err[CFG_ERR_LEN] = "";

	CU_ASSERT_EQUAL(
		cfg_load(&c, "/tmp/no/such/ionswitchd.conf", err, sizeof(err)),
		-EINVAL);
	CU_ASSERT_EQUAL(strncmp(err, "/tmp/no/such/ionswitchd.conf: ", 30), 0);
	cfg_free(&c);
}

/* A refusal inside an @include names the included file. */
static void
test_include_names_file(void)
{
	static const char inc[] = "channels = (\n"
				  "  { id = 0x0500; },\n"
				  "  { id = 0x0501; slots = 3; } " MARK "\n"
				  ");\n";
	static const char inc_ns[] = CHANNELS "netswitch = {\n"
					      "  lcore = 9; " MARK "\n"
					      "};\n";
	char dir[] = "/tmp/cfgtest-dir-XXXXXX";
	char top[CFG_PATH_LEN], sub[CFG_PATH_LEN];
	int ns_line;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	CU_ASSERT_FATAL(write_tmp(dir, "inc.conf", inc, sub, sizeof(sub)) == 0);
	CU_ASSERT_FATAL(write_tmp(dir, "top.conf",
				  "# top\n@include \"inc.conf\"\n", top,
				  sizeof(top)) == 0);
	expect_at(top, AT_LOAD, sub, marked_line(inc), "power of two");

	/* cfg_check too: the netswitch group is the included file's */
	CU_ASSERT_FATAL(write_tmp(dir, "inc.conf", inc_ns, sub, sizeof(sub)) ==
			0);
	ns_line = marked_line(inc_ns);
	expect_at(top, AT_CHECK, sub, ns_line - 1, "lcore 9");

	/* a syntax error there, too */
	CU_ASSERT_FATAL(write_tmp(dir, "inc.conf", "a = 1;\nb = ;\n", sub,
				  sizeof(sub)) == 0);
	expect_at(top, AT_LOAD, sub, 2, "syntax error");
	unlink(sub);
	unlink(top);
	rmdir(dir);
}

/* ------------------------------------------------------------------ */
/* EAL arguments                                                      */
/* ------------------------------------------------------------------ */

static int
lcore_count(const bool set[CFG_MAX_LCORES])
{
	int i, n = 0;

	for (i = 0; i < CFG_MAX_LCORES; i++)
		n += set[i];
	return n;
}

static void
test_parse_lcores(void)
{
	static const char *const bad[] = {
		"",	   "a",	   "0-",   "3-1",    "0,,1", "(0-3",
		"0@",	   "0@(1", "1,2@", "0-3,",   "128",  "0-200",
		"(0,128)", "0 1",  "-1",   "0@(0-)", "1x",
	};
	bool set[CFG_MAX_LCORES];
	unsigned int i;

	CU_ASSERT_EQUAL(cfg_parse_lcores("0-3,5", set), 0);
	CU_ASSERT_EQUAL(lcore_count(set), 5);
	CU_ASSERT_TRUE(set[0] && set[3] && set[5] && !set[4]);

	CU_ASSERT_EQUAL(cfg_parse_lcores("(0-4)@(0,1),5@1", set), 0);
	CU_ASSERT_EQUAL(lcore_count(set), 6);
	CU_ASSERT_TRUE(set[4] && set[5] && !set[6]);

	CU_ASSERT_EQUAL(cfg_parse_lcores("0@0,1@0,2@1", set), 0);
	CU_ASSERT_EQUAL(lcore_count(set), 3);

	/* the CPUs after @ are not lcores */
	CU_ASSERT_EQUAL(cfg_parse_lcores("1,2@(0-1)", set), 0);
	CU_ASSERT_EQUAL(lcore_count(set), 2);
	CU_ASSERT_TRUE(set[1] && set[2] && !set[0]);

	CU_ASSERT_EQUAL(cfg_parse_lcores("(0-3)@(0,1)", set), 0);
	CU_ASSERT_EQUAL(lcore_count(set), 4);

	CU_ASSERT_EQUAL(cfg_parse_lcores("127", set), 0);
	CU_ASSERT_TRUE(set[127]);
	CU_ASSERT_EQUAL(lcore_count(set), 1);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = cfg_parse_lcores(bad[i], set);

		CU_ASSERT_EQUAL(rc, -EINVAL);
		if (rc != -EINVAL)
			printf("\n  \"%s\" accepted\n", bad[i]);
	}
}

static void
test_eal_lcores_refused(void)
{
	expect_refusal(CHANNELS "eal = {\n"
				"  lcores = \"0-3,x\"; " MARK "\n"
				"};\n",
		       AT_LOAD, "\"0-3,x\" is not an lcore list");
}

/* A struct cfg as the shipped eal group makes it. */
static void
eal_cfg(struct cfg *c, char **argv, int argc)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->eal_argv, argv, (size_t)argc * sizeof(char *));
	c->eal_argc = argc;
}

static bool
argv_is(char **out, int n, const char *const *want, int nwant)
{
	int i;

	if (n != nwant)
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(out[i], want[i]) != 0)
			return false;
	return true;
}

static void
test_merge_eal(void)
{
	static struct cfg c;
	static char *conf[] = {
		"--lcores",	 "(0-3)@(0,1)",
		"--file-prefix", "ionswitchd",
		"--no-pci",	 "-m",
		"256",		 "--single-file-segments",
	};
	char *out[32];
	int n;

	eal_cfg(&c, conf, 8);

	/* nothing on the command line: the config's, after argv0 */
	{
		static const char *const want[] = {
			"prog",
			"--lcores",
			"(0-3)@(0,1)",
			"--file-prefix",
			"ionswitchd",
			"--no-pci",
			"-m",
			"256",
			"--single-file-segments",
		};

		n = cfg_merge_eal(&c, "prog", 0, NULL, out, 32);
		CU_ASSERT_TRUE(argv_is(out, n, want, 9));
	}
	/* -l replaces --lcores; --file-prefix=x replaces file_prefix */
	{
		static char *cli[] = {"-l", "0-1", "--file-prefix=t"};
		static const char *const want[] = {
			"prog",
			"--no-pci",
			"-m",
			"256",
			"--single-file-segments",
			"-l",
			"0-1",
			"--file-prefix=t",
		};

		n = cfg_merge_eal(&c, "prog", 3, cli, out, 32);
		CU_ASSERT_TRUE(argv_is(out, n, want, 8));
	}
	/* -c replaces lcores too; -m512 drops "-m 256" with its value */
	{
		static char *cli[] = {"-c", "0xf", "-m512", "--in-memory"};
		static const char *const want[] = {
			"prog",
			"--file-prefix",
			"ionswitchd",
			"--no-pci",
			"--single-file-segments",
			"-c",
			"0xf",
			"-m512",
			"--in-memory",
		};

		n = cfg_merge_eal(&c, "prog", 4, cli, out, 32);
		CU_ASSERT_TRUE(argv_is(out, n, want, 9));
	}
	/* --lcores=... and --no-pci given again */
	{
		static char *cli[] = {"--lcores=0@0,1@0", "--no-pci"};
		static const char *const want[] = {
			"prog",
			"--file-prefix",
			"ionswitchd",
			"-m",
			"256",
			"--single-file-segments",
			"--lcores=0@0,1@0",
			"--no-pci",
		};

		n = cfg_merge_eal(&c, "prog", 2, cli, out, 32);
		CU_ASSERT_TRUE(argv_is(out, n, want, 8));
	}
	/* no room */
	CU_ASSERT_EQUAL(cfg_merge_eal(&c, "prog", 0, NULL, out, 8), -E2BIG);
	CU_ASSERT_EQUAL(cfg_merge_eal(&c, "prog", 0, NULL, out, 9), 9);
	CU_ASSERT_EQUAL(cfg_merge_eal(&c, "prog", 0, NULL, out, 0), -E2BIG);
	/* borrowed strings: nothing to free */
	memset(&c, 0, sizeof(c));
}

/* The merged lcores of the shipped config, the way main.c uses them. */
static void
test_merge_shipped(void)
{
	static struct cfg c;
	static char *cli[] = {"-l", "0"};
	char path[CFG_PATH_LEN], err[CFG_ERR_LEN] = "";
	bool set[CFG_MAX_LCORES];
	char *out[CFG_MAX_EAL_ARGS * 2 + 8];
	int i, n;

	src_path(path, sizeof(path), "config/ionswitchd.conf");
	CU_ASSERT_EQUAL_FATAL(cfg_load(&c, path, err, sizeof(err)), 0);
	n = cfg_merge_eal(&c, "ionswitchd", 2, cli, out,
			  (int)(sizeof(out) / sizeof(out[0])));
	CU_ASSERT_EQUAL(n, 8);
	for (i = 1; i < n; i++)
		CU_ASSERT_PTR_NULL(strstr(out[i], "(0-1)"));
	CU_ASSERT_STRING_EQUAL(out[n - 1], "0");
	CU_ASSERT_EQUAL(cfg_parse_lcores(out[n - 1], set), 0);
	/* lcore 1 is gone: the NetSwitch and the fibers cannot run */
	CU_ASSERT_EQUAL(cfg_check(&c, set, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "lcore 1"));
	cfg_free(&c);
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{"shipped ionswitchd.conf", test_shipped},
		{"shipped ionswitchd-af_xdp.conf", test_shipped_af_xdp},
		{"integration mix.conf", test_mix},
		{"integration kill.conf", test_kill},
		{"integration utcp.conf", test_utcp},
		{"integration lwf.conf", test_lwf},
		{"defaults", test_defaults},
		{"base config ok", test_base_ok},
		{"claims: defaults, group, refusals", test_claims},
		{"tx without a grant ok", test_tx_without_grant_ok},
		{"unknown channel in a grant", test_unknown_channel_grant},
		{"unknown channel in dispatch", test_unknown_channel_dispatch},
		{"unknown channel in tx", test_unknown_channel_tx},
		{"unknown channel in fiber rx", test_unknown_channel_rx},
		{"two writers", test_two_writers},
		{"two writers: NetSwitch", test_two_writers_netswitch},
		{"two readers", test_two_readers},
		{"two readers: NetSwitch", test_two_readers_netswitch},
		{"fiber lcore not enabled", test_fiber_lcore_disabled},
		{"fiber on main lcore", test_fiber_on_main_lcore},
		{"fiber on NetSwitch lcore", test_fiber_on_netswitch_lcore},
		{"NetSwitch lcore not enabled", test_netswitch_lcore_disabled},
		{"NetSwitch on main lcore", test_netswitch_on_main_lcore},
		{"routed ring without reader", test_no_reader},
		{"more than 64 grants", test_too_many_grants},
		{"string for a number", test_string_for_number},
		{"float for a number", test_float_for_number},
		{"slots not a power of two", test_slots_not_power_of_two},
		{"idle.spin_us out of range", test_spin_out_of_range},
		{"slot_size 0", test_slot_size_zero},
		{"slot_size > 65535", test_slot_size_too_big},
		{"duplicate channel id", test_duplicate_channel},
		{"name too long", test_name_too_long},
		{"bad perm", test_bad_perm},
		{"bad kind", test_bad_kind},
		{"utcp: a port bound twice", test_bind_twice},
		{"utcp: bind to an unknown channel", test_bind_unknown_channel},
		{"utcp: bind port out of range", test_bind_bad_port},
		{"bind on a non-utcp fiber", test_bind_wrong_kind},
		{"app on a non-lwf fiber", test_app_wrong_kind},
		{"membrane: minimal", test_membrane_ok},
		{"membrane: bad ip", test_membrane_bad_ip},
		{"membrane: no ip", test_membrane_no_ip},
		{"membrane: http without vfs rings",
		 test_membrane_http_without_vfs},
		{"membrane: HTTP limits", test_membrane_http_limits},
		{"membrane: vfs_req not a channel",
		 test_membrane_vfs_unknown_channel},
		{"ip on a non-membrane fiber", test_ip_on_wrong_kind},
		{"vfs: relative root", test_vfs_relative_root},
		{"vfs: no root", test_vfs_no_root},
		{"bad ethertype", test_bad_ethertype},
		{"bad burst", test_bad_burst},
		{"too many routes", test_too_many_routes},
		{"syntax error", test_syntax_error},
		{"unknown key", test_unknown_key},
		{"unknown key in a grant", test_unknown_key_in_grant},
		{"unknown group", test_unknown_group},
		{"no channels", test_no_channels},
		{"missing file", test_missing_file},
		{"@include names its file", test_include_names_file},
		{"eal.lcores malformed", test_eal_lcores_refused},
		{"cfg_parse_lcores", test_parse_lcores},
		{"cfg_merge_eal", test_merge_eal},
		{"cfg_merge_eal on the shipped config", test_merge_shipped},
	};
	CU_pSuite suite;
	unsigned int i, failed;

	if (argc > 1)
		srcroot = argv[1];
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	suite = CU_add_suite("config", NULL, NULL);
	if (suite == NULL)
		return 2;
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (CU_add_test(suite, tests[i].name, tests[i].fn) == NULL)
			return 2;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed() + CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed != 0 ? 1 : 0;
}
