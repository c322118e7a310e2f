#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The lwIP membrane against the Linux kernel's own TCP/IP stack, in the
# same run, serving the same files.
#
#   scripts/bench-membrane.sh [BUILD_DIR] [--rounds N] [--json] [--perf]
#                             [--big-mib M] [--wrk-duration SECS]
#                             [--idle-sleep-us US] [--kernel-no-offloads]
#
# Appliance path: ionswitchd (scripts/bench-membrane.conf) on its virtio
# port; dpdk-testpmd (scripts/peer.sh) bridges its vhost-user socket to the
# TAP ionbm0 (10.80.0.1/24); the membrane answers as 10.80.0.2 with lwIP
# and serves /run/ion-bm/www through the VFS fiber.
#
# Kernel path: a veth pair, ionbm-k0 (10.81.0.1/24) here and ionbm-k1
# (10.81.0.2/24) in the network namespace ionbm-k, where nginx (Debian's
# nginx-light: one worker, keep-alive, sendfile as Debian ships it) serves
# the same /run/ion-bm/www.
#
# Each round measures both paths, alternating which goes first:
#   download  curl of a BIG_MIB (100) MiB file to /dev/null, MB/s (10^6 B/s)
#   http      wrk -t1 -c10 -d5s of a 1 KiB file, requests/s (keep-alive:
#             wrk's HTTP/1.1 connections stay open on both servers)
#   ping      ping -c 200 -i 0.002, per-round average and median RTT, us
# and the table gives the median over the rounds and membrane/kernel.
# --json prints the figures as JSON on stdout (the table goes to stderr).
# --perf also profiles the daemon (perf record -g -p PID) and the whole
# machine (perf record -a) during one more membrane download and prints
# the top of the reports.  --idle-sleep-us runs the daemon with that
# idle.sleep_us instead of the config's 200 (how long an idle lcore may
# sleep: a bound on its wake-up latency).  --kernel-no-offloads turns off
# the veth pair's segmentation and checksum offloads (ethtool -K ... tso gso
# gro tx rx off), so the kernel too moves and checksums 1500-byte frames one
# by one, as the membrane does.
#
# Everything it creates carries its own names (EAL prefix ion-bm, peer
# prefix ion-bm-peer, TAP ionbm0, netns ionbm-k, veth ionbm-k0/1) so it can
# run beside the tests; all of it is removed at exit, Ctrl-C included.
# Figures and what they mean: docs/performance.md, "Membrane vs the Linux
# kernel".
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=
rounds=5
json=0
perf=0
big_mib=100
wrk_secs=5
idle_sleep_us=
offloads=on

usage() {
	sed -n '6,8p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
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
	-h | --help) usage ;;
	-*) echo "bench-membrane: unknown option $1" >&2; usage ;;
	*) [ -z "$build" ] || usage; build=$1; shift ;;
	esac
done
build=$(cd "${build:-$top/build}" && pwd)
daemon=$build/app/ionswitchd/ionswitchd
conf=$top/scripts/bench-membrane.conf

run=/run/ion-bm
www=$run/www
prefix=ion-bm
peer_prefix=ion-bm-peer
tap=ionbm0
tap_ip=10.80.0.1
mb_ip=10.80.0.2
ns=ionbm-k
veth=ionbm-k0
veth_ns=ionbm-k1
veth_ip=10.81.0.1
k_ip=10.81.0.2
small=small.bin   # 1 KiB: the requests/s file
big=big.bin

daemon_pid=
nginx_pid=
work=
armed=0   # cleanup touches the shared names only once this run owns them

