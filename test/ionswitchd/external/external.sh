#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# External fibers, each in a process of its own that claims it on the
# daemon's fibers socket and gets the rings of its grants only
# (external.conf): ionswitchd with the membrane on its virtio port,
# dpdk-testpmd bridging it to the TAP ionex0 (10.78.0.1) in the network
# namespace ion-ext (test/lib.sh); the membrane is 10.78.0.2.
#
#   external.sh BUILD_DIR
#
#  - ion-lwf-sink (no DPDK) gets the lwf fiber's accepted frames;
#  - a rogue writes the producer's page of a ring it may only read: killed
#    by SIGSEGV, recorded as a capability fault; the daemon, the other
#    fibers, ping and curl through the membrane go on;
#  - a rogue asks for a channel it does not hold: refused and killed;
#  - the claim socket is 0660 in the config's group (nogroup): a uid
#    without it cannot connect;
#  - every refusal (a name that is no external fiber's, a process of the
#    wrong uid, malformed and out-of-order messages, nothing sent in time)
#    is answered with its errno, counted under its reason in /ion/claims,
#    logged with the peer's pid and uid; the daemon goes on;
#  - UTCP port 7's consumer (uid 65534) is killed in the middle of a burst,
#    then claimed again: no message handled twice, the counters add up;
#  - the NetSwitch drops what is routed to a killed fiber's ring (full),
#    and nothing else;
#  - the examples' UTCP consumer reads its port's payloads;
#  - the fault and its reason in the console, telemetry and the totals.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/lib.sh
. "$here/../../lib.sh"
harness_init ion-ext "${1:?build dir}"
build=$H_BUILD
work=$H_WORK
iface=ionex0
me=10.78.0.2
sock=/run/ionswitchd/ion-ext.fibers.sock
rogue=$build/test/ionswitchd/ion-rogue
ionctl=$build/app/ionctl/ionctl
con=/run/ionswitchd/ion-ext.sock
traffic=$here/../traffic.py
# uid 65534 runs copies of the build's programs (the tree may be 0700)
stage_for_others "$rogue" "$build/examples/utcp-consumer"
nobody=(stage_run 65534 65534)

mkdir -p "$H_RUN/www"
head -c 1048576 /dev/urandom >"$H_RUN/www/big.bin"
want=$(sha256sum <"$H_RUN/www/big.bin")

peer_start "$H_RUN/vhost.sock" "$iface" 10.78.0.1/24
daemon_start "$here/external.conf" --totals-json "$work/totals.json"
for _ in $(seq 20); do host_exec ping -c 1 -W 1 "$me" >/dev/null 2>&1 && break; done

# fiber NAME: its row of /ion/fibers (telemetry), as JSON; keyed by its
# name with what telemetry does not take in a key as '_' (lwf_sink)
fiber() {
	telemetry /ion/fibers | python3 -c '
import json, re, sys
row = json.load(sys.stdin)["/ion/fibers"][re.sub(r"[^A-Za-z0-9_/]", "_", sys.argv[1])]
assert row["name"] == sys.argv[1], row
print(json.dumps(row))' "$1"
}
# field NAME KEY...: a value of that row ("external" counters nested)
field() {
	fiber "$1" | python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v.get(k, "") if isinstance(v, dict) else ""
print(v)' "${@:2}"
}
pings() { host_exec ping -c "$1" -i 0.01 -W 2 "$me" | sed -n 's/.* \([0-9]*\) received.*/\1/p'; }
curl_ok() { host_exec sh -c "curl -sS -m 30 http://$me/big.bin | sha256sum" | grep -q "${want%% *}"; }
running() { [ "$(field "$1" state)" = RUNNING ]; }
in_state() { [ "$(field "$1" state)" = "$2" ]; }
# enqueued CHANNEL: the ring's enqueued counter (telemetry)
enqueued() {
	telemetry /ion/rings | python3 -c '
import json, sys
print(json.load(sys.stdin)["/ion/rings"][sys.argv[1]]["enqueued"])' "$1"
}
enqueued_is() { [ "$(enqueued "$1")" = "$2" ]; }
send() { TRAFFIC_RATE=5000 host_exec python3 "$traffic" send "$iface" "$1" >/dev/null; }

