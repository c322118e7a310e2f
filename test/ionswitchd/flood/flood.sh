#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# ionswitchd under a flood: a million random and mutated frames of every
# EtherType (flood_gen) through the TAP ionfl0 (10.79.0.1, in the network
# namespace ion-fl where the sender and ping run: test/lib.sh),
# dpdk-testpmd and the daemon's virtio port; the membrane answers as
# 10.79.0.2.
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

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/lib.sh
. "$here/../../lib.sh"
harness_init ion-fl "${1:?build dir}"
build=$H_BUILD
work=$H_WORK
iface=ionfl0
me=10.79.0.2
mac=02:00:00:00:0f:02 # port.devargs in flood.conf
frames=${FLOOD_FRAMES:-${2:-1000000}}
gen=$build/test/ionswitchd/flood/flood_gen
seed=

# A failure says how to replay it.
replay_hint() {
	[ -n "$seed" ] || return 0
	echo "replay: FLOOD_SEED=$seed FLOOD_FRAMES=$frames $0 $build"
	[ -s "$work/tail.pcap" ] &&
		echo "or the last frames alone: ip netns exec $H_HOST $here/replay.py $iface pcap $work/tail.pcap"
	return 0
}
H_ON_DIE=replay_hint

# Under ASan: lwIP keeps IP fragments waiting for reassembly chained by a
# pointer it writes into each fragment's IP header, which sits 14 bytes into
# the frame, so the pointer is unaligned; LeakSanitizer ignores unaligned
# pointers unless told, and would report fragments still queued at exit as
# leaked.  (No effect on other builds.)
export LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}use_unaligned=1

mkdir -p "$H_RUN/www"
echo "<html><body>ION</body></html>" >"$H_RUN/www/index.html"

# The test host: the netns ion-fl, with the peer's TAP as 10.79.0.1.
peer_start "$H_RUN/vhost.sock" "$iface" 10.79.0.1/24
daemon_start "$here/flood.conf" --totals-json "$work/totals.json"

# Warm ARP both ways: Linux learns the membrane's MAC, lwIP learns Linux's.
for _ in $(seq 20); do host_exec ping -c 1 -W 1 "$me" >/dev/null 2>&1 && break; done
host_exec ping -c 1 -W 2 "$me" >/dev/null || die "no answer to ping before the flood"

# Counters on every hop, before and after the flood, and Linux's own frames
# (it sniffs the TAP: in the namespace; ip netns exec, not host_exec, so
# that $! is the watcher itself, which gets the SIGUSR1).
ip netns exec "$H_HOST" python3 "$here/check_flood.py" watch "$iface" "$H_PREFIX" \
	"$PEER_PREFIX" "$work/window.json" "$work/ready" 2>"$work/watch.log" &
watch_pid=$!
for _ in $(seq 300); do
	[ -e "$work/ready" ] && break
	proc_alive "$watch_pid" || die "check_flood.py watch: $(cat "$work/watch.log")"
	sleep 0.1
done
[ -e "$work/ready" ] || die "counters did not settle before the flood"

seed=${FLOOD_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "flood: seed $seed, $frames frames"
# shellcheck disable=SC2086 # FLOOD_GEN_ARGS is a list of options
host_exec "$gen" -i "$iface" -n "$frames" -s "$seed" --dst-mac "$mac" --dst-ip "$me" \
	--avoid-ip 10.79.0.1 --window "${FLOOD_WINDOW:-768}" \
	--telemetry "/var/run/dpdk/$H_PREFIX/dpdk_telemetry.v2" \
	--tail-pcap "$work/tail.pcap" ${FLOOD_GEN_ARGS:-} -o "$work/gen.json" ||
	die "flood_gen failed (daemon $(daemon_alive && echo alive || echo dead))"

daemon_alive || die "ionswitchd died under the flood"
kill -USR1 "$watch_pid"
wait "$watch_pid" || die "check_flood.py watch: $(cat "$work/watch.log")"

# The membrane still answers, every time.
got=$(host_exec ping -c 20 -i 0.05 -W 2 "$me" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
[ "${got:-0}" -eq 20 ] || die "ping after the flood: ${got:-0} of 20 answered"
echo "flood: ping after the flood: 20 of 20 answered"

daemon_alive || die "ionswitchd died after the flood"
daemon_stop
[ -s "$work/totals.json" ] || die "no totals written"

python3 "$here/check_flood.py" check "$work/totals.json" "$work/gen.json" \
	"$work/window.json" || die "counters do not add up"
echo "PASS: flood of $frames frames, seed $seed"
