#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The lwIP membrane against the Linux kernel's own TCP/IP stack, in the
# same run, serving the same files.
#
#   scripts/bench-membrane.sh [BUILD_DIR] [--rounds N] [--json] [--perf]
#                             [--big-mib M] [--wrk-duration SECS]
#                             [--idle-sleep-us US] [--kernel-no-offloads]
#                             [--conf FILE] [--all-peers]
#                             [--port virtio|af_xdp|af_packet]
#                             [--client-gso on|off] [--client-gro on|off]
#                             [--server-tso on|off] [--conns LIST]
#                             [--syn-flood RATE]
#
# Every client (curl, wrk, ping) runs in the network namespace ion-bm
# (test/lib.sh), which holds the Linux end of three paths:
#
# membrane  TAP ionbm0 (10.80.0.1/24) -> dpdk-testpmd io (the vhost-user
#           peer) -> ionswitchd's virtio port (scripts/bench-membrane.conf);
#           the membrane answers as 10.80.0.2 with lwIP and serves
#           /run/ion-bm/www through the VFS fiber.
# veth      ionbm-k0 (10.81.0.1/24) -> veth -> ionbm-k1 (10.81.0.2/24) in
#           the netns ion-bm-k, where nginx (Debian's nginx-light: one
#           worker, keep-alive, sendfile as Debian ships it) serves the same
#           /run/ion-bm/www: the kernel at its best.
# bridge    TAP ionbm-b0 (10.82.0.1/24) -> dpdk-testpmd io -> TAP ionbm-b1
#           (10.82.0.2/24) in the netns ion-bm-b, where a second nginx
#           serves the same files: the kernel behind the same kind of hop
#           as the membrane's peer, the floor for anything behind it.
#
# Only the dpdk-testpmd of the path being measured runs: the other one is
# stopped (SIGSTOP) meanwhile, so that an idle poller takes no CPU from
# the path under test (a two-CPU machine has none to spare); the daemon
# stays up throughout.  --all-peers keeps both polling throughout, as the
# harness did when the ~200 ms stalls were seen (docs/performance-history.md).
#
# First the daemon's idle CPU: utime+stime from /proc/PID/stat over 10 s
# without traffic, as % of one CPU.  Then each round measures the three
# paths, in an order that rotates from round to round:
#   download  curl of a BIG_MIB (100) MiB file to /dev/null, MB/s (10^6 B/s)
#   http      wrk -t1 -c10 -d5s of a 1 KiB file, requests/s (keep-alive:
#             wrk's HTTP/1.1 connections stay open on every server)
#   ping      ping -c 200 -i 0.002, per-round average and median RTT, us
#   conns     with --conns 100,1000,...: wrk -t1 -cN --latency for each N,
#             requests/s, p50 and p99 latency and the socket errors wrk saw
#             (a reset shows there)
#   new       with --syn-flood RATE: wrk -t1 -c10 with "Connection: close"
#             (a new connection for each request), requests/s, first
#             alone, then during a flood of RATE SYNs/s from forged
#             sources (test/membrane/synflood.py, 198.18.0.0/15, off-link:
#             each server answers through its gateway, the client
#             namespace, which drops the SYN-ACKs), and their ratio
# and the table gives the median over the rounds, membrane/veth and
# membrane/bridge, and the TCP segments the clients resent on each path
# (/proc/net/snmp's RetransSegs in their namespace): a stall, a segment
# lost and resent after a retransmission timeout, shows there.
# --json prints the figures as JSON on stdout (the table goes to stderr).
# --perf also profiles the daemon (perf record -g -p PID) and the whole
# machine (perf record -a) during one more membrane download and prints
# the top of the reports.  --idle-sleep-us runs the daemon with that
# idle.sleep_us instead of the config's 200 (how long an idle lcore may
# sleep: a bound on its wake-up latency).  --kernel-no-offloads turns off
# the veth pair's segmentation and checksum offloads (ethtool -K ... tso gso
# gro tx rx off), so the kernel too moves and checksums 1500-byte frames one
# by one, as the membrane does (the bridge's TAPs never offload: DPDK's TAP
# PMD gives them no offloads).  --conf runs the daemon with another config
# than scripts/bench-membrane.conf (the same names and addresses; another
# placement, say), e.g. to measure a change.
#
# --port af_xdp (or af_packet) puts the membrane on a veth instead, as
# the kernel's nginx is: ionbm0 (10.80.0.1/24, netns ion-bm) -> veth ->
# ionbm0d in the daemon's netns ion-bm-d, read by DPDK's AF_XDP (AF_PACKET)
# PMD (busy_budget=0); no dpdk-testpmd runs and there is no bridge path,
# and the daemon's two lcores are pinned, one a CPU ("0@0,1@1", unless
# --conf).  The two client
# ends (ionbm0, ionbm-k0) then have the same offloads: TX checksum off (the
# membrane needs full checksums: docs/operating.md, "Ports"; it takes TSO
# with it), GSO as --client-gso says (on by default), GRO as --client-gro
# says (off by default, as a veth comes); the kernel's server
# end, ionbm-k1, keeps TSO and GSO unless --server-tso off, so that it too
# sends 1500-byte frames as the membrane does.
#
# Everything it creates carries its own names (EAL prefixes ion-bm,
# ion-bm-peer, ion-bm-bridge, TAPs ionbm0 ionbm-b0 ionbm-b1, netns ion-bm
# ion-bm-k ion-bm-b, veth ionbm-k0/1) so it can run beside the tests; all
# of it is removed at exit, Ctrl-C included.  Figures and what they mean:
# docs/performance.md, "Membrane vs the Linux kernel".
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=test/lib.sh
. "$top/test/lib.sh"
build=
rounds=5
json=0
perf=0
big_mib=100
wrk_secs=5
idle_sleep_us=
offloads=on
all_peers=0
idle_secs=10
conf=
conf_given=
extra_conns=()
syn_flood=
port=virtio
client_gso=on
client_gro=off
server_tso=on

