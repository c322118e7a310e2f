#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The whole test suite: the release build, an ASan+UBSan build and a TSan
# build, each through `meson test`.  Ends with "N passed, N failed".
#
#   scripts/test.sh            all three builds
#   ION_TEST_BUILDS="build"    only some of them
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

builds=${ION_TEST_BUILDS:-"build build-asan build-tsan"}
declare -A opts=(
	[build]="-Dwerror=true"
	[build-asan]="-Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized"
	[build-tsan]="-Dwerror=true -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debugoptimized"
)

passed=0
failed=0
# Sanitizers stop at the first report and fail the test.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# test/tsan.supp: DPDK's own (uninstrumented) hand-offs, and one mmap.  A
# copy in /tmp: the tests run programs as another uid too (uid 65534), and
# TSan stops a program whose suppressions it cannot read (a tree under
# /root is 0700).
supp=$(mktemp /tmp/ion-tsan-supp.XXXXXX)
trap 'rm -f "$supp"' EXIT
cp "$top/test/tsan.supp" "$supp"
chmod 644 "$supp"
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$supp}

# DPDK processes of earlier, interrupted runs leave hugepage files behind.
clean_huge() { rm -f /dev/hugepages/ion-* 2>/dev/null; rm -rf /var/run/dpdk/ion-* 2>/dev/null; }

count() { # count FIELD LOGFILE -> number on meson's summary line
	awk -v f="$1" -F: '$1 == f { gsub(/ /, "", $2); print $2; exit }' "$2"
}

for b in $builds; do
	# shellcheck disable=SC2086
	if ! scripts/setup.sh "$b" ${opts[$b]}; then
		echo "test: build $b failed" >&2
		failed=$((failed + 1))
		continue
	fi
	clean_huge
	log=$(mktemp)
	# TSan's shadow memory needs a fixed layout on kernels with wide mmap
	# randomisation; setarch -R turns randomisation off for the tests.
	wrap=()
	[ "$b" = build-tsan ] && wrap=(setarch "$(uname -m)" -R)
	"${wrap[@]}" meson test -C "$b" --print-errorlogs 2>&1 | tee "$log"
	ok=$(count Ok "$log"); xf=$(count "Expected Fail" "$log")
	fl=$(count Fail "$log"); up=$(count "Unexpected Pass" "$log")
	to=$(count Timeout "$log")
	passed=$((passed + ${ok:-0} + ${xf:-0}))
	failed=$((failed + ${fl:-0} + ${up:-0} + ${to:-0}))
	if [ -z "$ok" ]; then
		echo "test: meson test in $b printed no summary" >&2
		failed=$((failed + 1))
	fi
	rm -f "$log"
	clean_huge
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
