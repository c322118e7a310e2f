/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.1 for a static file server (RFC 9110, RFC 9112), without lwIP:
 * the request-head parser, the decision a file's request gets, the
 * chunked body skipper, dates, entity tags and media types.
 *
 * The parser keeps no state between calls: a connection appends bytes to
 * its buffer and calls again; a head is at most a few KiB, so parsing it
 * again from the start costs less than carrying a state machine would.
 * It records where the fields that need the file (Range, the
 * preconditions) are in the buffer, and membrane_http_decide() reads
 * them once the file is known, so nothing is copied.
 *
 * It is strict where leniency lets two readers disagree on what a request
 * means (single spaces in the request line, no whitespace before a field
 * colon, no folded lines, one Content-Length, not both Content-Length and
 * Transfer-Encoding) and lenient where nobody can be misled (bare LF line
 * ends, empty lines before the request line).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "membrane_http.h"

/* What the field lines said, for the checks that need all of them. */
struct hdr_seen {
	bool content_length, transfer_encoding, te_other, host;
	bool conn_close, conn_keep_alive;
	bool range, if_range, if_match, if_none_match, ims, ius;
};

/* RFC 9110 5.6.2 tchar: the bytes of a method or a field name. */
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

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
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

static const char *
skip_ows(const char *a, const char *b)
{
	while (a < b && (*a == ' ' || *a == '\t'))
		a++;
	return a;
}

static const char *
trim_ows(const char *a, const char *b)
{
	while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
		b--;
	return b;
}

static struct membrane_http_span
span_of(const char *buf, const char *a, const char *b)
{
	struct membrane_http_span s = {(uint32_t)(a - buf), (uint32_t)(b - a)};

	return s;
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

/* ------------------------------------------------------------------ */
/* Request target                                                      */
/* ------------------------------------------------------------------ */

/* uri-host [":" port] (RFC 9110 7.2): a reg-name, IPv4 or IP-literal.
 * Used for Host and the authority of an absolute-form target. */
static bool
valid_host(const char *a, const char *b)
{
	if (a == b)
		return false; /* an http URI never has an empty host */
	if (*a == '[') {
		for (a++; a < b && *a != ']'; a++)
			if (hex_val((unsigned char)*a) < 0 && *a != ':' &&
			    *a != '.' && *a != 'v' && *a != 'V')
				return false;
		if (a == b)
			return false;
		a++;
	} else {
		const char *h = a;

		for (; a < b && *a != ':'; a++)
			if (!is_alpha((unsigned char)*a) &&
			    !is_digit((unsigned char)*a) &&
			    strchr("-._~%!$&'()*+,;=", *a) == NULL)
				return false;
		if (a == h)
			return false;
	}
	if (a == b)
		return true;
	if (*a++ != ':')
		return false;
	for (; a < b; a++)
		if (!is_digit((unsigned char)*a))
			return false;
	return true;
}

/*
 * RFC 3986 5.2.4 on a decoded path that starts with '/': "." segments go,
 * ".." takes the previous segment with it.  In place (the output never
 * outruns the input).  -EXDEV when a ".." would climb above the root.
 */
static int
remove_dots(char *p)
{
	const char *in = p;
	char *out = p;

	while (*in != '\0') {
		const char *seg = in + 1; /* in is at a '/' */
		const char *end = strchrnul(seg, '/');
		size_t n = (size_t)(end - seg);

		if ((n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.')) {
			if (n == 2) {
				if (out == p)
					return -EXDEV;
				do
					out--;
				while (out > p && *out != '/');
			}
			/* "/a/." and "/a/b/.." name the directory "/a/" */
			if (*end == '\0')
				*out++ = '/';
			in = end;
			continue;
		}
		memmove(out, in, (size_t)(end - in));
		out += end - in;
		in = end;
	}
	if (out == p)
		*out++ = '/';
	*out = '\0';
	return 0;
}

/* Percent-decode the path [t, t + n) into @p out, then remove its dot
 * segments. */
static int
decode_path(const char *t, size_t n, char *out)
{
	size_t i, o = 0;

	if (n == 0) { /* absolute-form without a path: the root */
		memcpy(out, "/", 2);
		return 0;
	}
	for (i = 0; i < n; i++) {
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
			return -ENAMETOOLONG;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return remove_dots(out);
}

/*
 * origin-form ("/path?query") or absolute-form ("http://host/path?query",
 * which RFC 9112 3.2.2 says a server MUST accept) at buf[off, off + n).
 */
static int
parse_target(const char *buf, size_t off, size_t n, struct membrane_http_req *r)
{
	const char *t = buf + off, *end = t + n, *p, *q;
	size_t i;

	if (n == 0)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (t[i] == '#' || (unsigned char)t[i] <= 0x20 ||
		    (unsigned char)t[i] >= 0x7f)
			return -EINVAL;
	p = t;
	if (*t != '/') {
		const char *s = t, *auth;

		while (s < end && (is_alpha((unsigned char)*s) ||
				   is_digit((unsigned char)*s) || *s == '+' ||
				   *s == '-' || *s == '.'))
			s++;
		if (end - s < 3 || memcmp(s, "://", 3) != 0 ||
		    !(token_is(t, s, "http") || token_is(t, s, "https")))
			return -EINVAL;
		auth = s + 3;
		for (p = auth; p < end && *p != '/' && *p != '?'; p++)
			if (*p == '@')
				return -EINVAL; /* userinfo: RFC 9110 4.2.4 */
		if (!valid_host(auth, p))
			return -EINVAL;
	}
	q = memchr(p, '?', (size_t)(end - p));
	if (q == NULL)
		q = end;
	else
		r->query = span_of(buf, q, end);
	return decode_path(p, (size_t)(q - p), r->path);
}

/* "HTTP/" DIGIT "." DIGIT: the minor version, or an error.  A higher
 * minor version of 1 is answered as 1.1 (RFC 9110 2.5). */
static int
parse_version(const char *v, size_t n, int *minor)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' ||
	    !is_digit((unsigned char)v[5]) || !is_digit((unsigned char)v[7]))
		return -EINVAL;
	if (v[5] != '1')
		return -EPROTONOSUPPORT;
	*minor = v[7] == '0' ? 0 : 1;
	return 0;
}

/* GET and HEAD are served; the other methods RFC 9110 (and PATCH, RFC
 * 5789) define are known but not allowed here (405); any other token is
 * not implemented (501, RFC 9110 9.1).  Methods are case-sensitive. */
static int
method_of(const char *m, size_t n)
{
	static const char *const known[] = {"POST",    "PUT",	  "DELETE",
					    "CONNECT", "OPTIONS", "TRACE",
					    "PATCH"};
	size_t i;

	if (n == 3 && memcmp(m, "GET", 3) == 0)
		return MEMBRANE_HTTP_GET;
	if (n == 4 && memcmp(m, "HEAD", 4) == 0)
		return MEMBRANE_HTTP_HEAD;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i]) == n && memcmp(m, known[i], n) == 0)
			return MEMBRANE_HTTP_OTHER;
	return MEMBRANE_HTTP_UNKNOWN;
}

