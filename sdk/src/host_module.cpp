// host_module.cpp — HOST_NATIVE modules (udal/sdk/host_module.h).
#include "udal/sdk/host_module.h"

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "udal/sdk/error.h"
#include "udal/sdk/file_check.h"
#include "udal/sdk/names.h"
#include "udal/sdk/structs.h"

namespace udal::sdk {

namespace {

constexpr const char* kModuleFn = "udal_module_create";
constexpr const char* kKernelFn = "udal_kernel_create";
constexpr uint32_t kKnownDeclFlags = UDAL_HOST_KERNEL_USES_LOCAL_MEMORY;

std::string dl_error() {
  const char* error = dlerror();
  return error ? error : "unknown dlopen error";
}

// Writes |size| bytes into an anonymous memory file and returns its fd, or -1 with |error|.
int make_memfd(const void* data, std::size_t size, std::string& error) {
  int fd = memfd_create("udal-host-module", MFD_CLOEXEC);
  if (fd < 0) {
    error = fmt::format("memfd_create failed: {}", std::strerror(errno));
    return -1;
  }
  const auto* bytes = static_cast<const char*>(data);
  std::size_t written = 0;
  while (written < size) {
    ssize_t n = write(fd, bytes + written, size - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      error = fmt::format("writing the image into a memfd failed: {}", std::strerror(errno));
      close(fd);
      return -1;
    }
    written += static_cast<std::size_t>(n);
  }
  return fd;
}

// Checks what kernel |name| declares in |decl| (exported by its module, so read as
// untrusted) and copies it into |kernel|; INVALID_MODULE naming the fault otherwise.
udal_result_t take_declaration(const void* module, const char* name, uint32_t max_kernel_arguments,
                               const udal_host_kernel_decl_t& decl, HostKernel& kernel) {
  const auto bad = [&](const std::string& what) {
    return fail(UDAL_ERROR_INVALID_MODULE, "{}: module {} declares kernel '{}' badly ({}{}): {}",
                kKernelFn, fmt::ptr(module), name, UDAL_HOST_KERNEL_DECL_SYMBOL_PREFIX, name, what);
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
  if (decl.arg_count > max_kernel_arguments) {
    return bad(fmt::format("{} arguments, more than the {} a launch may pass", decl.arg_count,
                           max_kernel_arguments));
  }
  if (decl.arg_count > 0 && decl.args == nullptr) {
    return bad(fmt::format("{} arguments but args is NULL", decl.arg_count));
  }
  if (decl.flags & ~kKnownDeclFlags) {
    return bad(
        fmt::format("flags {:#x} has bits no version defines", decl.flags & ~kKnownDeclFlags));
  }
  if (decl.reserved0 != 0)
    return bad(fmt::format("reserved0 is {}, not 0", decl.reserved0));
  std::vector<ArgDeclaration> args;
  args.reserve(decl.arg_count);
  for (uint32_t i = 0; i < decl.arg_count; ++i) {
    const udal_host_arg_decl_t arg = decl.args[i];
    if (arg.reserved0 != 0)
      return bad(fmt::format("argument {} has reserved0 {}", i, arg.reserved0));
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
    args.push_back(ArgDeclaration{arg.kind, arg.access, arg.value_size});
  }
  kernel.declared_args = std::move(args);
  kernel.declared = true;
  kernel.declared_flags = decl.flags;
  kernel.argument_count = decl.arg_count;
  return UDAL_SUCCESS;
}

} // namespace

// ==========================================================================================
// Libraries and images
// ==========================================================================================

HostLibrary::~HostLibrary() {
  dlclose(handle_);
  if (memfd_ >= 0)
    close(memfd_);
}

void* HostLibrary::symbol(const char* name) const noexcept {
  return dlsym(handle_, name);
}

udal_result_t load_host_image(const udal_module_image_t& image, uint32_t index,
                              std::shared_ptr<HostLibrary>& out) {
  namespace fc = udal::file_check;
  int memfd = -1;
  std::string where;
  void* handle = nullptr;
  if (image.data != nullptr) {
    if (image.size == 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: images[{}] has data but size 0", kModuleFn,
                  index);
    }
    if (image.size > fc::kMaxLibraryBytes) {
      return fail(UDAL_ERROR_INVALID_MODULE,
                  "{}: images[{}] (HOST_NATIVE) has size {} bytes, more than the {} a host "
                  "module may have",
                  kModuleFn, index, image.size, fc::kMaxLibraryBytes);
    }
    if (fc::Problem problem = fc::check_elf_bytes(image.data, image.size)) {
      return fail(UDAL_ERROR_INVALID_MODULE,
                  "{}: images[{}] (HOST_NATIVE, {} bytes) is not a loadable shared object: {}",
                  kModuleFn, index, image.size, problem.text);
    }
    std::string error;
    memfd = make_memfd(image.data, image.size, error);
    if (memfd < 0) {
      return fail(UDAL_ERROR_OUT_OF_HOST_MEMORY, "{}: images[{}]: {}", kModuleFn, index, error);
    }
    where = fmt::format("/proc/self/fd/{}", memfd);
    handle = dlopen(where.c_str(), RTLD_NOW | RTLD_LOCAL);
  } else if (image.path != nullptr && image.path[0] != '\0') {
    // A path without a slash would be searched on LD_LIBRARY_PATH; the caller means a file.
    std::error_code ec;
    std::filesystem::path path = std::filesystem::absolute(image.path, ec);
    where = ec ? std::string(image.path) : path.string();
    // The file dlopen opens is the one checked unless it is replaced in between, as for
    // libudal's driver libraries (a process that lets others rewrite its modules has lost).
    if (fc::Problem problem = fc::check_shared_object_file(where.c_str(), fc::kMaxLibraryBytes)) {
      return fail(UDAL_ERROR_INVALID_MODULE,
                  "{}: images[{}] (HOST_NATIVE at {}) is not a loadable shared object: {}",
                  kModuleFn, index, where, problem.text);
    }
    handle = dlopen(where.c_str(), RTLD_NOW | RTLD_LOCAL);
  } else {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: images[{}] has neither data nor path", kModuleFn,
                index);
  }
  if (handle == nullptr) {
    std::string error = dl_error();
    if (memfd >= 0)
      close(memfd);
    return fail(UDAL_ERROR_INVALID_MODULE,
                "{}: images[{}] (HOST_NATIVE{}{}) is not a loadable shared object: {}", kModuleFn,
                index, image.data ? "" : " at ", image.data ? "" : image.path, error);
  }
  auto library = std::make_shared<HostLibrary>(handle, memfd);
  dlerror();
  const auto* version = static_cast<const uint32_t*>(library->symbol(UDAL_HOST_MODULE_SYMBOL));
  if (version == nullptr) {
    return fail(UDAL_ERROR_INVALID_MODULE,
                "{}: images[{}] is a shared object but not a UDAL host module: it lacks the "
                "symbol {} (UDAL_HOST_MODULE() in its source)",
                kModuleFn, index, UDAL_HOST_MODULE_SYMBOL);
  }
  if (*version != UDAL_HOST_KERNEL_ABI_VERSION) {
    return fail(UDAL_ERROR_INVALID_MODULE,
                "{}: images[{}] was built for host kernel ABI version {}, this driver takes "
                "version {}",
                kModuleFn, index, *version, UDAL_HOST_KERNEL_ABI_VERSION);
  }
  out = std::move(library);
  return UDAL_SUCCESS;
}

