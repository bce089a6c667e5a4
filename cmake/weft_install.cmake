# `cmake --install` yields headers, the library, a CMake package and a
# pkg-config file, so a consumer writes find_package(weft CONFIG) and links
# weft::weft, or compiles with `pkg-config --cflags --libs weft`. Every file
# names the others by relative paths: the installed tree can be moved (or
# unpacked from the Debian package anywhere). As the top-level project,
# `cpack -G DEB` in the build directory packs the same files as libweft-dev.
#
# Inside another project (add_subdirectory, FetchContent) nothing is
# installed unless that project sets WEFT_INSTALL=ON.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

option(WEFT_INSTALL "Generate weft's install rules (and, top level, the CPack package)" ${PROJECT_IS_TOP_LEVEL})
if(NOT WEFT_INSTALL)
  return()
endif()

set(WEFT_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/weft)
get_target_property(WEFT_PACKAGE_LIBRARY_TYPE weft TYPE)  # STATIC_LIBRARY or SHARED_LIBRARY

install(TARGETS weft EXPORT weftTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/weft DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/include/weft/version.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/weft)
install(EXPORT weftTargets NAMESPACE weft:: DESTINATION ${WEFT_CMAKE_INSTALL_DIR})

configure_package_config_file(cmake/weftConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/weftConfig.cmake
  INSTALL_DESTINATION ${WEFT_CMAKE_INSTALL_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/weftConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
# Findweft_uring.cmake: weftConfig.cmake finds liburing with it for a
# consumer of the static library.
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/weftConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/weftConfigVersion.cmake
              ${CMAKE_CURRENT_LIST_DIR}/Findweft_uring.cmake ${CMAKE_CURRENT_LIST_DIR}/Findweft_unwind.cmake
  DESTINATION ${WEFT_CMAKE_INSTALL_DIR})

# weft.pc. A static libweft.a is useless without its dependencies, so they
# go in Requires/Libs (a plain `pkg-config --libs weft` links); a shared
# libweft.so records them itself, so they are private (--static only).
set(pc_deps_libs "")
if(WEFT_CONTEXT_BACKEND STREQUAL "boost")
  set(pc_deps_libs " -lboost_context")  # Boost ships no .pc file
endif()
set(pc_deps_requires "")
if(WEFT_HAVE_LIBURING)
  set(pc_deps_requires "liburing")
endif()
if(WEFT_HAVE_LIBUNWIND)
  # libunwind-generic.pc requires libunwind.pc itself.
  if(pc_deps_requires STREQUAL "")
    set(pc_deps_requires "libunwind-generic")
  else()
    string(APPEND pc_deps_requires ", libunwind-generic")
  endif()
endif()
if(WEFT_PACKAGE_LIBRARY_TYPE STREQUAL "SHARED_LIBRARY")
  set(WEFT_PC_KIND "shared library")
  set(WEFT_PC_REQUIRES "")
  set(WEFT_PC_LIBS "")
  set(WEFT_PC_REQUIRES_PRIVATE "${pc_deps_requires}")
  set(WEFT_PC_LIBS_PRIVATE "${pc_deps_libs}")
else()
  set(WEFT_PC_KIND "static library")
  set(WEFT_PC_REQUIRES "${pc_deps_requires}")
  set(WEFT_PC_LIBS "${pc_deps_libs}")
  set(WEFT_PC_REQUIRES_PRIVATE "")
  set(WEFT_PC_LIBS_PRIVATE "")
endif()
# The gdb extension (info weft-threads, weft-bt): `source` it from gdb
# (docs/debugging.md).
install(FILES scripts/gdb/weft.py DESTINATION ${CMAKE_INSTALL_DATADIR}/weft/gdb)

set(WEFT_PC_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}" OR IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
  # Absolute directories were asked for: the file cannot be relocatable.
  set(WEFT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  set(WEFT_PC_LIBDIR "${CMAKE_INSTALL_FULL_LIBDIR}")
  set(WEFT_PC_INCLUDEDIR "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
else()
  # ${pcfiledir} is where pkg-config found weft.pc (pkg-config and pkgconf
  # both define it): the prefix is reached from there.
  file(RELATIVE_PATH pc_up "/prefix/${WEFT_PC_INSTALL_DIR}" "/prefix")
  string(REGEX REPLACE "/$" "" pc_up "${pc_up}")
  set(WEFT_PC_PREFIX "\${pcfiledir}/${pc_up}")
  set(WEFT_PC_LIBDIR "\${prefix}/${CMAKE_INSTALL_LIBDIR}")
  set(WEFT_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
endif()
configure_file(cmake/weft.pc.in ${CMAKE_CURRENT_BINARY_DIR}/weft.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/weft.pc DESTINATION ${WEFT_PC_INSTALL_DIR})

if(PROJECT_IS_TOP_LEVEL)
  include(${CMAKE_CURRENT_LIST_DIR}/weft_cpack.cmake)
endif()
