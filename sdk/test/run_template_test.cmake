# run_template_test.cmake — cmake -P script of the SDK's out-of-tree tests: UDAL installed
# into a scratch prefix, used from there as a vendor and a framework use it.
#   MODE          install: installs the build tree into PREFIX (the tests' fixture)
#                 package: the installed tools run from the prefix with no environment
#                   (udal-info, udal-bench, udal-cts, which certifies the installed CPU
#                   driver); a framework builds against the package with fmt hidden and
#                   runs a HOST_NATIVE module built with pkg-config's flags only
#                 template: sdk/template builds against the package and certifies itself
#                   with its own ctest (udal_add_conformance_test, verdict PASS)
#   BUILD_DIR     the UDAL build tree (already built)
#   PREFIX        the scratch install prefix
#   TEMPLATE_DIR  sdk/template
#   CONSUMER_DIR  sdk/test/consumer (a framework: find_package(udal) + udal::udal)
#   WORK_DIR      this test's scratch directory (emptied first)
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

# `env -i`: no LD_LIBRARY_PATH, no UDAL_*, no XDG_*; only the sanitizers' options pass, so a
# sanitized build reports as CI configured it.
set(empty_environment env -i)
foreach(variable ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS)
  if(DEFINED ENV{${variable}})
    list(APPEND empty_environment "${variable}=$ENV{${variable}}")
  endif()
endforeach()

