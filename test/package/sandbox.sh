#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Run a command under the sandboxing options of a systemd unit, as far as
# util-linux can reproduce them without systemd (the package test's
# by-hand mode, on machines where systemd is not PID 1):
#
#   ProtectSystem=strict      every mount read-only but /dev, /proc, /sys
#                             and the writable paths below
#   ReadWritePaths=, RuntimeDirectory=   writable (bind-mounted first)
#   ProtectHome=yes           /home, /root, /run/user: empty, no access
#   PrivateTmp=yes            /tmp and /var/tmp: fresh tmpfs
#   ProtectKernelTunables=yes /proc/sys, /sys read-only
#   NoNewPrivileges=yes       setpriv --no-new-privs
#   CapabilityBoundingSet=    setpriv --bounding-set (root: its permitted set)
#   MemoryDenyWriteExecute=yes  prctl(PR_SET_MDWE): the kernel's own W^X
#   UMask=                    umask
#
# Not reproduced (seccomp filters or systemd's own machinery):
# SystemCallFilter=, RestrictAddressFamilies=, RestrictNamespaces=,
# RestrictRealtime=, RestrictSUIDSGID=, LockPersonality=,
# SystemCallArchitectures=, ProtectHostname=, ProtectKernelModules=,
# ProtectKernelLogs=, ProtectControlGroups=.
#
#   sandbox.sh UNIT_FILE CMD...    (runs unshare --mount itself)
set -euo pipefail

unit=${1:?unit file}
shift

if [ -z "${ION_SANDBOX_INSIDE:-}" ]; then
	export ION_SANDBOX_INSIDE=1
	exec unshare --mount --propagation private -- "$0" "$unit" "$@"
fi

# The unit's settings, read before any mount hides the file (it may be
# under /tmp); the last one of a key wins, as in systemd.
declare -A set
while IFS='=' read -r k v; do
	[[ $k =~ ^[A-Za-z]+$ ]] && set[$k]=$v
done <"$unit"
setting() { echo "${set[$1]:-}"; }

rw=()
for p in $(setting ReadWritePaths); do rw+=("${p#-}"); done
for d in $(setting RuntimeDirectory); do
	mkdir -p "/run/$d"
	rw+=("/run/$d")
done
for p in "${rw[@]}"; do mount --bind "$p" "$p"; done

if [ "$(setting ProtectHome)" = yes ]; then
	for d in /home /root /run/user; do
		[ -d "$d" ] && mount -t tmpfs -o ro,mode=000 tmpfs "$d"
	done
fi
if [ "$(setting PrivateTmp)" = yes ]; then
	mount -t tmpfs -o mode=1777 tmpfs /tmp
	mount -t tmpfs -o mode=1777 tmpfs /var/tmp
fi
if [ "$(setting ProtectKernelTunables)" = yes ]; then
	mount --bind /proc/sys /proc/sys
	mount -o remount,bind,ro /proc/sys
	mount -o remount,bind,ro /sys
fi
if [ "$(setting ProtectSystem)" = strict ]; then
	# every mount but the API file systems and what must stay writable
	findmnt -rn -o TARGET | while read -r m; do
		case $m in
		/proc | /proc/* | /sys | /sys/* | /dev | /dev/* | /tmp | /var/tmp) continue ;;
		esac
		for p in "${rw[@]}"; do [ "$m" = "$p" ] && continue 2; done
		mount -o remount,bind,ro "$m" 2>/dev/null || true
	done
fi

priv=()
[ "$(setting NoNewPrivileges)" = yes ] && priv+=(--no-new-privs)
caps=$(setting CapabilityBoundingSet)
if [ -n "$caps" ]; then
	list=-all
	for c in $caps; do list+=",+$(tr '[:upper:]' '[:lower:]' <<<"${c#CAP_}")"; done
	priv+=(--bounding-set "$list" --inh-caps -all)
fi
mdwe=()
if [ "$(setting MemoryDenyWriteExecute)" = yes ]; then
	# PR_SET_MDWE (65), PR_MDWE_REFUSE_EXEC_GAIN (1): kept across execve
	mdwe=(python3 -c 'import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(65, 1, 0, 0, 0) != 0:
    sys.exit("sandbox: PR_SET_MDWE: " + os.strerror(ctypes.get_errno()))
os.execvp(sys.argv[1], sys.argv[1:])')
fi
if [ -n "$(setting UMask)" ]; then umask "$(setting UMask)"; fi
exec setpriv "${priv[@]}" -- "${mdwe[@]}" "$@"