check "the external fibers wait for their claims" \
	sh -c "[ '$(field app7 state)' = WAITING ] && [ '$(field rogue state)' = WAITING ]"
check "socket $sock is there, mode 0660, group nogroup" \
	sh -c "[ \"\$(stat -c '%a %U %G' '$sock')\" = '660 root nogroup' ]"
check "ping before: $(pings 20)/20" [ "$(pings 20)" -eq 20 ]

# --- ion-lwf-sink, an external fiber without DPDK
"$build/app/ion-lwf-sink/ion-lwf-sink" --file-prefix ion-ext --count 50 \
	--seconds 30 >"$work/sink.json" 2>"$work/sink.log" &
sink=$!
wait_for "lwf-sink claimed" running lwf-sink
send lwf_ok=50
rc=0
wait "$sink" || rc=$?
check "ion-lwf-sink got the 50 accepted frames: $(cat "$work/sink.json")" \
	sh -c "[ $rc = 0 ] && grep -q '\"frames\": 50, \"valid\": 50' '$work/sink.json'"
wait_for "lwf-sink given back" in_state lwf-sink WAITING

# --- a rogue writes a ring it may only read
rc=0
"$rogue" write-ro "$sock" rogue 2>"$work/rogue.log" || rc=$?
check "rogue killed by SIGSEGV (exit $rc)" [ $rc = 139 ]
wait_for "rogue KILLED" in_state rogue KILLED
check "recorded as a capability fault: $(field rogue why)" sh -c "
	[ '$(field rogue fault_channel)' = 1809 ] && [ '$(field rogue fault_needs)' = w ] &&
	[ '$(field rogue external faults)' = 1 ] && [ '$(field rogue external deaths)' = 1 ] &&
	echo '$(field rogue why)' | grep -q 'capability fault: wrote 0x0711, holds r'"
daemon_alive || die "ionswitchd died with the rogue"
for f in membrane vfs utcp lwf console; do
	check "fiber $f still RUNNING after the rogue" running $f
done
check "ping after the rogue: $(pings 50)/50" [ "$(pings 50)" -eq 50 ]
check "curl after the rogue" curl_ok
rc=0
"$rogue" claim "$sock" rogue 2>"$work/again.log" || rc=$?
check "rogue may not restart: $(cat "$work/again.log")" \
	sh -c "[ $rc = 3 ] && grep -q 'does not let it restart' '$work/again.log'"

# --- a rogue asks for a channel it does not hold
rc=0
"$rogue" ask "$sock" asker 0x0500 2>"$work/asker.log" || rc=$?
# killed by the host as soon as it refused: the refusal may or may not
# reach the asker's stderr first, the host's record is checked below
check "asker refused and killed by SIGKILL (exit $rc)" [ $rc = 137 ]
wait_for "asker KILLED" in_state asker KILLED
check "asker's fault: 0x0500 needs r ($(field asker why))" sh -c "
	[ '$(field asker fault_channel)' = 1280 ] && [ '$(field asker fault_needs)' = r ] &&
	echo '$(field asker why)' | grep -q 'asked for 0x0500 r: not granted'"

# --- refusals: each answered, counted under its reason, logged once
# claims KEY: a counter of /ion/claims
claims() {
	telemetry /ion/claims | python3 -c '
import json, sys
print(json.load(sys.stdin)["/ion/claims"][sys.argv[1]])' "$1"
}
for name in no-such-fiber membrane; do
	rc=0
	"$rogue" claim "$sock" "$name" 2>"$work/name.log" || rc=$?
	check "claim of '$name' refused (exit $rc): $(cat "$work/name.log")" [ $rc = 3 ]
	daemon_alive || die "ionswitchd died of a claim of '$name'"
