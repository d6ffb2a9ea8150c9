# UdalConformance.cmake — certify a driver from its own build's ctest.
#
#   udal_add_conformance_test(<driver target> [EXPECTATIONS file] [NAME test]
#                             [TIMEOUT seconds] [OUT dir])
#
# Adds a ctest (default name <driver name>.cts.certify) that runs the conformance suite's
# certification profile on the driver's build-tree manifest,
#   udal-cts --certify --driver <build>/share/udal/drivers.d/<name>.json --out <OUT>,
# checks the package with `udal-cts verify`, and passes only with verdict PASS (or
# PASS_WITH_WAIVERS when EXPECTATIONS declares expected failures). The package stays in OUT
# (default <current binary dir>/cts-<name>) for a CI job to keep.
#
# Expected failures: udal-cts takes the file declared beside the driver,
# share/udal/cts/expectations/<name>.txt in the tree whose share/udal/drivers.d holds the
# driver's manifest. EXPECTATIONS copies the given file there in the build tree, and installs
# it there beside the installed manifest, so the installed driver certifies with the same
# declarations.
#
# The suite is udal::cts, from find_package(udal COMPONENTS cts) (or udal-cts in UDAL's own
# build).
include_guard(GLOBAL)
include(GNUInstallDirs)

set(_UDAL_RUN_CONFORMANCE_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/UdalRunConformance.cmake)

function(udal_add_conformance_test driver_target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "" "EXPECTATIONS;NAME;TIMEOUT;OUT" "")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "udal_add_conformance_test(${driver_target}): unknown arguments "
                        "${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET ${driver_target})
    message(FATAL_ERROR "udal_add_conformance_test: '${driver_target}' is not a target "
                        "(give the one udal_add_driver(<name>) made: udal_driver_<name>)")
  endif()
  get_target_property(manifest ${driver_target} UDAL_MANIFEST)
  get_target_property(name ${driver_target} UDAL_DRIVER_NAME)
  if(NOT manifest OR NOT name)
    message(FATAL_ERROR "udal_add_conformance_test: target '${driver_target}' was not made by "
                        "udal_add_driver(), so it has no manifest to test")
  endif()
  if(TARGET udal::cts)
    set(cts $<TARGET_FILE:udal::cts>)
  elseif(TARGET udal-cts)
    set(cts $<TARGET_FILE:udal-cts>)
  else()
    message(FATAL_ERROR "udal_add_conformance_test(${driver_target}): no conformance suite: "
                        "find_package(udal REQUIRED COMPONENTS cts) gives udal::cts (a UDAL "
                        "installed with its tests, UDAL_BUILD_TESTS=ON)")
  endif()
  if(NOT ARG_NAME)
    set(ARG_NAME ${name}.cts.certify)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 900)
  endif()
  if(NOT ARG_OUT)
    set(ARG_OUT ${CMAKE_CURRENT_BINARY_DIR}/cts-${name})
  endif()

  set(allow_waivers OFF)
  if(ARG_EXPECTATIONS)
    get_filename_component(expectations ${ARG_EXPECTATIONS} ABSOLUTE)
    if(NOT EXISTS ${expectations})
      message(FATAL_ERROR "udal_add_conformance_test(${driver_target}): EXPECTATIONS file "
                          "${expectations} does not exist")
    endif()
    # <build>/share/udal/drivers.d/<name>.json → <build>/share/udal/cts/expectations/<name>.txt
    cmake_path(GET manifest PARENT_PATH manifest_dir)
    cmake_path(GET manifest_dir PARENT_PATH share_udal)
    configure_file(${expectations} ${share_udal}/cts/expectations/${name}.txt COPYONLY)
    get_target_property(install_manifest_dir ${driver_target} UDAL_INSTALL_MANIFEST_DIR)
    if(install_manifest_dir)
      cmake_path(GET install_manifest_dir PARENT_PATH install_share_udal)
      install(FILES ${expectations} DESTINATION ${install_share_udal}/cts/expectations
              RENAME ${name}.txt)
    endif()
    set(allow_waivers ON)
  endif()

  add_test(NAME ${ARG_NAME}
    COMMAND ${CMAKE_COMMAND} -DCTS=${cts} -DDRIVER=${manifest} -DOUT=${ARG_OUT}
            -DALLOW_WAIVERS=${allow_waivers} -P ${_UDAL_RUN_CONFORMANCE_SCRIPT})
  # The suite's own variables would change the profile (refused) or the driver searched.
  set_tests_properties(${ARG_NAME} PROPERTIES TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT_MODIFICATION "GTEST_FILTER=unset:;UDAL_DRIVERS_SELECT=unset:;UDAL_DRIVERS_DISABLE=unset:")
endfunction()
