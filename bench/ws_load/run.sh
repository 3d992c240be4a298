#!/usr/bin/env bash
# WebSocket echo load run: upshift vs Boost.Beast vs Node `ws`, side by side, one server core each.
#
# Every server is pinned to CPU 0 and the load generator (bench/ws_load/ws_load.cpp) to CPU 1 (with
# 2+ CPUs). Scenarios, each ROUNDS times per server (the order rotates every round so drift spreads
# evenly), medians in the table, ratios to Beast (above 1 means better than Beast):
#
#   echo x1      100 connections x 16 B, 1 message in flight per connection
#   echo x16     100 connections x 16 B, 16 in flight (pipelined)
#   echo 64KiB   10 connections x 64 KiB, 1 in flight
#   upgrades     full cycles/s (connect, handshake, one message, closing handshake), 50 at once
#   idle         server RSS growth per connection over IDLE_CONNS idle connections (fresh server)
#
# Every echo is verified byte for byte and in order by the generator; any error stops the run.
# Server CPU time per message comes from /proc/PID/stat over the measured window: when a server does
# not use its whole core (the generator saturates first, or other processes take the cores), compare
# that column, not msgs/s; the target check at the end does so by itself.
#
# Builds nothing: expects ws_load, upshift_echo_server and beast_echo_server in
# $BUILD_DIR/bench/ws_load (`make bench-ws` builds them). Everything listens on 127.0.0.1 only,
# each generator run is bounded by `timeout`, and every server started here is stopped on exit.
#
# Environment (defaults in brackets):
#   BUILD_DIR      Release build with -DUPSHIFT_BUILD_BENCH=ON         [build/bench]
#   SERVERS        any of "upshift beast node"                         [upshift beast node]
#   ROUNDS         measured runs per server and scenario               [3]
#   DURATION       measured seconds per run                            [4]
#   WARMUP         unmeasured seconds before each run                  [1]
#   SCENARIOS      any of "echo1 echo16 echo64k upgrades idle"         [all]
#   IDLE_CONNS     connections held for the memory figure              [10000]
#   UPGRADE_CONCURRENCY  cycles in progress at once                    [50]
#   BASE_PORT      upshift, beast, node listen on BASE_PORT+0/1/2      [18491]
#   NODE_PATH      where `ws` is installed                              [tests/clients/node_modules]
#   RESULTS        file for the raw key=value lines                    [$BUILD_DIR/ws_load-results.txt]
#   SERVER_CPU / GEN_CPU   CPUs for taskset; empty disables            [0 / 1 when 2+ CPUs]
#   BEAST_AUTO_FRAGMENT    1: Beast with its default auto_fragment(true) (a 64 KiB echo goes out
#                  in frames of its write buffer's size) instead of one frame  [unset]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$repo/bench/ws_load

BUILD_DIR=${BUILD_DIR:-$repo/build/bench}
SERVERS=${SERVERS:-upshift beast node}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-4}
WARMUP=${WARMUP:-1}
SCENARIOS=${SCENARIOS:-echo1 echo16 echo64k upgrades idle}
IDLE_CONNS=${IDLE_CONNS:-10000}
UPGRADE_CONCURRENCY=${UPGRADE_CONCURRENCY:-50}
BASE_PORT=${BASE_PORT:-18491}
export NODE_PATH=${NODE_PATH:-$repo/tests/clients/node_modules}
RESULTS=${RESULTS:-$BUILD_DIR/ws_load-results.txt}
bin=$BUILD_DIR/bench/ws_load

BENCH_NAME=ws_load/run.sh
# shellcheck source=bench/lib/common.sh
source "$repo/bench/lib/common.sh"
default_cpus GEN_CPU