usage() {
	sed -n '6,12p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=${2:?}; shift 2 ;;
	--json) json=1; shift ;;
	--perf) perf=1; shift ;;
	--big-mib) big_mib=${2:?}; shift 2 ;;
	--wrk-duration) wrk_secs=${2:?}; shift 2 ;;
	--idle-sleep-us) idle_sleep_us=${2:?}; shift 2 ;;
	--kernel-no-offloads) offloads=off; shift ;;
	--conf) conf=$(realpath "${2:?}"); conf_given=1; shift 2 ;;
	--all-peers) all_peers=1; shift ;;
	--port) port=${2:?}; shift 2 ;;
	--client-gso) client_gso=${2:?}; shift 2 ;;
	--client-gro) client_gro=${2:?}; shift 2 ;;
	--server-tso) server_tso=${2:?}; shift 2 ;;
	--conns)
		IFS=, read -ra extra_conns <<<"${2:?}"
		for c in "${extra_conns[@]}"; do
			[ "$c" -ge 1 ] 2>/dev/null || die "--conns: $c is not a number"
		done
		shift 2 ;;
	--syn-flood)
		syn_flood=${2:?}
		[ "$syn_flood" -ge 1 ] 2>/dev/null || die "--syn-flood: $syn_flood is not a number"
		shift 2 ;;
	-h | --help) usage ;;
	-*) echo "bench-membrane: unknown option $1" >&2; usage ;;
	*) [ -z "$build" ] || usage; build=$1; shift ;;
	esac
done
build=${build:-$top/build}
conf=${conf:-$top/scripts/bench-membrane.conf}

[ "$(id -u)" -eq 0 ] || die "run as root: TAP, netns, hugepages need it"
[ -x "$build/app/ionswitchd/ionswitchd" ] || die "no ionswitchd in $build: build first (ninja -C $build)"
for tool in dpdk-testpmd nginx wrk curl ping ip python3; do
	command -v "$tool" >/dev/null || die "$tool missing: scripts/setup.sh installs it"
done
if [ $offloads = off ]; then command -v ethtool >/dev/null || die "ethtool missing"; fi
if [ $perf = 1 ]; then command -v perf >/dev/null || die "perf missing (linux-perf)"; fi
[ "$rounds" -ge 1 ] 2>/dev/null || die "--rounds needs a number >= 1"
case $port in virtio | af_xdp | af_packet) ;; *) die "--port $port: virtio, af_xdp or af_packet" ;; esac
for v in "$client_gso" "$client_gro" "$server_tso"; do
	case $v in on | off) ;; *) die "--client-gso, --client-gro, --server-tso: on or off" ;; esac
done
if [ -n "$idle_sleep_us" ]; then
	[ "$idle_sleep_us" -ge 0 ] 2>/dev/null || die "--idle-sleep-us needs a number"
fi

