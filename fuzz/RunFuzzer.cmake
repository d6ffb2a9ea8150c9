# ctest driver: run one libFuzzer target for a bounded number of executions over its seed
# corpus. New inputs are written to WORK (the build tree), never to the seeds; a crash, a
# leak, a timeout (10 s per input) or a sanitizer report fails the test, and the input that
# caused it is kept in WORK/artifacts.
#   cmake -DFUZZER=<exe> -DSEEDS=<dir> -DWORK=<dir> -DRUNS=<n> -P RunFuzzer.cmake
file(MAKE_DIRECTORY ${WORK} ${WORK}/artifacts)
execute_process(
  COMMAND ${FUZZER} -runs=${RUNS} -timeout=10 -rss_limit_mb=2048 -max_len=65536
          -artifact_prefix=${WORK}/artifacts/ -print_final_stats=1 ${WORK} ${SEEDS}
  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCH "Done [0-9]+ runs in [0-9]+ second\\(s\\)" done "${err}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${result}):\n${err}")
endif()
message(STATUS "${FUZZER}: ${done}")
