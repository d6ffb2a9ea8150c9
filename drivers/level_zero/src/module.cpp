// Modules (SPIRV_KERNEL, or the device's native binary), kernels and launches. The SPIR-V is
// read (frontends/level_zero/src/spirv.cpp) to describe each kernel's arguments, its local
// memory and its required group size, so launches are checked before Level Zero sees them.
// Each launch sets its arguments on a kernel object of the kernel's pool: launches of one
// kernel from several threads never share argument state.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "ze_driver.h"

namespace udal::level_zero {

using udal::sdk::fail;

namespace {

constexpr const char* kFn = "udal_module_create";
constexpr uint64_t kMaxImageFileBytes = uint64_t{1} << 30;
constexpr size_t kMaxLogInMessage = 1500;

udal_result_t image_bytes(const udal_module_image_t& image, uint32_t index, std::vector<unsigned char>* storage,
                          const unsigned char** data, size_t* size) {
  if (image.data != nullptr) {
    *data = static_cast<const unsigned char*>(image.data);
    *size = image.size;
    return UDAL_SUCCESS;
  }
  if (image.path == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->images[{}] has neither data nor path", kFn, index);
  }
  const int fd = ::open(image.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return fail(UDAL_ERROR_INVALID_MODULE, "{}: desc->images[{}].path '{}' cannot be opened: {}", kFn, index,
                image.path, std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0 ||
      static_cast<uint64_t>(st.st_size) > kMaxImageFileBytes) {
    ::close(fd);
    return fail(UDAL_ERROR_INVALID_MODULE,
                "{}: desc->images[{}].path '{}' is not a regular, non-empty file of at most {} bytes", kFn, index,
                image.path, kMaxImageFileBytes);
  }
  storage->resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < storage->size()) {
    const ssize_t n = ::read(fd, storage->data() + done, storage->size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (done != storage->size()) {
    return fail(UDAL_ERROR_INVALID_MODULE, "{}: reading desc->images[{}].path '{}' failed", kFn, index, image.path);
  }
  *data = storage->data();
  *size = storage->size();
  return UDAL_SUCCESS;
}

std::string format_name(udal_module_format_t format) {
  if (format == UDAL_MODULE_FORMAT_LEVEL_ZERO_NATIVE) return "LEVEL_ZERO_NATIVE";
  switch (format) {
    case UDAL_MODULE_FORMAT_HOST_NATIVE: return "HOST_NATIVE";
    case UDAL_MODULE_FORMAT_SPIRV_COMPUTE: return "SPIRV_COMPUTE";
    case UDAL_MODULE_FORMAT_SPIRV_KERNEL: return "SPIRV_KERNEL";
    case UDAL_MODULE_FORMAT_OPENCL_C: return "OPENCL_C";
    case UDAL_MODULE_FORMAT_PTX: return "PTX";
    default: return fmt::format("format {:#x}", static_cast<uint32_t>(format));
  }
}

std::string build_log(ze_module_build_log_handle_t log) {
  if (log == nullptr) return {};
  size_t size = 0;
  std::string text;
  if (zeModuleBuildLogGetString(log, &size, nullptr) == ZE_RESULT_SUCCESS && size > 1) {
    text.resize(size);
    if (zeModuleBuildLogGetString(log, &size, text.data()) != ZE_RESULT_SUCCESS) text.clear();
    while (!text.empty() && (text.back() == '\0' || text.back() == '\n')) text.pop_back();
  }
  if (text.size() > kMaxLogInMessage) {
    text.resize(kMaxLogInMessage);
    text += " [...]";
  }
  return text;
}

const char* access_name(udal_arg_access_t access) {
  switch (access) {
    case UDAL_ARG_ACCESS_READ: return "READ";
    case UDAL_ARG_ACCESS_WRITE: return "WRITE";
    case UDAL_ARG_ACCESS_READ_WRITE: return "READ_WRITE";
    default: return "NONE";
  }
}

}  // namespace

ModuleCore::~ModuleCore() {
  if (module != nullptr) zeModuleDestroy(module);
}

udal_result_t module_create(udal_device_t device_handle, const udal_module_desc_t* desc_in, udal_module_t* out_module) {
  if (out_module == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_module is NULL", kFn);
  *out_module = nullptr;
  if (desc_in == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc is NULL", kFn);
  if (udal_result_t r = udal::sdk::check_struct(kFn, "desc", desc_in)) return r;
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    Device* device = to_device(device_handle);
    DeviceState& state = *device->state;
    const udal_module_desc_t desc = udal::sdk::read_struct(desc_in);
    if (desc.image_count == 0 || desc.images == nullptr) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc has no images (image_count {})", kFn, desc.image_count);
    }
    if (desc.specialization_constant_count > 0 && desc.specialization_constants == nullptr) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->specialization_constants is NULL but the count is {}",
                  kFn, desc.specialization_constant_count);
    }
    uint32_t chosen = desc.image_count;
    std::string offered;
    for (uint32_t i = 0; i < desc.image_count; ++i) {
      const std::string what = fmt::format("desc->images[{}]", i);
      if (udal_result_t r = udal::sdk::check_struct(kFn, what.c_str(), &desc.images[i])) return r;
      const udal_module_format_t f = desc.images[i].format;
      offered += (offered.empty() ? "" : ", ") + format_name(f);
      if (chosen == desc.image_count &&
          (f == UDAL_MODULE_FORMAT_SPIRV_KERNEL || f == UDAL_MODULE_FORMAT_LEVEL_ZERO_NATIVE)) {
        chosen = i;
      }
    }
    if (chosen == desc.image_count) {
      return fail(UDAL_ERROR_UNSUPPORTED,
                  "{}: device '{}' takes none of the {} image(s) (formats offered: {}; the device takes "
                  "SPIRV_KERNEL, LEVEL_ZERO_NATIVE)",
                  kFn, state.info.name, desc.image_count, offered);
    }
    const udal_module_image_t image = udal::sdk::read_struct(&desc.images[chosen]);
    const bool spirv = image.format == UDAL_MODULE_FORMAT_SPIRV_KERNEL;
    if (!spirv && desc.specialization_constant_count > 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: {} specialization constant(s) given, but the image taken ({}) has none", kFn,
                  desc.specialization_constant_count, format_name(image.format));
    }
    std::vector<unsigned char> storage;
    const unsigned char* data = nullptr;
    size_t size = 0;
    if (udal_result_t r = image_bytes(image, chosen, &storage, &data, &size)) return r;
    if (size == 0) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->images[{}] is empty", kFn, chosen);
    auto core = std::make_shared<ModuleCore>();
    core->device = &state;
    std::vector<uint32_t> ids;
    std::vector<const void*> values;
    if (spirv) {
      if (size % 4 != 0) {
        return fail(UDAL_ERROR_INVALID_MODULE, "{}: the SPIRV_KERNEL image has {} bytes, not whole words", kFn, size);
      }
      std::vector<uint32_t> words(size / 4);
      std::memcpy(words.data(), data, size);
      if (std::string why = udal::ze::spirv::parse(words.data(), words.size(), &core->info); !why.empty()) {
        return fail(UDAL_ERROR_INVALID_MODULE, "{}: the SPIRV_KERNEL image is not a module the driver can load: {}",
                    kFn, why);
      }
      if (core->info.kernels.empty()) {
        return fail(UDAL_ERROR_INVALID_MODULE, "{}: the SPIRV_KERNEL image has no Kernel entry point", kFn);
      }
      core->reflected = true;
      for (uint32_t i = 0; i < desc.specialization_constant_count; ++i) {
        const udal_specialization_constant_t& given = desc.specialization_constants[i];
        const udal::ze::spirv::SpecConstant* declared = nullptr;
        for (const auto& c : core->info.spec_constants) {
          if (c.id == given.id) declared = &c;
        }
        if (declared == nullptr) {
          std::string known;
          for (const auto& c : core->info.spec_constants) known += fmt::format("{}{}", known.empty() ? "" : ", ", c.id);
          return fail(UDAL_ERROR_INVALID_ARGUMENT,
                      "{}: desc->specialization_constants[{}] has id {}, which the SPIR-V image does not declare "
                      "(its SpecIds: {})",
                      kFn, i, given.id, known.empty() ? std::string("none") : known);
        }
        if (given.value == nullptr || given.size != declared->size) {
          return fail(UDAL_ERROR_INVALID_ARGUMENT,
                      "{}: desc->specialization_constants[{}] (id {}) has size {}{}, but the image declares a "
                      "{}-byte constant",
                      kFn, i, given.id, given.size, given.value == nullptr ? " and a NULL value" : "",
                      declared->size);
        }
        ids.push_back(given.id);
        values.push_back(given.value);
      }
    }
    ze_module_constants_t constants{static_cast<uint32_t>(ids.size()), ids.data(), values.data()};
    ze_module_desc_t zdesc{ZE_STRUCTURE_TYPE_MODULE_DESC, nullptr,
                           spirv ? ZE_MODULE_FORMAT_IL_SPIRV : ZE_MODULE_FORMAT_NATIVE,
                           size, data, desc.build_options, ids.empty() ? nullptr : &constants};
    ze_module_build_log_handle_t log = nullptr;
    const ze_result_t r = zeModuleCreate(state.context, state.device, &zdesc, &core->module, &log);
    const std::string text = build_log(log);
    if (log != nullptr) zeModuleBuildLogDestroy(log);
    if (r != ZE_RESULT_SUCCESS) {
      core->module = nullptr;
      return fail(code_of(r, UDAL_ERROR_INVALID_MODULE),
                  "{}: device '{}' did not build the {} image (zeModuleCreate: {}){}{}", kFn, state.info.name,
                  format_name(image.format), ze_name(r), text.empty() ? "" : "; build log:\n", text);
    }
    auto module = std::make_unique<Module>();
    module->dispatch = device->dispatch;
    module->device = device;
    module->core = std::move(core);
    module->format = image.format;
    module->image_index = chosen;
    state.modules.add(module.get());
    *out_module = udal::sdk::to_handle<udal_module_t>(module.release());
    return UDAL_SUCCESS;
  });
}