# From here on everything named ion-bm* is this run's, and goes at exit.
harness_init ion-bm "$build"
work=$H_WORK
www=$H_RUN/www
small=small.bin # 1 KiB: the requests/s file
big=big.bin
big_bytes=$((big_mib * 1048576))
# the three paths: the server's address, the dpdk-testpmd on the way
declare -A addr=([mb]=10.80.0.2 [k]=10.81.0.2 [b]=10.82.0.2)
declare -A fwd=([mb]=peer [k]=none [b]=bridge)
sides=(mb k b)
if [ "$port" != virtio ]; then
	# no dpdk-testpmd anywhere: the membrane on a veth, no bridge
	H_PORT=$port
	fwd[mb]=none
	sides=(mb k)
fi

# The table goes to stdout, or to stderr when stdout carries the JSON.
say() { printf 'bench-membrane: %s\n' "$*" >&2; }
out() { if [ $json = 1 ]; then printf '%s\n' "$*" >&2; else printf '%s\n' "$*"; fi; }

if [ -n "$idle_sleep_us" ]; then
	sed "s/sleep_us = [0-9]*;/sleep_us = $idle_sleep_us;/" "$conf" >"$work/bench-membrane.conf"
	conf=$work/bench-membrane.conf
fi
if [ "$port" != virtio ] && [ -z "$conf_given" ]; then
	# no peer shares the CPUs: the lcores pinned, one each, as
	# config/ionswitchd-af_xdp.conf has them
	sed 's/lcores = "[^"]*";/lcores = "0@0,1@1";/' "$conf" >"$work/bench-membrane-veth.conf"
	conf=$work/bench-membrane-veth.conf
fi

# --- the files, on tmpfs (/run): every server reads them from memory
mkdir -p "$www"
head -c 1024 /dev/urandom >"$www/$small"
head -c "$big_bytes" /dev/urandom >"$www/$big"

# --- membrane path; its TAP (or veth end) makes the client namespace ion-bm
if [ "$port" = virtio ]; then
	say "starting the vhost peer (dpdk-testpmd), TAP ionbm0 in netns ion-bm"
else
	say "veth ionbm0 (netns ion-bm) <-> ionbm0d (netns ion-bm-d): the daemon's $port port"
fi
peer_start "$H_RUN/vhost.sock" ionbm0 10.80.0.1/24
say "starting ionswitchd ($conf)"
daemon_start "$conf"

# --- veth path
say "veth ionbm-k0 (netns ion-bm) <-> ionbm-k1 (netns ion-bm-k)"
netns_add ion-bm-k
ip link add ionbm-k0 netns ion-bm type veth peer name ionbm-k1 netns ion-bm-k
link_addr ion-bm ionbm-k0 10.81.0.1/24
link_addr ion-bm-k ionbm-k1 10.81.0.2/24
if [ $offloads = off ]; then
	host_exec ethtool -K ionbm-k0 tso off gso off gro off tx off rx off >/dev/null
	ip netns exec ion-bm-k ethtool -K ionbm-k1 tso off gso off gro off tx off rx off >/dev/null
fi
if [ "$port" != virtio ]; then
	# the same offloads on both client ends (ionbm0's TX checksum is off
	# already: veth_port)
	host_exec ethtool -K ionbm-k0 tx off >/dev/null
	host_exec ethtool -K ionbm0 gso "$client_gso" gro "$client_gro" >/dev/null
	host_exec ethtool -K ionbm-k0 gso "$client_gso" gro "$client_gro" >/dev/null
	ip netns exec ion-bm-k ethtool -K ionbm-k1 tso "$server_tso" gso "$server_tso" >/dev/null
fi

# each server's answers to forged, off-link sources go to its gateway in
# the client namespace, which drops them (no forwarding): the membrane's
# is in scripts/bench-membrane.conf
ip -n ion-bm-k route add default via 10.81.0.1

# --- bridge path
if [ "$port" = virtio ]; then
	say "bridge: TAP ionbm-b0 (netns ion-bm) <-> dpdk-testpmd io <-> TAP ionbm-b1 (netns ion-bm-b)"
	netns_add ion-bm-b
	bridge_start bridge ionbm-b0 ion-bm 10.82.0.1/24 ionbm-b1 ion-bm-b 10.82.0.2/24
	ip -n ion-bm-b route add default via 10.82.0.1
fi

