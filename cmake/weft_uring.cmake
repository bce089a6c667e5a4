# Finds liburing for the io_uring engine: WEFT_HAVE_LIBURING, and when true
# WEFT_URING_LIBRARY / WEFT_URING_INCLUDE_DIR. WEFT_USE_LIBURING=OFF builds
# without it (the epoll engine then serves all I/O).
option(WEFT_USE_LIBURING "Use liburing (io_uring) when it is installed" ON)
set(WEFT_HAVE_LIBURING OFF)
if(WEFT_USE_LIBURING)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(WEFT_PC_URING QUIET liburing)
  endif()
  find_path(WEFT_URING_INCLUDE_DIR liburing.h HINTS ${WEFT_PC_URING_INCLUDE_DIRS})
  find_library(WEFT_URING_LIBRARY uring HINTS ${WEFT_PC_URING_LIBRARY_DIRS})
  if(WEFT_URING_INCLUDE_DIR AND WEFT_URING_LIBRARY)
    set(WEFT_HAVE_LIBURING ON)
    message(STATUS "weft: io_uring via ${WEFT_URING_LIBRARY}")
  else()
    message(STATUS "weft: liburing not found; io_uring support left out")
  endif()
endif()