read -r -a servers <<<"$SERVERS"
read -r -a scenarios <<<"$SCENARIOS"
[[ -x $bin/ws_load ]] || die "$bin/ws_load not found: build with -DUPSHIFT_BUILD_BENCH=ON (make bench-ws)"
for s in "${servers[@]}"; do
    case $s in
    upshift) [[ -x $bin/upshift_echo_server ]] || die "$bin/upshift_echo_server not found" ;;
    beast) [[ -x $bin/beast_echo_server ]] || die "$bin/beast_echo_server not found (Boost headers missing at configure time?)" ;;
    node)
        command -v node >/dev/null || die "node not found"
        [[ -d $NODE_PATH/ws ]] || die "npm ws not found in $NODE_PATH (scripts/install-deps installs it)"
        ;;
    *) die "unknown server '$s' in SERVERS" ;;
    esac
done
for tool in timeout awk; do command -v "$tool" >/dev/null || die "$tool not found"; done
[[ -n $SERVER_CPU || -n $GEN_CPU ]] && { command -v taskset >/dev/null || die "taskset not found"; }

# 10,000 idle connections need as many descriptors in the server and in the generator.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
(($(ulimit -n) > IDLE_CONNS + 100)) || die "ulimit -n is $(ulimit -n): too low for IDLE_CONNS=$IDLE_CONNS"

bench_tmp upshift-ws-bench
port_of() {
    case $1 in upshift) echo $((BASE_PORT)) ;; beast) echo $((BASE_PORT + 1)) ;; node) echo $((BASE_PORT + 2)) ;; esac
}

start_server() {
    local name=$1 port i
    port=$(port_of "$name")
    port_in_use "$port" && die "port $port is already in use (set BASE_PORT)"
    # Emptied here, not by the background redirection, which may come too late for the wait below.
    : >"$tmp/$name.log"
    case $name in
    upshift) (pinned "$SERVER_CPU" "$bin/upshift_echo_server" "$port") </dev/null >"$tmp/$name.log" 2>&1 & ;;
    beast) (pinned "$SERVER_CPU" "$bin/beast_echo_server" "$port") </dev/null >"$tmp/$name.log" 2>&1 & ;;
    node) (pinned "$SERVER_CPU" node "$here/node_ws_echo_server.js" "$port") </dev/null >"$tmp/$name.log" 2>&1 & ;;
    esac
    pids[$name]=$!
    for ((i = 0; i < 100; i++)); do
        grep -q '^listening on' "$tmp/$name.log" 2>/dev/null && return 0
        kill -0 "${pids[$name]}" 2>/dev/null || { cat "$tmp/$name.log" >&2; die "$name exited before listening"; }
        sleep 0.1
    done
    die "$name did not listen within 10 s"
}

# gen NAME ARGS...: one generator run against NAME; prints its key=value line (also kept in RESULTS).
gen() {
    local name=$1 out
    shift
    out=$( (pinned "$GEN_CPU" timeout 120 "$bin/ws_load" --port "$(port_of "$name")" --server-pid "${pids[$name]}" \
        --label "$name" "$@") 2>&1) || die "ws_load against $name failed: $out"
    printf '%s\n' "$out" >>"$RESULTS"
    printf '%s\n' "$out"
}

field() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k { print $2 }'; }

args_of() {
    local common=(--duration "$DURATION" --warmup "$WARMUP")
    case $1 in
    echo1) echo --mode echo --conns 100 --size 16 --inflight 1 "${common[@]}" ;;
    echo16) echo --mode echo --conns 100 --size 16 --inflight 16 "${common[@]}" ;;
    echo64k) echo --mode echo --conns 10 --size 65536 --inflight 1 "${common[@]}" ;;
    upgrades) echo --mode upgrades --conns "$UPGRADE_CONCURRENCY" "${common[@]}" ;;
    esac
}
label() {
    case $1 in
    echo1) echo "100 x 16 B, 1 in flight" ;; echo16) echo "100 x 16 B, 16 in flight" ;;
    echo64k) echo "10 x 64 KiB, 1 in flight" ;; upgrades) echo "upgrade cycles ($UPGRADE_CONCURRENCY at once)" ;;
    idle) echo "idle connections ($IDLE_CONNS)" ;;
    esac
}

