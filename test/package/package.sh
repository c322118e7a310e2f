#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The Debian packages end to end, on this machine:
#   1. build them (dpkg-buildpackage -b) from a copy of the tree, so the
#      tree itself is not touched; lintian finds nothing but its overrides;
#   2. install them (apt-get install ./*.deb), check the files, conffiles,
#      units (systemd-analyze verify) and that the service is not enabled;
#   3. start the service: with systemctl where systemd is PID 1, otherwise
#      by hand: each unit's ExecCondition/ExecStartPre/ExecStart/
#      ExecStartPost as the installed unit file writes them, with its
#      EnvironmentFile, inside the sandbox its hardening options describe
#      (sandbox.sh: what util-linux can reproduce of them);
#   4. the daemon answers: its console (ionctl show fibers), ping and HTTP
#      through the membrane from a test host in a network namespace (the
#      peer's TAP moved there);
#   5. SIGTERM (KillSignal=): exit 0, no hugepage file left; then the time
#      a restart costs, from SIGTERM to ping answering again;
#   6. apt-get purge: nothing of the packages is left (their files,
#      /etc/ionswitchd, /etc/default/ionswitchd, /var/lib/ionswitchd,
#      /run/ionswitchd, units and their enablement state).
#
#   package.sh SOURCE_ROOT
#
#   KEEP_LOGS=1  keep the work dir (packages, logs) when the test passes
set -euo pipefail

top=$(cd "${1:?source root}" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d /tmp/ion-pkg.XXXXXX)
pkgs=(libion libion-dev ionswitchd ion-bench)
units=/lib/systemd/system
conf=/etc/ionswitchd/ionswitchd.conf
# the test host: a netns of this test's own, the peer's TAP moved there
ns=ion-pkg
iface=ionpkg0
me=192.168.77.2 # the shipped config's membrane
host_addr=192.168.77.1/24
marker=/run/ion-pkg-test.installed
mode=
daemon_pid=
peer_pid=
t_start=$SECONDS

say() { echo "package: $*"; }

die() {
	echo "FAIL: $*" >&2
	for f in daemon.log peer.log; do
		if [ -s "$work/$f" ]; then
			echo "--- $f" >&2
			tail -30 "$work/$f" >&2
		fi
	done
	exit 1
}

# timed NAME CMD...: CMD, and how long it took
declare -A took
timed() {
	local name=$1 t0=$SECONDS
	shift
	"$@"
	took[$name]=$((SECONDS - t0))
}

