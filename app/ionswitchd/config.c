/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ionswitchd's configuration loader (see config.h).
 *
 * cfg_load() walks the libconfig tree once, copies every value out into
 * struct cfg (so libconfig can be freed before returning) and refuses the
 * first malformed value with "FILE:LINE: sentence", FILE and LINE being
 * those of the offending setting, which may sit in an @include'd file.
 *
 * Defaults (config/ionswitchd.conf lists every key):
 *  - eal: no lcores (EAL's own default: every CPU), file_prefix
 *    "ionswitchd", no args;
 *  - port: devargs as in ionswitchd.conf, 1024 descriptors each way, 8191
 *    mbufs, promiscuous;
 *  - netswitch: lcore 1, burst 32, no routes, no TX rings;
 *  - stats.period 5, idle.polls 256, idle.sleep_us 200, idle.doorbells
 *    true, shutdown.drain_ms 2000;
 *  - a channel's name, slots and slot_size default to the well-known
 *    channel's (ion_channel_lookup(), UTCP as in config.h), else to a
 *    network ring's.
 * `channels` has no default: every ring the daemon creates lands in shared
 * memory under its id, and a silent default table would create rings no
 * one asked for, so a file without `channels` is refused.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>
#include <rte_common.h>

#include "config.h"
#include "config_impl.h"

#define DEF_FILE_PREFIX "ionswitchd"
#define DEF_DEVARGS                                                            \
	"net_virtio_user0,path=/run/ionswitchd/vhost.sock,queues=1,"           \
	"queue_size=1024"
#define DEF_DESC	  1024
#define DEF_MBUFS	  8191
#define DEF_NS_LCORE	  1
#define DEF_BURST	  32
#define DEF_STATS_PERIOD  5
#define DEF_IDLE_POLLS	  256
#define DEF_IDLE_SLEEP_US 200
#define DEF_IDLE_SPIN_US  0
#define DEF_DRAIN_MS	  2000

/* get_int()'s default of a key that must be given */
#define REQUIRED LLONG_MIN

/* What one cfg_load() call needs to name a setting's place. */
struct ld {
	const char *path;	/* as given: libconfig names it so */
	char dir[CFG_PATH_LEN]; /* where @include finds its files */
	char *err;
	size_t errlen;
};

/*
 * The file @p name (as libconfig records it) is, as a path the user can
 * open: libconfig 1.5 records an @include by the bare name written in the
 * file, resolved against the include directory.
 */
void
cfg_file_path(const char *top, const char *dir, const char *name, char *out,
	      size_t len)
{
	if (name == NULL || strcmp(name, top) == 0 || name[0] == '/' ||
	    dir[0] == '\0')
		snprintf(out, len, "%s", name != NULL ? name : top);
	else
		snprintf(out, len, "%s/%s", dir, name);
}

void
cfg_dir_of(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(out, len, ".");
	else if (slash == path)
		snprintf(out, len, "/");
	else
		snprintf(out, len, "%.*s", (int)(slash - path), path);
}

int
cfg_vrefuse(char *err, size_t errlen, const char *file, int line,
	    const char *fmt, va_list ap)
{
	int n;

	if (err == NULL || errlen == 0)
		return -EINVAL;
	n = snprintf(err, errlen, "%s:%d: ", file, line);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	return -EINVAL;
}

/* Refuse at setting @p s: "FILE:LINE: sentence".  @return -EINVAL. */
static int __attribute__((format(printf, 3, 4)))
refuse(const struct ld *l, const config_setting_t *s, const char *fmt, ...)
{
	char file[CFG_PATH_LEN + CFG_PATH_LEN];
	va_list ap;
	int rc;

	cfg_file_path(l->path, l->dir, config_setting_source_file(s), file,
		      sizeof(file));
	va_start(ap, fmt);
	rc = cfg_vrefuse(l->err, l->errlen, file, config_setting_source_line(s),
			 fmt, ap);
	va_end(ap);
	return rc;
}

static const char *
type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a float";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "a boolean";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	default:
		return "nothing";
	}
}

/* Refuse @p s for not being @p want, quoting it when it is a scalar. */
static int
refuse_type(const struct ld *l, const config_setting_t *s, const char *what,
	    const char *want)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		return refuse(l, s, "%s must be %s, not the string \"%s\"",
			      what, want, config_setting_get_string(s));
	case CONFIG_TYPE_FLOAT:
		return refuse(l, s, "%s must be %s, not the float %g", what,
			      want, config_setting_get_float(s));
	case CONFIG_TYPE_BOOL:
		return refuse(l, s, "%s must be %s, not the boolean %s", what,
			      want,
			      config_setting_get_bool(s) ? "true" : "false");
	default:
		return refuse(l, s, "%s must be %s, not %s", what, want,
			      type_name(s));
	}
}

/* Refuse any member of group @p g not in @p keys (catches typos). */
static int
check_keys(const struct ld *l, const config_setting_t *g, const char *gname,
	   const char *const *keys)
{
	int i, n = config_setting_length(g);

	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g, i);
		const char *name = config_setting_name(m);
		const char *const *k;

		for (k = keys; *k != NULL; k++)
			if (strcmp(*k, name) == 0)
				break;
		if (*k == NULL) {
			if (gname == NULL)
				return refuse(
					l, m,
					"unknown key '%s' at the top level",
					name);
			return refuse(l, m, "unknown key '%s' in '%s'", name,
				      gname);
		}
	}
	return 0;
}

