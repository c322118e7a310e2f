/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.1 on lwIP's raw API, files through the VFS rings
 * (docs/vfs-protocol.md, docs/membrane.md).  Every callback runs on the
 * membrane fiber's thread, lwIP's only caller.
 *
 * Input: what lwIP delivers waits in the connection's pbuf queue and is
 * acknowledged to the TCP window only as it moves into the head buffer
 * (bounded by the head limit), so a client that pipelines faster than it
 * is answered is slowed down by TCP, not by our memory.  Requests are
 * answered one at a time, in order; a request's head stays at the start
 * of the buffer until it is answered (the Range and precondition fields
 * are read from it once the file is open), and its body is skipped behind
 * it.
 *
 * Output: a connection asks the VFS fiber for at most what its TCP send
 * buffer can take (one READ outstanding at a time), so every answer can
 * be queued to lwIP the moment it arrives: the response ring never waits
 * on a slow client, and a huge file never blocks the membrane.  What lwIP
 * refuses for lack of segments waits in the connection's spill buffer.
 *
 * Closing: after its last response the server sends FIN and keeps
 * reading, and dropping, what the client still sends until the client's
 * FIN or a short linger; closing at once would make lwIP answer that data
 * with a RST, and a RST makes the client's kernel discard the response it
 * has not read yet.
 *
 * Connections live in a table allocated at start; a slot whose client
 * has gone stays taken ("orphan") until the VFS has answered its last
 * request and its file is closed, so no answer ever lands on a newer
 * connection (the id also carries a generation).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lwip/priv/tcp_priv.h> /* tcp_process_refused_data() */
#include <lwip/sys.h>
#include <lwip/tcp.h>

#include "membrane_http.h"
#include "membrane_impl.h"

#define HTTPD_DEF_CONNS	  16384u
#define HTTPD_MAX_CONNS	  16384u /* ids carry a 16-bit index */
#define HTTPD_DEF_BACKLOG 1024u
#define HTTPD_MAX_BACKLOG 65535u
#define HTTPD_DEF_IDLE_MS 10000u
#define HTTPD_MIN_IDLE_MS 1000u
#define HTTPD_MAX_IDLE_MS 3600000u
#define HTTPD_LINGER_MS	  2000u	 /* quiet time that ends a linger */
#define HTTPD_LINGER_MAX  10000u /* and the longest one */
#define HTTPD_POLL	  2	 /* tcp_poll period: 2 x 500 ms */
#define HTTPD_CHUNK	  16384u /* largest READ */
#define HTTPD_MIN_READ	  2048u
#define HTTPD_STATS_MAX	  65536u /* /stats, /metrics */
/* a response head without its Location: status line and the fields */
#define HTTPD_HEAD_ROOM 1024u

_Static_assert(HTTPD_MAX_CONNS <= 0x10000u, "16-bit connection index");

enum hc_state {
	HC_FREE,
	HC_IDLE,    /**< waiting for (the rest of) a request head */
	HC_OPENING, /**< OPEN sent or waiting to be sent */
	HC_BODY,    /**< sending a file */
	HC_CLOSING, /**< last response queued; FIN once it is out */
	HC_LINGER,  /**< FIN sent; dropping what the client still sends */
};

enum hc_want { WANT_NONE, WANT_OPEN, WANT_READ, WANT_CLOSE };

struct hconn {
	struct httpd *h;
	struct tcp_pcb *pcb; /**< NULL once the client is gone */
	enum hc_state state;
	enum hc_want want; /**< a request waiting for ring room */
	bool outstanding;  /**< a VFS request awaits its answer */
	bool handle_open;  /**< the VFS holds a file for us */
	bool keep_alive, head_only;
	bool peer_done; /**< the client sent FIN */
	bool no_more;	/**< the stream cannot be parsed further */
	bool in_input;	/**< conn_input() is on the stack */
	bool answered;	/**< a response just ended: the next is pipelined */
	bool chunked;	/**< skipping a chunked body */
	bool in_wantq;	/**< its index is in httpd.wantq */
	bool corked;	/**< writes go to spill until conn_flush() */
	uint16_t gen;
	uint32_t handle;
	uint64_t off, end; /**< next file offset to ask for, end to send */
	uint64_t skip;	   /**< Content-Length body bytes still to drop */
	struct membrane_http_chunked chunk;
	uint32_t head_len; /**< the current request's head, at in[0] */
	uint32_t in_len, rxq_len, spill_len, spill_off;
	uint32_t last_ms;  /**< sys_now() of the last progress */
	uint32_t since_ms; /**< sys_now() when the linger began */
	struct pbuf *rxq;  /**< received, not yet in in[] nor acknowledged */
	char *in;	   /**< max_head bytes */
	uint8_t *spill;	   /**< spill_cap bytes */
	struct membrane_http_req req;
};

/* A connection accepted while every slot was taken: it waits here, its
 * input refused (lwIP holds it, the window stays shut) until a slot
 * frees. */
struct parked {
	struct tcp_pcb *pcb; /**< NULL: a free entry */
	struct httpd *h;
	uint64_t seq; /**< the oldest goes first */
};

struct httpd {
	struct membrane *m;
	struct tcp_pcb *listen;
	struct membrane_http_limits lim;
	uint32_t n_conns, idle_ms, send_ms, spill_cap, head_cap;
	uint32_t n_want; /**< connections with want != WANT_NONE */
	/* the free slots, a stack of indices */
	uint32_t *free_idx, n_free;
	/* the connections waiting for VFS ring room, in order: a ring of
	 * indices, each at most once (in_wantq) */
	uint32_t *wantq, wantq_head, wantq_len;
	/* the backlog beyond n_conns */
	struct parked *parked;
	uint32_t backlog, n_parked;
	uint64_t park_seq;
	int64_t date_sec;
	char date[MEMBRANE_HTTP_DATE_LEN];
	char *head; /**< a response head is built here: head_cap bytes */
	char *in_mem;
	uint8_t *spill_mem;
	struct hconn *c;
	char stats[HTTPD_STATS_MAX];
};