void destroy_module(Module* module) noexcept {
  std::unique_ptr<Module> owned(module);
  module->device->state->modules.remove(module);
}

udal_result_t module_destroy(udal_module_t handle) {
  destroy_module(to_module(handle));  // kernels keep the Level Zero module alive
  return UDAL_SUCCESS;
}

udal_result_t module_get_info(udal_module_t handle, udal_module_info_t* out_info) {
  const Module* module = to_module(handle);
  udal_module_info_t info = udal::sdk::make_struct<udal_module_info_t>();
  info.format = module->format;
  info.image_index = module->image_index;
  return udal::sdk::answer_struct("udal_module_get_info", "out_info", out_info, info);
}

// ----- kernels ----------------------------------------------------------------------------

ze_kernel_handle_t Kernel::take(ze_result_t* result) {
  *result = ZE_RESULT_SUCCESS;
  {
    std::lock_guard lock(pool_mutex);
    if (!pool.empty()) {
      ze_kernel_handle_t k = pool.back();
      pool.pop_back();
      return k;
    }
  }
  ze_kernel_desc_t desc{ZE_STRUCTURE_TYPE_KERNEL_DESC, nullptr, 0, name.c_str()};
  ze_kernel_handle_t k = nullptr;
  *result = zeKernelCreate(core->module, &desc, &k);
  if (*result != ZE_RESULT_SUCCESS) return nullptr;
  // A kernel may reach any allocation through an address it is given as a value.
  zeKernelSetIndirectAccess(k, ZE_KERNEL_INDIRECT_ACCESS_FLAG_HOST | ZE_KERNEL_INDIRECT_ACCESS_FLAG_DEVICE |
                                   ZE_KERNEL_INDIRECT_ACCESS_FLAG_SHARED);
  return k;
}

