# Finds libunwind's generic (remote-capable) library for weft's thread dump
# (runtime/core/unwind.cpp unwinds a copy of a parked thread's stack through
# its own address space, which only the generic library offers). Used by
# weft's build (cmake/weft_unwind.cmake) and installed beside
# weftConfig.cmake, which finds it again for a consumer of the static
# library, so the exported targets name weft::unwind, never a path.
#
# Sets weft_unwind_FOUND, weft_unwind_VERSION (when pkg-config knows it),
# the cache entries WEFT_UNWIND_LIBRARY / WEFT_UNWIND_INCLUDE_DIR, and
# defines weft::unwind. Not LLVM's libunwind (libunwind-14-dev), which has
# no remote interface: the header must declare unw_create_addr_space.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_WEFT_UNWIND QUIET libunwind-generic)
endif()
find_path(WEFT_UNWIND_INCLUDE_DIR libunwind.h HINTS ${PC_WEFT_UNWIND_INCLUDE_DIRS})
find_library(WEFT_UNWIND_LIBRARY unwind-generic HINTS ${PC_WEFT_UNWIND_LIBRARY_DIRS})
mark_as_advanced(WEFT_UNWIND_INCLUDE_DIR WEFT_UNWIND_LIBRARY)
if(WEFT_UNWIND_INCLUDE_DIR AND NOT EXISTS "${WEFT_UNWIND_INCLUDE_DIR}/libunwind-common.h")
  # LLVM's libunwind.h (no libunwind-common.h beside it): not the one we need.
  set(WEFT_UNWIND_INCLUDE_DIR WEFT_UNWIND_INCLUDE_DIR-NOTFOUND CACHE PATH "" FORCE)
endif()
if(PC_WEFT_UNWIND_VERSION)
  set(weft_unwind_VERSION ${PC_WEFT_UNWIND_VERSION})
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(weft_unwind
  REQUIRED_VARS WEFT_UNWIND_LIBRARY WEFT_UNWIND_INCLUDE_DIR
  VERSION_VAR weft_unwind_VERSION)

if(weft_unwind_FOUND AND NOT TARGET weft::unwind)
  add_library(weft::unwind UNKNOWN IMPORTED)
  set_target_properties(weft::unwind PROPERTIES
    IMPORTED_LOCATION "${WEFT_UNWIND_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${WEFT_UNWIND_INCLUDE_DIR}")
endif()
