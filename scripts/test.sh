#!/usr/bin/env bash
# Installs what is missing, then builds weft in every configuration CI
# checks and runs the whole test suite in each:
#
#   release   Release, asm switch; tests, benchmarks and examples built (-Werror)
#   boost     RelWithDebInfo, Boost.Context switch
#   asan      AddressSanitizer, asm switch, fake stacks on (detect_stack_use_after_return)
#   tsan      ThreadSanitizer, asm switch (fiber annotations)
#   aarch64   cross-compiled with g++-aarch64-linux-gnu, run under qemu-aarch64
#   install   cmake --install of release and boost, then tests/consumer built against each
#
#   bash scripts/test.sh                 # everything
#   WEFT_CI_PHASES="release tsan" bash scripts/test.sh
#
# Every phase runs even if an earlier one failed; the script prints one
# summary line per phase (ctest's own "N% tests passed" line included) and
# exits non-zero if any phase failed. Build trees live in $WEFT_CI_DIR
# (default build-ci/) and are reused, so a second run is incremental.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

phases=${WEFT_CI_PHASES:-release boost asan tsan aarch64 install}
ci_dir=${WEFT_CI_DIR:-$root/build-ci}
jobs=${WEFT_CI_JOBS:-2}
mkdir -p "$ci_dir/logs"

bash scripts/deps.sh test

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

declare -a summary=()
failed=0
script_t0=$SECONDS

# phase NAME FUNCTION: runs FUNCTION with its output copied to logs/NAME.log
# and records PASS/FAIL, the ctest summary line and the time taken.
phase() {
  local name=$1 fn=$2 t0=$SECONDS status=PASS
  local log="$ci_dir/logs/$name.log"
  echo
  echo "=================== $name ==================="
  # Not inside `if`: errexit is ignored in a condition, even in a subshell.
  set +e
  (set -euo pipefail; "$fn") 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  if ((rc != 0)); then
    status=FAIL
    failed=1
  fi
  local line
  line=$(grep -E '^[0-9]+% tests passed' "$log" | tail -n 1 || true)
  [[ -n "$line" ]] || line=$(grep -E '^(SKIPPED|consumer:)' "$log" | tr '\n' ' ' || true)
  summary+=("$(printf '%-8s %-4s %5ss  %s' "$name" "$status" $((SECONDS - t0)) "$line")")
}

configure() {  # configure BUILD_DIR cmake-args...
  local dir=$1
  shift
  cmake -S "$root" -B "$dir" "${generator[@]}" "$@"
}

# Keeps going past a target that fails to build, so the tests that did build
# still run; the phase still fails (build_and_test returns the build status).
build() {  # build BUILD_DIR [wrapper...]
  local dir=$1
  shift
  local keep_going=(-k)
  [[ "${generator[*]}" == *Ninja* ]] && keep_going=(-k 0)
  "$@" cmake --build "$dir" -j "$jobs" -- "${keep_going[@]}"
}

build_and_test() {  # build_and_test BUILD_DIR [wrapper...]
  local rc=0
  build "$@" || rc=$?
  ((rc == 0)) || echo "BUILD FAILED in $1 (running the tests that built)"
  run_ctest "$@" || rc=1
  return $rc
}

run_ctest() {  # run_ctest BUILD_DIR [wrapper...]
  local dir=$1
  shift
  "$@" ctest --test-dir "$dir" --output-on-failure --no-tests=error -j "$jobs"
}

phase_release() {
  local b="$ci_dir/release"
  configure "$b" -DCMAKE_BUILD_TYPE=Release -DWEFT_WERROR=ON -DWEFT_CONTEXT_BACKEND=asm \
    -DWEFT_BUILD_TESTS=ON -DWEFT_BUILD_BENCH=ON -DWEFT_BUILD_EXAMPLES=ON
  build_and_test "$b"
}

phase_boost() {
  local b="$ci_dir/boost"
  configure "$b" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_WERROR=ON -DWEFT_CONTEXT_BACKEND=boost \
    -DWEFT_BUILD_TESTS=ON -DWEFT_BUILD_BENCH=OFF -DWEFT_BUILD_EXAMPLES=OFF
  build_and_test "$b"
}

phase_asan() {
  local b="$ci_dir/asan"
  configure "$b" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_WERROR=ON -DWEFT_SANITIZE=address \
    -DWEFT_BUILD_TESTS=ON -DWEFT_BUILD_BENCH=OFF -DWEFT_BUILD_EXAMPLES=OFF
  # Fake stacks make ASan's fiber-switch bookkeeping (fake_stack save and
  # restore in runtime/sanitizer.hpp) part of what is tested.
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_stack_use_after_return=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1} \
    build_and_test "$b"
}

