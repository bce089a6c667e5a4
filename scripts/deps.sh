#!/usr/bin/env bash
# Installs the Debian 12 packages weft needs, only if some are missing, so
# it is quick (no apt-get at all) on a machine that already has them.
#   bash scripts/deps.sh demo   # compiler and CMake: enough for the demo
#   bash scripts/deps.sh test   # everything CI uses (sanitizers, Boost, cross, qemu,
#                               # libunwind for dump backtraces, gdb for the gdb-extension test)
set -euo pipefail

profile=${1:-test}
demo_pkgs=(build-essential cmake ninja-build pkg-config liburing-dev)
test_pkgs=("${demo_pkgs[@]}"
  libboost-context-dev libboost-fiber-dev
  libgtest-dev googletest libbenchmark-dev
  g++-aarch64-linux-gnu qemu-user python3
  libunwind-dev gdb
  redis-tools python3-redis)  # kv_server process tests (redis-cli, redis-py); redis-server is for bench only

case "$profile" in
  demo) pkgs=("${demo_pkgs[@]}") ;;
  test) pkgs=("${test_pkgs[@]}") ;;
  *) echo "deps.sh: unknown profile '$profile' (want demo or test)" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} == 0)); then
  echo "deps: all ${#pkgs[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null; then
    sudo=(sudo)
  else
    echo "deps: missing packages and not root (no sudo): ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
