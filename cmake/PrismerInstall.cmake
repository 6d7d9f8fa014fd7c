# `cmake --install`: the prismer command, libprismer_core, the in-tree plugins, the SDK headers and the
# PrismerSDK CMake package that out-of-tree plugins find.
include(CMakePackageConfigHelpers)
set(PRISMER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/PrismerSDK)

install(TARGETS prismer_core prismer_torch EXPORT PrismerSDKTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY sdk/include/prismer DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT PrismerSDKTargets NAMESPACE Prismer:: DESTINATION ${PRISMER_CMAKE_DIR})
configure_package_config_file(sdk/cmake/PrismerSDKConfig.cmake.in
  ${CMAKE_BINARY_DIR}/PrismerSDKConfig.cmake INSTALL_DESTINATION ${PRISMER_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/PrismerSDKConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_BINARY_DIR}/PrismerSDKConfig.cmake
  ${CMAKE_BINARY_DIR}/PrismerSDKConfigVersion.cmake
  sdk/cmake/PrismerAddPlugin.cmake
  DESTINATION ${PRISMER_CMAKE_DIR})
