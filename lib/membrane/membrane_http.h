/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.1 request-head parser of the membrane's HTTP server: a pure
 * function of a byte buffer, so it can be fed a connection's bytes as
 * they arrive and fuzzed on its own.  What it accepts and refuses is in
 * docs/vfs-protocol.md.
 */
#ifndef MEMBRANE_HTTP_H
#define MEMBRANE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A request head (request line, headers, blank line) is at most this. */
#define MEMBRANE_HTTP_MAX_HEAD 8192u
/** Size of membrane_http_req.path, NUL included. */
#define MEMBRANE_HTTP_PATH_MAX 1024u

enum membrane_http_method {
	MEMBRANE_HTTP_GET = 1,
	MEMBRANE_HTTP_HEAD = 2,
	MEMBRANE_HTTP_OTHER = 3, /**< any other valid method: 405 */
};

struct membrane_http_req {
	int method; /**< enum membrane_http_method */
	/** Percent-decoded, query string dropped, starts with '/'. */
	char path[MEMBRANE_HTTP_PATH_MAX];
	int minor;		 /**< HTTP/1.0 -> 0, HTTP/1.1 -> 1 */
	bool keep_alive;	 /**< after the version and Connection */
	uint64_t content_length; /**< 0 without Content-Length */
};

/**
 * Parse the request head at the start of @p buf (@p len bytes).  Reads no
 * byte at or past @p len; lines may end in CRLF or a bare LF.
 * @return bytes of the head (through its blank line) when complete: the
 *         body, content_length bytes, and any pipelined request follow;
 *         0 if more bytes are needed;
 *         -EINVAL malformed (400): request line, header line, target not
 *         starting with '/', bad or %00 escape, control character, path
 *         longer than MEMBRANE_HTTP_PATH_MAX - 1, duplicate or invalid
 *         Content-Length, any Transfer-Encoding (no body framing here);
 *         -E2BIG the head is longer than MEMBRANE_HTTP_MAX_HEAD (431);
 *         -EPROTONOSUPPORT a version other than HTTP/1.0 and 1.1 (505).
 */
int membrane_http_parse(const char *buf, size_t len,
			struct membrane_http_req *r);

/** The reason phrase of @p status ("Not Found"); "Unknown" if not known. */
const char *membrane_http_reason(int status);

/**
 * The status a server answers for @p err: 0 -> 200, and the negative
 * errno of membrane_http_parse() or of a VFS response (-ENOENT 404,
 * -EACCES/-EISDIR 403, -EMFILE 503, -EINVAL 400, ...); others 500.
 */
int membrane_http_status(int err);

#ifdef __cplusplus
}
#endif

#endif /* MEMBRANE_HTTP_H */
