# The kv_server example's parts (examples/kv/), compiled once into an object
# library that kv_server (examples/CMakeLists.txt) and the kv tests
# (tests/CMakeLists.txt) both link, so the tests run even when the examples
# are not built. Included from both places: the first defines it.
if(NOT TARGET weft_kv_parts)
  add_library(weft_kv_parts OBJECT
    ${CMAKE_CURRENT_LIST_DIR}/resp.cpp
    ${CMAKE_CURRENT_LIST_DIR}/glob.cpp
    ${CMAKE_CURRENT_LIST_DIR}/store.cpp
    ${CMAKE_CURRENT_LIST_DIR}/pubsub.cpp
    ${CMAKE_CURRENT_LIST_DIR}/commands.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cmd_keys.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cmd_strings.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cmd_lists.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cmd_sets.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cmd_hashes.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cmd_zsets.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cmd_pubsub.cpp)
  target_link_libraries(weft_kv_parts PUBLIC weft::weft)
  target_include_directories(weft_kv_parts PUBLIC ${CMAKE_CURRENT_LIST_DIR}/..)
  weft_warnings(weft_kv_parts)
endif()
