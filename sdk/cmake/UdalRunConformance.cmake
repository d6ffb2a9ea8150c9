# UdalRunConformance.cmake — the ctest of udal_add_conformance_test():
#   cmake -DCTS=<udal-cts> -DDRIVER=<manifest> -DOUT=<dir> [-DALLOW_WAIVERS=ON] -P this
# certifies the driver into OUT, verifies the package, and requires verdict PASS
# (PASS_WITH_WAIVERS too with ALLOW_WAIVERS).
cmake_minimum_required(VERSION 3.25)
foreach(variable CTS DRIVER OUT)
  if(NOT DEFINED ${variable} OR "${${variable}}" STREQUAL "")
    message(FATAL_ERROR "UdalRunConformance.cmake: -D${variable}=... is required")
  endif()
endforeach()
if(NOT EXISTS ${DRIVER})
  message(FATAL_ERROR "the driver's manifest ${DRIVER} does not exist: build the driver first")
endif()

file(REMOVE_RECURSE ${OUT})
execute_process(COMMAND ${CTS} --certify --driver ${DRIVER} --out ${OUT} --gtest_brief=1
                RESULT_VARIABLE certify_result)
if(NOT EXISTS ${OUT}/report.json)
  message(FATAL_ERROR "udal-cts --certify --driver ${DRIVER} wrote no report (exit ${certify_result})")
endif()
execute_process(COMMAND ${CTS} verify ${OUT} RESULT_VARIABLE verify_result
                OUTPUT_VARIABLE verify_output ERROR_VARIABLE verify_output)
if(NOT verify_result EQUAL 0)
  message(FATAL_ERROR "udal-cts verify ${OUT} failed:\n${verify_output}")
endif()
file(READ ${OUT}/report.json report)
string(JSON verdict ERROR_VARIABLE json_error GET "${report}" verdict)
if(json_error)
  message(FATAL_ERROR "${OUT}/report.json has no verdict: ${json_error}")
endif()
set(accepted PASS)
if(ALLOW_WAIVERS)
  list(APPEND accepted PASS_WITH_WAIVERS)
endif()
if(NOT verdict IN_LIST accepted OR NOT certify_result EQUAL 0)
  file(READ ${OUT}/summary.md summary LIMIT 8000)
  message(FATAL_ERROR "certification of ${DRIVER}: verdict ${verdict} (udal-cts exit "
                      "${certify_result}), expected ${accepted}; ${OUT}/summary.md:\n${summary}")
endif()
message(STATUS "certification of ${DRIVER}: verdict ${verdict}; package ${OUT}\n${verify_output}")
