# `cmake --install` yields headers, the library and a CMake package, so a
# consumer writes find_package(weft CONFIG) and links weft::weft. The
# package's files name each other by relative paths: the installed tree can
# be moved.
#
# Inside another project (add_subdirectory, FetchContent) nothing is
# installed unless that project sets WEFT_INSTALL=ON.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

option(WEFT_INSTALL "Generate weft's install rules" ${PROJECT_IS_TOP_LEVEL})
if(NOT WEFT_INSTALL)
  return()
endif()

set(WEFT_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/weft)
get_target_property(WEFT_PACKAGE_LIBRARY_TYPE weft TYPE)  # STATIC_LIBRARY or SHARED_LIBRARY

install(TARGETS weft EXPORT weftTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/weft DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/include/weft/version.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/weft)
install(EXPORT weftTargets NAMESPACE weft:: DESTINATION ${WEFT_CMAKE_INSTALL_DIR})

configure_package_config_file(cmake/weftConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/weftConfig.cmake
  INSTALL_DESTINATION ${WEFT_CMAKE_INSTALL_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/weftConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
# Findweft_uring.cmake: weftConfig.cmake finds liburing with it for a
# consumer of the static library.
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/weftConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/weftConfigVersion.cmake
              ${CMAKE_CURRENT_LIST_DIR}/Findweft_uring.cmake
  DESTINATION ${WEFT_CMAKE_INSTALL_DIR})