done
check "unknown 1, in_host 1: $(claims unknown), $(claims in_host)" \
	sh -c "[ '$(claims unknown)' = 1 ] && [ '$(claims in_host)' = 1 ]"
check "logged with pid and uid, and the errno" sh -c "
	grep -q \"claims: process [0-9]* (uid 0) refused, ENOENT: no fiber named 'no-such-fiber'\" '$DAEMON_LOG' &&
	grep -q \"refused, EPERM: fiber 'membrane' runs inside the host\" '$DAEMON_LOG'"
for what in magic:EPROTO:bad_magic long:EMSGSIZE:bad_length \
	order:EBADMSG:out_of_order late:ETIMEDOUT:late; do
	IFS=: read -r kind errno ctr <<<"$what"
	rc=0
	"$rogue" raw "$sock" "$kind" 2>"$work/raw.log" || rc=$?
	check "raw '$kind' answered $errno and hung up: $(cat "$work/raw.log")" \
		sh -c "[ $rc = 0 ] && grep -q 'answered $errno' '$work/raw.log'"
	check "counted as $ctr: $(claims "$ctr")" [ "$(claims "$ctr")" = 1 ]
done
daemon_alive || die "ionswitchd died of a malformed claim"
# the first gate: without the socket's group, no connection at all
conns=$(claims connections)
rc=0
stage_run 65534 1 ion-rogue claim "$sock" app7 2>"$work/nogroup.log" || rc=$?
check "uid 65534 without group nogroup cannot connect: $(cat "$work/nogroup.log")" \
	sh -c "[ $rc = 3 ] && grep -q 'Permission denied' '$work/nogroup.log' &&
		[ '$(claims connections)' = '$conns' ]"

# --- the wrong uid
rc=0
"${nobody[@]}" ion-rogue claim "$sock" lwf-sink 2>"$work/uid.log" || rc=$?
check "uid 65534 refused lwf-sink (uid 0): $(cat "$work/uid.log")" \
	sh -c "[ $rc = 3 ] && grep -q 'uid 65534 gid 65534 may not claim' '$work/uid.log'"
rc=0
"$rogue" claim "$sock" app7 2>"$work/uid0.log" || rc=$?
check "uid 0 refused app7 (uid 65534)" sh -c "[ $rc = 3 ]"
check "refusals counted: lwf-sink $(field lwf-sink external refused), app7 $(field app7 external refused)" \
	sh -c "[ '$(field lwf-sink external refused)' = 1 ] && [ '$(field app7 external refused)' = 1 ]"
check "logged: uid 65534's refusal, with its pid" \
	grep -q "claims: process [0-9]* (uid 65534) refused, EACCES: uid 65534 gid 65534 may not claim fiber 'lwf-sink'" "$DAEMON_LOG"

# --- killed in the middle of a burst, then claimed again
send utcp_ok=200
wait_for "200 payloads in port 7's ring" enqueued_is 0x0710 200
rc=0
"${nobody[@]}" ion-rogue consume "$sock" app7 100 die >"$work/first.out" 2>"$work/first.log" || rc=$?
check "app7's first claimer died mid-burst (exit $rc) after $(wc -l <"$work/first.out") messages" \
	sh -c "[ $rc = 137 ] && [ \$(wc -l <'$work/first.out') = 103 ]"
wait_for "app7 KILLED" in_state app7 KILLED
check "app7 killed by signal 9, 7 skipped: $(field app7 why)" sh -c "
	echo '$(field app7 why)' | grep -q 'signal 9' && [ '$(field app7 external skipped)' = 7 ]"
rc=0
"${nobody[@]}" ion-rogue consume "$sock" app7 93 >"$work/second.out" 2>"$work/second.log" || rc=$?
check "app7 restarted by a new claim, which handled the rest (exit $rc)" \
	sh -c "[ $rc = 0 ] && [ \$(wc -l <'$work/second.out') = 93 ]"
