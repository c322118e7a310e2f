#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The soak test: the shipped config (config/ionswitchd.conf, with names of
# its own) under mixed traffic for N minutes, all of it from the test host
# in the network namespace ion-soak (test/lib.sh), at the same time:
#   - ping through the membrane, 20 a second, the whole run;
#   - wrk on the membrane's HTTP server, two connections, the whole run;
#   - curl downloads of a 4 MiB file, each checked with sha256;
#   - UDP and TCP echo, each answer byte-exact (test/soak/echo_client.py);
#   - the flood generator (test/ionswitchd/flood/flood_gen): random and
#     mutated frames of every EtherType, FLOOD_RATE a second (default 500);
#   - console commands (ionctl show port|rings|fibers|lcores) every 5 s;
# and the daemon's RSS sampled every 5 s.  Then SIGTERM, the totals, and
# test/soak/check_soak.py says whether it held up (see its docstring).
#
#   scripts/soak.sh [--minutes N] [--seconds N] [BUILD_DIR]
#
# Default 30 minutes, build/.  The first minute (a quarter of a shorter
# run) is the baseline: RSS growth and ping p99 are measured against it.
# Needs root, hugepages, /dev/net/tun, dpdk-testpmd, wrk (scripts/setup.sh).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=1800
build=$top/build
while [ $# -gt 0 ]; do
	case $1 in
	--minutes) seconds=$((${2:?minutes} * 60)); shift 2 ;;
	--seconds) seconds=${2:?seconds}; shift 2 ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	-*) echo "soak: unknown option $1" >&2; exit 2 ;;
	*) build=$1; shift ;;
	esac
done
[ "$seconds" -ge 20 ] || { echo "soak: at least 20 seconds" >&2; exit 2; }
# the baseline: the first minute, or the first quarter of a shorter run
base=$((seconds / 4 < 60 ? seconds / 4 : 60))

# shellcheck source=test/lib.sh
. "$top/test/lib.sh"
harness_init ion-soak "$build"
work=$H_WORK
iface=ionsk0
me=192.168.77.2 # the shipped config's membrane
host=192.168.77.1
mac=02:00:00:00:5a:02
gen=$H_BUILD/test/ionswitchd/flood/flood_gen
ionctl=$H_BUILD/app/ionctl/ionctl
rate=${FLOOD_RATE:-500}
loads=()

for t in "$gen" "$ionctl" "$H_BUILD/app/ionswitchd/ionswitchd"; do
	[ -x "$t" ] || die "$t not built (ninja -C $build)"
done
command -v wrk >/dev/null || die "wrk not installed (scripts/setup.sh)"

