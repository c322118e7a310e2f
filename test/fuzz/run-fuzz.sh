#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Build one libFuzzer harness with clang (ASan + UBSan) and run it for a
# bounded time on a copy of its seed corpus.  Fails on any crash, leak or
# sanitizer report.
#
#   run-fuzz.sh BUILD_DIR NAME SECONDS
#                   NAME: lwf utcp classify config http claimd
set -euo pipefail

build=$(cd "${1:?build dir}" && pwd)
name=${2:?harness}
secs=${3:-60}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$build/fuzz
mkdir -p "$out"

cflags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-D_GNU_SOURCE -I"$top/lib/ion" -I"$top/lib/netswitch" -I"$top/lib/wire"
	-I"$top/lib/ctr" -I"$top/lib/fiber" -I"$top/app/ionswitchd")
dpdk_c=$(pkg-config --cflags libdpdk)
# Only the DPDK libraries a harness calls into (their own dependencies come
# with them); the -L of Debian's multiarch directory from pkg-config.
dpdk_L=$(pkg-config --libs-only-L libdpdk)
case $name in
lwf | utcp)
	srcs=("$top/lib/wire/lwf.c" "$top/lib/wire/utcp.c")
	libs=($dpdk_L -lrte_net -lrte_eal) ;;
classify)
	srcs=("$top/lib/netswitch/netswitch.c" "$top/lib/ion/ion_ring.c"
		"$top/lib/ion/ion_cspace.c" "$top/lib/ion/ion_channel.c")
	libs=($dpdk_L -lrte_ethdev -lrte_mbuf -lrte_mempool -lrte_ring
		-lrte_eal) ;;
config)
	# the loader, instrumented; the fiber kinds it reads its keys from
	# come from the build's own (uninstrumented) libraries
	srcs=("$top/app/ionswitchd/config.c" "$top/app/ionswitchd/config_check.c"
		"$top/app/ionswitchd/config_eal.c")
	libs=("$build/lib/fiber/libfiber.a" "$build/lib/fiber/libfiber_core.a"
		"$build/lib/membrane/libmembrane.a"
		"$build/lib/membrane/libmembrane_proto.a" "$build/lib/ctr/libctr.a"
		"$build/lib/console/libconsole.a"
		"$build/lib/membrane/lwip/liblwip_ion.a"
		-L"$build/lib/ion" -L"$build/lib/wire" -lion -lwire
		-Wl,-rpath,"$build/lib/ion:$build/lib/wire"
		$(pkg-config --libs libconfig) $dpdk_L -lrte_telemetry
		-lrte_net -lrte_eal -lpthread) ;;
http)
	srcs=("$top/lib/membrane/http.c")
	cflags+=(-I"$top/lib/membrane")
	libs=() ;;
claimd)
	# the claim server and what it calls of libion, instrumented; no DPDK
	srcs=("$top/lib/ion/ion_claimd.c" "$top/lib/ion/ion_claimd_fiber.c"
		"$top/lib/ion/ion_claim_proto.c" "$top/lib/ion/ion_ring.c"
		"$top/lib/ion/ion_file.c" "$top/lib/ion/ion_cspace.c")
	libs=() ;;
*)
	echo "run-fuzz: unknown harness '$name'" >&2
	exit 2 ;;
esac

# shellcheck disable=SC2086
clang "${cflags[@]}" $dpdk_c -o "$out/fuzz_$name" "$here/fuzz_$name.c" \
	"${srcs[@]}" "${libs[@]}"

work=$(mktemp -d /tmp/ion-fuzz-$name.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r "$here/corpus/$name/." "$work/"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
[ "$name" = config ] && export LSAN_OPTIONS=suppressions=$here/lsan-libconfig.supp
cd "$work"
set +e
"$out/fuzz_$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-detect_leaks=1 -print_final_stats=1 -artifact_prefix="$out/$name-" "$work" >"$work/log" 2>&1
rc=$?
set -e
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
echo "fuzz_$name: ${runs:-?} runs in $secs s, $(ls "$work" | wc -l) corpus entries" \
	"(peak RSS $(sed -n 's/^stat::peak_rss_mb: *//p' "$work/log") MB)"
# libFuzzer's last status line: coverage, features, corpus, exec/s
grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE)' "$work/log" | tail -1 || true
if [ $rc -ne 0 ]; then
	tail -60 "$work/log"
	echo "FAIL: fuzz_$name exited $rc"
	exit 1
fi
echo "PASS: fuzz_$name ran $secs s without a report"