void Kernel::give_back(ze_kernel_handle_t k) noexcept {
  try {
    std::lock_guard lock(pool_mutex);
    pool.push_back(k);
  } catch (...) {
    zeKernelDestroy(k);
  }
}

Kernel::~Kernel() {
  for (ze_kernel_handle_t k : pool) zeKernelDestroy(k);
}

udal_result_t kernel_create(udal_module_t module_handle, const char* name, udal_kernel_t* out_kernel) {
  static constexpr const char* fn = "udal_kernel_create";
  if (out_kernel == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_kernel is NULL", fn);
  *out_kernel = nullptr;
  if (name == nullptr || name[0] == '\0') return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: name is NULL or empty", fn);
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    Module* module = to_module(module_handle);
    const ModuleCore& core = *module->core;
    auto kernel = std::make_unique<Kernel>();
    kernel->dispatch = module->dispatch;
    kernel->device = module->device;
    kernel->core = module->core;
    kernel->name = name;
    const DeviceState& state = *module->device->state;
    kernel->max_group_invocations = state.info.max_group_invocations;
    if (core.reflected) {
      const udal::ze::spirv::Kernel* sig = udal::ze::spirv::find_kernel(core.info, name);
      if (sig == nullptr) {
        std::string names;
        for (const auto& k : core.info.kernels) names += (names.empty() ? "" : ", ") + k.name;
        return fail(UDAL_ERROR_KERNEL_NOT_FOUND, "{}: the module has no kernel '{}' (its kernels: {})", fn, name, names);
      }
      const size_t count = sig->args.size();
      for (size_t i = 0; i < count; ++i) {
        const udal::ze::spirv::Arg& a = sig->args[i];
        KernelArg arg;
        switch (a.kind) {
          case udal::ze::spirv::ArgKind::kGlobal:
            arg.kind = UDAL_ARG_KIND_BUFFER;
            arg.access = a.read_only ? UDAL_ARG_ACCESS_READ : UDAL_ARG_ACCESS_READ_WRITE;
            break;
          case udal::ze::spirv::ArgKind::kValue:
            arg.kind = UDAL_ARG_KIND_VALUE;
            arg.value_size = a.size;
            break;
          case udal::ze::spirv::ArgKind::kLocal:
            if (i + 1 != count) {
              return fail(UDAL_ERROR_INVALID_MODULE,
                          "{}: kernel '{}' cannot be launched through UDAL: parameter {} is a local pointer but not "
                          "the last parameter (a launch's dynamic local memory arrives as one trailing local "
                          "pointer)",
                          fn, name, i);
            }
            kernel->uses_local_memory = true;
            continue;
          case udal::ze::spirv::ArgKind::kOther:
            return fail(UDAL_ERROR_INVALID_MODULE,
                        "{}: kernel '{}' cannot be launched through UDAL: parameter {} is {}, which UDAL does not "
                        "model",
                        fn, name, i, a.what);
        }
        kernel->args.push_back(arg);
      }
      kernel->parameter_count = static_cast<uint32_t>(count);
      kernel->described = true;
      for (int a = 0; a < 3; ++a) kernel->required_group_size[a] = sig->required_group_size[a];
    }
    ze_result_t r = ZE_RESULT_SUCCESS;
    ze_kernel_handle_t first = kernel->take(&r);
    if (first == nullptr) {
      if (r == ZE_RESULT_ERROR_INVALID_KERNEL_NAME) {
        return fail(UDAL_ERROR_KERNEL_NOT_FOUND, "{}: the module has no kernel '{}' (zeKernelCreate: {})", fn, name,
                    ze_name(r));
      }
      return fail_ze(fn, "zeKernelCreate", r, UDAL_ERROR_INVALID_MODULE);
    }
    ze_kernel_properties_t props{ZE_STRUCTURE_TYPE_KERNEL_PROPERTIES, nullptr};
    if (zeKernelGetProperties(first, &props) == ZE_RESULT_SUCCESS) {
      if (!kernel->described) kernel->parameter_count = props.numKernelArgs;
      if (kernel->required_group_size[0] == 0 && props.requiredGroupSizeX != 0) {
        kernel->required_group_size[0] = props.requiredGroupSizeX;
        kernel->required_group_size[1] = std::max(props.requiredGroupSizeY, 1u);
        kernel->required_group_size[2] = std::max(props.requiredGroupSizeZ, 1u);
      }
    }
    kernel->give_back(first);
    module->device->state->kernels.add(kernel.get());
    *out_kernel = udal::sdk::to_handle<udal_kernel_t>(kernel.release());
    return UDAL_SUCCESS;
  });
}

