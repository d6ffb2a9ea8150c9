// OpenCL error names and the helpers of cl.h.
#include "cl.h"

#include <cstring>

namespace udal::opencl {

const char* cl_error_name(cl_int code) noexcept {
  switch (code) {
#define UDAL_CL_CASE(x)                                                                            \
  case x:                                                                                          \
    return #x;
    UDAL_CL_CASE(CL_SUCCESS)
    UDAL_CL_CASE(CL_DEVICE_NOT_FOUND)
    UDAL_CL_CASE(CL_DEVICE_NOT_AVAILABLE)
    UDAL_CL_CASE(CL_COMPILER_NOT_AVAILABLE)
    UDAL_CL_CASE(CL_MEM_OBJECT_ALLOCATION_FAILURE)
    UDAL_CL_CASE(CL_OUT_OF_RESOURCES)
    UDAL_CL_CASE(CL_OUT_OF_HOST_MEMORY)
    UDAL_CL_CASE(CL_PROFILING_INFO_NOT_AVAILABLE)
    UDAL_CL_CASE(CL_MEM_COPY_OVERLAP)
    UDAL_CL_CASE(CL_IMAGE_FORMAT_MISMATCH)
    UDAL_CL_CASE(CL_IMAGE_FORMAT_NOT_SUPPORTED)
    UDAL_CL_CASE(CL_BUILD_PROGRAM_FAILURE)
    UDAL_CL_CASE(CL_MAP_FAILURE)
    UDAL_CL_CASE(CL_MISALIGNED_SUB_BUFFER_OFFSET)
    UDAL_CL_CASE(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
    UDAL_CL_CASE(CL_COMPILE_PROGRAM_FAILURE)
    UDAL_CL_CASE(CL_LINKER_NOT_AVAILABLE)
    UDAL_CL_CASE(CL_LINK_PROGRAM_FAILURE)
    UDAL_CL_CASE(CL_DEVICE_PARTITION_FAILED)
    UDAL_CL_CASE(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
    UDAL_CL_CASE(CL_INVALID_VALUE)
    UDAL_CL_CASE(CL_INVALID_DEVICE_TYPE)
    UDAL_CL_CASE(CL_INVALID_PLATFORM)
    UDAL_CL_CASE(CL_INVALID_DEVICE)
    UDAL_CL_CASE(CL_INVALID_CONTEXT)
    UDAL_CL_CASE(CL_INVALID_QUEUE_PROPERTIES)
    UDAL_CL_CASE(CL_INVALID_COMMAND_QUEUE)
    UDAL_CL_CASE(CL_INVALID_HOST_PTR)
    UDAL_CL_CASE(CL_INVALID_MEM_OBJECT)
    UDAL_CL_CASE(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
    UDAL_CL_CASE(CL_INVALID_IMAGE_SIZE)
    UDAL_CL_CASE(CL_INVALID_SAMPLER)
    UDAL_CL_CASE(CL_INVALID_BINARY)
    UDAL_CL_CASE(CL_INVALID_BUILD_OPTIONS)
    UDAL_CL_CASE(CL_INVALID_PROGRAM)
    UDAL_CL_CASE(CL_INVALID_PROGRAM_EXECUTABLE)
    UDAL_CL_CASE(CL_INVALID_KERNEL_NAME)
    UDAL_CL_CASE(CL_INVALID_KERNEL_DEFINITION)
    UDAL_CL_CASE(CL_INVALID_KERNEL)
    UDAL_CL_CASE(CL_INVALID_ARG_INDEX)
    UDAL_CL_CASE(CL_INVALID_ARG_VALUE)
    UDAL_CL_CASE(CL_INVALID_ARG_SIZE)
    UDAL_CL_CASE(CL_INVALID_KERNEL_ARGS)
    UDAL_CL_CASE(CL_INVALID_WORK_DIMENSION)
    UDAL_CL_CASE(CL_INVALID_WORK_GROUP_SIZE)
    UDAL_CL_CASE(CL_INVALID_WORK_ITEM_SIZE)
    UDAL_CL_CASE(CL_INVALID_GLOBAL_OFFSET)
    UDAL_CL_CASE(CL_INVALID_EVENT_WAIT_LIST)
    UDAL_CL_CASE(CL_INVALID_EVENT)
    UDAL_CL_CASE(CL_INVALID_OPERATION)
    UDAL_CL_CASE(CL_INVALID_GL_OBJECT)
    UDAL_CL_CASE(CL_INVALID_BUFFER_SIZE)
    UDAL_CL_CASE(CL_INVALID_MIP_LEVEL)
    UDAL_CL_CASE(CL_INVALID_GLOBAL_WORK_SIZE)
    UDAL_CL_CASE(CL_INVALID_PROPERTY)
    UDAL_CL_CASE(CL_INVALID_IMAGE_DESCRIPTOR)
    UDAL_CL_CASE(CL_INVALID_COMPILER_OPTIONS)
    UDAL_CL_CASE(CL_INVALID_LINKER_OPTIONS)
    UDAL_CL_CASE(CL_INVALID_DEVICE_PARTITION_COUNT)
    UDAL_CL_CASE(CL_INVALID_PIPE_SIZE)
    UDAL_CL_CASE(CL_INVALID_DEVICE_QUEUE)
    UDAL_CL_CASE(CL_INVALID_SPEC_ID)
    UDAL_CL_CASE(CL_MAX_SIZE_RESTRICTION_EXCEEDED)
    UDAL_CL_CASE(CL_PLATFORM_NOT_FOUND_KHR)
#undef UDAL_CL_CASE
  default:
    return "CL_<unknown error>";
  }
}

udal_result_t udal_code_of(cl_int code) noexcept {
  switch (code) {
  case CL_OUT_OF_HOST_MEMORY:
    return UDAL_ERROR_OUT_OF_HOST_MEMORY;
  case CL_MEM_OBJECT_ALLOCATION_FAILURE:
  case CL_OUT_OF_RESOURCES:
  case CL_INVALID_BUFFER_SIZE:
    return UDAL_ERROR_OUT_OF_DEVICE_MEMORY;
  case CL_DEVICE_NOT_AVAILABLE:
  case CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST:
    return UDAL_ERROR_DEVICE_LOST;
  default:
    return UDAL_ERROR_INTERNAL;
  }
}

udal_result_t fail_cl(const char* function, const char* call, cl_int code) noexcept {
  return udal::sdk::fail(udal_code_of(code), "{}: {} failed with {} ({})", function, call,
                         cl_error_name(code), code);
}

namespace {

std::string trimmed(std::vector<char> text) {
  std::string s(text.data(), text.empty() ? 0 : ::strnlen(text.data(), text.size()));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r'))
    s.pop_back();
  return s;
}

} // namespace

std::string device_string(cl_device_id device, cl_device_info what) {
  size_t size = 0;
  if (clGetDeviceInfo(device, what, 0, nullptr, &size) != CL_SUCCESS || size == 0)
    return {};
  std::vector<char> text(size + 1, '\0');
  if (clGetDeviceInfo(device, what, size, text.data(), nullptr) != CL_SUCCESS)
    return {};
  return trimmed(std::move(text));
}

std::string platform_string(cl_platform_id platform, cl_platform_info what) {
  size_t size = 0;
  if (clGetPlatformInfo(platform, what, 0, nullptr, &size) != CL_SUCCESS || size == 0)
    return {};
  std::vector<char> text(size + 1, '\0');
  if (clGetPlatformInfo(platform, what, size, text.data(), nullptr) != CL_SUCCESS)
    return {};
  return trimmed(std::move(text));
}

std::string build_log(cl_program program, cl_device_id device) {
  size_t size = 0;
  if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, nullptr, &size) !=
          CL_SUCCESS ||
      size == 0) {
    return {};
  }
  std::vector<char> text(size + 1, '\0');
  if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, size, text.data(), nullptr) !=
      CL_SUCCESS) {
    return {};
  }
  return trimmed(std::move(text));
}

cl_int event_status(cl_event event) noexcept {
  cl_int status = CL_COMPLETE;
  const cl_int queried =
      clGetEventInfo(event, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof(status), &status, nullptr);
  return queried != CL_SUCCESS ? queried : status;
}

} // namespace udal::opencl
