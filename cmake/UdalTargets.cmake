# Functions that add targets and tests the same way wherever they are used: calls deferred to
# the end of the configuration, and the libFuzzer targets with their short ctests.

# udal_call_after_configure(<function> [<argument>...])
#
# Calls <function> once the whole tree has been read (at the end of the top-level
# directory), where a target of a directory read later (udal-cts, udal_cts_kernels: the top
# level adds conformance/ after the drivers, sdk/ and hal/) is known to exist or not. The
# arguments are taken now, each as one argument, lists included: a deferred call would
# otherwise read its arguments' variables when it runs, in the top level's scope.
function(udal_call_after_configure function)
  set(call "cmake_language(DEFER DIRECTORY [==[${CMAKE_SOURCE_DIR}]==] CALL [==[${function}]==]")
  if(ARGC GREATER 1)
    math(EXPR last "${ARGC} - 1")
    foreach(i RANGE 1 ${last})
      string(APPEND call " [==[${ARGV${i}}]==]")
    endforeach()
  endif()
  cmake_language(EVAL CODE "${call})")
endfunction()

# udal_depends_on_cts_kernels(<target>)
#
# <target> is built after the conformance suite's kernels (udal_cts_kernels, which read
# them from ${CMAKE_RUNTIME_OUTPUT_DIRECTORY}/udal-cts-kernels or collect them as seeds) when
# this build has them.
function(udal_depends_on_cts_kernels target)
  udal_call_after_configure(_udal_add_cts_kernels_dependency ${target})
endfunction()
function(_udal_add_cts_kernels_dependency target)
  if(TARGET udal_cts_kernels)
    add_dependencies(${target} udal_cts_kernels)
  endif()
endfunction()

# udal_add_fuzz_target(<name> SOURCES <file>...
#                      [INCLUDES <dir>...] [DEFINITIONS <definition>...] [LINK <library>...]
#                      [TEST <ctest name>] [SEEDS <dir> | COLLECT_SEEDS <dir>]
#                      [RUNS <n>] [TIMEOUT <seconds>])
#
# A libFuzzer executable <name> (-fsanitize=fuzzer,address,undefined, -O1 -g) with the
# project's warnings, and a ctest that runs it over its seeds for a bounded number of
# executions (fuzz/RunFuzzer.cmake), labelled fuzz. Under any compiler but clang the
# configuration fails here. <stem> is <name> without its `fuzz_` prefix.
#   SOURCES, INCLUDES, DEFINITIONS, LINK: the target's own (all PRIVATE).
#   TEST           the ctest's name (default fuzz.<stem>.short). CI runs the tests that
#                  match `(^|[.])fuzz[.]`.
#   SEEDS          the seed corpus, a source directory (default: corpus/ beside the caller's
#                  CMakeLists.txt). New inputs go to corpus-<stem>/ in the caller's build
#                  directory, never to the seeds.
#   COLLECT_SEEDS  instead of SEEDS: after each build of <name>, every .spv file under <dir>
#                  (a build directory) is copied into seeds/ in the caller's build
#                  directory, which is then the seed corpus; <name> is built after the
#                  conformance suite's kernels (udal_depends_on_cts_kernels).
#   RUNS           executions (default UDAL_FUZZ_SHORT_RUNS, a cache variable, 20000).
#   TIMEOUT        the ctest's timeout in seconds (default 600).
function(udal_add_fuzz_target name)
  cmake_parse_arguments(PARSE_ARGV 1 fuzz "" "TEST;SEEDS;COLLECT_SEEDS;RUNS;TIMEOUT"
                        "SOURCES;INCLUDES;DEFINITIONS;LINK")
  if(fuzz_UNPARSED_ARGUMENTS OR NOT fuzz_SOURCES)
    message(FATAL_ERROR "udal_add_fuzz_target(${name}): SOURCES is required; "
                        "unexpected arguments: '${fuzz_UNPARSED_ARGUMENTS}'")
  endif()
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "udal_add_fuzz_target(${name}): libFuzzer needs clang (configure with "
                        "CC=clang-14 CXX=clang++-14); the compiler is ${CMAKE_CXX_COMPILER_ID}")
  endif()
  if(fuzz_SEEDS AND fuzz_COLLECT_SEEDS)
    message(FATAL_ERROR "udal_add_fuzz_target(${name}): SEEDS or COLLECT_SEEDS, not both")
  endif()
  set(UDAL_FUZZ_SHORT_RUNS 20000 CACHE STRING "executions of each fuzz target in its short ctest")
  string(REGEX REPLACE "^fuzz_" "" stem ${name})
  cmake_path(GET CMAKE_CURRENT_FUNCTION_LIST_DIR PARENT_PATH udal_root)

  add_executable(${name} ${fuzz_SOURCES})
  target_include_directories(${name} PRIVATE ${fuzz_INCLUDES})
  target_compile_definitions(${name} PRIVATE ${fuzz_DEFINITIONS})
  target_link_libraries(${name} PRIVATE ${fuzz_LINK})
  target_compile_options(${name} PRIVATE
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
    -g -O1)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  udal_target_defaults(${name})

  if(fuzz_COLLECT_SEEDS)
    set(seeds ${CMAKE_CURRENT_BINARY_DIR}/seeds)
    add_custom_command(TARGET ${name} POST_BUILD
      COMMAND ${CMAKE_COMMAND} -DFROM=${fuzz_COLLECT_SEEDS} -DTO=${seeds}
              -P ${udal_root}/sdk/fuzz/CollectSeeds.cmake
      COMMENT "${name}: the .spv files under ${fuzz_COLLECT_SEEDS} as seeds" VERBATIM)
    udal_depends_on_cts_kernels(${name})
  elseif(fuzz_SEEDS)
    get_filename_component(seeds ${fuzz_SEEDS} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  else()
    set(seeds ${CMAKE_CURRENT_SOURCE_DIR}/corpus)
  endif()

  if(NOT fuzz_TEST)
    set(fuzz_TEST fuzz.${stem}.short)
  endif()
  if(NOT fuzz_RUNS)
    set(fuzz_RUNS ${UDAL_FUZZ_SHORT_RUNS})
  endif()
  if(NOT fuzz_TIMEOUT)
    set(fuzz_TIMEOUT 600)
  endif()
  add_test(NAME ${fuzz_TEST}
    COMMAND ${CMAKE_COMMAND} -DFUZZER=$<TARGET_FILE:${name}>
            -DSEEDS=${seeds}
            -DWORK=${CMAKE_CURRENT_BINARY_DIR}/corpus-${stem}
            -DRUNS=${fuzz_RUNS}
            -P ${udal_root}/fuzz/RunFuzzer.cmake)
  set_tests_properties(${fuzz_TEST} PROPERTIES TIMEOUT ${fuzz_TIMEOUT} LABELS fuzz)
endfunction()
