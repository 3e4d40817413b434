#!/usr/bin/env bash
# Load-tests saed's HTTP server with wrk on loopback and puts nginx beside it for scale.
#
#   scripts/bench-http.sh [--long] [--duration SECONDS] [--connections N]
#
# Installs wrk, nginx and curl from Debian when missing, builds saed in release mode, starts it
# on 127.0.0.1 with a temporary data directory, and runs wrk (keep-alive, 64 connections, 10 s
# by default) against:
#   - saed's GET /healthz and nginx serving a static file of the same bytes (both on 127.0.0.1);
#   - saed's POST /v1/models/ID/encode with one 784-float row, twice, on a model it trains
#     first (1,000 Fashion-MNIST rows, one epoch: a few seconds);
#   - with --long, 1,000,000 more GET /healthz requests, to show whether RSS grows.
# Prints requests/s and latency percentiles side by side, the saed/nginx ratio, and saed's RSS
# along the way. A benchmark: it prints figures and asserts nothing about them.
#
# Environment: SAED_BUILD_DIR (default .build) is the build directory to use.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=10
connections=64
long=0
while [ $# -gt 0 ]; do
    case "$1" in
        --long) long=1 ;;
        --duration) duration="$2"; shift ;;
        --connections) connections="$2"; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "bench-http: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
threads=2
build_dir="${SAED_BUILD_DIR:-.build}"

# --- Tools -------------------------------------------------------------------------------------

scripts/install-deps.sh
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"

echo "building saed (release) in $build_dir"
swift build -c release --product saed --scratch-path "$build_dir" 2>&1 | tail -1
saed_bin="$build_dir/release/saed"

# --- Servers -----------------------------------------------------------------------------------

