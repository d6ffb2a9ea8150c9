# Puts the built suites of Intel's level-zero-tests into RUN/ with the kernels they open from
# their working directory, as upstream's install step does (it installs every suite and every
# kernel into one directory, and some suites open kernels of others: test_device opens
# test_module's module_add.spv).
#   cmake -DSOURCE=<src> -DBINARY=<build> -DRUN=<dir> -DTARGETS=a,b -P stage.cmake
string(REPLACE "," ";" TARGETS "${TARGETS}")
file(MAKE_DIRECTORY "${RUN}")
foreach(target ${TARGETS})
  file(GLOB_RECURSE exe LIST_DIRECTORIES false "${BINARY}/conformance_tests/core/*/${target}")
  if(NOT exe)
    message(FATAL_ERROR "stage.cmake: ${target} was not built under ${BINARY}")
  endif()
  list(GET exe 0 exe)
  if(target MATCHES "_helper$")
    file(COPY "${exe}" DESTINATION "${RUN}/device")  # where upstream installs helpers
  else()
    file(COPY "${exe}" DESTINATION "${RUN}")
  endif()
endforeach()
file(GLOB kernels "${SOURCE}/conformance_tests/core/*/kernels/*.spv")
list(SORT kernels)
foreach(kernel ${kernels})
  get_filename_component(name "${kernel}" NAME)
  if(NOT EXISTS "${RUN}/${name}")
    file(COPY "${kernel}" DESTINATION "${RUN}")
  endif()
endforeach()