/* A response head under construction. */
struct hbuf {
	char *p;
	size_t len, cap;
};

static void conn_input(struct hconn *c);

static uint32_t
conn_id(const struct hconn *c)
{
	return (uint32_t)c->gen << 16 | (uint32_t)(c - c->h->c);
}

static void
set_want(struct hconn *c, enum hc_want w)
{
	struct httpd *h = c->h;

	if ((c->want == WANT_NONE) != (w == WANT_NONE))
		h->n_want += w == WANT_NONE ? -1u : 1u;
	c->want = w;
	if (w != WANT_NONE && !c->in_wantq) {
		c->in_wantq = true;
		h->wantq[(h->wantq_head + h->wantq_len++) % h->n_conns] =
			(uint32_t)(c - h->c);
	}
}

/* The wall clock, and its IMF-fixdate formatted once a second. */
static int64_t
wall_now(struct httpd *h)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	if (ts.tv_sec != h->date_sec) {
		h->date_sec = ts.tv_sec;
		membrane_http_date(h->date_sec, h->date);
	}
	return h->date_sec;
}

static void
conn_free(struct hconn *c)
{
	set_want(c, WANT_NONE);
	if (c->state != HC_FREE)
		c->h->free_idx[c->h->n_free++] = (uint32_t)(c - c->h->c);
	c->state = HC_FREE;
	c->pcb = NULL;
	c->in_len = c->head_len = c->spill_len = c->spill_off = 0;
	c->outstanding = c->handle_open = false;
}

/* Send the waiting VFS request; @return false while the ring is full. */
static bool
conn_send(struct hconn *c)
{
	struct membrane *m = c->h->m;
	struct ion_prod *req = m->conf.vfs_req;
	const char *rel;
	uint64_t left;
	uint32_t len;
	int rc = 0;

	switch (c->want) {
	case WANT_NONE:
		return true;
	case WANT_OPEN:
		/* the VFS takes paths relative to its root; "/" is its
		 * index, "." */
		for (rel = c->req.path; *rel == '/'; rel++)
			;
		rc = membrane_vfs_send_open(req, conn_id(c),
					    *rel != '\0' ? rel : ".");
		break;
	case WANT_READ:
		left = c->end - c->off;
		len = left < HTTPD_CHUNK ? (uint32_t)left : HTTPD_CHUNK;
		if (c->pcb != NULL && tcp_sndbuf(c->pcb) < len)
			len = tcp_sndbuf(c->pcb);
		if (len == 0) { /* no room after all: the next ACK pumps */
			set_want(c, WANT_NONE);
			return true;
		}
		rc = membrane_vfs_send_read(req, conn_id(c), c->handle, c->off,
					    len);
		if (rc == 0)
			c->off += len;
		break;
	case WANT_CLOSE:
		rc = membrane_vfs_send_close(req, c->handle);
		if (rc == 0)
			c->handle_open = false;
		break;
	}
	if (rc == -ENOBUFS) {
		MB_ADD(m, vfs_ring_full, 1);
		return false;
	}
	MB_ADD(m, vfs_requests, 1);
	if (c->want != WANT_CLOSE)
		c->outstanding = true;
	set_want(c, WANT_NONE);
	/* a client gone and nothing more to hear: the slot is free */
	if (c->pcb == NULL && !c->outstanding && !c->handle_open)
		conn_free(c);
	return true;
}

/* The client is gone (closed by us, or reset): free the slot, or leave it
 * an orphan until the VFS is done with it. */
static void
conn_gone(struct hconn *c)
{
	if (c->state == HC_OPENING && c->pcb != NULL)
		MB_ADD(c->h->m, http_gone, 1); /* asked, never answered */
	c->pcb = NULL;
	if (c->rxq != NULL)
		pbuf_free(c->rxq);
	c->rxq = NULL;
	c->rxq_len = c->in_len = c->head_len = 0;
	c->spill_len = c->spill_off = 0;
	if (c->outstanding)
		return; /* the answer comes back here, then the file closes */
	if (c->handle_open) {
		set_want(c, WANT_CLOSE);
		conn_send(c);
		return;
	}
	conn_free(c);
}

/* lwIP could not queue the FIN (out of memory): try again; aborting
 * here could free a pcb that the callback calling us still uses */
static err_t
close_retry(void *arg, struct tcp_pcb *pcb)
{
	(void)arg;
	if (tcp_close(pcb) != ERR_OK)
		return ERR_OK;
	return ERR_OK;
}

/* tcp_write() and tcp_recved() take 16-bit lengths; the send buffer and
 * the window are larger (lwipopts.h) */
static uint32_t
write_some(struct tcp_pcb *pcb, const uint8_t *p, uint32_t len)
{
	uint32_t done = 0;

	while (done < len) {
		u16_t n = (u16_t)LWIP_MIN(len - done, (uint32_t)UINT16_MAX);

		if (tcp_write(pcb, p + done, n, TCP_WRITE_FLAG_COPY) != ERR_OK)
			break;
		done += n;
	}
	return done;
}

static void
window_open(struct tcp_pcb *pcb, uint32_t len)
{
	while (len > 0) {
		u16_t n = (u16_t)LWIP_MIN(len, (uint32_t)UINT16_MAX);

		tcp_recved(pcb, n);
		len -= n;
	}
}

