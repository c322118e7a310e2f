/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.1 without lwIP: the request-head parser (methods, versions and
 * keep-alive, Host, the framing fields, target forms, decoding and dot
 * segments, every refusal, incomplete heads fed byte by byte, the limits,
 * pipelining, line ends), the chunked body skipper, dates, entity tags,
 * media types, and the decision a file's request gets (preconditions,
 * ranges, the directory redirect).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <membrane_http.h>

#include "../ion/cunit_main.h"

/* Parse @p n bytes through a heap copy of exactly that size, so that
 * ASan catches any read past len. */
static int
parse_lim(const char *s, size_t n, const struct membrane_http_limits *lim,
	  struct membrane_http_req *r)
{
	char *b = malloc(n ? n : 1);
	int rc;

	CU_ASSERT_FATAL(b != NULL);
	memcpy(b, s, n);
	rc = membrane_http_parse(b, n, lim, r);
	free(b);
	return rc;
}

static int
parse_n(const char *s, size_t n, struct membrane_http_req *r)
{
	return parse_lim(s, n, NULL, r);
}

static int
parse(const char *s, struct membrane_http_req *r)
{
	return parse_n(s, strlen(s), r);
}

/* "GET / HTTP/1.1", Host, then @p fields (each ending in CRLF). */
static char req_buf[4096];

static int
parse_fields(const char *fields, struct membrane_http_req *r)
{
	snprintf(req_buf, sizeof(req_buf),
		 "GET / HTTP/1.1\r\nHost: x\r\n%s\r\n", fields);
	return parse(req_buf, r);
}

/* The value a span of the last parse_fields() names. */
static int
span_is(struct membrane_http_span s, const char *want)
{
	return s.len == strlen(want) &&
	       memcmp(req_buf + s.off, want, s.len) == 0;
}

static void
test_get_head(void)
{
	static const char get[] = "GET /index.html HTTP/1.1\r\n"
				  "Host: example\r\n"
				  "\r\n";
	struct membrane_http_req r;

	CU_ASSERT(parse(get, &r) == (int)strlen(get));
	CU_ASSERT(r.method == MEMBRANE_HTTP_GET);
	CU_ASSERT_STRING_EQUAL(r.path, "/index.html");
	CU_ASSERT(r.minor == 1);
	CU_ASSERT(r.keep_alive);
	CU_ASSERT(r.content_length == 0 && !r.chunked);
	CU_ASSERT(r.query.len == 0 && r.range.len == 0);
	CU_ASSERT(parse("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", &r) == 28);
	CU_ASSERT(r.method == MEMBRANE_HTTP_HEAD);
	CU_ASSERT_STRING_EQUAL(r.path, "/");
}

static void
test_methods(void)
{
	static const struct {
		const char *m;
		int method;
	} t[] = {
		{"GET", MEMBRANE_HTTP_GET},
		{"HEAD", MEMBRANE_HTTP_HEAD},
		{"POST", MEMBRANE_HTTP_OTHER},
		{"PUT", MEMBRANE_HTTP_OTHER},
		{"DELETE", MEMBRANE_HTTP_OTHER},
		{"OPTIONS", MEMBRANE_HTTP_OTHER},
		{"TRACE", MEMBRANE_HTTP_OTHER},
		{"PATCH", MEMBRANE_HTTP_OTHER},
		{"CONNECT", MEMBRANE_HTTP_OTHER},
		{"FOO", MEMBRANE_HTTP_UNKNOWN},
		/* methods are case-sensitive: "get" is some other method */
		{"get", MEMBRANE_HTTP_UNKNOWN},
		{"GETS", MEMBRANE_HTTP_UNKNOWN},
		{"POS", MEMBRANE_HTTP_UNKNOWN},
		{"M-SEARCH", MEMBRANE_HTTP_UNKNOWN},
	};
	struct membrane_http_req r;
	char req[128];
	unsigned int i;

	for (i = 0; i < N_TESTS(t); i++) {
		snprintf(req, sizeof(req), "%s /x HTTP/1.1\r\nHost: a\r\n\r\n",
			 t[i].m);
		CU_ASSERT(parse(req, &r) == (int)strlen(req));
		CU_ASSERT(r.method == t[i].method);
	}
	CU_ASSERT(parse("POST /form HTTP/1.1\r\nHost: a\r\n"
			"Content-Length: 5\r\n\r\n",
			&r) > 0);
	CU_ASSERT(r.method == MEMBRANE_HTTP_OTHER && r.content_length == 5);
}

static void
test_versions_keep_alive(void)
{
	static const struct {
		const char *req;
		int minor;
		bool keep_alive;
	} t[] = {
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1, true},
		{"GET / HTTP/1.0\r\n\r\n", 0, false},
		/* a higher minor version of 1 is answered as 1.1 */
		{"GET / HTTP/1.2\r\nHost: x\r\n\r\n", 1, true},
		{"GET / HTTP/1.9\r\nHost: x\r\n\r\n", 1, true},
		{"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 1,
		 false},
		{"GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n", 1,
		 false},
		{"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0, true},
		{"GET / HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n", 0, true},
		{"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n",
		 1, true},
		{"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade, "
		 "close\r\n\r\n",
		 1, false},
		{"GET / HTTP/1.1\r\nHost: x\r\n"
		 "Connection:  Upgrade ,\tclose  \r\n\r\n",
		 1, false},
		{"GET / HTTP/1.1\r\nHost: x\r\nConnection: closed\r\n\r\n", 1,
		 true},
		{"GET / HTTP/1.1\r\nHost: x\r\n"
		 "Connection: keep-alive, close\r\n\r\n",
		 1, false},
		{"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		 "Connection: keep-alive\r\n\r\n",
		 1, false},
		{"GET / HTTP/1.0\r\nConnection: upgrade\r\n\r\n", 0, false},
		{"GET / HTTP/1.0\r\nX-Connection: keep-alive\r\n\r\n", 0,
		 false},
	};
	struct membrane_http_req r;
	unsigned int i;

	for (i = 0; i < N_TESTS(t); i++) {
		CU_ASSERT(parse(t[i].req, &r) == (int)strlen(t[i].req));
		CU_ASSERT(r.minor == t[i].minor);
		CU_ASSERT(r.keep_alive == t[i].keep_alive);
	}
}

static void
test_bad_version(void)
{
	static const char *const unsupported[] = {
		"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
		"GET / HTTP/0.9\r\nHost: x\r\n\r\n",
		"GET / HTTP/3.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
	};
	static const char *const malformed[] = {
		"GET / HTTP/1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1.1\r\nHost: x\r\n\r\n",
		"GET / http/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/a.b\r\nHost: x\r\n\r\n",
		"GET / HTTX/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/11\r\nHost: x\r\n\r\n",
		"GET /\r\nHost: x\r\n\r\n", /* HTTP/0.9 */
	};
	struct membrane_http_req r;
	unsigned int i;

	for (i = 0; i < N_TESTS(unsupported); i++)
		CU_ASSERT(parse(unsupported[i], &r) == -EPROTONOSUPPORT);
	for (i = 0; i < N_TESTS(malformed); i++)
		CU_ASSERT(parse(malformed[i], &r) == -EINVAL);
}