# The table goes to stdout, or to stderr when stdout carries the JSON.
say() { printf 'bench-membrane: %s\n' "$*" >&2; }
out() { if [ $json = 1 ]; then printf '%s\n' "$*" >&2; else printf '%s\n' "$*"; fi; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ $armed = 1 ] || exit $rc
	if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
		# SIGTERM lets the daemon free its hugepages; KILL if it hangs
		kill -TERM "$daemon_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$daemon_pid" 2>/dev/null || true
	fi
	if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
		kill -TERM "$nginx_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$nginx_pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$nginx_pid" 2>/dev/null || true
	fi
	# Whatever is left in the namespace is ours (an nginx worker orphaned
	# by a KILLed master); deleting the namespace would not end it.
	if ip netns pids "$ns" >/dev/null 2>&1; then
		for p in $(ip netns pids "$ns"); do kill -KILL "$p" 2>/dev/null || true; done
	fi
	# Deleting the namespace deletes ionbm-k1 and with it its pair ionbm-k0.
	ip netns del "$ns" 2>/dev/null || true
	ip link del "$veth" 2>/dev/null || true
	"$top/scripts/peer.sh" stop "$peer_prefix" 2>/dev/null || true
	rm -rf /dev/hugepages/"$prefix"* /var/run/dpdk/"$prefix"* "$run"
	if [ -n "$work" ]; then
		if [ $rc -ne 0 ] || [ "${KEEP_LOGS:-0}" = 1 ]; then
			say "logs kept in $work"
		else
			rm -rf "$work"
		fi
	fi
	exit $rc
}
trap cleanup EXIT
# Ctrl-C and kill run the same cleanup, through EXIT, with a failing status.
trap 'exit 130' INT
trap 'exit 143' TERM

die() {
	say "FAIL: $*"
	if [ -n "$work" ] && [ -f "$work/daemon.log" ]; then
		echo "--- daemon log (tail)" >&2
		tail -30 "$work/daemon.log" >&2 || true
	fi
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root: TAP, netns, hugepages need it"
[ -x "$daemon" ] || die "no $daemon: build first (ninja -C $build)"
for tool in dpdk-testpmd nginx wrk curl ping ip python3; do
	command -v "$tool" >/dev/null || die "$tool missing: scripts/setup.sh installs it"
done
if [ $offloads = off ]; then command -v ethtool >/dev/null || die "ethtool missing"; fi
if [ $perf = 1 ]; then command -v perf >/dev/null || die "perf missing (linux-perf)"; fi
[ "$rounds" -ge 1 ] 2>/dev/null || die "--rounds needs a number >= 1"

# Leftovers of an earlier run that was killed hard (SIGKILL skips the trap).
armed=1
"$top/scripts/peer.sh" stop "$peer_prefix" 2>/dev/null || true
ip netns del "$ns" 2>/dev/null || true
ip link del "$veth" 2>/dev/null || true
rm -rf /dev/hugepages/"$prefix"* /var/run/dpdk/"$prefix"* "$run"

work=$(mktemp -d /tmp/ion-bm.XXXXXX)
if [ -n "$idle_sleep_us" ]; then
	[ "$idle_sleep_us" -ge 0 ] 2>/dev/null || die "--idle-sleep-us needs a number"
	sed "s/sleep_us = [0-9]*;/sleep_us = $idle_sleep_us;/" "$conf" >"$work/bench-membrane.conf"
	conf=$work/bench-membrane.conf
fi

# --- the files, on tmpfs (/run): both servers read them from memory
mkdir -p "$www"
head -c 1024 /dev/urandom >"$www/$small"
head -c $((big_mib * 1048576)) /dev/urandom >"$www/$big"
big_bytes=$((big_mib * 1048576))

# --- appliance path
say "starting the vhost peer (dpdk-testpmd) and TAP $tap"
"$top/scripts/peer.sh" start "$run/vhost.sock" "$tap" "$peer_prefix" "$work/peer.log" ||
	die "peer did not start: $(tail -5 "$work/peer.log" 2>/dev/null)"
ip addr add "$tap_ip/24" dev "$tap"

say "starting ionswitchd ($conf)"
"$daemon" -- -c "$conf" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do
	grep -q "running:" "$work/daemon.log" 2>/dev/null && break
	kill -0 "$daemon_pid" 2>/dev/null || die "ionswitchd exited at start"
	sleep 0.1
done
grep -q "running:" "$work/daemon.log" || die "ionswitchd did not start in 10 s"

# --- kernel path
say "creating netns $ns, veth $veth <-> $veth_ns, nginx on $k_ip"
ip netns add "$ns"
ip link add "$veth" type veth peer name "$veth_ns"
ip link set "$veth_ns" netns "$ns"
# No IPv6 chatter on either path (peer.sh does the same for the TAP).
sysctl -qw "net.ipv6.conf.$veth.disable_ipv6=1" || true
ip netns exec "$ns" sysctl -qw "net.ipv6.conf.all.disable_ipv6=1" || true
ip addr add "$veth_ip/24" dev "$veth"
ip link set "$veth" up
ip netns exec "$ns" ip addr add "$k_ip/24" dev "$veth_ns"
ip netns exec "$ns" ip link set "$veth_ns" up
ip netns exec "$ns" ip link set lo up
if [ $offloads = off ]; then
	ethtool -K "$veth" tso off gso off gro off tx off rx off >/dev/null
	ip netns exec "$ns" ethtool -K "$veth_ns" tso off gso off gro off tx off rx off >/dev/null
fi

# One worker: the membrane serves from one fiber.  keepalive_requests is
# raised so that wrk's connections stay open for the whole run, as they do
# on the membrane (nginx's default closes one after 1000 requests).
# stub_status counts connections and requests, to show keep-alive held.
mkdir -p "$work/nginx"
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_timeout 65;
	keepalive_requests 100000000;
	default_type application/octet-stream;
	client_body_temp_path $work/nginx;
	proxy_temp_path $work/nginx;
	fastcgi_temp_path $work/nginx;
	uwsgi_temp_path $work/nginx;
	scgi_temp_path $work/nginx;
	server {
		listen $k_ip:80;
		root $www;
		location = /nginx_status { stub_status; }
	}
}
EOF
ip netns exec "$ns" nginx -c "$work/nginx.conf" >"$work/nginx.log" 2>&1 &
nginx_pid=$!

