#!/usr/bin/env bash
# A/B of two WebSocket echo-server binaries by server CPU per operation: runs them alternately
# (A, B, A, B, ...), each freshly started, pinned like run.sh (server on CPU 0, ws_load on CPU 1),
# and prints each run's figures and the mean per binary. A change of a few per cent is below the
# run-to-run noise of one full run.sh on this kind of VM; alternating pairs see it.
#
#   bash bench/ws_load/ab.sh OLD_BIN NEW_BIN                 # upgrade cycles, 5 pairs
#   MODE=echo INFLIGHT=16 PAIRS=5 bash bench/ws_load/ab.sh OLD_BIN NEW_BIN
#
# OLD_BIN / NEW_BIN: upshift_echo_server binaries (for the old one, build the target in a git
# worktree of the old commit). Environment (defaults in brackets):
#   MODE        upgrades or echo                                   [upgrades]
#   CONNS       connections (upgrades: cycles at once)              [50 upgrades, 100 echo]
#   SIZE        echo message size in bytes                           [16]
#   INFLIGHT    echo messages in flight per connection               [1]
#   PAIRS       A/B pairs                                            [5]
#   DURATION    measured seconds per run                             [4]
#   PORT        listening port                                       [18610]
#   BUILD_DIR   where ws_load is (bench/ws_load under it)            [build/bench]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
(($# == 2)) || { echo "usage: $0 OLD_BIN NEW_BIN" >&2; exit 2; }
MODE=${MODE:-upgrades}
case $MODE in
    upgrades) CONNS=${CONNS:-50} key=server_cpu_ns_per_upgrade ;;
    echo) CONNS=${CONNS:-100} key=server_cpu_ns_per_msg ;;
    *) echo "MODE must be upgrades or echo" >&2; exit 2 ;;
esac
SIZE=${SIZE:-16}
INFLIGHT=${INFLIGHT:-1}
PAIRS=${PAIRS:-5}
DURATION=${DURATION:-4}
PORT=${PORT:-18610}
BUILD_DIR=${BUILD_DIR:-build/bench}
[[ $BUILD_DIR = /* ]] || BUILD_DIR="$repo/$BUILD_DIR"
gen=$BUILD_DIR/bench/ws_load/ws_load
for f in "$gen" "$1" "$2"; do [[ -x $f ]] || { echo "$f not found" >&2; exit 1; }; done
cpus=$(nproc)
pin_server=() pin_gen=()
if ((cpus >= 2)); then pin_server=(taskset -c 0) pin_gen=(taskset -c 1); fi

pid=
trap '[[ -n $pid ]] && kill "$pid" 2>/dev/null || true' EXIT

# run BIN: one measured run; prints "ops_per_second cpu_ns_per_op".
run() {
    "${pin_server[@]}" "$1" "$PORT" >/dev/null 2>&1 &
    pid=$!
    local i
    for ((i = 0; i < 50; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
        sleep 0.1
    done
    local out
    out=$("${pin_gen[@]}" timeout $((DURATION + 30)) "$gen" --mode "$MODE" --port "$PORT" --conns "$CONNS" \
        --size "$SIZE" --inflight "$INFLIGHT" --duration "$DURATION" --warmup 1 --server-pid "$pid" | tail -n 1)
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
    awk -v key="$key" '{
        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        rate = ("upgrades_per_s" in v) ? v["upgrades_per_s"] : v["msgs_per_s"]
        printf "%s %s\n", rate, v[key]
    }' <<<"$out"
}

printf '%s, %d connections%s, %d pairs of %d s; A = %s, B = %s\n' "$MODE" "$CONNS" \
    "$([[ $MODE == echo ]] && printf ' x %d B, %d in flight' "$SIZE" "$INFLIGHT")" "$PAIRS" "$DURATION" "$1" "$2"
sum_a=0 sum_b=0
for ((p = 1; p <= PAIRS; p++)); do
    read -r rate_a cpu_a <<<"$(run "$1")"
    read -r rate_b cpu_b <<<"$(run "$2")"
    printf '  pair %d  A %9s/s %8s ns/op   B %9s/s %8s ns/op\n' "$p" "$rate_a" "$cpu_a" "$rate_b" "$cpu_b"
    sum_a=$((sum_a + cpu_a)) sum_b=$((sum_b + cpu_b))
done
awk -v a="$sum_a" -v b="$sum_b" -v n="$PAIRS" 'BEGIN {
    printf "mean server CPU per op: A %.0f ns, B %.0f ns, B/A %.3f\n", a / n, b / n, b / a
}'
