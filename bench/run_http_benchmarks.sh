#!/usr/bin/env bash
# http_server against nginx with wrk, in the same run: http_server (weft)
# with 1 and 2 workers, and nginx (Debian nginx-light) with
# worker_processes 1 and 2, serving the same bytes on /plaintext. Two
# shapes, each server in turn: `wrk -t2 -c1000 -d10s` with keep-alive, and
# the same with 16 requests pipelined per connection (TechEmpower's
# pipeline.lua). Then the memory of an idle connection: the server's RSS
# before and after opening 10000 idle keep-alive connections (ulimit raised
# here). Writes bench/results/http_bench.json; bench/tools/http_table.py
# makes the table in docs/http_server.md and the plot docs/img/bench_http.png.
# The machine should be otherwise idle: servers and wrk share its cores.
#
#   bench/run_http_benchmarks.sh
#
# Environment: HTTP_BENCH_SECONDS (per run, default 10), HTTP_BENCH_CONNS
# (1000), HTTP_BENCH_IDLE_CONNS (10000), WEFT_BENCH_BUILD_DIR (build-release).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${WEFT_BENCH_BUILD_DIR:-$root/build-release}
seconds=${HTTP_BENCH_SECONDS:-10}
conns=${HTTP_BENCH_CONNS:-1000}
idle_conns=${HTTP_BENCH_IDLE_CONNS:-10000}
python=/usr/bin/python3
[[ -x $python ]] || python=python3
out_json=$root/bench/results/http_bench.json
work=$(mktemp -d /tmp/http_bench.XXXXXX)