: >"$RESULTS"
printf 'ws_load: %s; servers on CPU %s, generator on CPU %s; %s rounds of %ss (+%ss warm-up)\n' \
    "${servers[*]}" "${SERVER_CPU:-any}" "${GEN_CPU:-any}" "$ROUNDS" "$DURATION" "$WARMUP"
printf 'load average before: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"

declare -A res=()  # res[scenario.server.key] = "v1 v2 ..."
throughput=()
for sc in "${scenarios[@]}"; do [[ $sc != idle ]] && throughput+=("$sc"); done

if ((${#throughput[@]} > 0)); then
    for s in "${servers[@]}"; do start_server "$s"; done
    for sc in "${throughput[@]}"; do
        read -r -a a <<<"$(args_of "$sc")"
        for ((r = 0; r < ROUNDS; r++)); do
            # Rotate the order each round.
            order=("${servers[@]:r % ${#servers[@]}}" "${servers[@]:0:r % ${#servers[@]}}")
            for s in "${order[@]}"; do
                line=$(gen "$s" "${a[@]}")
                for k in msgs_per_s upgrades_per_s p50_us p99_us p999_us server_cpu_pct client_cpu_pct \
                    server_cpu_ns_per_msg server_cpu_ns_per_upgrade server_sys_ns_per_msg server_sys_ns_per_upgrade; do
                    v=$(field "$k" "$line")
                    [[ -n $v ]] && res[$sc.$s.$k]+="$v "
                done
                printf '  %-28s round %d  %-8s %s\n' "$(label "$sc")" $((r + 1)) "$s" \
                    "$(field msgs_per_s "$line")$(field upgrades_per_s "$line")/s"
            done
        done
    done
    for s in "${servers[@]}"; do stop_server "$s"; done
fi

if [[ " ${scenarios[*]} " == *" idle "* ]]; then
    # A fresh server each time, so its baseline is not inflated by memory earlier runs left behind.
    for s in "${servers[@]}"; do
        start_server "$s"
        line=$(gen "$s" --mode idle --conns "$IDLE_CONNS")
        stop_server "$s"
        res[idle.$s.bytes_per_idle_conn]=$(field bytes_per_idle_conn "$line")
        res[idle.$s.bytes_per_conn_after_echo]=$(field bytes_per_conn_after_echo "$line")
        printf '  %-28s          %-8s %s B per idle connection\n' "$(label idle)" "$s" "${res[idle.$s.bytes_per_idle_conn]}"
    done
fi

# shellcheck disable=SC2086 # the values are a space-separated list of numbers on purpose
med() { local v=${res[$1]:-}; if [[ -z $v ]]; then echo -; else median $v; fi; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }

echo
printf 'load average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
# "srv ns/op": the server's CPU time per message or cycle; "of it kernel": the part spent in the
# kernel (system time), which no change to the server's own code removes.
printf '%-28s %-8s %12s %8s %9s %9s %9s %11s %9s %7s %7s\n' scenario server "per second" "vs Beast" "p50 us" "p99 us" \
    "p999 us" "srv ns/op" "of it kern" "srv %" "gen %"
for sc in "${throughput[@]}"; do
    rate=msgs_per_s cpu=server_cpu_ns_per_msg sys=server_sys_ns_per_msg
    [[ $sc == upgrades ]] && rate=upgrades_per_s cpu=server_cpu_ns_per_upgrade sys=server_sys_ns_per_upgrade
    beast_rate=$(med "$sc.beast.$rate")
    for s in "${servers[@]}"; do
        printf '%-28s %-8s %12.0f %8s %9s %9s %9s %11.0f %9s %7s %7s\n' "$(label "$sc")" "$s" "$(med "$sc.$s.$rate")" \
            "$(ratio "$(med "$sc.$s.$rate")" "$beast_rate")" "$(med "$sc.$s.p50_us")" "$(med "$sc.$s.p99_us")" \
            "$(med "$sc.$s.p999_us")" "$(med "$sc.$s.$cpu")" "$(med "$sc.$s.$sys")" "$(med "$sc.$s.server_cpu_pct")" \
            "$(med "$sc.$s.client_cpu_pct")"
    done
done
if [[ " ${scenarios[*]} " == *" idle "* ]]; then
    for s in "${servers[@]}"; do
        printf '%-28s %-8s %9s B/conn idle, %s B/conn after one echo each\n' "$(label idle)" "$s" \
            "${res[idle.$s.bytes_per_idle_conn]}" "${res[idle.$s.bytes_per_conn_after_echo]}"
    done
fi

# The issue's targets, as upshift/Beast ratios in this run. Where a server was not using its whole
# core (the generator was the limit, or other load), the ratio of server CPU per operation decides.
if [[ " ${servers[*]} " == *" upshift "* && " ${servers[*]} " == *" beast "* ]]; then
    echo
    echo "targets (upshift vs Beast in this run):"
    for t in "echo1 1.8" "echo16 15" "echo64k 4" "upgrades 1.2"; do
        read -r sc want <<<"$t"
        [[ " ${throughput[*]} " == *" $sc "* ]] || continue
        rate=msgs_per_s cpu=server_cpu_ns_per_msg
        [[ $sc == upgrades ]] && rate=upgrades_per_s cpu=server_cpu_ns_per_upgrade
        by_rate=$(ratio "$(med "$sc.upshift.$rate")" "$(med "$sc.beast.$rate")")
        by_cpu=$(ratio "$(med "$sc.beast.$cpu")" "$(med "$sc.upshift.$cpu")")
        # A server below 90 % of its core was not the limit: the generator was, or other processes on
        # a shared machine took the cores. Either way its rate says little, its CPU per op still does.
        not_busy=$(awk -v u="$(med "$sc.upshift.server_cpu_pct")" -v b="$(med "$sc.beast.server_cpu_pct")" \
            'BEGIN { print (u < 90 || b < 90) ? 1 : 0 }')
        judged=$by_rate how="msgs/s"
        [[ $sc == upgrades ]] && how="upgrades/s"
        if ((not_busy)); then judged=$by_cpu how="server CPU per op (a server was < 90 % busy)"; fi
        verdict=$(awk -v r="$judged" -v w="$want" 'BEGIN { print (r != "-" && r >= w) ? "met" : "NOT met" }')
        # The ceiling: Beast's CPU per op over upshift's kernel time alone, i.e. the ratio by CPU if
        # upshift's own code took no time at all. Below the target, no user-space change can meet it.
        sys=server_sys_ns_per_msg
        [[ $sc == upgrades ]] && sys=server_sys_ns_per_upgrade
        ceiling=$(ratio "$(med "$sc.beast.$cpu")" "$(med "$sc.upshift.$sys")")
        printf '  %-28s >= %-5s x  %6s by %s (rate %s, CPU/op %s, ceiling %s)  %s\n' "$(label "$sc")" "$want" \
            "$judged" "$how" "$by_rate" "$by_cpu" "$ceiling" "$verdict"
    done
    echo "  (ceiling: Beast's CPU per op over upshift's kernel time per op, the best ratio by CPU with upshift's"
    echo "   user-space code at zero cost)"
    if [[ -n ${res[idle.upshift.bytes_per_idle_conn]:-} ]]; then
        b=${res[idle.upshift.bytes_per_idle_conn]}
        printf '  %-28s <= 256 B    %6s B  %s\n' "$(label idle)" "$b" "$(awk -v b="$b" 'BEGIN { print (b <= 256) ? "met" : "NOT met" }')"
    fi
fi
echo "raw results: $RESULTS"