/*
 * The asterisk-form of OPTIONS ("*") and the authority-form of CONNECT
 * ("host:port", RFC 9112 3.2.3-4): valid requests, of methods a file
 * server does not allow (405).  Any other method with them: 400.
 */
static bool
other_form(const char *m, size_t mlen, const char *t, size_t n)
{
	const char *colon;

	if (mlen == 7 && memcmp(m, "OPTIONS", 7) == 0)
		return n == 1 && *t == '*';
	if (mlen != 7 || memcmp(m, "CONNECT", 7) != 0)
		return false;
	colon = memrchr(t, ':', n);
	return colon != NULL && colon + 1 < t + n && valid_host(t, t + n) &&
	       (*t != '[' || colon[-1] == ']');
}

/* method SP request-target SP HTTP-version, single spaces, at
 * buf[pos, eol). */
static int
parse_request_line(const char *buf, size_t pos, size_t eol, uint32_t max_target,
		   struct membrane_http_req *r)
{
	const char *l = buf + pos, *end = buf + eol, *m = l, *t, *v;
	int rc;

	while (m < end && is_tchar((unsigned char)*m))
		m++;
	if (m == l || m == end || *m != ' ')
		return -EINVAL;
	t = m + 1;
	v = memchr(t, ' ', (size_t)(end - t));
	if (v == NULL)
		return -EINVAL; /* no version: HTTP/0.9 is not served */
	if ((size_t)(v - t) > max_target)
		return -ENAMETOOLONG;
	v++;
	if (memchr(v, ' ', (size_t)(end - v)) != NULL)
		return -EINVAL;
	r->method = method_of(l, (size_t)(m - l));
	/* a request line that is well formed but of another version is
	 * 505, not 400: check the shape of the target first */
	if (other_form(l, (size_t)(m - l), t, (size_t)(v - 1 - t))) {
		memcpy(r->path, "/", 2); /* never opened: 405 */
		rc = 0;
	} else {
		rc = parse_target(buf, (size_t)(t - buf), (size_t)(v - 1 - t),
				  r);
	}
	if (rc == 0)
		rc = parse_version(v, (size_t)(end - v), &r->minor);
	return rc;
}

