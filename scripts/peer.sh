#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The vhost-user peer of the appliance's virtio port, for machines without
# /dev/vhost-net: dpdk-testpmd serves a vhost-user socket and forwards
# (io mode) between it and a Linux TAP interface, so Linux programs reach
# the appliance through that interface.
#
#   scripts/peer.sh start SOCKET IFACE PREFIX LOG   (returns once the TAP is up)
#   scripts/peer.sh stop PREFIX
set -euo pipefail

cmd=${1:?start or stop}
case $cmd in
start)
	sock=${2:?socket} iface=${3:?iface} prefix=${4:?file prefix} log=${5:?log}
	mkdir -p "$(dirname "$sock")"
	rm -f "$sock"
	# Both lcores float over both CPUs: the forwarding lcore polls, so
	# keep it from owning a CPU of a two-CPU machine.
	setsid dpdk-testpmd --lcores '(0,1)@(0,1)' --file-prefix "$prefix" \
		--no-pci -m 256 \
		--vdev "net_vhost0,iface=$sock,queues=1" \
		--vdev "net_tap0,iface=$iface" \
		-- --forward-mode=io --auto-start --total-num-mbufs=8192 \
		--stats-period 86400 </dev/null >"$log" 2>&1 &
	echo $! > "/run/$prefix.pid"
	for _ in $(seq 100); do
		if [ -S "$sock" ] && ip link show "$iface" >/dev/null 2>&1; then
			# Linux would add its own IPv6 chatter to the test traffic.
			sysctl -qw "net.ipv6.conf.$iface.disable_ipv6=1" || true
			ip link set "$iface" up
			exit 0
		fi
		if ! kill -0 "$(cat "/run/$prefix.pid")" 2>/dev/null; then
			echo "peer: dpdk-testpmd exited; see $log" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "peer: no vhost-user socket $sock after 10 s; see $log" >&2
	exit 1
	;;
stop)
	prefix=${2:?file prefix}
	if [ -f "/run/$prefix.pid" ]; then
		pid=$(cat "/run/$prefix.pid")
		kill -INT "$pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		rm -f "/run/$prefix.pid"
	fi
	rm -rf /dev/hugepages/"$prefix"* /var/run/dpdk/"$prefix"
	;;
*)
	echo "usage: $0 start SOCKET IFACE PREFIX LOG | stop PREFIX" >&2
	exit 2
	;;
esac