set(prefix ${PREFIX})
if(MODE STREQUAL "install")
  file(REMOVE_RECURSE ${prefix})
  message(STATUS "install the build tree into ${prefix}")
  run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
  foreach(file lib/cmake/udal/udalConfig.cmake lib/cmake/udal/udalConfigVersion.cmake
               lib/cmake/udal/udalTargets.cmake lib/cmake/udal/UdalDriver.cmake
               lib/cmake/udal/udalCtsTargets.cmake lib/cmake/udal/UdalConformance.cmake
               lib/cmake/udal/UdalRunConformance.cmake lib/pkgconfig/udal.pc
               lib/pkgconfig/udal-host-module.pc include/udal/udal.h include/udal/sdk/sdk.h
               bin/udal-cts bin/udal-info share/udal/drivers.d/cpu.json
               share/udal/cts/expectations/cpu.txt)
    if(NOT EXISTS ${prefix}/${file})
      message(FATAL_ERROR "the install lacks ${file}")
    endif()
  endforeach()
  file(GLOB installed_kernels ${prefix}/share/udal/cts/kernels/*)
  if(NOT installed_kernels)
    message(FATAL_ERROR "the install has no CTS kernels in share/udal/cts/kernels")
  endif()
  return()
endif()
if(NOT EXISTS ${prefix}/lib/cmake/udal/udalConfig.cmake)
  message(FATAL_ERROR "no UDAL install in ${prefix} (the test sdk.package_install makes it)")
endif()
file(REMOVE_RECURSE ${WORK_DIR})

# A sanitized libudal needs the same runtime in everything loaded with it.
set(flags)
set(sanitize_flag)
if(SANITIZE)
  set(sanitize_flag "-fsanitize=${SANITIZE}")
  list(APPEND flags "-DCMAKE_C_FLAGS=${sanitize_flag}" "-DCMAKE_CXX_FLAGS=${sanitize_flag}"
       "-DCMAKE_EXE_LINKER_FLAGS=${sanitize_flag}" "-DCMAKE_MODULE_LINKER_FLAGS=${sanitize_flag}"
       "-DCMAKE_SHARED_LINKER_FLAGS=${sanitize_flag}")
endif()
set(common -G ${GENERATOR} -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_C_COMPILER=${C_COMPILER}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} ${flags})

if(MODE STREQUAL "package")
  message(STATUS "1. the installed tools start from the prefix with no environment")
  run(${empty_environment} ${prefix}/bin/udal-info --json)
  string(JSON first_driver ERROR_VARIABLE json_error GET "${run_output}" drivers 0 manifest_path)
  if(NOT run_output MATCHES "\"name\": *\"cpu\"" OR NOT run_output MATCHES "${prefix}/share/udal/drivers.d/cpu.json")
    message(FATAL_ERROR "udal-info from the prefix does not list the prefix's CPU driver:\n${run_output}")
  endif()
  run(${empty_environment} ${prefix}/bin/udal-cts profile)
  if(NOT run_output MATCHES "certification profile: [0-9]+ tests")
    message(FATAL_ERROR "udal-cts profile from the prefix gave:\n${run_output}")
  endif()
  string(REGEX MATCH "profile: [0-9]+ tests" profile_line "${run_output}")
  message(STATUS "   udal-info lists the prefix's cpu driver; udal-cts ${profile_line}")
  if(EXISTS ${prefix}/bin/udal-bench)
    run(${empty_environment} ${prefix}/bin/udal-bench --help)
    foreach(kernel bench_kernels.so)
      if(NOT EXISTS ${prefix}/share/udal/bench/kernels/${kernel})
        message(FATAL_ERROR "the install lacks share/udal/bench/kernels/${kernel}")
      endif()
    endforeach()
  endif()
  find_program(READELF readelf)
  if(READELF)
    foreach(tool udal-cts udal-info udal-bench)
      if(EXISTS ${prefix}/bin/${tool})
        run(${READELF} -d ${prefix}/bin/${tool})
        if(NOT run_output MATCHES "RUNPATH[^\n]*\\[\\$ORIGIN/\\.\\./lib")
          message(FATAL_ERROR "${tool} has no RUNPATH $ORIGIN/../lib:\n${run_output}")
        endif()
      endif()
    endforeach()
  endif()

  message(STATUS "2. the installed udal-cts certifies the installed CPU driver, no environment")
  set(package ${WORK_DIR}/cert-cpu)
  run(${empty_environment} ${prefix}/bin/udal-cts --certify --driver cpu --out ${package}
      --gtest_brief=1)
  run(${empty_environment} ${prefix}/bin/udal-cts verify ${package})
  message(STATUS "   ${run_output}")
  file(READ ${package}/report.json report)
  string(JSON verdict GET "${report}" verdict)
  string(JSON expectations_file GET "${report}" run expectations_file)
  if(NOT verdict STREQUAL "PASS")
    message(FATAL_ERROR "the CPU driver's certification from the prefix: verdict ${verdict}")
  endif()
  # The prefix's own data, not the build machine's.
  if(NOT expectations_file STREQUAL "${prefix}/share/udal/cts/expectations/cpu.txt")
    message(FATAL_ERROR "udal-cts took the expectations '${expectations_file}', not the "
                        "prefix's share/udal/cts/expectations/cpu.txt")
  endif()

  message(STATUS "3. a framework builds against the package with fmt hidden")
  run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/consumer ${common}
      -DCMAKE_DISABLE_FIND_PACKAGE_fmt=ON)
  run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
  # Asking for the SDK there fails, and says why.
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/consumer-sdk
                  ${common} -DCMAKE_DISABLE_FIND_PACKAGE_fmt=ON -DUDAL_CONSUMER_WANTS_SDK=ON
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0 OR NOT "${out}${err}" MATCHES "fmt")
    message(FATAL_ERROR "find_package(udal COMPONENTS sdk) without fmt: expected a failure "
                        "naming fmt, got exit ${rc}:\n${out}${err}")
  endif()

  find_program(PKG_CONFIG pkg-config)
  if(PKG_CONFIG)
    message(STATUS "4. a HOST_NATIVE module built with pkg-config's flags runs on the prefix's CPU driver")
    set(ENV{PKG_CONFIG_PATH} ${prefix}/lib/pkgconfig)
    run(${PKG_CONFIG} --cflags --libs udal)
    string(REGEX MATCH "-I([^ \n]+)" include_flag "${run_output}")
    if(NOT run_output MATCHES "-ludal" OR NOT EXISTS ${CMAKE_MATCH_1}/udal/udal.h)
      message(FATAL_ERROR "pkg-config udal gave: ${run_output}")
    endif()
    run(${PKG_CONFIG} --cflags --libs udal-host-module)
    separate_arguments(module_flags UNIX_COMMAND "${run_output}")
    set(module ${WORK_DIR}/host_module_kernels.so)
    run(${C_COMPILER} ${module_flags} ${sanitize_flag} -O2 -o ${module}
        ${CONSUMER_DIR}/host_module_kernels.c)
    run(nm -D --defined-only ${module})
    if(run_output MATCHES "consumer_saxpy_element" OR NOT run_output MATCHES "udal_host_kernel__saxpy")
      message(FATAL_ERROR "the module should export the UDAL symbols and hide the rest:\n${run_output}")
    endif()
    run(${empty_environment} ${WORK_DIR}/consumer/udal_host_module_check
        ${prefix}/share/udal/drivers.d/cpu.json ${module})
    message(STATUS "   ${run_output}")
  endif()
  message(STATUS "the package serves tools, frameworks and host modules from ${prefix}")
  return()
endif()

if(NOT MODE STREQUAL "template")
  message(FATAL_ERROR "run_template_test.cmake: MODE '${MODE}' is neither package nor template")
endif()

message(STATUS "1. configure and build sdk/template out of tree against the install")
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

message(STATUS "2. libudal lists the template's device (a framework's build, fmt hidden)")
run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/consumer ${common}
    -DCMAKE_DISABLE_FIND_PACKAGE_fmt=ON)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer --target udal_template_check)
run(${WORK_DIR}/consumer/udal_template_check ${manifest} "UDAL template device")
message(STATUS "   ${run_output}")

message(STATUS "3. the template's own ctest certifies it (udal_add_conformance_test)")
run(${CMAKE_CTEST_COMMAND} --test-dir ${WORK_DIR}/template --output-on-failure
    -R "^template\\.cts\\.certify$")
if(NOT run_output MATCHES "100% tests passed, 0 tests failed out of 1")
  message(FATAL_ERROR "the template's certification test did not run and pass:\n${run_output}")
endif()
file(READ ${WORK_DIR}/template/cts-template/report.json report)
string(JSON verdict GET "${report}" verdict)
string(JSON passed GET "${report}" counts passed)
message(STATUS "template driver: built out of tree and certified, verdict ${verdict} (${passed} tests passed)")