/*
 * A request line without its end yet, at buf[pos, lim): refuse it as soon
 * as it cannot become valid (a method byte that is no tchar, a target
 * over the limit), so a long target gets its 414 without waiting for the
 * rest.  At the head limit with neither, it is malformed.
 */
static int
partial_request_line(const char *buf, size_t pos, size_t lim, size_t len,
		     uint32_t max_head, uint32_t max_target)
{
	const char *l = buf + pos, *end = buf + lim, *m = l, *t, *sp;

	while (m < end && is_tchar((unsigned char)*m))
		m++;
	/* a last CR may be the start of a line end: wait for the LF */
	if (m < end && !(*m == '\r' && m + 1 == end)) {
		if (*m != ' ' || m == l)
			return -EINVAL;
		t = m + 1;
		sp = memchr(t, ' ', (size_t)(end - t));
		if ((size_t)((sp != NULL ? sp : end) - t) > max_target)
			return -ENAMETOOLONG;
	}
	return len >= max_head ? -EINVAL : 0;
}

/* ------------------------------------------------------------------ */
/* Header fields                                                       */
/* ------------------------------------------------------------------ */

/* 1*DIGIT, no sign, no list, no overflow. */
static int
parse_content_length(const char *a, const char *b, uint64_t *out)
{
	uint64_t v = 0;

	if (a == b)
		return -EINVAL;
	for (; a < b; a++) {
		if (!is_digit((unsigned char)*a) || v > (UINT64_MAX - 9) / 10)
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
		const char *x = skip_ows(a, e);

		e = trim_ows(x, e);
		if (token_is(x, e, "close"))
			s->conn_close = true;
		else if (token_is(x, e, "keep-alive"))
			s->conn_keep_alive = true;
		a = c != NULL ? c + 1 : b;
	}
}

/* A field that may appear once (the preconditions, as nginx also has
 * them): its value's span, or -EINVAL the second time. */
static int
once(bool *seen, struct membrane_http_span *sp, const char *buf, const char *v,
     const char *ve)
{
	if (*seen)
		return -EINVAL;
	*seen = true;
	*sp = span_of(buf, v, ve);
	return 0;
}

/* The fields that carry a file's validators or a range. */
static int
parse_conditional(const char *buf, const char *l, const char *colon,
		  const char *v, const char *ve, struct membrane_http_req *r,
		  struct hdr_seen *s)
{
	if (token_is(l, colon, "range")) {
		/* the first one counts, as in nginx: a range is a hint */
		if (!s->range)
			r->range = span_of(buf, v, ve);
		s->range = true;
		return 0;
	}
	if (token_is(l, colon, "if-range"))
		return once(&s->if_range, &r->if_range, buf, v, ve);
	if (token_is(l, colon, "if-match"))
		return once(&s->if_match, &r->if_match, buf, v, ve);
	if (token_is(l, colon, "if-none-match"))
		return once(&s->if_none_match, &r->if_none_match, buf, v, ve);
	if (token_is(l, colon, "if-modified-since"))
		return once(&s->ims, &r->if_modified_since, buf, v, ve);
	if (token_is(l, colon, "if-unmodified-since"))
		return once(&s->ius, &r->if_unmodified_since, buf, v, ve);
	return 0;
}

/* field-name ":" OWS field-value OWS, at buf[pos, eol) */
static int
parse_header(const char *buf, size_t pos, size_t eol,
	     struct membrane_http_req *r, struct hdr_seen *s)
{
	const char *l = buf + pos, *end = buf + eol, *colon = l, *v, *ve;