udal_result_t load_host_module(const udal_module_desc_t& desc, const char* device_name,
                               std::shared_ptr<HostLibrary>& out, uint32_t& out_image_index) {
  if (desc.image_count == 0 || desc.images == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc has no images", kModuleFn);
  }
  for (uint32_t i = 0; i < desc.image_count; ++i) {
    const std::string what = fmt::format("desc->images[{}]", i);
    if (udal_result_t r = check_struct(kModuleFn, what.c_str(), &desc.images[i]))
      return r;
  }
  if (desc.specialization_constant_count != 0) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: desc has {} specialization constants, which HOST_NATIVE images do not have",
                kModuleFn, desc.specialization_constant_count);
  }
  std::string offered;
  for (uint32_t i = 0; i < desc.image_count; ++i) {
    const udal_module_image_t image = read_struct(&desc.images[i]);
    if (image.format != UDAL_MODULE_FORMAT_HOST_NATIVE) {
      offered += fmt::format("{}{} ({})", offered.empty() ? "" : ", ",
                             module_format_name(image.format), static_cast<uint32_t>(image.format));
      continue;
    }
    if (udal_result_t r = load_host_image(image, i, out))
      return r;
    out_image_index = i;
    return UDAL_SUCCESS;
  }
  return fail(UDAL_ERROR_UNSUPPORTED,
              "{}: device '{}' takes HOST_NATIVE images only; the module offers {}", kModuleFn,
              device_name, offered);
}

