# ctest driver: udal-cts refuses bad input at once with a message that says what is wrong,
# and never hangs on it (ctest's TIMEOUT fails a hang).
#   cmake -DCTS=<udal-cts> -DWORK=<scratch dir> -P CtsCli.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

# expect(<name> <exit code: "nonzero" or a number> <text the output must hold> COMMAND ...)
function(expect name code text)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err
                  TIMEOUT 60)
  set(all "${out}${err}")
  if(code STREQUAL "nonzero")
    if(result EQUAL 0)
      message(SEND_ERROR "${name}: exited 0, expected a failure:\n${all}")
    endif()
  elseif(NOT result STREQUAL code)
    message(SEND_ERROR "${name}: exited ${result}, expected ${code}:\n${all}")
  endif()
  string(FIND "${all}" "${text}" at)
  if(at EQUAL -1)
    message(SEND_ERROR "${name}: the output does not contain '${text}':\n${all}")
  endif()
endfunction()

# --timeout-s: a finite number of seconds in (0, 86400]. nan, inf, 1e20 and 1e308 were
# accepted (every test timed out, or a failure after PASS).
foreach(bad nan inf -inf 1e20 1e308 0 -1 86401 abc 5s "")
  expect("--timeout-s '${bad}'" 2 "is not a number of seconds in (0, 86400]"
         ${CTS} --timeout-s "${bad}" --driver ${WORK}/none.so)
endforeach()
foreach(good 0.5 20 86400)
  # Accepted: the run goes on and stops at the missing driver instead.
  expect("--timeout-s ${good}" 2 "none.so" ${CTS} --timeout-s ${good} --driver ${WORK}/none.so)
endforeach()

# verify on what is not a package.
file(WRITE ${WORK}/file "not a package")
expect("verify <regular file>" 2 "is a regular file, not a package directory" ${CTS} verify ${WORK}/file)
expect("verify <missing>" 2 "No such file or directory" ${CTS} verify ${WORK}/missing)
expect("verify a b" nonzero "${WORK}/b" ${CTS} verify ${WORK} ${WORK}/b)
expect("verify" nonzero "dir" ${CTS} verify)
find_program(MKFIFO mkfifo)
if(MKFIFO)
  execute_process(COMMAND ${MKFIFO} ${WORK}/fifo)
  expect("verify <FIFO>" 2 "is a FIFO, not a package directory" ${CTS} verify ${WORK}/fifo)
  file(MAKE_DIRECTORY ${WORK}/fifo-log)
  execute_process(COMMAND ${MKFIFO} ${WORK}/fifo-log/cts.log)
  expect("verify <package whose log is a FIFO>" 1 "cts.log is a FIFO; a package holds regular files only"
         ${CTS} verify ${WORK}/fifo-log)
  expect("verify --key <FIFO>" 2 "a FIFO, not a regular file" ${CTS} verify ${WORK} --key ${WORK}/fifo)
endif()
file(MAKE_DIRECTORY ${WORK}/zero-log)
file(CREATE_LINK /dev/zero ${WORK}/zero-log/cts.log SYMBOLIC)
expect("verify <package whose log links to /dev/zero>" 1 "cts.log is a symbolic link (to /dev/zero)"
       ${CTS} verify ${WORK}/zero-log)
expect("verify <empty directory>" 1 "MANIFEST.sha256 is missing" ${CTS} verify ${WORK}/zero-log)

# The profile the suite certifies with, listed by the suite itself.
expect("profile" 0 "certification profile" ${CTS} profile)
expect("profile extra" nonzero "x" ${CTS} profile x)
expect("--sign-key without --certify" 2 "--sign-key signs a certification" ${CTS} --sign-key ${WORK}/file)
