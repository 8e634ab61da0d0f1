#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2025 The iomuxd developers
#
# mandoc -Tlint -Wwarning on every built manual page: any output fails.
# (Plain -Tlint would also report STYLE notes such as cross references to
# pages that are not installed yet.)  Exit 77 when mandoc is absent.

# shellcheck source=tests/lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

[ -n "${MANDOC:-}" ] || t_skip "mandoc not found (MANDOC is empty)"
[ -n "${top_builddir:-}" ] || t_fail "top_builddir not set (run via make check)"

t_tmpdir
n=0
bad=0
for page in "$top_builddir"/man/*.[1-8]; do
	[ -f "$page" ] || continue
	n=$((n + 1))
	"$MANDOC" -Tlint -Wwarning "$page" >"$T_OUT" 2>&1
	rc=$?
	if [ $rc -ne 0 ] || [ -s "$T_OUT" ]; then
		printf 'FAIL: %s (mandoc exit %s):\n' "$page" "$rc" >&2
		cat "$T_OUT" >&2
		bad=$((bad + 1))
	else
		t_ok "$page"
	fi
done
[ $n -gt 0 ] || t_fail "no built pages in $top_builddir/man"
[ $bad -eq 0 ] || t_fail "$bad of $n pages have mandoc warnings"
exit 0
