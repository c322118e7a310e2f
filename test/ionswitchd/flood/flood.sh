#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# ionswitchd under a flood: a million random and mutated frames of every
# EtherType (flood_gen) through the TAP ionfl0 (10.79.0.1), dpdk-testpmd
# and the daemon's virtio port; the membrane answers as 10.79.0.2.
#
#   flood.sh BUILD_DIR [FRAMES]
#
#   FLOOD_FRAMES  frames to send (default FRAMES, or 1000000)
#   FLOOD_SEED    replay a run: the seed it printed
#   FLOOD_WINDOW  frames in flight between the sender and the daemon's port
#   FLOOD_GEN_ARGS  more flood_gen options (--only KIND,... to narrow a
#                 failure down to some kinds of frames)
#   KEEP_LOGS=1   keep the work directory (logs, counters, totals) when the
#                 test passes; a failure always keeps it, with tail.pcap
#
# Then: the daemon is alive, ping gets 20 of 20 answers, SIGTERM stops it
# with exit 0 and no hugepage file left, and check_flood.py finds every
# frame counted, hop by hop and per EtherType (see its check()).
set -euo pipefail

build=$(cd "${1:?build dir}" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../../.." && pwd)
work=$(mktemp -d /tmp/ion-fl.XXXXXX)
run=/run/ion-fl
iface=ionfl0
me=10.79.0.2
mac=02:00:00:00:0f:02 # port.devargs in flood.conf
prefix=ion-fl
peer_prefix=ion-fl-peer
frames=${FLOOD_FRAMES:-${2:-1000000}}
gen=$build/test/ionswitchd/flood/flood_gen
daemon_pid=
watch_pid=
passed=0

cleanup() {
	if [ -n "$watch_pid" ]; then kill "$watch_pid" 2>/dev/null || true; fi
	if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
		kill -KILL "$daemon_pid" 2>/dev/null || true
	fi
	"$top/scripts/peer.sh" stop "$peer_prefix" || true
	rm -rf /dev/hugepages/"$prefix"* /var/run/dpdk/"$prefix"* "$run"
	# a failure keeps its logs, counters and last frames (tail.pcap)
	if [ "${KEEP_LOGS:-0}" = 1 ] || [ $passed = 0 ]; then
		echo "logs in $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

die() {
	echo "FAIL: $*" >&2
	echo "--- daemon log" >&2
	tail -40 "$work/daemon.log" >&2 || true
	if [ -n "${seed:-}" ]; then
		echo "replay: FLOOD_SEED=$seed FLOOD_FRAMES=$frames $0 $build" >&2
		[ -s "$work/tail.pcap" ] &&
			echo "or the last frames alone: $here/replay.py $iface pcap $work/tail.pcap" >&2
	fi
	exit 1
}

# Under ASan: lwIP keeps IP fragments waiting for reassembly chained by a
# pointer it writes into each fragment's IP header, which sits 14 bytes into
# the frame, so the pointer is unaligned; LeakSanitizer ignores unaligned
# pointers unless told, and would report fragments still queued at exit as
# leaked.  (No effect on other builds.)
export LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}use_unaligned=1

rm -rf "$run"
mkdir -p "$run/www"
echo "<html><body>ION</body></html>" >"$run/www/index.html"

"$top/scripts/peer.sh" stop "$peer_prefix" || true
"$top/scripts/peer.sh" start "$run/vhost.sock" "$iface" "$peer_prefix" "$work/peer.log"
ip addr add 10.79.0.1/24 dev "$iface"

"$build/app/ionswitchd/ionswitchd" -- -c "$here/flood.conf" \
	--totals-json "$work/totals.json" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do
	grep -q "running:" "$work/daemon.log" 2>/dev/null && break
	kill -0 "$daemon_pid" 2>/dev/null || die "ionswitchd exited at start"
	sleep 0.1
done
grep -q "running:" "$work/daemon.log" || die "ionswitchd did not start in 10 s"

# Warm ARP both ways: Linux learns the membrane's MAC, lwIP learns Linux's.
for _ in $(seq 20); do ping -c 1 -W 1 "$me" >/dev/null 2>&1 && break; done
ping -c 1 -W 2 "$me" >/dev/null || die "no answer to ping before the flood"

# Counters on every hop, before and after the flood, and Linux's own frames.
python3 "$here/check_flood.py" watch "$iface" "$prefix" "$peer_prefix" \
	"$work/window.json" "$work/ready" 2>"$work/watch.log" &
watch_pid=$!
for _ in $(seq 300); do
	[ -e "$work/ready" ] && break
	kill -0 "$watch_pid" 2>/dev/null || die "check_flood.py watch: $(cat "$work/watch.log")"
	sleep 0.1
done
[ -e "$work/ready" ] || die "counters did not settle before the flood"

seed=${FLOOD_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "flood: seed $seed, $frames frames"
# shellcheck disable=SC2086 # FLOOD_GEN_ARGS is a list of options
"$gen" -i "$iface" -n "$frames" -s "$seed" --dst-mac "$mac" --dst-ip "$me" \
	--avoid-ip 10.79.0.1 --window "${FLOOD_WINDOW:-768}" \
	--telemetry "/var/run/dpdk/$prefix/dpdk_telemetry.v2" \
	--tail-pcap "$work/tail.pcap" ${FLOOD_GEN_ARGS:-} -o "$work/gen.json" ||
	die "flood_gen failed (daemon $(kill -0 "$daemon_pid" 2>/dev/null && echo alive || echo dead))"

kill -0 "$daemon_pid" 2>/dev/null || die "ionswitchd died under the flood"
kill -USR1 "$watch_pid"
wait "$watch_pid" || die "check_flood.py watch: $(cat "$work/watch.log")"
watch_pid=

# The membrane still answers, every time.
got=$(ping -c 20 -i 0.05 -W 2 "$me" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
[ "${got:-0}" -eq 20 ] || die "ping after the flood: ${got:-0} of 20 answered"
echo "flood: ping after the flood: 20 of 20 answered"

kill -0 "$daemon_pid" 2>/dev/null || die "ionswitchd died after the flood"
kill -TERM "$daemon_pid"
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=
[ $rc -eq 0 ] || die "ionswitchd exited $rc after SIGTERM"
[ -s "$work/totals.json" ] || die "no totals written"
left=$(find /dev/hugepages -maxdepth 1 -name "${prefix}map_*" -printf "%f ")
[ -z "$left" ] || die "hugepage files left behind: $left"

python3 "$here/check_flood.py" check "$work/totals.json" "$work/gen.json" \
	"$work/window.json" || die "counters do not add up"
passed=1
echo "PASS: flood of $frames frames, seed $seed"
