#!/usr/bin/env bash
# Installs what is missing, builds saed in release mode and runs the daemon with
# config/saed.json. Extra arguments go to saed (e.g. --port 9090).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product saed
# Request threads would each get a malloc arena of their own; two keep memory flat.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec .build/release/saed --config config/saed.json "$@"