// ==========================================================================================
// Kernels
// ==========================================================================================

KernelSignature HostKernel::signature() const noexcept {
  KernelSignature signature;
  signature.name = name;
  signature.argument_count = argument_count;
  signature.declared = declared;
  signature.args = declared_args;
  signature.uses_local_memory = declared && (declared_flags & UDAL_HOST_KERNEL_USES_LOCAL_MEMORY);
  return signature;
}

udal_result_t find_host_kernel(const std::shared_ptr<HostLibrary>& library, const char* name,
                               uint32_t max_kernel_arguments, const void* module, HostKernel& out) {
  if (name == nullptr || name[0] == '\0') {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: name is {}", kKernelFn, name ? "empty" : "NULL");
  }
  const std::string symbol = std::string(UDAL_HOST_KERNEL_SYMBOL_PREFIX) + name;
  void* function = library->symbol(symbol.c_str());
  if (function == nullptr) {
    return fail(UDAL_ERROR_KERNEL_NOT_FOUND,
                "{}: module {} has no kernel '{}' (no symbol {}; define it with "
                "UDAL_HOST_KERNEL or UDAL_HOST_KERNEL_ARGS)",
                kKernelFn, fmt::ptr(module), name, symbol);
  }
  const std::string argc_symbol = std::string(UDAL_HOST_KERNEL_ARGC_SYMBOL_PREFIX) + name;
  const auto* argc = static_cast<const uint32_t*>(library->symbol(argc_symbol.c_str()));
  HostKernel kernel;
  kernel.library = library;
  kernel.function = reinterpret_cast<udal_host_kernel_fn>(function);
  kernel.name = name;
  kernel.argument_count = argc ? *argc : UDAL_ARGUMENT_COUNT_UNKNOWN;
  const std::string decl_symbol = std::string(UDAL_HOST_KERNEL_DECL_SYMBOL_PREFIX) + name;
  if (const auto* decl =
          static_cast<const udal_host_kernel_decl_t*>(library->symbol(decl_symbol.c_str()))) {
    if (udal_result_t r = take_declaration(module, name, max_kernel_arguments, *decl, kernel)) {
      return r;
    }
  }
  out = std::move(kernel);
  return UDAL_SUCCESS;
}

void host_kernel_info(const HostKernel& kernel, uint32_t max_group_invocations,
                      udal_kernel_info_t& info) noexcept {
  if (kernel.declared) {
    info.flags |= UDAL_KERNEL_FLAG_ARGUMENT_INFO;
    if (kernel.declared_flags & UDAL_HOST_KERNEL_USES_LOCAL_MEMORY) {
      info.flags |= UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY;
    }
  }
  info.argument_count = kernel.argument_count;
  info.max_group_invocations = max_group_invocations;
}

udal_result_t host_kernel_argument_info(const HostKernel& kernel, uint32_t index,
                                        udal_kernel_arg_info_t& info) noexcept {
  constexpr const char* kFn = "udal_kernel_get_argument_info";
  if (!kernel.declared) {
    return fail(UDAL_ERROR_UNSUPPORTED,
                "{}: kernel '{}' was defined with UDAL_HOST_KERNEL, which does not describe its "
                "arguments (UDAL_HOST_KERNEL_ARGS does)",
                kFn, kernel.name);
  }
  if (index >= kernel.declared_args.size()) {
    return fail(UDAL_ERROR_NOT_FOUND, "{}: index {} is not below the {} arguments of kernel '{}'",
                kFn, index, kernel.declared_args.size(), kernel.name);
  }
  const ArgDeclaration& arg = kernel.declared_args[index];
  info.kind = static_cast<udal_arg_kind_t>(arg.kind);
  info.value_size = static_cast<uint32_t>(arg.value_size);
  info.access = static_cast<udal_arg_access_t>(arg.access);
  return UDAL_SUCCESS;
}

