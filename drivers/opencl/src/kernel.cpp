// Kernels: reflection, limits, and the pool of OpenCL kernel objects launches set up.
#include "kernel.h"

#include "module.h"

namespace udal::opencl {

using udal::sdk::fail;

namespace {
const KernelReflection kNothingKnown = [] {
  KernelReflection r;
  r.undescribed = "the program says nothing about this kernel's arguments";
  return r;
}();
} // namespace

ClKernel Kernel::take(cl_int* error) {
  *error = CL_SUCCESS;
  {
    std::lock_guard lock(pool_mutex);
    if (!pool.empty()) {
      ClKernel kernel = std::move(pool.back());
      pool.pop_back();
      return kernel;
    }
  }
  return ClKernel(clCreateKernel(program.get(), name.c_str(), error));
}

void Kernel::give_back(ClKernel kernel) noexcept {
  try {
    std::lock_guard lock(pool_mutex);
    pool.push_back(std::move(kernel));
  } catch (...) {
    // Out of memory: the kernel object is released instead of kept.
  }
}

udal_result_t kernel_create(udal_module_t module_handle, const char* name,
                            udal_kernel_t* out_kernel) {
  constexpr const char* fn = "udal_kernel_create";
  if (out_kernel == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_kernel is NULL", fn);
  *out_kernel = nullptr;
  if (name == nullptr || name[0] == '\0') {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: name is NULL or empty", fn);
  }
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    Module* module = to_module(module_handle);
    DeviceState& state = *module->device->state;
    cl_int error = CL_SUCCESS;
    ClKernel first(clCreateKernel(module->program.get(), name, &error));
    if (error == CL_INVALID_KERNEL_NAME || error == CL_INVALID_KERNEL_DEFINITION) {
      std::string names;
      for (const auto& [kernel_name, r] : module->reflection->kernels) {
        names += (names.empty() ? "" : ", ") + kernel_name;
      }
      return fail(UDAL_ERROR_KERNEL_NOT_FOUND, "{}: module {} has no kernel '{}' (it has: {})", fn,
                  fmt::ptr(module_handle), name, names.empty() ? std::string("?") : names);
    }
    if (error != CL_SUCCESS)
      return fail_cl(fn, "clCreateKernel", error);
    const KernelReflection* info = &kNothingKnown;
    auto found = module->reflection->kernels.find(name);
    if (found != module->reflection->kernels.end())
      info = &found->second;
    if (!info->unsupported.empty()) {
      return fail(UDAL_ERROR_INVALID_MODULE, "{}: kernel '{}' cannot be launched through UDAL: {}",
                  fn, name, info->unsupported);
    }
    cl_uint parameters = 0;
    error =
        clGetKernelInfo(first.get(), CL_KERNEL_NUM_ARGS, sizeof(parameters), &parameters, nullptr);
    if (error != CL_SUCCESS)
      return fail_cl(fn, "clGetKernelInfo(CL_KERNEL_NUM_ARGS)", error);
    if (info->kinds_known && info->args.size() + (info->uses_local_memory ? 1 : 0) != parameters) {
      // The reflection does not match the program the platform built: trust neither.
      state.log(UDAL_LOG_LEVEL_WARNING,
                fmt::format("opencl driver: kernel '{}' has {} parameters but its reflection "
                            "{}; launches are not checked against it",
                            name, parameters, info->args.size()));
      info = &kNothingKnown;
    }
    size_t group_size = 0;
    clGetKernelWorkGroupInfo(first.get(), state.id, CL_KERNEL_WORK_GROUP_SIZE, sizeof(group_size),
                             &group_size, nullptr);
    size_t required[3] = {0, 0, 0};
    clGetKernelWorkGroupInfo(first.get(), state.id, CL_KERNEL_COMPILE_WORK_GROUP_SIZE,
                             sizeof(required), required, nullptr);
    cl_ulong static_local = 0;
    clGetKernelWorkGroupInfo(first.get(), state.id, CL_KERNEL_LOCAL_MEM_SIZE, sizeof(static_local),
                             &static_local, nullptr);

    auto kernel = std::make_unique<Kernel>();
    kernel->dispatch = module->dispatch;
    kernel->device = module->device;
    kernel->program = module->program;
    kernel->name = name;
    kernel->reflection = module->reflection;
    kernel->info = info;
    kernel->parameter_count = parameters;
    kernel->max_group_invocations =
        group_size == 0 ? state.info.max_group_invocations
                        : static_cast<uint32_t>(
                              std::min<uint64_t>(group_size, state.info.max_group_invocations));
    const bool fixed = required[0] != 0 && required[1] != 0 && required[2] != 0;
    for (int axis = 0; axis < 3; ++axis) {
      kernel->required_group_size[axis] = fixed ? static_cast<uint32_t>(required[axis]) : 0;
    }
    kernel->static_local_bytes = static_local;
    kernel->pool.push_back(std::move(first));
    state.kernels.add(kernel.get());
    *out_kernel = udal::sdk::to_handle<udal_kernel_t>(kernel.release());
    return UDAL_SUCCESS;
  });
}