/* Integer value of setting @p s in [min, max]; @p what names it. */
static int
int_value(const struct ld *l, const config_setting_t *s, const char *what,
	  long long min, long long max, bool hex, long long *out)
{
	long long v;

	if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else
		return refuse_type(l, s, what, "an integer");
	if (v < min || v > max) {
		if (hex && v >= 0)
			return refuse(l, s,
				      "%s = 0x%04llx is out of range "
				      "0x%04llx..0x%04llx",
				      what, (unsigned long long)v,
				      (unsigned long long)min,
				      (unsigned long long)max);
		return refuse(l, s, "%s = %lld is out of range %lld..%lld",
			      what, v, min, max);
	}
	*out = v;
	return 0;
}

/*
 * Member @p key of group @p g as an integer in [min, max]; missing, it
 * takes @p def, or is refused when @p def is REQUIRED.
 */
static int
get_int(const struct ld *l, const config_setting_t *g, const char *gname,
	const char *key, long long min, long long max, long long def, bool hex,
	long long *out)
{
	const config_setting_t *s =
		g != NULL ? config_setting_get_member(g, key) : NULL;
	char what[96];

	if (s == NULL) {
		if (def == REQUIRED)
			return refuse(l, g, "%s has no '%s'", gname, key);
		*out = def;
		return 0;
	}
	snprintf(what, sizeof(what), "%s.%s", gname, key);
	return int_value(l, s, what, min, max, hex, out);
}

/* Member @p key of @p g as a string of 1 .. len-1 bytes, or @p def. */
static int
get_str(const struct ld *l, const config_setting_t *g, const char *gname,
	const char *key, const char *def, char *out, size_t len)
{
	const config_setting_t *s =
		g != NULL ? config_setting_get_member(g, key) : NULL;
	const char *v;
	char what[96];

	snprintf(what, sizeof(what), "%s.%s", gname, key);
	if (s == NULL) {
		if (def == NULL)
			return refuse(l, g, "%s has no '%s'", gname, key);
		if (def != out)
			snprintf(out, len, "%s", def);
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return refuse_type(l, s, what, "a string");
	v = config_setting_get_string(s);
	if (v[0] == '\0')
		return refuse(l, s, "%s is empty", what);
	if (strlen(v) >= len)
		return refuse(l, s, "%s \"%s\" is too long (at most %zu bytes)",
			      what, v, len - 1);
	snprintf(out, len, "%s", v);
	return 0;
}

static int
get_bool(const struct ld *l, const config_setting_t *g, const char *gname,
	 const char *key, bool def, bool *out)
{
	const config_setting_t *s =
		g != NULL ? config_setting_get_member(g, key) : NULL;
	char what[96];

	if (s == NULL) {
		*out = def;
		return 0;
	}
	snprintf(what, sizeof(what), "%s.%s", gname, key);
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return refuse_type(l, s, what, "true or false");
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

/* Required member @p key of @p g: one of the strings @p names, as *idx. */
static int
get_enum(const struct ld *l, const config_setting_t *g, const char *gname,
	 const char *key, const char *const *names, int *idx)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	char what[96], list[160] = "";
	const char *v;
	size_t n = 0;
	int i;

	snprintf(what, sizeof(what), "%s.%s", gname, key);
	if (s == NULL)
		return refuse(l, g, "%s has no '%s'", gname, key);
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return refuse_type(l, s, what, "a string");
	v = config_setting_get_string(s);
	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(v, names[i]) == 0) {
			*idx = i;
			return 0;
		}
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"",
				      i == 0	     ? ""
				      : names[i + 1] ? ", "
						     : " or ",
				      names[i]);
		if (n >= sizeof(list))
			break;
	}
	return refuse(l, s, "%s \"%s\" is not %s", what, v, list);
}

/* Top-level group @p name, or NULL if absent. */
static int
get_group(const struct ld *l, const config_t *lc, const char *name,
	  const char *const *keys, config_setting_t **out)
{
	config_setting_t *g = config_lookup(lc, name);

	*out = NULL;
	if (g == NULL)
		return 0;
	if (!config_setting_is_group(g))
		return refuse_type(l, g, name, "a group");
	*out = g;
	return check_keys(l, g, name, keys);
}

/* Member @p key of @p g as a list or array of at most @p max items. */
static int
get_seq(const struct ld *l, const config_setting_t *g, const char *gname,
	const char *key, bool groups, int max, config_setting_t **out)
{
	config_setting_t *s =
		g != NULL ? config_setting_get_member(g, key) : NULL;
	char what[96];
	int n;

	*out = NULL;
	if (s == NULL)
		return 0;
	snprintf(what, sizeof(what), "%s%s%s", gname ? gname : "",
		 gname ? "." : "", key);
	if (groups ? !config_setting_is_list(s)
		   : !config_setting_is_list(s) && !config_setting_is_array(s))
		return refuse_type(l, s, what,
				   groups ? "a list ( ... ) of groups"
					  : "an array [ ... ]");
	n = config_setting_length(s);
	if (n > max)
		return refuse(l, config_setting_get_elem(s, (unsigned int)max),
			      "%s has %d items; at most %d are allowed", what,
			      n, max);
	*out = s;
	return 0;
}