	while (colon < end && is_tchar((unsigned char)*colon))
		colon++;
	/* an empty name covers folded lines (leading SP/HTAB); a space
	 * before the colon is refused by RFC 9112 5.1 */
	if (colon == l || colon == end || *colon != ':')
		return -EINVAL;
	for (v = colon + 1; v < end; v++)
		if (is_ctl((unsigned char)*v) && *v != '\t')
			return -EINVAL;
	v = skip_ows(colon + 1, end);
	ve = trim_ows(v, end);
	if (token_is(l, colon, "content-length")) {
		if (s->content_length)
			return -EINVAL;
		s->content_length = true;
		return parse_content_length(v, ve, &r->content_length);
	}
	if (token_is(l, colon, "transfer-encoding")) {
		if (s->transfer_encoding)
			return -EINVAL;
		s->transfer_encoding = true;
		/* chunked is the one coding a recipient must know (RFC 9112
		 * 7); a body in any other cannot be framed here */
		if (token_is(v, ve, "chunked"))
			r->chunked = true;
		else
			s->te_other = true;
		return 0;
	}
	if (token_is(l, colon, "host")) {
		if (s->host || !valid_host(v, ve))
			return -EINVAL; /* RFC 9112 3.2 */
		s->host = true;
		return 0;
	}
	if (token_is(l, colon, "connection")) {
		parse_connection(v, ve, s);
		return 0;
	}
	if (token_is(l, colon, "expect")) {
		r->expect_continue = token_is(v, ve, "100-continue");
		return 0;
	}
	return parse_conditional(buf, l, colon, v, ve, r, s);
}

/* Checks that need every field line (RFC 9112 3.2, 6.1, 6.3). */
static int
check_fields(const struct hdr_seen *s, struct membrane_http_req *r)
{
	if (s->transfer_encoding && s->content_length)
		return -EINVAL; /* a smuggling attempt, or a broken client */
	if (!s->host && r->minor == 1)
		return -EINVAL;
	if (s->transfer_encoding && r->minor == 0)
		return -EINVAL; /* faulty framing in HTTP/1.0 */
	if (s->te_other)
		return -EOPNOTSUPP;
	if (s->conn_close)
		r->keep_alive = false;
	else
		r->keep_alive = s->conn_keep_alive || r->minor == 1;
	return 0;
}

static void
limits_of(const struct membrane_http_limits *lim, uint32_t *head,
	  uint32_t *target)
{
	*head = lim != NULL && lim->max_head != 0 ? lim->max_head
						  : MEMBRANE_HTTP_MAX_HEAD;
	*target = lim != NULL && lim->max_target != 0
			  ? lim->max_target
			  : MEMBRANE_HTTP_MAX_TARGET;
	if (*head < MEMBRANE_HTTP_MIN_HEAD)
		*head = MEMBRANE_HTTP_MIN_HEAD;
	if (*head > MEMBRANE_HTTP_MAX_HEAD_LIMIT)
		*head = MEMBRANE_HTTP_MAX_HEAD_LIMIT;
	if (*target < MEMBRANE_HTTP_MIN_TARGET)
		*target = MEMBRANE_HTTP_MIN_TARGET;
	/* the request line, target included, is part of the head */
	if (*target > *head - 32)
		*target = *head - 32;
}

int
membrane_http_parse(const char *buf, size_t len,
		    const struct membrane_http_limits *lim,
		    struct membrane_http_req *r)
{
	struct hdr_seen seen = {0};
	uint32_t max_head, max_target;
	size_t pos = 0, eol, next, end;
	int rc;

	memset(r, 0, sizeof(*r));
	limits_of(lim, &max_head, &max_target);
	end = len < max_head ? len : max_head;
	/* RFC 9112 2.2: empty lines before the request line are skipped
	 * (clients add a CRLF after a body) */
	do {
		if (!next_line(buf, end, pos, &eol, &next))
			return partial_request_line(buf, pos, end, len,
						    max_head, max_target);
		if (eol > pos)
			break;
		pos = next;
	} while (true);
	rc = parse_request_line(buf, pos, eol, max_target, r);
	if (rc < 0)
		return rc;
	for (pos = next;; pos = next) {
		if (!next_line(buf, end, pos, &eol, &next))
			return len >= max_head ? -E2BIG : 0;
		if (eol == pos)
			break;
		rc = parse_header(buf, pos, eol, r, &seen);
		if (rc < 0)
			return rc;
	}
	rc = check_fields(&seen, r);
	return rc < 0 ? rc : (int)next;
}

/* ------------------------------------------------------------------ */
/* Chunked bodies                                                      */
/* ------------------------------------------------------------------ */

enum {
	CH_SIZE,     /* chunk-size digits */
	CH_EXT,	     /* chunk-ext, up to the line end */
	CH_SIZE_LF,  /* CR seen after the size line */
	CH_DATA,     /* chunk data */
	CH_DATA_END, /* CRLF after the data */
	CH_DATA_LF,
	CH_TRAILER, /* start of a trailer line, or the final blank line */
	CH_TRAILER_LINE,
	CH_TRAILER_LF,
	CH_LAST_LF,
	CH_DONE,
};

