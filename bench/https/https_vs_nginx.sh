#!/usr/bin/env bash
# HTTPS load benchmark: upshift vs nginx over TLS, same certificate, same small file, measured with wrk.
#
# One P-256 ECDSA certificate is generated into a temporary directory and given to both servers.
# Both get one worker pinned to CPU 0, wrk runs pinned to CPU 1 (when there are 2+ CPUs), so the
# comparison is per core. Both offer TLS 1.2 and 1.3 with the same TLS 1.2 cipher list and OpenSSL's
# default TLS 1.3 suites; the script prints what each one negotiates. wrk offers no ALPN, so both
# answer in HTTP/1.1 (upshift prefers h2 only for clients that offer it).
#
# Scenarios:
#   keep-alive  wrk -c WRK_CONNS: many requests per TLS connection (record layer cost)
#   handshake   wrk -c CLOSE_CONNS -H 'Connection: close': one request per connection, so every
#               request pays a TCP connect and a TLS handshake. wrk keeps its SSL object between
#               connections and offers the previous session back, so these are resumed handshakes
#               (TLS 1.3 PSK with a fresh X25519 exchange, no certificate signature; both servers
#               issue new tickets each time), as for browsers coming back. The script checks with a
#               Python client that both servers resume.
#   full        `openssl s_time -new -www FILE`: one connection after another, each a full TLS
#               handshake (no resumption: ECDHE plus the server's certificate signature) and one
#               HTTP/1.0 GET. The one-threaded client saturates its core long before a server does
#               (it verifies every certificate), so compare the server CPU per handshake here; the
#               rate mostly says how fast s_time is.
# Each scenario runs ROUNDS times per server, alternating the order each round; the table shows the
# medians of requests/s, the ratio upshift/nginx, and each server's CPU time per request
# (utime + stime from /proc over the run, nginx's master and worker together), which moves less than
# requests/s when other processes share the cores.
#
# Builds nothing: expects build/release/app/upshift (`make bench-https` builds it first).
# Everything listens on 127.0.0.1 only, every wrk run is bounded by `timeout`, and all servers started
# here are stopped on exit.
#
# Environment (defaults in brackets):
#   SERVERS         "upshift nginx" | "nginx" | "upshift"         [upshift nginx]
#   SCENARIOS       any of keepalive, handshake, full             [keepalive handshake full]
#   WRK_THREADS     wrk -t                                        [1]
#   WRK_CONNS       wrk -c for keep-alive                         [50]
#   CLOSE_CONNS     wrk -c for the handshake scenario             [20]
#   WRK_DURATION    wrk -d, seconds                               [10]
#   WARMUP          warm-up seconds per server, not measured      [2]
#   ROUNDS          measured runs per server and scenario         [3]
#   UPSHIFT_PORT / NGINX_PORT   HTTPS ports                       [18483 / 18484]
#   UPSHIFT_HTTP_PORT           upshift's plaintext listener      [18485]
#   UPSHIFT_BIN     server binary                                 [build/release/app/upshift]
#   UPSHIFT_ARGS    extra arguments for `upshift serve`           []
#   NGINX_BIN       nginx binary                                  [nginx on PATH, else /usr/sbin/nginx]
#   SERVER_CPU / WRK_CPU   CPUs for taskset; empty disables       [0 / 1 when 2+ CPUs]
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

SERVERS=${SERVERS:-upshift nginx}
SCENARIOS=${SCENARIOS:-keepalive handshake full}
WRK_THREADS=${WRK_THREADS:-1}
WRK_CONNS=${WRK_CONNS:-50}
CLOSE_CONNS=${CLOSE_CONNS:-20}
WRK_DURATION=${WRK_DURATION:-10}
WRK_DURATION=${WRK_DURATION%s}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
UPSHIFT_PORT=${UPSHIFT_PORT:-18483}
NGINX_PORT=${NGINX_PORT:-18484}
UPSHIFT_HTTP_PORT=${UPSHIFT_HTTP_PORT:-18485}
UPSHIFT_BIN=${UPSHIFT_BIN:-$repo/build/release/app/upshift}
UPSHIFT_ARGS=${UPSHIFT_ARGS:-}
NGINX_BIN=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
FILE=/index.html
# TLS 1.2: forward secrecy and AEAD only, the list upshift's context uses (src/tls/context.cpp).
TLS12_CIPHERS=ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305

BENCH_NAME=https_vs_nginx
# shellcheck source=bench/lib/common.sh
source "$repo/bench/lib/common.sh"
default_cpus WRK_CPU

for tool in wrk curl openssl timeout; do
    command -v "$tool" >/dev/null || die "$tool not found (run scripts/install-deps)"
done
[[ -n $SERVER_CPU || -n $WRK_CPU ]] && { command -v taskset >/dev/null || die "taskset not found"; }

bench_tmp upshift-https-bench
bench_site

# One certificate for both: P-256 ECDSA, as most sites use today; valid for localhost and 127.0.0.1.
cert=$tmp/cert.pem
key=$tmp/key.pem
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$key" -out "$cert" 2>"$tmp/openssl.log" ||
    die "openssl req failed: $(cat "$tmp/openssl.log")"

