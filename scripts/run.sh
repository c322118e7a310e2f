#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The appliance's main job: ionswitchd on its virtio PMD, with a Linux
# interface (ion0) to reach it.  Sets up what it needs first (packages,
# hugepages, build); safe to run twice.  Ctrl-C stops everything cleanly.
#
#   scripts/run.sh [ionswitchd options, e.g. -c FILE -s 2]
#
# Where /dev/vhost-net exists, the virtio PMD uses it (vhost-kernel) and
# the kernel makes the TAP itself.  Elsewhere a vhost-user peer is started:
# dpdk-testpmd serving /run/ionswitchd/vhost.sock and forwarding to ion0.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$top/scripts/setup.sh" build

conf=$top/config/ionswitchd.conf
iface=ion0
peer_prefix=ionswitchd-peer
eal=()
peer=0

cleanup() {
	[ "$peer" = 1 ] && "$top/scripts/peer.sh" stop "$peer_prefix"
	rm -rf /dev/hugepages/ionswitchd* /var/run/dpdk/ionswitchd
}
trap cleanup EXIT
# The daemon gets the Ctrl-C too; the script waits for it to finish.
trap ':' INT TERM

if [ -c /dev/vhost-net ]; then
	eal=(--vdev "net_virtio_user0,path=/dev/vhost-net,queues=1,queue_size=1024,iface=$iface")
else
	"$top/scripts/peer.sh" stop "$peer_prefix"
	"$top/scripts/peer.sh" start /run/ionswitchd/vhost.sock "$iface" \
		"$peer_prefix" /run/ionswitchd-peer.log
	peer=1
fi

# The membrane's document root (config: fibers "vfs", root), with a page.
www=/var/lib/ionswitchd/www
if [ ! -d "$www" ]; then
	mkdir -p "$www"
	echo "<html><body><h1>ionswitchd</h1><p>served by lwIP over ION rings</p></body></html>" \
		>"$www/index.html"
fi

# Linux's side of the link: 192.168.77.1, the membrane is 192.168.77.2
# (config: fibers "membrane").  With vhost-net the TAP appears only once
# the daemon runs, so this waits for it in the background.
(
	for _ in $(seq 100); do
		ip link show "$iface" >/dev/null 2>&1 && break
		sleep 0.1
	done
	ip link set "$iface" up 2>/dev/null || true
	ip addr replace 192.168.77.1/24 dev "$iface" 2>/dev/null || true
) &

cat <<EOM
ionswitchd is starting on its virtio port; Linux reaches it through $iface
(192.168.77.1); the membrane (lwIP) answers as 192.168.77.2.
Try, from another shell:
  ping 192.168.77.2
  curl http://192.168.77.2/            (files from $www, over the VFS rings)
  curl http://192.168.77.2/stats       (every figure as JSON)
  nc 192.168.77.2 7                    (TCP echo; nc -u for UDP)
  python3 $top/test/ionswitchd/traffic.py sendsniff $iface utcp=100,lwf=100,ipv4=100 2
      (UTCP and LWF frames come back reflected by their fibers)
  $top/build/app/ionctl/ionctl show fibers
      (the console, docs/console.md; without a command, a prompt)
  echo /ion/routes | dpdk-telemetry.py -f ionswitchd
  dpdk-dumpcap --file-prefix ionswitchd -i 0 -w /tmp/ion.pcapng
Ctrl-C stops it and prints the totals.
EOM

set +e
"$top/build/app/ionswitchd/ionswitchd" "${eal[@]}" -- -c "$conf" "$@" &
pid=$!
wait "$pid"
rc=$?
# a signal interrupted wait; the daemon is draining: wait for it
while kill -0 "$pid" 2>/dev/null; do wait "$pid"; rc=$?; done
exit "$rc"
