/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.1 for the membrane's static file server, without lwIP: the
 * request-head parser (a pure function of a byte buffer, so it can be fed
 * a connection's bytes as they arrive and fuzzed on its own), the
 * decision a file's request gets (conditional requests, ranges), the
 * chunked body skipper, dates, entity tags and media types.  What it
 * accepts and refuses is in docs/vfs-protocol.md, the server's behaviour
 * in docs/membrane.md.
 */
#ifndef MEMBRANE_HTTP_H
#define MEMBRANE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Default limit of a request head (request line, fields, blank line). */
#define MEMBRANE_HTTP_MAX_HEAD 8192u
/** Default limit of a request-target as sent (RFC 9112 3: 8000). */
#define MEMBRANE_HTTP_MAX_TARGET 8000u
/** Bounds of the configurable limits. */
#define MEMBRANE_HTTP_MIN_HEAD	     1024u
#define MEMBRANE_HTTP_MAX_HEAD_LIMIT 65535u
#define MEMBRANE_HTTP_MIN_TARGET     64u
/** Size of membrane_http_req.path, NUL included (the VFS path limit). */
#define MEMBRANE_HTTP_PATH_MAX 1024u
/** Size of an entity tag with its quotes and NUL. */
#define MEMBRANE_HTTP_ETAG_MAX 40u
/** Size of an IMF-fixdate with its NUL. */
#define MEMBRANE_HTTP_DATE_LEN 30u

enum membrane_http_method {
	MEMBRANE_HTTP_GET = 1,
	MEMBRANE_HTTP_HEAD = 2,
	MEMBRANE_HTTP_OTHER = 3,   /**< a method of RFC 9110 or 5789: 405 */
	MEMBRANE_HTTP_UNKNOWN = 4, /**< any other token: 501 */
};

/** Limits of one request head; a field of 0 takes its default. */
struct membrane_http_limits {
	uint32_t max_head;   /**< MEMBRANE_HTTP_MAX_HEAD; over it: 431 */
	uint32_t max_target; /**< MEMBRANE_HTTP_MAX_TARGET; over it: 414 */
};

/** Bytes [off, off + len) of the buffer that was parsed; len 0: absent. */
struct membrane_http_span {
	uint32_t off, len;
};

struct membrane_http_req {
	int method;		 /**< enum membrane_http_method */
	int minor;		 /**< HTTP/1.0 -> 0, HTTP/1.x (x >= 1) -> 1 */
	bool keep_alive;	 /**< after the version and Connection */
	bool chunked;		 /**< Transfer-Encoding: chunked body */
	bool expect_continue;	 /**< Expect: 100-continue */
	uint64_t content_length; /**< 0 without Content-Length */
	/** The target's path as sent (still encoded), for a redirect. */
	struct membrane_http_span target_path;
	struct membrane_http_span query; /**< "?..." as sent, or len 0 */
	/* field values (OWS trimmed), judged by membrane_http_decide() */
	struct membrane_http_span range, if_range, if_match, if_none_match;
	struct membrane_http_span if_modified_since, if_unmodified_since;
	/**
	 * Percent-decoded, dot segments removed (RFC 3986 5.2.4), query
	 * dropped; starts with '/', NUL-terminated.
	 */
	char path[MEMBRANE_HTTP_PATH_MAX];
};

/**
 * Parse the request head at the start of @p buf (@p len bytes) under
 * @p lim (NULL: the defaults).  Reads no byte at or past @p len; lines
 * may end in CRLF or a bare LF.
 * @return bytes of the head (through its blank line) when complete: the
 *         body and any pipelined request follow;
 *         0 if more bytes are needed;
 *         -EINVAL malformed (400);
 *         -EXDEV a ".." segment that climbs above the root (400);
 *         -ENAMETOOLONG the target is longer than max_target, or its path
 *         decodes to MEMBRANE_HTTP_PATH_MAX bytes or more (414);
 *         -E2BIG no complete head within max_head bytes (431);
 *         -EOPNOTSUPP a transfer coding other than chunked (501);
 *         -EPROTONOSUPPORT an HTTP major version other than 1 (505).
 *         After an error r->method is still set if the request line's
 *         method was read (a HEAD's error response has no body).
 */
int membrane_http_parse(const char *buf, size_t len,
			const struct membrane_http_limits *lim,
			struct membrane_http_req *r);

/** What a chunked body skipper needs between calls; zero it to start. */
struct membrane_http_chunked {
	int state;
	uint32_t line; /**< bytes of the current size or trailer line */
	uint64_t left; /**< data bytes of the current chunk */
};

/**
 * Skip a chunked body (RFC 9112 7.1) through its trailer section: consume
 * what of @p buf (@p len bytes) belongs to it, *@p used bytes.
 * @return 1 when the body ended (the next request starts at *used),
 *         0 if it goes on past @p len, -EINVAL if it is malformed.
 */
int membrane_http_chunked_skip(struct membrane_http_chunked *c, const char *buf,
			       size_t len, size_t *used);

/** What the server knows of a file it opened. */
struct membrane_http_file {
	uint64_t size;
	int64_t mtime;	/**< seconds since the epoch; < 0 unknown */
	bool dir_index; /**< a directory's index.html */
};

/** The answer to a GET or HEAD of a file. */
struct membrane_http_reply {
	int status;	       /**< 200, 206, 301, 304, 412 or 416 */
	uint64_t first, len;   /**< file bytes to send (200, 206) */
	int64_t last_modified; /**< -1: no Last-Modified */
	char etag[MEMBRANE_HTTP_ETAG_MAX]; /**< "" for none */
};

/**
 * Decide the answer to request @p r (parsed from @p buf) for the opened
 * file @p f at time @p now (RFC 9110 13.2.2 and 14): a directory's index
 * asked without a trailing slash is 301; If-Match and If-Unmodified-Since
 * may make it 412, If-None-Match and If-Modified-Since 304; a single
 * satisfiable byte range of a GET is 206, an unsatisfiable or invalid
 * one 416; several ranges get the whole file (200).
 */
void membrane_http_decide(const char *buf, const struct membrane_http_req *r,
			  const struct membrane_http_file *f, int64_t now,
			  struct membrane_http_reply *out);

/** The entity tag of @p f: "mtime-size" in hex, nginx's form; "" if the
 *  mtime is unknown.  @return its length. */
size_t membrane_http_etag(const struct membrane_http_file *f,
			  char out[MEMBRANE_HTTP_ETAG_MAX]);

/** Format @p t as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). */
void membrane_http_date(int64_t t, char out[MEMBRANE_HTTP_DATE_LEN]);

/**
 * Parse an HTTP-date in any of RFC 9110 5.6.7's three forms (IMF-fixdate,
 * RFC 850, asctime); a two-digit year more than 50 years after @p now is
 * in the past century.  @return 0 and *@p t, or -EINVAL.
 */
int membrane_http_parse_date(const char *s, size_t n, int64_t now, int64_t *t);

/** The media type of @p path by its extension (application/octet-stream
 *  when unknown). */
const char *membrane_http_content_type(const char *path);

/** The reason phrase of @p status ("Not Found"); "Unknown" if not known. */
const char *membrane_http_reason(int status);

/**
 * The status a server answers for @p err: 0 -> 200, and the negative
 * errno of membrane_http_parse() or of a VFS response (-ENOENT 404,
 * -EACCES/-EISDIR 403, -EMFILE 503, -EINVAL/-EXDEV 400, -ENAMETOOLONG
 * 414, -E2BIG 431, -EOPNOTSUPP 501, ...); others 500.
 */
int membrane_http_status(int err);

#ifdef __cplusplus
}
#endif

#endif /* MEMBRANE_HTTP_H */
