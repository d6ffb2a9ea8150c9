# ctest driver: certify a driver with a signing key, verify with the public key, then prove
# that the two forgeries of issue 11 fail:
#   - one byte changed in a signed package, every hash recomputed: verify --key fails;
#   - a filtered run relabelled as a certification, hashes recomputed: verify fails naming
#     the tests of the profile that have no result.
#   cmake -DCTS=<udal-cts> -DOPENSSL=<openssl> -DDRIVER=<name> -DWORK=<dir> -P CertifySignedAndForged.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(key ${WORK}/certifier.pem)
set(pub ${WORK}/certifier.pub.pem)
execute_process(COMMAND ${OPENSSL} genpkey -algorithm ed25519 -out ${key} RESULT_VARIABLE r1)
execute_process(COMMAND ${OPENSSL} pkey -in ${key} -pubout -out ${pub} RESULT_VARIABLE r2)
if(NOT r1 EQUAL 0 OR NOT r2 EQUAL 0)
  message(FATAL_ERROR "openssl could not make an Ed25519 key pair")
endif()

# Writes MANIFEST.sha256 of |dir| again, as a forger would.
function(rehash dir)
  file(GLOB files RELATIVE ${dir} ${dir}/*)
  list(SORT files)
  set(manifest "")
  foreach(name IN LISTS files)
    if(name STREQUAL "MANIFEST.sha256" OR name STREQUAL "MANIFEST.sig")
      continue()
    endif()
    file(SHA256 ${dir}/${name} hash)
    string(APPEND manifest "${hash}  ${name}\n")
  endforeach()
  file(WRITE ${dir}/MANIFEST.sha256 "${manifest}")
endfunction()

set(pkg ${WORK}/package)
execute_process(COMMAND ${CTS} --certify --driver ${DRIVER} --out ${pkg} --sign-key ${key} --gtest_brief=1
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "udal-cts --certify --sign-key failed (${result}):\n${out}${err}")
endif()
if(NOT EXISTS ${pkg}/MANIFEST.sig)
  message(FATAL_ERROR "--sign-key wrote no MANIFEST.sig")
endif()
execute_process(COMMAND ${CTS} verify ${pkg} --key ${pub} RESULT_VARIABLE result OUTPUT_VARIABLE out)
if(NOT result EQUAL 0 OR NOT out MATCHES "OK: .*signed by the --key given.*is the one certified")
  message(FATAL_ERROR "verify --key of a fresh signed package failed (${result}):\n${out}")
endif()
message(STATUS "${out}")

# One byte of the summary changed, every hash recomputed.
file(COPY ${pkg}/ DESTINATION ${WORK}/tampered)
file(READ ${WORK}/tampered/summary.md summary)
string(REPLACE "# udal-cts" "# udal_cts" summary "${summary}")
file(WRITE ${WORK}/tampered/summary.md "${summary}")
rehash(${WORK}/tampered)
execute_process(COMMAND ${CTS} verify ${WORK}/tampered --key ${pub} RESULT_VARIABLE result OUTPUT_VARIABLE out)
if(result EQUAL 0 OR NOT out MATCHES "the signature does not match MANIFEST.sha256")
  message(FATAL_ERROR "verify --key accepted a signed package with one byte changed (${result}):\n${out}")
endif()

# A filtered plain run, relabelled as a certification with its hashes recomputed.
set(forged ${WORK}/forged)
execute_process(COMMAND ${CTS} --driver ${DRIVER} --out ${forged} --gtest_filter=*BufferTest*
                --gtest_brief=1 RESULT_VARIABLE result OUTPUT_QUIET ERROR_QUIET)
file(READ ${forged}/report.json report)
string(REPLACE "\"certify\": false" "\"certify\": true" report "${report}")
string(REGEX REPLACE "\"gtest_filter\": \"[^\"]*\"" "\"gtest_filter\": \"*\"" report "${report}")
file(WRITE ${forged}/report.json "${report}")
file(READ ${forged}/summary.md summary)
string(REPLACE "# udal-cts run:" "# udal-cts certification:" summary "${summary}")
file(WRITE ${forged}/summary.md "${summary}")
rehash(${forged})
execute_process(COMMAND ${CTS} verify ${forged} RESULT_VARIABLE result OUTPUT_VARIABLE out)
if(result EQUAL 0 OR NOT out MATCHES "tests of the udal-cts [^ ]+ certification profile have no result")
  message(FATAL_ERROR "verify accepted a filtered run relabelled as a certification (${result}):\n${out}")
endif()
# The missing tests are named: the first ones in order, none of the buffer tests that ran.
if(NOT out MATCHES "have no result \\(a filtered or cut-short run\\): Devices/[A-Za-z]+Test\\.[A-Za-z]+/" OR
   out MATCHES "have no result[^\n]*BufferTest")
  message(FATAL_ERROR "verify did not name the missing tests:\n${out}")
endif()
message(STATUS "forged certification refused as it should be:\n${out}")
file(REMOVE_RECURSE ${WORK}/tampered ${forged})
