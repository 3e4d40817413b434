#!/usr/bin/env bash
# Measures saed's training speed and memory on Fashion-MNIST, optionally beside PyTorch.
#
#   scripts/bench-train.sh [--torch] [--epochs N] [--repeat N] [--threads N] [--shapes A,B]
#                          [--wait-idle PERCENT]
#
# Builds saed-bench in release mode and runs it once per shape, each in a process of its own
# (784x128 at batch 64 and 256, 784x1024 at batch 256, and top-k 8/32/128 at 784x1024; see
# `saed-bench --list`). Each run trains N epochs (3 by default) of the classic recipe (relu,
# MSE, L1 or top-k, Adam at lr 1e-3; Benchmarks/TrainBench/BenchShape.swift) and
# prints seconds per epoch (median after the first), samples/s, peak RSS, the share of the
# machine's sgemm rate reached, and the time spent outside the matrix products.
#
# With --torch it also creates .venv-bench, installs CPU PyTorch and numpy from PyPI into it
# when they are missing (TORCH_SPEC overrides the torch requirement), runs
# Benchmarks/torch_bench.py on the same shapes with the same thread count, and prints the two
# side by side against the targets. --repeat N runs every measurement N times,
# alternating saed and torch, and reports the fastest run of each (with the slowest beside it,
# as a measure of noise). On a shared machine, --wait-idle P holds each run until the CPUs were
# at least P% idle over 3 s (giving up after 5 minutes, and saying so). A benchmark: it prints
# figures and asserts nothing about them.
#
# Environment: SAED_BUILD_DIR (default .build) is the build directory to use.
set -euo pipefail
cd "$(dirname "$0")/.."

epochs=3
repeat=1
threads=""
shapes=""
with_torch=0
wait_idle=0
while [ $# -gt 0 ]; do
    case "$1" in
        --torch) with_torch=1 ;;
        --epochs) epochs="$2"; shift ;;
        --repeat) repeat="$2"; shift ;;
        --threads) threads="$2"; shift ;;
        --shapes) shapes="$2"; shift ;;
        --wait-idle) wait_idle="$2"; shift ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { print }' "$0"; exit 0 ;;
        *) echo "bench-train: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
build_dir="${SAED_BUILD_DIR:-.build}"
torch_spec="${TORCH_SPEC:-torch==2.13.0+cpu}"
venv=.venv-bench

# --- Build -------------------------------------------------------------------------------------

scripts/install-deps.sh
echo "building saed-bench (release) in $build_dir"
build_log="$(mktemp /tmp/saed-bench-build.XXXXXX)"
if ! swift build -c release --product saed-bench --scratch-path "$build_dir" \
    >"$build_log" 2>&1; then
    grep -E -A6 'error:' "$build_log" | head -60 >&2 || tail -30 "$build_log" >&2
    echo "bench-train: the build failed (full log: $build_log)" >&2
    exit 1
fi
tail -1 "$build_log"
rm -f "$build_log"
bench="$build_dir/release/saed-bench"
if [ -z "$shapes" ]; then
    shapes=$("$bench" --list | paste -sd, -)
fi
IFS=, read -r -a shape_list <<<"$shapes"

if [ "$with_torch" -eq 1 ]; then
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    if ! "$venv/bin/python" -c 'import torch, numpy' 2>/dev/null; then
        echo "installing $torch_spec and numpy into $venv"
        "$venv/bin/pip" install --quiet "$torch_spec" numpy
    fi
fi

# --- Runs --------------------------------------------------------------------------------------

results="$(mktemp /tmp/saed-bench-train.XXXXXX)"
trap 'rm -f "$results"' EXIT

# Prints "busy idle" jiffies summed over all CPUs, from the first line of /proc/stat.
cpu_jiffies() {
    local _ user nice system idle iowait irq softirq steal
    read -r _ user nice system idle iowait irq softirq steal _ </proc/stat
    echo "$((user + nice + system + irq + softirq + steal)) $((idle + iowait))"
}

# Prints the percentage of CPU time spent idle over the next 3 seconds.
idle_percent() {
    local busy1 idle1 busy2 idle2
    read -r busy1 idle1 < <(cpu_jiffies)
    sleep 3
    read -r busy2 idle2 < <(cpu_jiffies)
    local total=$((busy2 - busy1 + idle2 - idle1))
    echo $((100 * (idle2 - idle1) / (total > 0 ? total : 1)))
}

