#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Everything the appliance and its tests need on a Debian 12 machine, as
# root: packages, 2 MiB hugepages, a hugetlbfs mount, bpffs, the group of
# the claim socket (ionfibers), Debian's lwIP source
# (scripts/fetch-lwip.sh), the meson build.
# Safe to run again: each step checks before it acts.
#
#   scripts/setup.sh [BUILD_DIR [MESON_OPTIONS...]]
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-build}
shift || true

PACKAGES=(dpdk dpdk-dev libdpdk-dev librte-net-af-xdp23 librte-net-af-packet23
	meson ninja-build pkg-config gcc clang
	clang-format libclang-rt-14-dev libconfig-dev libcunit1-dev
	iproute2 iputils-ping netcat-openbsd curl socat python3 util-linux nginx-light wrk ethtool
	prometheus debhelper dpkg-dev fakeroot lintian scdoc)
HUGEPAGES=${ION_HUGEPAGES:-2048}   # 2 MiB each: 4 GiB

say() { printf 'setup: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
	say "run as root: packages, hugepages and mounts need it"
	exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

nr=/proc/sys/vm/nr_hugepages
if [ "$(cat $nr)" -lt "$HUGEPAGES" ]; then
	say "reserving $HUGEPAGES hugepages of 2 MiB"
	echo "$HUGEPAGES" > $nr
	if [ "$(cat $nr)" -lt "$HUGEPAGES" ]; then
		say "only $(cat $nr) hugepages could be reserved (memory fragmented?)"
	fi
fi

if ! mountpoint -q /dev/hugepages || \
	[ "$(stat -f -c %T /dev/hugepages)" != hugetlbfs ]; then
	say "mounting hugetlbfs on /dev/hugepages"
	mkdir -p /dev/hugepages
	mount -t hugetlbfs nodev /dev/hugepages
fi

# bpffs, where libxdp pins the XDP programs of DPDK's AF_XDP PMD (without
# it, it warns and loads one program per interface)
if ! mountpoint -q /sys/fs/bpf; then
	say "mounting bpffs on /sys/fs/bpf"
	mount -t bpf bpf /sys/fs/bpf
fi

# the group of the claim socket of external fibers (the shipped config's
# claims.socket_group), as the package's sysusers.d entry creates it
if ! getent group ionfibers >/dev/null; then
	say "creating the group ionfibers (who may claim external fibers)"
	groupadd --system ionfibers
fi

cd "$top"
# lwIP from Debian's source package, built with the membrane's options
bash "$top/scripts/fetch-lwip.sh"
if [ ! -f "$build/build.ninja" ]; then
	say "configuring $build"
	meson setup "$build" "$@" >/dev/null
elif [ $# -gt 0 ]; then
	meson configure "$build" "$@" >/dev/null
fi
say "building $build"
ninja -C "$build" >/dev/null
