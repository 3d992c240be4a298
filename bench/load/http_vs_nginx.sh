#!/usr/bin/env bash
# Load benchmark: upshift vs nginx serving the same small static file on loopback, measured with wrk.
#
# Both servers get one worker thread pinned to CPU 0 and wrk runs pinned to CPU 1 (when there are 2+
# CPUs), so the comparison is per core. Each scenario runs ROUNDS times per server, alternating the order
# each round to spread drift evenly; the table shows the medians and the ratio upshift/nginx.
# Scenarios: plain keep-alive, and keep-alive with PIPELINE_DEPTH pipelined requests per write.
#
# Builds nothing: expects build/release/app/upshift (`make bench-load` builds it first).
# Everything listens on 127.0.0.1 only, every wrk run is bounded by `timeout`, and all servers started
# here are stopped on exit.
#
# Environment (defaults in brackets):
#   SERVERS         "upshift nginx" | "nginx" | "upshift"         [upshift nginx]
#   WRK_THREADS     wrk -t                                        [1]
#   WRK_CONNS       wrk -c                                        [50]
#   WRK_DURATION    wrk -d, seconds                               [10]
#   WARMUP          warm-up seconds per server, not measured      [2]
#   ROUNDS          measured runs per server and scenario         [3]
#   PIPELINE_DEPTH  requests per write; 0 skips that scenario     [16]
#   UPSHIFT_PORT / NGINX_PORT                                     [18481 / 18482]
#   UPSHIFT_BIN     server binary                                 [build/release/app/upshift]
#   UPSHIFT_ARGS    extra arguments for `upshift serve`           []
#   NGINX_BIN       nginx binary                                  [nginx on PATH, else /usr/sbin/nginx]
#   SERVER_CPU / WRK_CPU   CPUs for taskset; empty disables       [0 / 1 when 2+ CPUs]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$repo/bench/load

SERVERS=${SERVERS:-upshift nginx}
WRK_THREADS=${WRK_THREADS:-1}
WRK_CONNS=${WRK_CONNS:-50}
WRK_DURATION=${WRK_DURATION:-10}
WRK_DURATION=${WRK_DURATION%s}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
PIPELINE_DEPTH=${PIPELINE_DEPTH:-16}
UPSHIFT_PORT=${UPSHIFT_PORT:-18481}
NGINX_PORT=${NGINX_PORT:-18482}
UPSHIFT_BIN=${UPSHIFT_BIN:-$repo/build/release/app/upshift}
UPSHIFT_ARGS=${UPSHIFT_ARGS:-}
NGINX_BIN=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
FILE=/index.html

BENCH_NAME=http_vs_nginx
# shellcheck source=bench/lib/common.sh
source "$repo/bench/lib/common.sh"
default_cpus WRK_CPU

for tool in wrk curl timeout; do
    command -v "$tool" >/dev/null || die "$tool not found (run scripts/install-deps)"
done
[[ -n $SERVER_CPU || -n $WRK_CPU ]] && { command -v taskset >/dev/null || die "taskset not found"; }

bench_tmp upshift-bench
bench_site

start_nginx_here() { start_nginx "        listen 127.0.0.1:$NGINX_PORT;"; }

start_upshift() {
    [[ -x $UPSHIFT_BIN ]] || die "$UPSHIFT_BIN not found: run 'make build' (or SERVERS=nginx)"
    # shellcheck disable=SC2086 # UPSHIFT_ARGS is a word list on purpose
    (pinned "$SERVER_CPU" "$UPSHIFT_BIN" serve --listen "127.0.0.1:$UPSHIFT_PORT" --threads 1 --root "$site" \
        $UPSHIFT_ARGS) </dev/null >"$tmp/upshift.log" 2>&1 &
    pids[upshift]=$!
}

port_of() { if [[ $1 == nginx ]]; then echo "$NGINX_PORT"; else echo "$UPSHIFT_PORT"; fi; }

start_server() {
    local name=$1 port
    port=$(port_of "$name")
    port_in_use "$port" && die "port $port is already in use (set ${name^^}_PORT)"
    if [[ $name == nginx ]]; then start_nginx_here; else start_upshift; fi
    if ! wait_for_port "$name" "$port"; then
        local log=$tmp/upshift.log
        [[ $name == nginx ]] && log=$tmp/nginx/error.log
        echo "--- $log" >&2
        tail -n 20 "$log" >&2 || true
        die "$name on 127.0.0.1:$port $why"
    fi
    # A fast 404 would make a meaningless benchmark: check the body first.
    curl -sf --max-time 5 "http://127.0.0.1:$port$FILE" -o "$tmp/check.$name" ||
        die "$name: GET $FILE failed"
    cmp -s "$tmp/check.$name" "$site/index.html" || die "$name: GET $FILE returned a different body"
}

