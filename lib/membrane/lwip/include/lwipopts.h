/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lwIP as the membrane runs it: one fiber's step drives it (NO_SYS=1), so
 * no thread, no core lock, no mailbox; timers run from that step
 * (sys_check_timeouts) and its lcore sleeps until the next one.  The
 * options differ from Debian's liblwip (port/include/lwipopts.h of the
 * source package) where the membrane needs it; each says why.
 */
#ifndef ION_LWIPOPTS_H
#define ION_LWIPOPTS_H

/* one thread touches lwIP: the membrane fiber's lcore */
#define NO_SYS		     1
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_NETCONN	     0
#define LWIP_SOCKET	     0
#define LWIP_TIMERS	     1

/* glibc's allocator, as Debian's build: the pools grow with the load
 * (no per-pool limit to size for 4096 connections) */
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define MEM_ALIGNMENT	8
/* a pool pbuf holds a whole frame (Debian's holds 616 bytes but is filled
 * to 1536: the reason the membrane used PBUF_RAM) */
#define PBUF_POOL_BUFSIZE 1536

/* a frame is built in one pbuf: link_output copies it to a slot at once */
#define LWIP_NETIF_TX_SINGLE_PBUF 1
#define LWIP_CHECKSUM_ON_COPY	  1

/* The ARP table: Debian's 10 entries thrash as soon as more hosts than
 * that talk to the membrane (docs/performance.md, "The soak's losses");
 * 256 covers a /24. */
#define ARP_TABLE_SIZE 256
#define ARP_QUEUEING   1
#define ARP_QUEUE_LEN  16
/* each TCP PCB remembers its ARP entry: no table scan per segment */
#define LWIP_NETIF_HWADDRHINT 1

/* TCP sized for the link: its round trip is ~100 us (ping through the
 * vhost peer) at ~300 MB/s, a 30 KiB product; 64 KiB in flight covers it
 * twice.  More only queues: 256 KiB took download from 279 to 330 MB/s
 * (noise) but the soak's ping p99 from 3 ms to 6-36 ms (frames of
 * downloads queued ahead of the echo replies in the rings and the
 * vhost peer).  Window scaling stays on for a link that wants more. */
#define TCP_MSS		 1460
#define LWIP_WND_SCALE	 1
#define TCP_RCV_SCALE	 1
#define TCP_WND		 (64 * 1024)
#define TCP_SND_BUF	 (64 * 1024)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
/* "sent" callbacks once 32 KiB are free (lwIP keeps it below 64 KiB) */
#define TCP_SNDLOWAT			   (32 * 1024)
#define TCP_OVERSIZE			   TCP_MSS
#define LWIP_TCP_KEEPALIVE		   1
#define SO_REUSE			   1
#define LWIP_RANDOMIZE_INITIAL_LOCAL_PORTS 1
/* initial sequence numbers per RFC 6528 (lwIP's own are a small counter) */
#define LWIP_HOOK_FILENAME "ion_lwip_hooks.h"
#define LWIP_HOOK_TCP_ISN  ion_lwip_tcp_isn

/* the protocols: IPv4 with ARP, ICMP, UDP, TCP; IPv6 link-local with
 * ICMPv6/ND.  No UDP-Lite (Debian's asserted on it), no IGMP or MLD
 * (their 100 ms timers would wake an idle lcore ten times a second), no
 * DHCP, AutoIP, DNS or raw PCBs: the membrane's address is configured. */
#define LWIP_ARP		      1
#define LWIP_ETHERNET		      1
#define LWIP_IPV4		      1
#define LWIP_ICMP		      1
#define LWIP_UDP		      1
#define LWIP_UDPLITE		      0
#define LWIP_TCP		      1
#define LWIP_RAW		      0
#define LWIP_IGMP		      0
#define LWIP_DHCP		      0
#define LWIP_AUTOIP		      0
#define LWIP_DNS		      0
#define LWIP_IPV6		      1
#define LWIP_ICMP6		      1
#define LWIP_IPV6_MLD		      0
#define LWIP_IPV6_AUTOCONFIG	      0
#define LWIP_IPV6_DUP_DETECT_ATTEMPTS 0
#define LWIP_IPV6_SEND_ROUTER_SOLICIT 0
#define LWIP_IPV6_NUM_ADDRESSES	      3
/* 64-bit pointers do not fit in a fragment header: copy it aside */
#define IPV6_FRAG_COPYHEADER 1
#define IP_FORWARD	     0
#define LWIP_NETIF_LOOPBACK  0
#define LWIP_HAVE_LOOPIF     0

/* lwIP's own drop counters, rendered with the membrane's (lwip_*) */
#define LWIP_STATS	   1
#define LWIP_STATS_DISPLAY 0
#define LWIP_STATS_LARGE   1 /* 32-bit counters */
#define LINK_STATS	   1
#define ETHARP_STATS	   1
#define IP_STATS	   1
#define IPFRAG_STATS	   1
#define ICMP_STATS	   1
#define UDP_STATS	   1
#define TCP_STATS	   1
#define MEM_STATS	   0
#define MEMP_STATS	   0
#define SYS_STATS	   0
#define IP6_STATS	   1
#define ICMP6_STATS	   1
#define ND6_STATS	   1
#define IP6_FRAG_STATS	   1
#define MLD6_STATS	   0
#define IGMP_STATS	   0

#endif /* ION_LWIPOPTS_H */