/* RFC 9112 3.2: one Host, valid, and required in HTTP/1.1. */
static void
test_host(void)
{
	static const char *const ok[] = {
		"Host: a\r\n",
		"Host: a:80\r\n",
		"Host: a:\r\n",
		"Host: 10.0.0.1\r\n",
		"Host: [::1]:8080\r\n",
		"Host: [fe80::1]\r\n",
		"Host: xn--caf-dma.example\r\n",
		"Host: a-b.c_d~e\r\n",
		"host:a\r\n",
	};
	static const char *const bad[] = {
		"Host: \r\n",
		"Host: a b\r\n",
		"Host: a/b\r\n",
		"Host: a:x\r\n",
		"Host: a@b\r\n",
		"Host: [::1\r\n",
		"Host: [::g]\r\n",
		"Host: :80\r\n",
		"Host: a:80:80\r\n",
		"Host: a\r\nHost: a\r\n",
		"Host: a\r\nhost: b\r\n",
	};
	struct membrane_http_req r;
	char req[256];
	unsigned int i;

	for (i = 0; i < N_TESTS(ok); i++) {
		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n%s\r\n", ok[i]);
		CU_ASSERT(parse(req, &r) == (int)strlen(req));
	}
	for (i = 0; i < N_TESTS(bad); i++) {
		int rc;

		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n%s\r\n", bad[i]);
		rc = parse(req, &r);
		if (rc != -EINVAL)
			fprintf(stderr, "\n  %s: %d\n", bad[i], rc);
		CU_ASSERT(rc == -EINVAL);
	}
	/* required in 1.1, even with an absolute-form target; not in 1.0 */
	CU_ASSERT(parse("GET / HTTP/1.1\r\n\r\n", &r) == -EINVAL);
	CU_ASSERT(parse("GET http://a/ HTTP/1.1\r\n\r\n", &r) == -EINVAL);
	CU_ASSERT(parse("GET / HTTP/1.0\r\n\r\n", &r) > 0);
	CU_ASSERT(parse("GET / HTTP/1.0\r\nHost: a b\r\n\r\n", &r) == -EINVAL);
}

static void
test_target(void)
{
	static const struct {
		const char *target;
		const char *path;
	} ok[] = {
		{"/", "/"},
		{"/a/b.html", "/a/b.html"},
		{"/a?x=1&y=2", "/a"},
		{"/?", "/"},
		{"/a%20b", "/a b"},
		{"/%41%62%7e", "/Ab~"},
		{"/%c3%a9t%C3%A9", "/\xc3\xa9t\xc3\xa9"},
		{"/a?q=%zz", "/a"}, /* the query is dropped, not decoded */
		{"/a%3fb?c", "/a?b"},
		{"/%25", "/%"},
		{"/a%2fb", "/a/b"},
		{"//a//b/", "//a//b/"},
		/* absolute-form (RFC 9112 3.2.2) */
		{"http://h/x", "/x"},
		{"HTTP://h/x", "/x"},
		{"https://h:443/x/y?q", "/x/y"},
		{"http://h", "/"},
		{"http://h?q", "/"},
		{"http://[::1]:80/x", "/x"},
		{"http://h/a/%2e%2e/..x", "/..x"},
	};
	static const char *const bad[] = {
		"/%",	     "/%2",	     "/%zz",
		"/%g0",	     "/%0g",	     "/%00",
		"/a%00.png", "/%0a",	     "/%0D",
		"/%7f",	     "/%1b",	     "*",
		"a/b",	     "/a#frag",	     "",
		"/a\x7f",    "/a\x80",	     "ftp://h/x",
		"http:/x",   "http//h/x",    "http://",
		"http:///x", "http://u@h/x", "http://a b/",
		"h:80",	     "http://h:x/",  "mailto:a@b",
	};
	struct membrane_http_req r;
	char req[256];
	unsigned int i;

	for (i = 0; i < N_TESTS(ok); i++) {
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
			 ok[i].target);
		CU_ASSERT(parse(req, &r) == (int)strlen(req));
		CU_ASSERT_STRING_EQUAL(r.path, ok[i].path);
	}
	for (i = 0; i < N_TESTS(bad); i++) {
		int rc;

		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
			 bad[i]);
		rc = parse(req, &r);
		if (rc != -EINVAL)
			fprintf(stderr, "\n  %s: %d\n", bad[i], rc);
		CU_ASSERT(rc == -EINVAL);
	}
	/* the query, as sent */
	CU_ASSERT(parse("GET /a%20?b=%20c HTTP/1.1\r\nHost: x\r\n\r\n", &r) >
		  0);
	CU_ASSERT(r.query.len == 7);
	CU_ASSERT(r.query.off == 9);
}

/* RFC 3986 5.2.4, and no climbing above the root. */
static void
test_dot_segments(void)
{
	static const struct {
		const char *target, *path;
	} ok[] = {
		{"/./a", "/a"},		{"/a/./b", "/a/b"},
		{"/a/.", "/a/"},	{"/a/b/..", "/a/"},
		{"/a/b/../c", "/a/c"},	{"/a/../b", "/b"},
		{"/a/..", "/"},		{"/.", "/"},
		{"/a/b/../../c", "/c"}, {"/%2e/a", "/a"},
		{"/a/%2E%2e/b", "/b"},	{"/a%2f..%2fb", "/b"},
		{"/...", "/..."},	{"/..a/.b", "/..a/.b"},
		{"/a//../b", "/a/b"},	{"/a/.?x=/../..", "/a/"},
	};
	static const char *const above[] = {
		"/..",		 "/../a",     "/a/../..",
		"/%2e%2e",	 "/%2E%2E/x", "/..%2fa",
		"/a/b/../../..", "/./../a",   "/a/%2e%2e/%2e%2e/etc/passwd",
	};
	struct membrane_http_req r;
	char req[256];
	unsigned int i;

	for (i = 0; i < N_TESTS(ok); i++) {
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
			 ok[i].target);
		CU_ASSERT(parse(req, &r) == (int)strlen(req));
		if (strcmp(r.path, ok[i].path) != 0)
			fprintf(stderr, "\n  %s -> %s\n", ok[i].target, r.path);
		CU_ASSERT_STRING_EQUAL(r.path, ok[i].path);
	}
	for (i = 0; i < N_TESTS(above); i++) {
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n",
			 above[i]);
		CU_ASSERT(parse(req, &r) == -EXDEV);
	}
}

