# Copies every .spv file under FROM (a build tree) into TO, flat, as fuzz seeds. A seed
# directory without any fails: the fuzzer would start from nothing.
#   cmake -DFROM=<build dir> -DTO=<seed dir> -P CollectSeeds.cmake
file(GLOB_RECURSE spv_files ${FROM}/*.spv)
list(FILTER spv_files EXCLUDE REGEX "/corpus-|/seeds/")
if(NOT spv_files)
  message(FATAL_ERROR "CollectSeeds: no .spv file under ${FROM}")
endif()
file(MAKE_DIRECTORY ${TO})
foreach(file IN LISTS spv_files)
  get_filename_component(name ${file} NAME)
  file(COPY_FILE ${file} ${TO}/${name} ONLY_IF_DIFFERENT)
endforeach()
