# Finds liburing (io_uring) for weft. Used by weft's own build
# (cmake/weft_uring.cmake) and installed beside weftConfig.cmake, which
# finds it again for a consumer of a static libweft.a; so the exported
# targets name the IMPORTED target weft::uring, never a path on the machine
# that built the package.
#
# Sets weft_uring_FOUND, weft_uring_VERSION (when pkg-config knows it), the
# cache entries WEFT_URING_LIBRARY / WEFT_URING_INCLUDE_DIR, and defines
# weft::uring. pkg-config's liburing.pc only hints where to look, so a
# liburing without a .pc file (or a machine without pkg-config) works too.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_WEFT_URING QUIET liburing)
endif()
find_path(WEFT_URING_INCLUDE_DIR liburing.h HINTS ${PC_WEFT_URING_INCLUDE_DIRS})
find_library(WEFT_URING_LIBRARY uring HINTS ${PC_WEFT_URING_LIBRARY_DIRS})
mark_as_advanced(WEFT_URING_INCLUDE_DIR WEFT_URING_LIBRARY)
if(PC_WEFT_URING_VERSION)
  set(weft_uring_VERSION ${PC_WEFT_URING_VERSION})
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(weft_uring
  REQUIRED_VARS WEFT_URING_LIBRARY WEFT_URING_INCLUDE_DIR
  VERSION_VAR weft_uring_VERSION)

if(weft_uring_FOUND AND NOT TARGET weft::uring)
  add_library(weft::uring UNKNOWN IMPORTED)
  set_target_properties(weft::uring PROPERTIES
    IMPORTED_LOCATION "${WEFT_URING_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${WEFT_URING_INCLUDE_DIR}")
endif()