/* Acknowledge and drop everything received and not parsed yet: a pcb
 * closed with unacknowledged data answers with a RST. */
static void
drop_input(struct hconn *c)
{
	if (c->rxq != NULL) {
		window_open(c->pcb, c->rxq_len);
		pbuf_free(c->rxq);
		c->rxq = NULL;
	}
	c->rxq_len = c->in_len = c->head_len = 0;
}

/* Close both ways and forget the pcb. */
static void
conn_close(struct hconn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	drop_input(c);
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	tcp_poll(pcb, NULL, 0);
	if (tcp_close(pcb) != ERR_OK)
		tcp_poll(pcb, close_retry, HTTPD_POLL);
	conn_gone(c);
}

/* Reset: the connection cannot go on (a response cut short, a client that
 * stopped reading).  Not from a callback of this pcb unless it then
 * returns ERR_ABRT. */
static void
conn_reset(struct hconn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	tcp_arg(pcb, NULL);
	tcp_abort(pcb);
	conn_gone(c);
}

/* Queue @p len bytes to the client; what lwIP cannot take now waits in
 * the spill buffer, sized for a head and the largest body piece. */
static void
conn_write(struct hconn *c, const void *buf, uint32_t len)
{
	const uint8_t *p = buf;
	uint32_t n = 0;

	if (c->spill_len == 0 && !c->corked) {
		n = tcp_sndbuf(c->pcb);
		n = write_some(c->pcb, p, n < len ? n : len);
	}
	if (len > n) {
		/* cannot happen (READs and heads are bounded); if it did,
		 * the client would see a response shorter than announced
		 * and the connection close */
		if (c->spill_len + len - n > c->h->spill_cap) {
			c->keep_alive = false;
			len = c->h->spill_cap - c->spill_len + n;
		}
		memcpy(c->spill + c->spill_len, p + n, len - n);
		c->spill_len += len - n;
	}
}

static void
conn_flush(struct hconn *c)
{
	c->corked = false;
	while (c->spill_off < c->spill_len) {
		uint32_t n = c->spill_len - c->spill_off;
		uint32_t room = tcp_sndbuf(c->pcb);

		n = write_some(c->pcb, c->spill + c->spill_off,
			       n < room ? n : room);
		if (n == 0)
			break;
		c->spill_off += n;
	}
	if (c->spill_off == c->spill_len)
		c->spill_off = c->spill_len = 0;
	tcp_output(c->pcb);
}

/* The last response is queued: FIN after it, then linger (see the top). */
static void
conn_shut(struct hconn *c)
{
	c->state = HC_CLOSING;
	conn_flush(c);
	if (c->spill_len != 0)
		return;	    /* on_sent comes back */
	if (c->peer_done) { /* nothing more will come: no linger */
		conn_close(c);
		return;
	}
	MB_ADD(c->h->m, http_closes, 1);
	drop_input(c);
	if (tcp_shutdown(c->pcb, 0, 1) != ERR_OK) {
		conn_close(c);
		return;
	}
	c->state = HC_LINGER;
	c->last_ms = c->since_ms = sys_now();
}

/* ------------------------------------------------------------------ */
/* Responses                                                           */
/* ------------------------------------------------------------------ */

static void
hput(struct hbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	/* too long: sizing makes it impossible; cut rather than overrun */
	b->len = n < 0 || (size_t)n >= b->cap - b->len ? b->cap - 1
						       : b->len + (size_t)n;
}

static void
count_status(struct membrane *m, int status)
{
	if (status < 300)
		MB_ADD(m, http_2xx, 1);
	else if (status < 400)
		MB_ADD(m, http_3xx, 1);
	else if (status < 500)
		MB_ADD(m, http_4xx, 1);
	else
		MB_ADD(m, http_5xx, 1);
	switch (status) {
	case 206:
		MB_ADD(m, http_206, 1);
		break;
	case 301:
		MB_ADD(m, http_301, 1);
		break;
	case 304:
		MB_ADD(m, http_304, 1);
		break;
	case 408:
		MB_ADD(m, http_408, 1);
		break;
	case 412:
		MB_ADD(m, http_412, 1);
		break;
	case 414:
		MB_ADD(m, http_414, 1);
		break;
	case 416:
		MB_ADD(m, http_416, 1);
		break;
	case 431:
		MB_ADD(m, http_431, 1);
		break;
	case 501:
		MB_ADD(m, http_501, 1);
		break;
	}
}

static struct hbuf
head_begin(struct hconn *c, int status)
{
	struct httpd *h = c->h;
	struct hbuf b = {h->head, 0, h->head_cap};

	wall_now(h);
	hput(&b, "HTTP/1.1 %d %s\r\nServer: ionswitchd\r\nDate: %s\r\n", status,
	     membrane_http_reason(status), h->date);
	return b;
}

static void
head_end(struct hconn *c, struct hbuf *b, int status)
{
	hput(b, "Connection: %s\r\n\r\n",
	     c->keep_alive ? "keep-alive" : "close");
	conn_write(c, b->p, (uint32_t)b->len);
	count_status(c->h->m, status);
}

/* The request's head is answered: it goes, and the next one may start
 * (its body, if any, is skipped behind it). */
static void
request_done(struct hconn *c)
{
	if (c->head_len != 0) {
		memmove(c->in, c->in + c->head_len, c->in_len - c->head_len);
		c->in_len -= c->head_len;
		c->head_len = 0;
	}
	c->state = HC_IDLE;
	c->last_ms = sys_now();
	if (!c->keep_alive) {
		conn_shut(c);
		return;
	}
	conn_flush(c);
	c->answered = true;
	conn_input(c);
}

