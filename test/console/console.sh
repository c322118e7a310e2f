#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# ionswitchd's console end to end: the daemon on net_virtio_user with
# dpdk-testpmd as the vhost-user peer (test/lib.sh), like
# test/ionswitchd/integration/integration.sh, under names of its own
# (file prefix ion-co, TAP ionco0 in the network namespace ion-co,
# /run/ion-co) so it runs beside those.
#
#   console.sh BUILD_DIR
#
# Over the UNIX socket (ionctl and socat): "show rings" lists every ring of
# the config, "show fibers" every fiber and its state, "kill fiber utcp"
# kills utcp alone and the lwf fiber keeps handling traffic, unknown
# commands and fibers are errors, several clients at once, "quit" ends a
# session only, "shutdown" stops the daemon cleanly.  Then ionswitchd -i
# with commands on a pipe, and -i refused without a console fiber.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/lib.sh
. "$here/../lib.sh"
harness_init ion-co "${1:?build dir}"
build=$H_BUILD
work=$H_WORK
top=$ION_TOP
iface=ionco0
conf=$here/console.conf
sock=/run/ionswitchd/ion-co.sock # the default: /run/ionswitchd/<prefix>.sock
daemon=$build/app/ionswitchd/ionswitchd
ionctl=$build/app/ionctl/ionctl

# expect STATUS CMD...: run CMD, its stdout+stderr to $work/out, and
# check its exit status
expect() {
	local want=$1 rc=0
	shift
	"$@" >"$work/out" 2>&1 || rc=$?
	[ "$rc" -eq "$want" ] || die "'$*' exited $rc, expected $want: $(cat "$work/out")"
}

# The config's channel ids and fiber names: what the console must list.
conf_rings=$(grep -o 'id = 0x[0-9a-fA-F]*' "$conf" | awk '{print tolower($3)}' | sort)
conf_fibers=$(grep -o 'name = "[^"]*"; lcore' "$conf" | cut -d'"' -f2)
[ "$(echo "$conf_rings" | wc -l)" -eq 8 ] || die "parsing $conf: rings $conf_rings"

# The text of the counter tables (docs/console.md): a row per ring, fiber,
# ... as "[label=value ...] counter value counter value ...".
# rings_listed FILE: the channel ids of a "show rings" reply
rings_listed() { grep -o '^    \[channel=0x[0-9a-f]*' "$1" | cut -d= -f2 | sort; }

# fiber_state FILE NAME: NAME's state in a "show fibers" reply
fiber_state() { grep "^    \[name=$2 " "$1" | grep -o 'state=[A-Z]*' | cut -d= -f2; }
# fiber_frames FILE NAME: the frames NAME has read
fiber_frames() { grep -A1 "^    \[name=$2 " "$1" | grep -o ' frames [0-9]*' | awk '{print $2}'; }

# The test host: the netns ion-co, with the peer's TAP; it sends raw
# frames only (traffic.py), so the TAP needs no address.
peer_start "$H_RUN/vhost.sock" "$iface" ""

# ---- the socket, served by a daemon started without -i ----
daemon_start "$conf" --totals-json "$work/totals.json"
wait_for "console socket $sock" test -S "$sock"

expect 0 "$ionctl" -p ion-co show rings
cp "$work/out" "$work/rings.txt"
[ "$(rings_listed "$work/rings.txt")" = "$conf_rings" ] ||
	die "ionctl show rings lists $(rings_listed "$work/rings.txt" | xargs), config has $(echo $conf_rings)"
echo "ok: ionctl show rings lists the config's $(echo "$conf_rings" | wc -l) rings"

# socat: plain lines in, the reply then the prompt out
echo 'show rings' | socat -t 5 - "UNIX-CONNECT:$sock" >"$work/socat.txt" ||
	die "socat: $(cat "$work/socat.txt")"
[ "$(rings_listed "$work/socat.txt")" = "$conf_rings" ] ||
	die "socat show rings lists $(rings_listed "$work/socat.txt" | xargs)"
grep -q '^ionswitchd> ' "$work/socat.txt" || die "socat: no prompt: $(cat "$work/socat.txt")"
echo "ok: show rings over socat"

