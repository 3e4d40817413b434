#!/usr/bin/env bash
# Fuzzes a fresh saed against its own OpenAPI document with schemathesis (from PyPI).
#
# Builds saed, starts it on 127.0.0.1 with an empty temporary data directory, and runs
# `schemathesis run` over every operation of /v1/openapi.json: documented examples, boundary
# values, generated valid and invalid requests, and stateful sequences. Fails on any 5xx and
# on any response that breaks the document (undocumented status, wrong content type, body
# that does not match its schema, missing documented header, invalid input accepted).
#
# The Fashion-MNIST directory points at an empty folder, so generated jobs are refused (422)
# instead of training for real. Bounded in time: at most SCHEMATHESIS_TIMEOUT seconds.
#
# Environment:
#   SCHEMATHESIS_VENV         virtualenv to use or create (default .build/schemathesis-venv)
#   SCHEMATHESIS_MAX_EXAMPLES examples per operation and phase (default 20)
#   SCHEMATHESIS_TIMEOUT      hard limit for the run, in seconds (default 300)
#   SCHEMATHESIS_SEED         seed, for a reproducible run (default: random)
#   SAED_BIN                  a saed binary to test instead of building one
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${SCHEMATHESIS_VENV:-.build/schemathesis-venv}
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-20}
limit=${SCHEMATHESIS_TIMEOUT:-300}

if [ ! -x "$venv/bin/schemathesis" ]; then
    echo "schemathesis.sh: installing schemathesis into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet schemathesis
fi

if [ -n "${SAED_BIN:-}" ]; then
    saed=$SAED_BIN
else
    swift build --product saed >&2
    saed="$(swift build --show-bin-path)/saed"
fi

work=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/data" "$work/datasets" "$work/no-fashion-mnist"
# Started from the temporary directory so that no config/saed.json is picked up.
(cd "$work" && exec "$saed" --host 127.0.0.1 --port 0 --data-dir data --datasets-dir datasets \
    --fashion-mnist-dir no-fashion-mnist --log-level info 2>saed.log) &
pid=$!

# The daemon logs its address once it listens.
port=
for _ in $(seq 1 100); do
    port=$(sed -n 's/.*saed listening.*http\.address=127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/saed.log" | head -n 1)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/saed.log" >&2; exit 1; }
    sleep 0.1
done
[ -n "$port" ] || { echo "schemathesis.sh: saed did not start" >&2; cat "$work/saed.log" >&2; exit 1; }

seed_option=()
[ -n "${SCHEMATHESIS_SEED:-}" ] && seed_option=(--seed "$SCHEMATHESIS_SEED")

started=$(date +%s)
status=0
timeout "$limit" "$venv/bin/schemathesis" run "http://127.0.0.1:$port/v1/openapi.json" \
    --checks all \
    --max-examples "$max_examples" \
    --workers 2 \
    --request-timeout 20 \
    --suppress-health-check all \
    --no-color \
    --generation-database none \
    "${seed_option[@]}" || status=$?
echo "schemathesis.sh: finished in $(( $(date +%s) - started )) s with status $status" >&2

if grep -q ' error ' "$work/saed.log"; then
    echo "schemathesis.sh: the daemon logged errors:" >&2
    grep ' error ' "$work/saed.log" >&2
    status=${status/#0/1}
fi
exit "$status"
