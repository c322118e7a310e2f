#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# ionswitchd end to end: the daemon on net_virtio_user, dpdk-testpmd as the
# vhost-user peer bridging to the TAP ionit0 in the network namespace ion-it
# (test/lib.sh), Linux there sending a known frame mix.
#
#   integration.sh BUILD_DIR mix|kill|sigterm|lwf|utcp
#
# mix:     every counter adds up per EtherType; fibers saw exactly what was
#          delivered; reflected frames all came back.
# kill:    a fiber without the WRITE capability it uses is KILLED at its
#          first frame while the other fibers keep receiving.
# sigterm: SIGTERM under load loses no frame accepted into a ring.
# lwf:     the lwf fiber counts every LWF frame by reason, reflects the
#          accepted ones, and ion-lwf-sink (an external fiber, no DPDK)
#          gets them from the application ring.
# utcp:    the utcp fiber counts every UTCP packet by reason, delivers
#          port 7's payloads to its bound ring, counts unbound ports.
set -euo pipefail

mode=${2:?mode}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/lib.sh
. "$here/../../lib.sh"
harness_init ion-it "${1:?build dir}"
build=$H_BUILD
work=$H_WORK
iface=ionit0

# The test host: the netns ion-it, with the peer's TAP; it sends raw
# frames only (traffic.py), so the TAP needs no address.
peer_start "$H_RUN/vhost.sock" "$iface" ""

conf=$here/$mode.conf
[ "$mode" = sigterm ] && conf=$here/mix.conf
daemon_start "$conf" --totals-json "$work/totals.json"

# Frames the NetSwitch has received so far (Linux may add its own).
ns_rx() { telemetry /ion/netswitch | python3 -c 'import json,sys; print(json.load(sys.stdin)["/ion/netswitch"]["rx"])'; }

base=$(ns_rx)
# dpdk-dumpcap (Debian's, a DPDK secondary process) maps the primary's
# memory; beside an ASan-built primary it crashed once in CI (its own
# segfault, not ours): the capture is checked in the other builds.
capture=1
# not grep -q: under pipefail, ldd killed by SIGPIPE once grep has its
# match fails the pipeline (it did in one CI run)
case $(ldd "$build/app/ionswitchd/ionswitchd") in *libasan*) capture=0 ;; esac
mix=ipv4=300,arp=100,ipv6=100,utcp=400,lwf=400,unknown=100,vlan_ipv4=50,qinq_lwf=50
case $mode in
mix | kill)
	# dpdk-dumpcap attaches as a secondary process and captures the port
	if [ "$mode" = mix ] && [ $capture = 1 ]; then
		dpdk-dumpcap --file-prefix ion-it -i "$H_PORT_NAME" \
			-w "$work/cap.pcapng" >"$work/dumpcap.log" 2>&1 &
		dumpcap=$!
		for _ in $(seq 50); do
			grep -q "Capturing on" "$work/dumpcap.log" && break
			sleep 0.1
		done
	fi
	TRAFFIC_RATE=5000 host_exec python3 "$here/../traffic.py" sendsniff "$iface" "$mix" 3 \
		>"$work/traffic.json"
	total=1500
	for _ in $(seq 50); do
		[ $(( $(ns_rx) - base )) -ge $total ] && break
		sleep 0.1
	done
	telemetry /ion/fibers >"$work/fibers.json"
	if [ "$mode" = mix ] && [ $capture = 1 ]; then
		kill -INT "$dumpcap"
		wait "$dumpcap" || true
		captured=$(sed -n "s/.*received\/dropped on interface '[^']*': \([0-9]*\)\/.*/\1/p" \
			"$work/dumpcap.log")
		# both directions: 1500 frames in, 850 reflected out
		[ "${captured:-0}" -ge 2350 ] ||
			die "dpdk-dumpcap captured ${captured:-nothing}, expected >= 2350"
		echo "dumpcap: $captured packets captured"
	fi
	;;
lwf)
	lmix=lwf_ok=120,lwf_replay=20,lwf_badcrc=10,lwf_badmagic=10,lwf_badversion=10
	lmix=$lmix,lwf_short=10,lwf_badlen=10,lwf_toobig=10,utcp=50
	TRAFFIC_RATE=5000 host_exec python3 "$here/../traffic.py" sendsniff "$iface" "$lmix" 3 \
		>"$work/traffic.json"
	for _ in $(seq 50); do
		[ $(( $(ns_rx) - base )) -ge 250 ] && break
		sleep 0.1
	done
	# an external fiber: it claims lwf-sink on the daemon's fibers
	# socket and gets the application ring, nothing else
	"$build/app/ion-lwf-sink/ion-lwf-sink" --file-prefix ion-it \
		--fiber lwf-sink --count 120 --seconds 10 \
		>"$work/sink.json" 2>"$work/sink.log" ||
		die "ion-lwf-sink: $(cat "$work/sink.json" "$work/sink.log")"
	;;
utcp)
	umix=utcp_ok=100,utcp_unbound=20,utcp_badsum=10,utcp_badversion=10
	umix=$umix,utcp_short=10,utcp_badlen=10,lwf=30
	TRAFFIC_RATE=5000 host_exec python3 "$here/../traffic.py" sendsniff "$iface" "$umix" 3 \
		>"$work/traffic.json"
	for _ in $(seq 50); do
		[ $(( $(ns_rx) - base )) -ge 190 ] && break
		sleep 0.1
	done
	;;
sigterm)
	TRAFFIC_RATE=0 host_exec python3 "$here/../traffic.py" send "$iface" \
		ipv4=40000,utcp=40000,lwf=40000 >"$work/traffic.json" &
	sender=$!
	sleep 1
	;;
esac

daemon_alive || die "ionswitchd died under traffic"
daemon_stop
[ "$mode" = sigterm ] && { wait "$sender" || true; }
[ -s "$work/totals.json" ] || die "no totals written"

[ "$mode" = lwf ] && export SINK_JSON=$work/sink.json
python3 "$here/check.py" "$mode" "$work/totals.json" "$work/traffic.json" "$base" ||
	die "counters do not add up"
echo "PASS: $mode"