/* A size or trailer line longer than this is not a client's mistake. */
#define CH_LINE_MAX 4096u

int
membrane_http_chunked_skip(struct membrane_http_chunked *c, const char *buf,
			   size_t len, size_t *used)
{
	size_t i = 0, n;
	int h;

	while (i < len && c->state != CH_DONE) {
		unsigned char b = (unsigned char)buf[i];

		if (c->state != CH_DATA && ++c->line > CH_LINE_MAX)
			return -EINVAL;
		switch (c->state) {
		case CH_SIZE:
			h = hex_val(b);
			if (h >= 0) {
				if (c->left > UINT64_MAX >> 4)
					return -EINVAL;
				c->left = c->left << 4 | (uint64_t)h;
				i++;
				break;
			}
			/* at least one digit, then an extension or the end */
			if (c->line == 1 || strchr("; \t\r\n", b) == NULL)
				return -EINVAL;
			c->state = CH_EXT;
			c->line--; /* seen again in CH_EXT */
			break;
		case CH_EXT:
			i++;
			if (b == '\r')
				c->state = CH_SIZE_LF;
			else if (b == '\n')
				c->state = c->left ? CH_DATA : CH_TRAILER;
			else if (is_ctl(b) && b != '\t')
				return -EINVAL;
			break;
		case CH_SIZE_LF:
			if (b != '\n')
				return -EINVAL;
			i++;
			c->state = c->left ? CH_DATA : CH_TRAILER;
			break;
		case CH_DATA:
			n = len - i < c->left ? len - i : (size_t)c->left;
			i += n;
			c->left -= n;
			if (c->left == 0) {
				c->state = CH_DATA_END;
				c->line = 0;
			}
			break;
		case CH_DATA_END:
			if (b != '\r' && b != '\n')
				return -EINVAL;
			i++;
			c->state = b == '\r' ? CH_DATA_LF : CH_SIZE;
			c->line = b == '\r' ? c->line : 0;
			break;
		case CH_DATA_LF:
			if (b != '\n')
				return -EINVAL;
			i++;
			c->state = CH_SIZE;
			c->line = 0;
			break;
		case CH_TRAILER:
			c->line = 1;
			if (b == '\r' || b == '\n') {
				i++;
				c->state = b == '\r' ? CH_LAST_LF : CH_DONE;
				break;
			}
			c->state = CH_TRAILER_LINE;
			break;
		case CH_TRAILER_LINE:
			i++;
			if (b == '\r')
				c->state = CH_TRAILER_LF;
			else if (b == '\n')
				c->state = CH_TRAILER;
			else if (is_ctl(b) && b != '\t')
				return -EINVAL;
			break;
		case CH_TRAILER_LF:
		case CH_LAST_LF:
			if (b != '\n')
				return -EINVAL;
			i++;
			c->state =
				c->state == CH_LAST_LF ? CH_DONE : CH_TRAILER;
			break;
		}
	}
	*used = i;
	return c->state == CH_DONE;
}

/* ------------------------------------------------------------------ */
/* Dates                                                               */
/* ------------------------------------------------------------------ */

static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed",
				 "Thu", "Fri", "Sat"};
static const char *const wdays_long[7] = {"Sunday",    "Monday",   "Tuesday",
					  "Wednesday", "Thursday", "Friday",
					  "Saturday"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
				   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era;
	unsigned int yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned int)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned int *m, unsigned int *d)
{
	int64_t era;
	unsigned int doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned int)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void
membrane_http_date(int64_t t, char out[MEMBRANE_HTTP_DATE_LEN])
{
	int64_t days = (t >= 0 ? t : t - 86399) / 86400, y;
	int64_t s = t - days * 86400;
	unsigned int m, d;

	civil_from_days(days, &y, &m, &d);
	snprintf(out, MEMBRANE_HTTP_DATE_LEN,
		 "%s, %02u %s %04" PRId64 " %02u:%02u:%02u GMT",
		 wdays[((days % 7) + 11) % 7], d, months[m - 1],
		 y < 0	    ? (int64_t)0
		 : y > 9999 ? (int64_t)9999
			    : y,
		 (unsigned int)(s / 3600), (unsigned int)(s / 60 % 60),
		 (unsigned int)(s % 60));
}

