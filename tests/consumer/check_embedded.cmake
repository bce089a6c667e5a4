# weft_check_embedded(<weft source dir> <CMAKE_BUILD_TYPE cache value before
# weft was included>): fails the configure of a project
# that included weft (add_subdirectory, FetchContent) if weft, not being the
# top-level project, still turned on its tests, benchmarks, examples or
# install rules, or set the including project's build type.
function(weft_check_embedded weft_dir build_type_before)
  foreach(opt WEFT_BUILD_TESTS WEFT_BUILD_BENCH WEFT_BUILD_EXAMPLES WEFT_INSTALL)
    if(${opt})
      message(FATAL_ERROR "weft as a subproject: ${opt} is ${${opt}}, want OFF")
    endif()
  endforeach()
  get_property(subdirs DIRECTORY ${weft_dir} PROPERTY SUBDIRECTORIES)
  if(subdirs)
    message(FATAL_ERROR "weft as a subproject added directories: ${subdirs}")
  endif()
  if(NOT "$CACHE{CMAKE_BUILD_TYPE}" STREQUAL "${build_type_before}")
    message(FATAL_ERROR "weft as a subproject changed CMAKE_BUILD_TYPE from '${build_type_before}' to '$CACHE{CMAKE_BUILD_TYPE}'")
  endif()
  message(STATUS "weft as a subproject: tests, bench, examples and install rules off")
endfunction()