expect 0 "$ionctl" -s "$sock" show fibers
cp "$work/out" "$work/fibers.txt"
for f in $conf_fibers; do
	[ "$(fiber_state "$work/fibers.txt" "$f")" = RUNNING ] ||
		die "show fibers: $f not RUNNING: $(cat "$work/fibers.txt")"
done
echo "ok: show fibers lists $(echo $conf_fibers) RUNNING"

# errors: a reply "error: ...", exit status 1; unreachable: 2
expect 1 "$ionctl" -p ion-co frobnicate
grep -q "^error: unknown command 'frobnicate'" "$work/out" || die "unknown command: $(cat "$work/out")"
expect 1 "$ionctl" -p ion-co kill fiber nosuch
grep -q "^error: no fiber named 'nosuch'" "$work/out" || die "unknown fiber: $(cat "$work/out")"
expect 1 "$ionctl" -p ion-co kill fiber console
grep -q "^error: fiber 'console' runs this console" "$work/out" || die "kill console: $(cat "$work/out")"
expect 1 "$ionctl" -p ion-co show "$(printf 'x%.0s' $(seq 300))"
grep -q "^error: command line too long" "$work/out" || die "overlong line: $(cat "$work/out")"
expect 2 "$ionctl" -s "$work/nobody.sock" help
grep -q "$work/nobody.sock" "$work/out" || die "unreachable: $(cat "$work/out")"
echo "ok: unknown command, unknown fiber, the console itself, overlong line, no daemon"

# several clients at once, each gets its own reply
pids=
for i in $(seq 6); do
	"$ionctl" -p ion-co show fibers >"$work/par$i.txt" 2>&1 &
	pids="$pids $!"
	"$ionctl" -p ion-co show rings >"$work/parr$i.txt" 2>&1 &
	pids="$pids $!"
done
for p in $pids; do wait "$p" || die "a concurrent ionctl failed"; done
for i in $(seq 6); do
	[ "$(fiber_state "$work/par$i.txt" lwf)" = RUNNING ] || die "client $i: $(cat "$work/par$i.txt")"
	grep -q "^  rings$" "$work/par$i.txt" && die "client $i got a rings reply"
	[ "$(rings_listed "$work/parr$i.txt")" = "$conf_rings" ] || die "client $i: $(cat "$work/parr$i.txt")"
done
echo "ok: 12 clients at once"

# ionctl without a command: lines from a pipe, 1 if any failed
printf 'show rings\nbogus\nshow fibers\n' | "$ionctl" -p ion-co >"$work/script.txt" 2>&1 && die "ionctl script with an error exited 0"
[ "$(rings_listed "$work/script.txt")" = "$conf_rings" ] && grep -q "^error: unknown command 'bogus'" "$work/script.txt" &&
	[ "$(fiber_state "$work/script.txt" console)" = RUNNING ] || die "ionctl script: $(cat "$work/script.txt")"
printf 'help\nquit\n' | "$ionctl" -p ion-co >"$work/script.txt" 2>&1 || die "ionctl script: $(cat "$work/script.txt")"
grep -q '^bye' "$work/script.txt" || die "ionctl script, quit: $(cat "$work/script.txt")"
echo "ok: ionctl reads commands from a pipe"

# quit ends that session only
printf 'quit\n' | socat -t 5 - "UNIX-CONNECT:$sock" >"$work/quit.txt"
grep -q '^bye' "$work/quit.txt" || grep -q '> bye' "$work/quit.txt" || die "quit: $(cat "$work/quit.txt")"
sleep 0.2
daemon_alive || die "quit on a socket session stopped the daemon"
expect 0 "$ionctl" -p ion-co help
echo "ok: quit ends the socket session, the daemon runs on"

# kill fiber utcp: utcp KILLED, the others keep running and handling frames
expect 0 "$ionctl" -p ion-co kill fiber utcp
grep -q "fiber 'utcp' killed" "$work/out" || die "kill fiber utcp: $(cat "$work/out")"
expect 1 "$ionctl" -p ion-co kill fiber utcp
grep -q "already KILLED" "$work/out" || die "kill twice: $(cat "$work/out")"
expect 0 "$ionctl" -p ion-co show fibers
cp "$work/out" "$work/killed.txt"
for f in $conf_fibers; do
	want=RUNNING
	[ "$f" = utcp ] && want=KILLED
	[ "$(fiber_state "$work/killed.txt" "$f")" = $want ] ||
		die "after kill fiber utcp: $f not $want: $(cat "$work/killed.txt")"