static int
load_eal(const struct ld *l, const config_t *lc, struct cfg *c)
{
	static const char *const keys[] = {"lcores", "file_prefix", "args",
					   NULL};
	config_setting_t *g, *args;
	char lcores[CFG_PATH_LEN] = "", prefix[CFG_PATH_LEN];
	bool set[CFG_MAX_LCORES];
	int i, n, rc;

	rc = get_group(l, lc, "eal", keys, &g);
	if (rc < 0)
		return rc;
	if (g != NULL) {
		c->eal_line = config_setting_source_line(g);
		if (config_setting_get_member(g, "lcores") != NULL) {
			rc = get_str(l, g, "eal", "lcores", NULL, lcores,
				     sizeof(lcores));
			if (rc < 0)
				return rc;
			if (cfg_parse_lcores(lcores, set) < 0)
				return refuse(
					l,
					config_setting_get_member(g, "lcores"),
					"eal.lcores \"%s\" is not an lcore "
					"list "
					"of ids below %d",
					lcores, CFG_MAX_LCORES);
		}
	}
	rc = get_str(l, g, "eal", "file_prefix", DEF_FILE_PREFIX, prefix,
		     sizeof(prefix));
	if (rc < 0)
		return rc;
	/* 4 slots for --lcores and --file-prefix with their values */
	rc = get_seq(l, g, "eal", "args", false, CFG_MAX_EAL_ARGS - 4, &args);
	if (rc < 0)
		return rc;

	if (lcores[0] != '\0') {
		c->eal_argv[c->eal_argc++] = strdup("--lcores");
		c->eal_argv[c->eal_argc++] = strdup(lcores);
	}
	c->eal_argv[c->eal_argc++] = strdup("--file-prefix");
	c->eal_argv[c->eal_argc++] = strdup(prefix);
	n = args != NULL ? config_setting_length(args) : 0;
	for (i = 0; i < n; i++) {
		const config_setting_t *a = config_setting_get_elem(args, i);
		char what[32];

		snprintf(what, sizeof(what), "eal.args[%d]", i);
		if (config_setting_type(a) != CONFIG_TYPE_STRING)
			return refuse_type(l, a, what, "a string");
		c->eal_argv[c->eal_argc++] =
			strdup(config_setting_get_string(a));
	}
	for (i = 0; i < c->eal_argc; i++)
		if (c->eal_argv[i] == NULL) {
			snprintf(l->err, l->errlen, "%s: out of memory",
				 l->path);
			return -ENOMEM;
		}
	return 0;
}

static int
load_port(const struct ld *l, const config_t *lc, struct cfg *c)
{
	static const char *const keys[] = {"devargs", "rx_desc",     "tx_desc",
					   "mbufs",   "promiscuous", NULL};
	config_setting_t *g;
	long long v;
	int rc;

	rc = get_group(l, lc, "port", keys, &g);
	if (rc < 0)
		return rc;
	if (g != NULL)
		c->port_line = config_setting_source_line(g);
	rc = get_str(l, g, "port", "devargs", DEF_DEVARGS, c->devargs,
		     sizeof(c->devargs));
	if (rc == 0)
		rc = get_int(l, g, "port", "rx_desc", 1, UINT16_MAX, DEF_DESC,
			     false, &v);
	if (rc < 0)
		return rc;
	c->rx_desc = (uint16_t)v;
	rc = get_int(l, g, "port", "tx_desc", 1, UINT16_MAX, DEF_DESC, false,
		     &v);
	if (rc < 0)
		return rc;
	c->tx_desc = (uint16_t)v;
	rc = get_int(l, g, "port", "mbufs", 1, UINT32_MAX, DEF_MBUFS, false,
		     &v);
	if (rc < 0)
		return rc;
	c->mbufs = (uint32_t)v;
	return get_bool(l, g, "port", "promiscuous", true, &c->promiscuous);
}

/* Defaults of channel @p id: the well-known table, else a network ring. */
static void
channel_defaults(uint32_t id, struct cfg_channel *ch)
{
	const struct ion_channel_info *wk = ion_channel_lookup(id);

	ch->slots = ION_NET_SLOTS;
	ch->slot_size = ION_NET_SLOT_SIZE;
	if (wk != NULL) {
		snprintf(ch->name, sizeof(ch->name), "%s", wk->name);
		ch->slots = wk->capacity;
		ch->slot_size = wk->slot_size;
	} else if (id == CFG_CH_UTCP_RX) {
		snprintf(ch->name, sizeof(ch->name), "utcp-rx");
	} else if (id == CFG_CH_UTCP_TX) {
		snprintf(ch->name, sizeof(ch->name), "utcp-tx");
	} else {
		snprintf(ch->name, sizeof(ch->name), "ch-0x%04x", id);
	}
}

