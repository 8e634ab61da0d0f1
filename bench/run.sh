#!/bin/sh
# SPDX-License-Identifier: ISC
# Copyright (c) 2026 The iomuxd developers
#
# run.sh: run every iomux-bench mode against every event-loop backend, in
# the order backends x modes, so that one command gives the whole report.
#
#     bench/run.sh [BUILDDIR] [-- iomux-bench options]
#
# BUILDDIR (default: .) is the build tree holding bench/iomux-bench and
# daemon/iomuxd. $IOMUXD_BACKENDS (default "epoll poll select") and
# $MODES (default "compare rtt idle") narrow the run. Options after "--"
# go to every iomux-bench call, e.g. "-- -d 3 -r 5" or "-- --json".

set -eu

builddir=.
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
    builddir=$1
    shift
fi
if [ $# -gt 0 ] && [ "$1" = "--" ]; then
    shift
fi

bench=$builddir/bench/iomux-bench
if [ ! -x "$bench" ]; then
    echo "run.sh: $bench not found: build it with 'make bench/iomux-bench'" >&2
    exit 2
fi
: "${IOMUXD:=$builddir/daemon/iomuxd}"
export IOMUXD

for backend in ${IOMUXD_BACKENDS:-epoll poll select}; do
    for mode in ${MODES:-compare rtt idle}; do
        echo "== iomux-bench $mode --backend $backend $*" >&2
        "$bench" "$mode" --backend "$backend" "$@"
        echo
    done
done
