# The kv_server example's parts (examples/kv/): built into kv_server
# (examples/CMakeLists.txt) and into the kv tests (tests/CMakeLists.txt),
# which run even when the examples are not built.
set(WEFT_KV_EXAMPLE_SOURCES
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
