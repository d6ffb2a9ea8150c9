# ctest driver: run udal-cts on a Vulkan driver (or any program that drives one) with the
# Khronos validation layer and fail on any validation message. The loader's own log proves
# the layer was inserted, so a machine without the layer fails here instead of passing with
# nothing checked.
#   cmake -DCTS=<udal-cts> -DDRIVER=<name> -P ValidationClean.cmake
#   cmake "-DPROGRAM=<program>;<arg>..." -P ValidationClean.cmake
set(ENV{VK_INSTANCE_LAYERS} VK_LAYER_KHRONOS_validation)
set(ENV{VK_LOADER_DEBUG} layer)
if(DEFINED PROGRAM)
  set(command ${PROGRAM})
else()
  set(command ${CTS} --driver ${DRIVER} --gtest_brief=1)
endif()
execute_process(COMMAND ${command}
                RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(log "${out}${err}")
if(NOT log MATCHES "Insert instance layer \"VK_LAYER_KHRONOS_validation\"")
  message(FATAL_ERROR "the validation layer was not inserted (is vulkan-validationlayers installed?):\n${log}")
endif()
string(REGEX MATCHALL "[^\n]*(VUID-|Validation Error|Validation Warning|UNASSIGNED-)[^\n]*" messages "${log}")
list(LENGTH messages count)
if(count GREATER 0)
  list(JOIN messages "\n" text)
  message(FATAL_ERROR "${count} validation message(s):\n${text}")
endif()
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${command} failed under the validation layer (${result}):\n${out}${err}")
endif()
message(STATUS "${command} with VK_LAYER_KHRONOS_validation: no validation message")
