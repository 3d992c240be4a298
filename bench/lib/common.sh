# What the load scripts in bench/ share: failing, CPU pinning, starting/stopping servers in the
# background, waiting for their ports, and medians. Source it after setting BENCH_NAME.
# shellcheck shell=bash

die() {
    printf '%s: %s\n' "$BENCH_NAME" "$*" >&2
    exit 1
}

# pinned CPU CMD...: exec CMD on CPU (unpinned when CPU is empty).
pinned() {
    local cpu=$1
    shift
    if [[ -n $cpu ]]; then exec taskset -c "$cpu" "$@"; else exec "$@"; fi
}

# Background servers by name; bench_tmp's exit trap stops them all.
declare -A pids=()

# stop_server NAME: TERM, up to 5 s, then KILL (its children too: nginx workers of a stuck master).
stop_server() {
    local name=$1 pid i
    pid=${pids[$name]:-}
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        pkill -KILL -P "$pid" 2>/dev/null || true
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    unset "pids[$name]"
}

bench_cleanup() {
    local name
    for name in "${!pids[@]}"; do stop_server "$name"; done
    [[ -n ${tmp:-} ]] && rm -rf "$tmp"
}

# bench_tmp PREFIX: sets `tmp` to a private directory; on exit every server is stopped and it is removed.
bench_tmp() {
    tmp=$(mktemp -d "/tmp/$1.XXXXXX")
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_for_port NAME PORT: up to 10 s for the server to accept, failing early if it exited
# (`why` says which; the caller reads it).
# shellcheck disable=SC2034
wait_for_port() {
    local name=$1 port=$2 i
    why="did not accept connections within 10 s"
    for ((i = 0; i < 100; i++)); do
        port_in_use "$port" && return 0
        if ! kill -0 "${pids[$name]}" 2>/dev/null; then
            local rc=0
            wait "${pids[$name]}" 2>/dev/null || rc=$?
            unset "pids[$name]"
            why="exited with status $rc before accepting connections"
            return 1
        fi
        sleep 0.1
    done
    return 1
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
