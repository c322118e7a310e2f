/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HTTP/1.1 request-head parser: methods, versions and keep-alive,
 * the Connection and Content-Length headers, target decoding and every
 * refusal, incomplete heads fed byte by byte, the size limit, pipelining,
 * line ends, and the reason/status tables.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <membrane_http.h>

#include "../ion/cunit_main.h"

/* Parse a C string, through a heap copy of exactly its length, so that
 * ASan catches any read past len. */
static int
parse(const char *s, struct membrane_http_req *r)
{
	size_t n = strlen(s);
	char *b = malloc(n + 1);
	int rc;

	CU_ASSERT_FATAL(b != NULL);
	memcpy(b, s, n);
	rc = membrane_http_parse(b, n, r);
	free(b);
	return rc;
}

static int
parse_n(const char *s, size_t n, struct membrane_http_req *r)
{
	char *b = malloc(n ? n : 1);
	int rc;

	CU_ASSERT_FATAL(b != NULL);
	memcpy(b, s, n);
	rc = membrane_http_parse(b, n, r);
	free(b);
	return rc;
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
	CU_ASSERT(r.content_length == 0);
	CU_ASSERT(parse("HEAD / HTTP/1.1\r\n\r\n", &r) == 19);
	CU_ASSERT(r.method == MEMBRANE_HTTP_HEAD);
	CU_ASSERT_STRING_EQUAL(r.path, "/");
	CU_ASSERT(parse("POST /form HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
			&r) > 0);
	CU_ASSERT(r.method == MEMBRANE_HTTP_OTHER);
	CU_ASSERT(r.content_length == 5);
	CU_ASSERT(parse("DELETE /x HTTP/1.1\r\n\r\n", &r) > 0);
	CU_ASSERT(r.method == MEMBRANE_HTTP_OTHER);
	/* methods are case-sensitive: "get" is another method */
	CU_ASSERT(parse("get / HTTP/1.1\r\n\r\n", &r) > 0);
	CU_ASSERT(r.method == MEMBRANE_HTTP_OTHER);
	CU_ASSERT(parse("GETS / HTTP/1.1\r\n\r\n", &r) > 0);
	CU_ASSERT(r.method == MEMBRANE_HTTP_OTHER);
}