udal_result_t get_host_kernel_info(const HostKernel& kernel, uint32_t max_group_invocations,
                                   udal_kernel_info_t* out_info) noexcept {
  constexpr const char* kFn = "udal_kernel_get_info";
  if (out_info == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", kFn);
  if (udal_result_t r = check_struct(kFn, "out_info", out_info)) return r;
  auto info = make_struct<udal_kernel_info_t>();
  host_kernel_info(kernel, max_group_invocations, info);
  write_struct(out_info, info);
  return UDAL_SUCCESS;
}

udal_result_t get_host_kernel_argument_info(const HostKernel& kernel, uint32_t index,
                                            udal_kernel_arg_info_t* out_info) noexcept {
  constexpr const char* kFn = "udal_kernel_get_argument_info";
  if (out_info == nullptr) return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_info is NULL", kFn);
  if (udal_result_t r = check_struct(kFn, "out_info", out_info)) return r;
  auto info = make_struct<udal_kernel_arg_info_t>();
  if (udal_result_t r = host_kernel_argument_info(kernel, index, info)) return r;
  write_struct(out_info, info);
  return UDAL_SUCCESS;
}

// ==========================================================================================
// Launches
// ==========================================================================================

HostLaunch::HostLaunch(const HostKernel& kernel, const udal_launch_desc_t& desc)
    : function_(kernel.function), library_(kernel.library),
      local_memory_bytes_(desc.local_memory_bytes) {
  std::memcpy(group_count_, desc.group_count, sizeof(group_count_));
  std::memcpy(group_size_, desc.group_size, sizeof(group_size_));
  std::size_t value_slots = 0;
  for (uint32_t i = 0; i < desc.arg_count; ++i) {
    if (desc.args[i].kind == UDAL_ARG_KIND_VALUE)
      value_slots += (desc.args[i].value_size + 15) / 16;
  }
  args_.assign(desc.arg_count, nullptr);
  arg_sizes_.assign(desc.arg_count, 0);
  values_.resize(value_slots); // sized first: args_ points into it
  std::size_t slot = 0;
  for (uint32_t i = 0; i < desc.arg_count; ++i) {
    const udal_kernel_arg_t& arg = desc.args[i];
    if (arg.kind != UDAL_ARG_KIND_VALUE)
      continue;
    // A value longer than one slot runs on into the next ones (the vector is contiguous).
    auto* bytes = reinterpret_cast<std::byte*>(values_.data() + slot);
    std::memcpy(bytes, arg.value, arg.value_size);
    args_[i] = bytes;
    arg_sizes_[i] = arg.value_size;
    slot += (arg.value_size + 15) / 16;
  }
}

void HostLaunch::set_buffer(uint32_t index, void* data, uint64_t bytes) noexcept {
  if (index >= args_.size())
    return;
  args_[index] = data;
  arg_sizes_[index] = bytes;
}

uint64_t HostLaunch::group_total() const noexcept {
  return uint64_t{group_count_[0]} * group_count_[1] * group_count_[2];
}

void HostLaunch::run_groups(uint64_t begin, uint64_t end, void* local_memory) const noexcept {
  udal_host_dispatch_t d;
  std::memset(&d, 0, sizeof(d));
  d.struct_size = sizeof(d);
  std::memcpy(d.group_count, group_count_, sizeof(d.group_count));
  std::memcpy(d.group_size, group_size_, sizeof(d.group_size));
  d.arg_count = static_cast<uint32_t>(args_.size());
  d.args = args_.data();
  d.arg_sizes = arg_sizes_.data();
  d.local_memory = local_memory_bytes_ == 0 ? nullptr : local_memory;
  d.local_memory_bytes = local_memory_bytes_;
  const uint64_t xy = uint64_t{group_count_[0]} * group_count_[1];
  for (uint64_t i = begin; i < end; ++i) {
    d.group_id[0] = static_cast<uint32_t>(i % group_count_[0]);
    d.group_id[1] = static_cast<uint32_t>((i / group_count_[0]) % group_count_[1]);
    d.group_id[2] = static_cast<uint32_t>(i / xy);
    function_(&d);
  }
}

} // namespace udal::sdk
