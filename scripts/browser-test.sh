#!/usr/bin/env bash
# The dashboard in a real browser: installs Chromium (Debian's package) when missing, builds
# saed, runs it on 127.0.0.1 with a throw-away data directory and a random bearer token, and lets
# scripts/browser_test.py submit a small job through the page, wait for the live chart and
# the model page, save screenshots and fail on any console error.
#
# Environment: SAED_SCRATCH_PATH (default .build) is the build directory; BROWSER_TEST_OUT
# (default /tmp/saed-browser-test) receives the screenshots and saed's log.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

scripts/install-deps.sh
if ! command -v chromium >/dev/null 2>&1; then
    echo "installing: chromium"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi

scratch="${SAED_SCRATCH_PATH:-.build}"
out="${BROWSER_TEST_OUT:-/tmp/saed-browser-test}"
mkdir -p "$out"
swift build --scratch-path "$scratch" --product saed
saed="$scratch/debug/saed"

work=$(mktemp -d)
mkdir -p "$work/datasets"
token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
SAED_TOKEN="$token" "$saed" --port 0 --data-dir "$work/data" --datasets-dir "$work/datasets" >"$out/saed.log" 2>&1 &
saed_pid=$!
cleanup() {
    kill "$saed_pid" 2>/dev/null || true
    wait "$saed_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# saed logs "saed listening http.address=127.0.0.1:PORT" once it accepts connections.
port=""
for _ in $(seq 1 100); do
    port=$(sed -n 's/.*saed listening.*http\.address=[^ ]*:\([0-9][0-9]*\).*/\1/p' "$out/saed.log" | head -n 1)
    [ -n "$port" ] && break
    kill -0 "$saed_pid" 2>/dev/null || { cat "$out/saed.log"; echo "saed exited early" >&2; exit 1; }
    sleep 0.1
done
[ -n "$port" ] || { cat "$out/saed.log"; echo "saed did not start listening" >&2; exit 1; }
echo "saed listening on 127.0.0.1:$port"

status=0
python3 scripts/browser_test.py --url "http://127.0.0.1:$port" --out "$out" --token "$token" || status=$?
echo "browser test took $(($(date +%s) - started)) s in all (screenshots and log in $out)"
exit "$status"
