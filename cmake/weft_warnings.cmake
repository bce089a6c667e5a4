# Warnings every weft target is built with (C++ sources only: the assembler
# does not take -W flags). WEFT_WERROR turns them into errors; CI sets it.
option(WEFT_WERROR "Treat compiler warnings as errors" OFF)

function(weft_warnings target)
  # -Wdelete-non-virtual-dtor (in -Wall) catches the deletes that matter;
  # -Wnon-virtual-dtor would also flag protected-destructor bases.
  set(flags -Wall -Wextra -Wpedantic -Wshadow -Woverloaded-virtual -Wcast-align
      -Wformat=2 -Wimplicit-fallthrough)
  # GCC 12 at -O3 reports bogus overlaps inside libstdc++'s std::string
  # concatenation (GCC PR 105329/105651); the warning is useless there.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12
     AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    list(APPEND flags -Wno-restrict)
  endif()
  if(WEFT_WERROR)
    list(APPEND flags -Werror)
  endif()
  list(TRANSFORM flags PREPEND "$<$<COMPILE_LANGUAGE:CXX>:" OUTPUT_VARIABLE cxx_flags)
  list(TRANSFORM cxx_flags APPEND ">")
  target_compile_options(${target} PRIVATE ${cxx_flags})
endfunction()