# nginx_start NAME NS IP: nginx serving $www on IP:80 in NS, log
# $work/NAME.log.  One worker: the membrane serves from one fiber.
# keepalive_requests is raised so that wrk's connections stay open for the
# whole run, as they do on the membrane (nginx's default closes one after
# 1000 requests).  stub_status counts connections and requests, to show
# keep-alive held.
nginx_start() {
	local name=$1 ns=$2 listen=$3
	mkdir -p "$work/$name"
	cat >"$work/$name.conf" <<EOC
worker_processes 1;
daemon off;
pid $work/$name.pid;
error_log $work/$name-error.log warn;
worker_rlimit_nofile 20000;
events { worker_connections 16384; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_timeout 65;
	keepalive_requests 100000000;
	default_type application/octet-stream;
	client_body_temp_path $work/$name;
	proxy_temp_path $work/$name;
	fastcgi_temp_path $work/$name;
	uwsgi_temp_path $work/$name;
	scgi_temp_path $work/$name;
	server {
		listen $listen:80;
		root $www;
		location = /nginx_status { stub_status; }
	}
}
EOC
	# ip netns exec execs nginx: $! is nginx's master
	ip netns exec "$ns" nginx -c "$work/$name.conf" >"$work/$name.log" 2>&1 &
	proc_record "$name" $!
}
nginx_start nginx-k ion-bm-k "${addr[k]}"
if [ "$port" = virtio ]; then nginx_start nginx-b ion-bm-b "${addr[b]}"; fi

# run_only peer|bridge|none: that dpdk-testpmd forwards, the other is stopped
run_only() {
	local f pid
	[ "$port" = virtio ] || return 0 # no dpdk-testpmd at all
	for f in peer bridge; do
		pid=$(proc_pid $f) || die "$f (dpdk-testpmd) exited: $(tail -5 "$work/$f.log")"
		if [ "$f" = "$1" ] || [ "$all_peers" = 1 ]; then
			kill -CONT "$pid"
		else
			kill -STOP "$pid"
		fi
	done
}

# --- all three answer, and serve the same bytes
http_ok() { host_exec curl -sS -m 2 -o /dev/null "http://$1/$small" 2>/dev/null; }
want=$(sha256sum <"$www/$big")
for side in "${sides[@]}"; do
	run_only "${fwd[$side]}"
	# The first ARP exchange may need a moment after a port comes up.
	for _ in $(seq 20); do host_exec ping -c 1 -W 1 "${addr[$side]}" >/dev/null 2>&1 && break; done
	wait_for "HTTP from ${addr[$side]}" http_ok "${addr[$side]}"
	got=$(host_exec curl -sS -m 600 "http://${addr[$side]}/$big" | sha256sum)
	[ "$got" = "$want" ] || die "http://${addr[$side]}/$big: wrong bytes"
done
say "the ${#sides[@]} paths serve the same $big_mib MiB file byte for byte"

# --- the daemon's CPU while idle: its peer runs, nothing is sent
cpu_ticks() { # utime + stime of PID, in clock ticks
	local f
	read -ra f <<<"$(sed 's/.*) //' "/proc/$1/stat")"
	echo $((f[11] + f[12])) # fields 14 and 15; f[0] is field 3
}
run_only peer
sleep 1 # the last download's connection closes
t0=$EPOCHREALTIME c0=$(cpu_ticks "$DAEMON_PID")
sleep "$idle_secs"
t1=$EPOCHREALTIME c1=$(cpu_ticks "$DAEMON_PID")
idle_cpu=$(python3 -c "print(f'{($c1 - $c0) / $(getconf CLK_TCK) / ($t1 - $t0) * 100:.2f}')")
say "ionswitchd idle: $idle_cpu % of one CPU over $idle_secs s"

