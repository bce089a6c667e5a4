# `cpack -G DEB` in a build directory packs what `cmake --install` installs
# into a Debian package, libweft-dev_<version>_<arch>.deb, under /usr (the
# library in /usr/lib/, found there by the compiler, CMake and pkg-config).
# A static library build makes the usual -dev package; a shared build puts
# libweft.so.* in it too (one package, no separate runtime package).
set(CPACK_PACKAGE_NAME weft)
set(CPACK_PACKAGE_VENDOR "weft")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "C++20 green threads scheduled M:N over kernel worker threads")
# The lines under the summary in `dpkg -s`.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "weft runs user-space threads with their own stacks over a few kernel worker\n\
threads with work stealing. Its mutexes, condition variables, channels and\n\
I/O park the green thread, never the worker. This package has the headers,\n\
the library, a CMake package (find_package(weft)) and weft.pc for pkg-config.")
if(NOT CPACK_PACKAGE_CONTACT)
  set(CPACK_PACKAGE_CONTACT "weft maintainers <maintainers@users.noreply.h-seed-66e13615.example>")
endif()
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES OFF)

set(CPACK_DEBIAN_PACKAGE_NAME libweft-dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
# What a consumer needs to compile and link against the package: the
# headers of the dependencies a static libweft.a leaves to its link.
set(weft_deb_depends "")
if(WEFT_HAVE_LIBURING)
  list(APPEND weft_deb_depends liburing-dev)
endif()
if(WEFT_HAVE_LIBUNWIND)
  list(APPEND weft_deb_depends libunwind-dev)
endif()
if(WEFT_CONTEXT_BACKEND STREQUAL "boost")
  list(APPEND weft_deb_depends libboost-context-dev)
endif()
list(JOIN weft_deb_depends ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
if(WEFT_PACKAGE_LIBRARY_TYPE STREQUAL "SHARED_LIBRARY")
  # libc6, libstdc++6, liburing2 ... from the shared library's NEEDED entries.
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
# dpkg's architecture name, so a cross build (cmake/toolchain-aarch64.cmake)
# is not labelled with the build machine's.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE amd64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
endif()

# `cpack --config CPackSourceConfig.cmake`: a source tarball without build
# trees or git metadata.
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "/out/" "__pycache__")

include(CPack)
