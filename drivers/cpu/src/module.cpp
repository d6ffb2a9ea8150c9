#include "module.h"

#include <dlfcn.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "driver.h"
#include "udal/sdk/file_check.h"
#include "udal/udal_host_kernel.h"

namespace udal::cpu {

using udal::sdk::fail;

Library::~Library() {
  dlclose(handle_);
  if (memfd_ >= 0) close(memfd_);
}

namespace {

const char* format_name(udal_module_format_t format) {
  switch (format) {
    case UDAL_MODULE_FORMAT_NONE: return "NONE";
    case UDAL_MODULE_FORMAT_HOST_NATIVE: return "HOST_NATIVE";
    case UDAL_MODULE_FORMAT_SPIRV_COMPUTE: return "SPIRV_COMPUTE";
    case UDAL_MODULE_FORMAT_SPIRV_KERNEL: return "SPIRV_KERNEL";
    case UDAL_MODULE_FORMAT_OPENCL_C: return "OPENCL_C";
    case UDAL_MODULE_FORMAT_PTX: return "PTX";
    default: return "VENDOR";
  }
}

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
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = fmt::format("writing the image into a memfd failed: {}", std::strerror(errno));
      close(fd);
      return -1;
    }
    written += static_cast<std::size_t>(n);
  }
  return fd;
}

// Loads image |index| of |desc| into |out|; a result and message on failure.
//
// Before dlopen, an image passes the checks libudal makes on driver libraries
// (udal/sdk/file_check.h): a file is a regular file (never a FIFO, device or directory,
// which would block or read for ever) of at most 1 GiB, opened without blocking; bytes are
// at most 1 GiB; both are an ELF shared object of this process's class, byte order and
// machine whose headers, segments and sections lie inside it. dlopen maps what the headers
// name, so a truncated image would otherwise be a SIGBUS at first touch, and its messages
// for a foreign or non-ELF file are misleading ("No such file or directory").
udal_result_t load_image(const udal_module_image_t& image, uint32_t index,
                         std::shared_ptr<Library>& out) {
  namespace fc = udal::file_check;
  int memfd = -1;
  std::string where;
  void* handle = nullptr;
  if (image.data != nullptr) {
    if (image.size == 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_module_create: images[{}] has data but size 0",
                  index);
    }
    if (image.size > fc::kMaxLibraryBytes) {
      return fail(UDAL_ERROR_INVALID_MODULE,
                  "udal_module_create: images[{}] (HOST_NATIVE) has size {} bytes, more than the "
                  "{} a host module may have",
                  index, image.size, fc::kMaxLibraryBytes);
    }
    if (fc::Problem problem = fc::check_elf_bytes(image.data, image.size)) {
      return fail(UDAL_ERROR_INVALID_MODULE, "udal_module_create: images[{}] (HOST_NATIVE, {} "
                  "bytes) is not a loadable shared object: {}", index, image.size, problem.text);
    }
    std::string error;
    memfd = make_memfd(image.data, image.size, error);
    if (memfd < 0) {
      return fail(UDAL_ERROR_OUT_OF_HOST_MEMORY, "udal_module_create: images[{}]: {}", index, error);
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
      return fail(UDAL_ERROR_INVALID_MODULE, "udal_module_create: images[{}] (HOST_NATIVE at "
                  "{}) is not a loadable shared object: {}", index, where, problem.text);
    }
    handle = dlopen(where.c_str(), RTLD_NOW | RTLD_LOCAL);
  } else {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "udal_module_create: images[{}] has neither data nor path", index);
  }
  if (handle == nullptr) {
    std::string error = dl_error();
    if (memfd >= 0) close(memfd);
    return fail(UDAL_ERROR_INVALID_MODULE,
                "udal_module_create: images[{}] (HOST_NATIVE{}{}) is not a loadable shared "
                "object: {}",
                index, image.data ? "" : " at ", image.data ? "" : image.path, error);
  }
  auto library = std::make_shared<Library>(handle, memfd);
  dlerror();
  const auto* version =
      static_cast<const uint32_t*>(dlsym(library->handle(), UDAL_HOST_MODULE_SYMBOL));
  if (version == nullptr) {
    return fail(UDAL_ERROR_INVALID_MODULE,
                "udal_module_create: images[{}] is a shared object but not a UDAL host module: "
                "it lacks the symbol {} (UDAL_HOST_MODULE() in its source)",
                index, UDAL_HOST_MODULE_SYMBOL);
  }
  if (*version != UDAL_HOST_KERNEL_ABI_VERSION) {
    return fail(UDAL_ERROR_INVALID_MODULE,
                "udal_module_create: images[{}] was built for host kernel ABI version {}, this "
                "driver takes version {}",
                index, *version, UDAL_HOST_KERNEL_ABI_VERSION);
  }
  out = std::move(library);
  return UDAL_SUCCESS;
}

}  // namespace

