# udal_cts_add_kernels(<target> <output dir>)
#
# Builds the CTS's test kernels in every format a tool is installed for, into <output dir>:
#   cts_kernels.so          HOST_NATIVE  (C, udal_host_kernel.h)
#   <kernel>.spv            SPIRV_COMPUTE (GLSL, glslangValidator; one entry point per file,
#                                          named after the kernel)
#   value_bytes_<N>.spv     SPIRV_COMPUTE value_bytes with N bytes of push constants
#   cts_kernels.spirv-compute.spv  SPIRV_COMPUTE: the kernels of UDAL_CTS_LINKED_KERNELS in one
#                                  module (spirv-link), for the multi-kernel module test
#   cts_kernels.spirv-kernel.spv  SPIRV_KERNEL (OpenCL C, clang-14 + llvm-spirv-14)
#   cts_kernels.cl          OPENCL_C     (the same OpenCL C source, copied)
#   not_a_module.so         a valid ELF shared object that is not a UDAL host module
# A missing tool skips its format with a message; the CTS then offers the images it finds.

set(UDAL_CTS_KERNEL_NAMES fill_index global_ids saxpy add_u32 arg_order many_args
    local_reverse grid_extent device_address fixed_group)
# The kernels spirv-link puts into one SPIRV_COMPUTE module. Not device_address (its
# capabilities would make the whole module refuse devices without them) nor fixed_group: a
# constant decorated BuiltIn WorkgroupSize applies to every entry point of a module, so a
# kernel with a fixed size goes into a module of its own.
set(UDAL_CTS_LINKED_KERNELS fill_index global_ids saxpy add_u32 local_reverse)
# value_bytes is built once per push-constant size (bytes) a device may have.
set(UDAL_CTS_VALUE_BYTES_SIZES 128 256)

function(udal_cts_add_kernels target out_dir)
  set(src ${CMAKE_CURRENT_SOURCE_DIR}/kernels)
  set(outputs "")

  # HOST_NATIVE: through the SDK's function when it exists, so the CTS builds its kernels
  # the way a framework would; a plain MODULE library has the same result.
  if(COMMAND udal_add_host_module)
    udal_add_host_module(cts_kernels SOURCES ${src}/host/cts_kernels.c OUTPUT_DIR ${out_dir})
  else()
    add_library(cts_kernels MODULE ${src}/host/cts_kernels.c)
    target_link_libraries(cts_kernels PRIVATE udal::headers)
    set_target_properties(cts_kernels PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${out_dir})
    udal_target_defaults(cts_kernels)
  endif()
  set_target_properties(cts_kernels PROPERTIES OUTPUT_NAME cts_kernels PREFIX "")

  add_library(cts_not_a_module MODULE ${src}/host/not_a_module.c)
  set_target_properties(cts_not_a_module PROPERTIES PREFIX "" OUTPUT_NAME not_a_module
    LIBRARY_OUTPUT_DIRECTORY ${out_dir})
  udal_target_defaults(cts_not_a_module)

  find_program(UDAL_GLSLANG glslangValidator)
  find_program(UDAL_SPIRV_LINK spirv-link)
  if(UDAL_GLSLANG)
    foreach(kernel IN LISTS UDAL_CTS_KERNEL_NAMES)
      set(spv ${out_dir}/${kernel}.spv)
      add_custom_command(OUTPUT ${spv}
        COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
        COMMAND ${UDAL_GLSLANG} -V --target-env vulkan1.1 -S comp -e ${kernel}
                --source-entrypoint main -o ${spv} ${src}/glsl/${kernel}.comp
        DEPENDS ${src}/glsl/${kernel}.comp
        COMMENT "GLSL → SPIR-V (compute): ${kernel}" VERBATIM)
      list(APPEND outputs ${spv})
    endforeach()
    foreach(bytes IN LISTS UDAL_CTS_VALUE_BYTES_SIZES)
      math(EXPR words "${bytes} / 4")
      set(spv ${out_dir}/value_bytes_${bytes}.spv)
      add_custom_command(OUTPUT ${spv}
        COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
        COMMAND ${UDAL_GLSLANG} -V --target-env vulkan1.1 -S comp -DVALUE_WORDS=${words}
                -e value_bytes --source-entrypoint main -o ${spv} ${src}/glsl/value_bytes.comp
        DEPENDS ${src}/glsl/value_bytes.comp
        COMMENT "GLSL → SPIR-V (compute): value_bytes, ${bytes} bytes" VERBATIM)
      list(APPEND outputs ${spv})
    endforeach()
    if(UDAL_SPIRV_LINK)
      set(linked ${out_dir}/cts_kernels.spirv-compute.spv)
      set(parts "")
      foreach(kernel IN LISTS UDAL_CTS_LINKED_KERNELS)
        list(APPEND parts ${out_dir}/${kernel}.spv)
      endforeach()
      add_custom_command(OUTPUT ${linked}
        COMMAND ${UDAL_SPIRV_LINK} --target-env vulkan1.1 ${parts} -o ${linked}
        DEPENDS ${parts}
        COMMENT "spirv-link: one SPIRV_COMPUTE module of several kernels" VERBATIM)
      list(APPEND outputs ${linked})
    else()
      message(STATUS "udal-cts: spirv-link not found; the multi-kernel SPIRV_COMPUTE module is skipped")
    endif()
  else()
    message(STATUS "udal-cts: glslangValidator not found; SPIRV_COMPUTE test kernels are skipped")
  endif()

  find_program(UDAL_CLANG_CL NAMES clang-14)
  find_program(UDAL_LLVM_SPIRV NAMES llvm-spirv-14)
  set(cl ${src}/opencl/cts_kernels.cl)
  if(UDAL_CLANG_CL AND UDAL_LLVM_SPIRV)
    set(bc ${CMAKE_CURRENT_BINARY_DIR}/cts_kernels.bc)
    set(spv ${out_dir}/cts_kernels.spirv-kernel.spv)
    add_custom_command(OUTPUT ${spv}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
      COMMAND ${UDAL_CLANG_CL} -c -target spir64 -cl-std=CL1.2 -O2 -emit-llvm
              -Xclang -finclude-default-header -o ${bc} ${cl}
      COMMAND ${UDAL_LLVM_SPIRV} ${bc} -o ${spv}
      DEPENDS ${cl}
      COMMENT "OpenCL C → SPIR-V (kernel): cts_kernels" VERBATIM)
    list(APPEND outputs ${spv})
  else()
    message(STATUS "udal-cts: clang-14 or llvm-spirv-14 not found; SPIRV_KERNEL test kernels are skipped")
  endif()
  add_custom_command(OUTPUT ${out_dir}/cts_kernels.cl
    COMMAND ${CMAKE_COMMAND} -E copy ${cl} ${out_dir}/cts_kernels.cl
    DEPENDS ${cl} VERBATIM)
  list(APPEND outputs ${out_dir}/cts_kernels.cl)

  add_custom_target(${target} ALL DEPENDS ${outputs})
  add_dependencies(${target} cts_kernels cts_not_a_module)
endfunction()