# Waits until the machine is at least $wait_idle percent idle, for 5 minutes at most.
await_quiet() {
    [ "$wait_idle" -gt 0 ] || return 0
    local deadline=$((SECONDS + 300)) idle
    while idle=$(idle_percent) && [ "$idle" -lt "$wait_idle" ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "bench-train: still only $idle% idle after 5 minutes; measuring anyway"
            return 0
        fi
    done
}

# Runs one measurement, shows its output, and files its `result` line under the given name.
measure() {
    local name="$1"
    shift
    local output
    await_quiet
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    if ! output=$("$@" 2>&1); then
        echo "$output" >&2
        echo "bench-train: the $name run failed: $*" >&2
        exit 1
    fi
    echo "$output"
    echo "$output" | grep '^result' | sed "s/^result/$name/" >>"$results"
}

for round in $(seq 1 "$repeat"); do
    [ "$repeat" -gt 1 ] && echo && echo "=== round $round of $repeat ==="
    for shape in "${shape_list[@]}"; do
        extra=()
        [ -n "$threads" ] && extra=(--threads "$threads")
        measure saed "$bench" --shape "$shape" --epochs "$epochs" "${extra[@]}"
        if [ "$with_torch" -eq 1 ]; then
            # The same thread count as the saed run just made (OpenBLAS's default unless given).
            used=$(tail -1 "$results" | tr '\t' '\n' | sed -n 's/^threads=//p')
            measure torch "$venv/bin/python" Benchmarks/torch_bench.py --shape "$shape" \
                --epochs "$epochs" --threads "$used"
        fi
    done
done

# --- Report ------------------------------------------------------------------------------------

echo
echo "best of $repeat run(s) per cell, $epochs epochs each, $(nproc) cores;" \
    "(in brackets: the slowest run's s/epoch)"
awk -F'\t' -v order="$shapes" -v torch="$with_torch" '
    # Keeps, per implementation and shape, the fastest run and the slowest time.
    {
        delete f
        for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
        key = $1 SUBSEP f["shape"]
        s = f["seconds_per_epoch"] + 0
        if (!(key in best) || s < best[key]) {
            best[key] = s
            rss[key] = f["peak_rss_kib"] / 1024
            outside[key] = 100 * f["outside_fraction"]
            dense[key] = f["dense_ratio"]
            if (f["sgemm_gflops"] > 0) share[key] = 100 * f["epoch_gflops"] / f["sgemm_gflops"]
        }
        if (!(key in worst) || s > worst[key]) worst[key] = s
    }
    function mark(isMet) { return isMet ? "ok" : "MISS" }
    function timing(key) { return sprintf("%.3f (%.3f)", best[key], worst[key]) }
    END {
        n = split(order, shapes, ",")
        format = "%-22s %16s %16s %11s %9s %9s %10s %12s %6s\n"
        printf format, "shape", "saed s/epoch", "torch s/epoch", "ratio<=0.7", "saed MiB", \
            "torch MiB", "RSS<=0.5", "outside<20%", "sgemm"
        for (i = 1; i <= n; i++) {
            s = "saed" SUBSEP shapes[i]
            t = "torch" SUBSEP shapes[i]
            ratio = "-"; memory = "-"; torchTime = "-"; torchRSS = "-"
            if (torch && best[t] > 0) {
                ratio = sprintf("%.3f %s", best[s] / best[t], mark(best[s] / best[t] <= 0.7))
                memory = sprintf("%.3f %s", rss[s] / rss[t], mark(rss[s] / rss[t] <= 0.5))
                torchTime = timing(t)
                torchRSS = sprintf("%.1f", rss[t])
            }
            spent = sprintf("%.1f%% %s", outside[s], mark(outside[s] < 20))
            reached = sprintf("%.0f%%", share[s])
            if (dense[s] != "") notes = notes sprintf("\n    %s: %.2f", shapes[i], dense[s])
            printf format, shapes[i], timing(s), torchTime, ratio, sprintf("%.1f", rss[s]), \
                torchRSS, memory, spent, reached
        }
        print "outside<20%: the share of the saed epoch spent outside the matrix products (dense"
        print "  sgemm and the sparse products over a top-k or sparse ReLU code), timed in the epoch"
        print "sgemm: dense-equivalent GFLOP/s of the saed epoch over the best sgemm rate measured"
        if (notes != "") {
            print "saed epoch / the five dense products replayed alone (below 1: skipping the"
            print "  zeros of the code beat the dense products):" notes
        }
    }' "$results"
echo "load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
