/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP and UDP echo on port 7 (RFC 862), on lwIP's raw API: every callback
 * runs on the membrane fiber's thread, lwIP's only caller.
 *
 * TCP flow control is end to end: received bytes are acknowledged to the
 * window (tcp_recved) only once they are queued back, so a client that
 * does not read stops being able to send instead of filling our memory.
 */
#include <errno.h>
#include <stdlib.h>

#include <lwip/tcp.h>
#include <lwip/udp.h>

#include "membrane_impl.h"

#define ECHO_PORT 7

struct echo_conn {
	struct membrane *m;
	struct pbuf *q; /**< received, not yet queued back */
	bool peer_done; /**< the client closed its side */
};

static void
echo_free(struct echo_conn *c)
{
	if (c->q != NULL)
		pbuf_free(c->q);
	free(c);
}

/* Close our side; @return ERR_ABRT when the pcb had to be aborted. */
static err_t
echo_close(struct tcp_pcb *pcb, struct echo_conn *c)
{
	tcp_arg(pcb, NULL);
	tcp_recv(pcb, NULL);
	tcp_sent(pcb, NULL);
	tcp_err(pcb, NULL);
	echo_free(c);
	if (tcp_close(pcb) != ERR_OK) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	return ERR_OK;
}

/* Queue back as much of c->q as the send buffer takes. */
static err_t
echo_pump(struct tcp_pcb *pcb, struct echo_conn *c)
{
	while (c->q != NULL) {
		uint32_t room = tcp_sndbuf(pcb); /* up to TCP_SND_BUF */
		u16_t n = c->q->len < room ? c->q->len : (u16_t)room;

		if (n == 0)
			break;
		if (tcp_write(pcb, c->q->payload, n, TCP_WRITE_FLAG_COPY) !=
		    ERR_OK)
			break; /* out of segments: retried on the next ACK */
		tcp_recved(pcb, n);
		MB_ADD(c->m, tcp_echo_bytes, n);
		c->q = pbuf_free_header(c->q, n);
	}
	tcp_output(pcb);
	if (c->q == NULL && c->peer_done)
		return echo_close(pcb, c);
	return ERR_OK;
}

static err_t
echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct echo_conn *c = arg;

	(void)err;
	if (c == NULL) { /* closing: nothing more is echoed */
		if (p != NULL) {
			tcp_recved(pcb, p->tot_len);
			pbuf_free(p);
		}
		return ERR_OK;
	}
	if (p == NULL)
		c->peer_done = true;
	else if (c->q == NULL)
		c->q = p;
	else
		pbuf_cat(c->q, p);
	return echo_pump(pcb, c);
}

static err_t
echo_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	(void)len;
	return arg != NULL ? echo_pump(pcb, arg) : ERR_OK;
}

static void
echo_err(void *arg, err_t err)
{
	(void)err;
	if (arg != NULL) /* the pcb is already gone */
		echo_free(arg);
}

static err_t
echo_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct membrane *m = arg;
	struct echo_conn *c;

	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	c->m = m;
	tcp_arg(pcb, c);
	tcp_recv(pcb, echo_recv);
	tcp_sent(pcb, echo_sent);
	tcp_err(pcb, echo_err);
	tcp_nagle_disable(pcb);
	MB_ADD(m, tcp_echo_conns, 1);
	return ERR_OK;
}

static void
echo_udp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
	 u16_t port)
{
	struct membrane *m = arg;

	/* the pbuf still has room for the headers it came with */
	if (udp_sendto(pcb, p, addr, port) == ERR_OK)
		MB_ADD(m, udp_echo_datagrams, 1);
	else
		MB_ADD(m, udp_echo_fail, 1);
	pbuf_free(p);
}

int
mb_echo_start(struct membrane *m)
{
	struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_ANY);

	if (pcb == NULL)
		return -ENOMEM;
	if (tcp_bind(pcb, IP_ANY_TYPE, ECHO_PORT) != ERR_OK) {
		tcp_close(pcb);
		return -EADDRINUSE;
	}
	m->echo_tcp = tcp_listen(pcb);
	if (m->echo_tcp == NULL) {
		tcp_close(pcb);
		return -ENOMEM;
	}
	tcp_arg(m->echo_tcp, m);
	tcp_accept(m->echo_tcp, echo_accept);

	m->echo_udp = udp_new_ip_type(IPADDR_TYPE_ANY);
	if (m->echo_udp == NULL)
		return -ENOMEM;
	if (udp_bind(m->echo_udp, IP_ANY_TYPE, ECHO_PORT) != ERR_OK)
		return -EADDRINUSE;
	udp_recv(m->echo_udp, echo_udp, m);
	return 0;
}

void
mb_echo_stop(struct membrane *m)
{
	/* open connections end with the netif; the listeners end here */
	if (m->echo_tcp != NULL)
		tcp_close(m->echo_tcp);
	if (m->echo_udp != NULL)
		udp_remove(m->echo_udp);
	m->echo_tcp = NULL;
	m->echo_udp = NULL;
}