/* A complete small response: status line, fields, body. */
static void
respond(struct hconn *c, int status, const char *type, const char *body,
	uint32_t len, const char *extra)
{
	struct hbuf b = head_begin(c, status);

	hput(&b, "Content-Type: %s\r\nContent-Length: %" PRIu32 "\r\n%s", type,
	     len, extra);
	head_end(c, &b, status);
	if (!c->head_only)
		conn_write(c, body, len);
	MB_ADD(c->h->m, http_bytes, c->head_only ? 0 : len);
	request_done(c);
}

static void
respond_error_with(struct hconn *c, int status, const char *extra)
{
	char body[96];
	int n = snprintf(body, sizeof(body), "%d %s\n", status,
			 membrane_http_reason(status));

	respond(c, status, "text/plain", body, (uint32_t)n, extra);
}

static void
respond_error(struct hconn *c, int status)
{
	respond_error_with(c, status,
			   status == 405 ? "Allow: GET, HEAD\r\n" : "");
}

/* "Location: " the path, percent-encoded where a URI needs it, then "/"
 * and the query as sent (already checked to be visible ASCII). */
static void
put_location(struct hbuf *b, const char *buf, const struct membrane_http_req *r)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)r->path;

	hput(b, "Location: ");
	for (; *p != '\0' && b->len + 4 < b->cap; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') ||
		    strchr("-._~/!$&'()*+,;=:@", *p) != NULL) {
			b->p[b->len++] = (char)*p;
		} else {
			b->p[b->len++] = '%';
			b->p[b->len++] = hex[*p >> 4];
			b->p[b->len++] = hex[*p & 15];
		}
	}
	b->p[b->len] = '\0';
	hput(b, "/%.*s\r\n", (int)r->query.len, buf + r->query.off);
}

