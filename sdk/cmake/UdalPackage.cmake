# The installed package: find_package(udal) gives udal::udal, udal::headers and
# udal_add_host_module(); COMPONENTS sdk adds fmt, which udal::sdk, udal::sdk_spirv and the
# SDK's other libraries need, and udal_add_driver(); udal::cts and udal_add_conformance_test()
# come with udal-cts (conformance/ installs udalCtsTargets.cmake). udal.pc serves libudal
# users without CMake, udal-host-module.pc builds HOST_NATIVE modules without it.
include(CMakePackageConfigHelpers)

set(UDAL_INSTALL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/udal)

# The target names in the package are udal::<EXPORT_NAME>; abi/ installs udal_headers
# into the export set, and users expect udal::headers.
if(TARGET udal_headers)
  set_target_properties(udal_headers PROPERTIES EXPORT_NAME headers)
endif()

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/udalConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/udalConfig.cmake
  INSTALL_DESTINATION ${UDAL_INSTALL_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/udalConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/udalConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/udalConfigVersion.cmake
  ${CMAKE_CURRENT_LIST_DIR}/UdalDriver.cmake
  ${CMAKE_CURRENT_LIST_DIR}/UdalConformance.cmake
  ${CMAKE_CURRENT_LIST_DIR}/UdalRunConformance.cmake
  DESTINATION ${UDAL_INSTALL_CMAKE_DIR})

# libudal (hal/) joins the export set in a directory added after this one, so the export
# is installed once the whole project is configured, and only if libudal is really there.
set_property(GLOBAL PROPERTY UDAL_INSTALL_CMAKE_DIR ${UDAL_INSTALL_CMAKE_DIR})
function(_udal_install_export)
  get_property(destination GLOBAL PROPERTY UDAL_INSTALL_CMAKE_DIR)
  if(NOT TARGET udal)
    message(WARNING "sdk: target 'udal' (libudal) does not exist; the installed package "
                    "will lack udal::udal")
  endif()
  install(EXPORT udalTargets NAMESPACE udal:: DESTINATION ${destination})
endfunction()
cmake_language(DEFER DIRECTORY ${PROJECT_SOURCE_DIR} CALL _udal_install_export)

# ${pcfiledir}-relative prefix: the .pc stays right after `cmake --install --prefix <any>`.
file(RELATIVE_PATH UDAL_PC_PREFIX_FROM_PCFILEDIR
  /udal-install-prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /udal-install-prefix)
string(REGEX REPLACE "/$" "" UDAL_PC_PREFIX_FROM_PCFILEDIR "${UDAL_PC_PREFIX_FROM_PCFILEDIR}")
foreach(pc udal udal-host-module)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/${pc}.pc.in ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
