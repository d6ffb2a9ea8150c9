# Certifies the Level Zero driver with udal-cts and requires verdict PASS.
#   cmake -DCTS=<udal-cts> -DOUT=<package dir> -P run_cts.cmake
# The environment (ZE_ENABLE_ALT_DRIVERS, loader modes) is the ctest's.
file(REMOVE_RECURSE "${OUT}")
execute_process(
  COMMAND "${CTS}" --certify --driver level_zero --out "${OUT}"
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE out)
message("${out}")
if(NOT rc EQUAL 0 OR NOT out MATCHES "verdict PASS\n")
  message(FATAL_ERROR "udal-cts --certify --driver level_zero: exit status ${rc}, verdict not PASS")
endif()
execute_process(COMMAND "${CTS}" verify "${OUT}" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "udal-cts verify ${OUT}: exit status ${rc}")
endif()