/* The path fills r->path to the byte and no further; past it: 414. */
static void
test_long_path(void)
{
	struct membrane_http_req r;
	char req[4096];
	size_t n;

	/* 1023 bytes of path: fits with its NUL */
	n = (size_t)snprintf(req, sizeof(req), "GET /");
	memset(req + n, 'a', 1022);
	n += 1022;
	n += (size_t)snprintf(req + n, sizeof(req) - n,
			      " HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT(parse(req, &r) == (int)n);
	CU_ASSERT(strlen(r.path) == MEMBRANE_HTTP_PATH_MAX - 1);
	/* 1024: does not */
	n = (size_t)snprintf(req, sizeof(req), "GET /");
	memset(req + n, 'a', 1023);
	n += 1023;
	snprintf(req + n, sizeof(req) - n, " HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT(parse(req, &r) == -ENAMETOOLONG);
	/* escapes count decoded: 1022 x "%61" fits */
	n = (size_t)snprintf(req, sizeof(req), "GET /");
	for (int i = 0; i < 1022; i++)
		n += (size_t)snprintf(req + n, sizeof(req) - n, "%%61");
	snprintf(req + n, sizeof(req) - n, " HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT(parse(req, &r) > 0);
	CU_ASSERT(strlen(r.path) == 1023);
	/* a long query is fine: it is dropped */
	n = (size_t)snprintf(req, sizeof(req), "GET /q?");
	memset(req + n, 'q', 3000);
	n += 3000;
	snprintf(req + n, sizeof(req) - n, " HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT(parse(req, &r) > 0);
	CU_ASSERT_STRING_EQUAL(r.path, "/q");
}

/* max_target (414) and max_head (431), defaults and configured. */
static void
test_limits(void)
{
	struct membrane_http_limits small = {1024, 100};
	struct membrane_http_req r;
	char *req = malloc(70000);
	size_t n;

	if (req == NULL) { /* CU_ASSERT_FATAL does not tell gcc it stops */
		CU_FAIL("out of memory");
		return;
	}
	/* a target of exactly max_target, then one more byte */
	n = (size_t)sprintf(req, "GET /?");
	memset(req + n, 'q', 98);
	n += 98;
	n += (size_t)sprintf(req + n, " HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT(parse_lim(req, n, &small, &r) == (int)n);
	n = (size_t)sprintf(req, "GET /?");
	memset(req + n, 'q', 99);
	n += 99;
	n += (size_t)sprintf(req + n, " HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT(parse_lim(req, n, &small, &r) == -ENAMETOOLONG);
	/* refused before the request line ends, as soon as it is too long */
	CU_ASSERT(parse_lim(req, 4 + 100, &small, &r) == 0);
	CU_ASSERT(parse_lim(req, 4 + 101, &small, &r) == -ENAMETOOLONG);
	/* the default: 8000 */
	n = (size_t)sprintf(req, "GET /?");
	memset(req + n, 'q', MEMBRANE_HTTP_MAX_TARGET - 2);
	n += MEMBRANE_HTTP_MAX_TARGET - 2;
	CU_ASSERT(parse_n(req, n, &r) == 0);
	req[n++] = 'q';
	CU_ASSERT(parse_n(req, n, &r) == -ENAMETOOLONG);
	/* a head over max_head: 431 once that many bytes came */
	n = (size_t)sprintf(req, "GET / HTTP/1.1\r\nHost: x\r\nX-Fill: ");
	memset(req + n, 'f', 2000);
	n += 2000;
	memcpy(req + n, "\r\n\r\n", 4);
	n += 4;
	CU_ASSERT(parse_lim(req, 1023, &small, &r) == 0);
	CU_ASSERT(parse_lim(req, 1024, &small, &r) == -E2BIG);
	CU_ASSERT(parse_lim(req, n, &small, &r) == -E2BIG);
	CU_ASSERT(parse_n(req, n, &r) == (int)n);
	/* a request line that never ends, target short: malformed */
	memset(req, 'G', 2000);
	CU_ASSERT(parse_lim(req, 1023, &small, &r) == 0);
	CU_ASSERT(parse_lim(req, 1024, &small, &r) == -EINVAL);
	/* a method byte that is no tchar is refused at once */
	CU_ASSERT(parse_n("G(T", 3, &r) == -EINVAL);
	CU_ASSERT(parse_n("\x16\x03\x01", 3, &r) == -EINVAL); /* TLS */
	CU_ASSERT(parse_n("GET", 3, &r) == 0);
	CU_ASSERT(parse_n("\r", 1, &r) == 0);
	CU_ASSERT(parse_n("GET / HTTP/1.1\r", 15, &r) == 0);
	/* limits are clamped: max_head to [1024, 65535], max_target to
	 * [64, max_head - 32] */
	small.max_head = 10;
	small.max_target = 5000;
	n = (size_t)sprintf(req, "GET /?");
	memset(req + n, 'q', 1000);
	n += 1000;
	CU_ASSERT(parse_lim(req, n, &small, &r) == -ENAMETOOLONG);
	small.max_head = 100000;
	small.max_target = 1;
	n = (size_t)sprintf(req, "GET /?");
	memset(req + n, 'q', 62);
	n += 62;
	n += (size_t)sprintf(req + n, " HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT(parse_lim(req, n, &small, &r) == (int)n);
	n = (size_t)sprintf(req, "GET / HTTP/1.1\r\nHost: x\r\nX-Fill: ");
	memset(req + n, 'f', 66000);
	n += 66000;
	CU_ASSERT(parse_lim(req, n, &small, &r) == -E2BIG);
	free(req);
}

static void
test_request_line(void)
{
	static const char *const bad[] = {
		"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", /* two spaces */
		"GET /  HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
		" GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET / HTTP/1.1\r\r\nHost: x\r\n\r\n", /* bare CR */
		"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
		"/ HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET\r\nHost: x\r\n\r\n",
		"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
		/* the asterisk- and authority-forms, with other methods */
		"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
		"OPTIONS ** HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET h:443 HTTP/1.1\r\nHost: x\r\n\r\n",
		"CONNECT * HTTP/1.1\r\nHost: x\r\n\r\n",
		"CONNECT h HTTP/1.1\r\nHost: x\r\n\r\n",
		"CONNECT h: HTTP/1.1\r\nHost: x\r\n\r\n",
		"CONNECT h:x HTTP/1.1\r\nHost: x\r\n\r\n",
		"CONNECT u@h:443 HTTP/1.1\r\nHost: x\r\n\r\n",
		"CONNECT [::1 HTTP/1.1\r\nHost: x\r\n\r\n",
	};
	static const char *const other[] = {
		"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
		"CONNECT h:443 HTTP/1.1\r\nHost: x\r\n\r\n",
		"CONNECT 10.0.0.1:80 HTTP/1.1\r\nHost: x\r\n\r\n",
		"CONNECT [::1]:443 HTTP/1.1\r\nHost: x\r\n\r\n",
		"OPTIONS /a HTTP/1.1\r\nHost: x\r\n\r\n",
	};
	struct membrane_http_req r;
	unsigned int i;

	for (i = 0; i < N_TESTS(bad); i++) {
		int rc = parse(bad[i], &r);

		if (rc != -EINVAL)
			fprintf(stderr, "\n  #%u: %d\n", i, rc);
		CU_ASSERT(rc == -EINVAL);
	}
	/* valid, and 405 */
	for (i = 0; i < N_TESTS(other); i++) {
		CU_ASSERT(parse(other[i], &r) == (int)strlen(other[i]));
		CU_ASSERT(r.method == MEMBRANE_HTTP_OTHER);
		CU_ASSERT(r.path[0] == '/');
	}
	/* a NUL in the request line */
	CU_ASSERT(parse_n("GET /a\0b HTTP/1.1\r\nHost: x\r\n\r\n", 30, &r) ==
		  -EINVAL);
	CU_ASSERT(parse_n("GET\0/ HTTP/1.1\r\nHost: x\r\n\r\n", 27, &r) ==
		  -EINVAL);
}

static void
test_headers(void)
{
	static const char *const bad[] = {
		"X-A : x\r\n",	  /* space before : */
		"X-A\r\n",	  /* no colon */
		": x\r\n",	  /* no name */
		"A: b\r\n c\r\n", /* folded */
		"\tA: b\r\n",	  /* folded */
		"A(: b\r\n",	  /* not a token */
		"A: b\x01\r\n",	  /* control */
		"A: b\rc\r\n",	  /* bare CR */
		"A: b\x7f\r\n",	  /* DEL */
		"Content-Length: 1\r\nContent-Length: 1\r\n", /* even equal */
		"Content-Length: 1, 1\r\n",
		"Content-Length: -1\r\n",
		"Content-Length: +1\r\n",
		"Content-Length: 0x10\r\n",
		"Content-Length: \r\n",
		"Content-Length: 1 2\r\n",
		"Content-Length: 99999999999999999999999\r\n", /* overflow */
		"content-length: 1\r\nCONTENT-LENGTH: 2\r\n",
		/* both framings: a smuggling attempt */
		"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
		"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
		"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
		/* one of each precondition, as nginx has them */
		"If-None-Match: \"a\"\r\nIf-None-Match: \"b\"\r\n",
		"If-Match: \"a\"\r\nif-match: \"a\"\r\n",
		"If-Modified-Since: x\r\nIf-Modified-Since: y\r\n",
		"If-Unmodified-Since: x\r\nIf-Unmodified-Since: y\r\n",
		"If-Range: \"a\"\r\nIf-Range: \"a\"\r\n",
	};
	struct membrane_http_req r;
	unsigned int i;

	for (i = 0; i < N_TESTS(bad); i++) {
		int rc = parse_fields(bad[i], &r);

		if (rc != -EINVAL)
			fprintf(stderr, "\n  #%u: %d\n", i, rc);
		CU_ASSERT(rc == -EINVAL);
	}
	/* lowercase and mixed-case names, OWS around values */
	CU_ASSERT(parse_fields("content-length:   42  \r\n"
			       "connection:CLOSE\r\n",
			       &r) > 0);
	CU_ASSERT(r.content_length == 42);
	CU_ASSERT(!r.keep_alive);
	CU_ASSERT(parse_fields("Content-Length: 0\r\n", &r) > 0);
	CU_ASSERT(r.content_length == 0);
	CU_ASSERT(parse_fields("Content-Length: 18446744073709551606\r\n", &r) >
		  0);
	CU_ASSERT(r.content_length == 18446744073709551606ull);
	/* empty values, tabs, obs-text, and unknown fields are fine */
	CU_ASSERT(parse_fields("X-Empty:\r\nX-Tab:\ta\tb\t\r\n"
			       "X-Latin: caf\xe9\r\n",
			       &r) > 0);
	/* Expect */
	CU_ASSERT(parse_fields("Expect: 100-continue\r\n", &r) > 0);
	CU_ASSERT(r.expect_continue);
	CU_ASSERT(parse_fields("Expect: 100-Continue \r\n", &r) > 0);
	CU_ASSERT(r.expect_continue);
	CU_ASSERT(parse_fields("Expect: foo\r\n", &r) > 0);
	CU_ASSERT(!r.expect_continue);
}

/* RFC 9112 6, 7: chunked is the coding a recipient must know; any other
 * cannot be framed (501); and none in HTTP/1.0 (400). */
static void
test_transfer_encoding(void)
{
	struct membrane_http_req r;

	CU_ASSERT(parse_fields("Transfer-Encoding: chunked\r\n", &r) > 0);
	CU_ASSERT(r.chunked && r.content_length == 0);
	CU_ASSERT(parse_fields("transfer-encoding:  Chunked \r\n", &r) > 0);
	CU_ASSERT(r.chunked);
	CU_ASSERT(parse_fields("Transfer-Encoding: gzip\r\n", &r) ==
		  -EOPNOTSUPP);
	CU_ASSERT(parse_fields("Transfer-Encoding: gzip, chunked\r\n", &r) ==
		  -EOPNOTSUPP);
	CU_ASSERT(parse_fields("Transfer-Encoding: chunked, gzip\r\n", &r) ==
		  -EOPNOTSUPP);
	CU_ASSERT(parse_fields("Transfer-Encoding: \r\n", &r) == -EOPNOTSUPP);
	CU_ASSERT(parse("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
			&r) == -EINVAL);
}

/* Range and the preconditions are kept as spans of the buffer. */
static void
test_spans(void)
{
	struct membrane_http_req r;

	CU_ASSERT(parse_fields("Range:  bytes=0-4 \r\n"
			       "If-Range: \"x\"\r\n"
			       "If-Match: \"a\", \"b\"\r\n"
			       "If-None-Match: W/\"c\"\r\n"
			       "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 "
			       "GMT\r\n"
			       "If-Unmodified-Since:\tSun\t\r\n",
			       &r) > 0);
	CU_ASSERT(span_is(r.range, "bytes=0-4"));
	CU_ASSERT(span_is(r.if_range, "\"x\""));
	CU_ASSERT(span_is(r.if_match, "\"a\", \"b\""));
	CU_ASSERT(span_is(r.if_none_match, "W/\"c\""));
	CU_ASSERT(
		span_is(r.if_modified_since, "Sun, 06 Nov 1994 08:49:37 GMT"));
	CU_ASSERT(span_is(r.if_unmodified_since, "Sun"));
	/* a second Range: the first counts */
	CU_ASSERT(parse_fields("Range: bytes=1-2\r\nRange: bytes=3-4\r\n", &r) >
		  0);
	CU_ASSERT(span_is(r.range, "bytes=1-2"));
	/* empty: absent */
	CU_ASSERT(parse_fields("Range:\r\nIf-None-Match: \r\n", &r) > 0);
	CU_ASSERT(r.range.len == 0 && r.if_none_match.len == 0);
}

/* Every prefix of a complete head asks for more, then the whole parses. */
static void
test_incomplete(void)
{
	static const char req[] = "GET /a%20b?q HTTP/1.1\r\n"
				  "Host: example\r\n"
				  "Connection: close\r\n"
				  "Content-Length: 3\r\n"
				  "Range: bytes=1-\r\n"
				  "\r\n";
	struct membrane_http_req r;
	size_t n = strlen(req), i;

	for (i = 0; i < n; i++)
		CU_ASSERT(parse_n(req, i, &r) == 0);
	CU_ASSERT(parse_n(req, n, &r) == (int)n);
	CU_ASSERT_STRING_EQUAL(r.path, "/a b");
	CU_ASSERT(!r.keep_alive);
	CU_ASSERT(r.content_length == 3);
	/* without the blank line it is never complete */
	CU_ASSERT(parse("GET / HTTP/1.1\r\nHost: x\r\n", &r) == 0);
	CU_ASSERT(parse("GET / HTTP/1.1\r\nHost: x\r\n\r", &r) == 0);
	CU_ASSERT(parse("GET / HTTP/1.1", &r) == 0);
	/* a malformed line is refused as soon as it is complete */
	CU_ASSERT(parse("GET  / HTTP/1.1\r\n", &r) == -EINVAL);
	CU_ASSERT(parse("GET / HTTP/1.1\r\nBad Header\r\n", &r) == -EINVAL);
	CU_ASSERT(membrane_http_parse(NULL, 0, NULL, &r) == 0);
}

static void
test_line_ends(void)
{
	struct membrane_http_req r;

	/* bare LF ends lines (RFC 9112 2.2 allows it) */
	CU_ASSERT(parse("GET /lf HTTP/1.0\n\n", &r) == 18);
	CU_ASSERT_STRING_EQUAL(r.path, "/lf");
	CU_ASSERT(parse("GET / HTTP/1.1\nHost: x\r\n\n", &r) == 25);
	CU_ASSERT(parse("GET / HTTP/1.1\r\nHost: x\n\r\n", &r) == 26);
	/* empty lines before the request line are skipped, and consumed */
	CU_ASSERT(parse("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 31);
	CU_ASSERT(parse("\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", &r) == 28);
	CU_ASSERT(parse("\r\n", &r) == 0);
	/* CR without LF is not a line end */
	CU_ASSERT(parse("GET / HTTP/1.1\rHost: x\r\n\r\n", &r) == -EINVAL);
	CU_ASSERT(parse("GET / HTTP/1.1\r\nHost: x\r\n\r\r\n", &r) == -EINVAL);
}

static void
test_pipelined(void)
{
	static const char two[] = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n"
				  "HEAD /two HTTP/1.1\r\nHost: a\r\n"
				  "Connection: close\r\n\r\n"
				  "GET /thr";
	struct membrane_http_req r;
	size_t n = strlen(two), off = 0;
	int rc;

	rc = parse_n(two, n, &r);
	CU_ASSERT_FATAL(rc == 30);
	CU_ASSERT_STRING_EQUAL(r.path, "/one");
	CU_ASSERT(r.method == MEMBRANE_HTTP_GET && r.keep_alive);
	off += (size_t)rc;
	rc = parse_n(two + off, n - off, &r);
	CU_ASSERT_FATAL(rc == 50);
	CU_ASSERT_STRING_EQUAL(r.path, "/two");
	CU_ASSERT(r.method == MEMBRANE_HTTP_HEAD && !r.keep_alive);
	off += (size_t)rc;
	CU_ASSERT(parse_n(two + off, n - off, &r) == 0);
	/* a body is not part of the head: the caller skips content_length */
	CU_ASSERT(parse("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
			"\r\nabcdGET / HTTP/1.1\r\n\r\n",
			&r) == 48);
	CU_ASSERT(r.content_length == 4);
}

static void
test_size_limit(void)
{
	char *req = malloc(3 * MEMBRANE_HTTP_MAX_HEAD);
	struct membrane_http_req r;
	size_t n;

	if (req == NULL) {
		CU_FAIL("out of memory");
		return;
	}
	/* a head of exactly the limit parses */
	n = (size_t)sprintf(req, "GET / HTTP/1.1\r\nHost: x\r\nX-Fill: ");
	memset(req + n, 'f', MEMBRANE_HTTP_MAX_HEAD - n - 4);
	memcpy(req + MEMBRANE_HTTP_MAX_HEAD - 4, "\r\n\r\n", 4);
	CU_ASSERT(parse_n(req, MEMBRANE_HTTP_MAX_HEAD, &r) ==
		  (int)MEMBRANE_HTTP_MAX_HEAD);
	/* with a pipelined request after it as well */
	memcpy(req + MEMBRANE_HTTP_MAX_HEAD, "GET /", 5);
	CU_ASSERT(parse_n(req, MEMBRANE_HTTP_MAX_HEAD + 5, &r) ==
		  (int)MEMBRANE_HTTP_MAX_HEAD);
	/* one byte more does not */
	memset(req + n, 'f', MEMBRANE_HTTP_MAX_HEAD - n - 3);
	memcpy(req + MEMBRANE_HTTP_MAX_HEAD - 3, "\r\n\r\n", 4);
	CU_ASSERT(parse_n(req, MEMBRANE_HTTP_MAX_HEAD + 1, &r) == -E2BIG);
	CU_ASSERT(parse_n(req, MEMBRANE_HTTP_MAX_HEAD, &r) == -E2BIG);
	CU_ASSERT(parse_n(req, MEMBRANE_HTTP_MAX_HEAD - 1, &r) == 0);
	/* many small fields add up the same way */
	n = (size_t)sprintf(req, "GET / HTTP/1.1\r\n");
	while (n < 2 * MEMBRANE_HTTP_MAX_HEAD) {
		memcpy(req + n, "X-A: b\r\n", 8);
		n += 8;
	}
	CU_ASSERT(parse_n(req, n, &r) == -E2BIG);
	free(req);
}

/* ------------------------------------------------------------------ */
/* Chunked bodies                                                      */
/* ------------------------------------------------------------------ */

/* Skip @p body whole, then byte by byte: both end at @p end bytes. */
static void
check_chunked(const char *body, size_t n, int want, size_t end)
{
	struct membrane_http_chunked c = {0};
	size_t used = 0, i, total = 0;
	int rc;

	rc = membrane_http_chunked_skip(&c, body, n, &used);
	if (rc != want || (want == 1 && used != end))
		fprintf(stderr, "\n  chunked \"%.*s\": %d, %zu\n", (int)n, body,
			rc, used);
	CU_ASSERT(rc == want);
	if (want == 1)
		CU_ASSERT(used == end);
	memset(&c, 0, sizeof(c));
	rc = 0;
	for (i = 0; i < n && rc == 0; i++) {
		rc = membrane_http_chunked_skip(&c, body + i, 1, &used);
		total += used;
	}
	CU_ASSERT(rc == want);
	if (want == 1)
		CU_ASSERT(total == end);
}

static void
test_chunked(void)
{
	static const struct {
		const char *body;
		int want;
		size_t end; /* where the body ends (want 1) */
	} t[] = {
		{"0\r\n\r\n", 1, 5},
		{"3\r\nabc\r\n0\r\n\r\nGET", 1, 13},
		{"A\r\n0123456789\r\n5\r\nabcde\r\n0\r\n\r\n", 1, 30},
		{"a;ext=1;x=\"y\"\r\n0123456789\r\n0\r\n\r\n", 1, 32},
		{"3 ;e\r\nabc\r\n0\r\n\r\n", 1, 16},
		{"0\r\nX-Trailer: 1\r\nY: 2\r\n\r\nnext", 1, 25},
		{"3\nabc\n0\n\n", 1, 9}, /* bare LF */
		{"0003\r\nabc\r\n00\r\n\r\n", 1, 17},
		{"3\r\nab", 0, 0},
		{"3\r\nabc\r\n0\r\n", 0, 0},
		{"", 0, 0},
		{"x\r\n", -EINVAL, 0},
		{"\r\n", -EINVAL, 0},
		{"3x\r\nabc\r\n", -EINVAL, 0},
		{"3\r\nabcd\r\n", -EINVAL, 0},
		{"3\r\nabc\rx", -EINVAL, 0},
		{"3\r\x01", -EINVAL, 0},
		{"0\r\n\rx", -EINVAL, 0},
		{"0\r\nX: a\x01\r\n\r\n", -EINVAL, 0},
		{"10000000000000000\r\n", -EINVAL, 0}, /* 2^64 */
	};
	struct membrane_http_chunked c = {0};
	char *big = malloc(9000);
	size_t used;
	unsigned int i;

	for (i = 0; i < N_TESTS(t); i++)
		check_chunked(t[i].body, strlen(t[i].body), t[i].want,
			      t[i].end);
	/* a chunk of 2^64 - 1 bytes is not an error, just long */
	CU_ASSERT(membrane_http_chunked_skip(&c, "ffffffffffffffff\r\nab", 20,
					     &used) == 0);
	CU_ASSERT(used == 20 && c.left == UINT64_MAX - 2);
	/* a size line or trailer that never ends */
	if (big == NULL) {
		CU_FAIL("out of memory");
		return;
	}
	memcpy(big, "1;", 2);
	memset(big + 2, 'e', 8998);
	memset(&c, 0, sizeof(c));
	CU_ASSERT(membrane_http_chunked_skip(&c, big, 9000, &used) == -EINVAL);
	memcpy(big, "0\r\nX: ", 6);
	memset(&c, 0, sizeof(c));
	CU_ASSERT(membrane_http_chunked_skip(&c, big, 9000, &used) == -EINVAL);
	/* ended: stays ended */
	memset(&c, 0, sizeof(c));
	CU_ASSERT(membrane_http_chunked_skip(&c, "0\r\n\r\n", 5, &used) == 1);
	CU_ASSERT(membrane_http_chunked_skip(&c, "abc", 3, &used) == 1);
	CU_ASSERT(used == 0);
	free(big);
}

/* ------------------------------------------------------------------ */
/* Dates, tags, types                                                  */
/* ------------------------------------------------------------------ */

static void
test_dates(void)
{
	static const struct {
		int64_t t;
		const char *s;
	} fmt[] = {
		{0, "Thu, 01 Jan 1970 00:00:00 GMT"},
		{784111777, "Sun, 06 Nov 1994 08:49:37 GMT"},
		{951782400, "Tue, 29 Feb 2000 00:00:00 GMT"},
		{1798761599, "Thu, 31 Dec 2026 23:59:59 GMT"},
		{4102444800, "Fri, 01 Jan 2100 00:00:00 GMT"},
		{-1, "Wed, 31 Dec 1969 23:59:59 GMT"},
	};
	static const char *const same[] = {
		"Sun, 06 Nov 1994 08:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
		"Mon, 06 Nov 1994 08:49:37 GMT", /* the weekday is not checked
						  */
	};
	static const char *const bad[] = {
		"",
		"garbage",
		"Sun, 06 Nov 1994 08:49:37 UTC",
		"Sun, 06 Nov 1994 08:49:37 GMT ",
		"Sun, 6 Nov 1994 08:49:37 GMT",
		"Sun, 06 Foo 1994 08:49:37 GMT",
		"Sun, 06 nov 1994 08:49:37 GMT",
		"Sun, 31 Nov 1994 08:49:37 GMT",
		"Sun, 29 Feb 1900 08:49:37 GMT",
		"Sun, 06 Nov 1994 24:00:00 GMT",
		"Sun, 06 Nov 1994 08:60:00 GMT",
		"Sun, 06 Nov 1994 08:49:61 GMT",
		"Sun, 06 Nov 1994 08-49-37 GMT",
		"Sun, 00 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 19x4 08:49:37 GMT",
		"Sunday, 06-Nov-1994 08:49:37 GMT",
		"Funday, 06-Nov-94 08:49:37 GMT",
		"Sun Nov 6 08:49:37 1994",
		"Sun Nov  6 08:49:37 94",
	};
	const int64_t now = 1798761599; /* the end of 2026 */
	char out[MEMBRANE_HTTP_DATE_LEN];
	unsigned int i;
	int64_t t;

	for (i = 0; i < N_TESTS(fmt); i++) {
		membrane_http_date(fmt[i].t, out);
		CU_ASSERT_STRING_EQUAL(out, fmt[i].s);
		if (fmt[i].t >= 0) {
			CU_ASSERT(membrane_http_parse_date(fmt[i].s,
							   strlen(fmt[i].s),
							   now, &t) == 0);
			CU_ASSERT(t == fmt[i].t);
		}
	}
	for (i = 0; i < N_TESTS(same); i++) {
		t = 0;
		CU_ASSERT(membrane_http_parse_date(same[i], strlen(same[i]),
						   now, &t) == 0);
		CU_ASSERT(t == 784111777);
	}
	for (i = 0; i < N_TESTS(bad); i++) {
		int rc = membrane_http_parse_date(bad[i], strlen(bad[i]), now,
						  &t);

		if (rc != -EINVAL)
			fprintf(stderr, "\n  date \"%s\": %d\n", bad[i], rc);
		CU_ASSERT(rc == -EINVAL);
	}
	/* a leap second is read as :59 */
	CU_ASSERT(membrane_http_parse_date("Sat, 31 Dec 2016 23:59:60 GMT", 29,
					   now, &t) == 0);
	CU_ASSERT(t == 1483228799);
	/* RFC 850's two-digit year: more than 50 years ahead is the past */
	CU_ASSERT(membrane_http_parse_date("Thursday, 31-Dec-76 00:00:00 GMT",
					   32, now, &t) == 0);
	membrane_http_date(t, out);
	CU_ASSERT_STRING_EQUAL(out, "Thu, 31 Dec 2076 00:00:00 GMT");
	CU_ASSERT(membrane_http_parse_date("Saturday, 31-Dec-77 00:00:00 GMT",
					   32, now, &t) == 0);
	membrane_http_date(t, out);
	CU_ASSERT_STRING_EQUAL(out, "Sat, 31 Dec 1977 00:00:00 GMT");
	/* a round trip across years, leap days included */
	for (t = 0; t < 4102444800; t += 86400 * 13 + 3607) {
		int64_t back = -1;

		membrane_http_date(t, out);
		CU_ASSERT_FATAL(membrane_http_parse_date(out, strlen(out), now,
							 &back) == 0);
		CU_ASSERT_FATAL(back == t);
	}
}

static void
test_etag_types(void)
{
	struct membrane_http_file f = {.size = 24, .mtime = 0x6b0c2aa4};
	char tag[MEMBRANE_HTTP_ETAG_MAX];

	/* nginx's form: the same file has the same tag on both */
	CU_ASSERT(membrane_http_etag(&f, tag) == 13);
	CU_ASSERT_STRING_EQUAL(tag, "\"6b0c2aa4-18\"");
	f.size = UINT64_MAX;
	f.mtime = INT64_MAX;
	CU_ASSERT(membrane_http_etag(&f, tag) == 35);
	f.mtime = -1;
	CU_ASSERT(membrane_http_etag(&f, tag) == 0);
	CU_ASSERT_STRING_EQUAL(tag, "");
	CU_ASSERT_STRING_EQUAL(membrane_http_content_type("/a.html"),
			       "text/html");
	CU_ASSERT_STRING_EQUAL(membrane_http_content_type("/A.HTM"),
			       "text/html");
	CU_ASSERT_STRING_EQUAL(membrane_http_content_type("/x.txt"),
			       "text/plain");
	CU_ASSERT_STRING_EQUAL(membrane_http_content_type("/s.css"),
			       "text/css");
	CU_ASSERT_STRING_EQUAL(membrane_http_content_type("/a.js"),
			       "text/javascript");
	CU_ASSERT_STRING_EQUAL(membrane_http_content_type("/d.json"),
			       "application/json");
	CU_ASSERT_STRING_EQUAL(membrane_http_content_type("/i.png"),
			       "image/png");
	CU_ASSERT_STRING_EQUAL(membrane_http_content_type("/i.JPEG"),
			       "image/jpeg");
	CU_ASSERT_STRING_EQUAL(membrane_http_content_type("/i.svg"),
			       "image/svg+xml");
	CU_ASSERT_STRING_EQUAL(membrane_http_content_type("/f.woff2"),
			       "font/woff2");
	CU_ASSERT_STRING_EQUAL(membrane_http_content_type("/big.bin"),
			       "application/octet-stream");
	CU_ASSERT_STRING_EQUAL(membrane_http_content_type("/x.unknown"),
			       "application/octet-stream");
	CU_ASSERT_STRING_EQUAL(membrane_http_content_type("/noext"),
			       "application/octet-stream");
	CU_ASSERT_STRING_EQUAL(membrane_http_content_type("/a.html/b"),
			       "application/octet-stream");
	CU_ASSERT_STRING_EQUAL(membrane_http_content_type("/.html"),
			       "text/html");
	CU_ASSERT_STRING_EQUAL(membrane_http_content_type("/a."),
			       "application/octet-stream");
}

/* ------------------------------------------------------------------ */
/* The decision                                                        */
/* ------------------------------------------------------------------ */

#define MTIME 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */
#define LM    "Sun, 06 Nov 1994 08:49:37 GMT"
#define TAG   "\"2ebc98a1-18\"" /* MTIME, 24 bytes */
#define NOW   (MTIME + 3600)

struct decide_case {
	const char *method, *target, *fields;
	int status;
	uint64_t first, len;
};

static void
check_decide(const struct decide_case *t, const struct membrane_http_file *f)
{
	struct membrane_http_reply out;
	struct membrane_http_req r;
	int rc;

	snprintf(req_buf, sizeof(req_buf),
		 "%s %s HTTP/1.1\r\nHost: x\r\n%s\r\n", t->method, t->target,
		 t->fields);
	rc = parse(req_buf, &r);
	CU_ASSERT_FATAL(rc > 0);
	memset(&out, 0x5a, sizeof(out));
	membrane_http_decide(req_buf, &r, f, NOW, &out);
	if (out.status != t->status || out.first != t->first ||
	    out.len != t->len)
		fprintf(stderr, "\n  %s %s %s-> %d %" PRIu64 "+%" PRIu64 "\n",
			t->method, t->target, t->fields, out.status, out.first,
			out.len);
	CU_ASSERT(out.status == t->status);
	CU_ASSERT(out.first == t->first);
	CU_ASSERT(out.len == t->len);
}

static void
test_decide_conditional(void)
{
	static const struct decide_case t[] = {
		{"GET", "/f", "", 200, 0, 24},
		{"HEAD", "/f", "", 200, 0, 24},
		/* If-None-Match: weak comparison, lists, "*" */
		{"GET", "/f", "If-None-Match: " TAG "\r\n", 304, 0, 0},
		{"HEAD", "/f", "If-None-Match: " TAG "\r\n", 304, 0, 0},
		{"GET", "/f", "If-None-Match: W/" TAG "\r\n", 304, 0, 0},
		{"GET", "/f", "If-None-Match: \"x\", " TAG "\r\n", 304, 0, 0},
		{"GET", "/f", "If-None-Match: \"x\",," TAG " ,\r\n", 304, 0, 0},
		{"GET", "/f", "If-None-Match: *\r\n", 304, 0, 0},
		{"GET", "/f", "If-None-Match: \"x\"\r\n", 200, 0, 24},
		{"GET", "/f", "If-None-Match: \"2ebc98a1-19\"\r\n", 200, 0, 24},
		{"GET", "/f", "If-None-Match: 2ebc98a1-18\r\n", 200, 0, 24},
		{"GET", "/f", "If-None-Match: \"x\" " TAG "\r\n", 200, 0, 24},
		{"GET", "/f", "If-None-Match: \"unterminated\r\n", 200, 0, 24},
		/* If-Modified-Since: not modified since; all three forms */
		{"GET", "/f", "If-Modified-Since: " LM "\r\n", 304, 0, 0},
		{"GET", "/f",
		 "If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT\r\n", 304,
		 0, 0},
		{"GET", "/f", "If-Modified-Since: Sun Nov  6 08:49:37 1994\r\n",
		 304, 0, 0},
		{"GET", "/f",
		 "If-Modified-Since: Sun, 06 Nov 1994 08:49:38 GMT\r\n", 304, 0,
		 0},
		{"GET", "/f",
		 "If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", 200, 0,
		 24},
		{"GET", "/f", "If-Modified-Since: garbage\r\n", 200, 0, 24},
		/* If-None-Match wins over If-Modified-Since (13.2.2 step 3) */
		{"GET", "/f",
		 "If-None-Match: " TAG "\r\n"
		 "If-Modified-Since: Sun, 06 Nov 1994 08:00:00 GMT\r\n",
		 304, 0, 0},
		{"GET", "/f",
		 "If-None-Match: \"x\"\r\nIf-Modified-Since: " LM "\r\n", 200,
		 0, 24},
		/* If-Match: strong comparison; "*" names the file */
		{"GET", "/f", "If-Match: " TAG "\r\n", 200, 0, 24},
		{"GET", "/f", "If-Match: \"x\", " TAG "\r\n", 200, 0, 24},
		{"GET", "/f", "If-Match: *\r\n", 200, 0, 24},
		{"GET", "/f", "If-Match: \"x\"\r\n", 412, 0, 0},
		{"GET", "/f", "If-Match: W/" TAG "\r\n", 412, 0, 0},
		{"HEAD", "/f", "If-Match: \"x\"\r\n", 412, 0, 0},
		/* If-Unmodified-Since, ignored under If-Match */
		{"GET", "/f", "If-Unmodified-Since: " LM "\r\n", 200, 0, 24},
		{"GET", "/f",
		 "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", 412,
		 0, 0},
		{"GET", "/f", "If-Unmodified-Since: nonsense\r\n", 200, 0, 24},
		{"GET", "/f",
		 "If-Match: *\r\n"
		 "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n",
		 200, 0, 24},
		/* 412 before 304 */
		{"GET", "/f", "If-Match: \"x\"\r\nIf-None-Match: " TAG "\r\n",
		 412, 0, 0},
		/* a precondition that holds leaves the range */
		{"GET", "/f", "If-Match: " TAG "\r\nRange: bytes=0-1\r\n", 206,
		 0, 2},
		{"GET", "/f", "If-None-Match: \"x\"\r\nRange: bytes=0-1\r\n",
		 206, 0, 2},
		{"GET", "/f", "If-None-Match: " TAG "\r\nRange: bytes=0-1\r\n",
		 304, 0, 0},
	};
	struct membrane_http_file f = {.size = 24, .mtime = MTIME};
	unsigned int i;

	for (i = 0; i < N_TESTS(t); i++)
		check_decide(&t[i], &f);
}

static void
test_decide_range(void)
{
	static const struct decide_case t[] = {
		{"GET", "/f", "Range: bytes=0-4\r\n", 206, 0, 5},
		{"GET", "/f", "Range: bytes=0-0\r\n", 206, 0, 1},
		{"GET", "/f", "Range: bytes=23-23\r\n", 206, 23, 1},
		{"GET", "/f", "Range: bytes=-5\r\n", 206, 19, 5},
		{"GET", "/f", "Range: bytes=-100\r\n", 206, 0, 24},
		{"GET", "/f", "Range: bytes=10-\r\n", 206, 10, 14},
		{"GET", "/f", "Range: bytes=10-1000\r\n", 206, 10, 14},
		{"GET", "/f", "Range: bytes=0-99999999999999999999999\r\n", 206,
		 0, 24},
		{"GET", "/f", "Range: BYTES=1-2\r\n", 206, 1, 2},
		{"GET", "/f", "Range: bytes= 1-2 \r\n", 206, 1, 2},
		/* one satisfiable among others: that one (as nginx) */
		{"GET", "/f", "Range: bytes=0-1, 100-200\r\n", 206, 0, 2},
		{"GET", "/f", "Range: bytes=100-200,,-3\r\n", 206, 21, 3},
		/* several satisfiable: the whole file */
		{"GET", "/f", "Range: bytes=0-1,5-6\r\n", 200, 0, 24},
		{"GET", "/f", "Range: bytes=0-0,0-0\r\n", 200, 0, 24},
		/* unsatisfiable or invalid: 416 */
		{"GET", "/f", "Range: bytes=24-\r\n", 416, 0, 0},
		{"GET", "/f", "Range: bytes=100-200\r\n", 416, 0, 0},
		{"GET", "/f", "Range: bytes=-0\r\n", 416, 0, 0},
		{"GET", "/f", "Range: bytes=5-2\r\n", 416, 0, 0},
		{"GET", "/f", "Range: bytes=abc\r\n", 416, 0, 0},
		{"GET", "/f", "Range: bytes=\r\n", 416, 0, 0},
		{"GET", "/f", "Range: bytes=-\r\n", 416, 0, 0},
		{"GET", "/f", "Range: bytes=1-2x\r\n", 416, 0, 0},
		{"GET", "/f", "Range: bytes=0-1,x\r\n", 416, 0, 0},
		/* another unit, or none: ignored */
		{"GET", "/f", "Range: items=0-4\r\n", 200, 0, 24},
		{"GET", "/f", "Range: bytes\r\n", 200, 0, 24},
		/* defined for GET only (RFC 9110 14.2) */
		{"HEAD", "/f", "Range: bytes=0-4\r\n", 200, 0, 24},
		/* If-Range: the strong tag or exactly the Last-Modified */
		{"GET", "/f", "Range: bytes=0-4\r\nIf-Range: " TAG "\r\n", 206,
		 0, 5},
		{"GET", "/f", "Range: bytes=0-4\r\nIf-Range: W/" TAG "\r\n",
		 200, 0, 24},
		{"GET", "/f", "Range: bytes=0-4\r\nIf-Range: \"x\"\r\n", 200, 0,
		 24},
		{"GET", "/f", "Range: bytes=0-4\r\nIf-Range: " LM "\r\n", 206,
		 0, 5},
		{"GET", "/f",
		 "Range: bytes=0-4\r\n"
		 "If-Range: Sun, 06 Nov 1994 08:49:38 GMT\r\n",
		 200, 0, 24},
		{"GET", "/f", "Range: bytes=0-4\r\nIf-Range: junk\r\n", 200, 0,
		 24},
		{"GET", "/f", "Range: bytes=99-\r\nIf-Range: \"x\"\r\n", 200, 0,
		 24},
		{"GET", "/f", "If-Range: " TAG "\r\n", 200, 0, 24},
	};
	struct membrane_http_file f = {.size = 24, .mtime = MTIME};
	struct decide_case empty = {"GET", "/f", "Range: bytes=0-\r\n",
				    200,   0,	 0};
	unsigned int i;

	for (i = 0; i < N_TESTS(t); i++)
		check_decide(&t[i], &f);
	/* an empty file is sent whole: no Content-Range can name a range
	 * of it */
	f.size = 0;
	check_decide(&empty, &f);
	empty.fields = "Range: bytes=-1\r\n";
	check_decide(&empty, &f);
}

static void
test_decide_file(void)
{
	static const struct decide_case dir[] = {
		/* a directory's index asked without '/': 301, first */
		{"GET", "/sub", "", 301, 0, 0},
		{"GET", "/sub", "If-None-Match: *\r\n", 301, 0, 0},
		{"GET", "/sub", "Range: bytes=0-1\r\n", 301, 0, 0},
		{"GET", "/sub?x", "", 301, 0, 0},
		{"GET", "/sub/", "", 200, 0, 24},
		{"GET", "/", "", 200, 0, 24},
		{"GET", "/sub/.", "", 200, 0, 24},
		{"GET", "http://h", "", 200, 0, 24},
	};
	static const struct decide_case unknown[] = {
		/* no mtime: no validators; only "*" matches */
		{"GET", "/f", "If-None-Match: *\r\n", 304, 0, 0},
		{"GET", "/f", "If-Match: *\r\n", 200, 0, 24},
		{"GET", "/f", "If-Match: \"\"\r\n", 412, 0, 0},
		{"GET", "/f", "If-Modified-Since: " LM "\r\n", 200, 0, 24},
		{"GET", "/f",
		 "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", 200,
		 0, 24},
		{"GET", "/f", "Range: bytes=0-1\r\nIf-Range: " LM "\r\n", 200,
		 0, 24},
	};
	struct membrane_http_file f = {
		.size = 24, .mtime = MTIME, .dir_index = true};
	struct membrane_http_reply out;
	struct membrane_http_req r;
	unsigned int i;

	for (i = 0; i < N_TESTS(dir); i++)
		check_decide(&dir[i], &f);
	f.dir_index = false;
	f.mtime = -1;
	for (i = 0; i < N_TESTS(unknown); i++)
		check_decide(&unknown[i], &f);
	/* the validators of the answer */
	f.mtime = MTIME;
	CU_ASSERT_FATAL(parse_fields("", &r) > 0);
	membrane_http_decide(req_buf, &r, &f, NOW, &out);
	CU_ASSERT(out.last_modified == MTIME);
	CU_ASSERT_STRING_EQUAL(out.etag, TAG);
	f.mtime = -1;
	membrane_http_decide(req_buf, &r, &f, NOW, &out);
	CU_ASSERT(out.last_modified == -1);
	CU_ASSERT_STRING_EQUAL(out.etag, "");
	/* a modification time in the future is sent as now (RFC 9110
	 * 8.8.2.1), and If-Modified-Since compares with that */
	f.mtime = NOW + 100;
	membrane_http_decide(req_buf, &r, &f, NOW, &out);
	CU_ASSERT(out.last_modified == NOW);
	CU_ASSERT(parse_fields("If-Modified-Since: Sun, 06 Nov 1994 09:49:37 "
			       "GMT\r\n",
			       &r) > 0);
	membrane_http_decide(req_buf, &r, &f, NOW, &out);
	CU_ASSERT(out.status == 304);
}

static void
test_reason_status(void)
{
	static const struct {
		int status;
		const char *reason;
	} t[] = {
		{200, "OK"},
		{206, "Partial Content"},
		{301, "Moved Permanently"},
		{304, "Not Modified"},
		{400, "Bad Request"},
		{403, "Forbidden"},
		{404, "Not Found"},
		{405, "Method Not Allowed"},
		{408, "Request Timeout"},
		{412, "Precondition Failed"},
		{414, "URI Too Long"},
		{416, "Range Not Satisfiable"},
		{431, "Request Header Fields Too Large"},
		{500, "Internal Server Error"},
		{501, "Not Implemented"},
		{503, "Service Unavailable"},
		{505, "HTTP Version Not Supported"},
		{299, "Unknown"},
	};
	unsigned int i;

	for (i = 0; i < N_TESTS(t); i++)
		CU_ASSERT_STRING_EQUAL(membrane_http_reason(t[i].status),
				       t[i].reason);
	CU_ASSERT(membrane_http_status(0) == 200);
	CU_ASSERT(membrane_http_status(-ENOENT) == 404);
	CU_ASSERT(membrane_http_status(-EACCES) == 403);
	CU_ASSERT(membrane_http_status(-EISDIR) == 403);
	CU_ASSERT(membrane_http_status(-EMFILE) == 503);
	CU_ASSERT(membrane_http_status(-EINVAL) == 400);
	CU_ASSERT(membrane_http_status(-EXDEV) == 400);
	CU_ASSERT(membrane_http_status(-ENAMETOOLONG) == 414);
	CU_ASSERT(membrane_http_status(-E2BIG) == 431);
	CU_ASSERT(membrane_http_status(-EOPNOTSUPP) == 501);
	CU_ASSERT(membrane_http_status(-EPROTONOSUPPORT) == 505);
	CU_ASSERT(membrane_http_status(-EIO) == 500);
	CU_ASSERT(membrane_http_status(-EBADF) == 500);
}

int
main(void)
{
	static const struct test_case t[] = {
		TEST(test_get_head),
		TEST(test_methods),
		TEST(test_versions_keep_alive),
		TEST(test_bad_version),
		TEST(test_host),
		TEST(test_target),
		TEST(test_dot_segments),
		TEST(test_long_path),
		TEST(test_limits),
		TEST(test_request_line),
		TEST(test_headers),
		TEST(test_transfer_encoding),
		TEST(test_spans),
		TEST(test_incomplete),
		TEST(test_line_ends),
		TEST(test_pipelined),
		TEST(test_size_limit),
		TEST(test_chunked),
		TEST(test_dates),
		TEST(test_etag_types),
		TEST(test_decide_conditional),
		TEST(test_decide_range),
		TEST(test_decide_file),
		TEST(test_reason_status),
	};

	if (CU_initialize_registry() != CUE_SUCCESS ||
	    test_add_suite("membrane_http", t, N_TESTS(t)) != 0)
		return 1;
	return test_run_all();
}
