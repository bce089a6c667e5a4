#!/usr/bin/env bash
# kv_server against redis-server with redis-benchmark, in the same run:
# kv_server (weft, --workers N), redis-server with persistence off, and
# redis-server with --io-threads 2. For -P 1 and -P 16, the default test
# list and `-t set,get`, each server in turn (so load from elsewhere hits
# them alike). Writes bench/results/kv_bench.csv and .json, then
# bench/tools/kv_table.py makes the table in docs/kv_server.md and the plot
# docs/img/bench_kv.png. The machine should be otherwise idle: the servers
# and redis-benchmark share its cores.
#
#   bench/run_kv_benchmarks.sh
#
# Environment: KV_BENCH_N (requests per test, default 1000000; a quick run:
# 100000), KV_BENCH_CLIENTS (50), KV_BENCH_WORKERS (kv_server's workers,
# default: the number of CPUs), WEFT_BENCH_BUILD_DIR (build-release).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${WEFT_BENCH_BUILD_DIR:-$root/build-release}
n=${KV_BENCH_N:-1000000}
clients=${KV_BENCH_CLIENTS:-50}
workers=${KV_BENCH_WORKERS:-$(nproc)}
python=/usr/bin/python3
[[ -x $python ]] || python=python3
out_csv=$root/bench/results/kv_bench.csv
out_json=$root/bench/results/kv_bench.json

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
  echo "installing redis-server and redis-tools"
  apt-get install -y redis-server redis-tools >/dev/null
fi

if [[ ! -x $build/examples/kv_server ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWEFT_BUILD_BENCH=OFF -DWEFT_BUILD_TESTS=OFF \
    -DWEFT_BUILD_EXAMPLES=ON >/dev/null
  cmake --build "$build" -j"$(nproc)" --target kv_server
fi

free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_ping() {
  for _ in $(seq 100); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "no server on port $1" >&2
  exit 1
}

declare -A port
port[kv_server]=$(free_port)
"$build/examples/kv_server" --port "${port[kv_server]}" --workers "$workers" 2>/tmp/kv_bench_server.err >/dev/null &
pids+=($!)
port[redis]=$(free_port)
redis-server --port "${port[redis]}" --save '' --appendonly no --daemonize no --logfile /dev/null &
pids+=($!)
port[redis_io2]=$(free_port)
redis-server --port "${port[redis_io2]}" --save '' --appendonly no --io-threads 2 --daemonize no --logfile /dev/null &
pids+=($!)
for s in kv_server redis redis_io2; do wait_ping "${port[$s]}"; done

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "server,pipeline,tests,test,rps,p50_ms" >"$out_csv"
for pipe in 1 16; do
  for tests in default set,get; do
    for s in kv_server redis redis_io2; do
      args=(-p "${port[$s]}" -q -n "$n" -c "$clients" -P "$pipe" --csv)
      [[ $tests == default ]] || args+=(-t "$tests")
      echo "redis-benchmark ${args[*]}   # $s" >&2
      redis-cli -p "${port[$s]}" flushall >/dev/null
      redis-benchmark "${args[@]}" | tail -n +2 | while IFS=, read -r test rps _avg _min p50 _rest; do
        echo "$s,$pipe,${tests/,/+},$test,${rps//\"/},${p50//\"/}"
      done >>"$out_csv"
    done
  done
done

"$python" - "$out_csv" "$out_json" "$n" "$clients" "$workers" "$commit" <<'PY'
import csv, json, sys, platform, os
rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:
    r["pipeline"] = int(r["pipeline"]); r["rps"] = float(r["rps"]); r["p50_ms"] = float(r["p50_ms"])
    r["test"] = r["test"].strip('"')
json.dump({"context": {"requests": int(sys.argv[3]), "clients": int(sys.argv[4]), "kv_workers": int(sys.argv[5]),
                       "weft_commit": sys.argv[6], "cpus": os.cpu_count(), "machine": platform.machine()},
           "results": rows}, open(sys.argv[2], "w"), indent=1)
PY
"$python" "$root/bench/tools/kv_table.py" --json "$out_json" --doc "$root/docs/kv_server.md" \
  --plot "$root/docs/img/bench_kv.png"
