#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The generated sections of the docs match the code: the fiber kinds and
# their keys (docs/configuration.md) and the counter tables
# (docs/counters.md) are what `ionswitchd --kinds` and `--counters` print.
#
#   check_docs.sh SOURCE_ROOT IONSWITCHD
set -euo pipefail

top=${1:?source root}
daemon=${2:?ionswitchd}
failed=0

# section DOC OPTION: the lines between the markers of OPTION in DOC
section() {
	sed -n "/^<!-- ionswitchd $2 -->\$/,/^<!-- end ionswitchd $2 -->\$/p" "$1" |
		sed '1d;$d'
}

for pair in configuration.md:--kinds counters.md:--counters; do
	doc=$top/docs/${pair%%:*} opt=${pair#*:}
	if ! diff -u <(section "$doc" "$opt") <("$daemon" -- "$opt") >/tmp/check_docs.$$; then
		echo "not ok: ${doc#"$top"/} differs from ionswitchd $opt:"
		cat /tmp/check_docs.$$
		failed=1
	else
		echo "ok: ${doc#"$top"/} matches ionswitchd $opt"
	fi
	rm -f /tmp/check_docs.$$
done
exit $failed