# ThreadSanitizer maps its shadow at fixed addresses; kernels with
# vm.mmap_rnd_bits above 28 (Ubuntu 23.10+, some cloud kernels) can place
# the program where the shadow must go, and old TSan runtimes die with
# "unexpected memory mapping". Probe with a tiny TSan program; if it fails,
# lower mmap_rnd_bits (root) or run without ASLR through setarch -R, whose
# personality flag every child (ctest, the tests) inherits.
tsan_wrapper=()
tsan_probe() {
  local dir="$ci_dir/tsan-probe"
  mkdir -p "$dir"
  printf '#include <thread>\nint main(){int x=0;std::thread t([&]{x=1;});t.join();return x-1;}\n' >"$dir/probe.cpp"
  c++ -fsanitize=thread -O1 "$dir/probe.cpp" -o "$dir/probe"
  if "$dir/probe" >"$dir/out" 2>&1; then
    echo "tsan: runs as is (vm.mmap_rnd_bits=$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo '?'))"
    return 0
  fi
  echo "tsan: probe failed: $(head -n 2 "$dir/out")"
  if [[ -w /proc/sys/vm/mmap_rnd_bits ]] && echo 28 >/proc/sys/vm/mmap_rnd_bits 2>/dev/null && "$dir/probe" >/dev/null 2>&1; then
    echo "tsan: lowered vm.mmap_rnd_bits to 28"
    return 0
  fi
  if setarch "$(uname -m)" -R "$dir/probe" >/dev/null 2>&1; then
    echo "tsan: running builds and tests under setarch -R (no ASLR)"
    tsan_wrapper=(setarch "$(uname -m)" -R)
    return 0
  fi
  echo "tsan: cannot run ThreadSanitizer binaries on this kernel" >&2
  return 1
}

phase_tsan() {
  local b="$ci_dir/tsan"
  tsan_probe
  configure "$b" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_WERROR=ON -DWEFT_SANITIZE=thread \
    -DWEFT_BUILD_TESTS=ON -DWEFT_BUILD_BENCH=OFF -DWEFT_BUILD_EXAMPLES=OFF
  # The wrapper covers the build too: test discovery runs the test binary.
  TSAN_OPTIONS=${TSAN_OPTIONS:-second_deadlock_stack=1:history_size=2} build_and_test "$b" "${tsan_wrapper[@]}"
}

phase_aarch64() {
  local gt_build="$ci_dir/aarch64-gtest" gt_prefix="$ci_dir/aarch64-gtest/prefix" b="$ci_dir/aarch64"
  local tc="$root/cmake/toolchain-aarch64.cmake"
  # libgtest-dev ships amd64 libraries only: build GoogleTest for aarch64
  # from the sources Debian installs in /usr/src/googletest (once).
  if [[ ! -f "$gt_prefix/lib/cmake/GTest/GTestConfig.cmake" ]]; then
    cmake -S /usr/src/googletest -B "$gt_build" "${generator[@]}" -DCMAKE_TOOLCHAIN_FILE="$tc" \
      -DCMAKE_BUILD_TYPE=Release -DBUILD_GMOCK=OFF -DINSTALL_GTEST=ON -DCMAKE_INSTALL_PREFIX="$gt_prefix"
    cmake --build "$gt_build" -j "$jobs"
    cmake --install "$gt_build"
  fi
  configure "$b" -DCMAKE_TOOLCHAIN_FILE="$tc" -DGTest_DIR="$gt_prefix/lib/cmake/GTest" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_WERROR=ON -DWEFT_CONTEXT_BACKEND=asm \
    -DWEFT_BUILD_TESTS=ON -DWEFT_BUILD_BENCH=OFF -DWEFT_BUILD_EXAMPLES=OFF
  local rc=0
  build_and_test "$b" || rc=$?
  # The Boost.Context backend needs an arm64 Boost (dpkg --add-architecture arm64).
  if ls /usr/lib/aarch64-linux-gnu/cmake/boost_context-*/boost_context-config.cmake >/dev/null 2>&1; then
    local bb="$ci_dir/aarch64-boost"
    configure "$bb" -DCMAKE_TOOLCHAIN_FILE="$tc" -DGTest_DIR="$gt_prefix/lib/cmake/GTest" \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWEFT_WERROR=ON -DWEFT_CONTEXT_BACKEND=boost \
      -DWEFT_BUILD_TESTS=ON -DWEFT_BUILD_BENCH=OFF -DWEFT_BUILD_EXAMPLES=OFF
    build_and_test "$bb" || rc=$?
  else
    echo "SKIPPED aarch64 boost backend: no arm64 libboost-context installed"
  fi
  return $rc
}

# Installs a configured build into a fresh prefix and builds tests/consumer
# against it with find_package(weft CONFIG).
consume() {  # consume BUILD_DIR LABEL
  local b=$1 label=$2
  local prefix="$ci_dir/install-$label" cb="$ci_dir/consumer-$label"
  rm -rf "$prefix" "$cb"
  cmake --install "$b" --prefix "$prefix"
  cmake -S "$root/tests/consumer" -B "$cb" "${generator[@]}" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
  cmake --build "$cb" -j "$jobs"
  echo "consumer: $label $("$cb/weft_consumer")"
}

phase_install() {
  [[ -d "$ci_dir/release" ]] || phase_release
  consume "$ci_dir/release" asm
  if [[ -d "$ci_dir/boost" ]]; then
    consume "$ci_dir/boost" boost
  fi
}

for p in $phases; do
  case "$p" in
    release | boost | asan | tsan | aarch64 | install) phase "$p" "phase_$p" ;;
    *) echo "test.sh: unknown phase '$p'" >&2; exit 2 ;;
  esac
done

echo
echo "=================== summary ($((SECONDS - script_t0))s) ==================="
printf '%s\n' "${summary[@]}"
if ((failed)); then
  echo "RESULT: FAIL"
  exit 1
fi
echo "RESULT: PASS"
