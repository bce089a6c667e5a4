#!/usr/bin/env bash
# Builds weft_bench and the echo servers in release mode, runs every echo
# benchmark (BM_Echo*, 1/100/1000 connections) with repetitions interleaved
# in random order into bench/results/io_bench.json, then regenerates the
# results section of docs/io.md with bench/tools/echo_table.py. About 4
# minutes with 5 repetitions; the machine should be otherwise idle (the
# servers and the load generator share its cores, so any other load decides
# the comparison).
#
#   bench/run_echo_benchmarks.sh [extra weft_bench flags]
#
# Environment: WEFT_BENCH_BUILD_DIR (default build-release), WEFT_BENCH_REPETITIONS (5).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${WEFT_BENCH_BUILD_DIR:-$root/build-release}
reps=${WEFT_BENCH_REPETITIONS:-5}
python=/usr/bin/python3
[[ -x $python ]] || python=python3

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DWEFT_BUILD_BENCH=ON -DWEFT_BUILD_TESTS=OFF \
  -DWEFT_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target weft_bench

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null) ]]; then commit="$commit+dirty"; fi

flags=(--benchmark_filter=BM_Echo --benchmark_repetitions="$reps" --benchmark_enable_random_interleaving=true
       --benchmark_out="$root/bench/results/io_bench.json" --benchmark_out_format=json
       --benchmark_context=weft_commit="$commit" "$@")
echo "running: ${build#"$root"/}/bench/weft_bench ${flags[*]}"
"$build/bench/weft_bench" "${flags[@]}"

"$python" "$root/bench/tools/echo_table.py" --json "$root/bench/results/io_bench.json" --doc "$root/docs/io.md" \
  --command "bench/run_echo_benchmarks.sh${*:+ $*} (= weft_bench --benchmark_filter=BM_Echo --benchmark_repetitions=$reps --benchmark_enable_random_interleaving=true${*:+ $*})"
