#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The doorbell stress test can fail: with ION_STRESS_SKIP_RECHECK=1 its
# eventfd consumer sleeps without looking at the ring again after arming
# (the lost-wake-up bug every waiter must avoid), and its watchdog must
# then report both sides asleep.  It does within about 2 s here (10 of 10
# runs, mean 0.7 M messages); the run is bounded at 30 s.
#   lost_wakeup.sh STRESS_BINARY
set -u
out=$(ION_STRESS_SKIP_RECHECK=1 "$1" --seconds 30 eventfd 50000000 2>&1)
rc=$?
if [ "$rc" -eq 3 ] && grep -q "WATCHDOG: producer and consumer both blocked" <<<"$out"; then
	echo "lost_wakeup: the watchdog caught the missing look-again (exit 3)"
	exit 0
fi
echo "lost_wakeup: not caught (exit $rc)" >&2
tail -n 5 <<<"$out" >&2
exit 1
