#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Every C file of the tree as clang-format (the checked-in .clang-format)
# would write it: a file that is not fails, with the file and line named.
#   check_format.sh SRCDIR
set -uo pipefail
src=${1:?usage: check_format.sh SRCDIR}
cd "$src" || exit 1
# the tracked files when this is a git tree, otherwise every C file
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files '*.c' '*.h')
else
	mapfile -t files < <(find app lib test examples -name '*.[ch]' -not -path '*/lwip/upstream/*' 2>/dev/null)
fi
bad=0
for f in "${files[@]}"; do
	[ -f "$f" ] || continue
	if ! out=$(clang-format --dry-run --Werror "$f" 2>&1); then
		echo "$out" | grep -m 3 'warning\|error'
		bad=$((bad + 1))
	fi
done
echo "format: ${#files[@]} files, $bad not as clang-format writes them"
[ "$bad" -eq 0 ]