static int
load_channels(const struct ld *l, const config_t *lc, struct cfg *c)
{
	static const char *const keys[] = {"id", "name", "slots", "slot_size",
					   NULL};
	config_setting_t *list;
	unsigned int i, j, n;
	int rc;

	if (config_lookup(lc, "channels") == NULL)
		return refuse(l, config_root_setting(lc),
			      "no 'channels': list every ring the daemon "
			      "creates");
	rc = get_seq(l, config_root_setting(lc), NULL, "channels", true,
		     CFG_MAX_CHANNELS, &list);
	if (rc < 0)
		return rc;
	n = (unsigned int)config_setting_length(list);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, i);
		struct cfg_channel *ch = &c->channels[i];
		char gname[32];
		long long v;

		snprintf(gname, sizeof(gname), "channels[%u]", i);
		if (!config_setting_is_group(e))
			return refuse_type(l, e, gname, "a group { ... }");
		rc = check_keys(l, e, gname, keys);
		if (rc == 0)
			rc = get_int(l, e, gname, "id", 1, UINT32_MAX, REQUIRED,
				     true, &v);
		if (rc < 0)
			return rc;
		ch->id = (uint32_t)v;
		ch->line = config_setting_source_line(e);
		channel_defaults(ch->id, ch);
		rc = get_str(l, e, gname, "name", ch->name, ch->name,
			     sizeof(ch->name));
		if (rc == 0)
			rc = get_int(l, e, gname, "slots", 2,
				     ION_RING_MAX_CAPACITY, ch->slots, false,
				     &v);
		if (rc < 0)
			return rc;
		if ((v & (v - 1)) != 0)
			return refuse(l, config_setting_get_member(e, "slots"),
				      "%s.slots = %lld is not a power of two",
				      gname, v);
		ch->slots = (uint32_t)v;
		rc = get_int(l, e, gname, "slot_size", 1, UINT16_MAX,
			     ch->slot_size, false, &v);
		if (rc < 0)
			return rc;
		ch->slot_size = (uint32_t)v;
		for (j = 0; j < i; j++) {
			if (c->channels[j].id == ch->id)
				return refuse(l, e,
					      "duplicate channel id 0x%04x "
					      "(first at line %d)",
					      ch->id, c->channels[j].line);
			if (strcmp(c->channels[j].name, ch->name) == 0)
				return refuse(l, e,
					      "duplicate channel name \"%s\" "
					      "(first at line %d)",
					      ch->name, c->channels[j].line);
		}
		c->n_channels = i + 1;
	}
	return 0;
}

static int
load_netswitch(const struct ld *l, const config_t *lc, struct cfg *c)
{
	static const char *const keys[] = {"lcore", "burst", "dispatch", "tx",
					   NULL};
	static const char *const rkeys[] = {"ethertype", "channel", NULL};
	config_setting_t *g, *list;
	unsigned int i, j, n;
	long long v;
	int rc;

	rc = get_group(l, lc, "netswitch", keys, &g);
	if (rc < 0)
		return rc;
	if (g != NULL)
		c->ns_line = config_setting_source_line(g);
	rc = get_int(l, g, "netswitch", "lcore", 0, CFG_MAX_LCORES - 1,
		     DEF_NS_LCORE, false, &v);
	if (rc < 0)
		return rc;
	c->ns_lcore = (unsigned int)v;
	rc = get_int(l, g, "netswitch", "burst", 1, NETSWITCH_MAX_BURST,
		     DEF_BURST, false, &v);
	if (rc < 0)
		return rc;
	c->burst = (uint16_t)v;

	rc = get_seq(l, g, "netswitch", "dispatch", true, NETSWITCH_MAX_ROUTES,
		     &list);
	if (rc < 0)
		return rc;
	n = list != NULL ? (unsigned int)config_setting_length(list) : 0;
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, i);
		struct cfg_route *r = &c->routes[i];
		char gname[40];

		snprintf(gname, sizeof(gname), "netswitch.dispatch[%u]", i);
		if (!config_setting_is_group(e))
			return refuse_type(l, e, gname, "a group { ... }");
		rc = check_keys(l, e, gname, rkeys);
		/* below 0x0600 the field is an 802.3 length, not a type */
		if (rc == 0)
			rc = get_int(l, e, gname, "ethertype", 0x0600, 0xffff,
				     REQUIRED, true, &v);
		if (rc < 0)
			return rc;
		r->route.ethertype = (uint16_t)v;
		rc = get_int(l, e, gname, "channel", 1, UINT32_MAX, REQUIRED,
			     true, &v);
		if (rc < 0)
			return rc;
		r->route.channel = (uint32_t)v;
		r->line = config_setting_source_line(e);
		for (j = 0; j < i; j++)
			if (c->routes[j].route.ethertype == r->route.ethertype)
				return refuse(
					l, e,
					"EtherType 0x%04x is routed twice "
					"(first at line %d)",
					r->route.ethertype, c->routes[j].line);
		c->n_routes = i + 1;
	}

	rc = get_seq(l, g, "netswitch", "tx", false, NETSWITCH_MAX_TX, &list);
	if (rc < 0)
		return rc;
	n = list != NULL ? (unsigned int)config_setting_length(list) : 0;
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, i);
		char what[32];

		snprintf(what, sizeof(what), "netswitch.tx[%u]", i);
		rc = int_value(l, e, what, 1, UINT32_MAX, true, &v);
		if (rc < 0)
			return rc;
		c->tx[i].channel = (uint32_t)v;
		c->tx[i].line = config_setting_source_line(e);
		for (j = 0; j < i; j++)
			if (c->tx[j].channel == c->tx[i].channel)
				return refuse(
					l, e,
					"netswitch.tx lists channel 0x%04x "
					"twice",
					c->tx[i].channel);
		c->n_tx = i + 1;
	}
	return 0;
}

