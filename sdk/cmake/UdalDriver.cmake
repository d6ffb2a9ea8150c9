# UdalDriver.cmake — the CMake functions of the UDAL driver SDK.
#
#   udal_add_driver(<name> SOURCES ... [LIBRARIES ...] [NO_INSTALL] [DRIVER_VERSION x.y])
#   udal_add_host_module(<target> SOURCES ... [OUTPUT_DIR dir])
#   udal_add_conformance_test(<driver target> ...)   in UdalConformance.cmake
#
# The same file serves the UDAL build itself and vendors building against an installed UDAL
# (find_package(udal)); every directory it uses has a default, so both work unchanged.

include_guard(GLOBAL)
include(GNUInstallDirs)

# Where udal_add_driver() puts things, unless the including project says otherwise. The UDAL
# build sets these in its top-level CMakeLists.txt; an out-of-tree driver gets the same
# layout under its own build tree, so libudal finds the manifest there with
# UDAL_DRIVER_FILES=<build>/share/udal/drivers.d.
macro(_udal_driver_defaults)
  if(NOT DEFINED UDAL_INSTALL_DRIVER_DIR)
    set(UDAL_INSTALL_DRIVER_DIR ${CMAKE_INSTALL_LIBDIR}/udal)
  endif()
  if(NOT DEFINED UDAL_INSTALL_MANIFEST_DIR)
    set(UDAL_INSTALL_MANIFEST_DIR ${CMAKE_INSTALL_DATADIR}/udal/drivers.d)
  endif()
  if(NOT DEFINED UDAL_BUILD_MANIFEST_DIR)
    set(UDAL_BUILD_MANIFEST_DIR ${CMAKE_BINARY_DIR}/${CMAKE_INSTALL_DATADIR}/udal/drivers.d)
  endif()
  if(NOT DEFINED UDAL_BUILD_DRIVER_DIR)
    if(IS_ABSOLUTE "${UDAL_INSTALL_DRIVER_DIR}")
      set(UDAL_BUILD_DRIVER_DIR ${CMAKE_BINARY_DIR}/${CMAKE_INSTALL_LIBDIR}/udal)
    else()
      set(UDAL_BUILD_DRIVER_DIR ${PROJECT_BINARY_DIR}/${UDAL_INSTALL_DRIVER_DIR})
    endif()
  endif()
endmacro()

# The manifest's library_path is relative to the manifest, so a build tree or an install
# prefix can be moved as a whole and still find its drivers.
function(_udal_relative_path out from_dir to_file)
  file(RELATIVE_PATH rel "${from_dir}" "${to_file}")
  set(${out} "${rel}" PARENT_SCOPE)
endfunction()

function(_udal_write_manifest file name library_path)
  set(content "{\n  \"file_format_version\": \"1.0.0\",\n  \"driver\": {\n    \"name\": \"${name}\",\n    \"library_path\": \"${library_path}\",\n    \"abi_version\": \"1.0\"\n  }\n}\n")
  # file(CONFIGURE) rewrites only when the content changes, so rebuilds stay quiet.
  file(CONFIGURE OUTPUT "${file}" CONTENT "${content}" @ONLY)
endfunction()

# The driver SDK's libraries format their messages with fmt: find_package(udal) loads fmt
# only for COMPONENTS sdk, so a framework never needs it; a driver build that did not ask
# for the component gets it here, or a message saying what is missing.
macro(_udal_require_sdk caller)
  if(NOT TARGET udal::sdk)
    message(FATAL_ERROR "${caller}: the driver SDK (udal::sdk) is not in this UDAL package")
  endif()
  if(NOT TARGET fmt::fmt)
    find_package(fmt QUIET)
    if(NOT TARGET fmt::fmt)
      message(FATAL_ERROR "${caller}: the driver SDK needs fmt's CMake package, which was not "
                          "found: install libfmt-dev (or set fmt_DIR). "
                          "find_package(udal REQUIRED COMPONENTS sdk) asks for it up front.")
    endif()
  endif()
endmacro()

