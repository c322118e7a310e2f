/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: the membrane's HTTP request-head parser on arbitrary bytes.
 * Beyond "no crash": the result is in range, a parsed request is sane
 * (path NUL-terminated, starting with '/', free of control bytes), and a
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
check_request(const struct membrane_http_req *r)
{
	size_t n = strnlen(r->path, sizeof(r->path));
	size_t i;

	if (n == sizeof(r->path) || r->path[0] != '/')
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)r->path[i] < 0x20 || r->path[i] == 0x7f)
			abort();
	if (r->method < MEMBRANE_HTTP_GET || r->method > MEMBRANE_HTTP_OTHER)
		abort();
	if (r->minor != 0 && r->minor != 1)
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
	rc = membrane_http_parse(b, n, r);
	free(b);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct membrane_http_req r, again;
	int rc = membrane_http_parse((const char *)data, size, &r);

	if (rc > 0) {
		if ((size_t)rc > size || (size_t)rc > MEMBRANE_HTTP_MAX_HEAD)
			abort();
		check_request(&r);
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
	} else if (rc != -EINVAL && rc != -EPROTONOSUPPORT) {
		abort();
	}
	return 0;
}
