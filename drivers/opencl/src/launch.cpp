// Launches: the checks the driver can make (device limits, the kernel's reflection, buffer
// offsets), then one kernel object of the kernel's pool gets its arguments and is enqueued,
// so launches of one kernel from several threads never share argument state.
#include "buffer.h"
#include "kernel.h"
#include "stream.h"
#include "udal/sdk/names.h"

namespace udal::opencl {

using udal::sdk::fail;

namespace {

constexpr const char* kFn = "udal_stream_launch";

udal_result_t check_launch(const Stream& stream, const Kernel& kernel,
                           const udal_launch_desc_t& desc, udal_kernel_t kernel_handle) {
  const DeviceState& state = *stream.device->state;
  const udal_device_info_t& info = state.info;
  uint64_t invocations = 1;
  for (int axis = 0; axis < 3; ++axis) {
    if (desc.group_count[axis] == 0 || desc.group_size[axis] == 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: group_count[{}] and group_size[{}] must be "
                  "at least 1 (got {} and {})",
                  kFn, axis, axis, desc.group_count[axis], desc.group_size[axis]);
    }
    if (desc.group_size[axis] > info.max_group_size[axis]) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: group_size[{}] {} exceeds the device's max_group_size[{}] {}", kFn, axis,
                  desc.group_size[axis], axis, info.max_group_size[axis]);
    }
    invocations *= desc.group_size[axis];
  }
  if (invocations > kernel.max_group_invocations) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: a group of {}x{}x{} = {} items exceeds kernel '{}''s limit of {}", kFn,
                desc.group_size[0], desc.group_size[1], desc.group_size[2], invocations,
                kernel.name, kernel.max_group_invocations);
  }
  if (kernel.required_group_size[0] != 0 && (desc.group_size[0] != kernel.required_group_size[0] ||
                                             desc.group_size[1] != kernel.required_group_size[1] ||
                                             desc.group_size[2] != kernel.required_group_size[2])) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: kernel '{}' requires groups of {}x{}x{} (reqd_work_group_size); the launch "
                "asks for {}x{}x{}",
                kFn, kernel.name, kernel.required_group_size[0], kernel.required_group_size[1],
                kernel.required_group_size[2], desc.group_size[0], desc.group_size[1],
                desc.group_size[2]);
  }
  const uint64_t local_limit = state.caps.local_memory > kernel.static_local_bytes
                                   ? state.caps.local_memory - kernel.static_local_bytes
                                   : 0;
  if (desc.local_memory_bytes > local_limit) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: local_memory_bytes {} exceeds the {} bytes left to kernel '{}' ({} of the "
                "device's {} are its own)",
                kFn, desc.local_memory_bytes, local_limit, kernel.name, kernel.static_local_bytes,
                state.caps.local_memory);
  }
  const KernelReflection& r = *kernel.info;
  if (r.kinds_known) {
    if (desc.arg_count != r.args.size()) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: kernel '{}' takes {} argument(s){}; the launch passes {}", kFn, kernel.name,
                  r.args.size(),
                  r.uses_local_memory ? " (and its dynamic local memory as a last, local "
                                        "pointer parameter)"
                                      : "",
                  desc.arg_count);
    }
    if (r.uses_local_memory && desc.local_memory_bytes == 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: kernel '{}' takes dynamic local memory (its last parameter is a local "
                  "pointer) but local_memory_bytes is 0",
                  kFn, kernel.name);
    }
  } else if (desc.arg_count != kernel.parameter_count &&
             !(desc.local_memory_bytes > 0 && desc.arg_count + 1 == kernel.parameter_count)) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: kernel '{}' has {} parameter(s); the launch passes {} argument(s){}", kFn,
                kernel.name, kernel.parameter_count, desc.arg_count,
                desc.local_memory_bytes > 0 ? " and local memory" : "");
  }
  uint64_t value_bytes = 0;
  for (uint32_t i = 0; i < desc.arg_count; ++i) {
    const udal_kernel_arg_t& arg = desc.args[i];
    if (arg.kind == UDAL_ARG_KIND_BUFFER) {
      if (arg.buffer == nullptr) {
        return fail(UDAL_ERROR_INVALID_HANDLE, "{}: args[{}].buffer is NULL", kFn, i);
      }
      const Buffer* buffer = to_buffer(arg.buffer);
      if (buffer->dispatch != stream.dispatch || buffer->device != stream.device) {
        return fail(UDAL_ERROR_INVALID_HANDLE,
                    "{}: args[{}].buffer {} is not a buffer of the stream's device '{}'", kFn, i,
                    fmt::ptr(arg.buffer), info.name);
      }
      if (arg.offset >= buffer->size) {
        return fail(UDAL_ERROR_OUT_OF_RANGE,
                    "{}: args[{}].offset {} is not inside buffer {} ({} bytes)", kFn, i, arg.offset,
                    fmt::ptr(arg.buffer), buffer->size);
      }
      if (arg.offset % info.buffer_argument_offset_alignment != 0) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT,
                    "{}: args[{}].offset {} is not a multiple of the device's "
                    "buffer_argument_offset_alignment {} (OpenCL sub-buffers must start at "
                    "CL_DEVICE_MEM_BASE_ADDR_ALIGN)",
                    kFn, i, arg.offset, info.buffer_argument_offset_alignment);
      }
    } else if (arg.kind == UDAL_ARG_KIND_VALUE) {
      if (arg.value == nullptr || arg.value_size == 0) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}] is a value with no bytes", kFn, i);
      }
      value_bytes += arg.value_size;
    } else {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}].kind {} is not BUFFER or VALUE", kFn,
                  i, static_cast<int>(arg.kind));
    }
    if (!r.kinds_known)
      continue;
    const ArgReflection& want = r.args[i];
    if (want.kind != UDAL_ARG_KIND_UNKNOWN && want.kind != arg.kind) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: args[{}] is a {}, but parameter {} of kernel '{}' is a {}", kFn, i,
                  arg.kind == UDAL_ARG_KIND_BUFFER ? "buffer" : "value", i, kernel.name,
                  want.kind == UDAL_ARG_KIND_BUFFER ? "buffer" : "value");
    }
    if (arg.kind == UDAL_ARG_KIND_VALUE && want.value_size != 0 &&
        want.value_size != arg.value_size) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: args[{}] has {} bytes, but parameter {} of kernel '{}' has {}", kFn, i,
                  arg.value_size, i, kernel.name, want.value_size);
    }
    if (arg.kind == UDAL_ARG_KIND_BUFFER && (want.access & ~arg.access) != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: args[{}] gives access {}, but kernel '{}' declares parameter {} {} (it "
                  "may write what the caller said it only reads)",
                  kFn, i, udal::sdk::access_name(arg.access, "NONE"), kernel.name, i,
                  udal::sdk::access_name(want.access, "NONE"));
    }
  }
  if (value_bytes > info.max_value_argument_bytes) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: the value arguments have {} bytes, more than the device's "
                "max_value_argument_bytes {}",
                kFn, value_bytes, info.max_value_argument_bytes);
  }
  (void)kernel_handle;
  return UDAL_SUCCESS;
}

} // namespace

