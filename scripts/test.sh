#!/usr/bin/env bash
# Installs what is missing, then builds weft in every configuration CI
# checks and runs the whole test suite in each:
#
#   release   Release, asm switch; tests, benchmarks and examples built (-Werror)
#   boost     RelWithDebInfo, Boost.Context switch
#   asan      AddressSanitizer, asm switch, fake stacks on (detect_stack_use_after_return)
#   tsan      ThreadSanitizer, asm switch (fiber annotations)
#   aarch64   cross-compiled with g++-aarch64-linux-gnu, run under qemu-aarch64
#   install   release, a shared-library build and boost installed, each consumed with
#             find_package and pkg-config; the release .deb (cpack) unpacked and consumed;
#             weft built inside a project by add_subdirectory and by FetchContent
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
  # CI shows only the tail of the output: name what failed and why there.
  local failures
  failures=$(failure_lines "$log")
  [[ -z "$failures" ]] || summary+=("$failures")
}

# failure_lines LOG: ctest's list of failed tests, then the first lines of
# each failure's message (gtest's "Failure" lines, sanitizer reports, fatal
# errors), indented under the phase's summary line.
failure_lines() {
  local log=$1
  sed -n '/^The following tests FAILED:/,/^Errors while running CTest/p' "$log" |
    grep -E '^[[:space:]]+[0-9]+ - ' | sed 's/^[[:space:]]*/         failed: /' || true
  grep -E -A1 '(: Failure$|ERROR: [A-Za-z]+Sanitizer|WARNING: ThreadSanitizer|^SUMMARY: [A-Za-z]+Sanitizer|weft: fatal|^BUILD FAILED)' "$log" |
    grep -v -E '^(--|==[0-9]+==ABORTING|)$' | head -n 24 | cut -c1-200 | sed 's/^/         | /' || true
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

# ---- install: weft as its users get it ------------------------------------
# Every check prints one line starting with "consumer:" (the phase summary
# shows them) and fails the phase if anything is off.

# run_consumer BACKEND BINARY: runs a consumer program, which prints
# "weft <version> <backend>[-<variant>] OK" (asm-x86_64, boost-fcontext);
# prints the backend it named.
run_consumer() {
  local backend=$1 bin=$2 out
  out=$("$bin")
  if [[ "$out" != "weft "*" $backend OK" && "$out" != "weft "*" $backend-"*" OK" ]]; then
    echo "$bin printed '$out', want 'weft <version> ${backend}[-*] OK'" >&2
    return 1
  fi
  out=${out% OK}
  echo "${out##* }"
}

# linkage BINARY LIBDIR: "static" if LIBDIR holds a static libweft and
# BINARY needs no libweft.so; the libweft.so.N it needs if LIBDIR holds a
# shared one and the loader finds it there (ldd). Fails otherwise.
linkage() {
  local bin=$1 libdir=$2 dyn so loaded
  dyn=$(readelf -d "$bin")
  so=$(sed -n 's/.*(NEEDED).*\[\(libweft\.so[^]]*\)\].*/\1/p' <<<"$dyn")
  if [[ -e "$libdir/libweft.so" ]]; then
    if [[ -z "$so" ]]; then
      echo "$bin does not link libweft.so (readelf -d shows no NEEDED entry)" >&2
      return 1
    fi
    loaded=$(ldd "$bin" | awk -v so="$so" '$1 == so { print $3 }')
    if [[ -z "$loaded" || "$(realpath "$loaded")" != "$(realpath "$libdir/$so")" ]]; then
      echo "$bin loads $so from '$loaded', not from $libdir" >&2
      return 1
    fi
    echo "$so"
  elif [[ -e "$libdir/libweft.a" ]]; then
    if [[ -n "$so" ]]; then
      echo "$bin needs $so, but only a static libweft is in $libdir" >&2
      return 1
    fi
    echo static
  else
    echo "no libweft in $libdir" >&2
    return 1
  fi
}

# check_relocatable PREFIX LIBDIR: the installed CMake package and weft.pc
# name no absolute path (liburing's included) and nothing of this build.
check_relocatable() {
  local prefix=$1 libdir=$2
  local meta=("$libdir"/cmake/weft/*.cmake "$libdir/pkgconfig/weft.pc")
  if grep -nE '["; =]/[A-Za-z]|-[IL]/|/usr/|liburing\.(so|a)' "$libdir"/cmake/weft/weftTargets*.cmake "$libdir/pkgconfig/weft.pc"; then
    echo "absolute library paths in the package files of $prefix (above)" >&2
    return 1
  fi
  if grep -nF -e "$root" -e "$ci_dir" "${meta[@]}"; then
    echo "build paths in the package files of $prefix (above)" >&2
    return 1
  fi
}

# consume_cmake LABEL PREFIX LIBDIR BACKEND: tests/consumer (no
# CMAKE_CXX_STANDARD) with find_package(weft) from PREFIX.
consume_cmake() {
  local label=$1 prefix=$2 libdir=$3 backend=$4 cb="$ci_dir/consumer-$1"
  local found link out
  rm -rf "$cb"
  cmake -S "$root/tests/consumer" -B "$cb" "${generator[@]}" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release
  # Not some other weft installed on this machine.
  found=$(sed -n 's/^weft_DIR:PATH=//p' "$cb/CMakeCache.txt")
  if [[ "$(realpath "$found")" != "$(realpath "$libdir/cmake/weft")" ]]; then
    echo "find_package(weft) found '$found', not $libdir/cmake/weft" >&2
    return 1
  fi
  cmake --build "$cb" -j "$jobs"
  link=$(linkage "$cb/weft_consumer" "$libdir")
  out=$(run_consumer "$backend" "$cb/weft_consumer")
  echo "consumer: $label cmake OK ($link, $out)"
}

# consume_pkgconfig LABEL LIBDIR BACKEND: tests/consumer/consumer.cpp built
# with plain g++ and `pkg-config --cflags --libs weft` (LIBDIR/pkgconfig).
consume_pkgconfig() {
  local label=$1 libdir=$2 backend=$3 cb="$ci_dir/consumer-$1-pc"
  local pcdir flags link out
  rm -rf "$cb"
  mkdir -p "$cb"
  pcdir=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --variable=pcfiledir weft)
  if [[ "$(realpath "$pcdir")" != "$(realpath "$libdir/pkgconfig")" ]]; then
    echo "pkg-config found weft.pc in '$pcdir', not $libdir/pkgconfig" >&2
    return 1
  fi
  flags=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs weft)
  echo "pkg-config --cflags --libs weft: $flags"
  local -a flag_words
  read -ra flag_words <<<"$flags"
  g++ -std=c++20 -O2 "$root/tests/consumer/consumer.cpp" -o "$cb/weft_consumer" "${flag_words[@]}"
  link=$(LD_LIBRARY_PATH="$libdir" linkage "$cb/weft_consumer" "$libdir")
  out=$(LD_LIBRARY_PATH="$libdir" run_consumer "$backend" "$cb/weft_consumer")
  echo "consumer: $label pkg-config OK ($link)"
}

# consume BUILD_DIR LABEL BACKEND: `cmake --install` into a fresh prefix,
# then the CMake and the pkg-config consumer against it.
consume() {
  local b=$1 label=$2 backend=$3 prefix="$ci_dir/install-$2" libdir
  rm -rf "$prefix"
  cmake --install "$b" --prefix "$prefix"
  libdir="$prefix/$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$b/CMakeCache.txt")"
  check_relocatable "$prefix" "$libdir"
  consume_cmake "$label" "$prefix" "$libdir" "$backend"
  consume_pkgconfig "$label" "$libdir" "$backend"
}

# consume_deb BUILD_DIR BACKEND: `cpack -G DEB` in BUILD_DIR; the package's
# fields and files are checked, and it is unpacked (dpkg-deb -x, not
# installed) into a scratch root that both consumers then use.
consume_deb() {
  local b=$1 backend=$2 out="$ci_dir/deb" droot="$ci_dir/deb-root"
  local libdir_rel debs deb listing f depends
  rm -rf "$out" "$droot"
  cpack -G DEB --config "$b/CPackConfig.cmake" -B "$out"
  debs=("$out"/*.deb)
  if ((${#debs[@]} != 1)) || [[ ! -f "${debs[0]}" ]]; then
    echo "cpack made ${debs[*]}, want one .deb" >&2
    return 1
  fi
  deb=${debs[0]}
  dpkg-deb -I "$deb"
  [[ "$(dpkg-deb -f "$deb" Package)" == libweft-dev ]]
  [[ "$(dpkg-deb -f "$deb" Section)" == libdevel ]]
  depends=$(dpkg-deb -f "$deb" Depends)
  libdir_rel=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:PATH=//p' "$b/CMakeCache.txt")
  listing=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
  for f in include/weft/weft.hpp include/weft/version.hpp "$libdir_rel/cmake/weft/weftConfig.cmake" \
           "$libdir_rel/cmake/weft/weftTargets.cmake" "$libdir_rel/cmake/weft/Findweft_uring.cmake" \
           "$libdir_rel/pkgconfig/weft.pc"; do
    if ! grep -qxF "./usr/$f" <<<"$listing"; then
      echo "$deb lacks /usr/$f" >&2
      return 1
    fi
  done
  if ! grep -qE "^\./usr/$libdir_rel/libweft\.(a|so)$" <<<"$listing"; then
    echo "$deb lacks /usr/$libdir_rel/libweft.a or .so" >&2
    return 1
  fi
  dpkg-deb -x "$deb" "$droot"
  # A weft built with liburing needs its headers and library at the consumer.
  if grep -qE '^Requires(\.private)?:.*liburing' "$droot/usr/$libdir_rel/pkgconfig/weft.pc" && [[ "$depends" != *liburing-dev* ]]; then
    echo "$deb: weft uses liburing but Depends is '$depends'" >&2
    return 1
  fi
  check_relocatable "$droot/usr" "$droot/usr/$libdir_rel"
  echo "consumer: deb $(basename "$deb") OK ($(wc -l <<<"$listing") entries, Depends: ${depends:-none})"
  consume_cmake deb "$droot/usr" "$droot/usr/$libdir_rel" "$backend"
  consume_pkgconfig deb "$droot/usr/$libdir_rel" "$backend"
}

# consume_source subdir|fetchcontent: tests/consumer_<kind> includes this
# checkout (add_subdirectory, FetchContent_Declare(SOURCE_DIR)); its
# CMakeLists fails if weft, not top level, turned on its tests, benchmarks,
# examples or install rules. No build type: weft must not choose one for
# the including project (and an unoptimised build is quicker).
consume_source() {
  local kind=$1 cb="$ci_dir/consumer-$1" link out
  rm -rf "$cb"
  cmake -S "$root/tests/consumer_$kind" -B "$cb" "${generator[@]}" -DWEFT_CHECKOUT="$root"
  cmake --build "$cb" -j "$jobs"
  link=$(linkage "$cb/weft_consumer" "$cb/$([[ $kind == subdir ]] && echo weft-build || echo _deps/weft-build)")
  out=$(run_consumer asm "$cb/weft_consumer")
  echo "consumer: $kind OK ($link, $out)"
}

# Release (static) and a shared build (library only) are installed and
# consumed with CMake and pkg-config; so is the boost build if its phase ran.
# The Debian package is made from the release build; then weft is built
# inside two consumer projects from this checkout.
phase_install() {
  shopt -s inherit_errexit  # a failure inside $(...) fails the phase too
  [[ -d "$ci_dir/release" ]] || phase_release
  local shared="$ci_dir/shared"
  configure "$shared" -DCMAKE_BUILD_TYPE=Release -DWEFT_WERROR=ON -DWEFT_CONTEXT_BACKEND=asm -DBUILD_SHARED_LIBS=ON \
    -DWEFT_BUILD_TESTS=OFF -DWEFT_BUILD_BENCH=OFF -DWEFT_BUILD_EXAMPLES=OFF
  build "$shared"
  consume "$ci_dir/release" release asm
  consume "$shared" shared asm
  if [[ -d "$ci_dir/boost" ]]; then
    consume "$ci_dir/boost" boost boost
  fi
  consume_deb "$ci_dir/release" asm
  consume_source subdir
  consume_source fetchcontent
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