/* Ask the VFS to close the file (no answer comes back). */
static void
file_done(struct hconn *c)
{
	set_want(c, WANT_CLOSE);
	conn_send(c);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

/*
 * GET /stats (JSON) and GET /metrics (Prometheus text format 0.0.4): the
 * daemon's counters, rendered by the host into the server's one buffer and
 * written whole.  A document that neither the TCP send buffer nor the
 * spill can take now is refused with 503, never cut.
 */
static void
serve_doc(struct hconn *c, membrane_stats_fn render, const char *type)
{
	struct membrane *m = c->h->m;
	size_t n;

	if (render == NULL) {
		respond_error(c, 404);
		return;
	}
	n = render(c->h->stats, sizeof(c->h->stats), m->conf.stats_arg);
	if (n >= sizeof(c->h->stats)) {
		respond_error(c, 500);
		return;
	}
	if (!c->head_only && c->spill_len == 0 &&
	    n > (size_t)tcp_sndbuf(c->pcb) + c->h->spill_cap -
			    HTTPD_HEAD_ROOM) {
		respond_error_with(c, 503, "Retry-After: 1\r\n");
		return;
	}
	respond(c, 200, type, c->h->stats, (uint32_t)n,
		"Cache-Control: no-store\r\n");
}

/* Parse the request at the start of in[] and start answering it.
 * @return true if it was answered at once (look at the next). */
static bool
conn_request(struct hconn *c)
{
	struct membrane *m = c->h->m;
	struct membrane_http_req *r = &c->req;
	bool pipelined = c->answered;
	int rc;

	c->answered = false;
	rc = membrane_http_parse(c->in, c->in_len, &c->h->lim, r);
	if (rc == 0) {
		if (c->peer_done) /* a head that will never end */
			conn_shut(c);
		return false;
	}
	MB_ADD(m, http_requests, 1);
	if (pipelined)
		MB_ADD(m, http_pipelined, 1);
	c->last_ms = sys_now();
	if (rc < 0) {
		/* 400 414 431 501 505: where this request ends is unknown,
		 * so nothing after it can be read as a request */
		if (rc == -EXDEV)
			MB_ADD(m, http_escapes, 1);
		c->keep_alive = false;
		/* a HEAD whose request line was read gets no body, even
		 * with its error */
		c->head_only = r->method == MEMBRANE_HTTP_HEAD;
		c->no_more = true;
		respond_error(c, membrane_http_status(rc));
		return false;
	}
	c->head_len = (uint32_t)rc;
	c->skip = r->content_length;
	c->chunked = r->chunked;
	memset(&c->chunk, 0, sizeof(c->chunk));
	c->keep_alive = r->keep_alive;
	c->head_only = r->method == MEMBRANE_HTTP_HEAD;
	/* a final answer before a body the client waits to send leaves it
	 * free not to send it (RFC 9110 10.1.1): where the next request
	 * starts is then unknown */
	if (r->expect_continue && (r->content_length != 0 || r->chunked))
		c->keep_alive = false;
	if (r->method == MEMBRANE_HTTP_OTHER ||
	    r->method == MEMBRANE_HTTP_UNKNOWN) {
		respond_error(c, r->method == MEMBRANE_HTTP_OTHER ? 405 : 501);
		return true;
	}
	if (strcmp(r->path, "/stats") == 0) {
		serve_doc(c, m->conf.stats_json, "application/json");
		return true;
	}
	if (strcmp(r->path, "/metrics") == 0) {
		serve_doc(c, m->conf.stats_prom,
			  "text/plain; version=0.0.4; charset=utf-8");
		return true;
	}
	c->state = HC_OPENING;
	set_want(c, WANT_OPEN);
	conn_send(c);
	return false;
}

/* Move received bytes into in[] as room allows; the TCP window opens by
 * as much.  @return bytes moved. */
static uint32_t
conn_fill(struct hconn *c)
{
	uint32_t room = c->h->lim.max_head - c->in_len;
	uint32_t n = room < c->rxq_len ? room : c->rxq_len;

	if (n == 0)
		return 0;
	pbuf_copy_partial(c->rxq, c->in + c->in_len, (u16_t)n, 0);
	c->in_len += n;
	c->rxq = pbuf_free_header(c->rxq, (u16_t)n);
	c->rxq_len -= n;
	tcp_recved(c->pcb, (u16_t)n);
	return n;
}

/* Drop @p n bytes of in[] at @p at. */
static void
cut(struct hconn *c, uint32_t at, uint32_t n)
{
	memmove(c->in + at, c->in + at + n, c->in_len - at - n);
	c->in_len -= n;
}

/* Drop the body behind the current head as it arrives.  @return bytes
 * dropped. */
static uint32_t
conn_skip_body(struct hconn *c)
{
	uint32_t avail = c->in_len - c->head_len, n = 0;
	size_t used;
	int rc;

	if (c->skip != 0) {
		n = c->skip < avail ? (uint32_t)c->skip : avail;
		cut(c, c->head_len, n);
		c->skip -= n;
	} else if (c->chunked) {
		rc = membrane_http_chunked_skip(&c->chunk, c->in + c->head_len,
						avail, &used);
		n = (uint32_t)used;
		cut(c, c->head_len, n);
		if (rc != 0)
			c->chunked = false;
		if (rc < 0) { /* framing lost: answer this one, then close */
			c->keep_alive = false;
			c->no_more = true;
		}
	}
	if (n != 0)
		MB_ADD(c->h->m, http_body_bytes, n);
	return n;
}

/* One round of input.  @return true to go round again. */
static bool
conn_step(struct hconn *c)
{
	while (conn_fill(c) + conn_skip_body(c) != 0)
		;
	if (c->state != HC_IDLE || c->spill_len != 0 || c->want != WANT_NONE)
		return false; /* one response at a time */
	if (c->no_more) {
		conn_shut(c);
		return false;
	}
	if (c->skip != 0 || c->chunked || c->in_len == 0) {
		/* a body still coming, or nothing yet: what comes next was
		 * not waiting behind the last response */
		c->answered = false;
		if (c->peer_done)
			conn_shut(c);
		return false;
	}
	return conn_request(c);
}

static void
conn_input(struct hconn *c)
{
	if (c->in_input)
		return; /* the loop below, further up the stack, goes on */
	c->in_input = true;
	while (c->pcb != NULL && c->state != HC_FREE && conn_step(c))
		;
	c->in_input = false;
}

/* ------------------------------------------------------------------ */
/* Files                                                               */
/* ------------------------------------------------------------------ */

/* Ask for the next piece of the file once the send buffer has room. */
static void
conn_pump(struct hconn *c)
{
	uint64_t left = c->end - c->off;

	/* a corked head in spill waits for the body: not a spill to drain */
	if (c->state != HC_BODY || c->outstanding || c->want != WANT_NONE ||
	    (c->spill_len != 0 && !c->corked) || c->pcb == NULL)
		return;
	if (left == 0) {
		file_done(c);
		request_done(c);
		return;
	}
	if (tcp_sndbuf(c->pcb) <
	    (left < HTTPD_MIN_READ ? left : HTTPD_MIN_READ))
		return; /* the next ACK calls back */
	set_want(c, WANT_READ);
	conn_send(c);
}

/* A file answer without a body of the file: 301, 304, 412, 416. */
static void
respond_no_file(struct hconn *c, const struct membrane_http_reply *rep,
		uint64_t size)
{
	struct hbuf b;
	char field[64];

	file_done(c);
	switch (rep->status) {
	case 301:
		b = head_begin(c, 301);
		put_location(&b, c->in, &c->req);
		hput(&b, "Content-Type: text/plain\r\nContent-Length: 0\r\n");
		head_end(c, &b, 301);
		request_done(c);
		break;
	case 304: /* RFC 9110 15.4.5: the validators, no content fields */
		b = head_begin(c, 304);
		if (rep->last_modified >= 0) {
			char lm[MEMBRANE_HTTP_DATE_LEN];

			membrane_http_date(rep->last_modified, lm);
			hput(&b, "Last-Modified: %s\r\n", lm);
		}
		if (rep->etag[0] != '\0')
			hput(&b, "ETag: %s\r\n", rep->etag);
		head_end(c, &b, 304);
		request_done(c);
		break;
	case 416:
		snprintf(field, sizeof(field),
			 "Content-Range: bytes */%" PRIu64 "\r\n", size);
		respond_error_with(c, 416, field);
		break;
	default:
		respond_error(c, rep->status);
	}
}

static void
on_open(struct hconn *c, const struct membrane_vfs_rsp *r)
{
	struct membrane_http_file f = {.size = r->size, .mtime = -1};
	struct membrane_http_reply rep;
	struct membrane_vfs_stat st;
	char lm[MEMBRANE_HTTP_DATE_LEN];
	struct hbuf b;

	if (r->status < 0) {
		respond_error(c, membrane_http_status(r->status));
		return;
	}
	c->handle_open = true;
	c->handle = r->handle;
	if (r->len >= sizeof(st)) {
		memcpy(&st, r->data, sizeof(st));
		f.mtime = st.mtime;
		f.dir_index = (st.flags & MEMBRANE_VFS_DIR_INDEX) != 0;
	}
	membrane_http_decide(c->in, &c->req, &f, wall_now(c->h), &rep);
	if (rep.status != 200 && rep.status != 206) {
		respond_no_file(c, &rep, f.size);
		return;
	}
	b = head_begin(c, rep.status);
	/* a directory's file is its index.html, whatever the path says */
	hput(&b, "Content-Type: %s\r\nContent-Length: %" PRIu64 "\r\n",
	     membrane_http_content_type(f.dir_index ? "index.html"
						    : c->req.path),
	     rep.len);
	if (rep.last_modified >= 0) {
		membrane_http_date(rep.last_modified, lm);
		hput(&b, "Last-Modified: %s\r\n", lm);
	}
	if (rep.etag[0] != '\0')
		hput(&b, "ETag: %s\r\n", rep.etag);
	if (rep.status == 206)
		hput(&b,
		     "Content-Range: bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64
		     "\r\n",
		     rep.first, rep.first + rep.len - 1, f.size);
	else
		hput(&b, "Accept-Ranges: bytes\r\n");
	/* The head waits for the body's first piece, to leave in one
	 * segment with it: queued in lwIP, its delayed-ACK timer could send
	 * it alone while the file is read, and Nagle would then hold the
	 * body until the client acknowledged the head, which clients delay
	 * by up to 40 ms (wrk -c100: a p99 of 27 ms). */
	c->corked = !c->head_only && rep.len > 0;
	head_end(c, &b, rep.status);
	c->off = rep.first;
	c->end = c->head_only ? rep.first : rep.first + rep.len;
	c->state = HC_BODY;
	conn_pump(c); /* nothing to read: closes the file and ends */
}

static void
on_read(struct hconn *c, const struct membrane_vfs_rsp *r)
{
	if (r->status < 0 || (r->last && r->size + r->len != c->off)) {
		/* the head is out with a length we cannot keep: reset */
		c->outstanding = false;
		conn_reset(c);
		return;
	}
	conn_write(c, r->data, r->len);
	MB_ADD(c->h->m, http_bytes, r->len);
	if (r->last) {
		c->outstanding = false;
		conn_flush(c);
		conn_pump(c);
	}
}

void
mb_httpd_vfs_input(struct membrane *m, const struct membrane_vfs_rsp *r,
		   uint32_t len)
{
	struct httpd *h = m->httpd;
	struct hconn *c;
	uint32_t idx;

	if (h == NULL || len < sizeof(*r) || r->len > len - sizeof(*r))
		return;
	idx = r->id & 0xffffu;
	c = idx < h->n_conns ? &h->c[idx] : NULL;
	if (c == NULL || c->state == HC_FREE || c->gen != r->id >> 16 ||
	    !c->outstanding) {
		MB_ADD(m, vfs_orphans, 1);
		return;
	}
	if (c->pcb == NULL) { /* the client went while we waited */
		if (r->op == MEMBRANE_VFS_OPEN && r->status == 0) {
			c->handle_open = true;
			c->handle = r->handle;
		}
		if (r->op == MEMBRANE_VFS_OPEN || r->last) {
			c->outstanding = false;
			MB_ADD(m, vfs_orphans, 1);
			conn_gone(c);
		}
		return;
	}
	if (r->op == MEMBRANE_VFS_OPEN) {
		c->outstanding = false;
		on_open(c, r);
	} else {
		on_read(c, r);
	}
}

static void unpark(struct httpd *h);

bool
mb_httpd_wants_kick(const struct membrane *m)
{
	const struct httpd *h = m->httpd;

	return h != NULL &&
	       (h->n_want != 0 || (h->n_parked != 0 && h->n_free != 0));
}

void
mb_httpd_kick(struct membrane *m)
{
	struct httpd *h = m->httpd;

	if (h == NULL)
		return;
	/* in the order they came to want ring room */
	while (h->n_want != 0 && h->wantq_len != 0) {
		uint32_t idx = h->wantq[h->wantq_head];
		struct hconn *c = &h->c[idx];

		h->wantq_head = (h->wantq_head + 1) % h->n_conns;
		h->wantq_len--;
		c->in_wantq = false;
		if (c->want == WANT_NONE)
			continue; /* served meanwhile */
		if (!conn_send(c)) {
			/* still full: first in line next time */
			if (!c->in_wantq) {
				h->wantq_head =
					(h->wantq_head + h->n_conns - 1) %
					h->n_conns;
				h->wantq[h->wantq_head] = idx;
				h->wantq_len++;
				c->in_wantq = true;
			}
			break;
		}
		if (c->pcb != NULL && c->state == HC_IDLE)
			conn_input(c); /* it waited for that CLOSE */
	}
	/* a connection freed: the longest-waiting in the backlog takes it */
	while (h->n_parked != 0 && h->n_free != 0)
		unpark(h);
}

/* ------------------------------------------------------------------ */
/* lwIP callbacks                                                      */
/* ------------------------------------------------------------------ */

static err_t
on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct hconn *c = arg;

	(void)err;
	if (c == NULL) {
		if (p != NULL) {
			tcp_recved(pcb, p->tot_len);
			pbuf_free(p);
		}
		return ERR_OK;
	}
	if (p == NULL) {
		c->peer_done = true;
		if (c->state == HC_LINGER)
			conn_close(c);
		else
			conn_input(c);
		return ERR_OK;
	}
	c->last_ms = sys_now();
	if (c->state == HC_CLOSING || c->state == HC_LINGER) {
		MB_ADD(c->h->m, http_drained_bytes, p->tot_len);
		tcp_recved(pcb, p->tot_len);
		pbuf_free(p);
		return ERR_OK;
	}
	if (c->rxq != NULL)
		pbuf_cat(c->rxq, p);
	else
		c->rxq = p;
	c->rxq_len += p->tot_len;
	conn_input(c);
	return ERR_OK;
}

