/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: the membrane's HTTP request-head parser on arbitrary bytes,
 * and what reads the buffer after it (the decision a file's request gets,
 * the chunked body skipper).  Beyond "no crash": the result is in range,
 * a parsed request is sane (path NUL-terminated, starting with '/', free
 * of control bytes and of dot segments, spans inside the head), and a
 * head parses the same alone, with its last byte missing, or followed by
 * anything, which is what a connection feeding bytes as they come relies
 * on.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <membrane_http.h>

static void
check_span(struct membrane_http_span s, size_t head)
{
	if (s.off > head || s.len > head - s.off)
		abort();
}

static void
check_request(const struct membrane_http_req *r, size_t head)
{
	size_t n = strnlen(r->path, sizeof(r->path));
	size_t i;

	if (n == sizeof(r->path) || r->path[0] != '/')
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)r->path[i] < 0x20 || r->path[i] == 0x7f)
			abort();
	/* dot segments are resolved: none is left */
	if (strstr(r->path, "/../") != NULL || strstr(r->path, "/./") != NULL ||
	    (n >= 3 && strcmp(r->path + n - 3, "/..") == 0) ||
	    (n >= 2 && strcmp(r->path + n - 2, "/.") == 0))
		abort();
	if (r->method < MEMBRANE_HTTP_GET || r->method > MEMBRANE_HTTP_UNKNOWN)
		abort();
	if (r->minor != 0 && r->minor != 1)
		abort();
	if (r->chunked && r->content_length != 0)
		abort();
	check_span(r->query, head);
	check_span(r->range, head);
	check_span(r->if_range, head);
	check_span(r->if_match, head);
	check_span(r->if_none_match, head);
	check_span(r->if_modified_since, head);
	check_span(r->if_unmodified_since, head);
}

/* The decision reads the spans: in range for any file. */
static void
check_decide(const char *buf, const struct membrane_http_req *r,
	     const uint8_t *data, size_t size)
{
	struct membrane_http_file f = {.size = 1000, .mtime = 1000000000};
	struct membrane_http_reply out;

	if (size > 0)
		f.size = data[size - 1];
	membrane_http_decide(buf, r, &f, 1000000100, &out);
	if (out.status != 200 && out.status != 206 && out.status != 301 &&
	    out.status != 304 && out.status != 412 && out.status != 416)
		abort();
	if (out.first > f.size || out.len > f.size - out.first)
		abort();
	if (out.status == 206 && out.len == 0)
		abort();
}

/* The chunked skipper never consumes more than it is given. */
static void
check_chunked(const uint8_t *data, size_t size)
{
	struct membrane_http_chunked c = {0};
	size_t used = 0;
	int rc =
		membrane_http_chunked_skip(&c, (const char *)data, size, &used);

	if ((rc != 0 && rc != 1 && rc != -EINVAL) || used > size ||
	    (rc == 0 && used != size))
		abort();
}

/* Parse @p n bytes from a copy of exactly that size: a read past the end
 * is an ASan report even when the fuzzer's buffer is longer. */
static int
parse_copy(const uint8_t *data, size_t n, struct membrane_http_req *r)
{
	char *b = malloc(n ? n : 1);
	int rc;

	if (b == NULL)
		abort();
	memcpy(b, data, n);
	rc = membrane_http_parse(b, n, NULL, r);
	free(b);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct membrane_http_req r, again;
	int rc = membrane_http_parse((const char *)data, size, NULL, &r);

	check_chunked(data, size);
	if (rc > 0) {
		if ((size_t)rc > size || (size_t)rc > MEMBRANE_HTTP_MAX_HEAD)
			abort();
		check_request(&r, (size_t)rc);
		check_decide((const char *)data, &r, data, size);
		/* the head alone: same length, same request */
		if (parse_copy(data, (size_t)rc, &again) != rc ||
		    memcmp(&again, &r, sizeof(r)) != 0)
			abort();
		/* one byte short: not complete yet, and not an error */
		if (parse_copy(data, (size_t)rc - 1, &again) != 0)
			abort();
	} else if (rc == 0) {
		if (size >= MEMBRANE_HTTP_MAX_HEAD)
			abort();
	} else if (rc == -E2BIG) {
		if (size < MEMBRANE_HTTP_MAX_HEAD)
			abort();
	} else if (rc != -EINVAL && rc != -EPROTONOSUPPORT &&
		   rc != -ENAMETOOLONG && rc != -EXDEV && rc != -EOPNOTSUPP) {
		abort();
	}
	return 0;
}
