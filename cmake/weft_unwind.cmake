# Finds libunwind (libunwind-dev) for the backtraces of the thread dump:
# WEFT_HAVE_LIBUNWIND, and when true the IMPORTED target weft::unwind
# (cmake/Findweft_unwind.cmake, installed too). Without it weft builds the
# same, and the dump says "stacks unavailable: built without libunwind".
# WEFT_USE_LIBUNWIND=OFF leaves it out on purpose.
option(WEFT_USE_LIBUNWIND "Use libunwind for thread-dump backtraces when it is installed" ON)
set(WEFT_HAVE_LIBUNWIND OFF)
if(WEFT_USE_LIBUNWIND)
  list(PREPEND CMAKE_MODULE_PATH ${CMAKE_CURRENT_LIST_DIR})
  find_package(weft_unwind MODULE QUIET)
  if(weft_unwind_FOUND)
    set(WEFT_HAVE_LIBUNWIND ON)
    message(STATUS "weft: thread-dump backtraces via ${WEFT_UNWIND_LIBRARY}")
  else()
    message(STATUS "weft: libunwind not found; thread dumps print no backtraces")
  endif()
endif()