/* One group of a list: @p e, named @p ename ("what[i]") for errors. */
typedef int (*group_fn)(const struct ld *l, const config_setting_t *e,
			const char *ename, unsigned int i, void *arg);

/*
 * A list ( { ... }, ... ) of at most @p max groups, each with only @p keys:
 * @p fn for each, in order.  Beyond @p max, @p too_many (a format taking
 * the fiber's name, the count and @p max) names the first extra group.
 */
static int
walk_groups(const struct ld *l, const config_setting_t *list, const char *what,
	    const struct cfg_fiber *f, unsigned int max, const char *too_many,
	    const char *const *keys, group_fn fn, void *arg)
{
	unsigned int i, n;
	int rc;

	if (!config_setting_is_list(list))
		return refuse_type(l, list, what, "a list ( ... ) of groups");
	n = (unsigned int)config_setting_length(list);
	if (n > max)
		return refuse(l, config_setting_get_elem(list, max), too_many,
			      f->name, n, max);
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, i);
		char ename[80]; /* with ".key", within get_int()'s 96 */

		snprintf(ename, sizeof(ename), "%s[%u]", what, i);
		if (!config_setting_is_group(e))
			return refuse_type(l, e, ename, "a group { ... }");
		rc = check_keys(l, e, ename, keys);
		if (rc == 0)
			rc = fn(l, e, ename, i, arg);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* One of a fiber's grants: { channel; perm; } */
static int
load_grant(const struct ld *l, const config_setting_t *e, const char *ename,
	   unsigned int i, void *arg)
{
	static const char *const perms[] = {"r", "w", "rw", NULL};
	struct cfg_fiber *f = arg;
	struct cfg_grant *gr = &f->grants[i];
	unsigned int j;
	long long v = 0;
	int rc, k;

	rc = get_int(l, e, ename, "channel", 1, UINT32_MAX, REQUIRED, true, &v);
	if (rc < 0)
		return rc;
	gr->channel = (uint32_t)v;
	gr->line = config_setting_source_line(e);
	rc = get_enum(l, e, ename, "perm", perms, &k);
	if (rc < 0)
		return rc;
	gr->perms = k == 0   ? ION_PERM_READ
		    : k == 1 ? ION_PERM_WRITE
			     : ION_PERM_RW;
	/* one capability a channel: a second would replace the first */
	for (j = 0; j < i; j++)
		if (f->grants[j].channel == gr->channel)
			return refuse(l, e,
				      "fiber '%s' is granted channel 0x%04x "
				      "twice (first at line %d)",
				      f->name, gr->channel, f->grants[j].line);
	f->n_grants = i + 1;
	return 0;
}

static int
load_grants(const struct ld *l, const config_setting_t *fg, const char *gname,
	    struct cfg_fiber *f)
{
	static const char *const keys[] = {"channel", "perm", NULL};
	config_setting_t *list = config_setting_get_member(fg, "grants");
	char what[64];

	if (list == NULL)
		return 0;
	snprintf(what, sizeof(what), "%s.grants", gname);
	return walk_groups(l, list, what, f, ION_CSPACE_SLOTS,
			   "fiber '%s' has %u grants; a CSpace holds at most "
			   "%u",
			   keys, load_grant, f);
}

struct binds_arg {
	const struct cfg_fiber *f;
	struct fiber_binds *out;
};

/* One of a fiber's binds: { port; channel; } */
static int
load_bind(const struct ld *l, const config_setting_t *e, const char *ename,
	  unsigned int i, void *arg)
{
	struct binds_arg *a = arg;
	struct fiber_bind *b = &a->out->b[i];
	unsigned int j;
	long long v = 0;
	int rc;

	rc = get_int(l, e, ename, "port", 0, UINT16_MAX, REQUIRED, false, &v);
	if (rc < 0)
		return rc;
	b->port = (uint16_t)v;
	rc = get_int(l, e, ename, "channel", 1, UINT32_MAX, REQUIRED, true, &v);
	if (rc < 0)
		return rc;
	b->channel = (uint32_t)v;
	b->line = config_setting_source_line(e);
	for (j = 0; j < i; j++)
		if (a->out->b[j].port == b->port)
			return refuse(l, e,
				      "fiber '%s' binds port %u twice (first "
				      "at line %d)",
				      a->f->name, b->port, a->out->b[j].line);
	a->out->n = i + 1;
	return 0;
}

