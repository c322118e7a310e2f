#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Debian's own lwIP source package (bookworm's lwip 2.1.3+dfsg1, its
# patches applied) into lib/membrane/lwip/upstream, which meson compiles with the
# membrane's lwipopts.h (lib/membrane/lwip).  Debian's binary liblwip is
# built for NO_SYS=0 (a thread and a core lock, a 10-entry ARP table); the
# membrane runs lwIP as one of its fiber's steps instead (docs/membrane.md).
#
# apt-get fetches it through a sources list of its own (a deb-src entry
# for bookworm), so the machine's apt configuration is not touched.
# Safe to run again: a tree already there is kept.
#
#   scripts/fetch-lwip.sh [DEST]      (default: lib/membrane/lwip/upstream,
#                                     where meson looks)
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-$top/lib/membrane/lwip/upstream}
say() { printf 'fetch-lwip: %s\n' "$*" >&2; }

if [ -f "$dest/src/core/tcp.c" ] && [ -f "$dest/.ion-fetched" ]; then
	exit 0
fi
for t in apt-get dpkg-source; do
	command -v "$t" >/dev/null || { say "$t is missing (apt-get install dpkg-dev)"; exit 1; }
done

tmp=$(mktemp -d /tmp/ion-lwip-src.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/parts" "$tmp/lists/partial" "$tmp/src"
cat >"$tmp/parts/bookworm-src.sources" <<SRC
Types: deb-src
URIs: ${ION_DEBIAN_MIRROR:-http://deb.debian.org/debian}
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
apt_opts=(-o "Dir::Etc::SourceParts=$tmp/parts" -o Dir::Etc::SourceList=/dev/null
	-o "Dir::State::Lists=$tmp/lists" -o APT::Sandbox::User=root)
say "fetching Debian's lwip source package"
apt-get "${apt_opts[@]}" -qq update ||
	{ say "apt-get update of the deb-src list failed (no network to the Debian mirror?)"; exit 1; }
(cd "$tmp/src" && apt-get "${apt_opts[@]}" -qq source lwip >/dev/null) ||
	{ say "apt-get source lwip failed"; exit 1; }
src=$(find "$tmp/src" -mindepth 1 -maxdepth 1 -type d -name 'lwip-*' | head -1)
[ -n "$src" ] && [ -f "$src/src/core/tcp.c" ] ||
	{ say "no lwIP tree in the source package"; exit 1; }
ver=$(cd "$tmp/src" && ls ./*.dsc | sed 's|^\./||; s|\.dsc$||')
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$src" "$dest"
echo "$ver" >"$dest/.ion-fetched"
say "$ver in $dest"
