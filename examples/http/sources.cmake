# The HTTP example's parser, paths and dates: built into http_server
# (examples/CMakeLists.txt) and into weft_tests for their unit tests
# (tests/CMakeLists.txt), which runs even when the examples are not built.
set(WEFT_HTTP_EXAMPLE_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/parser.cpp
  ${CMAKE_CURRENT_LIST_DIR}/path.cpp
  ${CMAKE_CURRENT_LIST_DIR}/date.cpp)
