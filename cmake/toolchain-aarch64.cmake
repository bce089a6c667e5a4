# Cross-compiling for 64-bit Arm Linux with Debian's g++-aarch64-linux-gnu.
# Binaries run on an x86-64 host under qemu-user: CMake's emulator setting
# lets gtest_discover_tests and ctest start them through qemu-aarch64.
#   cmake -S . -B build-arm -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake
# Packages built for aarch64 (e.g. GoogleTest from /usr/src/googletest) can
# be found by pointing <Pkg>_DIR at their config directory.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(WEFT_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${WEFT_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${WEFT_CROSS_TRIPLE}-g++)
set(CMAKE_ASM_COMPILER ${WEFT_CROSS_TRIPLE}-gcc)

set(CMAKE_FIND_ROOT_PATH /usr/${WEFT_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
# BOTH: an explicit <Pkg>_DIR outside the sysroot (a GoogleTest built for
# aarch64 by scripts/test.sh) must still be accepted.
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# scripts/qemu-aarch64-run wraps qemu-aarch64 -L /usr/aarch64-linux-gnu so
# that a test binary can re-exec itself (GoogleTest's death tests).
find_program(WEFT_QEMU_AARCH64 qemu-aarch64)
if(WEFT_QEMU_AARCH64)
  get_filename_component(WEFT_QEMU_RUN "${CMAKE_CURRENT_LIST_DIR}/../scripts/qemu-aarch64-run" ABSOLUTE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${WEFT_QEMU_RUN})
endif()
