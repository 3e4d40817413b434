#!/usr/bin/env bash
# Fuzzes saed's HTTP request decoder with libFuzzer for a bounded time.
#
#   scripts/fuzz-http.sh [seconds]      (default 60)
#
# Builds the saed-fuzz-http product with `-sanitize=fuzzer` (the libFuzzer runtime ships with
# the Swift toolchain; lld links it) and runs it on a scratch copy of the committed corpus,
# Tests/HTTPServerTests/Corpus, so the repository only changes by hand. Each input is decoded
# whole and byte by byte; a trap or a split-dependent outcome is a crash. A crashing input is
# written to the build directory's fuzz-artifacts/ and the script exits non-zero: fix the
# decoder, then copy the input into the corpus so the test suite replays it from then on.
#
# Environment: SAED_FUZZ_BUILD_DIR (default .build/fuzz) is the build directory to use.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
case "$seconds" in
    ''|*[!0-9]*) echo "usage: scripts/fuzz-http.sh [seconds]" >&2; exit 2 ;;
esac
build_dir="${SAED_FUZZ_BUILD_DIR:-.build/fuzz}"

echo "building saed-fuzz-http with libFuzzer in $build_dir"
swift build -c release --product saed-fuzz-http --scratch-path "$build_dir" \
    -Xswiftc -sanitize=fuzzer -Xswiftc -DSAED_LIBFUZZER -Xswiftc -use-ld=lld 2>&1 | tail -1
binary="$build_dir/release/saed-fuzz-http"

corpus="$(mktemp -d /tmp/saed-fuzz-corpus.XXXXXX)"
trap 'rm -rf "$corpus"' EXIT
cp Tests/HTTPServerTests/Corpus/* "$corpus/"
artifacts="$build_dir/fuzz-artifacts"
mkdir -p "$artifacts"

echo "fuzzing for $seconds s on $(ls "$corpus" | wc -l) seed inputs; crashes go to $artifacts/"
status=0
# The Swift runtime's own backtracer would print a second, slower report for each crash.
SWIFT_BACKTRACE=enable=no "$binary" -max_total_time="$seconds" -max_len=2048 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" \
    2>"$artifacts/last-run.log" || status=$?
grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+== ERROR)" \
    "$artifacts/last-run.log" || true
grep -E "Fatal error" "$artifacts/last-run.log" | head -3 || true
if [ "$status" -ne 0 ]; then
    echo "fuzz-http: crash found (exit $status); input saved under $artifacts/:" >&2
    ls -t "$artifacts" | grep -E '^(crash|timeout|oom|leak)-' | head -3 >&2 || true
    exit "$status"
fi
echo "fuzz-http: no crash in $seconds s"