function(udal_add_driver name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "NO_INSTALL" "DRIVER_VERSION" "SOURCES;LIBRARIES")
  if(NOT name MATCHES "^[A-Za-z0-9_]+$")
    message(FATAL_ERROR "udal_add_driver: driver name '${name}' must be letters, digits and _")
  endif()
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "udal_add_driver(${name}): SOURCES is empty")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "udal_add_driver(${name}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  set(version_major 0)
  set(version_minor 0)
  if(DEFINED ARG_DRIVER_VERSION)
    if(NOT ARG_DRIVER_VERSION MATCHES "^([0-9]+)\\.([0-9]+)$")
      message(FATAL_ERROR "udal_add_driver(${name}): DRIVER_VERSION '${ARG_DRIVER_VERSION}' is not major.minor")
    endif()
    set(version_major ${CMAKE_MATCH_1})
    set(version_minor ${CMAKE_MATCH_2})
  elseif(DEFINED PROJECT_VERSION_MAJOR AND NOT PROJECT_VERSION_MAJOR STREQUAL "")
    set(version_major ${PROJECT_VERSION_MAJOR})
    if(NOT PROJECT_VERSION_MINOR STREQUAL "")
      set(version_minor ${PROJECT_VERSION_MINOR})
    endif()
  endif()
  _udal_driver_defaults()
  _udal_require_sdk(udal_add_driver(${name}))

  set(target udal_driver_${name})
  set(file_name ${CMAKE_SHARED_MODULE_PREFIX}udal_driver_${name}${CMAKE_SHARED_MODULE_SUFFIX})

  # Exactly one exported symbol: two drivers that bundle the same library (or different
  # versions of it) can then never bind to each other's copy.
  set(map ${CMAKE_CURRENT_BINARY_DIR}/${target}.map)
  file(CONFIGURE OUTPUT "${map}"
    CONTENT "{\n  global: udal_driver_negotiate;\n  local: *;\n};\n" @ONLY)

  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE udal::sdk ${ARG_LIBRARIES})
  target_compile_definitions(${target} PRIVATE
    UDAL_DRIVER_NAME="${name}"
    UDAL_DRIVER_VERSION_MAJOR=${version_major}
    UDAL_DRIVER_VERSION_MINOR=${version_minor})
  target_link_options(${target} PRIVATE
    -Wl,--version-script=${map} -Wl,--no-undefined)
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME udal_driver_${name}
    LIBRARY_OUTPUT_DIRECTORY ${UDAL_BUILD_DRIVER_DIR}
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON
    LINK_DEPENDS ${map})
  if(COMMAND udal_target_defaults)
    udal_target_defaults(${target})
  endif()

  # Build-tree manifest: found by the libudal of the same build without any variable.
  _udal_relative_path(build_rel ${UDAL_BUILD_MANIFEST_DIR} ${UDAL_BUILD_DRIVER_DIR}/${file_name})
  _udal_write_manifest(${UDAL_BUILD_MANIFEST_DIR}/${name}.json ${name} ${build_rel})

  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION ${UDAL_INSTALL_DRIVER_DIR})
    # Relative paths are resolved against one imaginary prefix: the manifest then holds a
    # path relative to itself, whatever prefix the package is installed into.
    set(root /udal-install-prefix)
    set(manifest_dir ${UDAL_INSTALL_MANIFEST_DIR})
    set(driver_dir ${UDAL_INSTALL_DRIVER_DIR})
    if(NOT IS_ABSOLUTE "${manifest_dir}")
      set(manifest_dir ${root}/${manifest_dir})
    endif()
    if(NOT IS_ABSOLUTE "${driver_dir}")
      set(driver_dir ${root}/${driver_dir})
    endif()
    if(IS_ABSOLUTE "${UDAL_INSTALL_MANIFEST_DIR}" OR IS_ABSOLUTE "${UDAL_INSTALL_DRIVER_DIR}")
      set(install_rel ${driver_dir}/${file_name})
    else()
      _udal_relative_path(install_rel ${manifest_dir} ${driver_dir}/${file_name})
    endif()
    set(install_manifest ${CMAKE_CURRENT_BINARY_DIR}/udal_manifest_install/${name}.json)
    _udal_write_manifest(${install_manifest} ${name} ${install_rel})
    install(FILES ${install_manifest} DESTINATION ${UDAL_INSTALL_MANIFEST_DIR})
  endif()
  # What udal_add_conformance_test() needs to find the driver's manifest and its place.
  set_target_properties(${target} PROPERTIES
    UDAL_MANIFEST ${UDAL_BUILD_MANIFEST_DIR}/${name}.json
    UDAL_DRIVER_NAME ${name})
  if(NOT ARG_NO_INSTALL)
    set_target_properties(${target} PROPERTIES UDAL_INSTALL_MANIFEST_DIR ${UDAL_INSTALL_MANIFEST_DIR})
  endif()
endfunction()

function(udal_add_host_module target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "OUTPUT_DIR" "SOURCES")
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "udal_add_host_module(${target}): SOURCES is empty")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "udal_add_host_module(${target}): unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  add_library(${target} MODULE ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE udal::headers)
  # Hidden by default: only what UDAL_HOST_MODULE()/UDAL_HOST_KERNEL() mark is exported,
  # so the driver's dlsym finds kernels and nothing else leaks into the process.
  set_target_properties(${target} PROPERTIES
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  if(ARG_OUTPUT_DIR)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIR})
  endif()
  if(COMMAND udal_target_defaults)
    udal_target_defaults(${target})
  endif()
endfunction()