static void
test_versions_keep_alive(void)
{
	static const struct {
		const char *req;
		int minor;
		bool keep_alive;
	} t[] = {
		{"GET / HTTP/1.1\r\n\r\n", 1, true},
		{"GET / HTTP/1.0\r\n\r\n", 0, false},
		{"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 1, false},
		{"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", 1, false},
		{"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0, true},
		{"GET / HTTP/1.0\r\nconnection: Keep-Alive\r\n\r\n", 0, true},
		{"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", 1, true},
		{"GET / HTTP/1.1\r\nConnection: upgrade, close\r\n\r\n", 1,
		 false},
		{"GET / HTTP/1.1\r\nConnection:  Upgrade ,\tclose  \r\n\r\n", 1,
		 false},
		{"GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", 1, true},
		{"GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n", 1,
		 false},
		{"GET / HTTP/1.1\r\nConnection: close\r\n"
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
		"GET / HTTP/2.0\r\n\r\n", "GET / HTTP/1.2\r\n\r\n",
		"GET / HTTP/0.9\r\n\r\n", "GET / HTTP/3.1\r\n\r\n",
		"GET / HTTP/1.9\r\n\r\n",
	};
	static const char *const malformed[] = {
		"GET / HTTP/1\r\n\r\n",	  "GET / HTTP/1.1.1\r\n\r\n",
		"GET / http/1.1\r\n\r\n", "GET / HTTP/a.b\r\n\r\n",
		"GET / HTTX/1.1\r\n\r\n", "GET / HTTP/11\r\n\r\n",
		"GET /\r\n\r\n", /* HTTP/0.9 */
	};
	struct membrane_http_req r;
	unsigned int i;

	for (i = 0; i < N_TESTS(unsupported); i++)
		CU_ASSERT(parse(unsupported[i], &r) == -EPROTONOSUPPORT);
	for (i = 0; i < N_TESTS(malformed); i++)
		CU_ASSERT(parse(malformed[i], &r) == -EINVAL);
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
		{"/%2e%2e/etc/passwd", "/../etc/passwd"},
		{"/%2E%2E%2F%2e%2e", "/../.."},
		{"/../x", "/../x"}, /* the VFS refuses it, not the parser */
		{"/%c3%a9t%C3%A9", "/\xc3\xa9t\xc3\xa9"},
		{"/a?q=%zz", "/a"}, /* the query is dropped, not decoded */
		{"/a%3fb?c", "/a?b"},
		{"/%25", "/%"},
	};
	static const char *const bad[] = {
		"/%",	"/%2",	     "/%zz",   "/%g0",		"/%0g",
		"/%00", "/a%00.png", "/%0a",   "/%0D",		"/%7f",
		"/%1b", "*",	     "a/b",    "http://host/x", "/a#frag",
		"",	"/a\x7f",    "/a\x80",
	};
	struct membrane_http_req r;
	char req[256];
	unsigned int i;

	for (i = 0; i < N_TESTS(ok); i++) {
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n\r\n",
			 ok[i].target);
		CU_ASSERT(parse(req, &r) == (int)strlen(req));
		CU_ASSERT_STRING_EQUAL(r.path, ok[i].path);
	}
	for (i = 0; i < N_TESTS(bad); i++) {
		int rc;

		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n\r\n", bad[i]);
		rc = parse(req, &r);
		if (rc != -EINVAL)
			fprintf(stderr, "\n  %s: %d\n", bad[i], rc);
		CU_ASSERT(rc == -EINVAL);
	}
}

/* The path fills r->path to the byte and no further. */
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
	n += (size_t)snprintf(req + n, sizeof(req) - n, " HTTP/1.1\r\n\r\n");
	CU_ASSERT(parse(req, &r) == (int)n);
	CU_ASSERT(strlen(r.path) == MEMBRANE_HTTP_PATH_MAX - 1);
	/* 1024: does not */
	n = (size_t)snprintf(req, sizeof(req), "GET /");
	memset(req + n, 'a', 1023);
	n += 1023;
	snprintf(req + n, sizeof(req) - n, " HTTP/1.1\r\n\r\n");
	CU_ASSERT(parse(req, &r) == -EINVAL);
	/* escapes count decoded: 1022 x "%61" fits */
	n = (size_t)snprintf(req, sizeof(req), "GET /");
	for (int i = 0; i < 1022; i++)
		n += (size_t)snprintf(req + n, sizeof(req) - n, "%%61");
	snprintf(req + n, sizeof(req) - n, " HTTP/1.1\r\n\r\n");
	CU_ASSERT(parse(req, &r) > 0);
	CU_ASSERT(strlen(r.path) == 1023);
	/* a long query is fine: it is dropped */
	n = (size_t)snprintf(req, sizeof(req), "GET /q?");
	memset(req + n, 'q', 3000);
	n += 3000;
	snprintf(req + n, sizeof(req) - n, " HTTP/1.1\r\n\r\n");
	CU_ASSERT(parse(req, &r) > 0);
	CU_ASSERT_STRING_EQUAL(r.path, "/q");
}

static void
test_request_line(void)
{
	static const char *const bad[] = {
		"GET  / HTTP/1.1\r\n\r\n", /* two spaces */
		"GET /  HTTP/1.1\r\n\r\n",    "GET / HTTP/1.1 \r\n\r\n",
		" GET / HTTP/1.1\r\n\r\n",    "GET\t/ HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\r\n\r\n", /* bare CR */
		"G(T / HTTP/1.1\r\n\r\n",     "/ HTTP/1.1\r\n\r\n",
		"GET /a b HTTP/1.1\r\n\r\n",  "GET\r\n\r\n",
		"GET /\x01 HTTP/1.1\r\n\r\n",
	};
	struct membrane_http_req r;
	unsigned int i;

	for (i = 0; i < N_TESTS(bad); i++) {
		int rc = parse(bad[i], &r);

		if (rc != -EINVAL)
			fprintf(stderr, "\n  #%u: %d\n", i, rc);
		CU_ASSERT(rc == -EINVAL);
	}
	/* a NUL in the request line */
	CU_ASSERT(parse_n("GET /a\0b HTTP/1.1\r\n\r\n", 22, &r) == -EINVAL);
	CU_ASSERT(parse_n("GET\0/ HTTP/1.1\r\n\r\n", 19, &r) == -EINVAL);
}