cleanup() {
	local rc=$?
	set +e
	if [ -n "$daemon_pid" ]; then kill -KILL "$daemon_pid" 2>/dev/null; fi
	if [ -n "$peer_pid" ]; then kill -KILL "$peer_pid" 2>/dev/null; fi
	ip netns del "$ns" 2>/dev/null
	if [ -e "$marker" ]; then
		if [ "$mode" = systemd ]; then systemctl stop ionswitchd; fi
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${pkgs[@]}" >/dev/null 2>&1
		rm -f "$marker"
	fi
	rm -rf /dev/hugepages/ionswitchd* /run/dpdk/ionswitchd* /run/ionswitchd
	if [ $rc -ne 0 ] || [ "${KEEP_LOGS:-0}" = 1 ]; then
		echo "logs in $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# --- 1. build and lint ------------------------------------------------------

copy_tree() {
	mkdir -p "$work/src/ion-rings"
	if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
		# what git tracks, and new files it does not ignore
		git -C "$top" ls-files -z -co --exclude-standard |
			(cd "$top" && tar --null -cf - -T -) | tar -xf - -C "$work/src/ion-rings"
		# and Debian's lwIP source, which git ignores (fetch-lwip.sh)
		tar -C "$top" -cf - lib/membrane/lwip/upstream | tar -xf - -C "$work/src/ion-rings"
	else
		tar -C "$top" --exclude='./build*' --exclude='./obj-*' -cf - . |
			tar -xf - -C "$work/src/ion-rings"
	fi
}

build() {
	copy_tree
	(cd "$work/src/ion-rings" &&
		DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
			dpkg-buildpackage -b -uc -us) >"$work/build.log" 2>&1 ||
		{ tail -30 "$work/build.log"; die "dpkg-buildpackage failed"; }
	ls "$work"/src/*.deb >/dev/null || die "no package built"
	say "built: $(cd "$work/src" && echo *.deb)"
}

lint() {
	local out
	# every tag counts, informational and pedantic included; the
	# packages' overrides say why each one they silence is there
	if ! out=$(lintian -I --pedantic --fail-on error,warning,info,pedantic \
		"$work"/src/*.changes 2>&1); then
		echo "$out"
		die "lintian found tags"
	fi
	say "lintian: clean ($(lintian -I --pedantic --show-overrides "$work"/src/*.changes 2>/dev/null |
		grep -c '^O:') tags overridden, each with its reason)"
}

# --- 2. install --------------------------------------------------------------

install_pkgs() {
	local debs=() p
	if dpkg-query -W -f='${Status}' ionswitchd 2>/dev/null | grep -q installed; then
		[ -e "$marker" ] || die "ionswitchd is installed and not by this test: purge it first"
		say "purging what a killed run of this test left installed"
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${pkgs[@]}" >/dev/null
	fi
	for p in "${pkgs[@]}"; do debs+=("$(ls "$work"/src/"${p}"_*.deb)"); done
	touch "$marker"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${debs[@]}" >"$work/install.log" 2>&1 ||
		{ cat "$work/install.log"; die "apt-get install failed"; }
	for p in "${pkgs[@]}"; do dpkg -L "$p"; done | sort -u >"$work/files"
}

check_installed() {
	local f u
	for f in /usr/bin/ionswitchd /usr/bin/ionctl /usr/bin/ion-lwf-sink /usr/bin/ion-bench \
		"$conf" /etc/default/ionswitchd /usr/include/ion/ion_ring.h \
		/usr/share/man/man8/ionswitchd.8.gz /usr/share/man/man5/ionswitchd.conf.5.gz \
		/usr/share/man/man8/ionctl.8.gz /usr/share/man/man1/ion-bench.1.gz \
		/var/lib/ionswitchd/www/index.html "$units/ionswitchd.service" \
		"$units/ionswitchd-peer.service" "$units/ionswitchd-hugepages.service"; do
		[ -e "$f" ] || die "$f not installed"
	done
	pkg-config --exists libion libion_dpdk || die "libion.pc or libion_dpdk.pc not found"
	cmp -s "$conf" "$top/config/ionswitchd.conf" || die "$conf is not config/ionswitchd.conf"
	for f in "$conf" /etc/default/ionswitchd; do
		grep -qx "$f" /var/lib/dpkg/info/ionswitchd.conffiles || die "$f is not a conffile"
	done
	# what systemd would say of the units when it loads them
	for u in ionswitchd ionswitchd-peer ionswitchd-hugepages; do
		systemd-analyze verify --man=no "$units/$u.service" >"$work/verify.log" 2>&1 ||
			{ cat "$work/verify.log"; die "systemd-analyze verify $u.service"; }
	done
	[ -z "$(find /etc/systemd/system -name 'ionswitchd*' 2>/dev/null)" ] ||
		die "ionswitchd.service was enabled at install"
	ionswitchd -- -c "$conf" --check >/dev/null || die "the installed config does not pass --check"
	say "installed: $(wc -l <"$work/files") paths; conffiles, units, man pages, libion.pc in place; not enabled"
}

# --- 3. start ---------------------------------------------------------------

# unit_lines UNIT KEY: the command lines of KEY in UNIT, with their
# prefixes ("-", "+", ...)
unit_lines() {
	sed -n "s/^$2=//p" "$units/$1.service"
}

# unit_run UNIT KEY [bg]: run KEY's commands as systemd would, with the
# unit's EnvironmentFile and sandbox; bg: the last one in the background,
# its pid in $bg_pid, output in $work/UNIT.log
unit_run() {
	local unit=$1 key=$2 bg=${3:-} line sandbox
	local -a argv
	while IFS= read -r line; do
		# "+": full privileges, no sandbox; the other prefixes do not
		# change how the command runs here
		sandbox=("$here/sandbox.sh" "$units/$unit.service")
		while [[ $line == [-+!@:]* ]]; do
			[[ $line == +* ]] && sandbox=()
			line=${line:1}
		done
		# EnvironmentFile=-/etc/default/ionswitchd; systemd splits an
		# unquoted $VAR on white space as the shell does
		# shellcheck disable=SC1091 # installed by the package
		mapfile -d '' argv < <(set -a && . /etc/default/ionswitchd &&
			eval "printf '%s\\0' $line")
		# and the file's variables are the command's environment
		# shellcheck disable=SC1091
		if [ -n "$bg" ]; then
			(set -a && . /etc/default/ionswitchd &&
				exec "${sandbox[@]}" "${argv[@]}" \
					</dev/null >>"$work/$unit.log" 2>&1) &
			bg_pid=$!
		else
			(set -a && . /etc/default/ionswitchd &&
				exec "${sandbox[@]}" "${argv[@]}" \
					</dev/null >>"$work/$unit.log" 2>&1) || return 1
		fi
	done < <(unit_lines "$unit" "$key")
}

wait_for() { # wait_for WHAT CMD...: 10 s at most
	local what=$1 end=$((SECONDS + 10))
	shift
	while [ $SECONDS -lt $end ]; do
		"$@" && return 0
		sleep 0.1
	done
	die "no $what after 10 s"
}

tap_started() { ip link show "$iface" 2>/dev/null | grep PROMISC >/dev/null; }
console_up() { ionctl -t 2 help >/dev/null 2>&1; }

start_by_hand() {
	unit_run ionswitchd-hugepages ExecStart || die "ionswitchd-hugepages failed: $(tail -3 "$work/ionswitchd-hugepages.log")"
	unit_run ionswitchd-peer ExecCondition || die "the peer's ExecCondition says no peer for the shipped config"
	mkdir -p /run/ionswitchd # RuntimeDirectory=
	unit_run ionswitchd-peer ExecStart bg
	peer_pid=$bg_pid
	unit_run ionswitchd-peer ExecStartPost || die "the peer did not come up: $(tail -5 "$work/ionswitchd-peer.log")"
	unit_run ionswitchd ExecStartPre || die "ExecStartPre (--check) failed: $(tail -3 "$work/ionswitchd.log")"
	unit_run ionswitchd ExecStart bg
	daemon_pid=$bg_pid
	wait_for "console socket" console_up
}

start_systemd() {
	systemctl start ionswitchd || die "systemctl start ionswitchd: $(journalctl -u ionswitchd -n 20 --no-pager)"
	systemctl is-active -q ionswitchd-peer || die "ionswitchd-peer is not active"
	wait_for "console socket" console_up
}

start() {
	if [ "$mode" = systemd ]; then start_systemd; else start_by_hand; fi
}

# --- 4. it answers ------------------------------------------------------------

host_up() {
	# the TAP leaves the root namespace once testpmd started its port
	wait_for "TAP $iface" tap_started
	ip netns del "$ns" 2>/dev/null || true
	ip netns add "$ns"
	ip -netns "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip link set "$iface" netns "$ns"
	ip -netns "$ns" addr add "$host_addr" dev "$iface"
	ip -netns "$ns" link set "$iface" up
}

pinged() { ip netns exec "$ns" ping -c 1 -W 0.2 "$me" >/dev/null 2>&1; }

check_answers() {
	local fibers got page
	fibers=$(ionctl show fibers) || die "ionctl show fibers failed"
	[ "$(grep -c RUNNING <<<"$fibers")" -eq 5 ] || die "not every fiber RUNNING: $fibers"
	host_up
	wait_for "ping answer" pinged
	got=$(ip netns exec "$ns" ping -c 20 -i 0.05 -W 1 "$me" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
	[ "${got:-0}" -eq 20 ] || die "ping: ${got:-0} of 20 answered"
	page=$(ip netns exec "$ns" curl -sS -m 5 "http://$me/") || die "curl failed"
	[ "$page" = "$(cat /var/lib/ionswitchd/www/index.html)" ] || die "the membrane served '$page'"
	say "answers: ionctl show fibers (5 RUNNING), ping 20/20, HTTP GET / = the packaged page"
}

# --- 5. stop, restart ---------------------------------------------------------

hugepage_files() { find /dev/hugepages -maxdepth 1 -name 'ionswitchdmap_*' -printf '%f '; }

stop_daemon() {
	local rc=0
	if [ "$mode" = systemd ]; then
		systemctl stop ionswitchd
		rc=$(systemctl show -p ExecMainStatus --value ionswitchd)
	else
		kill -"$(sed -n 's/^KillSignal=SIG//p' "$units/ionswitchd.service")" "$daemon_pid"
		wait "$daemon_pid" || rc=$?
		daemon_pid=
	fi
	[ "$rc" -eq 0 ] || die "ionswitchd exited $rc after SIGTERM"
	[ -z "$(hugepage_files)" ] || die "hugepage files left: $(hugepage_files)"
	[ "$mode" = systemd ] || unit_run ionswitchd ExecStopPost
}

stop_peer() {
	[ "$mode" = systemd ] && return 0 # PartOf=: it stopped with ionswitchd
	kill -TERM "$peer_pid"
	wait "$peer_pid" || true
	peer_pid=
	unit_run ionswitchd-peer ExecStopPost
	rm -rf /run/ionswitchd # the end of RuntimeDirectory=
}

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# What a restart costs, from SIGTERM to the membrane answering ping again:
#   the daemon alone   what Restart=on-failure does (less its RestartSec=):
#                      the peer and the test host stay;
#   with its peer      what `systemctl restart ionswitchd` does (the peer is
#                      PartOf= it): both stop, both start, and the new TAP
#                      goes to the test host again.
restart_daemon() {
	local t0
	[ "$mode" = systemd ] && return 0 # systemctl restarts the peer too
	t0=$(date +%s%N)
	stop_daemon
	unit_run ionswitchd ExecStartPre || die "ExecStartPre failed at restart"
	unit_run ionswitchd ExecStart bg
	daemon_pid=$bg_pid
	wait_for "ping after the restart" pinged
	say "restart of the daemon alone: the membrane answers ping $(ms_since "$t0") ms after SIGTERM"
}

restart_all() {
	local t0
	t0=$(date +%s%N)
	if [ "$mode" = systemd ]; then
		systemctl restart ionswitchd
	else
		stop_daemon
		stop_peer
		start_by_hand
	fi
	host_up
	wait_for "ping after the restart" pinged
	say "restart with the peer (systemctl restart): the membrane answers ping $(ms_since "$t0") ms after SIGTERM"
}

# --- 6. purge -----------------------------------------------------------------

purge() {
	local left f
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${pkgs[@]}" >"$work/purge.log" 2>&1 ||
		{ cat "$work/purge.log"; die "apt-get purge failed"; }
	rm -f "$marker"
	for f in "${pkgs[@]}"; do
		if dpkg-query -W -f='${Status}\n' "$f" 2>/dev/null | grep -qv 'not-installed'; then
			die "$f still known to dpkg after purge: $(dpkg-query -W -f='${Status}' "$f")"
		fi
	done
	left=$(while read -r f; do
		if [ -e "$f" ] && [ ! -d "$f" ]; then echo "$f"; fi
	done <"$work/files")
	[ -z "$left" ] || die "files left after purge: $left"
	for f in /etc/ionswitchd /etc/default/ionswitchd /var/lib/ionswitchd /run/ionswitchd \
		/run/dpdk/ionswitchd /run/dpdk/ionswitchd-peer /usr/libexec/ionswitchd /usr/share/ionswitchd; do
		[ ! -e "$f" ] || die "$f left after purge"
	done
	left=$(find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled \
		/var/lib/systemd/deb-systemd-helper-masked -name '*ionswitchd*' 2>/dev/null || true)
	[ -z "$left" ] || die "unit state left after purge: $left"
	left=$(find /dev/hugepages -maxdepth 1 -name 'ionswitchd*' -printf '%f ')
	[ -z "$left" ] || die "hugepage files left after purge: $left"
	say "purged: no file, conffile, unit, unit state, run dir or hugepage file left"
}

# --- the run ------------------------------------------------------------------

if [ "$(systemctl is-system-running 2>/dev/null || true)" = offline ] ||
	[ ! -d /run/systemd/system ]; then
	mode=by-hand
	say "systemd is not PID 1 here ('systemctl is-system-running': $(systemctl is-system-running 2>&1 || true)):" \
		"running the units' Exec lines by hand, in sandbox.sh's emulation of their hardening"
else
	mode=systemd
	say "systemd is PID 1: systemctl start/restart/stop"
fi

timed build build
timed lint lint
timed install install_pkgs
check_installed
# the peer's TAP: a name of this test's own
sed -i "s/^IONSWITCHD_PEER_IFACE=.*/IONSWITCHD_PEER_IFACE=\"$iface\"/" /etc/default/ionswitchd
[ "$mode" = systemd ] && systemctl daemon-reload
timed start start
check_answers
timed restart restart_daemon
timed restart_all restart_all
check_answers_again() {
	[ "$(ionctl show fibers | grep -c RUNNING)" -eq 5 ] || die "not every fiber RUNNING after the restart"
}
check_answers_again
timed stop stop_daemon
stop_peer
ip netns del "$ns"
timed purge purge
say "times (s): build ${took[build]}, lintian ${took[lint]}, install ${took[install]}," \
	"start ${took[start]}, restarts ${took[restart]} + ${took[restart_all]}, stop ${took[stop]}, purge ${took[purge]};" \
	"total $((SECONDS - t_start))"
echo "PASS: the packages build, lint clean, install, serve ($mode), stop cleanly and purge without a trace"
