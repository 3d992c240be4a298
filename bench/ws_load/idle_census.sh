#!/usr/bin/env bash
# What an idle WebSocket connection is made of: the idle part of run.sh against upshift alone,
# with malloc_census.so preloaded into the server, which lists its live heap blocks by size at
# each of ws_load's RSS readings (base, idle, after one echo each).
#
#   bash bench/ws_load/idle_census.sh                       # build/bench, 10,000 connections
#   BUILD_DIR=build/h-wsmem CONNS=1000 bash bench/ws_load/idle_census.sh
#
# Prints ws_load's line, then the census of the base and of the idle reading side by side
# (blocks per usable size: chunk = usable + 8 bytes), their difference per connection, and
# mallinfo2's view of the heap. Needs a build with -DUPSHIFT_BUILD_BENCH=ON (targets ws_load,
# upshift_echo_server, malloc_census).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-build/bench}
CONNS=${CONNS:-10000}
PORT=${PORT:-18497}
[[ $BUILD_DIR = /* ]] || BUILD_DIR="$repo/$BUILD_DIR"
bin="$BUILD_DIR/bench/ws_load"
for f in ws_load upshift_echo_server malloc_census.so; do
    [[ -e $bin/$f ]] || { echo "idle_census.sh: $bin/$f not found" >&2; exit 1; }
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then echo "idle_census.sh: port $PORT is in use (set PORT)" >&2; exit 1; fi
log=$(mktemp)
trap 'kill "$pid" 2>/dev/null || true; [[ -n ${KEEP_LOG:-} ]] && cp "$log" "$KEEP_LOG"; rm -f "$log"' EXIT
# exec: in the background job, so that $! is the server itself (it gets the census signal).
pin() { if command -v taskset >/dev/null && (($(nproc) > 1)); then exec taskset -c "$1" "${@:2}"; else exec "${@:2}"; fi; }
(LD_PRELOAD="$bin/malloc_census.so" MALLOC_CENSUS_SIGNAL=10 pin 0 "$bin/upshift_echo_server" "$PORT") >"$log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q '^listening on' "$log" && break; sleep 0.1; done
(pin 1 "$bin/ws_load" --mode idle --port "$PORT" --conns "$CONNS" --server-pid "$pid" --label upshift --signal-server 10)
sleep 0.3
grep '^census [12]: mallinfo2' "$log"
printf '%8s %10s %10s %14s\n' usable base idle "per connection"
awk -v n="$CONNS" '
    /^census [12]: usable +[0-9]+:/ { r = $2; u = $4; sub(":", "", u); c[r u] = $5; sizes[u] = 1 }
    END {
        for (u in sizes) {
            b = c["1:" u] + 0; d = c["2:" u] + 0
            if (b != d) printf "%8d %10d %10d %14.3f\n", u, b, d, (d - b) / n
        }
    }' "$log" | sort -n
