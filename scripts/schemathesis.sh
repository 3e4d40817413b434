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
#   SCHEMATHESIS_VENV         virtualenv to use or create (default .build/schemathesis-venv;
#                             created with Python 3.12+ when available)
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
    # Python 3.11's ast module trips Hypothesis on some generated cases ("AST constructor
    # recursion depth mismatch"), so prefer 3.12 or later when one is installed.
    python=python3
    pyenv_root=$(pyenv root 2>/dev/null || true)
    for candidate in python3.13 python3.12 ${pyenv_root:+"$pyenv_root"/versions/3.1[2-9]*/bin/python3}; do
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            python=$candidate
            break
        fi
    done
    echo "schemathesis.sh: installing schemathesis into $venv with $python" >&2
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet schemathesis
fi

if [ -n "${SAED_BIN:-}" ]; then
    saed=$(cd "$(dirname "$SAED_BIN")" && pwd)/$(basename "$SAED_BIN")
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

# Seed the store so that operations on {id} reach their logic instead of answering 404: a
# dataset, a job trained on it (and its model), and an imported copy of the model. A second
# set is offered to the DELETE operations, so deleting does not starve the others.
base="http://127.0.0.1:$port"
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
seed() {
    local dataset job model imported
    # 64 rows of 4 values in [0, 1].
    dataset=$(python3 -c 'for r in range(64): print(",".join(str((r * 7 + c) % 5 / 4) for c in range(4)))' |
        curl -sf -X POST "$base/v1/datasets?format=csv&name=$1" -H 'Content-Type: text/csv' --data-binary @- |
        field id)
    local spec="{\"dataset\": {\"id\": \"$dataset\"}, \"model\": {\"hidden_size\": 3}, \"epochs\": 2}"
    job=$(curl -sf -X POST "$base/v1/jobs" -H 'Content-Type: application/json' -d "$spec" | field id)
    for _ in $(seq 1 300); do
        [ "$(curl -sf "$base/v1/jobs/$job" | field state)" = succeeded ] && break
        sleep 0.1
    done
    model=$(curl -sf "$base/v1/jobs/$job" | field model_id)
    imported=$(curl -sf "$base/v1/models/$model/weights" |
        curl -sf -X POST "$base/v1/models?name=$1" -H 'Content-Type: application/octet-stream' \
            --data-binary @- | field id)
    echo "$dataset $job $model $imported"
}
read -r dataset job model imported < <(seed kept)
read -r doomed_dataset doomed_job doomed_model doomed_imported < <(seed doomed)
[ -n "$imported" ] && [ -n "$doomed_imported" ] || { echo "schemathesis.sh: seeding failed" >&2; exit 1; }

cat > "$work/schemathesis.toml" <<TOML
[dictionaries.datasets]
values = ["$dataset"]
[dictionaries.jobs]
values = ["$job"]
[dictionaries.models]
values = ["$model", "$imported"]
[dictionaries.doomed-datasets]
values = ["$doomed_dataset"]
[dictionaries.doomed-jobs]
values = ["$doomed_job"]
[dictionaries.doomed-models]
values = ["$doomed_model", "$doomed_imported"]

[[operations]]
include-path-regex = "^/v1/datasets/[{]id[}]"
exclude-method = "DELETE"
parameters = { "path.id" = { dictionary = "datasets", probability = 0.7 } }
[[operations]]
include-path-regex = "^/v1/jobs/[{]id[}]"
exclude-method = "DELETE"
parameters = { "path.id" = { dictionary = "jobs", probability = 0.7 } }
[[operations]]
include-path-regex = "^/v1/models/[{]id[}]"
exclude-method = "DELETE"
parameters = { "path.id" = { dictionary = "models", probability = 0.7 } }
[[operations]]
include-path-regex = "^/v1/datasets/[{]id[}]$"
include-method = "DELETE"
parameters = { "path.id" = { dictionary = "doomed-datasets", probability = 0.5 } }
[[operations]]
include-path-regex = "^/v1/jobs/[{]id[}]$"
include-method = "DELETE"
parameters = { "path.id" = { dictionary = "doomed-jobs", probability = 0.5 } }
[[operations]]
include-path-regex = "^/v1/models/[{]id[}]$"
include-method = "DELETE"
parameters = { "path.id" = { dictionary = "doomed-models", probability = 0.5 } }

# Methods a route lacks get 405. TRACE and QUERY are left out: the HTTP server does not
# recognise them at all and answers 501, as RFC 9110 (15.6.2) has it.
[phases.coverage]
unexpected-methods = ["GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"]
TOML

seed_option=()
[ -n "${SCHEMATHESIS_SEED:-}" ] && seed_option=(--seed "$SCHEMATHESIS_SEED")

# positive_data_acceptance stays off: it wants every schema-valid request accepted, which no
# upload route can promise, since whether bytes are a dataset or a model is their content.
started=$(date +%s)
status=0
# From the temporary directory, so schemathesis and Hypothesis keep their caches there.
venv=$(cd "$venv" && pwd)
cd "$work"
timeout "$limit" "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" \
    run "$base/v1/openapi.json" \
    --checks all \
    --exclude-checks positive_data_acceptance \
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
    [ "$status" -ne 0 ] || status=1
fi
exit "$status"