# --- both answer, and serve the same bytes
wait_http() { # wait_http IP WHAT
	for _ in $(seq 100); do
		curl -sS -m 2 -o /dev/null "http://$1/$small" 2>/dev/null && return 0
		sleep 0.1
	done
	die "$2 at $1 does not answer HTTP"
}
# The first ARP exchange may need a moment after the port comes up.
for _ in $(seq 20); do ping -c 1 -W 1 "$mb_ip" >/dev/null 2>&1 && break; done
wait_http "$mb_ip" membrane
kill -0 "$nginx_pid" 2>/dev/null || die "nginx exited: $(cat "$work/nginx.log" "$work/nginx-error.log" 2>/dev/null)"
wait_http "$k_ip" nginx
want=$(sha256sum <"$www/$big")
for ip in "$mb_ip" "$k_ip"; do
	got=$(curl -sS -m 600 "http://$ip/$big" | sha256sum)
	[ "$got" = "$want" ] || die "http://$ip/$big: wrong bytes"
done
say "both paths serve the same $big_mib MiB file byte for byte"

# --- the measurements; each prints one number on stdout
m_download() { # MB/s of one curl of the big file
	local r code size speed
	r=$(curl -sS -m 600 -o /dev/null -w '%{http_code} %{size_download} %{speed_download}' \
		"http://$1/$big") || die "curl http://$1/$big failed"
	read -r code size speed <<<"$r"
	if [ "$code" != 200 ] || [ "$size" != "$big_bytes" ]; then
		die "download from $1: status $code, $size of $big_bytes bytes"
	fi
	python3 -c "print(f'{$speed / 1e6:.1f}')"
}
m_http() { # requests/s of wrk on the small file; no errors allowed
	local log=$work/wrk.$1.$2
	wrk -t1 -c10 -d"${wrk_secs}s" "http://$1/$small" >"$log" 2>&1 ||
		die "wrk on $1 failed: $(cat "$log")"
	if grep -qE 'Non-2xx|Socket errors' "$log"; then
		die "wrk on $1 saw errors: $(grep -E 'Non-2xx|Socket errors' "$log")"
	fi
	sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$log"
}
m_ping() { # "avg median" RTT in us of 200 echoes, none lost
	local log=$work/ping.$1.$2
	ping -c 200 -i 0.002 -W 1 "$1" >"$log" 2>&1 || die "ping $1: $(tail -2 "$log")"
	python3 - "$log" <<'EOF'
import re, statistics, sys
t = [float(x) * 1000 for x in re.findall(r"time=([0-9.]+) ms", open(sys.argv[1]).read())]
if len(t) != 200:
    sys.exit(f"{len(t)}/200 replies")
print(f"{statistics.mean(t):.1f} {statistics.median(t):.1f}")
EOF
}
# Connections and requests the servers counted, to show keep-alive held.
mb_counts() {
	curl -sS -m 5 "http://$mb_ip/stats" | python3 -c '
import json, sys
m = json.load(sys.stdin)["fibers"][0]["membrane"]
print(m["http_conns"], m["http_requests"])'
}
k_counts() { # nginx: "Active connections..\n server accepts handled requests\n A H R"
	curl -sS -m 5 "http://$k_ip/nginx_status" | awk 'NR == 3 { print $1, $3 }'
}

