#!/usr/bin/env bash
# CPU cost per request of upshift binaries (and h2o) over h2c, for A/B comparisons on a shared
# machine, where requests/s are noise: each server is pinned to one CPU, warmed up, then its
# task-clock (`perf stat -e task-clock -p PID`, all threads) is measured over a fixed number of
# requests from `h2load -t1 -c10 -m10 -n N` (prior knowledge, RFC 9113 §3.3, 100 streams in flight)
# pinned to the other CPU. The servers run one after the other, ROUNDS times in alternation, so
# they share whatever else the machine is doing. Serves demo/site/index.html, like h2c_vs_h2o.sh.
#
#   bash bench/h2load/h2c_cpu_ab.sh OLD_BINARY NEW_BINARY [h2o]
#
# Environment: REQUESTS (300000), WARMUP_REQUESTS (50000), ROUNDS (3), PORT (18495),
# SERVER_CPU / CLIENT_CPU (0 / 1). Needs perf, h2load, curl, taskset (h2o for "h2o").
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
REQUESTS=${REQUESTS:-300000}
WARMUP_REQUESTS=${WARMUP_REQUESTS:-50000}
ROUNDS=${ROUNDS:-3}
PORT=${PORT:-18495}
SERVER_CPU=${SERVER_CPU-0}
CLIENT_CPU=${CLIENT_CPU-1}

BENCH_NAME=h2c_cpu_ab
# shellcheck source=bench/lib/common.sh
source "$repo/bench/lib/common.sh"

(($# > 0)) || die "usage: $0 BINARY... [h2o]"
for tool in perf h2load curl taskset timeout; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
port_in_use "$PORT" && die "port $PORT is already in use (set PORT)"

bench_tmp upshift-bench-h2-ab
chmod 755 "$tmp"
mkdir -p "$tmp/site"
cp "$repo/demo/site/index.html" "$tmp/site/"
chmod -R a+rX "$tmp/site"
url=http://127.0.0.1:$PORT/index.html

start() {
    local what=$1
    if [[ $what == h2o ]]; then
        cat >"$tmp/h2o.conf" <<CONF
num-threads: 1
error-log: $tmp/h2o-error.log
listen:
  host: 127.0.0.1
  port: $PORT
hosts:
  default:
    paths:
      /:
        file.dir: $tmp/site
CONF
        (pinned "$SERVER_CPU" h2o -c "$tmp/h2o.conf") </dev/null >/dev/null 2>&1 &
    else
        [[ -x $what ]] || die "$what is not an executable"
        (pinned "$SERVER_CPU" "$what" serve --listen "127.0.0.1:$PORT" --threads 1 --root "$tmp/site" \
            --log-level error) </dev/null >/dev/null 2>&1 &
    fi
    pids[server]=$!
    wait_for_port server "$PORT" || die "$what on 127.0.0.1:$PORT $why"
    curl -sf --max-time 5 --http2-prior-knowledge -o /dev/null "$url" || die "$what: GET over h2c failed"
}

measure() {
    local what=$1 out stat=$tmp/stat
    start "$what"
    (pinned "$CLIENT_CPU" timeout 120 h2load -t1 -c10 -m10 -n "$WARMUP_REQUESTS" "$url") >/dev/null
    perf stat -x, -e task-clock -p "${pids[server]}" -o "$stat" &
    local perf_pid=$!
    sleep 0.2
    out=$( (pinned "$CLIENT_CPU" timeout 300 h2load -t1 -c10 -m10 -n "$REQUESTS" "$url") 2>&1) ||
        die "h2load against $what failed: $out"
    kill -INT "$perf_pid"
    wait "$perf_pid" 2>/dev/null || true
    stop_server server
    grep -q -E "^requests: .* $REQUESTS succeeded, 0 failed, 0 errored" <<<"$out" ||
        die "$what: h2load saw failures: $out"
    awk -F, -v n="$REQUESTS" -v what="$what" -v rps="$(awk '/^finished in/ { print $4 }' <<<"$out")" \
        '/task-clock/ { printf "  %-40s %10.0f req/s  %6.3f us task-clock/request\n", what, rps, $1 * 1000 / n }' "$stat"
}

printf 'h2load -t1 -c10 -m10 -n %s %s, servers on CPU %s, h2load on CPU %s; load average: %s\n' \
    "$REQUESTS" "/index.html" "${SERVER_CPU:-any}" "${CLIENT_CPU:-any}" "$(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= ROUNDS; r++)); do
    echo "round $r"
    for what in "$@"; do measure "$what"; done
done