void destroy_kernel(Kernel* kernel) noexcept {
  std::unique_ptr<Kernel> owned(kernel);
  kernel->device->state->kernels.remove(kernel);
}

udal_result_t kernel_destroy(udal_kernel_t handle) {
  // Launches already enqueued hold their own references to the kernel objects.
  destroy_kernel(to_kernel(handle));
  return UDAL_SUCCESS;
}

udal_result_t kernel_get_info(udal_kernel_t handle, udal_kernel_info_t* out_info) {
  constexpr const char* fn = "udal_kernel_get_info";
  if (out_info == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", fn);
  if (udal_result_t r = udal::sdk::check_struct(fn, "out_info", out_info))
    return r;
  const Kernel* kernel = to_kernel(handle);
  const KernelReflection& r = *kernel->info;
  auto info = udal::sdk::make_struct<udal_kernel_info_t>();
  if (r.kinds_known && r.undescribed.empty())
    info.flags |= UDAL_KERNEL_FLAG_ARGUMENT_INFO;
  if (r.kinds_known && r.uses_local_memory)
    info.flags |= UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY;
  if (kernel->required_group_size[0] != 0) {
    info.flags |= UDAL_KERNEL_FLAG_REQUIRED_GROUP_SIZE;
    for (int axis = 0; axis < 3; ++axis) {
      info.required_group_size[axis] = kernel->required_group_size[axis];
    }
  }
  info.argument_count =
      r.kinds_known ? static_cast<uint32_t>(r.args.size()) : UDAL_ARGUMENT_COUNT_UNKNOWN;
  info.max_group_invocations = kernel->max_group_invocations;
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

udal_result_t kernel_get_argument_info(udal_kernel_t handle, uint32_t index,
                                       udal_kernel_arg_info_t* out_info) {
  constexpr const char* fn = "udal_kernel_get_argument_info";
  if (out_info == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", fn);
  if (udal_result_t r = udal::sdk::check_struct(fn, "out_info", out_info))
    return r;
  const Kernel* kernel = to_kernel(handle);
  const KernelReflection& r = *kernel->info;
  if (!r.kinds_known || !r.undescribed.empty()) {
    return fail(UDAL_ERROR_UNSUPPORTED, "{}: kernel '{}' is not described: {}", fn, kernel->name,
                r.undescribed);
  }
  if (index >= r.args.size()) {
    return fail(UDAL_ERROR_NOT_FOUND, "{}: index {} is not below kernel '{}''s {} arguments", fn,
                index, kernel->name, r.args.size());
  }
  auto info = udal::sdk::make_struct<udal_kernel_arg_info_t>();
  info.kind = r.args[index].kind;
  info.value_size = r.args[index].value_size;
  info.access = r.args[index].access;
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

} // namespace udal::opencl