# --- the measurements; each prints one number on stdout, the clients run
# in the namespace ion-bm
m_download() { # MB/s of one curl of the big file
	local r code size speed
	r=$(host_exec curl -sS -m 600 -o /dev/null -w '%{http_code} %{size_download} %{speed_download}' \
		"http://$1/$big") || die "curl http://$1/$big failed"
	read -r code size speed <<<"$r"
	if [ "$code" != 200 ] || [ "$size" != "$big_bytes" ]; then
		die "download from $1: status $code, $size of $big_bytes bytes"
	fi
	python3 -c "print(f'{$speed / 1e6:.1f}')"
}
m_http() { # requests/s of wrk on the small file; no errors allowed
	local log=$work/wrk.$1.$2
	host_exec wrk -t1 -c10 -d"${wrk_secs}s" "http://$1/$small" >"$log" 2>&1 ||
		die "wrk on $1 failed: $(cat "$log")"
	if grep -qE 'Non-2xx|Socket errors' "$log"; then
		die "wrk on $1 saw errors: $(grep -E 'Non-2xx|Socket errors' "$log")"
	fi
	sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$log"
}
# m_http_conns IP ROUND N: "req/s p50_ms p99_ms errors" of wrk -cN --latency
m_http_conns() {
	local log=$work/wrk.$1.$2.c$3
	host_exec wrk -t1 -c"$3" -d"${wrk_secs}s" --latency "http://$1/$small" >"$log" 2>&1 ||
		die "wrk -c$3 on $1 failed: $(cat "$log")"
	if grep -q 'Non-2xx' "$log"; then die "wrk -c$3 on $1: $(grep 'Non-2xx' "$log")"; fi
	python3 - "$log" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
def ms(v):
    n, u = re.match(r"([0-9.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 1e-3, "ms": 1, "s": 1e3}[u]
rps = float(re.search(r"Requests/sec:\s*([0-9.]+)", t).group(1))
p50 = ms(re.search(r"^\s*50%\s+(\S+)", t, re.M).group(1))
p99 = ms(re.search(r"^\s*99%\s+(\S+)", t, re.M).group(1))
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
print(f"{rps:.1f} {p50:.3f} {p99:.3f} {sum(int(x) for x in m.groups()) if m else 0}")
EOF
}
# m_new IP ROUND TAG: requests/s of wrk -c10 with a new connection for
# each request
m_new() {
	local log=$work/wrk.$1.$2.$3
	host_exec wrk -t1 -c10 -d"${wrk_secs}s" -H "Connection: close" "http://$1/$small" >"$log" 2>&1 ||
		die "wrk (Connection: close) on $1 failed: $(cat "$log")"
	if grep -q 'Non-2xx' "$log"; then die "wrk (Connection: close) on $1: $(grep 'Non-2xx' "$log")"; fi
	sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$log"
}
# m_new_flood SIDE ROUND: m_new during a SYN flood of $syn_flood a second
# at the server of SIDE, from the client end of its path
m_new_flood() {
	local side=$1 a=${addr[$1]} dev mac fl r
	declare -A devs=([mb]=ionbm0 [k]=ionbm-k0 [b]=ionbm-b0)
	dev=${devs[$side]}
	mac=$(host_exec ip neigh show "$a" dev "$dev" | awk '{print $3}')
	[ -n "$mac" ] || die "no MAC of $a on $dev for the SYN flood"
	host_exec python3 "$top/test/membrane/synflood.py" "$dev" "$mac" "$a" 80 198.18.0.0/15 \
		"$syn_flood" $((syn_flood * (wrk_secs + 2))) >"$work/flood.$side.$2" &
	fl=$!
	sleep 1 # the flood under way
	r=$(m_new "$a" "$2" flood)
	wait "$fl" || die "synflood.py failed: $(cat "$work/flood.$side.$2")"
	echo "$r"
}
m_ping() { # "avg median" RTT in us of 200 echoes, none lost
	local log=$work/ping.$1.$2
	host_exec ping -c 200 -i 0.002 -W 1 "$1" >"$log" 2>&1 || die "ping $1: $(tail -2 "$log")"
	python3 - "$log" <<'EOF'
import re, statistics, sys
t = [float(x) * 1000 for x in re.findall(r"time=([0-9.]+) ms", open(sys.argv[1]).read())]
if len(t) != 200:
    sys.exit(f"{len(t)}/200 replies")
print(f"{statistics.mean(t):.1f} {statistics.median(t):.1f}")
EOF
}
# counts SIDE: "connections requests" its server counted, to show
# keep-alive held
counts() {
	if [ "$1" = mb ]; then
		host_exec curl -sS -m 5 "http://${addr[mb]}/stats" | python3 -c '
import json, sys
m = json.load(sys.stdin)["fibers"][0]["membrane"]
print(m["http_conns"], m["http_requests"])'
	else # nginx: "Active connections..\n server accepts handled requests\n A H R"
		host_exec curl -sS -m 5 "http://${addr[$1]}/nginx_status" | awk 'NR == 3 { print $1, $3 }'
	fi
}

# resent: TCP segments the clients' namespace resent so far (a stall shows
# as a resend after a retransmission timeout)
resent() {
	host_exec cat /proc/net/snmp | awk '$1 == "Tcp:" && $2 ~ /^[0-9]+$/ { print $13 }'
}

declare -A res conns=([mb]=0 [k]=0 [b]=0) reqs=([mb]=0 [k]=0 [b]=0)
declare -A resends=([mb]=0 [k]=0 [b]=0)
one() { # one SIDE(mb|k|b) ROUND: the three measurements of one path
	local side=$1 r=$2 a=${addr[$1]} c0 q0 c1 q1 x t0
	run_only "${fwd[$side]}"
	t0=$(resent)
	# Plain assignments, not read < <(...): a failing measurement must
	# stop the script (set -e), which a process substitution would hide.
	res[$side.dl.$r]=$(m_download "$a")
	x=$(counts "$side"); read -r c0 q0 <<<"$x"
	res[$side.rps.$r]=$(m_http "$a" "$r")
	x=$(counts "$side"); read -r c1 q1 <<<"$x"
	# the /stats or /nginx_status request itself is one connection
	conns[$side]=$((conns[$side] + c1 - c0 - 1)) reqs[$side]=$((reqs[$side] + q1 - q0 - 1))
	for c in "${extra_conns[@]}"; do
		x=$(m_http_conns "$a" "$r" "$c")
		read -r res[$side.rps$c.$r] res[$side.p50_$c.$r] res[$side.p99_$c.$r] \
			res[$side.err$c.$r] <<<"$x"
		say "round $r $side: wrk -c$c: $x (req/s, p50 ms, p99 ms, socket errors)"
	done
	if [ -n "$syn_flood" ]; then
		res[$side.new.$r]=$(m_new "$a" "$r" new)
		res[$side.newflood.$r]=$(m_new_flood "$side" "$r")
		say "round $r $side: new connections ${res[$side.new.$r]} req/s, during a SYN flood ${res[$side.newflood.$r]} req/s"
	fi
	x=$(m_ping "$a" "$r")
	res[$side.rtt.$r]=${x% *} res[$side.rttmed.$r]=${x#* }
	resends[$side]=$((resends[$side] + $(resent) - t0))
	say "round $r $side: ${res[$side.dl.$r]} MB/s, ${res[$side.rps.$r]} req/s, ping avg ${res[$side.rtt.$r]} us median ${res[$side.rttmed.$r]} us"
}

# The machine is shared: its load average, before and after, says how
# much else was running while the figures were taken.
load0=$(cut -d' ' -f1-3 /proc/loadavg)
say "$rounds rounds: download of $big_mib MiB, wrk -t1 -c10 -d${wrk_secs}s of a 1 KiB file, ping -c 200 -i 0.002"
n_sides=${#sides[@]}
for r in $(seq "$rounds"); do
	# Rotate the order so that drift in the machine's load (it is
	# shared) falls on every path alike.
	for i in $(seq 0 $((n_sides - 1))); do one "${sides[(r - 1 + i) % n_sides]}" "$r"; done
	daemon_alive || die "ionswitchd died during round $r"
done
run_only peer

load1=$(cut -d' ' -f1-3 /proc/loadavg)

# --- medians and ratios
vals() { local s=$1 m=$2 r; for r in $(seq "$rounds"); do printf '%s ' "${res[$s.$m.$r]:-nan}"; done; }
# extra_args: the --conns metrics, "key|label|mb values|k values|b values"
# a line each
extra_args() {
	local c m label
	for c in "${extra_conns[@]}"; do
		for m in rps p50_ p99_ err; do
			case $m in
			rps) label="HTTP req/s, wrk -c$c" ;;
			p50_) label="HTTP p50 ms, wrk -c$c (lower better)" ;;
			p99_) label="HTTP p99 ms, wrk -c$c (lower better)" ;;
			err) label="wrk -c$c socket errors (all rounds)" ;;
			esac
			printf '%s|%s|%s|%s|%s\n' "$m$c" "$label" "$(vals mb "$m$c")" \
				"$(vals k "$m$c")" "$(vals b "$m$c")"
		done
	done
	if [ -n "$syn_flood" ]; then
		printf '%s|%s|%s|%s|%s\n' new "HTTP req/s, a connection each" \
			"$(vals mb new)" "$(vals k new)" "$(vals b new)"
		printf '%s|%s|%s|%s|%s\n' newflood "... during $syn_flood SYNs/s" \
			"$(vals mb newflood)" "$(vals k newflood)" "$(vals b newflood)"
	fi
}
summary=$(BM_LOAD="$load0 -> $load1" BM_SLEEP="${idle_sleep_us:-200}" BM_PORT=$port \
	BM_CLIENT_GSO=$client_gso BM_CLIENT_GRO=$client_gro BM_SERVER_TSO=$server_tso \
	BM_NGINX="$(nginx -v 2>&1 | sed 's/.*: //')" BM_WRK="$wrk_secs" BM_OFFLOADS=$offloads \
	BM_IDLE="$idle_cpu $idle_secs" python3 - "$rounds" "$big_mib" \
	"$(vals mb dl)" "$(vals k dl)" "$(vals b dl)" \
	"$(vals mb rps)" "$(vals k rps)" "$(vals b rps)" \
	"$(vals mb rtt)" "$(vals k rtt)" "$(vals b rtt)" \
	"$(vals mb rttmed)" "$(vals k rttmed)" "$(vals b rttmed)" \
	"${conns[mb]} ${reqs[mb]} ${conns[k]} ${reqs[k]} ${conns[b]} ${reqs[b]}" \
	"${resends[mb]} ${resends[k]} ${resends[b]}" "$(extra_args)" <<'EOF'
import json, os, statistics, sys
rounds, big = int(sys.argv[1]), int(sys.argv[2])
v = [[float(x) for x in a.split()] for a in sys.argv[3:15]]
cm, qm, ck, qk, cb, qb = (int(x) for x in sys.argv[15].split())
rm, rk, rb = (int(x) for x in sys.argv[16].split())
names = [("download_MBps", "TCP download, MB/s (curl, %d MiB)" % big),
         ("http_rps", "HTTP req/s (wrk -t1 -c10, 1 KiB)"),
         ("ping_avg_us", "ping RTT avg, us (lower is better)"),
         ("ping_median_us", "ping RTT median, us (lower is better)")]
env = os.environ
idle_pct, idle_secs = env["BM_IDLE"].split()
server = env["BM_NGINX"] + ", 1 worker, sendfile on"
doc = {"rounds": rounds, "loadavg": env["BM_LOAD"],
       "commands": {
           "download": f"curl -sS -o /dev/null -w '%{{speed_download}}' http://IP/big.bin ({big} MiB)",
           "http": f"wrk -t1 -c10 -d{env['BM_WRK']}s http://IP/small.bin (1 KiB, keep-alive)",
           "ping": "ping -c 200 -i 0.002 IP",
           "idle_cpu": f"utime+stime of the daemon in /proc/PID/stat over {idle_secs} s without traffic"},
       "port": env["BM_PORT"],
       "membrane": {"ip": "10.80.0.2", "idle_sleep_us": int(env["BM_SLEEP"]),
                    "idle_cpu_pct": float(idle_pct), "idle_cpu_seconds": int(idle_secs)},
       "kernel": {"ip": "10.81.0.2", "server": server + ", veth between two netns",
                  "veth_offloads": env["BM_OFFLOADS"]},
       "bridge": {"ip": "10.82.0.2",
                  "server": server + ", behind dpdk-testpmd io between two TAPs, each in its netns"},
       "metrics": {},
       "keepalive": {"membrane": {"connections": cm, "requests": qm},
                     "kernel": {"connections": ck, "requests": qk},
                     "bridge": {"connections": cb, "requests": qb}},
       "client_tcp_resends": {"membrane": rm, "kernel": rk, "bridge": rb}}
lines = [f"{'metric':40} {'membrane':>10} {'kern veth':>10} {'kern bridge':>11} {'mb/veth':>8} {'mb/bridge':>9}"]
for i, (key, label) in enumerate(names):
    mb, k, b = v[3 * i], v[3 * i + 1], v[3 * i + 2]
    mm, mk, mbr = statistics.median(mb), statistics.median(k), statistics.median(b)
    ratio = mm / mk if mk else float("nan")
    ratio_b = mm / mbr if mbr else float("nan")
    doc["metrics"][key] = {"membrane": mm, "kernel": mk, "bridge": mbr,
                           "ratio": round(ratio, 4), "ratio_bridge": round(ratio_b, 4),
                           "membrane_rounds": mb, "kernel_rounds": k, "bridge_rounds": b}
    if mbr == mbr:
        lines.append(f"{label:40} {mm:10.1f} {mk:10.1f} {mbr:11.1f} {ratio:7.3f}x {ratio_b:8.3f}x")
    else: # no bridge path (a veth port)
        lines.append(f"{label:40} {mm:10.1f} {mk:10.1f} {'-':>11} {ratio:7.3f}x {'-':>9}")
for spec in filter(None, sys.argv[17].split("\n")):
    key, label, *sides = spec.split("|")
    mb, k, b = ([float(x) for x in part.split()] for part in sides)
    agg = sum if key.startswith("err") else statistics.median
    mm, mk, mbr = agg(mb), agg(k), agg(b)
    ratio = mm / mk if mk else float("nan")
    doc["metrics"][key] = {"membrane": mm, "kernel": mk, "bridge": mbr, "ratio": round(ratio, 4),
                           "membrane_rounds": mb, "kernel_rounds": k, "bridge_rounds": b}
    if mbr == mbr:
        lines.append(f"{label:40} {mm:10.1f} {mk:10.1f} {mbr:11.1f} {ratio:7.3f}x "
                     f"{mm / mbr if mbr else float('nan'):8.3f}x")
    else:
        lines.append(f"{label:40} {mm:10.1f} {mk:10.1f} {'-':>11} {ratio:7.3f}x {'-':>9}")
if "newflood" in doc["metrics"]:
    new, fl = doc["metrics"]["new"], doc["metrics"]["newflood"]
    kept = {s: round(fl[s] / new[s], 4) if new[s] else float("nan") for s in ("membrane", "kernel", "bridge")}
    doc["syn_flood_kept"] = kept
    lines.append(f"{'... kept during the flood':40} {kept['membrane']:9.3f}x {kept['kernel']:9.3f}x "
                 f"{kept['bridge']:10.3f}x")
lines.append(f"{'daemon idle CPU, %% of one CPU (%s s)' % idle_secs:40} {float(idle_pct):10.2f}")
lines.append(f"membrane on its {env['BM_PORT']} port, idle.sleep_us {env['BM_SLEEP']}, kernel veth offloads "
             f"{env['BM_OFFLOADS']}, load average {env['BM_LOAD']}")
if env["BM_PORT"] != "virtio":
    lines.append(f"both on a veth; client ends: TX checksum off, GSO {env['BM_CLIENT_GSO']}, "
                 f"GRO {env['BM_CLIENT_GRO']}; nginx's end: TSO/GSO {env['BM_SERVER_TSO']}")
    doc["offloads"] = {"client_tx_checksum": "off", "client_gso": env["BM_CLIENT_GSO"],
                       "client_gro": env["BM_CLIENT_GRO"], "server_tso_gso": env["BM_SERVER_TSO"]}
lines.append(f"keep-alive: membrane {qm} requests on {cm} connections, "
             f"veth {qk} on {ck}, bridge {qb} on {cb}")
lines.append(f"TCP segments the clients resent (all rounds): membrane {rm}, "
             f"veth {rk}, bridge {rb}")
print(json.dumps({"table": lines, "doc": doc}))
EOF
)
out ""
out "bench-membrane: median of $rounds rounds"
python3 -c 'import json, sys; print("\n".join(json.loads(sys.argv[1])["table"]))' "$summary" |
	while IFS= read -r l; do out "$l"; done