work="$(mktemp -d /tmp/saed-bench.XXXXXX)"
saed_pid=""
nginx_pid=""
cleanup() {
    [ -n "$saed_pid" ] && kill "$saed_pid" 2>/dev/null && wait "$saed_pid" 2>/dev/null
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

# A loopback port nothing listens on.
free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$(( 20000 + RANDOM % 40000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    echo "bench-http: no free port found" >&2
    exit 1
}

# Waits up to 30 s for a URL to answer.
wait_for() {
    for _ in $(seq 1 300); do
        curl -sf -o /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "bench-http: $1 did not answer" >&2
    exit 1
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$saed_pid/status"; }

saed_port=$(free_port)
mkdir -p "$work/data"
"$saed_bin" --port "$saed_port" --data-dir "$work/data" --log-level warning \
    >"$work/saed.log" 2>&1 &
saed_pid=$!
wait_for "http://127.0.0.1:$saed_port/healthz"
rss_start=$(rss_kib)

# nginx serves the very bytes /healthz returns, as a static file.
mkdir -p "$work/www"
curl -sf "http://127.0.0.1:$saed_port/healthz" >"$work/www/healthz"
chmod 755 "$work" "$work/www"
chmod 644 "$work/www/healthz"
nginx_port=$(free_port)
cat >"$work/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $work/nginx-body;
    server {
        listen 127.0.0.1:$nginx_port;
        root $work/www;
        location = /healthz { default_type application/json; }
    }
}
EOF
"$nginx_bin" -p "$work" -c "$work/nginx.conf" 2>>"$work/nginx-error.log" &
nginx_pid=$!
wait_for "http://127.0.0.1:$nginx_port/healthz"

# --- wrk ---------------------------------------------------------------------------------------

# Runs wrk and prints "requests/s p50 p90 p99" (latencies in ms) for the run; extra arguments
# go to wrk before the URL.
measure() {
    local output
    output=$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency "$@" 2>&1)
    echo "$output" >>"$work/wrk.log"
    echo "$output" | awk '
        function ms(text,   value) {
            value = text + 0
            if (text ~ /us$/) return value / 1000
            if (text ~ /ms$/) return value
            if (text ~ /s$/) return value * 1000
            return value
        }
        /^ +50%/ { p50 = ms($2) }
        /^ +90%/ { p90 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        /^Requests\/sec:/ { rps = $2 }
        /Non-2xx or 3xx responses:/ { bad = $NF }
        /Socket errors:/ { errors = $0 }
        END {
            printf "%.0f %.3f %.3f %.3f\n", rps, p50, p90, p99
            if (bad > 0) printf "WARNING: %d responses were not 2xx/3xx\n", bad > "/dev/stderr"
            if (errors != "") print "WARNING: " errors > "/dev/stderr"
        }'
}

row() { printf "%-26s %12s %10s %10s %10s\n" "$@"; }

echo
echo "wrk: $threads threads, $connections connections, keep-alive, ${duration}s per run," \
    "$(nproc) cores"
# Other work on the machine shows in every figure; the load says how much there was.
echo "load average (1, 5, 15 min): $(cut -d' ' -f1-3 /proc/loadavg)"
# A short warm-up for both, so neither pays for first-touch costs in the figures.
wrk -t1 -c4 -d1s "http://127.0.0.1:$saed_port/healthz" >/dev/null
wrk -t1 -c4 -d1s "http://127.0.0.1:$nginx_port/healthz" >/dev/null
rss_warm=$(rss_kib)

read -r saed_rps saed_p50 saed_p90 saed_p99 < <(measure "http://127.0.0.1:$saed_port/healthz")
rss_healthz=$(rss_kib)
read -r nginx_rps nginx_p50 nginx_p90 nginx_p99 < <(measure "http://127.0.0.1:$nginx_port/healthz")

# --- Encode ------------------------------------------------------------------------------------

encode_line=""
echo "training a model for the encode run (1,000 rows, 1 epoch)"
job=$(curl -sf -X POST "http://127.0.0.1:$saed_port/v1/jobs" -H 'Content-Type: application/json' \
    -d '{"dataset": {"name": "fashion-mnist", "limit": 1000}, "epochs": 1}' || true)
job_id=$(echo "$job" | grep -o '"id" *: *"[^"]*"' | head -1 | sed 's/.*"\([^"]*\)"$/\1/')
model_id=""
if [ -n "$job_id" ]; then
    for _ in $(seq 1 600); do
        status=$(curl -sf "http://127.0.0.1:$saed_port/v1/jobs/$job_id" || true)
        state=$(echo "$status" | grep -o '"state" *: *"[^"]*"' | head -1 \
            | sed 's/.*"\([^"]*\)"$/\1/')
        if [ "$state" = "succeeded" ]; then
            model_id=$(echo "$status" | grep -o '"model_id" *: *"[^"]*"' | head -1 \
                | sed 's/.*"\([^"]*\)"$/\1/')
            break
        fi
        if [ "$state" = "failed" ] || [ "$state" = "cancelled" ]; then
            echo "bench-http: training job $state: $status" >&2
            break
        fi
        sleep 0.2
    done
else
    echo "bench-http: job submission failed: $job" >&2
fi
if [ -n "$model_id" ]; then
    export SAED_ENCODE_PATH="/v1/models/$model_id/encode"
    probe=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
        "http://127.0.0.1:$saed_port$SAED_ENCODE_PATH" -H 'Content-Type: application/json' \
        -d "{\"inputs\": [[$(seq -s, 0 783 | sed 's/[0-9]\+/0.5/g')]]}")
    echo "encode probe: HTTP $probe"
    # Twice: on a shared machine one run's tail can be another process's doing.
    read -r enc_rps enc_p50 enc_p90 enc_p99 < <(measure -s Benchmarks/http/encode.lua \
        "http://127.0.0.1:$saed_port$SAED_ENCODE_PATH")
    read -r enc2_rps enc2_p50 enc2_p90 enc2_p99 < <(measure -s Benchmarks/http/encode.lua \
        "http://127.0.0.1:$saed_port$SAED_ENCODE_PATH")
    encode_line=1
fi
rss_encode=$(rss_kib)

# --- Long run ----------------------------------------------------------------------------------

if [ "$long" -eq 1 ]; then
    # wrk stops each thread after its share (count.lua) but only reports at the end of -d, so
    # -d is sized from the rate just measured: 1.5 times the expected time, at most 300 s.
    long_seconds=$(awk -v r="$saed_rps" 'BEGIN { s = (r > 0 ? 1500000 / r : 300) + 3;
        printf "%d", (s > 300 ? 300 : s) }')
    echo "long run: 1,000,000 GET /healthz (wrk -d ${long_seconds}s)"
    rss_long_before=$(rss_kib)
    SAED_REQUESTS=1000000 SAED_THREADS=$threads wrk -t"$threads" -c"$connections" \
        -d"${long_seconds}s" -s Benchmarks/http/count.lua \
        "http://127.0.0.1:$saed_port/healthz" >"$work/long.log" 2>&1
    grep -E "requests in|Socket errors|Non-2xx" "$work/long.log" | sed 's/^ */  /'
    rss_long_after=$(rss_kib)
fi

# --- Report ------------------------------------------------------------------------------------

echo
row "run" "requests/s" "p50 ms" "p90 ms" "p99 ms"
row "saed GET /healthz" "$saed_rps" "$saed_p50" "$saed_p90" "$saed_p99"
row "nginx static, same bytes" "$nginx_rps" "$nginx_p50" "$nginx_p90" "$nginx_p99"
if [ -n "$encode_line" ]; then
    row "saed POST encode (784)" "$enc_rps" "$enc_p50" "$enc_p90" "$enc_p99"
    row "saed POST encode, again" "$enc2_rps" "$enc2_p50" "$enc2_p90" "$enc2_p99"
fi
echo
awk -v s="$saed_rps" -v n="$nginx_rps" \
    'BEGIN { printf "saed/nginx requests/s: %.2f (target >= 0.50)\n", (n > 0 ? s / n : 0) }'
[ -n "$encode_line" ] && echo "encode p99: $enc_p99 and $enc2_p99 ms (target < 5 ms)"
echo "saed RSS (KiB): start $rss_start, after warm-up $rss_warm, after /healthz run" \
    "$rss_healthz, after encode run $rss_encode"
if [ "$long" -eq 1 ]; then
    echo "saed RSS (KiB) across 1,000,000 requests: before $rss_long_before," \
        "after $rss_long_after"
fi
