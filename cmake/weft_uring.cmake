# Finds liburing for the io_uring engine: WEFT_HAVE_LIBURING, and when true
# the IMPORTED target weft::uring and WEFT_URING_LIBRARY /
# WEFT_URING_INCLUDE_DIR (cmake/Findweft_uring.cmake, which the package
# installs too). WEFT_USE_LIBURING=OFF builds without it (the epoll engine
# then serves all I/O).
option(WEFT_USE_LIBURING "Use liburing (io_uring) when it is installed" ON)
set(WEFT_HAVE_LIBURING OFF)
if(WEFT_USE_LIBURING)
  # CMAKE_MODULE_PATH is per directory: adding to it here changes nothing
  # for a project that includes weft with add_subdirectory.
  list(PREPEND CMAKE_MODULE_PATH ${CMAKE_CURRENT_LIST_DIR})
  find_package(weft_uring MODULE QUIET)
  if(weft_uring_FOUND)
    set(WEFT_HAVE_LIBURING ON)
    message(STATUS "weft: io_uring via ${WEFT_URING_LIBRARY}")
  else()
    message(STATUS "weft: liburing not found; io_uring support left out")
  endif()
endif()