done
TRAFFIC_RATE=5000 host_exec python3 "$top/test/ionswitchd/traffic.py" sendsniff "$iface" \
	lwf_ok=100,utcp_ok=50 3 >"$work/traffic.json"
for _ in $(seq 50); do
	"$ionctl" -p ion-co show fibers >"$work/after.txt"
	n=$(fiber_frames "$work/after.txt" lwf)
	[ "${n:-0}" -ge 100 ] && break
	sleep 0.1
done
echo "ok: kill fiber utcp; traffic sent afterwards: $(cat "$work/traffic.json")"

# shutdown over the socket: drain, totals, exit 0
expect 0 "$ionctl" -p ion-co shutdown
grep -q "shutting down" "$work/out" || die "shutdown: $(cat "$work/out")"
# exit 0, no hugepage file nor socket left behind
daemon_wait "shutdown over the socket"
[ ! -e "$sock" ] || die "console socket $sock left behind after shutdown"
grep -q "shutdown from the console: stopping RX" "$work/daemon.log" || die "no shutdown in the log"
python3 - "$work/totals.json" "$work/traffic.json" <<'EOF' || die "totals after kill fiber utcp"
import json, sys
tot = json.load(open(sys.argv[1]))
back = json.load(open(sys.argv[2])).get("back", {})
fibers = {f["name"]: f for f in tot["fibers"]}
rings = {r["channel"]: r for r in tot["rings"]}
errors = []
def expect(cond, what):
    if not cond:
        errors.append(what)
lwf, utcp = fibers["lwf"], fibers["utcp"]
expect(utcp["state"] == "KILLED" and utcp["frames"] == 0, f"utcp: {utcp}")
expect("fault_channel" not in utcp, f"utcp was killed, not faulted: {utcp}")
# the 50 UTCP frames wait in utcp-rx: nobody reads it any more
expect(rings[0x0700]["enqueued"] == 50 and rings[0x0700]["dequeued"] == 0,
       f"utcp-rx: {rings[0x0700]}")
expect(lwf["state"] == "DONE" and lwf["frames"] == 100 and lwf["lwf"]["ok"] == 100,
       f"lwf did not handle the 100 frames: {lwf}")
expect(back.get("sniff_drops", 0) == 0, f"the sniffer dropped {back.get('sniff_drops')} frames")
expect(lwf["sent"] == 100 and back.get("0x4c57", 0) == 100,
       f"lwf reflected {lwf['sent']}, came back {back.get('0x4c57', 0)}")
expect(fibers["membrane"]["state"] == "DONE", f"membrane: {fibers['membrane']}")
expect(fibers["console"]["state"] == "DONE", f"console: {fibers['console']}")
# the console rings: every command read, every reply slot read
for ch in (0x1000, 0x1001):
    expect(rings[ch]["enqueued"] == rings[ch]["dequeued"], f"ring 0x{ch:04x}: {rings[ch]}")
for e in errors:
    print("  " + e)
sys.exit(1 if errors else 0)
EOF
echo "ok: shutdown: exit 0, no hugepage file, socket removed; lwf handled 100 frames after utcp was killed"

# reply FILE: the console's reply in an -i log, from the prompt to the
# daemon's "stopping" line (the totals block after it has rings too)
reply() { sed -n '/^ionswitchd> /,/stopping RX/p' "$1"; }

# ---- ionswitchd -i, commands on a pipe ----
rc=0
printf 'show fibers\nquit\n' | "$daemon" -- -c "$conf" -i >"$work/daemon.log" 2>&1 || rc=$?
[ $rc -eq 0 ] || die "ionswitchd -i exited $rc"
reply "$work/daemon.log" >"$work/i-fibers.txt"
for f in $conf_fibers; do
	[ "$(fiber_state "$work/i-fibers.txt" "$f")" = RUNNING ] ||
		die "ionswitchd -i: show fibers: $f not RUNNING: $(cat "$work/i-fibers.txt")"
