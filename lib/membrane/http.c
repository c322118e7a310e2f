/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.1 request-head parser (RFC 9112 section 2-3, 5).  It keeps no
 * state between calls: a connection appends bytes to its buffer and calls
 * again; a head is at most 8 KiB, so parsing it again from the start costs
 * less than carrying a state machine would.
 *
 * It is strict where leniency lets two readers disagree on what a request
 * means (single spaces in the request line, no whitespace before a header
 * colon, no folded lines, one Content-Length, no Transfer-Encoding) and
 * lenient where nobody can be misled (bare LF line ends, empty lines
 * before the request line).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "membrane_http.h"

/* What the header lines said, for the checks that need all of them. */
struct hdr_seen {
	bool content_length;
	bool host;
	bool conn_close;
	bool conn_keep_alive;
};

/* RFC 9110 5.6.2 tchar: the bytes of a method or a header name. */
static bool
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int
hex_val(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Bytes [a, b) equal the lowercase word @p w, ignoring case. */
static bool
token_is(const char *a, const char *b, const char *w)
{
	size_t n = strlen(w);

	return (size_t)(b - a) == n && strncasecmp(a, w, n) == 0;
}

/*
 * The line starting at @p pos: its content ends at *eol (before CR LF or
 * LF), the next line starts at *next.  1 if a LF was found before @p lim,
 * else 0.
 */
static int
next_line(const char *buf, size_t lim, size_t pos, size_t *eol, size_t *next)
{
	const char *lf;
	size_t k;

	if (pos >= lim)
		return 0; /* also keeps a NULL buf of length 0 out of memchr */
	lf = memchr(buf + pos, '\n', lim - pos);
	if (lf == NULL)
		return 0;
	k = (size_t)(lf - buf);
	*next = k + 1;
	*eol = k > pos && buf[k - 1] == '\r' ? k - 1 : k;
	return 1;
}

/* Percent-decode the path part of an origin-form target into @p out;
 * the query is checked for stray bytes but not kept. */
static int
decode_target(const char *t, size_t n, char *out)
{
	size_t i, o = 0;

	if (n == 0 || t[0] != '/')
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (t[i] == '#' || (unsigned char)t[i] <= 0x20 ||
		    (unsigned char)t[i] >= 0x7f)
			return -EINVAL;
	for (i = 0; i < n && t[i] != '?'; i++) {
		unsigned char c = (unsigned char)t[i];

		if (c == '%') {
			int hi = i + 2 < n ? hex_val((unsigned char)t[i + 1])
					   : -1;
			int lo = i + 2 < n ? hex_val((unsigned char)t[i + 2])
					   : -1;

			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = (unsigned char)(hi << 4 | lo);
			/* %00 would cut the path short; %0a etc. would let
			 * the path forge lines wherever it is echoed */
			if (is_ctl(c))
				return -EINVAL;
			i += 2;
		}
		if (o + 1 >= MEMBRANE_HTTP_PATH_MAX)
			return -EINVAL;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* "HTTP/" DIGIT "." DIGIT: the minor version, or an error. */
static int
parse_version(const char *v, size_t n, int *minor)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' ||
	    v[5] > '9' || v[7] < '0' || v[7] > '9')
		return -EINVAL;
	if (v[5] != '1' || v[7] > '1')
		return -EPROTONOSUPPORT;
	*minor = v[7] - '0';
	return 0;
}

/* method SP request-target SP HTTP-version, single spaces. */
static int
parse_request_line(const char *l, size_t n, struct membrane_http_req *r)
{
	const char *end = l + n, *m = l, *t, *v;
	int rc;

	while (m < end && is_tchar((unsigned char)*m))
		m++;
	if (m == l || m == end || *m != ' ')
		return -EINVAL;
	t = m + 1;
	v = memchr(t, ' ', (size_t)(end - t));
	if (v == NULL)
		return -EINVAL; /* no version: HTTP/0.9 is not served */
	v++;
	if (memchr(v, ' ', (size_t)(end - v)) != NULL)
		return -EINVAL;
	/* a request line that is well formed but of another version is
	 * 505, not 400: check the shape of the target first */
	rc = decode_target(t, (size_t)(v - 1 - t), r->path);
	if (rc == 0)
		rc = parse_version(v, (size_t)(end - v), &r->minor);
	if (rc < 0)
		return rc;
	/* methods are case-sensitive: "get" is some other method */
	if (m - l == 3 && memcmp(l, "GET", 3) == 0)
		r->method = MEMBRANE_HTTP_GET;
	else if (m - l == 4 && memcmp(l, "HEAD", 4) == 0)
		r->method = MEMBRANE_HTTP_HEAD;
	else
		r->method = MEMBRANE_HTTP_OTHER;
	return 0;
}

/* 1*DIGIT, no sign, no list, no overflow. */
static int
parse_content_length(const char *a, const char *b, uint64_t *out)
{
	uint64_t v = 0;

	if (a == b)
		return -EINVAL;
	for (; a < b; a++) {
		if (*a < '0' || *a > '9' || v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*a - '0');
	}
	*out = v;
	return 0;
}

/* Connection: a comma list of tokens; only close and keep-alive matter. */
static void
parse_connection(const char *a, const char *b, struct hdr_seen *s)
{
	while (a < b) {
		const char *c = memchr(a, ',', (size_t)(b - a));
		const char *e = c != NULL ? c : b;
		const char *x = a;

		while (x < e && (*x == ' ' || *x == '\t'))
			x++;
		while (e > x && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (token_is(x, e, "close"))
			s->conn_close = true;
		else if (token_is(x, e, "keep-alive"))
			s->conn_keep_alive = true;
		a = c != NULL ? c + 1 : b;
	}
}

/* field-name ":" OWS field-value OWS */
static int
parse_header(const char *l, size_t n, struct membrane_http_req *r,
	     struct hdr_seen *s)
{
	const char *end = l + n, *colon = l, *v, *ve;

	while (colon < end && is_tchar((unsigned char)*colon))
		colon++;
	/* an empty name covers folded lines (leading SP/HTAB); a space
	 * before the colon is refused by RFC 9112 5.1 */
	if (colon == l || colon == end || *colon != ':')
		return -EINVAL;
	for (v = colon + 1; v < end; v++)
		if (is_ctl((unsigned char)*v) && *v != '\t')
			return -EINVAL;
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	ve = end;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	if (token_is(l, colon, "content-length")) {
		if (s->content_length)
			return -EINVAL;
		s->content_length = true;
		return parse_content_length(v, ve, &r->content_length);
	}
	if (token_is(l, colon, "transfer-encoding"))
		return -EINVAL; /* a body we cannot frame: refuse, not guess */
	if (token_is(l, colon, "host")) {
		if (s->host)
			return -EINVAL;
		s->host = true;
	} else if (token_is(l, colon, "connection")) {
		parse_connection(v, ve, s);
	}
	return 0;
}

/* No complete head in @p len bytes: wait for more, or give up at the
 * limit. */
static int
incomplete(size_t len)
{
	return len >= MEMBRANE_HTTP_MAX_HEAD ? -E2BIG : 0;
}

int
membrane_http_parse(const char *buf, size_t len, struct membrane_http_req *r)
{
	size_t lim =
		len < MEMBRANE_HTTP_MAX_HEAD ? len : MEMBRANE_HTTP_MAX_HEAD;
	struct hdr_seen seen = {0};
	size_t pos = 0, eol, next;
	int rc;

	memset(r, 0, sizeof(*r));
	/* RFC 9112 2.2: empty lines before the request line are skipped
	 * (clients add a CRLF after a body) */
	do {
		if (!next_line(buf, lim, pos, &eol, &next))
			return incomplete(len);
		if (eol > pos)
			break;
		pos = next;
	} while (true);
	rc = parse_request_line(buf + pos, eol - pos, r);
	if (rc < 0)
		return rc;
	for (pos = next;; pos = next) {
		if (!next_line(buf, lim, pos, &eol, &next))
			return incomplete(len);
		if (eol == pos)
			break;
		rc = parse_header(buf + pos, eol - pos, r, &seen);
		if (rc < 0)
			return rc;
	}
	if (seen.conn_close)
		r->keep_alive = false;
	else
		r->keep_alive = seen.conn_keep_alive || r->minor == 1;
	return (int)next;
}

const char *
membrane_http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 206:
		return "Partial Content";
	case 301:
		return "Moved Permanently";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

int
membrane_http_status(int err)
{
	switch (err) {
	case 0:
		return 200;
	case -ENOENT:
	case -ENOTDIR:
		return 404;
	case -EACCES:
	case -EPERM:
	case -EISDIR:
		return 403;
	case -EINVAL:
		return 400;
	case -ENAMETOOLONG:
		return 414;
	case -E2BIG:
		return 431;
	case -EMFILE:
	case -ENFILE:
	case -ENOBUFS:
	case -EAGAIN:
		return 503;
	case -EPROTONOSUPPORT:
		return 505;
	default:
		return 500;
	}
}