static void
test_headers(void)
{
	static const char *const bad[] = {
		"GET / HTTP/1.1\r\nHost : x\r\n\r\n",	/* space before : */
		"GET / HTTP/1.1\r\nHost\r\n\r\n",	/* no colon */
		"GET / HTTP/1.1\r\n: x\r\n\r\n",	/* no name */
		"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", /* folded */
		"GET / HTTP/1.1\r\n\tA: b\r\n\r\n",	/* folded */
		"GET / HTTP/1.1\r\nA(: b\r\n\r\n",	/* not a token */
		"GET / HTTP/1.1\r\nA: b\x01\r\n\r\n",	/* control */
		"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",	/* bare CR */
		"GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n",	/* DEL */
		"GET / HTTP/1.1\r\nContent-Length: 1\r\n"
		"Content-Length: 1\r\n\r\n", /* duplicate, even equal */
		"GET / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: +1\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: \r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n",
		"GET / HTTP/1.1\r\nContent-Length: "
		"99999999999999999999999\r\n\r\n", /* overflow */
		"GET / HTTP/1.1\r\ncontent-length: 1\r\n"
		"CONTENT-LENGTH: 2\r\n\r\n",
		"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	};
	struct membrane_http_req r;
	unsigned int i;

	for (i = 0; i < N_TESTS(bad); i++) {
		int rc = parse(bad[i], &r);

		if (rc != -EINVAL)
			fprintf(stderr, "\n  #%u: %d\n", i, rc);
		CU_ASSERT(rc == -EINVAL);
	}
	/* lowercase and mixed-case names, OWS around values */
	CU_ASSERT(parse("GET / HTTP/1.1\r\ncontent-length:   42  \r\n"
			"hOsT:x\r\nconnection:CLOSE\r\n\r\n",
			&r) > 0);
	CU_ASSERT(r.content_length == 42);
	CU_ASSERT(!r.keep_alive);
	CU_ASSERT(parse("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r) > 0);
	CU_ASSERT(r.content_length == 0);
	CU_ASSERT(parse("GET / HTTP/1.1\r\nContent-Length: "
			"18446744073709551606\r\n\r\n",
			&r) > 0);
	CU_ASSERT(r.content_length == 18446744073709551606ull);
	/* empty values, tabs, obs-text, and unknown headers are fine */
	CU_ASSERT(parse("GET / HTTP/1.1\r\nX-Empty:\r\nX-Tab:\ta\tb\t\r\n"
			"X-Latin: caf\xe9\r\n\r\n",
			&r) > 0);
}

/* Every prefix of a complete head asks for more, then the whole parses. */
static void
test_incomplete(void)
{
	static const char req[] = "GET /a%20b?q HTTP/1.1\r\n"
				  "Host: example\r\n"
				  "Connection: close\r\n"
				  "Content-Length: 3\r\n"
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
	CU_ASSERT(membrane_http_parse(NULL, 0, &r) == 0);
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
	CU_ASSERT(parse("\r\n\r\nGET / HTTP/1.1\r\n\r\n", &r) == 22);
	CU_ASSERT(parse("\nGET / HTTP/1.1\r\n\r\n", &r) == 19);
	CU_ASSERT(parse("\r\n", &r) == 0);
	/* CR without LF is not a line end */
	CU_ASSERT(parse("GET / HTTP/1.1\rHost: x\r\n\r\n", &r) == -EINVAL);
	CU_ASSERT(parse("GET / HTTP/1.1\r\n\r\r\n", &r) == -EINVAL);
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
	CU_ASSERT(parse("POST /p HTTP/1.1\r\nContent-Length: 4\r\n\r\n"
			"abcdGET / HTTP/1.1\r\n\r\n",
			&r) == 39);
	CU_ASSERT(r.content_length == 4);
}

static void
test_size_limit(void)
{
	char *req = malloc(3 * MEMBRANE_HTTP_MAX_HEAD);
	struct membrane_http_req r;
	size_t n;

	if (req == NULL) { /* CU_ASSERT_FATAL does not tell gcc it stops */
		CU_FAIL("out of memory");
		return;
	}
	/* a head of exactly the limit parses */
	n = (size_t)sprintf(req, "GET / HTTP/1.1\r\nX-Fill: ");
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
	/* many small headers add up the same way */
	n = (size_t)sprintf(req, "GET / HTTP/1.1\r\n");
	while (n < 2 * MEMBRANE_HTTP_MAX_HEAD) {
		memcpy(req + n, "X-A: b\r\n", 8);
		n += 8;
	}
	CU_ASSERT(parse_n(req, n, &r) == -E2BIG);
	/* a request line that never ends */
	memset(req, 'G', 3 * MEMBRANE_HTTP_MAX_HEAD);
	CU_ASSERT(parse_n(req, 3 * MEMBRANE_HTTP_MAX_HEAD, &r) == -E2BIG);
	free(req);
}

static void
test_reason_status(void)
{
	CU_ASSERT_STRING_EQUAL(membrane_http_reason(200), "OK");
	CU_ASSERT_STRING_EQUAL(membrane_http_reason(400), "Bad Request");
	CU_ASSERT_STRING_EQUAL(membrane_http_reason(403), "Forbidden");
	CU_ASSERT_STRING_EQUAL(membrane_http_reason(404), "Not Found");
	CU_ASSERT_STRING_EQUAL(membrane_http_reason(405), "Method Not Allowed");
	CU_ASSERT_STRING_EQUAL(membrane_http_reason(431),
			       "Request Header Fields Too Large");
	CU_ASSERT_STRING_EQUAL(membrane_http_reason(500),
			       "Internal Server Error");
	CU_ASSERT_STRING_EQUAL(membrane_http_reason(503),
			       "Service Unavailable");
	CU_ASSERT_STRING_EQUAL(membrane_http_reason(505),
			       "HTTP Version Not Supported");
	CU_ASSERT_STRING_EQUAL(membrane_http_reason(299), "Unknown");
	CU_ASSERT(membrane_http_status(0) == 200);
	CU_ASSERT(membrane_http_status(-ENOENT) == 404);
	CU_ASSERT(membrane_http_status(-EACCES) == 403);
	CU_ASSERT(membrane_http_status(-EISDIR) == 403);
	CU_ASSERT(membrane_http_status(-EMFILE) == 503);
	CU_ASSERT(membrane_http_status(-EINVAL) == 400);
	CU_ASSERT(membrane_http_status(-E2BIG) == 431);
	CU_ASSERT(membrane_http_status(-EPROTONOSUPPORT) == 505);
	CU_ASSERT(membrane_http_status(-EIO) == 500);
	CU_ASSERT(membrane_http_status(-EBADF) == 500);
}

int
main(void)
{
	static const struct test_case t[] = {
		TEST(test_get_head),	TEST(test_versions_keep_alive),
		TEST(test_bad_version), TEST(test_target),
		TEST(test_long_path),	TEST(test_request_line),
		TEST(test_headers),	TEST(test_incomplete),
		TEST(test_line_ends),	TEST(test_pipelined),
		TEST(test_size_limit),	TEST(test_reason_status),
	};

	if (CU_initialize_registry() != CUE_SUCCESS ||
	    test_add_suite("membrane_http", t, N_TESTS(t)) != 0)
		return 1;
	return test_run_all();
}