/* @p n digits at @p s, or -1. */
static int
digits(const char *s, unsigned int n)
{
	int v = 0;

	while (n-- > 0) {
		if (!is_digit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	return v;
}

static int
month_of(const char *s)
{
	int i;

	for (i = 0; i < 12; i++)
		if (memcmp(s, months[i], 3) == 0)
			return i + 1;
	return -1;
}

/* "HH:MM:SS" */
static int
hms(const char *s, int *sec)
{
	int h = digits(s, 2), m = digits(s + 3, 2), x = digits(s + 6, 2);

	if (h < 0 || m < 0 || x < 0 || s[2] != ':' || s[5] != ':' || h > 23 ||
	    m > 59 || x > 60)
		return -EINVAL;
	*sec = h * 3600 + m * 60 + (x == 60 ? 59 : x);
	return 0;
}

static int
make_time(int64_t y, int mon, int d, int sec, int64_t *t)
{
	static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30,
						31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (mon < 1 || d < 1 || d > mdays[mon - 1] ||
	    (mon == 2 && d == 29 && !leap))
		return -EINVAL;
	*t = days_from_civil(y, (unsigned int)mon, (unsigned int)d) * 86400 +
	     sec;
	return 0;
}

int
membrane_http_parse_date(const char *s, size_t n, int64_t now, int64_t *t)
{
	const char *comma = memchr(s, ',', n);
	int d, mon, y, sec;

	if (n == 29 && comma == s + 3) { /* Sun, 06 Nov 1994 08:49:37 GMT */
		if (s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
		    s[16] != ' ' || memcmp(s + 25, " GMT", 4) != 0)
			return -EINVAL;
		d = digits(s + 5, 2);
		mon = month_of(s + 8);
		y = digits(s + 12, 4);
		if (d < 0 || y < 0 || hms(s + 17, &sec) < 0)
			return -EINVAL;
		return make_time(y, mon, d, sec, t);
	}
	if (comma != NULL) { /* Sunday, 06-Nov-94 08:49:37 GMT */
		const char *p = comma + 1;
		int64_t year, cy;
		unsigned int m0, d0;
		int i;

		for (i = 0; i < 7; i++)
			if (token_is(s, comma, wdays_long[i]))
				break;
		if (i == 7 || s + n - p != 23 || p[0] != ' ' || p[3] != '-' ||
		    p[7] != '-' || p[10] != ' ' ||
		    memcmp(p + 19, " GMT", 4) != 0)
			return -EINVAL;
		d = digits(p + 1, 2);
		mon = month_of(p + 4);
		y = digits(p + 8, 2);
		if (d < 0 || y < 0 || hms(p + 11, &sec) < 0)
			return -EINVAL;
		/* RFC 9110 5.6.7: more than 50 years ahead is the past */
		civil_from_days((now >= 0 ? now : 0) / 86400, &cy, &m0, &d0);
		year = cy - cy % 100 + y;
		if (year > cy + 50)
			year -= 100;
		return make_time(year, mon, d, sec, t);
	}
	/* Sun Nov  6 08:49:37 1994 */
	if (n != 24 || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' ||
	    s[19] != ' ')
		return -EINVAL;
	mon = month_of(s + 4);
	d = s[8] == ' ' ? digits(s + 9, 1) : digits(s + 8, 2);
	y = digits(s + 20, 4);
	if (d < 0 || y < 0 || hms(s + 11, &sec) < 0)
		return -EINVAL;
	return make_time(y, mon, d, sec, t);
}

/* ------------------------------------------------------------------ */
/* Validators, preconditions, ranges                                   */
/* ------------------------------------------------------------------ */

size_t
membrane_http_etag(const struct membrane_http_file *f,
		   char out[MEMBRANE_HTTP_ETAG_MAX])
{
	int n;

	out[0] = '\0';
	if (f->mtime < 0)
		return 0;
	n = snprintf(out, MEMBRANE_HTTP_ETAG_MAX, "\"%" PRIx64 "-%" PRIx64 "\"",
		     (uint64_t)f->mtime, f->size);
	return n > 0 ? (size_t)n : 0;
}

/*
 * Does the If-Match / If-None-Match list [a, b) name @p etag?  "*" names
 * any current representation.  Weak comparison ignores W/; strong never
 * matches a weak tag (RFC 9110 8.8.3.2).  A malformed list names nothing.
 */
static bool
etag_list_matches(const char *a, const char *b, const char *etag, size_t elen,
		  bool weak)
{
	if (b - a == 1 && *a == '*')
		return true;
	while (a < b) {
		bool is_weak = false;
		const char *q;

		while (a < b && (*a == ',' || *a == ' ' || *a == '\t'))
			a++;
		if (a == b)
			break;
		if (b - a >= 2 && a[0] == 'W' && a[1] == '/') {
			is_weak = true;
			a += 2;
		}
		if (a == b || *a != '"')
			return false;
		q = memchr(a + 1, '"', (size_t)(b - a - 1));
		if (q == NULL)
			return false;
		q++;
		if (elen > 0 && (size_t)(q - a) == elen &&
		    memcmp(a, etag, elen) == 0 && (weak || !is_weak))
			return true;
		a = skip_ows(q, b);
		if (a < b && *a != ',')
			return false;
	}
	return false;
}

/* A decimal number, saturating; NULL if there is no digit. */
static const char *
number(const char *a, const char *b, uint64_t *v)
{
	const char *s = a;

	*v = 0;
	for (; a < b && is_digit((unsigned char)*a); a++)
		*v = *v > (UINT64_MAX - 9) / 10
			     ? UINT64_MAX
			     : *v * 10 + (uint64_t)(*a - '0');
	return a == s ? NULL : a;
}

/* One byte-range-spec [a, b) (RFC 9110 14.1.2): -1 invalid, 0
 * unsatisfiable, 1 satisfiable as [*first, *first + *len). */
static int
range_spec(const char *a, const char *b, uint64_t size, uint64_t *first,
	   uint64_t *len)
{
	uint64_t x, y;
	const char *p;

	if (a < b && *a == '-') { /* suffix-range */
		if (number(a + 1, b, &x) != b)
			return -1;
		if (x == 0 || size == 0)
			return 0;
		*first = size > x ? size - x : 0;
		*len = size - *first;
		return 1;
	}
	p = number(a, b, &x);
	if (p == NULL || p == b || *p != '-')
		return -1;
	y = UINT64_MAX;
	if (p + 1 < b && number(p + 1, b, &y) != b)
		return -1;
	if (y < x)
		return -1;
	if (x >= size)
		return 0;
	*first = x;
	*len = (y < size - 1 ? y : size - 1) - x + 1;
	return 1;
}

/*
 * Range [a, b) for a file of @p size: 1 one satisfiable range (206);
 * 0 ignore it (another unit: RFC 9110 14.2 says ignore; or several
 * satisfiable ranges, served whole); -1 unsatisfiable or invalid (416,
 * as nginx answers; RFC 9110 14.2 lets a server ignore or refuse).
 */
static int
eval_range(const char *a, const char *b, uint64_t size, uint64_t *first,
	   uint64_t *len)
{
	const char *eq = memchr(a, '=', (size_t)(b - a));
	bool invalid = false;
	unsigned int sat = 0;

	if (eq == NULL || !token_is(a, eq, "bytes"))
		return 0;
	for (a = eq + 1; a < b;) {
		const char *c = memchr(a, ',', (size_t)(b - a));
		const char *e = c != NULL ? c : b;
		const char *x = skip_ows(a, e);
		uint64_t f, l;

		e = trim_ows(x, e);
		if (x < e) { /* empty list elements are skipped */
			switch (range_spec(x, e, size, &f, &l)) {
			case -1:
				invalid = true;
				break;
			case 1:
				if (sat++ == 0) {
					*first = f;
					*len = l;
				}
				break;
			}
		}
		a = c != NULL ? c + 1 : b;
	}
	if (invalid || sat == 0)
		return -1;
	return sat == 1 ? 1 : 0;
}

/* If-Range (RFC 9110 13.1.5): the range applies only if the validator is
 * the current one: the strong entity tag, or exactly the Last-Modified. */
static bool
if_range_holds(const char *a, const char *b,
	       const struct membrane_http_reply *out, int64_t now)
{
	size_t elen = strlen(out->etag);
	int64_t t;

	if (*a == '"' || (b - a > 1 && a[0] == 'W' && a[1] == '/'))
		return elen > 0 && (size_t)(b - a) == elen &&
		       memcmp(a, out->etag, elen) == 0;
	return out->last_modified >= 0 &&
	       membrane_http_parse_date(a, (size_t)(b - a), now, &t) == 0 &&
	       t == out->last_modified;
}

static bool
has(struct membrane_http_span s)
{
	return s.len != 0;
}

/* RFC 9110 13.2.2 steps 1 to 4: 412, 304, or 0 to go on. */
static int
preconditions(const char *buf, const struct membrane_http_req *r,
	      const struct membrane_http_reply *out, int64_t now)
{
	size_t elen = strlen(out->etag);
	int64_t lm = out->last_modified, t;

	if (has(r->if_match)) {
		if (!etag_list_matches(buf + r->if_match.off,
				       buf + r->if_match.off + r->if_match.len,
				       out->etag, elen, false))
			return 412;
	} else if (has(r->if_unmodified_since) && lm >= 0 &&
		   membrane_http_parse_date(buf + r->if_unmodified_since.off,
					    r->if_unmodified_since.len, now,
					    &t) == 0 &&
		   lm > t) {
		return 412;
	}
	if (has(r->if_none_match)) {
		if (etag_list_matches(buf + r->if_none_match.off,
				      buf + r->if_none_match.off +
					      r->if_none_match.len,
				      out->etag, elen, true))
			return 304;
	} else if (has(r->if_modified_since) && lm >= 0 &&
		   membrane_http_parse_date(buf + r->if_modified_since.off,
					    r->if_modified_since.len, now,
					    &t) == 0 &&
		   lm <= t) {
		return 304;
	}
	return 0;
}

void
membrane_http_decide(const char *buf, const struct membrane_http_req *r,
		     const struct membrane_http_file *f, int64_t now,
		     struct membrane_http_reply *out)
{
	size_t plen = strlen(r->path);
	uint64_t first, len;
	int st;

	out->status = 200;
	out->first = 0;
	out->len = f->size;
	/* RFC 9110 8.8.2.1: never a modification time after the Date */
	out->last_modified = f->mtime < 0     ? -1
			     : f->mtime < now ? f->mtime
					      : now;
	membrane_http_etag(f, out->etag);
	/* a directory's index is its own URI, so that relative links in it
	 * resolve: /sub -> /sub/ */
	if (f->dir_index && r->path[plen - 1] != '/') {
		out->status = 301;
		out->len = 0;
		return;
	}
	st = preconditions(buf, r, out, now);
	if (st != 0) {
		out->status = st;
		out->len = 0;
		return;
	}
	/* RFC 9110 14.2: Range is defined for GET only.  An empty file has
	 * no range a Content-Range can name: it is sent whole (as nginx
	 * does), not refused */
	if (r->method != MEMBRANE_HTTP_GET || !has(r->range) || f->size == 0 ||
	    (has(r->if_range) &&
	     !if_range_holds(buf + r->if_range.off,
			     buf + r->if_range.off + r->if_range.len, out,
			     now)))
		return;
	switch (eval_range(buf + r->range.off,
			   buf + r->range.off + r->range.len, f->size, &first,
			   &len)) {
	case 1:
		out->status = 206;
		out->first = first;
		out->len = len;
		break;
	case -1:
		out->status = 416;
		out->len = 0;
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Tables                                                              */
/* ------------------------------------------------------------------ */

const char *
membrane_http_content_type(const char *path)
{
	/* the types of Debian's /etc/nginx/mime.types, except JavaScript:
	 * RFC 9239 makes text/javascript the one to send */
	static const struct {
		const char *ext, *type;
	} types[] = {
		{"html", "text/html"},	      {"htm", "text/html"},
		{"css", "text/css"},	      {"txt", "text/plain"},
		{"xml", "text/xml"},	      {"js", "text/javascript"},
		{"mjs", "text/javascript"},   {"json", "application/json"},
		{"png", "image/png"},	      {"jpg", "image/jpeg"},
		{"jpeg", "image/jpeg"},	      {"gif", "image/gif"},
		{"svg", "image/svg+xml"},     {"webp", "image/webp"},
		{"ico", "image/x-icon"},      {"pdf", "application/pdf"},
		{"wasm", "application/wasm"}, {"woff", "font/woff"},
		{"woff2", "font/woff2"},      {"mp4", "video/mp4"},
		{"webm", "video/webm"},	      {"mp3", "audio/mpeg"},
		{"zip", "application/zip"},
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	if (dot == NULL || strchr(dot, '/') != NULL)
		return "application/octet-stream";
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(dot + 1, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
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
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 416:
		return "Range Not Satisfiable";
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
	case -EXDEV:
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
	case -EOPNOTSUPP:
		return 501;
	case -EPROTONOSUPPORT:
		return 505;
	default:
		return 500;
	}
}