static err_t
on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct hconn *c = arg;

	(void)pcb;
	(void)len;
	if (c == NULL || c->pcb == NULL)
		return ERR_OK;
	c->last_ms = sys_now();
	if (c->state == HC_CLOSING) {
		conn_shut(c);
		return ERR_OK;
	}
	if (c->state == HC_LINGER)
		return ERR_OK;
	conn_flush(c);
	conn_pump(c);
	if (c->pcb != NULL && c->state == HC_IDLE)
		conn_input(c);
	return ERR_OK;
}

/* Every second: the keep-alive idle timeout, a client that stopped
 * reading, the end of a linger. */
static err_t
on_poll(void *arg, struct tcp_pcb *pcb)
{
	struct hconn *c = arg;
	struct httpd *h;
	uint32_t now, quiet;

	if (c == NULL || c->pcb != pcb)
		return ERR_OK;
	h = c->h;
	now = sys_now();
	quiet = now - c->last_ms;
	switch (c->state) {
	case HC_IDLE:
		if (quiet < h->idle_ms || c->want != WANT_NONE)
			break;
		if (c->in_len == 0 && c->rxq_len == 0) {
			/* nothing begun (or only a body still owed) */
			MB_ADD(h->m, http_idle_timeouts, 1);
			c->keep_alive = false;
			conn_shut(c);
		} else { /* a head begun and never finished */
			MB_ADD(h->m, http_requests, 1);
			c->keep_alive = false;
			c->head_only = false;
			c->no_more = true;
			c->head_len = 0;
			respond_error(c, 408);
		}
		break;
	case HC_BODY:
	case HC_CLOSING:
		/* waiting on the client's window, not on the VFS */
		if (quiet >= h->send_ms &&
		    (c->spill_len != 0 || tcp_sndbuf(pcb) < TCP_SND_BUF)) {
			MB_ADD(h->m, http_send_timeouts, 1);
			conn_reset(c);
			return ERR_ABRT;
		}
		break;
	case HC_LINGER:
		if (quiet >= HTTPD_LINGER_MS ||
		    now - c->since_ms >= HTTPD_LINGER_MAX)
			conn_close(c);
		break;
	default:
		break;
	}
	return ERR_OK;
}