done
grep -q '^bye' "$work/daemon.log" || die "ionswitchd -i: no reply to quit"
grep -q "quit on the interactive console: stopping RX" "$work/daemon.log" || die "-i: quit did not stop it"
daemon_files_gone "-i"
[ ! -e "$sock" ] || die "console socket $sock left behind by -i"
echo "ok: ionswitchd -i: show fibers, quit: exit 0, hugepage files removed"

# end of input is quit too; meanwhile a client on --console-socket
alt=/run/ion-co/console.sock
rc=0
{
	for _ in $(seq 100); do [ -S "$alt" ] && break; sleep 0.1; done
	"$ionctl" -s "$alt" show fibers >"$work/alt.txt" 2>&1 || true
	printf 'show rings\n'
} | "$daemon" -- -c "$conf" -i --console-socket "$alt" >"$work/daemon.log" 2>&1 || rc=$?
[ $rc -eq 0 ] || die "ionswitchd -i, EOF: exited $rc"
[ "$(fiber_state "$work/alt.txt" utcp)" = RUNNING ] || die "--console-socket $alt: $(cat "$work/alt.txt")"
[ ! -e "$alt" ] || die "console socket $alt left behind"
reply "$work/daemon.log" >"$work/i-rings.txt"
[ "$(rings_listed "$work/i-rings.txt")" = "$conf_rings" ] ||
	die "ionswitchd -i: show rings: $(cat "$work/i-rings.txt")"
grep -q "end of input on the console: stopping RX" "$work/daemon.log" || die "-i: EOF did not stop it"
echo "ok: ionswitchd -i: end of input stops the daemon; --console-socket served meanwhile"

# tiny console rings: a reply takes many slots over several steps of the
# fiber (2 slots of 64 bytes), lines are cut inside; a line longer than an
# input slot (16 bytes) is refused
sed -e 's/{ id = 0x1000; name = "con-rx"; }/{ id = 0x1000; name = "con-rx"; slots = 2; slot_size = 16; }/' \
	-e 's/{ id = 0x1001; name = "con-tx"; }/{ id = 0x1001; name = "con-tx"; slots = 2; slot_size = 64; }/' \
	"$conf" >"$work/tiny.conf"
grep -q 'slot_size = 64' "$work/tiny.conf" || die "tiny.conf"
rc=0
printf 'show fibers\nkill fiber membrane\nshow rings\nquit\n' |
	"$daemon" -- -c "$work/tiny.conf" -i >"$work/daemon.log" 2>&1 || rc=$?
[ $rc -eq 0 ] || die "ionswitchd -i, tiny rings: exited $rc"
reply "$work/daemon.log" >"$work/tiny.txt"
for f in $conf_fibers; do
	[ "$(fiber_state "$work/tiny.txt" "$f")" = RUNNING ] || die "tiny rings: $f: $(cat "$work/tiny.txt")"
done
grep -q '^      utcp: ok 0 too_short 0 bad_version 0 bad_length 0 bad_checksum 0 not_utcp 0 delivered 0$' \
	"$work/tiny.txt" || die "tiny rings: a line cut across slots came back changed: $(cat "$work/tiny.txt")"
grep -q "^error: command line too long (more than 16 bytes): 'kill fiber membr" "$work/tiny.txt" ||
	die "tiny rings: no refusal of a line longer than a slot: $(cat "$work/tiny.txt")"
[ "$(rings_listed "$work/tiny.txt")" = "$conf_rings" ] || die "tiny rings: show rings: $(cat "$work/tiny.txt")"
echo "ok: replies over many 64-byte slots come back whole; a line longer than a slot is refused"

# no console fiber: -i and --console-socket are refused before anything starts
rc=0
"$daemon" -- -c "$top/test/ionswitchd/integration/mix.conf" -i </dev/null >"$work/out" 2>&1 || rc=$?
[ $rc -eq 1 ] && grep -q "no console fiber" "$work/out" || die "-i without a console fiber: $rc $(cat "$work/out")"
echo "ok: -i refused without a console fiber"
echo "PASS: console"