void destroy_kernel(Kernel* kernel) noexcept {
  std::unique_ptr<Kernel> owned(kernel);
  kernel->device->state->kernels.remove(kernel);
}

udal_result_t kernel_destroy(udal_kernel_t handle) {
  destroy_kernel(to_kernel(handle));
  return UDAL_SUCCESS;
}

udal_result_t kernel_get_info(udal_kernel_t handle, udal_kernel_info_t* out_info) {
  static constexpr const char* fn = "udal_kernel_get_info";
  if (out_info == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", fn);
  if (udal_result_t r = udal::sdk::check_struct(fn, "out_info", out_info)) return r;
  const Kernel* kernel = to_kernel(handle);
  udal_kernel_info_t info = udal::sdk::make_struct<udal_kernel_info_t>();
  if (kernel->described) info.flags |= UDAL_KERNEL_FLAG_ARGUMENT_INFO;
  if (kernel->uses_local_memory) info.flags |= UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY;
  if (kernel->required_group_size[0] != 0) info.flags |= UDAL_KERNEL_FLAG_REQUIRED_GROUP_SIZE;
  info.argument_count = kernel->described ? static_cast<uint32_t>(kernel->args.size()) : UDAL_ARGUMENT_COUNT_UNKNOWN;
  info.max_group_invocations = kernel->max_group_invocations;
  for (int a = 0; a < 3; ++a) info.required_group_size[a] = kernel->required_group_size[a];
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

udal_result_t kernel_get_argument_info(udal_kernel_t handle, uint32_t index, udal_kernel_arg_info_t* out_info) {
  static constexpr const char* fn = "udal_kernel_get_argument_info";
  if (out_info == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", fn);
  if (udal_result_t r = udal::sdk::check_struct(fn, "out_info", out_info)) return r;
  udal::sdk::clear_struct(out_info);
  const Kernel* kernel = to_kernel(handle);
  if (!kernel->described) {
    return fail(UDAL_ERROR_UNSUPPORTED, "{}: kernel '{}' comes from a native binary, which does not describe its "
                                        "arguments",
                fn, kernel->name);
  }
  if (index >= kernel->args.size()) {
    return fail(UDAL_ERROR_NOT_FOUND, "{}: kernel '{}' has {} argument(s); index {} is past them", fn, kernel->name,
                kernel->args.size(), index);
  }
  udal_kernel_arg_info_t info = udal::sdk::make_struct<udal_kernel_arg_info_t>();
  info.kind = kernel->args[index].kind;
  info.value_size = kernel->args[index].value_size;
  info.access = kernel->args[index].access;
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

// ----- launches ---------------------------------------------------------------------------

namespace {

constexpr const char* kLaunch = "udal_stream_launch";

udal_result_t check_launch(const Stream& stream, const Kernel& kernel, const udal_launch_desc_t& desc) {
  const udal_device_info_t& info = stream.device->state->info;
  uint64_t invocations = 1;
  for (int axis = 0; axis < 3; ++axis) {
    if (desc.group_count[axis] == 0 || desc.group_size[axis] == 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: group_count[{}] and group_size[{}] must be at least 1 (got {} and {})", kLaunch, axis, axis,
                  desc.group_count[axis], desc.group_size[axis]);
    }
    if (desc.group_size[axis] > info.max_group_size[axis]) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: group_size[{}] {} exceeds the device's max_group_size[{}] {}",
                  kLaunch, axis, desc.group_size[axis], axis, info.max_group_size[axis]);
    }
    if (desc.group_count[axis] > info.max_group_count[axis]) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: group_count[{}] {} exceeds the device's max_group_count[{}] {}",
                  kLaunch, axis, desc.group_count[axis], axis, info.max_group_count[axis]);
    }
    invocations *= desc.group_size[axis];
  }
  if (invocations > kernel.max_group_invocations) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: a group of {}x{}x{} = {} items exceeds kernel '{}''s limit of {}",
                kLaunch, desc.group_size[0], desc.group_size[1], desc.group_size[2], invocations, kernel.name,
                kernel.max_group_invocations);
  }
  if (kernel.required_group_size[0] != 0 &&
      (desc.group_size[0] != kernel.required_group_size[0] || desc.group_size[1] != kernel.required_group_size[1] ||
       desc.group_size[2] != kernel.required_group_size[2])) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: kernel '{}' requires groups of {}x{}x{} (reqd_work_group_size); the launch asks for {}x{}x{}",
                kLaunch, kernel.name, kernel.required_group_size[0], kernel.required_group_size[1],
                kernel.required_group_size[2], desc.group_size[0], desc.group_size[1], desc.group_size[2]);
  }
  if (desc.local_memory_bytes > info.max_local_memory_bytes) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: local_memory_bytes {} exceeds the device's max_local_memory_bytes {}",
                kLaunch, desc.local_memory_bytes, info.max_local_memory_bytes);
  }
  if (kernel.described) {
    if (desc.arg_count != kernel.args.size()) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: kernel '{}' takes {} argument(s){}; the launch passes {}", kLaunch,
                  kernel.name, kernel.args.size(),
                  kernel.uses_local_memory ? " (and its dynamic local memory as a last, local pointer parameter)" : "",
                  desc.arg_count);
    }
    if (kernel.uses_local_memory && desc.local_memory_bytes == 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: kernel '{}' takes dynamic local memory (its last parameter is a local pointer) but "
                  "local_memory_bytes is 0",
                  kLaunch, kernel.name);
    }
  } else if (desc.arg_count != kernel.parameter_count &&
             !(desc.local_memory_bytes > 0 && desc.arg_count + 1 == kernel.parameter_count)) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: kernel '{}' has {} parameter(s); the launch passes {} argument(s){}",
                kLaunch, kernel.name, kernel.parameter_count, desc.arg_count,
                desc.local_memory_bytes > 0 ? " and local memory" : "");
  }
  uint64_t value_bytes = 0;
  for (uint32_t i = 0; i < desc.arg_count; ++i) {
    const udal_kernel_arg_t& arg = desc.args[i];
    if (arg.kind == UDAL_ARG_KIND_BUFFER) {
      if (arg.buffer == nullptr) return fail(UDAL_ERROR_INVALID_HANDLE, "{}: args[{}].buffer is NULL", kLaunch, i);
      const Buffer* buffer = to_buffer(arg.buffer);
      if (buffer->dispatch != stream.dispatch || buffer->device != stream.device) {
        return fail(UDAL_ERROR_INVALID_HANDLE, "{}: args[{}].buffer {} is not a buffer of the stream's device '{}'",
                    kLaunch, i, fmt::ptr(arg.buffer), info.name);
      }
      if (arg.offset >= buffer->size) {
        return fail(UDAL_ERROR_OUT_OF_RANGE, "{}: args[{}].offset {} is not inside buffer {} ({} bytes)", kLaunch, i,
                    arg.offset, fmt::ptr(arg.buffer), buffer->size);
      }
    } else if (arg.kind == UDAL_ARG_KIND_VALUE) {
      if (arg.value == nullptr || arg.value_size == 0) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}] is a value with no bytes", kLaunch, i);
      }
      value_bytes += arg.value_size;
    } else {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}].kind {} is not BUFFER or VALUE", kLaunch, i,
                  static_cast<int>(arg.kind));
    }
    if (!kernel.described) continue;
    const KernelArg& want = kernel.args[i];
    if (want.kind != arg.kind) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}] is a {}, but parameter {} of kernel '{}' is a {}", kLaunch,
                  i, arg.kind == UDAL_ARG_KIND_BUFFER ? "buffer" : "value", i, kernel.name,
                  want.kind == UDAL_ARG_KIND_BUFFER ? "buffer" : "value");
    }
    if (arg.kind == UDAL_ARG_KIND_VALUE && want.value_size != 0 && want.value_size != arg.value_size) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: args[{}] has {} bytes, but parameter {} of kernel '{}' has {}",
                  kLaunch, i, arg.value_size, i, kernel.name, want.value_size);
    }
    if (arg.kind == UDAL_ARG_KIND_BUFFER && (want.access & ~arg.access) != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: args[{}] gives access {}, but kernel '{}' declares parameter {} {} (it may write what the "
                  "caller said it only reads)",
                  kLaunch, i, access_name(arg.access), kernel.name, i, access_name(want.access));
    }
  }
  if (value_bytes > info.max_value_argument_bytes) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: the value arguments have {} bytes, more than the device's max_value_argument_bytes {}", kLaunch,
                value_bytes, info.max_value_argument_bytes);
  }
  return UDAL_SUCCESS;
}

}  // namespace