static void
on_err(void *arg, err_t err)
{
	(void)err;
	if (arg != NULL)
		conn_gone(arg); /* lwIP has freed the pcb */
}

/* Slot @c takes the connection @p pcb. */
static void
conn_attach(struct httpd *h, struct hconn *c, struct tcp_pcb *pcb)
{
	c->pcb = pcb;
	c->gen++;
	c->state = HC_IDLE;
	c->peer_done = c->no_more = c->answered = c->chunked = false;
	c->corked = false;
	c->keep_alive = true;
	c->skip = 0;
	c->in_len = c->head_len = c->rxq_len = 0;
	c->rxq = NULL;
	c->last_ms = sys_now();
	tcp_arg(pcb, c);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_err);
	tcp_poll(pcb, on_poll, HTTPD_POLL);
	MB_ADD(h->m, http_conns, 1);
}

static void
park_drop(struct parked *w)
{
	w->pcb = NULL;
	w->h->n_parked--;
	__atomic_store_n(&w->h->m->st.http_parked, w->h->n_parked,
			 __ATOMIC_RELAXED);
}

/* A waiting connection's data stays with lwIP (ERR_MEM: refused, and
 * offered again once it has a slot); its FIN ends its wait. */
static err_t
on_parked_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct parked *w = arg;

	(void)err;
	if (p != NULL)
		return ERR_MEM;
	park_drop(w);
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_err(pcb, NULL);
	if (tcp_close(pcb) != ERR_OK) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	return ERR_OK;
}

static void
on_parked_err(void *arg, err_t err)
{
	(void)err;
	park_drop(arg); /* lwIP has freed the pcb */
}

/* Into the backlog; false when it is full too. */
static bool
park(struct httpd *h, struct tcp_pcb *pcb)
{
	uint32_t i;

	if (h->n_parked == h->backlog)
		return false;
	for (i = 0; h->parked[i].pcb != NULL; i++)
		;
	h->parked[i] = (struct parked){pcb, h, h->park_seq++};
	h->n_parked++;
	__atomic_store_n(&h->m->st.http_parked, h->n_parked, __ATOMIC_RELAXED);
	tcp_arg(pcb, &h->parked[i]);
	tcp_recv(pcb, on_parked_recv);
	tcp_err(pcb, on_parked_err);
	MB_ADD(h->m, http_backlog_waits, 1);
	return true;
}

/* The longest-waiting connection of the backlog takes a free slot, and
 * what it sent meanwhile is offered to it. */
static void
unpark(struct httpd *h)
{
	struct parked *w = NULL;
	struct tcp_pcb *pcb;
	uint32_t i;

	for (i = 0; i < h->backlog; i++)
		if (h->parked[i].pcb != NULL &&
		    (w == NULL || h->parked[i].seq < w->seq))
			w = &h->parked[i];
	pcb = w->pcb;
	park_drop(w);
	conn_attach(h, &h->c[h->free_idx[--h->n_free]], pcb);
	tcp_process_refused_data(pcb); /* may close it: nothing after */
}

static err_t
on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct httpd *h = arg;

	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	/* the longest-waiting first: a new one waits if any does */
	if (h->n_free == 0 || h->n_parked != 0) {
		if (park(h, pcb))
			return ERR_OK;
		/* both full: reset, as the kernel does beyond its backlog */
		MB_ADD(h->m, http_conns_refused, 1);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	conn_attach(h, &h->c[h->free_idx[--h->n_free]], pcb);
	return ERR_OK;
}

