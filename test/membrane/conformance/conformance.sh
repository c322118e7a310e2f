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
# beside the other integration tests; test/lib.sh starts and removes it all.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/lib.sh
. "$here/../../lib.sh"
harness_init ion-hconf "${1:?build dir}"
shift
work=$H_WORK
run=$H_RUN
www=$run/www
ns_cl=ionhc-cl
ns_ng=ionhc-ng
tap=ionhc0
me=10.78.0.2
ng=10.78.1.2

# A failure shows the peer's and nginx's logs too.
more_logs() { for f in peer.log nginx-error.log; do echo "--- $f"; tail -30 "$work/$f" || true; done; }
H_ON_DIE=more_logs

# --- the document root, and a secret next to it that must not be served
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
netns_add "$ns_cl"
netns_add "$ns_ng"
ip link add ionhc-v0 netns "$ns_cl" type veth peer name ionhc-v1 netns "$ns_ng"
link_addr "$ns_cl" ionhc-v0 10.78.1.1/24
link_addr "$ns_ng" ionhc-v1 "$ng/24"
sed -e "s|@WORK@|$work|g" -e "s|@WWW@|$www|g" "$here/nginx.conf.in" >"$work/nginx.conf"
# nginx daemonizes; stopping the namespace's processes at exit ends it
ip netns exec "$ns_ng" nginx -c "$work/nginx.conf" || die "nginx did not start"

# --- the daemon's peer; its TAP goes into the client namespace
peer_start "$run/vhost.sock" "$tap" 10.78.0.1/24 "$ns_cl"
daemon_start "$here/membrane.conf"

# the first ARP exchange may need a moment after the port comes up
for _ in $(seq 20); do host_exec ping -c 1 -W 1 "$me" >/dev/null 2>&1 && break; done
host_exec ping -c 1 -W 1 "$me" >/dev/null 2>&1 || die "the membrane does not answer ping"
host_exec ping -c 1 -W 1 "$ng" >/dev/null 2>&1 || die "nginx's namespace does not answer ping"

rc=0
if [ $# -gt 0 ]; then
	host_exec "$@" || rc=$?
else
	host_exec python3 "$here/http_cases.py" --membrane "$me" --nginx "$ng" \
		--root "$www" || rc=$?
fi

daemon_alive || die "ionswitchd died under the cases"
daemon_stop
if [ $# -gt 0 ]; then
	echo "done: $* exited $rc"
	exit $rc
fi
[ $rc -eq 0 ] || { echo "FAIL: the comparison failed ($rc)"; exit 1; }
echo "PASS: the membrane's HTTP against nginx"
