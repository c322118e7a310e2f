/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.1 on lwIP's raw API, files through the VFS rings
 * (docs/vfs-protocol.md).  Every callback runs with the core lock held.
 *
 * A connection asks the VFS fiber for at most what its TCP send buffer can
 * take (one READ outstanding at a time), so every answer can be queued to
 * lwIP the moment it arrives: the response ring never waits on a slow
 * client, and a huge file never blocks the membrane.  What lwIP refuses
 * for lack of segments waits in the connection's spill buffer.
 *
 * Connections live in a fixed table; a slot whose client has gone stays
 * taken ("orphan") until the VFS has answered its last request and its
 * file is closed, so no answer ever lands on a newer connection (the id
 * also carries a generation).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lwip/tcp.h>

#include "membrane_http.h"
#include "membrane_impl.h"

#define HTTPD_CONNS	128
#define HTTPD_CHUNK	16384u /* largest READ: bounds the spill buffer */
#define HTTPD_MIN_READ	2048u
#define HTTPD_SPILL	(HTTPD_CHUNK + 1024u)
#define HTTPD_STATS_MAX 16384u
#define HTTPD_PATH_MAX	1024u

enum hc_state {
	HC_FREE,
	HC_IDLE,    /**< waiting for (the rest of) a request head */
	HC_OPENING, /**< OPEN sent or waiting to be sent */
	HC_BODY,    /**< sending a file */
};

enum hc_want { WANT_NONE, WANT_OPEN, WANT_READ, WANT_CLOSE };

struct hconn {
	struct httpd *h;
	struct tcp_pcb *pcb; /**< NULL once the client is gone */
	enum hc_state state;
	enum hc_want want; /**< a request waiting for ring room */
	bool outstanding;  /**< a VFS request awaits its answer */
	bool handle_open;  /**< the VFS holds a file for us */
	bool keep_alive, head_only, peer_done;
	uint16_t gen;
	uint32_t handle;
	uint64_t size, off; /**< file size, next offset to ask for */
	char path[HTTPD_PATH_MAX];
	uint32_t in_len, spill_len, spill_off;
	char in[MEMBRANE_HTTP_MAX_HEAD];
	uint8_t spill[HTTPD_SPILL];
};

struct httpd {
	struct membrane *m;
	struct tcp_pcb *listen;
	uint32_t n_want; /**< connections with want != WANT_NONE */
	char stats[HTTPD_STATS_MAX];
	struct hconn c[HTTPD_CONNS];
};

static void conn_process(struct hconn *c);

static uint32_t
conn_id(const struct hconn *c)
{
	return (uint32_t)c->gen << 16 | (uint32_t)(c - c->h->c);
}

static void
set_want(struct hconn *c, enum hc_want w)
{
	if ((c->want == WANT_NONE) != (w == WANT_NONE))
		c->h->n_want += w == WANT_NONE ? -1u : 1u;
	c->want = w;
}

static void
conn_free(struct hconn *c)
{
	set_want(c, WANT_NONE);
	c->state = HC_FREE;
	c->pcb = NULL;
	c->in_len = c->spill_len = c->spill_off = 0;
	c->outstanding = c->handle_open = false;
}