/* ------------------------------------------------------------------ */
/* Start and stop                                                      */
/* ------------------------------------------------------------------ */

static uint32_t
clamp(uint32_t v, uint32_t def, uint32_t lo, uint32_t hi)
{
	v = v != 0 ? v : def;
	return v < lo ? lo : v > hi ? hi : v;
}

/* The limits of struct membrane_conf, defaults applied (0 = default). */
static void
limits(struct httpd *h, const struct membrane_conf *conf)
{
	h->n_conns = clamp(conf->http_max_conns, HTTPD_DEF_CONNS, 1,
			   HTTPD_MAX_CONNS);
	h->backlog = clamp(conf->http_backlog, HTTPD_DEF_BACKLOG, 1,
			   HTTPD_MAX_BACKLOG);
	h->lim.max_head =
		clamp(conf->http_max_head, MEMBRANE_HTTP_MAX_HEAD,
		      MEMBRANE_HTTP_MIN_HEAD, MEMBRANE_HTTP_MAX_HEAD_LIMIT);
	h->lim.max_target =
		clamp(conf->http_max_target, MEMBRANE_HTTP_MAX_TARGET,
		      MEMBRANE_HTTP_MIN_TARGET, h->lim.max_head - 32);
	h->idle_ms = clamp(conf->http_idle_timeout_ms, HTTPD_DEF_IDLE_MS,
			   HTTPD_MIN_IDLE_MS, HTTPD_MAX_IDLE_MS);
	h->send_ms = clamp(conf->http_send_timeout_ms, HTTPD_DEF_IDLE_MS,
			   HTTPD_MIN_IDLE_MS, HTTPD_MAX_IDLE_MS);
	/* a Location is the path, each byte maybe %XX, and the query */
	h->head_cap = HTTPD_HEAD_ROOM + 3 * MEMBRANE_HTTP_PATH_MAX +
		      h->lim.max_target;
	h->spill_cap = HTTPD_CHUNK + h->head_cap;
}

/* Everything a connection will need, allocated once: no allocation per
 * request. */
static int
alloc_conns(struct httpd *h)
{
	uint32_t i;

	/* calloc() of this much maps pages the kernel backs only once they
	 * are written: a connection costs its buffers' memory only once it
	 * has used them (docs/membrane.md, "Connections and memory") */
	h->c = calloc(h->n_conns, sizeof(*h->c));
	h->in_mem = calloc(h->n_conns, h->lim.max_head);
	h->spill_mem = calloc(h->n_conns, h->spill_cap);
	h->head = calloc(1, h->head_cap);
	h->free_idx = calloc(h->n_conns, sizeof(*h->free_idx));
	h->wantq = calloc(h->n_conns, sizeof(*h->wantq));
	h->parked = calloc(h->backlog + 1, sizeof(*h->parked));
	if (h->c == NULL || h->in_mem == NULL || h->spill_mem == NULL ||
	    h->head == NULL || h->free_idx == NULL || h->wantq == NULL ||
	    h->parked == NULL)
		return -ENOMEM;
	for (i = 0; i < h->n_conns; i++) {
		h->c[i].h = h;
		h->c[i].in = h->in_mem + (size_t)i * h->lim.max_head;
		h->c[i].spill = h->spill_mem + (size_t)i * h->spill_cap;
		/* the lowest index on top: slot 0 first */
		h->free_idx[i] = h->n_conns - 1 - i;
	}
	h->n_free = h->n_conns;
	return 0;
}

int
mb_httpd_start(struct membrane *m)
{
	struct httpd *h = calloc(1, sizeof(*h));
	struct tcp_pcb *pcb;

	if (h == NULL)
		return -ENOMEM;
	h->m = m;
	m->httpd = h;
	h->date_sec = -1;
	limits(h, &m->conf);
	if (alloc_conns(h) < 0)
		return -ENOMEM;
	pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);
	if (pcb == NULL)
		return -ENOMEM;
	if (tcp_bind(pcb, IP_ANY_TYPE, m->conf.http_port) != ERR_OK) {
		tcp_close(pcb);
		return -EADDRINUSE;
	}
	h->listen = tcp_listen(pcb);
	if (h->listen == NULL) {
		tcp_close(pcb);
		return -ENOMEM;
	}
	tcp_arg(h->listen, h);
	tcp_accept(h->listen, on_accept);
	return 0;
}

void
mb_httpd_stop(struct membrane *m)
{
	struct httpd *h = m->httpd;
	unsigned int i;

	if (h == NULL)
		return;
	if (h->listen != NULL)
		tcp_close(h->listen);
	for (i = 0; h->c != NULL && i < h->n_conns; i++) {
		struct hconn *c = &h->c[i];

		if (c->rxq != NULL)
			pbuf_free(c->rxq);
		if (c->state != HC_FREE && c->pcb != NULL) {
			tcp_arg(c->pcb, NULL);
			tcp_err(c->pcb, NULL);
			tcp_abort(c->pcb);
		}
	}
	for (i = 0; h->parked != NULL && i < h->backlog; i++)
		if (h->parked[i].pcb != NULL) {
			tcp_arg(h->parked[i].pcb, NULL);
			tcp_err(h->parked[i].pcb, NULL);
			tcp_abort(h->parked[i].pcb);
		}
	/* files still open close with the VFS fiber */
	m->httpd = NULL;
	free(h->free_idx);
	free(h->wantq);
	free(h->parked);
	free(h->c);
	free(h->in_mem);
	free(h->spill_mem);
	free(h->head);
	free(h);
}
