#!/usr/bin/env bash
# Installs what the demo needs (if missing), builds it (Release) and runs it.
#   bash scripts/demo.sh [threads]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh demo
build=${WEFT_DEMO_BUILD_DIR:-build-demo}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_BENCH=OFF -DWEFT_BUILD_EXAMPLES=ON >/dev/null
cmake --build "$build" --target demo -j "$(nproc)"
exec "$build/examples/demo" "$@"