# The same certificate and TLS versions as upshift, and its TLS 1.2 cipher list with server preference.
# Session tickets stay on (nginx's and OpenSSL's default, as in upshift); no shared session cache.
start_nginx_here() {
    start_nginx "        listen 127.0.0.1:$NGINX_PORT ssl;
        ssl_certificate $cert;
        ssl_certificate_key $key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_ciphers $TLS12_CIPHERS;
        ssl_prefer_server_ciphers on;"
}

start_upshift() {
    [[ -x $UPSHIFT_BIN ]] || die "$UPSHIFT_BIN not found: run 'make build' (or SERVERS=nginx)"
    port_in_use "$UPSHIFT_HTTP_PORT" && die "port $UPSHIFT_HTTP_PORT is already in use (set UPSHIFT_HTTP_PORT)"
    # shellcheck disable=SC2086 # UPSHIFT_ARGS is a word list on purpose
    (pinned "$SERVER_CPU" "$UPSHIFT_BIN" serve --listen "127.0.0.1:$UPSHIFT_HTTP_PORT" --threads 1 --root "$site" \
        --log-level error --tls-cert "$cert" --tls-key "$key" --tls-listen "127.0.0.1:$UPSHIFT_PORT" \
        $UPSHIFT_ARGS) </dev/null >"$tmp/upshift.log" 2>&1 &
    pids[upshift]=$!
}

port_of() { if [[ $1 == nginx ]]; then echo "$NGINX_PORT"; else echo "$UPSHIFT_PORT"; fi; }

# The negotiated protocol and cipher, as a client offering everything sees them.
negotiated() {
    timeout 10 openssl s_client -connect "127.0.0.1:$1" -servername localhost -CAfile "$cert" </dev/null 2>/dev/null |
        awk '/^New, / { sub(/^New, /, ""); print; exit }'
}

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
    # A fast 404 or a certificate mix-up would make a meaningless benchmark: check the body, over
    # HTTP/1.1 (what wrk speaks), verifying the certificate.
    curl -sf --http1.1 --max-time 5 --cacert "$cert" --resolve "localhost:$port:127.0.0.1" \
        "https://localhost:$port$FILE" -o "$tmp/check.$name" || die "$name: GET https://...$FILE failed"
    cmp -s "$tmp/check.$name" "$site/index.html" || die "$name: GET $FILE returned a different body"
    printf '  %-8s negotiates %s\n' "$name" "$(negotiated "$port")"
}

# run_wrk NAME SCENARIO SECONDS: prints "requests/s cpu-microseconds-per-request"; fails on socket
# errors or non-2xx answers.
run_wrk() {
    local name=$1 scenario=$2 secs=$3 out before after
    local url
    url=https://127.0.0.1:$(port_of "$name")$FILE
    local -a cmd=(wrk -t"$WRK_THREADS" -d"${secs}s" --timeout 5s)
    if [[ $scenario == handshake ]]; then
        cmd+=(-c"$CLOSE_CONNS" -H 'Connection: close' "$url")
    else
        cmd+=(-c"$WRK_CONNS" "$url")
    fi
    before=$(cpu_ticks "${pids[$name]}")
    out=$( (pinned "$WRK_CPU" timeout $((secs + 30)) "${cmd[@]}") 2>&1) ||
        die "wrk against $name failed: $out"
    after=$(cpu_ticks "${pids[$name]}")
    printf '%s\n' "$out" >>"$tmp/wrk.$name.log"
    if grep -q -E 'Non-2xx or 3xx responses|Socket errors' <<<"$out"; then
        printf '%s\n' "$out" >&2
        die "$name: wrk saw errors (see above)"
    fi
    awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
        / requests in / { done = $1 + 0 }
        /^Requests\/sec:/ { rps = $2 + 0 }
        END {
            if (!rps || !done) exit 1
            printf "%s %.2f\n", rps, ticks / hz * 1e6 / done
        }' <<<"$out" || die "no Requests/sec in wrk output for $name: $out"
}

# run_s_time NAME SECONDS: full handshakes with `openssl s_time -new`; prints "connections/s
# cpu-microseconds-per-connection"; fails unless every connection read at least the file's bytes.
run_s_time() {
    local name=$1 secs=$2 out before after start end
    before=$(cpu_ticks "${pids[$name]}")
    start=$(date +%s.%N)
    out=$( (pinned "$WRK_CPU" timeout $((secs + 30)) openssl s_time -connect "127.0.0.1:$(port_of "$name")" -new \
        -time "$secs" -www "$FILE" -CAfile "$cert") 2>&1) || die "openssl s_time against $name failed: $out"
    end=$(date +%s.%N)
    after=$(cpu_ticks "${pids[$name]}")
    printf '%s\n' "$out" | grep -v '^\*' >>"$tmp/s_time.$name.log"
    awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" -v wall="$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" \
        -v size="$(stat -c %s "$site/index.html")" '
        / connections in .* real seconds, / { done = $1 + 0; per = $(NF - 4) + 0 }
        END {
            if (!done || per < size) exit 1
            printf "%.1f %.2f\n", done / wall, ticks / hz * 1e6 / done
        }' <<<"$out" || die "$name: s_time made no connection, or short responses: $out"
}