missing=()
command -v wrk >/dev/null || missing+=(wrk)
[[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
if ((${#missing[@]})); then
  echo "installing ${missing[*]}"
  apt-get install -y "${missing[@]}" >/dev/null
fi
# 1000 connections for wrk, 10000 idle ones: the servers inherit this (as
# far as the hard limit allows; without CAP_SYS_RESOURCE it cannot grow).
hard=$(ulimit -Hn)
nofile=65536
[[ $hard != unlimited ]] && ((hard < nofile)) && nofile=$hard
ulimit -n "$nofile"
if ((nofile < idle_conns + conns + 100)); then
  echo "open-file limit $nofile is too low for $idle_conns idle connections; lower HTTP_BENCH_IDLE_CONNS" >&2
  exit 1
fi

if [[ ! -x $build/examples/http_server ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWEFT_BUILD_BENCH=OFF -DWEFT_BUILD_TESTS=OFF \
    -DWEFT_BUILD_EXAMPLES=ON >/dev/null
  cmake --build "$build" -j"$(nproc)" --target http_server
fi

free_port() { "$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

wait_http() {
  for _ in $(seq 100); do
    "$python" - "$1" <<'PY' 2>/dev/null && return 0
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
assert s.recv(4096).startswith(b"HTTP/1.1 200")
PY
    sleep 0.1
  done
  echo "no HTTP server on port $1" >&2
  exit 1
}

# nginx serving what http_server's /plaintext serves: 13 bytes of
# text/plain, Date and Server headers, keep-alive without a request cap.
nginx_conf() {  # port workers
  local dir=$work/nginx-$1
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<EOF
worker_processes $2;
worker_rlimit_nofile $nofile;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
daemon off;
events { worker_connections 16384; }
http {
  access_log off;
  server_tokens off;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  client_body_temp_path $dir;
  proxy_temp_path $dir;
  fastcgi_temp_path $dir;
  uwsgi_temp_path $dir;
  scgi_temp_path $dir;
  server {
    listen 127.0.0.1:$1 backlog=4096 reuseport;
    location = /plaintext { default_type "text/plain; charset=utf-8"; return 200 "Hello, World!"; }
  }
}
EOF
  echo "$dir/nginx.conf"
}

cat >"$work/pipeline.lua" <<'EOF'
-- TechEmpower's pipeline script: `depth` requests sent back to back.
init = function(args)
  local r = {}
  local depth = tonumber(args[1]) or 1
  for i = 1, depth do r[i] = wrk.format() end
  req = table.concat(r)
end
request = function() return req end
EOF

declare -A port pid
start_server() {  # name
  local name=$1 p
  p=$(free_port)
  port[$name]=$p
  case $name in
    # The connection cap and idle timeout as nginx's below: room for the
    # 10000 idle connections.
    weft_w1) "$build/examples/http_server" --port "$p" --workers 1 --max-connections 20000 --idle-timeout 120000 \
      >/dev/null 2>"$work/$name.err" & ;;
    weft_w2) "$build/examples/http_server" --port "$p" --workers 2 --max-connections 20000 --idle-timeout 120000 \
      >/dev/null 2>"$work/$name.err" & ;;
    nginx_w1) /usr/sbin/nginx -c "$(nginx_conf "$p" 1)" & ;;
    nginx_w2) /usr/sbin/nginx -c "$(nginx_conf "$p" 2)" & ;;
  esac
  pid[$name]=$!
  pids+=($!)
  wait_http "$p"
}
servers=(weft_w1 weft_w2 nginx_w1 nginx_w2)
for s in "${servers[@]}"; do start_server "$s"; done

# The resident memory of a server and its worker processes (nginx forks).
rss_kib() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status")))
  done
  echo $total
}

results=$work/results.jsonl
: >"$results"
for shape in keepalive pipeline16; do
  for s in "${servers[@]}"; do
    args=(-t2 -c"$conns" -d"${seconds}s" --latency)
    [[ $shape == pipeline16 ]] && args+=(-s "$work/pipeline.lua")
    extra=()
    [[ $shape == pipeline16 ]] && extra=(-- 16)
    echo "wrk ${args[*]} http://127.0.0.1:${port[$s]}/plaintext ${extra[*]}   # $s" >&2
    wrk "${args[@]}" "http://127.0.0.1:${port[$s]}/plaintext" "${extra[@]}" >"$work/wrk.out"
    "$python" - "$s" "$shape" "$work/wrk.out" >>"$results" <<'PY'
import json, re, sys
text = open(sys.argv[3]).read()
def ms(v, unit):
    return float(v) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
lat = {p: ms(v, u) for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)}
errors = re.search(r"Socket errors: (.*)", text)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(json.dumps({"server": sys.argv[1], "shape": sys.argv[2], "rps": rps, "p50_ms": lat.get("50"),
                  "p99_ms": lat.get("99"), "socket_errors": errors.group(1) if errors else "",
                  "non_2xx": int(non2xx.group(1)) if non2xx else 0}))
PY
    tail -n 1 "$results" >&2
  done
done

# Idle connections: each opened, one request answered (so the server has
# set the connection up for real), then left open.
for s in weft_w2 nginx_w1; do
  before=$(rss_kib "${pid[$s]}")
  "$python" - "${port[$s]}" "$idle_conns" "$work/idle.ready" <<'PY' &
import os, socket, sys, time
port, n, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n")
    socks.append(s)
for s in socks:
    got = b""
    while b"Hello, World!" not in got:
        got += s.recv(4096)
open(ready, "w").close()
time.sleep(600)
PY
  client=$!
  for _ in $(seq 600); do [[ -e $work/idle.ready ]] && break; sleep 0.1; done
  [[ -e $work/idle.ready ]] || { echo "idle connections did not open" >&2; exit 1; }
  sleep 1
  after=$(rss_kib "${pid[$s]}")
  kill "$client" 2>/dev/null || true
  wait "$client" 2>/dev/null || true
  rm -f "$work/idle.ready"
  echo "{\"server\": \"$s\", \"shape\": \"idle\", \"connections\": $idle_conns, \"rss_before_kib\": $before, \"rss_after_kib\": $after}" >>"$results"
  tail -n 1 "$results" >&2
done

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
"$python" - "$results" "$out_json" "$seconds" "$conns" "$commit" "$(/usr/sbin/nginx -v 2>&1)" "$(wrk -v 2>&1 | head -1)" <<'PY'
import json, os, platform, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
json.dump({"context": {"seconds": int(sys.argv[3]), "connections": int(sys.argv[4]), "weft_commit": sys.argv[5],
                       "nginx": sys.argv[6], "wrk": sys.argv[7], "cpus": os.cpu_count(),
                       "machine": platform.machine()},
           "results": rows}, open(sys.argv[2], "w"), indent=1)
PY
"$python" "$root/bench/tools/http_table.py" --json "$out_json" --doc "$root/docs/http_server.md" \
  --plot "$root/docs/img/bench_http.png"
