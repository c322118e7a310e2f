#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The appliance's main job: ionswitchd on its virtio PMD, with a Linux
# interface (ion0) to reach it.  Sets up what it needs first (packages,
# hugepages, build); safe to run twice.  Ctrl-C stops everything cleanly.
#
#   scripts/run.sh [--root-ns] [--port virtio|af_xdp|af_packet]
#                  [ionswitchd options, e.g. -c FILE -s 2]
#
# Linux's side of the link, ion0 (192.168.77.1/24), lives in the network
# namespace "ion", which the script creates and deletes: reach the membrane
# (192.168.77.2) from there, e.g. ip netns exec ion ping 192.168.77.2.
# --root-ns leaves ion0 in the root namespace instead, for a host where
# that is wanted.
#
# Where /dev/vhost-net exists, the virtio PMD uses it (vhost-kernel) and
# the kernel makes the TAP itself.  Elsewhere a vhost-user peer is started
# (test/lib.sh): dpdk-testpmd serving /run/ionswitchd/vhost.sock and
# forwarding to ion0.
#
# --port af_xdp: no peer; a veth pair instead, ion0 in the namespace ion
# and its other end, ion0d, in a namespace of the daemon's own
# (ionswitchd-d), where the daemon runs on DPDK's AF_XDP PMD
# (net_af_xdp0,iface=ion0d,busy_budget=0); --port af_packet the same on its AF_PACKET
# PMD, where XDP is missing (docs/operating.md, "Ports").
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$top/scripts/setup.sh" build
# shellcheck source=test/lib.sh
. "$top/test/lib.sh"

conf=$top/config/ionswitchd.conf
iface=ion0
ns=ion
host_ip=192.168.77.1 # the membrane is 192.168.77.2 (config: fibers "membrane")
me=192.168.77.2
port=virtio
while [ $# -gt 0 ]; do
	case $1 in
	--root-ns) ns=; shift ;;
	--port) port=${2:?--port virtio, af_xdp or af_packet}; shift 2 ;;
	*) break ;;
	esac
done
case $port in
virtio) ;;
af_xdp | af_packet)
	[ -n "$ns" ] || { echo "run.sh: --port $port keeps ion0 in the namespace ion" >&2; exit 2; } ;;
*) echo "run.sh: --port $port: virtio, af_xdp or af_packet" >&2; exit 2 ;;
esac

# Prefix ionswitchd (the config's file prefix); no run dir of its own:
# /run/ionswitchd also holds the console sockets of other daemons.
harness_init ionswitchd "$top/build" ""
# The daemon gets the Ctrl-C too; the script waits for it to finish.
trap ':' INT TERM

# Linux's side of the link: ion0 as 192.168.77.1, in the netns or not.
ion0_up() {
	if [ -n "$ns" ]; then
		host_link "$iface" "$ns" "$host_ip/24"
	else
		# Linux would add its own IPv6 chatter (host_link does the same).
		sysctl -qw "net.ipv6.conf.$iface.disable_ipv6=1"
		ip link set "$iface" up
		ip addr replace "$host_ip/24" dev "$iface" # --root-ns: no netns, on request
	fi
}
if [ -n "$ns" ]; then netns_add "$ns"; fi

if [ "$port" != virtio ]; then
	# ion0 in the namespace ion, its peer ion0d in the daemon's own; the
	# daemon with the CPUs to itself (config/ionswitchd-af_xdp.conf: lcores
	# pinned, the port's devargs); a -c of the caller's comes later and wins
	conf=$top/config/ionswitchd-af_xdp.conf
	H_PORT=$port
	veth_port "$iface" "$ns" "$host_ip/24"
elif [ -c /dev/vhost-net ]; then
	H_DAEMON_EAL=(--vdev "net_virtio_user0,path=/dev/vhost-net,queues=1,queue_size=1024,iface=$iface")
	# The TAP appears only once the daemon runs: wait for it meanwhile.
	(
		for _ in $(seq 100); do link_exists "$iface" && break; sleep 0.1; done
		ion0_up
	) &
else
	peer_spawn /run/ionswitchd/vhost.sock "$iface"
	ion0_up
fi

# The membrane's document root (config: fibers "vfs", root), with a page.
www=/var/lib/ionswitchd/www
if [ ! -d "$www" ]; then
	mkdir -p "$www"
	echo "<html><body><h1>ionswitchd</h1><p>served by lwIP over ION rings</p></body></html>" \
		>"$www/index.html"
fi

# The commands below run on the Linux side of the link.
on=${ns:+ip netns exec $ns }
cat <<EOM
ionswitchd is starting on its $port port; Linux reaches it through $iface
($host_ip${ns:+, in the network namespace $ns}); the membrane (lwIP) answers
as $me.
Try, from another shell:
  ${on}ping $me
  ${on}curl http://$me/            (files from $www, over the VFS rings)
  ${on}curl http://$me/stats       (every figure as JSON)
  ${on}nc $me 7                    (TCP echo; nc -u for UDP)
  ${on}python3 $top/test/ionswitchd/traffic.py sendsniff $iface utcp_ok=100,lwf_ok=100,ipv4=100 2
      (UTCP and LWF frames come back reflected by their fibers)
  $top/build/app/ionctl/ionctl show fibers
      (the console, docs/console.md; without a command, a prompt)
  echo /ion/routes | dpdk-telemetry.py -f ionswitchd
  dpdk-dumpcap --file-prefix ionswitchd -i 0 -w /tmp/ion.pcapng
Ctrl-C stops it and prints the totals.
EOM

set +e
daemon_run "$conf" "$@" &
pid=$!
proc_record daemon "$pid"
wait "$pid"
rc=$?
# a signal interrupted wait; the daemon is draining: wait for it
while kill -0 "$pid" 2>/dev/null; do wait "$pid"; rc=$?; done
exit "$rc"
