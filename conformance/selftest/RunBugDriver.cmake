# ctest driver of one self-test case: the suite must FAIL against a driver with a planted
# bug, and one of the tests expected to catch that bug must be among the failures.
#   cmake -DCTS=<udal-cts> -DDRIVER=<manifest> -DBUG=<name> -DCATCHERS=<a,b,…>
#         -DEXPECTATIONS=<file> [-DRUN_ENV=VAR=value] -P RunBugDriver.cmake
set(command ${CTS} --driver ${DRIVER} --timeout-s 20 --expectations ${EXPECTATIONS} --gtest_brief=1)
if(RUN_ENV)
  set(command ${CMAKE_COMMAND} -E env ${RUN_ENV} ${command})
endif()
execute_process(COMMAND ${command} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
# GoogleTest's "[  FAILED  ]" line comes as each test ends, so the tests that failed before
# a crash or a timeout are named too.
string(REGEX MATCHALL "\\[  FAILED  \\] [^\n]+|udal-cts: [^\n]+ (timed out|crashed)[^\n]*" failed_lines "${output}\n${errors}")
if(result EQUAL 0)
  message(FATAL_ERROR "planted bug '${BUG}' was NOT caught: udal-cts passed against ${DRIVER}\n${output}")
endif()
if(NOT failed_lines)
  message(FATAL_ERROR "udal-cts failed against '${BUG}' (${result}) but named no failed test:\n${output}\n${errors}")
endif()
string(REPLACE "," ";" catchers "${CATCHERS}")
set(caught_by_catcher FALSE)
foreach(catcher IN LISTS catchers)
  string(FIND "${failed_lines}" "${catcher}" at)
  if(NOT at EQUAL -1)
    set(caught_by_catcher TRUE)
  endif()
endforeach()
string(REPLACE ";" "\n" failed_text "${failed_lines}")
if(NOT caught_by_catcher)
  message(FATAL_ERROR "planted bug '${BUG}' made the suite fail, but none of its expected catchers (${CATCHERS}) failed; failures:\n${failed_text}")
endif()
message(STATUS "planted bug '${BUG}' caught; failed tests:\n${failed_text}")