/* A list of { port; channel; } (FIBER_P_BINDS), e.g. utcp's bind. */
static int
load_binds(const struct ld *l, const config_setting_t *list, const char *what,
	   const struct cfg_fiber *f, struct fiber_binds *out)
{
	static const char *const keys[] = {"port", "channel", NULL};
	struct binds_arg a = {.f = f, .out = out};

	return walk_groups(l, list, what, f, FIBER_MAX_BINDS,
			   "fiber '%s' binds %u ports; at most %u", keys,
			   load_bind, &a);
}

/* "10.0.0.2" into network byte order. */
static int
get_ipv4(const struct ld *l, const config_setting_t *g, const char *gname,
	 const char *key, uint32_t *out)
{
	char v[INET_ADDRSTRLEN + 1];
	struct in_addr a;
	int rc;

	rc = get_str(l, g, gname, key, NULL, v, sizeof(v));
	if (rc < 0)
		return rc;
	if (inet_pton(AF_INET, v, &a) != 1)
		return refuse(l, config_setting_get_member(g, key),
			      "%s.%s \"%s\" is not an IPv4 address "
			      "(dotted quad, e.g. \"10.0.0.2\")",
			      gname, key, v);
	*out = a.s_addr;
	return 0;
}

/* One key of the fiber's kind, present in group @p fg, by its type. */
static int
load_param(const struct ld *l, const config_setting_t *fg, const char *gname,
	   struct cfg_fiber *f, const struct fiber_param *p)
{
	const config_setting_t *s = config_setting_get_member(fg, p->key);
	char *at = (char *)f->params.bytes + p->off;
	char what[64];
	long long v;
	int rc;

	snprintf(what, sizeof(what), "%s.%s", gname, p->key);
	switch (p->type) {
	case FIBER_P_BOOL:
		return get_bool(l, fg, gname, p->key, false, (bool *)at);
	case FIBER_P_UINT:
	case FIBER_P_CHANNEL:
		if (p->type == FIBER_P_UINT)
			rc = int_value(l, s, what, p->min, p->max, false, &v);
		else
			rc = int_value(l, s, what, 1, UINT32_MAX, true, &v);
		if (rc == 0)
			*(uint32_t *)at = (uint32_t)v;
		return rc;
	case FIBER_P_IPV4:
		return get_ipv4(l, fg, gname, p->key, (uint32_t *)at);
	case FIBER_P_PATH:
		rc = get_str(l, fg, gname, p->key, NULL, at, FIBER_PATH_LEN);
		if (rc == 0 && at[0] != '/')
			return refuse(l, s, "%s \"%s\" is not an absolute path",
				      what, at);
		return rc;
	case FIBER_P_BINDS:
		return load_binds(l, s, what, f, (struct fiber_binds *)at);
	}
	return refuse(l, s, "%s: a key of an unknown type", what);
}

/* Keys of fiber group @p fg: the common ones, or its kind's. */
static int
check_fiber_keys(const struct ld *l, const config_setting_t *fg,
		 const char *gname, const struct cfg_fiber *f)
{
	static const char *const common[] = {"name", "lcore",  "kind", "rx",
					     "tx",   "grants", NULL};
	int i, n = config_setting_length(fg);

	for (i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(fg, i);
		const char *key = config_setting_name(m);
		const struct fiber_kind *const *k;
		const char *const *c;
		char kinds[96] = "";
		size_t len = 0;
		int others = 0;

		for (c = common; *c != NULL && strcmp(*c, key) != 0; c++)
			;
		if (*c != NULL || fiber_kind_param(f->kind, key) != NULL)
			continue;
		for (k = fiber_kinds; *k != NULL; k++)
			if (fiber_kind_param(*k, key) != NULL &&
			    len < sizeof(kinds))
				len += (size_t)snprintf(
					kinds + len, sizeof(kinds) - len,
					"%s\"%s\"", others++ ? " and " : "",
					(*k)->name);
		if (others == 0)
			return refuse(l, m, "unknown key '%s' in '%s'", key,
				      gname);
		return refuse(l, m,
			      "fiber '%s': '%s' is a key of kind%s %s only",
			      f->name, key, others > 1 ? "s" : "", kinds);
	}
	return 0;
}

/* The fiber's kind, by name, from the one table (lib/fiber). */
static int
get_kind(const struct ld *l, const config_setting_t *fg, const char *gname,
	 struct cfg_fiber *f)
{
	const char *names[16];
	unsigned int i;
	int k, rc;

	for (i = 0; fiber_kinds[i] != NULL && i < RTE_DIM(names) - 1; i++)
		names[i] = fiber_kinds[i]->name;
	names[i] = NULL;
	rc = get_enum(l, fg, gname, "kind", names, &k);
	if (rc == 0)
		f->kind = fiber_kinds[k];
	return rc;
}

/* The kind's own keys: given, defaulted, or refused when required. */
static int
load_params(const struct ld *l, const config_setting_t *fg, const char *gname,
	    struct cfg_fiber *f)
{
	const struct fiber_kind *k = f->kind;
	struct fiber_conf fc;
	char why[CFG_ERR_LEN];
	unsigned int i;
	int rc;

