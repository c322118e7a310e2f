# SPDX-License-Identifier: BSD-3-Clause
# The harness of the scripts that run ionswitchd against Linux test hosts:
# test/membrane/clients/clients.sh, test/ionswitchd/flood/flood.sh,
# test/ionswitchd/integration/integration.sh, test/console/console.sh,
# scripts/bench-membrane.sh and scripts/run.sh source it.
#
# Every test host lives in a network namespace the script creates: the
# Linux end of each link (the peer's TAP, a veth end) is moved there with
# its address, and every client (ping, curl, nc, wrk, traffic.py, the
# AF_PACKET senders) runs there through host_exec.  Nothing is sent from
# the root namespace, so a test never reaches a real network.
#
#   harness_init PREFIX BUILD_DIR [RUN_DIR]
#                       names, work dir ($H_WORK), one EXIT trap; first
#                       clears what a killed run of PREFIX left behind
#   netns_add NS, netns_del NS
#                       a namespace with lo up and IPv6 off; deleted at exit
#   peer_start SOCK IFACE ADDR [NS]
#                       the vhost-user peer: dpdk-testpmd (io) between the
#                       daemon's socket SOCK and the TAP IFACE, which goes
#                       into NS (default PREFIX, created) with ADDR (a/len,
#                       or "" for a host that sends raw frames only); NS is
#                       then the test host of host_exec; the peer's EAL
#                       file prefix is $PEER_PREFIX.  ION_TEST_PORT=af_xdp
#                       or af_packet: a veth pair instead, IFACE in NS and
#                       the daemon's end in PREFIX-d, the daemon there on
#                       that PMD (veth_port)
#   bridge_start NAME IF_A NS_A ADDR_A IF_B NS_B ADDR_B
#                       dpdk-testpmd (io) between two TAPs, each in its NS
#   host_link IFACE NS ADDR, link_addr NS IFACE ADDR
#                       move a link into NS / give it ADDR there and bring it up
#   host_exec CMD...    CMD in the test host's namespace
#   daemon_start CONF [OPTION...]
#                       ionswitchd -- -c CONF OPTION..., log $DAEMON_LOG,
#                       returns once it logs "running:"; pid $DAEMON_PID
#                       (daemon_run: the same, exec'd in the foreground)
#   daemon_alive, daemon_stop, daemon_wait WHAT, daemon_files_gone WHAT
#   telemetry CMD       one telemetry command to the daemon, its JSON reply
#   stage_for_others BIN..., stage_run UID GID CMD...
#                       programs of the build tree for another uid, run
#                       from a copy in /tmp wherever the tree is
#   wait_for WHAT CMD...  poll CMD for 10 s; fails early if a process died
#   proc_pid NAME       pid of a process the harness started (daemon, peer, ...)
#   check NAME CMD...   "ok: NAME" or "not ok: NAME", counted
#   harness_done WHAT   PASS, or FAIL with the daemon log if a check failed
#   die MSG             FAIL: MSG, runs $H_ON_DIE, the daemon log's tail, exit 1
#
# Names: the daemon's EAL file prefix is PREFIX (the config says so), a
# testpmd's is PREFIX-NAME (PREFIX-peer ...), its log $H_WORK/NAME.log,
# and the run dir /run/PREFIX holds the vhost-user socket.  Each script has
# its own PREFIX and interface names, so scripts run side by side; at exit
# (Ctrl-C and SIGTERM included) everything under those names is removed:
# processes, namespaces, /dev/hugepages/PREFIX*, /var/run/dpdk/PREFIX*, the
# run dir.  The work dir stays when the script failed or KEEP_LOGS=1.

ION_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# pid files of what the harness started, so that a run killed with SIGKILL
# (which skips the trap) is cleared by the next one
H_PIDS=/run/ion-harness
# die works before harness_init too (a script's checks of its tools)
H_PREFIX='' H_WORK='' H_HOST='' H_ON_DIE='' H_FAILED=0 DAEMON_PID='' DAEMON_LOG=''
H_STAGE=''
# the daemon's port: ION_TEST_PORT=virtio (the vhost-user peer), af_xdp or
# af_packet (a veth pair; the daemon runs in a namespace of its own)
H_PORT=${ION_TEST_PORT:-virtio} H_DAEMON_NS='' H_DAEMON_EAL=()
# and its ethdev's name
H_PORT_NAME=net_virtio_user0
H_NETNS=()

