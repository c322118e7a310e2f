#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# `meson install` gives another program what it needs to use the ring: the
# libraries, the headers and libion.pc.  Install into a scratch DESTDIR,
# build a small program against it with pkg-config alone, run it.
#
#   test_install.sh BUILD_DIR
set -euo pipefail

build=$(cd "${1:?build dir}" && pwd)
dest=$(mktemp -d /tmp/ion-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT

meson install -C "$build" --destdir "$dest" --no-rebuild >"$dest/install.log" 2>&1 ||
	{ cat "$dest/install.log"; exit 1; }
prefix=$(meson introspect "$build" --buildoptions |
	python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
pc=$(find "$dest$prefix" -name libion.pc | head -1)
[ -n "$pc" ] || { echo "FAIL: no libion.pc installed"; exit 1; }
for h in ion_ring.h ion_memzone.h netswitch.h; do
	[ -n "$(find "$dest$prefix" -path "*/ion/$h")" ] || { echo "FAIL: $h not installed"; exit 1; }
done

cat >"$dest/app.c" <<'EOC'
#include <stdio.h>
#include <stdlib.h>
#include <ion_ring.h>

int main(void)
{
	struct ion_ring_params p = {.channel = ION_CH_CONSOLE_RX,
				    .capacity = 8, .slot_size = 64};
	size_t len = ion_ring_memsize(p.capacity, p.slot_size);
	struct ion_ring *r = aligned_alloc(ION_RING_ALIGN, len);
	struct ion_prod tx;
	struct ion_cons rx;
	char out[64];

	if (ion_ring_init(r, len, &p) || ion_prod_open(&tx, r) ||
	    ion_cons_open(&rx, r) || ion_enqueue(&tx, "hello", 6) ||
	    ion_dequeue(&rx, out, sizeof(out)) != 6)
		return 1;
	puts(out);
	free(r);
	return 0;
}
EOC
# pkg-config's paths point at the real prefix; redirect them into DESTDIR
export PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_SYSROOT_DIR=$dest
cc -o "$dest/app" "$dest/app.c" $(pkg-config --cflags --libs libion) \
	-Wl,-rpath,"$(pkg-config --variable=libdir libion | sed "s|^|$dest|;s|$dest$dest|$dest|")"
out=$(LD_LIBRARY_PATH="$dest$(pkg-config --variable=libdir libion | sed "s|^$dest||")" "$dest/app")
[ "$out" = hello ] || { echo "FAIL: the installed ring said '$out'"; exit 1; }
echo "PASS: libion installed with its headers and libion.pc; a program built against it works"