# The loads are loops of this shell: stop them with the script, however it
# ends (the harness's own clean-up then takes the daemon, peer and netns).
stop_loads() {
	touch "$work/stop"
	if [ ${#loads[@]} -gt 0 ]; then kill "${loads[@]}" 2>/dev/null || true; fi
}
H_ON_DIE=stop_loads

# The shipped config, under this test's names: its file prefix, the peer's
# socket in its run dir, its document root, a fixed MAC (the flood's frames
# are addressed to it).
sed -e 's/file_prefix = "ionswitchd"/file_prefix = "ion-soak"/' \
	-e "s|path=/run/ionswitchd/vhost.sock|path=$H_RUN/vhost.sock|" \
	-e "s|queue_size=1024\"|queue_size=1024,mac=$mac\"|" \
	-e "s|root = \"/var/lib/ionswitchd/www\"|root = \"$H_RUN/www\"|" \
	"$top/config/ionswitchd.conf" >"$work/soak.conf"
for want in ion-soak "mac=$mac" "$H_RUN/www"; do
	grep -q "$want" "$work/soak.conf" || die "config/ionswitchd.conf changed shape: no $want in soak.conf"
done

mkdir -p "$H_RUN/www" "$work/gen"
echo "<html><body>ION soak</body></html>" >"$H_RUN/www/index.html"
head -c 4194304 /dev/urandom >"$H_RUN/www/big.bin"
want=$(sha256sum <"$H_RUN/www/big.bin")

peer_start "$H_RUN/vhost.sock" "$iface" "$host/24"
daemon_start "$work/soak.conf" -s 0 --totals-json "$work/totals.json"
pinged() { host_exec ping -c 1 -W 1 "$me" >/dev/null 2>&1; }
wait_for "ping answer" pinged

start=$(date +%s.%N)
end=$(($(date +%s) + seconds))
running() { [ ! -e "$work/stop" ] && [ "$(date +%s)" -lt "$end" ]; }
# at: seconds since the start
at() { echo "$(date +%s.%N) - $start" | bc; }

rss_loop() {
	local pid=$DAEMON_PID
	while running; do
		awk -v t="$(at)" '/^VmRSS/ {r = $2} /^HugetlbPages/ {h = $2}
			END {print t, r, h}' "/proc/$pid/status" >>"$work/rss.log"
		sleep 5
	done
}

wrk_loop() {
	: >"$work/wrk.log"
	while running; do
		# the same load in every window of the ping's p99: back to back,
		# 10 s each, two connections
		host_exec timeout 20 wrk -t1 -c2 -d10s "http://$me/" >>"$work/wrk.log" 2>&1 || true
	done
}

curl_loop() {
	: >"$work/downloads.log"
	while running; do
		if host_exec curl -sS -m 60 -o "$work/dl.bin" "http://$me/big.bin" 2>>"$work/curl.err" &&
			[ "$(sha256sum <"$work/dl.bin")" = "$want" ]; then
			echo ok >>"$work/downloads.log"
		else
			echo bad >>"$work/downloads.log"
		fi
		rm -f "$work/dl.bin"
		sleep 2
	done
}

flood_loop() {
	local i=0 t0 seed
	while running; do
		t0=$(date +%s.%N)
		seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
		host_exec "$gen" -i "$iface" -n "$rate" -s "$seed" --dst-mac "$mac" --dst-ip "$me" \
			--avoid-ip "$host" --window 256 \
			--telemetry "/var/run/dpdk/$H_PREFIX/dpdk_telemetry.v2" \
			-o "$work/gen/$(printf %06d $i).json" 2>>"$work/flood.err" ||
			echo "flood_gen run $i (seed $seed) failed" >>"$work/flood.err"
		i=$((i + 1))
		# FLOOD_RATE frames a second: what is left of this second
		sleep "$(echo "t = 1 - ($(date +%s.%N) - $t0); if (t > 0) t else 0" | bc)"
	done
}

console_loop() {
	local c
	: >"$work/console.log"
	while running; do
		for c in "show port" "show rings" "show fibers" "show lcores"; do
			# shellcheck disable=SC2086 # the command's words
			if "$ionctl" -p "$H_PREFIX" -t 5 $c >/dev/null 2>>"$work/console.err"; then
				echo "$(at) ok" >>"$work/console.log"
			else
				echo "$(at) fail" >>"$work/console.log"
			fi
		done
		sleep 5
	done
}

# The machine's load beside the soak's own: on a shared machine other
# work's CPU time shows up as ping latency.
echo "soak: $seconds s, baseline the first $base s; flood $rate frames/s; load average $(cut -d' ' -f1-3 /proc/loadavg); logs in $work"
host_exec ping -D -i 0.05 -W 1 -w "$seconds" "$me" >"$work/ping.log" 2>&1 &
loads+=($!)
host_exec python3 "$top/test/soak/echo_client.py" "$me" "$end" "$work/echo.json" &
loads+=($!)
for l in rss_loop wrk_loop curl_loop flood_loop console_loop; do
	$l &
	loads+=($!)
done

# Meanwhile: the daemon stays up, a line a minute on progress.
while [ "$(date +%s)" -lt "$end" ]; do
	sleep 10
	daemon_alive || { stop_loads; die "ionswitchd died $(at) s into the soak"; }
	if [ $(($(date +%s) % 60)) -lt 10 ]; then
		echo "soak: $(printf %.0f "$(at)") s, RSS $(awk '/^VmRSS/ {print $2, $3}' "/proc/$DAEMON_PID/status")," \
			"$(wc -l <"$work/downloads.log") downloads, $(find "$work/gen" -name '*.json' | wc -l) floods"
	fi
done
for p in "${loads[@]}"; do wait "$p" || true; done
loads=()
daemon_alive || die "ionswitchd died at the end of the soak"

# The link, once quiet: the peer's vhost port against the daemon's port.
# The membrane's own timers (a FIN at the keep-alive timeout, a
# retransmission) may still send now and then: a reading counts only when
# the daemon's port did not move while the peer's was read.  After the
# flood that lasts up to lwIP's SYN-RCVD timeout (20 s): its SYNs from
# random neighbours get SYN-ACKs resent, and ARP requests for them, until
# lwIP gives those connections up.  A port that never goes quiet is judged
# on its last reading: the peer's counts must lie between the daemon's
# before and after it.  (Such a port was seen in CI: lwIP soliciting the
# senders of the flood's random Router Advertisements every second, which
# the membrane now drops before lwIP.)
link_stats() {
	local ports tap vhost d1 d2 try
	ports=$(echo /ethdev/list | dpdk-telemetry.py -f "$PEER_PREFIX" 2>/dev/null | tail -1)
	for p in $(python3 -c 'import json,sys; print(*json.loads(sys.argv[1])["/ethdev/list"])' "$ports"); do
		if echo "/ethdev/info,$p" | dpdk-telemetry.py -f "$PEER_PREFIX" 2>/dev/null | grep net_tap >/dev/null; then
			tap=$p
		else
			vhost=$p
		fi
	done
	for try in $(seq 30); do
		d1=$(telemetry "/ion/port")
		python3 - "$(echo "/ethdev/stats,$tap" | dpdk-telemetry.py -f "$PEER_PREFIX" 2>/dev/null | tail -1)" \
			"$(echo "/ethdev/stats,$vhost" | dpdk-telemetry.py -f "$PEER_PREFIX" 2>/dev/null | tail -1)" \
			"$d1" >"$work/link.json" <<'EOF'
import json, sys
tap = json.loads(sys.argv[1])["/ethdev/stats"]
vh = json.loads(sys.argv[2])["/ethdev/stats"]
d = json.loads(sys.argv[3])["/ion/port"]
json.dump({"peer_tap_in": tap["ipackets"], "peer_vhost_out": vh["opackets"],
           "peer_vhost_in": vh["ipackets"], "daemon_rx": d["rx_packets"],
           "daemon_tx": d["tx_packets"]}, sys.stdout)
EOF
		d2=$(telemetry "/ion/port")
		# the daemon's counters after the peer's, for a port that does
		# not go quiet: the peer's must lie between the two readings
		python3 - "$work/link.json" "$d2" <<'EOF'
import json, sys
link = json.load(open(sys.argv[1]))
d = json.loads(sys.argv[2])["/ion/port"]
link.update(daemon_rx_after=d["rx_packets"], daemon_tx_after=d["tx_packets"])
json.dump(link, open(sys.argv[1], "w"))
EOF
		if python3 -c 'import json,sys; a,b=(json.loads(x)["/ion/port"] for x in sys.argv[1:]); sys.exit(any(a[k]!=b[k] for k in ("rx_packets","tx_packets")))' "$d1" "$d2"; then
			[ "$try" -gt 1 ] && echo "soak: the link was quiet at reading $try"
			return 0
		fi
		sleep 1
	done
	echo "soak: the daemon's port kept moving for 30 readings; the last is judged between the daemon's two" >&2
	return 0 # check_soak.py judges the last reading
}
sleep 2 # what is in flight arrives
link_stats || die "no link counters from telemetry"
daemon_stop
[ -s "$work/totals.json" ] || die "no totals written"
echo "soak: load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
python3 "$top/test/soak/check_soak.py" "$work" "$seconds" "$base" || die "the soak's checks failed"
echo "PASS: soak of $seconds s"
