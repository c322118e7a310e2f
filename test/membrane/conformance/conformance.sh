#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The membrane's HTTP/1.1 compared with nginx, case by case
# (http_cases.py).  Every host lives in a network namespace this script
# creates and deletes; no traffic leaves them:
#
#   netns ionhc-cl: the client (http_cases.py), the TAP ionhc0 (10.78.0.1)
#                   that dpdk-testpmd bridges to the daemon's virtio port
#                   (the membrane answers as 10.78.0.2), and ionhc-v0
#                   (10.78.1.1)
#   netns ionhc-ng: nginx on ionhc-v1 (10.78.1.2), serving the same
#                   document root as the membrane's VFS fiber
#
#   conformance.sh BUILD_DIR [COMMAND...]
#
# With a COMMAND it runs that in ionhc-cl instead of the comparison (to
# look around by hand).  Its own names (ion-hconf, ionhc*) so it can run
# beside the other integration tests.
set -euo pipefail

build=$(cd "${1:?build dir}" && pwd)
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../../.." && pwd)
work=$(mktemp -d /tmp/ion-hconf.XXXXXX)
run=/run/ion-hconf
www=$run/www
ns_cl=ionhc-cl
ns_ng=ionhc-ng
tap=ionhc0
me=10.78.0.2
ng=10.78.1.2
prefix=ion-hconf
peer_prefix=ion-hconf-peer
daemon_pid=

in_cl() { ip netns exec "$ns_cl" "$@"; }

# stop PID: TERM, a moment, then KILL
stop() {
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	# SIGTERM lets the daemon free its hugepages
	[ -z "$daemon_pid" ] || stop "$daemon_pid"
	[ ! -s "$work/nginx.pid" ] || stop "$(cat "$work/nginx.pid")"
	"$top/scripts/peer.sh" stop "$peer_prefix" || true
	# whatever is left in our namespaces is ours (an nginx worker whose
	# master was killed); deleting a namespace would not end it
	for ns in "$ns_cl" "$ns_ng"; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf /dev/hugepages/"$prefix"map_* /var/run/dpdk/"$prefix" "$run"
	if [ $rc -ne 0 ] || [ "${KEEP_LOGS:-0}" = 1 ]; then
		echo "logs kept in $work"
	else
		rm -rf "$work"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "FAIL: $*" >&2
	for f in daemon.log peer.log nginx-error.log; do
		echo "--- $f" >&2
		tail -30 "$work/$f" >&2 || true
	done
	exit 1
}

# --- the document root, and a secret next to it that must not be served
rm -rf "$run"
mkdir -p "$www/sub" "$www/empty"
echo "<html><body>ION</body></html>" >"$www/index.html"
echo "hello from the membrane" >"$www/small.txt"
echo "sub index" >"$www/sub/index.html"
echo "body { color: red; }" >"$www/style.css"
echo '{"ion": true}' >"$www/data.json"
printf '\x89PNG\r\n\x1a\n' >"$www/img.png"
echo "console.log(1);" >"$www/app.js"
echo "unknown type" >"$www/notes.xyz"
: >"$www/zero.txt"
head -c 1048576 /dev/urandom >"$www/big.bin"
echo "TOP SECRET outside the root" >"$run/secret.txt"
ln -s ../secret.txt "$www/escape.txt"
ln -s small.txt "$www/alias.txt"
# one fixed modification time, so dates in the cases can be written out
touch -h -d "2024-03-01 12:00:00 UTC" "$www"/* "$www/sub/index.html"

# --- the namespaces, and nginx on its side of a veth pair
ip netns del "$ns_cl" 2>/dev/null || true
ip netns del "$ns_ng" 2>/dev/null || true
"$top/scripts/peer.sh" stop "$peer_prefix" || true
ip netns add "$ns_cl"
ip netns add "$ns_ng"
in_cl ip link set lo up
ip netns exec "$ns_ng" ip link set lo up
ip link add ionhc-v0 netns "$ns_cl" type veth peer name ionhc-v1 netns "$ns_ng"
in_cl ip addr add 10.78.1.1/24 dev ionhc-v0
in_cl ip link set ionhc-v0 up
ip netns exec "$ns_ng" ip addr add "$ng/24" dev ionhc-v1
ip netns exec "$ns_ng" ip link set ionhc-v1 up
sed -e "s|@WORK@|$work|g" -e "s|@WWW@|$www|g" "$here/nginx.conf.in" >"$work/nginx.conf"
ip netns exec "$ns_ng" nginx -c "$work/nginx.conf" || die "nginx did not start"

# --- the daemon's peer; its TAP goes into the client namespace at once
"$top/scripts/peer.sh" start "$run/vhost.sock" "$tap" "$peer_prefix" "$work/peer.log"
ip link set "$tap" netns "$ns_cl"
in_cl sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1"
in_cl ip addr add 10.78.0.1/24 dev "$tap"
in_cl ip link set "$tap" up

"$build/app/ionswitchd/ionswitchd" -- -c "$here/membrane.conf" \
	>"$work/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 100); do
	grep -q "running:" "$work/daemon.log" 2>/dev/null && break
	kill -0 "$daemon_pid" 2>/dev/null || die "ionswitchd exited at start"
	sleep 0.1
done
grep -q "running:" "$work/daemon.log" || die "ionswitchd did not start in 10 s"

# the first ARP exchange may need a moment after the port comes up
for _ in $(seq 20); do in_cl ping -c 1 -W 1 "$me" >/dev/null 2>&1 && break; done
in_cl ping -c 1 -W 1 "$me" >/dev/null 2>&1 || die "the membrane does not answer ping"
in_cl ping -c 1 -W 1 "$ng" >/dev/null 2>&1 || die "nginx's namespace does not answer ping"

rc=0
if [ $# -gt 0 ]; then
	in_cl "$@" || rc=$?
else
	in_cl python3 "$here/http_cases.py" --membrane "$me" --nginx "$ng" \
		--root "$www" || rc=$?
fi

kill -0 "$daemon_pid" 2>/dev/null || die "ionswitchd died under the cases"
kill -TERM "$daemon_pid"
drc=0
wait "$daemon_pid" || drc=$?
daemon_pid=
[ $drc -eq 0 ] || die "ionswitchd exited $drc after SIGTERM"
if [ $# -gt 0 ]; then
	echo "done: $* exited $rc"
	exit $rc
fi
[ $rc -eq 0 ] || { echo "FAIL: the comparison failed ($rc)"; exit 1; }
echo "PASS: the membrane's HTTP against nginx"