# How many reconnections resume the previous session, as wrk's do (it keeps its SSL object and
# with it the last session, TLS 1.3 tickets included): Python's ssl module, 1 + 9 connections.
resumption_check() {
    timeout 20 python3 - "$1" "$cert" <<'PY' 2>&1 || true
import socket, ssl, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
session, resumed = None, 0
for _ in range(10):
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
            s.sendall(b"GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            while s.recv(65536):
                pass
            resumed += s.session_reused
            session = s.session
print(f"{resumed} of 9 reconnections resumed")
PY
}

read -r -a servers <<<"$SERVERS"
for s in "${servers[@]}"; do
    [[ $s == upshift || $s == nginx ]] || die "unknown server '$s' in SERVERS"
done
read -r -a scenarios <<<"$SCENARIOS"
for sc in "${scenarios[@]}"; do
    [[ $sc == keepalive || $sc == handshake || $sc == full ]] || die "unknown scenario '$sc' in SCENARIOS"
done
label() {
    case $1 in
        keepalive) echo "keep-alive" ;;
        handshake) echo "handshake/request" ;;
        *) echo "full handshake" ;;
    esac
}

runs=$((${#servers[@]} * ROUNDS * ${#scenarios[@]}))
printf 'upshift vs nginx over HTTPS: %s, GET %s (%d bytes), wrk -t%s -d%ss, -c%s keep-alive, -c%s Connection: close, %d rounds\n' \
    "${servers[*]}" "$FILE" "$(stat -c %s "$site/index.html")" "$WRK_THREADS" "$WRK_DURATION" "$WRK_CONNS" \
    "$CLOSE_CONNS" "$ROUNDS"
printf 'servers on CPU %s, wrk on CPU %s; about %ds; load average at start: %s\n' "${SERVER_CPU:-any}" \
    "${WRK_CPU:-any}" $((runs * WRK_DURATION + ${#servers[@]} * WARMUP + 5)) "$(cut -d' ' -f1-3 /proc/loadavg)"

for s in "${servers[@]}"; do
    start_server "$s"
    run_wrk "$s" keepalive "$WARMUP" >/dev/null
    if [[ " ${scenarios[*]} " == *" handshake "* ]]; then
        printf '  %-8s session reuse: %s\n' "$s" "$(resumption_check "$(port_of "$s")")"
    fi
done

declare -A rps_of=() cpu_of=()
for scenario in "${scenarios[@]}"; do
    for ((r = 1; r <= ROUNDS; r++)); do
        order=("${servers[@]}")
        if ((r % 2 == 0)) && ((${#servers[@]} == 2)); then order=("${servers[1]}" "${servers[0]}"); fi
        for s in "${order[@]}"; do
            if [[ $scenario == full ]]; then
                read -r rps cpu <<<"$(run_s_time "$s" "$WRK_DURATION")"
            else
                read -r rps cpu <<<"$(run_wrk "$s" "$scenario" "$WRK_DURATION")"
            fi
            printf '  %-18s round %d  %-8s %12.0f req/s  %7.2f us CPU/request\n' "$(label "$scenario")" "$r" "$s" \
                "$rps" "$cpu"
            rps_of[$scenario.$s]+="$rps "
            cpu_of[$scenario.$s]+="$cpu "
        done
    done
done

echo
printf '%-18s %13s %13s %9s %13s %13s\n' scenario "upshift req/s" "nginx req/s" ratio "upshift us/r" "nginx us/r"
for scenario in "${scenarios[@]}"; do
    u=- n=- ratio=- ucpu=- ncpu=-
    # shellcheck disable=SC2086 # space-separated lists of numbers
    if [[ -n ${rps_of[$scenario.upshift]:-} ]]; then
        u=$(median ${rps_of[$scenario.upshift]}) ucpu=$(median ${cpu_of[$scenario.upshift]})
    fi
    # shellcheck disable=SC2086
    if [[ -n ${rps_of[$scenario.nginx]:-} ]]; then
        n=$(median ${rps_of[$scenario.nginx]}) ncpu=$(median ${cpu_of[$scenario.nginx]})
    fi
    [[ $u != - && $n != - ]] && ratio=$(awk -v u="$u" -v n="$n" 'BEGIN { printf "%.2f", u / n }')
    printf '%-18s %13s %13s %9s %13s %13s\n' "$(label "$scenario")" "$(fmt "$u")" "$(fmt "$n")" "$ratio" \
        "$(fmt "$ucpu" 2)" "$(fmt "$ncpu" 2)"
done
echo "ratio = upshift/nginx requests/s (above 1: upshift faster); us/r = server CPU microseconds per request"
echo "(full handshake: connections/s of one s_time client, which saturates first: compare us/r)"
printf 'load average at end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
