#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Regenerate the docs' generated sections from the code: the fiber kinds
# and their keys (docs/configuration.md) from `ionswitchd --kinds`, the
# counter tables (docs/counters.md) from `ionswitchd --counters`.
# `meson test docs` (test/docs/check_docs.sh) fails until they match.
#
#   scripts/gen-docs.sh [BUILD_DIR]
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
daemon=${1:-$top/build}/app/ionswitchd/ionswitchd

# replace DOC OPTION: the lines between the markers of OPTION
replace() {
	local doc=$1 opt=$2 tmp
	tmp=$(mktemp)
	"$daemon" -- "$opt" >"$tmp.gen"
	awk -v begin="<!-- ionswitchd $opt -->" -v end="<!-- end ionswitchd $opt -->" \
		-v gen="$tmp.gen" '
		$0 == begin { print; while ((getline l < gen) > 0) print l; skip = 1; next }
		$0 == end { skip = 0 }
		!skip' "$doc" >"$tmp"
	mv "$tmp" "$doc"
	rm -f "$tmp.gen"
}

replace "$top/docs/configuration.md" --kinds
replace "$top/docs/counters.md" --counters