udal_result_t stream_launch(udal_stream_t stream_handle, udal_kernel_t kernel_handle,
                            const udal_launch_desc_t* desc_in) {
  if (desc_in == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc is NULL", kFn);
  if (udal_result_t r = udal::sdk::check_struct(kFn, "desc", desc_in))
    return r;
  Stream* stream = to_stream(stream_handle);
  Kernel* kernel = to_kernel(kernel_handle);
  if (kernel->device != stream->device) {
    return fail(UDAL_ERROR_INVALID_HANDLE,
                "{}: kernel {} belongs to device '{}', not to the stream's device '{}'", kFn,
                fmt::ptr(kernel_handle), kernel->device->state->info.name,
                stream->device->state->info.name);
  }
  const udal_launch_desc_t& desc = *desc_in;
  if (desc.arg_count > 0 && desc.args == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->args is NULL but arg_count is {}", kFn,
                desc.arg_count);
  }
  if (udal_result_t r = check_launch(*stream, *kernel, desc, kernel_handle))
    return r;

  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    DeviceState& state = *stream->device->state;
    cl_int error = CL_SUCCESS;
    ClKernel object = kernel->take(&error);
    if (!object)
      return fail_cl(kFn, "clCreateKernel", error);
    // Sub-buffers made for this launch only; released after the enqueue took them.
    std::vector<ClMem> temporaries;
    for (uint32_t i = 0; i < desc.arg_count && error == CL_SUCCESS; ++i) {
      const udal_kernel_arg_t& arg = desc.args[i];
      if (arg.kind == UDAL_ARG_KIND_BUFFER) {
        ClMem temporary;
        cl_mem mem = to_buffer(arg.buffer)->argument(arg.offset, &temporary, &error);
        if (mem == nullptr) {
          kernel->give_back(std::move(object));
          return fail_cl(kFn, "clCreateSubBuffer", error);
        }
        if (temporary)
          temporaries.push_back(std::move(temporary));
        error = clSetKernelArg(object.get(), i, sizeof(cl_mem), &mem);
      } else {
        error = clSetKernelArg(object.get(), i, arg.value_size, arg.value);
      }
      if (error != CL_SUCCESS) {
        kernel->give_back(std::move(object));
        return fail(error == CL_OUT_OF_HOST_MEMORY ? UDAL_ERROR_OUT_OF_HOST_MEMORY
                                                   : UDAL_ERROR_INVALID_ARGUMENT,
                    "{}: kernel '{}' refused args[{}] ({} of {} bytes): clSetKernelArg failed "
                    "with {}",
                    kFn, kernel->name, i, arg.kind == UDAL_ARG_KIND_BUFFER ? "a buffer" : "a value",
                    arg.kind == UDAL_ARG_KIND_BUFFER ? sizeof(cl_mem) : arg.value_size,
                    cl_error_name(error));
      }
    }
    if (desc.local_memory_bytes > 0 && desc.arg_count < kernel->parameter_count) {
      error = clSetKernelArg(object.get(), desc.arg_count,
                             static_cast<size_t>(desc.local_memory_bytes), nullptr);
      if (error != CL_SUCCESS) {
        kernel->give_back(std::move(object));
        return fail(UDAL_ERROR_INVALID_ARGUMENT,
                    "{}: kernel '{}' refused {} bytes of local memory as parameter {}: {}", kFn,
                    kernel->name, desc.local_memory_bytes, desc.arg_count, cl_error_name(error));
      }
    }
    if (state.address_count.load(std::memory_order_relaxed) > 0) {
      // A kernel may reach any buffer with a device address through a value argument.
      std::lock_guard lock(state.address_mutex);
      clSetKernelExecInfo(object.get(), CL_KERNEL_EXEC_INFO_SVM_PTRS,
                          state.address_pointers.size() * sizeof(void*),
                          state.address_pointers.data());
    }
    size_t global[3];
    size_t local[3];
    cl_uint dimensions = 1;
    for (int axis = 0; axis < 3; ++axis) {
      global[axis] = static_cast<size_t>(desc.group_count[axis]) * desc.group_size[axis];
      local[axis] = desc.group_size[axis];
      if (global[axis] != 1 || local[axis] != 1)
        dimensions = static_cast<cl_uint>(axis + 1);
    }
    {
      std::lock_guard lock(stream->mutex);
      error = clEnqueueNDRangeKernel(stream->queue.get(), object.get(), dimensions, nullptr, global,
                                     local, 0, nullptr, stream->next_event());
    }
    kernel->give_back(std::move(object));
    if (error != CL_SUCCESS) {
      return udal::sdk::fail(
          error == CL_INVALID_WORK_GROUP_SIZE || error == CL_INVALID_KERNEL_ARGS ||
                  error == CL_INVALID_GLOBAL_WORK_SIZE
              ? UDAL_ERROR_INVALID_ARGUMENT
              : udal_code_of(error),
          "{}: clEnqueueNDRangeKernel of kernel '{}' ({}x{}x{} groups of {}x{}x{}) failed with "
          "{} ({})",
          kFn, kernel->name, desc.group_count[0], desc.group_count[1], desc.group_count[2],
          desc.group_size[0], desc.group_size[1], desc.group_size[2], cl_error_name(error), error);
    }
    return UDAL_SUCCESS;
  });
}

} // namespace udal::opencl