# run_wrk NAME SECONDS [wrk script args]: prints requests/s; fails on socket errors or non-2xx answers.
run_wrk() {
    local name=$1 secs=$2 out
    shift 2
    local url
    url=http://127.0.0.1:$(port_of "$name")$FILE
    local -a cmd=(wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${secs}s" --timeout 5s)
    if (($# > 0)); then
        cmd+=(-s "$here/pipeline.lua" "$url" -- "$@")
    else
        cmd+=("$url")
    fi
    out=$( (pinned "$WRK_CPU" timeout $((secs + 30)) "${cmd[@]}") 2>&1) ||
        die "wrk against $name failed: $out"
    printf '%s\n' "$out" >>"$tmp/wrk.$name.log"
    if grep -q -E 'Non-2xx or 3xx responses|Socket errors' <<<"$out"; then
        printf '%s\n' "$out" >&2
        die "$name: wrk saw errors (see above)"
    fi
    awk '/^Requests\/sec:/ { print $2; found = 1 } END { exit !found }' <<<"$out" ||
        die "no Requests/sec in wrk output for $name: $out"
}

read -r -a servers <<<"$SERVERS"
for s in "${servers[@]}"; do
    [[ $s == upshift || $s == nginx ]] || die "unknown server '$s' in SERVERS"
done

scenarios=(keepalive)
((PIPELINE_DEPTH > 0)) && scenarios+=(pipeline)
label() { if [[ $1 == keepalive ]]; then echo "keep-alive"; else echo "pipelined x$PIPELINE_DEPTH"; fi; }
wrk_extra() { if [[ $1 == pipeline ]]; then echo "$PIPELINE_DEPTH"; fi; }

runs=$((${#servers[@]} * ROUNDS * ${#scenarios[@]}))
printf 'upshift vs nginx: %s, GET %s (%d bytes), wrk -t%s -c%s -d%ss, %d rounds\n' \
    "${servers[*]}" "$FILE" "$(stat -c %s "$site/index.html")" "$WRK_THREADS" "$WRK_CONNS" "$WRK_DURATION" "$ROUNDS"
printf 'servers on CPU %s, wrk on CPU %s; about %ds\n' "${SERVER_CPU:-any}" "${WRK_CPU:-any}" \
    $((runs * WRK_DURATION + ${#servers[@]} * WARMUP + 5))

for s in "${servers[@]}"; do
    start_server "$s"
    run_wrk "$s" "$WARMUP" >/dev/null
done

declare -A results=()
for scenario in "${scenarios[@]}"; do
    extra=$(wrk_extra "$scenario")
    for ((r = 1; r <= ROUNDS; r++)); do
        order=("${servers[@]}")
        if ((r % 2 == 0)) && ((${#servers[@]} == 2)); then order=("${servers[1]}" "${servers[0]}"); fi
        for s in "${order[@]}"; do
            # shellcheck disable=SC2086 # extra is empty or one number
            rps=$(run_wrk "$s" "$WRK_DURATION" $extra)
            printf '  %-16s round %d  %-8s %12.0f req/s\n' "$(label "$scenario")" "$r" "$s" "$rps"
            results[$scenario.$s]+="$rps "
        done
    done
done

echo
printf '%-16s %14s %14s %14s\n' scenario "upshift req/s" "nginx req/s" upshift/nginx
for scenario in "${scenarios[@]}"; do
    u=- n=- ratio=-
    # shellcheck disable=SC2086 # space-separated list of numbers
    [[ -n ${results[$scenario.upshift]:-} ]] && u=$(median ${results[$scenario.upshift]})
    # shellcheck disable=SC2086
    [[ -n ${results[$scenario.nginx]:-} ]] && n=$(median ${results[$scenario.nginx]})
    [[ $u != - && $n != - ]] && ratio=$(awk -v u="$u" -v n="$n" 'BEGIN { printf "%.2f", u / n }')
    printf '%-16s %14s %14s %14s\n' "$(label "$scenario")" "$(fmt "$u")" "$(fmt "$n")" "$ratio"
done