# --- where the cycles go (optional)
if [ $perf = 1 ]; then
	say "profiling one more membrane download (perf record -g -p $DAEMON_PID, then -a)"
	perf record -q -g -p "$DAEMON_PID" -o "$work/perf.daemon.data" -- \
		ip netns exec "$H_HOST" curl -sS -o /dev/null "http://${addr[mb]}/$big" 2>"$work/perf.daemon.err" ||
		die "perf record -p failed: $(tail -3 "$work/perf.daemon.err")"
	perf record -q -a -g -o "$work/perf.all.data" -- \
		ip netns exec "$H_HOST" curl -sS -o /dev/null "http://${addr[mb]}/$big" 2>"$work/perf.all.err" ||
		die "perf record -a failed: $(tail -3 "$work/perf.all.err")"
	# Both DPDK processes name their lcore threads rte-worker-N, so the
	# whole-machine view sorts by pid (pid:thread) to tell them apart.
	rep() { # rep DATA SORT LINES
		perf report -i "$1" --no-children --stdio -g none --sort "$2" \
			--percent-limit 1 2>/dev/null | grep -v -e '^#' -e '^$' | head -"$3" ||
			true # head closing the pipe early is not a failure
	}
	{
		echo "--- ionswitchd (pid $DAEMON_PID): perf report --no-children"
		rep "$work/perf.daemon.data" comm,dso,sym 30
		echo "--- ionswitchd by DSO"
		rep "$work/perf.daemon.data" dso 12
		echo "--- whole machine by thread (ionswitchd $DAEMON_PID, testpmd $(proc_pid peer || echo none))"
		rep "$work/perf.all.data" pid 12
		echo "--- whole machine by thread and symbol"
		rep "$work/perf.all.data" pid,sym 30
	} >&2
fi

if [ $json = 1 ]; then
	python3 -c 'import json, sys; print(json.dumps(json.loads(sys.argv[1])["doc"], indent=2))' "$summary"
fi
