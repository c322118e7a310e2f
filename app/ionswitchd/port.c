/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one ethdev port: found by the name in its devargs, one queue each
 * way, and what wakes the NetSwitch's lcore when a frame comes in: the
 * port's RX interrupt, or an AF_XDP port's socket.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "ionswitchd.h"

#define POOL_CACHE 256

#ifndef AF_XDP
#define AF_XDP 44
#endif
#ifndef AF_PACKET
#define AF_PACKET 17
#endif

/*
 * A port given on the command line (--vdev, -a) wins; otherwise the
 * config's port.devargs is probed now.  The ethdev name is the devargs up
 * to the first comma.
 */
static int
find_port(struct ionswitchd *d)
{
	char name[sizeof(d->port_name)];
	size_t n = strcspn(d->cfg.devargs, ",");
	uint16_t pid;
	int rc;

	if (rte_eth_dev_count_avail() == 0) {
		rc = rte_dev_probe(d->cfg.devargs);
		if (rc < 0) {
			DLOG(ERR,
			     "%s:%d: port.devargs \"%s\": probe failed: %s\n",
			     d->cfg.file, d->cfg.port_line, d->cfg.devargs,
			     strerror(-rc));
			return rc;
		}
		if (n > 0 && n < sizeof(name)) {
			memcpy(name, d->cfg.devargs, n);
			name[n] = '\0';
			if (rte_eth_dev_get_port_by_name(name, &pid) == 0) {
				d->port_id = pid;
				snprintf(d->port_name, sizeof(d->port_name),
					 "%s", name);
				return 0;
			}
		}
	}
	RTE_ETH_FOREACH_DEV(pid)
	{
		d->port_id = pid;
		rte_eth_dev_get_name_by_port(pid, d->port_name);
		return 0;
	}
	DLOG(ERR, "no ethdev port from \"%s\"\n", d->cfg.devargs);
	return -ENODEV;
}

/*
 * DPDK 22.11's AF_XDP and AF_PACKET PMDs have no RX interrupt, but the
 * socket each reads (an XSK, a packet socket with an mmap'ed RX ring) is
 * readable (EPOLLIN) while its RX ring holds frames, and the kernel wakes
 * the socket's waiters as it fills the ring: the NetSwitch's lcore sleeps
 * on it.  The PMD keeps the socket private; it is the one socket of its
 * @domain in this process (one port, one queue).  @return its fd, or -1.
 */
static int
port_socket(int domain)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	int fd = -1, found = 0;

	while (dir != NULL && (e = readdir(dir)) != NULL) {
		int f = atoi(e->d_name), found_domain;
		socklen_t len = sizeof(found_domain);

		if (e->d_name[0] != '.' &&
		    getsockopt(f, SOL_SOCKET, SO_DOMAIN, &found_domain, &len) ==
			    0 &&
		    found_domain == domain) {
			fd = f;
			found++;
		}
	}
	if (dir != NULL)
		closedir(dir);
	return found == 1 ? fd : -1;
}

int
port_setup(struct ionswitchd *d)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t rxd = d->cfg.rx_desc, txd = d->cfg.tx_desc;
	int socket, rc;

	rc = find_port(d);
	if (rc < 0)
		return rc;
	socket = rte_eth_dev_socket_id(d->port_id);
	if (socket < 0)
		socket = (int)rte_socket_id();
	d->pool = rte_pktmbuf_pool_create("ionswitchd_mbufs", d->cfg.mbufs,
					  POOL_CACHE, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (d->pool == NULL) {
		DLOG(ERR, "mbuf pool of %u: %s\n", d->cfg.mbufs,
		     rte_strerror(rte_errno));
		return -rte_errno;
	}
	rc = rte_eth_dev_info_get(d->port_id, &info);
	if (rc < 0)
		return rc;
	/* RX interrupts let the NetSwitch's lcore sleep on the port when it
	 * is idle; a PMD without them is polled (and the lcore backs off) */
	memset(&conf, 0, sizeof(conf));
	conf.intr_conf.rxq = 1;
	rc = rte_eth_dev_configure(d->port_id, 1, 1, &conf);
	if (rc < 0) {
		conf.intr_conf.rxq = 0;
		rc = rte_eth_dev_configure(d->port_id, 1, 1, &conf);
	}
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(d->port_id, &rxd, &txd);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(d->port_id, 0, rxd, socket, NULL,
					    d->pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(d->port_id, 0, txd, socket, NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(d->port_id);
	if (rc < 0) {
		DLOG(ERR, "port %u (%s): setup failed: %s\n", d->port_id,
		     d->port_name, rte_strerror(-rc));
		return rc;
	}
	d->rx_intr_fd =
		conf.intr_conf.rxq
			? rte_eth_dev_rx_intr_ctl_q_get_fd(d->port_id, 0)
			: -1;
	d->rx_sock = d->rx_intr_fd < 0;
	if (d->rx_sock)
		d->rx_intr_fd = strcmp(info.driver_name, "net_af_xdp") == 0
					? port_socket(AF_XDP)
				: strcmp(info.driver_name, "net_af_packet") == 0
					? port_socket(AF_PACKET)
					: -1;
	if (d->rx_intr_fd < 0)
		DLOG(NOTICE,
		     "port %u (%s, driver %s): no RX interrupt; the "
		     "NetSwitch's lcore polls it and backs off when idle\n",
		     d->port_id, d->port_name, info.driver_name);
	if (d->cfg.promiscuous && rte_eth_promiscuous_enable(d->port_id) < 0)
		DLOG(WARNING, "port %u (%s): no promiscuous mode\n", d->port_id,
		     d->port_name);
	DLOG(INFO,
	     "port %u (%s, driver %s): %u RX / %u TX descriptors, RX "
	     "wake-up: %s\n",
	     d->port_id, d->port_name, info.driver_name, rxd, txd,
	     d->rx_sock		  ? "its socket"
	     : d->rx_intr_fd >= 0 ? "interrupt"
				  : "none");
	return 0;
}

void
port_close(struct ionswitchd *d)
{
	if (d->pool == NULL)
		return;
	rte_eth_dev_stop(d->port_id);
	rte_eth_dev_close(d->port_id);
	rte_mempool_free(d->pool);
	d->pool = NULL;
}