udal_result_t stream_launch(udal_stream_t stream_handle, udal_kernel_t kernel_handle, const udal_launch_desc_t* desc_in) {
  if (desc_in == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc is NULL", kLaunch);
  if (udal_result_t r = udal::sdk::check_struct(kLaunch, "desc", desc_in)) return r;
  Stream* stream = to_stream(stream_handle);
  Kernel* kernel = to_kernel(kernel_handle);
  if (kernel->device != stream->device) {
    return fail(UDAL_ERROR_INVALID_HANDLE, "{}: kernel {} belongs to device '{}', not to the stream's device '{}'",
                kLaunch, fmt::ptr(kernel_handle), kernel->device->state->info.name, stream->device->state->info.name);
  }
  const udal_launch_desc_t& desc = *desc_in;
  if (desc.arg_count > 0 && desc.args == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->args is NULL but arg_count is {}", kLaunch, desc.arg_count);
  }
  if (udal_result_t r = check_launch(*stream, *kernel, desc)) return r;
  return udal::sdk::guard(kLaunch, [&]() -> udal_result_t {
    ze_result_t r = ZE_RESULT_SUCCESS;
    ze_kernel_handle_t object = kernel->take(&r);
    if (object == nullptr) return fail_ze(kLaunch, "zeKernelCreate", r);
    struct GiveBack {
      Kernel* kernel;
      ze_kernel_handle_t object;
      ~GiveBack() { kernel->give_back(object); }
    } give_back{kernel, object};
    r = zeKernelSetGroupSize(object, desc.group_size[0], desc.group_size[1], desc.group_size[2]);
    if (r != ZE_RESULT_SUCCESS) {
      return fail_ze(kLaunch, "zeKernelSetGroupSize", r, UDAL_ERROR_INVALID_ARGUMENT);
    }
    std::vector<std::shared_ptr<void>> used;
    for (uint32_t i = 0; i < desc.arg_count; ++i) {
      const udal_kernel_arg_t& arg = desc.args[i];
      if (arg.kind == UDAL_ARG_KIND_BUFFER) {
        const Buffer* buffer = to_buffer(arg.buffer);
        void* pointer = buffer->base() + arg.offset;
        r = zeKernelSetArgumentValue(object, i, sizeof(pointer), &pointer);
        used.push_back(buffer->memory);
      } else {
        r = zeKernelSetArgumentValue(object, i, arg.value_size, arg.value);
      }
      if (r != ZE_RESULT_SUCCESS) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: kernel '{}' refused args[{}] ({} bytes): zeKernelSetArgumentValue failed with {}",
                    kLaunch, kernel->name, i, arg.kind == UDAL_ARG_KIND_BUFFER ? 8u : arg.value_size, ze_name(r));
      }
    }
    if (desc.local_memory_bytes > 0 && desc.arg_count < kernel->parameter_count) {
      r = zeKernelSetArgumentValue(object, desc.arg_count, static_cast<size_t>(desc.local_memory_bytes), nullptr);
      if (r != ZE_RESULT_SUCCESS) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: kernel '{}' refused {} bytes of local memory as parameter {}: {}",
                    kLaunch, kernel->name, desc.local_memory_bytes, desc.arg_count, ze_name(r));
      }
    }
    const ze_group_count_t groups{desc.group_count[0], desc.group_count[1], desc.group_count[2]};
    std::lock_guard lock(stream->mutex);
    r = stream->barrier();
    if (r == ZE_RESULT_SUCCESS) r = zeCommandListAppendLaunchKernel(stream->list, object, &groups, nullptr, 0, nullptr);
    if (r != ZE_RESULT_SUCCESS) {
      return fail_ze(kLaunch, "zeCommandListAppendLaunchKernel", r,
                     r == ZE_RESULT_ERROR_INVALID_ARGUMENT || r == ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION
                         ? UDAL_ERROR_INVALID_ARGUMENT
                         : UDAL_ERROR_INTERNAL);
    }
    for (auto& u : used) stream->pending.push_back(std::move(u));
    stream->after_enqueue(kLaunch);
    return UDAL_SUCCESS;
  });
}

}  // namespace udal::level_zero
