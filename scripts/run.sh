#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The appliance's main job.  For now: the ION ring benchmark against DPDK's
# rte_ring (ion-bench ring).  Extra arguments go to ion-bench after "--".
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$top/scripts/setup.sh" build

prefix=ion-bench-$$
cleanup() { rm -f /dev/hugepages/"$prefix"*; rm -rf /var/run/dpdk/"$prefix"; }
trap cleanup EXIT

"$top/build/app/ion-bench/ion-bench" -l 0-1 --no-pci --file-prefix "$prefix" \
	-- ring "$@"