harness_init() {
	H_PREFIX=${1:?prefix}
	H_BUILD=$(cd "${2:?build dir}" && pwd)
	# run.sh passes "": its run dir /run/ionswitchd also holds the console
	# sockets of other daemons
	H_RUN=${3-/run/$H_PREFIX}
	trap harness_exit EXIT
	# Ctrl-C and kill go through the same cleanup, with a failing status.
	trap 'exit 130' INT
	trap 'exit 143' TERM
	harness_reset
	H_WORK=$(mktemp -d "/tmp/$H_PREFIX.XXXXXX")
	DAEMON_LOG=$H_WORK/daemon.log
	mkdir -p "$H_PIDS/$H_PREFIX"
	if [ -n "$H_RUN" ]; then mkdir -p "$H_RUN"; fi
}

harness_exit() {
	local rc=$?
	trap - EXIT INT TERM
	harness_reset
	if [ -n "$H_WORK" ]; then
		if [ $rc -ne 0 ] || [ "${KEEP_LOGS:-0}" = 1 ]; then
			echo "logs in $H_WORK" >&2
		else
			rm -rf "$H_WORK"
		fi
	fi
	exit $rc
}

# Stops and removes everything under this run's names; at start, what a
# killed run left.
harness_reset() {
	# everything is tried, whatever fails
	local -
	local dir=$H_PIDS/$H_PREFIX f ns pids=()
	set +e
	for f in "$dir"/*.pid; do
		[ -e "$f" ] && [ "$f" != "$dir/daemon.pid" ] && pids+=("$(pid_of_file "$f")")
	done
	# A paused (SIGSTOP) process would not see the SIGTERM.
	for f in "${pids[@]}"; do [ -n "$f" ] && kill -CONT "$f" 2>/dev/null; done
	# The daemon first: on SIGTERM it drains to the port and frees its
	# hugepages, which needs its peer still there.
	[ -e "$dir/daemon.pid" ] && procs_stop "$(pid_of_file "$dir/daemon.pid")"
	procs_stop "${pids[@]}"
	rm -rf "$dir"
	for ns in "${H_NETNS[@]}"; do netns_del "$ns"; done
	H_NETNS=()
	[ -n "$H_STAGE" ] && rm -rf "$H_STAGE"
	H_STAGE=
	rm -rf /dev/hugepages/"$H_PREFIX"* /var/run/dpdk/"$H_PREFIX"* \
		"/run/ionswitchd/$H_PREFIX.sock" ${H_RUN:+"$H_RUN"}
	DAEMON_PID=
}

# --- processes

# proc_record NAME PID: remember a process this run started
proc_record() {
	echo "$2 $(proc_start "$2")" >"$H_PIDS/$H_PREFIX/$1.pid"
}

# proc_pid NAME: the pid of the process NAME, if it runs
proc_pid() { pid_of_file "$H_PIDS/$H_PREFIX/$1.pid"; }

# pid_of_file FILE: its pid, if that process still runs; a pid reused by
# another process since (its start time differs) does not count
pid_of_file() {
	local pid start
	read -r pid start 2>/dev/null <"$1" || return 1
	[ "$(proc_start "$pid")" = "$start" ] && proc_alive "$pid" && echo "$pid"
}

# proc_start PID: when PID started (field 22 of /proc/PID/stat)
proc_start() {
	local stat f
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	# the command name, field 2, may hold spaces: split after its ")"
	read -ra f <<<"${stat##*) }"
	echo "${f[19]}"
}

# proc_alive PID: PID runs; an exited child that nobody waited for yet (a
# zombie) does not
proc_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# procs_stop PID...: SIGTERM, 5 s to exit, then SIGKILL
procs_stop() {
	local -
	local pid left
	set +e
	for pid; do [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; done
	for _ in $(seq 50); do
		left=0
		for pid; do [ -n "$pid" ] && proc_alive "$pid" && left=1; done
		[ $left = 1 ] || break
		sleep 0.1
	done
	for pid; do
		[ -n "$pid" ] || continue
		proc_alive "$pid" && kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null # reap it if it is a child of this shell
	done
	return 0
}

# wait_for WHAT CMD...: until CMD succeeds, 10 s at most (however long
# CMD itself takes); a process this run started that exits meanwhile fails
# it at once, with its log
wait_for() {
	local what=$1 f name end=$((SECONDS + 10))
	shift
	while [ $SECONDS -lt $end ]; do
		"$@" && return 0
		for f in "$H_PIDS/$H_PREFIX"/*.pid; do
			[ -e "$f" ] || continue
			name=$(basename "$f" .pid)
			pid_of_file "$f" >/dev/null ||
				die "$name exited while waiting for $what: $(tail -5 "$H_WORK/$name.log" 2>/dev/null)"
		done
		sleep 0.1
	done
	die "no $what after 10 s"
}

# --- network namespaces: the only place a test host lives

netns_add() {
	local ns=${1:?netns}
	netns_del "$ns" # one a killed run left
	ip netns add "$ns"
	H_NETNS+=("$ns")
	ip -netns "$ns" link set lo up
	# Linux would add its own IPv6 chatter to the test traffic.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
}

# netns_del NS: its processes stopped (deleting a namespace ends none),
# then the namespace, and with it its TAPs and veth ends
netns_del() {
	local pids
	pids=$(ip netns pids "$1" 2>/dev/null) || return 0
	# shellcheck disable=SC2086 # a list of pids
	procs_stop $pids
	ip netns del "$1" 2>/dev/null || true
}

link_exists() { ip link show "$1" >/dev/null 2>&1; }

# tap_started IFACE: dpdk-testpmd has started the port of the TAP IFACE.
# Only then may the TAP leave the root namespace: until its port is
# started the TAP PMD works on the interface by its name, in testpmd's
# namespace ("Error during enabling promiscuous mode ... No such device"
# in the log), and a bridge whose TAP moved too early was seen to pass
# frames one way only.  testpmd sets every port promiscuous once all are
# started, which the TAP shows.
tap_started() { ip link show "$1" 2>/dev/null | grep PROMISC >/dev/null; }

# link_addr NS IFACE ADDR: IFACE, already in NS, gets ADDR (if not "")
# there and comes up
link_addr() {
	local ns=$1 iface=$2 addr=$3
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$iface.disable_ipv6=1"
	if [ -n "$addr" ]; then ip -netns "$ns" addr add "$addr" dev "$iface"; fi
	ip -netns "$ns" link set "$iface" up
}

# host_link IFACE NS ADDR: IFACE moves from the root namespace into NS
# (made if this run has not made it yet) and gets ADDR there.  A TAP of DPDK's TAP PMD keeps
# passing frames: the PMD's file descriptor stays attached to it.
host_link() {
	local iface=$1 ns=$2 addr=$3
	[ -n "$ns" ] || die "host_link $iface: a test host lives in a network namespace"
	# one this run made, or a new one (in place of what a killed run left)
	[[ " ${H_NETNS[*]} " == *" $ns "* ]] || netns_add "$ns"
	ip link set "$iface" netns "$ns"
	link_addr "$ns" "$iface" "$addr"
}

# host_exec CMD...: CMD on the test host, in the namespace of the peer's TAP
host_exec() {
	[ -n "$H_HOST" ] || die "host_exec $1: no test host (peer_start makes it)"
	ip netns exec "$H_HOST" "$@"
}

# --- dpdk-testpmd: the vhost-user peer, the bridge

# testpmd_io NAME VDEV...: dpdk-testpmd forwarding (io) between the ports
# VDEV..., file prefix PREFIX-NAME, log $H_WORK/NAME.log
testpmd_io() {
	local name=$1 vdevs=() v
	shift
	for v; do vdevs+=(--vdev "$v"); done
	# Both lcores float over both CPUs: the forwarding lcore polls, so
	# keep it from owning a CPU of a two-CPU machine.  setsid: a Ctrl-C on
	# the terminal reaches the script, whose cleanup stops the daemon
	# before its peer.
	setsid dpdk-testpmd --lcores '(0,1)@(0,1)' --file-prefix "$H_PREFIX-$name" \
		--no-pci -m 256 "${vdevs[@]}" \
		-- --forward-mode=io --auto-start --total-num-mbufs=8192 \
		--stats-period 86400 </dev/null >"$H_WORK/$name.log" 2>&1 &
	proc_record "$name" $!
}

# peer_spawn SOCK IFACE: the peer alone, its TAP down in the root
# namespace; only scripts/run.sh --root-ns wants that, tests use peer_start
peer_spawn() {
	local sock=$1 iface=$2
	mkdir -p "$(dirname "$sock")"
	rm -f "$sock"
	testpmd_io peer "net_vhost0,iface=$sock,queues=1" "net_tap0,iface=$iface"
	PEER_PREFIX=$H_PREFIX-peer
	wait_for "vhost-user socket $sock" test -S "$sock"
	wait_for "TAP $iface started" tap_started "$iface"
}

peer_start() {
	local sock=$1 iface=$2 addr=$3 ns=${4:-$H_PREFIX}
	case $H_PORT in
	virtio)
		peer_spawn "$sock" "$iface"
		host_link "$iface" "$ns" "$addr" ;;
	af_xdp | af_packet) veth_port "$iface" "$ns" "$addr" ;;
	*) die "ION_TEST_PORT=$H_PORT: not virtio, af_xdp or af_packet" ;;
	esac
	H_HOST=$ns
}

# veth_port IFACE NS ADDR: a veth pair instead of the vhost-user peer:
# IFACE in NS with ADDR, its peer IFACE"d" in the daemon's own namespace
# PREFIX-d, where daemon_start runs the daemon on $H_PORT's PMD.  IFACE
# sends with its TX checksum offload off: over a veth the kernel leaves
# a TCP or UDP checksum for the receiver to fill (CHECKSUM_PARTIAL), and
# what reaches the PMD has only its pseudo-header sum, which the membrane,
# like any receiver of raw frames, refuses (docs/operating.md, "Ports").
veth_port() {
	local iface=$1 ns=$2 addr=$3 dev=${1}d extra=
	H_DAEMON_NS=$H_PREFIX-d
	netns_add "$H_DAEMON_NS"
	[[ " ${H_NETNS[*]} " == *" $ns "* ]] || netns_add "$ns"
	ip link add "$dev" netns "$H_DAEMON_NS" type veth peer name "$iface" netns "$ns"
	ip -netns "$H_DAEMON_NS" link set "$dev" up
	ip netns exec "$ns" ethtool -K "$iface" tx off >/dev/null
	link_addr "$ns" "$iface" "$addr"
	H_PORT_NAME=net_${H_PORT}0
	# busy_budget=0: no preferred busy polling, which DPDK's AF_XDP PMD
	# turns on by default and which stalls a port whose lcore sleeps
	# (docs/operating.md, "Ports")
	if [ "$H_PORT" = af_xdp ]; then extra=,busy_budget=0; fi
	H_DAEMON_EAL=(--vdev "$H_PORT_NAME,iface=$dev$extra")
}

bridge_start() {
	local name=$1 if_a=$2 ns_a=$3 addr_a=$4 if_b=$5 ns_b=$6 addr_b=$7
	testpmd_io "$name" "net_tap0,iface=$if_a" "net_tap1,iface=$if_b"
	wait_for "TAP $if_a started" tap_started "$if_a"
	wait_for "TAP $if_b started" tap_started "$if_b"
	host_link "$if_a" "$ns_a" "$addr_a"
	host_link "$if_b" "$ns_b" "$addr_b"
}

# --- the daemon

# daemon_run CONF OPTION...: exec ionswitchd -- -c CONF OPTION... with the
# port's EAL options ($H_DAEMON_EAL), in its namespace when its port is a
# veth.  Run it in the background (&): $! is the daemon.
daemon_run() {
	local conf=${1:?config} wrap=()
	shift
	# `ip netns exec` gives the daemon a /sys of its own, without the
	# bpffs libxdp pins its programs in
	if [ -n "$H_DAEMON_NS" ]; then
		wrap=(ip netns exec "$H_DAEMON_NS" sh -c 'mount -t bpf bpf /sys/fs/bpf; exec "$@"' sh)
	fi
	exec "${wrap[@]}" "$H_BUILD/app/ionswitchd/ionswitchd" "${H_DAEMON_EAL[@]}" \
		-- -c "$conf" "$@"
}

daemon_start() {
	daemon_run "$@" </dev/null >"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	proc_record daemon "$DAEMON_PID"
	wait_for "\"running:\" from ionswitchd" grep -q "running:" "$DAEMON_LOG"
}

daemon_alive() { [ -n "$DAEMON_PID" ] && proc_alive "$DAEMON_PID"; }

# daemon_wait WHAT: it exits 0 and leaves no hugepage file behind
daemon_wait() {
	local rc=0
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	rm -f "$H_PIDS/$H_PREFIX/daemon.pid"
	[ $rc -eq 0 ] || die "ionswitchd exited $rc ($1)"
	daemon_files_gone "$1"
}

daemon_stop() {
	kill -TERM "$DAEMON_PID"
	daemon_wait "after SIGTERM"
}

# daemon_files_gone WHAT: no hugepage file of the daemon's prefix (its
# peers' PREFIX-NAME files are theirs)
daemon_files_gone() {
	local left
	left=$(find /dev/hugepages -maxdepth 1 -name "$H_PREFIX*" ! -name "$H_PREFIX-*" -printf '%f ')
	[ -z "$left" ] || die "hugepage files left behind ($1): $left"
}

telemetry() { echo "$1" | dpdk-telemetry.py -f "$H_PREFIX" 2>/dev/null | tail -1; }

# --- other users

# stage_for_others BIN...: copies of programs of the build tree, and of
# the build tree's libraries they load, in a directory of /tmp that every
# user may read ($H_STAGE, removed at exit).  A process of another uid
# runs them from there (stage_run): the tree itself may sit where that uid
# cannot enter (a clone under /root is 0700).
stage_for_others() {
	local bin name path
	if [ -z "$H_STAGE" ]; then
		H_STAGE=$(mktemp -d "/tmp/$H_PREFIX-stage.XXXXXX")
		chmod 755 "$H_STAGE"
	fi
	for bin in "$@"; do
		cp "$bin" "$H_STAGE/"
		while read -r name path; do
			cp "$path" "$H_STAGE/$name"
		done < <(ldd "$bin" | awk -v b="$H_BUILD/" \
			'$2 == "=>" && index($3, b) == 1 { print $1, $3 }')
	done
	chmod -R a+rX "$H_STAGE"
}

# stage_run UID GID CMD...: CMD (a name of $H_STAGE's, or any path) as UID
# and GID, without supplementary groups
stage_run() {
	local uid=$1 gid=$2 cmd=$3
	shift 3
	[ -e "$H_STAGE/$cmd" ] && cmd=$H_STAGE/$cmd
	LD_LIBRARY_PATH=$H_STAGE setpriv --reuid="$uid" --regid="$gid" \
		--clear-groups "$cmd" "$@"
}

# --- results

die() {
	echo "FAIL: $*" >&2
	if [ -n "$H_ON_DIE" ]; then $H_ON_DIE >&2 || true; fi
	if [ -s "$DAEMON_LOG" ]; then
		echo "--- daemon log" >&2
		tail -40 "$DAEMON_LOG" >&2
	fi
	exit 1
}

check() { # check NAME CMD...
	local name=$1
	shift
	if "$@"; then
		echo "ok: $name"
	else
		echo "not ok: $name"
		H_FAILED=$((H_FAILED + 1))
	fi
}

harness_done() {
	if [ "$H_FAILED" -ne 0 ]; then
		if [ -s "$DAEMON_LOG" ]; then
			echo "--- daemon log"
			tail -60 "$DAEMON_LOG"
		fi
		echo "FAIL: $H_FAILED checks failed"
		exit 1
	fi
	echo "PASS: $*"
}