/* Send the waiting VFS request; @return false while the ring is full. */
static bool
conn_send(struct hconn *c)
{
	struct membrane *m = c->h->m;
	struct ion_prod *req = m->conf.vfs_req;
	uint64_t left;
	uint32_t len;
	int rc = 0;

	switch (c->want) {
	case WANT_NONE:
		return true;
	case WANT_OPEN:
		rc = membrane_vfs_send_open(req, conn_id(c), c->path);
		break;
	case WANT_READ:
		left = c->size - c->off;
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
	c->in_len = c->spill_len = c->spill_off = 0;
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

static void
conn_close(struct hconn *c)
{
	struct tcp_pcb *pcb = c->pcb;

	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	if (tcp_close(pcb) != ERR_OK)
		tcp_poll(pcb, close_retry, 2);
	conn_gone(c);
}

/* Queue @p len bytes to the client; what lwIP cannot take now waits in
 * the spill buffer (sized for one READ plus a header). */
static void
conn_write(struct hconn *c, const void *buf, uint32_t len)
{
	const uint8_t *p = buf;
	uint32_t n = 0;

	if (c->spill_len == 0) {
		n = tcp_sndbuf(c->pcb);
		n = n < len ? n : len;
		if (n > 0 && tcp_write(c->pcb, p, (u16_t)n,
				       TCP_WRITE_FLAG_COPY) != ERR_OK)
			n = 0;
	}
	if (len > n) {
		if (c->spill_len + len - n > sizeof(c->spill)) {
			tcp_abort(
				c->pcb); /* cannot happen: READs are bounded */
			return;
		}
		memcpy(c->spill + c->spill_len, p + n, len - n);
		c->spill_len += len - n;
	}
}

static void
conn_flush(struct hconn *c)
{
	while (c->spill_off < c->spill_len) {
		uint32_t n = c->spill_len - c->spill_off;
		uint32_t room = tcp_sndbuf(c->pcb);

		n = n < room ? n : room;
		if (n == 0 ||
		    tcp_write(c->pcb, c->spill + c->spill_off, (u16_t)n,
			      TCP_WRITE_FLAG_COPY) != ERR_OK)
			break;
		c->spill_off += n;
	}
	if (c->spill_off == c->spill_len)
		c->spill_off = c->spill_len = 0;
	tcp_output(c->pcb);
}

static void
count_status(struct membrane *m, int status)
{
	if (status < 300)
		MB_ADD(m, http_2xx, 1);
	else if (status < 500)
		MB_ADD(m, http_4xx, 1);
	else
		MB_ADD(m, http_5xx, 1);
}

static const char *
content_type(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{".html", "text/html"},	       {".txt", "text/plain"},
		{".json", "application/json"}, {".css", "text/css"},
		{".js", "text/javascript"},    {".png", "image/png"},
		{".jpg", "image/jpeg"},	       {".svg", "image/svg+xml"},
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static void
send_head(struct hconn *c, int status, const char *type, uint64_t len,
	  const char *extra)
{
	char h[512];
	int n;

	n = snprintf(h, sizeof(h),
		     "HTTP/1.1 %d %s\r\nServer: ionswitchd\r\n"
		     "Content-Type: %s\r\nContent-Length: %" PRIu64 "\r\n"
		     "Connection: %s\r\n%s\r\n",
		     status, membrane_http_reason(status), type, len,
		     c->keep_alive ? "keep-alive" : "close", extra);
	conn_write(c, h, (uint32_t)n);
	count_status(c->h->m, status);
}

static void
request_done(struct hconn *c)
{
	c->state = HC_IDLE;
	if (!c->keep_alive || c->peer_done) {
		conn_flush(c);
		conn_close(c);
		return;
	}
	conn_flush(c);
	if (c->in_len > 0)
		conn_process(c); /* a pipelined request */
}

/* A complete small response: status line, headers, body. */
static void
respond(struct hconn *c, int status, const char *type, const char *body,
	uint32_t len, const char *extra)
{
	send_head(c, status, type, len, extra);
	if (!c->head_only)
		conn_write(c, body, len);
	MB_ADD(c->h->m, http_bytes, c->head_only ? 0 : len);
	request_done(c);
}

static void
respond_error(struct hconn *c, int status)
{
	char body[96];
	int n = snprintf(body, sizeof(body), "%d %s\n", status,
			 membrane_http_reason(status));

	if (status == 400 || status == 431 || status == 505)
		c->keep_alive = false; /* the stream cannot be trusted */
	respond(c, status, "text/plain", body, (uint32_t)n,
		status == 405 ? "Allow: GET, HEAD\r\n" : "");
}

static int
status_of_errno(int err)
{
	switch (err) {
	case -ENOENT:
	case -ENOTDIR:
		return 404;
	case -EACCES:
	case -EISDIR:
	case -EPERM:
		return 403;
	case -EMFILE:
	case -ENFILE:
		return 503;
	case -EINVAL:
	case -ENAMETOOLONG:
		return 400;
	default:
		return 500;
	}
}

/* Parse and start the next request in c->in. */
static void
conn_process(struct hconn *c)
{
	struct membrane *m = c->h->m;
	struct membrane_http_req req;
	const char *rel;
	size_t n;
	int rc;

	if (c->spill_len != 0 || c->want != WANT_NONE)
		return; /* one response at a time: on_sent() or the kick
			 * comes back */
	rc = membrane_http_parse(c->in, c->in_len, &req);
	if (rc == 0 && c->in_len < sizeof(c->in))
		return; /* more to come */
	/* every request gets one status, or is counted gone */
	MB_ADD(m, http_requests, 1);
	if (rc == 0) {
		respond_error(c, 431);
		return;
	}
	if (rc < 0) {
		respond_error(c, rc == -E2BIG		  ? 431
				 : rc == -EPROTONOSUPPORT ? 505
							  : 400);
		return;
	}
	memmove(c->in, c->in + rc, c->in_len - (uint32_t)rc);
	c->in_len -= (uint32_t)rc;
	c->keep_alive = req.keep_alive;
	c->head_only = req.method == MEMBRANE_HTTP_HEAD;
	if (req.method == MEMBRANE_HTTP_OTHER) {
		respond_error(c, 405);
		return;
	}
	if (req.content_length > 0) { /* GET and HEAD take no body */
		respond_error(c, 400);
		return;
	}
	if (strcmp(req.path, "/stats") == 0) {
		if (m->conf.stats_json == NULL) {
			respond_error(c, 404);
			return;
		}
		n = m->conf.stats_json(c->h->stats, sizeof(c->h->stats),
				       m->conf.stats_arg);
		if (n >= sizeof(c->h->stats)) {
			respond_error(c, 500);
			return;
		}
		respond(c, 200, "application/json", c->h->stats, (uint32_t)n,
			"Cache-Control: no-store\r\n");
		return;
	}
	/* the VFS takes paths relative to its root; "/" is the index */
	rel = req.path[1] != '\0' ? req.path + 1 : "index.html";
	if (strlen(rel) >= sizeof(c->path)) {
		respond_error(c, 414);
		return;
	}
	memcpy(c->path, rel, strlen(rel) + 1);
	c->state = HC_OPENING;
	set_want(c, WANT_OPEN);
	conn_send(c);
}

/* Ask for the next piece of the file once the send buffer has room. */
static void
conn_pump(struct hconn *c)
{
	uint64_t left = c->size - c->off;

	if (c->state != HC_BODY || c->outstanding || c->want != WANT_NONE ||
	    c->spill_len != 0 || c->pcb == NULL)
		return;
	if (left == 0) {
		set_want(c, WANT_CLOSE);
		conn_send(c);
		request_done(c);
		return;
	}
	if (tcp_sndbuf(c->pcb) <
	    (left < HTTPD_MIN_READ ? left : HTTPD_MIN_READ))
		return; /* the next ACK calls back */
	set_want(c, WANT_READ);
	conn_send(c);
}

static void
on_open(struct hconn *c, const struct membrane_vfs_rsp *r)
{
	if (r->status < 0) {
		c->state = HC_IDLE;
		respond_error(c, status_of_errno(r->status));
		return;
	}
	c->handle_open = true;
	c->handle = r->handle;
	c->size = r->size;
	c->off = 0;
	send_head(c, 200, content_type(c->path), r->size, "");
	if (c->head_only)
		c->size = 0; /* nothing to read: the pump closes the file */
	c->state = HC_BODY;
	conn_pump(c);
}

static void
on_read(struct hconn *c, const struct membrane_vfs_rsp *r)
{
	if (r->status < 0 || (r->last && r->size + r->len != c->off)) {
		/* the head is out with a length we cannot keep: reset */
		struct tcp_pcb *pcb = c->pcb;

		tcp_arg(pcb, NULL);
		tcp_abort(pcb);
		c->outstanding = false;
		conn_gone(c);
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
	c = idx < HTTPD_CONNS ? &h->c[idx] : NULL;
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

bool
mb_httpd_wants_kick(const struct membrane *m)
{
	return m->httpd != NULL && m->httpd->n_want != 0;
}

void
mb_httpd_kick(struct membrane *m)
{
	struct httpd *h = m->httpd;
	unsigned int i;

	for (i = 0; h != NULL && h->n_want != 0 && i < HTTPD_CONNS; i++) {
		struct hconn *c = &h->c[i];

		if (c->want == WANT_NONE)
			continue;
		if (!conn_send(c))
			break; /* still full */
		if (c->pcb != NULL && c->state == HC_IDLE && c->in_len > 0)
			conn_process(c); /* it waited for that CLOSE */
	}
}

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
		if (c->state == HC_IDLE)
			conn_close(c);
		return ERR_OK;
	}
	if (p->tot_len > sizeof(c->in) - c->in_len) {
		if (c->state == HC_IDLE) { /* a head that never ends */
			pbuf_free(p);
			c->in_len = sizeof(c->in);
			conn_process(c);
			return ERR_OK;
		}
		return ERR_MEM; /* pipelined: lwIP offers it again later */
	}
	pbuf_copy_partial(p, c->in + c->in_len, p->tot_len, 0);
	c->in_len += p->tot_len;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	if (c->state == HC_IDLE)
		conn_process(c);
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
	conn_flush(c);
	conn_pump(c);
	if (c->pcb != NULL && c->state == HC_IDLE && c->in_len > 0)
		conn_process(c);
	return ERR_OK;
}

static void
on_err(void *arg, err_t err)
{
	(void)err;
	if (arg != NULL)
		conn_gone(arg); /* lwIP has freed the pcb */
}

static err_t
on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct httpd *h = arg;
	struct hconn *c = NULL;
	unsigned int i;

	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	for (i = 0; i < HTTPD_CONNS && c == NULL; i++)
		if (h->c[i].state == HC_FREE)
			c = &h->c[i];
	if (c == NULL) {
		MB_ADD(h->m, http_conns_refused, 1);
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	c->h = h;
	c->pcb = pcb;
	c->gen++;
	c->state = HC_IDLE;
	c->peer_done = false;
	tcp_arg(pcb, c);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_err);
	MB_ADD(h->m, http_conns, 1);
	return ERR_OK;
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
	for (i = 0; i < HTTPD_CONNS; i++) {
		struct hconn *c = &h->c[i];

		if (c->state != HC_FREE && c->pcb != NULL) {
			tcp_arg(c->pcb, NULL);
			tcp_err(c->pcb, NULL);
			tcp_abort(c->pcb);
		}
	}
	/* files still open close with the VFS fiber */
	m->httpd = NULL;
	free(h);
}