	if (k->params_size > sizeof(f->params) ||
	    fiber_params_default(k, f->params.bytes) < 0)
		return refuse(l, fg,
			      "fiber kind \"%s\" has parameters larger "
			      "than the loader holds",
			      k->name);
	for (i = 0; i < k->n_params; i++) {
		const struct fiber_param *p = &k->params[i];

		if (config_setting_get_member(fg, p->key) != NULL)
			rc = load_param(l, fg, gname, f, p);
		else if (p->def == NULL)
			rc = refuse(l, fg, "%s has no '%s' (%s)", gname, p->key,
				    p->help);
		else
			rc = 0;
		if (rc < 0)
			return rc;
	}
	if (k->needs_tx && config_setting_get_member(fg, "tx") == NULL)
		return refuse(l, fg,
			      "fiber '%s' has no 'tx': a \"%s\" fiber writes "
			      "its output there",
			      f->name, k->name);
	fc = (struct fiber_conf){.name = f->name,
				 .kind = k,
				 .lcore = f->lcore,
				 .rx = f->rx,
				 .tx = f->tx,
				 .params = f->params.bytes};
	if (k->check != NULL && k->check(&fc, why, sizeof(why)) < 0)
		return refuse(l, fg, "%s", why);
	return 0;
}

/* A fiber that runs in a process of its own has no lcore, rx or tx here:
 * its grants are all it has. */
static int
check_remote(const struct ld *l, const config_setting_t *fg,
	     const struct cfg_fiber *f)
{
	static const char *const keys[] = {"lcore", "rx", "tx", NULL};
	const char *const *k;

	for (k = keys; *k != NULL; k++) {
		const config_setting_t *s = config_setting_get_member(fg, *k);

		if (s != NULL)
			return refuse(l, s,
				      "fiber '%s' is \"%s\": it runs in a "
				      "process of its own, with no '%s' "
				      "(its grants are its rings)",
				      f->name, f->kind->name, *k);
	}
	return 0;
}

static int
load_fibers(const struct ld *l, const config_t *lc, struct cfg *c)
{
	config_setting_t *list;
	unsigned int i, j, n;
	int rc;

	rc = get_seq(l, config_root_setting(lc), NULL, "fibers", true,
		     CFG_MAX_FIBERS, &list);
	if (rc < 0)
		return rc;
	n = list != NULL ? (unsigned int)config_setting_length(list) : 0;
	for (i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, i);
		struct cfg_fiber *f = &c->fibers[i];
		char gname[32];
		long long v;

		snprintf(gname, sizeof(gname), "fibers[%u]", i);
		if (!config_setting_is_group(e))
			return refuse_type(l, e, gname, "a group { ... }");
		f->line = config_setting_source_line(e);
		rc = get_str(l, e, gname, "name", NULL, f->name,
			     sizeof(f->name));
		if (rc < 0)
			return rc;
		for (j = 0; j < i; j++)
			if (strcmp(c->fibers[j].name, f->name) == 0)
				return refuse(l, e,
					      "duplicate fiber name \"%s\" "
					      "(first at line %d)",
					      f->name, c->fibers[j].line);
		rc = get_kind(l, e, gname, f);
		if (rc == 0)
			rc = check_fiber_keys(l, e, gname, f);
		if (rc < 0)
			return rc;
		if (f->kind->remote) {
			rc = check_remote(l, e, f);
			if (rc < 0)
				return rc;
			goto params;
		}
		rc = get_int(l, e, gname, "lcore", 0, CFG_MAX_LCORES - 1,
			     REQUIRED, false, &v);
		if (rc < 0)
			return rc;
		f->lcore = (unsigned int)v;
		rc = get_int(l, e, gname, "rx", 1, UINT32_MAX, REQUIRED, true,
			     &v);
		if (rc < 0)
			return rc;
		f->rx = (uint32_t)v;
		rc = get_int(l, e, gname, "tx", 1, UINT32_MAX, 0, true, &v);
		if (rc < 0)
			return rc;
		f->tx = (uint32_t)v;
	params:
		rc = load_params(l, e, gname, f);
		if (rc == 0)
			rc = load_grants(l, e, gname, f);
		if (rc < 0)
			return rc;
		c->n_fibers = i + 1;
	}
	return 0;
}

static int
load_runtime(const struct ld *l, const config_t *lc, struct cfg *c)
{
	static const char *const skeys[] = {"period", NULL};
	static const char *const ikeys[] = {"polls", "spin_us", "sleep_us",
					    "doorbells", NULL};
	static const char *const dkeys[] = {"drain_ms", NULL};
	config_setting_t *g;
	long long v;
	int rc;

	rc = get_group(l, lc, "stats", skeys, &g);
	if (rc == 0)
		rc = get_int(l, g, "stats", "period", 0, 86400,
			     DEF_STATS_PERIOD, false, &v);
	if (rc < 0)
		return rc;
	c->stats_period = (unsigned int)v;
	rc = get_group(l, lc, "idle", ikeys, &g);
	if (rc == 0)
		rc = get_int(l, g, "idle", "polls", 0, UINT32_MAX,
			     DEF_IDLE_POLLS, false, &v);
	if (rc < 0)
		return rc;
	c->idle_polls = (uint32_t)v;
	rc = get_int(l, g, "idle", "spin_us", 0, 1000000, DEF_IDLE_SPIN_US,
		     false, &v);
	if (rc < 0)
		return rc;
	c->idle_spin_us = (uint32_t)v;
	rc = get_int(l, g, "idle", "sleep_us", 0, 1000000, DEF_IDLE_SLEEP_US,
		     false, &v);
	if (rc < 0)
		return rc;
	c->idle_sleep_us = (uint32_t)v;
	rc = get_bool(l, g, "idle", "doorbells", true, &c->idle_doorbells);
	if (rc < 0)
		return rc;
	rc = get_group(l, lc, "shutdown", dkeys, &g);
	if (rc == 0)
		rc = get_int(l, g, "shutdown", "drain_ms", 0, 600000,
			     DEF_DRAIN_MS, false, &v);
	if (rc < 0)
		return rc;
	c->drain_ms = (unsigned int)v;
	return 0;
}

