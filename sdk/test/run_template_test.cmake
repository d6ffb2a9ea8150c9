# run_template_test.cmake — cmake -P script of the test sdk.template_builds_out_of_tree_and_loads.
#   BUILD_DIR     the UDAL build tree (already built)
#   TEMPLATE_DIR  sdk/template
#   CONSUMER_DIR  sdk/test/consumer (a libudal user: find_package(udal) + udal::udal)
#   WORK_DIR      scratch directory (emptied first)
#   GENERATOR, C_COMPILER, CXX_COMPILER, SANITIZE  as in the UDAL build
cmake_minimum_required(VERSION 3.25)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " command)
    message(FATAL_ERROR "failed (${rc}): ${command}\n${out}\n${err}")
  endif()
  set(run_output "${out}${err}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

message(STATUS "1. install the build tree into ${prefix}")
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
foreach(file lib/cmake/udal/udalConfig.cmake lib/cmake/udal/udalConfigVersion.cmake
             lib/cmake/udal/udalTargets.cmake lib/cmake/udal/UdalDriver.cmake
             lib/pkgconfig/udal.pc include/udal/udal.h include/udal/sdk/sdk.h)
  if(NOT EXISTS ${prefix}/${file})
    message(FATAL_ERROR "the install lacks ${file}")
  endif()
endforeach()

# A sanitized libudal needs the same runtime in everything loaded with it.
set(flags)
if(SANITIZE)
  set(s "-fsanitize=${SANITIZE}")
  list(APPEND flags "-DCMAKE_C_FLAGS=${s}" "-DCMAKE_CXX_FLAGS=${s}"
       "-DCMAKE_EXE_LINKER_FLAGS=${s}" "-DCMAKE_MODULE_LINKER_FLAGS=${s}"
       "-DCMAKE_SHARED_LINKER_FLAGS=${s}")
endif()
set(common -G ${GENERATOR} -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_C_COMPILER=${C_COMPILER}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} ${flags})

message(STATUS "2. configure and build sdk/template out of tree against the install")
run(${CMAKE_COMMAND} -S ${TEMPLATE_DIR} -B ${WORK_DIR}/template ${common})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/template)
set(manifest ${WORK_DIR}/template/share/udal/drivers.d/template.json)
if(NOT EXISTS ${manifest})
  message(FATAL_ERROR "udal_add_driver wrote no manifest at ${manifest}")
endif()
file(READ ${manifest} manifest_text)
string(JSON library_path GET "${manifest_text}" driver library_path)
if(IS_ABSOLUTE "${library_path}" OR NOT EXISTS ${WORK_DIR}/template/share/udal/drivers.d/${library_path})
  message(FATAL_ERROR "manifest library_path '${library_path}' is not a relative path to the driver")
endif()
run(nm -D --defined-only ${WORK_DIR}/template/lib/udal/libudal_driver_template.so)
string(REGEX MATCHALL "[^\n]+" exported "${run_output}")
list(LENGTH exported count)
if(NOT count EQUAL 1 OR NOT run_output MATCHES " udal_driver_negotiate")
  message(FATAL_ERROR "the template driver must export only udal_driver_negotiate:\n${run_output}")
endif()

message(STATUS "3. build a libudal user against the install (find_package(udal), udal::udal)")
run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/consumer ${common})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)

message(STATUS "4. libudal lists the template's device")
run(${WORK_DIR}/consumer/udal_template_check ${manifest} "UDAL template device")
message(STATUS "${run_output}")

find_program(PKG_CONFIG pkg-config)
if(PKG_CONFIG)
  message(STATUS "5. pkg-config finds libudal")
  set(ENV{PKG_CONFIG_PATH} ${prefix}/lib/pkgconfig)
  run(${PKG_CONFIG} --cflags --libs udal)
  if(NOT run_output MATCHES "-ludal" OR NOT run_output MATCHES "-I")
    message(FATAL_ERROR "pkg-config udal gave: ${run_output}")
  endif()
  string(REGEX MATCH "-I([^ \n]+)" include_flag "${run_output}")
  if(NOT EXISTS ${CMAKE_MATCH_1}/udal/udal.h)
    message(FATAL_ERROR "pkg-config's include directory ${CMAKE_MATCH_1} has no udal/udal.h")
  endif()
endif()

if(EXISTS ${prefix}/bin/udal-info)
  message(STATUS "6. the installed udal-info lists the template's device")
  set(ENV{UDAL_DRIVER_FILES} ${manifest})
  set(ENV{LD_LIBRARY_PATH} ${prefix}/lib)
  run(${prefix}/bin/udal-info --json)
  if(NOT run_output MATCHES "UDAL template device")
    message(FATAL_ERROR "udal-info does not list the template's device:\n${run_output}")
  endif()
endif()
message(STATUS "template driver: built out of tree and loaded")
