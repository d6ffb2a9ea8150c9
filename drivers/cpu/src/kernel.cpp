#include "kernel.h"

#include <dlfcn.h>

#include <cstring>
#include <string>

#include "driver.h"

namespace udal::cpu {

using udal::sdk::fail;

namespace {

constexpr uint32_t kKnownDeclFlags = UDAL_HOST_KERNEL_USES_LOCAL_MEMORY;

// Checks what kernel |name| of |module| declares in |decl| (exported by its module, so read
// as untrusted) and copies it into |kernel|; INVALID_MODULE naming the fault otherwise.
udal_result_t take_declaration(const Module& module, const char* name,
                               const udal_host_kernel_decl_t& decl, Kernel& kernel) {
  constexpr const char* kFn = "udal_kernel_create";
  const auto bad = [&](const std::string& what) {
    return fail(UDAL_ERROR_INVALID_MODULE,
                "{}: module {} declares kernel '{}' badly ({}{}): {}", kFn, fmt::ptr(&module),
                name, UDAL_HOST_KERNEL_DECL_SYMBOL_PREFIX, name, what);
  };
  if (decl.abi_version != UDAL_HOST_KERNEL_ABI_VERSION) {
    return bad(fmt::format("abi_version is {}, this driver takes {}", decl.abi_version,
                           UDAL_HOST_KERNEL_ABI_VERSION));
  }
  if (kernel.argument_count != UDAL_ARGUMENT_COUNT_UNKNOWN &&
      decl.arg_count != kernel.argument_count) {
    return bad(fmt::format("it declares {} arguments but its argument count symbol says {}",
                           decl.arg_count, kernel.argument_count));
  }
  const uint32_t max_arguments = module.device->info.max_kernel_arguments;
  if (decl.arg_count > max_arguments) {
    return bad(fmt::format("{} arguments, more than the {} a launch may pass", decl.arg_count,
                           max_arguments));
  }
  if (decl.arg_count > 0 && decl.args == nullptr) {
    return bad(fmt::format("{} arguments but args is NULL", decl.arg_count));
  }
  if (decl.flags & ~kKnownDeclFlags) {
    return bad(fmt::format("flags {:#x} has bits no version defines", decl.flags & ~kKnownDeclFlags));
  }
  if (decl.reserved0 != 0) return bad(fmt::format("reserved0 is {}, not 0", decl.reserved0));
  kernel.declared_args.assign(decl.args, decl.args + decl.arg_count);
  for (uint32_t i = 0; i < decl.arg_count; ++i) {
    const udal_host_arg_decl_t& arg = kernel.declared_args[i];
    if (arg.reserved0 != 0) return bad(fmt::format("argument {} has reserved0 {}", i, arg.reserved0));
    if (arg.kind == UDAL_ARG_KIND_BUFFER) {
      if (arg.access < UDAL_ARG_ACCESS_READ || arg.access > UDAL_ARG_ACCESS_READ_WRITE ||
          arg.value_size != 0) {
        return bad(fmt::format("buffer argument {} has access {} and value_size {} (access 1..3 "
                               "and value_size 0 expected)",
                               i, arg.access, arg.value_size));
      }
    } else if (arg.kind == UDAL_ARG_KIND_VALUE) {
      if (arg.value_size == 0 || arg.access != UDAL_ARG_ACCESS_NONE) {
        return bad(fmt::format("value argument {} has value_size {} and access {} (a size and "
                               "access 0 expected)",
                               i, arg.value_size, arg.access));
      }
    } else {
      return bad(fmt::format("argument {} has kind {} (1 buffer, 2 value)", i, arg.kind));
    }
  }
  kernel.declared = true;
  kernel.declared_flags = decl.flags;
  kernel.argument_count = decl.arg_count;
  return UDAL_SUCCESS;
}

}  // namespace

const char* access_name(uint32_t access) noexcept {
  switch (access) {
    case UDAL_ARG_ACCESS_NONE: return "NONE";
    case UDAL_ARG_ACCESS_READ: return "READ";
    case UDAL_ARG_ACCESS_WRITE: return "WRITE";
    case UDAL_ARG_ACCESS_READ_WRITE: return "READ_WRITE";
    default: return "UNKNOWN";
  }
}

udal_result_t kernel_create(udal_module_t module_handle, const char* name,
                            udal_kernel_t* out_kernel) {
  constexpr const char* kFn = "udal_kernel_create";
  if (out_kernel == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_kernel is NULL", kFn);
  *out_kernel = nullptr;
  if (name == nullptr || name[0] == '\0') {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: name is {}", kFn, name ? "empty" : "NULL");
  }
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    Module* module = to_module(module_handle);
    void* library = module->library->handle();
    const std::string symbol = std::string(UDAL_HOST_KERNEL_SYMBOL_PREFIX) + name;
    void* function = dlsym(library, symbol.c_str());
    if (function == nullptr) {
      return fail(UDAL_ERROR_KERNEL_NOT_FOUND,
                  "{}: module {} has no kernel '{}' (no symbol {}; define it with "
                  "UDAL_HOST_KERNEL or UDAL_HOST_KERNEL_ARGS)",
                  kFn, fmt::ptr(module), name, symbol);
    }
    const std::string argc_symbol = std::string(UDAL_HOST_KERNEL_ARGC_SYMBOL_PREFIX) + name;
    const auto* argc = static_cast<const uint32_t*>(dlsym(library, argc_symbol.c_str()));
    auto kernel = std::make_unique<Kernel>();
    kernel->dispatch = module->dispatch;
    kernel->device = module->device;
    kernel->library = module->library;
    kernel->function = reinterpret_cast<udal_host_kernel_fn>(function);
    kernel->name = name;
    kernel->argument_count = argc ? *argc : UDAL_ARGUMENT_COUNT_UNKNOWN;
    kernel->declared = false;
    kernel->declared_flags = 0;
    const std::string decl_symbol = std::string(UDAL_HOST_KERNEL_DECL_SYMBOL_PREFIX) + name;
    if (const auto* decl =
            static_cast<const udal_host_kernel_decl_t*>(dlsym(library, decl_symbol.c_str()))) {
      if (udal_result_t r = take_declaration(*module, name, *decl, *kernel)) return r;
    }
    module->device->driver->kernels.add(kernel.get());
    *out_kernel = udal::sdk::to_handle<udal_kernel_t>(kernel.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t kernel_destroy(udal_kernel_t handle) {
  Kernel* kernel = to_kernel(handle);
  kernel->device->driver->kernels.remove(kernel);
  // Launches in flight hold the library themselves.
  std::unique_ptr<Kernel> owned(kernel);
  return UDAL_SUCCESS;
}

udal_result_t kernel_get_info(udal_kernel_t handle, udal_kernel_info_t* out_info) {
  constexpr const char* kFn = "udal_kernel_get_info";
  if (out_info == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", kFn);
  if (udal_result_t r = udal::sdk::check_struct(kFn, "out_info", out_info)) return r;
  const Kernel* kernel = to_kernel(handle);
  auto info = udal::sdk::make_struct<udal_kernel_info_t>();
  if (kernel->declared) {
    info.flags |= UDAL_KERNEL_FLAG_ARGUMENT_INFO;
    if (kernel->declared_flags & UDAL_HOST_KERNEL_USES_LOCAL_MEMORY) {
      info.flags |= UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY;
    }
  }
  info.argument_count = kernel->argument_count;
  info.max_group_invocations = kernel->device->info.max_group_invocations;
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

udal_result_t kernel_get_argument_info(udal_kernel_t handle, uint32_t index,
                                       udal_kernel_arg_info_t* out_info) {
  constexpr const char* kFn = "udal_kernel_get_argument_info";
  if (out_info == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", kFn);
  if (udal_result_t r = udal::sdk::check_struct(kFn, "out_info", out_info)) return r;
  const Kernel* kernel = to_kernel(handle);
  if (!kernel->declared) {
    return fail(UDAL_ERROR_UNSUPPORTED,
                "{}: kernel '{}' was defined with UDAL_HOST_KERNEL, which does not describe its "
                "arguments (UDAL_HOST_KERNEL_ARGS does)",
                kFn, kernel->name);
  }
  if (index >= kernel->declared_args.size()) {
    return fail(UDAL_ERROR_NOT_FOUND, "{}: index {} is not below the {} arguments of kernel '{}'",
                kFn, index, kernel->declared_args.size(), kernel->name);
  }
  const udal_host_arg_decl_t& arg = kernel->declared_args[index];
  auto info = udal::sdk::make_struct<udal_kernel_arg_info_t>();
  info.kind = static_cast<udal_arg_kind_t>(arg.kind);
  info.value_size = arg.value_size;
  info.access = static_cast<udal_arg_access_t>(arg.access);
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

}  // namespace udal::cpu