check "no message handled twice, 4 never arrived" python3 - "$work/first.out" "$work/second.out" <<'EOF'
import sys
seen = [int(l.split()[1]) for f in sys.argv[1:] for l in open(f)]
assert len(seen) == len(set(seen)) == 196, len(seen)
assert seen == sorted(seen), "out of order"
assert set(range(200)) - set(seen) == {103, 104, 105, 106}, set(range(200)) - set(seen)
EOF
wait_for "app7 given back" in_state app7 WAITING
check "app7's claims: 2, deaths 1, given back 1" sh -c "
	[ '$(field app7 external claims)' = 2 ] && [ '$(field app7 external deaths)' = 1 ] &&
	[ '$(field app7 external given_back)' = 1 ]"

# --- the examples' UTCP consumer
send utcp_ok=5
# bounded: the example waits for its payloads as long as the daemon lives
"${nobody[@]}" timeout 30 "$H_STAGE/utcp-consumer" ion-ext app7 5 >"$work/example.out" 2>&1 || true
check "utcp-consumer printed the 5 payloads" sh -c \
	"[ \$(grep -c '^from port 4000: payload' '$work/example.out') = 5 ]"

# --- the NetSwitch and a killed fiber's ring
"$ionctl" -s "$con" kill fiber raw >"$work/kill.out" 2>&1 || true
check "console: raw KILLED" sh -c "'$ionctl' -s '$con' show fibers | grep raw | grep -q 'KILLED.*killed by the operator'"
send unknown=300
sleep 1
check "NetSwitch: 256 into raw's ring, 44 dropped full" python3 - "$(telemetry /ion/routes)" <<'EOF'
import json, sys
r = json.loads(sys.argv[1])["/ion/routes"]["0x1234"]
assert r["rx"] == 300 and r["delivered"] == 256 and r["full"] == 44 and r["oversize"] == 0, r
EOF
check "ping with raw's ring full: $(pings 20)/20" [ "$(pings 20)" -eq 20 ]

# --- the fault and its reason wherever the counters go
"$ionctl" -s "$con" show fibers >"$work/show.txt" 2>&1 || true
check "console: show fibers says why" sh -c "
	grep -A1 'name=rogue' '$work/show.txt' | grep -q 'why=capability fault: wrote 0x0711' &&
	grep asker '$work/show.txt' | grep -q 'fault_channel=0x0500'"

daemon_alive || die "ionswitchd died"
daemon_stop
check "totals: the faults, the reasons, and the rings add up" python3 - "$work/totals.json" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
f = {x["name"]: x for x in t["fibers"]}
r = {x["channel"]: x for x in t["rings"]}
assert f["rogue"]["state"] == "KILLED" and f["rogue"]["fault_channel"] == 0x0711, f["rogue"]
assert "capability fault" in f["rogue"]["why"], f["rogue"]
assert f["asker"]["fault_needs"] == "r" and f["asker"]["external"]["faults"] == 1
assert f["app7"]["external"]["skipped"] == 7
for ch, ring in r.items():
    assert ring["enqueued"] == ring["dequeued"] + ring["abandoned"] + ring["used"], ring
assert r[0x0710]["abandoned"] == 7 and r[0x0710]["enqueued"] == 205
assert f["utcp"]["utcp"]["delivered"] == 205 and f["utcp"]["utcp"]["app_full"] == 0
assert r[0x0800]["enqueued"] == 256 and r[0x0800]["dropped"] == 44
c = t["claims"]
reasons = ("unknown", "in_host", "denied", "busy", "dead", "vanished", "bad_fd",
           "bad_length", "bad_magic", "bad_version", "out_of_order", "late",
           "uid_limit", "full")
assert c["refused"] == sum(c[k] for k in reasons), c
assert c["denied"] == 2 and c["dead"] == 1 and c["unknown"] == 1, c
assert c["refused"] == sum(x["external"]["refused"] for x in f.values()
                           if "external" in x) + 6, c
route = {x["ethertype"]: x for x in t["routes"]}
for et, x in route.items():
    assert x["rx"] == x["delivered"] + x["full"] + x["oversize"], x
    if et != 0x1234:
        assert x["full"] == 0, x
EOF

harness_done "external fibers"