udal_result_t module_create(udal_device_t device_handle, const udal_module_desc_t* desc_in,
                            udal_module_t* out_module) {
  if (out_module == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_module_create: out_module is NULL");
  }
  *out_module = nullptr;
  if (desc_in == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_module_create: desc is NULL");
  }
  if (udal_result_t r = udal::sdk::check_struct("udal_module_create", "desc", desc_in)) return r;
  return udal::sdk::guard("udal_module_create", [&]() -> udal_result_t {
    Device* device = to_device(device_handle);
    const udal_module_desc_t desc = udal::sdk::read_struct(desc_in);
    if (desc.image_count == 0 || desc.images == nullptr) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_module_create: desc has no images");
    }
    for (uint32_t i = 0; i < desc.image_count; ++i) {
      const std::string what = fmt::format("desc->images[{}]", i);
      if (udal_result_t r = udal::sdk::check_struct("udal_module_create", what.c_str(),
                                                    &desc.images[i])) {
        return r;
      }
    }
    if (desc.specialization_constant_count != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "udal_module_create: desc has {} specialization constants, which HOST_NATIVE "
                  "images do not have",
                  desc.specialization_constant_count);
    }
    std::string offered;
    for (uint32_t i = 0; i < desc.image_count; ++i) {
      const udal_module_image_t image = udal::sdk::read_struct(&desc.images[i]);
      if (image.format != UDAL_MODULE_FORMAT_HOST_NATIVE) {
        offered += fmt::format("{}{} ({})", offered.empty() ? "" : ", ",
                               format_name(image.format), static_cast<uint32_t>(image.format));
        continue;
      }
      std::shared_ptr<Library> library;
      if (udal_result_t r = load_image(image, i, library)) return r;
      auto module = std::make_unique<Module>();
      module->dispatch = device->dispatch;
      module->device = device;
      module->library = std::move(library);
      module->format = image.format;
      module->image_index = i;
      device->driver->modules.add(module.get());
      *out_module = udal::sdk::to_handle<udal_module_t>(module.release());
      return UDAL_SUCCESS;
    }
    return fail(UDAL_ERROR_UNSUPPORTED,
                "udal_module_create: device '{}' takes HOST_NATIVE images only; the module "
                "offers {}",
                device->info.name, offered);
  });
}

udal_result_t module_destroy(udal_module_t handle) {
  Module* module = to_module(handle);
  module->device->driver->modules.remove(module);
  // Kernels made from it hold the library themselves.
  std::unique_ptr<Module> owned(module);
  return UDAL_SUCCESS;
}

udal_result_t module_get_info(udal_module_t handle, udal_module_info_t* out_info) {
  if (out_info == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "udal_module_get_info: out_info is NULL");
  }
  if (udal_result_t r = udal::sdk::check_struct("udal_module_get_info", "out_info", out_info)) {
    return r;
  }
  const Module* module = to_module(handle);
  auto info = udal::sdk::make_struct<udal_module_info_t>();
  info.format = module->format;
  info.image_index = module->image_index;
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

}  // namespace udal::cpu