declare -A res
conns_mb=0 reqs_mb=0 conns_k=0 reqs_k=0
one() { # one SIDE(mb|k) ROUND: the three measurements of one path
	local side=$1 r=$2 ip c0 q0 c1 q1 x
	if [ "$side" = mb ]; then ip=$mb_ip; else ip=$k_ip; fi
	# Plain assignments, not read < <(...): a failing measurement must
	# stop the script (set -e), which a process substitution would hide.
	res[$side.dl.$r]=$(m_download "$ip")
	x=$("${side}_counts"); read -r c0 q0 <<<"$x"
	res[$side.rps.$r]=$(m_http "$ip" "$r")
	x=$("${side}_counts"); read -r c1 q1 <<<"$x"
	# the /stats or /nginx_status request itself is one connection
	if [ "$side" = mb ]; then
		conns_mb=$((conns_mb + c1 - c0 - 1)) reqs_mb=$((reqs_mb + q1 - q0 - 1))
	else
		conns_k=$((conns_k + c1 - c0 - 1)) reqs_k=$((reqs_k + q1 - q0 - 1))
	fi
	x=$(m_ping "$ip" "$r")
	res[$side.rtt.$r]=${x% *} res[$side.rttmed.$r]=${x#* }
	say "round $r $side: ${res[$side.dl.$r]} MB/s, ${res[$side.rps.$r]} req/s, ping avg ${res[$side.rtt.$r]} us median ${res[$side.rttmed.$r]} us"
}

# The machine is shared: its load average, before and after, says how
# much else was running while the figures were taken.
load0=$(cut -d' ' -f1-3 /proc/loadavg)
say "$rounds rounds: download of $big_mib MiB, wrk -t1 -c10 -d${wrk_secs}s of a 1 KiB file, ping -c 200 -i 0.002"
for r in $(seq "$rounds"); do
	# Alternate the order so that drift in the machine's load (it is
	# shared) falls on both sides alike.
	if [ $((r % 2)) = 1 ]; then one mb "$r"; one k "$r"; else one k "$r"; one mb "$r"; fi
	kill -0 "$daemon_pid" 2>/dev/null || die "ionswitchd died during round $r"
done

load1=$(cut -d' ' -f1-3 /proc/loadavg)

# --- medians and ratios
vals() { local s=$1 m=$2 r; for r in $(seq "$rounds"); do printf '%s ' "${res[$s.$m.$r]}"; done; }
summary=$(BM_LOAD="$load0 -> $load1" BM_SLEEP="${idle_sleep_us:-200}" \
	BM_NGINX="$(nginx -v 2>&1 | sed 's/.*: //')" BM_WRK="$wrk_secs" BM_OFFLOADS=$offloads python3 - "$rounds" "$big_mib" "$wrk_secs" \
	"$(vals mb dl)" "$(vals k dl)" "$(vals mb rps)" "$(vals k rps)" \
	"$(vals mb rtt)" "$(vals k rtt)" "$(vals mb rttmed)" "$(vals k rttmed)" \
	"$conns_mb $reqs_mb $conns_k $reqs_k" <<'EOF'
import json, os, statistics, sys
rounds, big, secs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
v = [[float(x) for x in a.split()] for a in sys.argv[4:12]]
cm, qm, ck, qk = (int(x) for x in sys.argv[12].split())
names = [("download_MBps", "TCP download, MB/s (curl, %d MiB)" % big),
         ("http_rps", "HTTP req/s (wrk -t1 -c10, 1 KiB)"),
         ("ping_avg_us", "ping RTT avg, us (lower is better)"),
         ("ping_median_us", "ping RTT median, us (lower is better)")]
env = os.environ
doc = {"rounds": rounds, "loadavg": env["BM_LOAD"],
       "commands": {
           "download": f"curl -sS -o /dev/null -w '%{{speed_download}}' http://IP/big.bin ({big} MiB)",
           "http": f"wrk -t1 -c10 -d{env['BM_WRK']}s http://IP/small.bin (1 KiB, keep-alive)",
           "ping": "ping -c 200 -i 0.002 IP"},
       "membrane": {"ip": "10.80.0.2", "idle_sleep_us": int(env["BM_SLEEP"])},
       "kernel": {"ip": "10.81.0.2", "server": env["BM_NGINX"] + ", 1 worker, sendfile on, veth + netns",
                  "veth_offloads": env["BM_OFFLOADS"]},
       "metrics": {},
       "keepalive": {"membrane": {"connections": cm, "requests": qm},
                     "kernel": {"connections": ck, "requests": qk}}}
lines = [f"{'metric':40} {'membrane':>10} {'kernel':>10} {'membrane/kernel':>16}"]
for i, (key, label) in enumerate(names):
    mb, k = v[2 * i], v[2 * i + 1]
    mm, mk = statistics.median(mb), statistics.median(k)
    ratio = mm / mk if mk else float("nan")
    doc["metrics"][key] = {"membrane": mm, "kernel": mk, "ratio": round(ratio, 4),
                           "membrane_rounds": mb, "kernel_rounds": k}
    lines.append(f"{label:40} {mm:10.1f} {mk:10.1f} {ratio:15.3f}x")
lines.append(f"membrane idle.sleep_us {env['BM_SLEEP']}, kernel veth offloads {env['BM_OFFLOADS']}, "
             f"load average {env['BM_LOAD']}")
lines.append(f"keep-alive: membrane {qm} requests on {cm} connections, "
             f"kernel {qk} requests on {ck} connections")
print(json.dumps({"table": lines, "doc": doc}))
EOF
)
out ""
out "bench-membrane: median of $rounds rounds"
python3 -c 'import json, sys; print("\n".join(json.loads(sys.argv[1])["table"]))' "$summary" |
	while IFS= read -r l; do out "$l"; done

# --- where the cycles go (optional)
if [ $perf = 1 ]; then
	say "profiling one more membrane download (perf record -g -p $daemon_pid, then -a)"
	perf record -q -g -p "$daemon_pid" -o "$work/perf.daemon.data" -- \
		curl -sS -o /dev/null "http://$mb_ip/$big" 2>"$work/perf.daemon.err" ||
		die "perf record -p failed: $(tail -3 "$work/perf.daemon.err")"
	perf record -q -a -g -o "$work/perf.all.data" -- \
		curl -sS -o /dev/null "http://$mb_ip/$big" 2>"$work/perf.all.err" ||
		die "perf record -a failed: $(tail -3 "$work/perf.all.err")"
	# Both DPDK processes name their lcore threads rte-worker-N, so the
	# whole-machine view sorts by pid (pid:thread) to tell them apart.
	rep() { # rep DATA SORT LINES
		perf report -i "$1" --no-children --stdio -g none --sort "$2" \
			--percent-limit 1 2>/dev/null | grep -v -e '^#' -e '^$' | head -"$3" ||
			true # head closing the pipe early is not a failure
	}
	{
		echo "--- ionswitchd (pid $daemon_pid): perf report --no-children"
		rep "$work/perf.daemon.data" comm,dso,sym 30
		echo "--- ionswitchd by DSO"
		rep "$work/perf.daemon.data" dso 12
		echo "--- whole machine by thread (ionswitchd $daemon_pid, testpmd $(cat "/run/$peer_prefix.pid"))"
		rep "$work/perf.all.data" pid 12
		echo "--- whole machine by thread and symbol"
		rep "$work/perf.all.data" pid,sym 30
	} >&2
fi

if [ $json = 1 ]; then
	python3 -c 'import json, sys; print(json.dumps(json.loads(sys.argv[1])["doc"], indent=2))' "$summary"
fi
