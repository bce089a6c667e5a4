#!/usr/bin/env bash
# Builds weft_bench in release mode, runs every benchmark once (3 repetitions
# each, medians reported) into bench/results/bench.json, then regenerates the
# results section of docs/benchmarks.md and the plots in docs/img/ with
# bench/tools/plot_benchmarks.py. About 5 minutes on 2 cores; the machine
# should be otherwise idle.
#
#   bench/run_benchmarks.sh [extra weft_bench flags, e.g. --benchmark_filter=Spawn]
#
# Environment: WEFT_BENCH_BUILD_DIR (default build-release), WEFT_BENCH_REPETITIONS (3).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${WEFT_BENCH_BUILD_DIR:-$root/build-release}
reps=${WEFT_BENCH_REPETITIONS:-3}
python=/usr/bin/python3
[[ -x $python ]] || python=python3

if ! "$python" -c 'import matplotlib' 2>/dev/null; then
  echo "run_benchmarks.sh: matplotlib is missing (Debian: apt-get install -y python3-matplotlib)" >&2
  exit 1
fi

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DWEFT_BUILD_BENCH=ON -DWEFT_BUILD_TESTS=OFF \
  -DWEFT_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target weft_bench

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null) ]]; then commit="$commit+dirty"; fi

flags=(--benchmark_out="$root/bench/results/bench.json" --benchmark_out_format=json
       --benchmark_repetitions="$reps" --benchmark_context=weft_commit="$commit" "$@")
command="bench/run_benchmarks.sh $*"
echo "running: ${build#"$root"/}/bench/weft_bench ${flags[*]}"
"$build/bench/weft_bench" "${flags[@]}"

"$python" "$root/bench/tools/plot_benchmarks.py" --json "$root/bench/results/bench.json" --doc "$root/docs/benchmarks.md" \
  --img "$root/docs/img" \
  --command "${command% } (= weft_bench --benchmark_repetitions=$reps --benchmark_out=bench/results/bench.json --benchmark_out_format=json${*:+ $*})"
