# ctest driver: certify a driver, verify the package, and prove that verify notices a
# tampered package and that --certify refuses a filter.
#   cmake -DCTS=<udal-cts> -DDRIVER=<name|path> -DOUT=<dir> -P CertifyAndVerify.cmake
file(REMOVE_RECURSE ${OUT} ${OUT}-tampered)

execute_process(COMMAND ${CTS} --certify --driver ${DRIVER} --out ${OUT} --gtest_brief=1
                RESULT_VARIABLE certify_result)
if(NOT certify_result EQUAL 0)
  message(FATAL_ERROR "udal-cts --certify --driver ${DRIVER} failed (${certify_result}); see ${OUT}/summary.md")
endif()

execute_process(COMMAND ${CTS} verify ${OUT} RESULT_VARIABLE verify_result)
if(NOT verify_result EQUAL 0)
  message(FATAL_ERROR "udal-cts verify ${OUT} failed on a fresh package")
endif()

# One changed byte in the summary must be caught.
file(COPY ${OUT}/ DESTINATION ${OUT}-tampered)
file(APPEND ${OUT}-tampered/summary.md " ")
execute_process(COMMAND ${CTS} verify ${OUT}-tampered RESULT_VARIABLE tampered_result
                OUTPUT_VARIABLE tampered_output)
if(tampered_result EQUAL 0)
  message(FATAL_ERROR "udal-cts verify accepted a package whose summary.md was changed")
endif()
message(STATUS "tampered package refused as it should be:\n${tampered_output}")

execute_process(COMMAND ${CTS} --certify --driver ${DRIVER} --out ${OUT}-filtered
                --gtest_filter=*Buffer* RESULT_VARIABLE filtered_result ERROR_VARIABLE filtered_error)
if(filtered_result EQUAL 0 OR EXISTS ${OUT}-filtered/report.json)
  message(FATAL_ERROR "udal-cts --certify accepted a --gtest_filter")
endif()
file(REMOVE_RECURSE ${OUT}-tampered ${OUT}-filtered)