/* The claim socket of external fibers: who may connect, and the limits
 * that keep one user from starving the rest (ion_ring.h). */
static int
load_claims(const struct ld *l, const config_t *lc, struct cfg *c)
{
	static const char *const keys[] = {"socket_group", "waiting_per_uid",
					   "first_message_ms", NULL};
	const config_setting_t *s;
	config_setting_t *g;
	struct group gr, *res = NULL;
	char buf[4096];
	long long v;
	int rc;

	c->claims_gid = ION_CLAIMD_HOST_GID;
	rc = get_group(l, lc, "claims", keys, &g);
	if (rc == 0)
		rc = get_int(l, g, "claims", "waiting_per_uid", 1, 64,
			     ION_CLAIMD_DEF_PER_UID, false, &v);
	if (rc < 0)
		return rc;
	c->claims_per_uid = (unsigned int)v;
	rc = get_int(l, g, "claims", "first_message_ms", 10, 60000,
		     ION_CLAIMD_DEF_FIRST_MS, false, &v);
	if (rc < 0)
		return rc;
	c->claims_first_ms = (unsigned int)v;
	s = g != NULL ? config_setting_get_member(g, "socket_group") : NULL;
	if (s == NULL)
		return 0;
	rc = get_str(l, g, "claims", "socket_group", NULL, c->claims_group,
		     sizeof(c->claims_group));
	if (rc < 0)
		return rc;
	rc = getgrnam_r(c->claims_group, &gr, buf, sizeof(buf), &res);
	if (rc != 0 || res == NULL)
		return refuse(l, s,
			      "claims.socket_group \"%s\": %s (create it: "
			      "groupadd --system %s)",
			      c->claims_group,
			      rc != 0 ? strerror(rc) : "no such group",
			      c->claims_group);
	c->claims_gid = (uint32_t)gr.gr_gid;
	return 0;
}

int
cfg_load(struct cfg *c, const char *path, char *err, size_t errlen)
{
	static const char *const top[] = {
		"eal",	 "port", "channels", "netswitch", "fibers",
		"stats", "idle", "shutdown", "claims",	  NULL};
	struct ld l = {.path = path, .err = err, .errlen = errlen};
	config_t lc;
	FILE *f;
	int rc;

	memset(c, 0, sizeof(*c));
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (strlen(path) >= sizeof(c->file)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -EINVAL;
	}
	snprintf(c->file, sizeof(c->file), "%s", path);
	/* libconfig 1.5 reports an unreadable file without its errno */
	f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
			 strerror(errno));
		return -EINVAL;
	}
	fclose(f);
	cfg_dir_of(path, l.dir, sizeof(l.dir));

	config_init(&lc);
	config_set_include_dir(&lc, l.dir);
	if (!config_read_file(&lc, path)) {
		char file[CFG_PATH_LEN + CFG_PATH_LEN];

		cfg_file_path(path, l.dir, config_error_file(&lc), file,
			      sizeof(file));
		snprintf(err, errlen, "%s:%d: %s", file, config_error_line(&lc),
			 config_error_text(&lc));
		config_destroy(&lc);
		return -EINVAL;
	}
	rc = check_keys(&l, config_root_setting(&lc), NULL, top);
	if (rc == 0)
		rc = load_eal(&l, &lc, c);
	if (rc == 0)
		rc = load_port(&l, &lc, c);
	if (rc == 0)
		rc = load_channels(&l, &lc, c);
	if (rc == 0)
		rc = load_netswitch(&l, &lc, c);
	if (rc == 0)
		rc = load_fibers(&l, &lc, c);
	if (rc == 0)
		rc = load_runtime(&l, &lc, c);
	if (rc == 0)
		rc = load_claims(&l, &lc, c);
	config_destroy(&lc);
	if (rc < 0)
		cfg_free(c);
	return rc;
}

void
cfg_free(struct cfg *c)
{
	int i;

	for (i = 0; i < c->eal_argc && i < CFG_MAX_EAL_ARGS; i++) {
		free(c->eal_argv[i]);
		c->eal_argv[i] = NULL;
	}
	c->eal_argc = 0;
}

const struct cfg_channel *
cfg_channel(const struct cfg *c, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < c->n_channels; i++)
		if (c->channels[i].id == id)
			return &c->channels[i];
	return NULL;
}
