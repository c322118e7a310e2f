#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# A real Prometheus server (Debian's prometheus) scrapes the appliance:
# ionswitchd on its virtio port, dpdk-testpmd bridging it to the TAP
# ionpm0 (10.83.0.1/24) in the netns ion-pm (test/lib.sh), where the
# Prometheus server runs too and scrapes http://10.83.0.2/metrics every
# second.  Through Prometheus's HTTP API: `up` is 1, and the UDP echo
# counter it scraped after N datagrams is N, as GET /stats says.
#
#   prometheus.sh BUILD_DIR
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/lib.sh
. "$here/../../lib.sh"
command -v prometheus >/dev/null || die "prometheus missing: scripts/setup.sh installs it"
harness_init ion-pm "${1:?build dir}"
work=$H_WORK
me=10.83.0.2
api=http://127.0.0.1:9090/api/v1
datagrams=37

mkdir -p "$H_RUN/www"
echo "ION" >"$H_RUN/www/index.html"
peer_start "$H_RUN/vhost.sock" ionpm0 10.83.0.1/24
daemon_start "$here/membrane.conf"
membrane_up() { host_exec ping -c 1 -W 1 "$me" >/dev/null 2>&1; }
wait_for "the membrane answering ping" membrane_up

# The server, in the test host's namespace: its API on that namespace's
# loopback, its scrapes to the membrane.
cat >"$work/prometheus.yml" <<EOY
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: ion
    metrics_path: /metrics
    static_configs:
      - targets: ['$me:80']
EOY
host_exec prometheus --config.file="$work/prometheus.yml" \
	--storage.tsdb.path="$work/tsdb" --web.listen-address=127.0.0.1:9090 \
	</dev/null >"$work/prometheus.log" 2>&1 &
proc_record prometheus $!

# query EXPR: the value of the first sample of the instant query EXPR
query() {
	host_exec curl -sS --get --data-urlencode "query=$1" "$api/query" |
		python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}

up_is_1() { [ "$(query 'up{job="ion"}' 2>/dev/null)" = 1 ]; }
wait_for "Prometheus scraping the membrane (up == 1)" up_is_1
check "Prometheus: up{job=\"ion\"} is 1" up_is_1

# N UDP echo datagrams, each answered: the counter moves by exactly N.
host_exec python3 - "$me" "$datagrams" <<'EOP'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2.0)
for i in range(int(sys.argv[2])):
    s.sendto(b"scrape me %d" % i, (sys.argv[1], 7))
    s.recvfrom(2048)
EOP
stats_echo() {
	host_exec curl -sS "http://$me/stats" |
		python3 -c 'import json,sys; f={x["name"]: x for x in json.load(sys.stdin)["fibers"]}; print(f["membrane"]["membrane"]["udp_echo_datagrams"])'
}
check "GET /stats: udp_echo_datagrams is $datagrams" [ "$(stats_echo)" = "$datagrams" ]
scraped_n() {
	[ "$(query 'ion_membrane_udp_echo_datagrams_total{job="ion",name="membrane"}')" = "$datagrams" ]
}
wait_for "Prometheus scraping udp_echo_datagrams = $datagrams" scraped_n
check "Prometheus: ion_membrane_udp_echo_datagrams_total is $datagrams, as GET /stats" scraped_n
# a series a row: the two routes, by their EtherType label
routes_2() { [ "$(query 'count(ion_route_rx_total{job="ion"})')" = 2 ]; }
check "Prometheus: a series for each of the 2 routes" routes_2
check "Prometheus: the ARP route by its label" [ \
	"$(query 'ion_route_rx_total{job="ion",ethertype="0x0806"}')" -ge 1 ]

daemon_stop
daemon_files_gone "ionswitchd after SIGTERM"
harness_done "a Prometheus server scraping the appliance"
