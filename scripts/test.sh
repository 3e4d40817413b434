#!/usr/bin/env bash
# Installs what is missing and runs the whole test suite: the Swift tests, then schemathesis
# against the OpenAPI document and the dashboard in headless Chromium (each bounded in time).
# SAED_TEST_SWIFT_ONLY=1 runs the Swift tests alone; arguments go to `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --build-tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift test --skip-build "$@" 2>&1 | tee "$log"
# One plain closing line for any runner: the Swift Testing count (XCTest finds no tests here).
count=$(sed -n 's/.*Test run with \([0-9]*\) tests\{0,1\} .* passed after.*/\1/p' "$log" | tail -n 1)
if [ -n "$count" ]; then echo "tests: $count passed, 0 failed"; fi

if [ "${SAED_TEST_SWIFT_ONLY:-0}" != 1 ] && [ $# -eq 0 ]; then
    SCHEMATHESIS_TIMEOUT=${SCHEMATHESIS_TIMEOUT:-300} scripts/schemathesis.sh
    timeout 600 scripts/browser-test.sh
    echo "tests: schemathesis and the browser test passed"
fi
