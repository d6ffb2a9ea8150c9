// Modules: OPENCL_C built from source, SPIRV_KERNEL through the device's IL or translated
// to SPIR (LLVM bitcode), and the platform's own program binaries; OPENCL_C and SPIRV_KERNEL
// builds go through the program cache.
#include "module.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cache.h"
#include "formats.h"
#include "kernel.h"
#include "spirv.h"
#include "translate.h"
#include "udal/sdk/names.h"

namespace udal::opencl {

using udal::sdk::fail;

namespace {

constexpr const char* kFn = "udal_module_create";
constexpr uint64_t kMaxImageFileBytes = uint64_t{1} << 30;
constexpr size_t kMaxLogInMessage = 1500;

std::string format_name(udal_module_format_t format) {
  if (format == kProgramBinaryFormat)
    return "OPENCL_PROGRAM_BINARY";
  if (const char* name = udal::sdk::module_format_name(format, nullptr))
    return name;
  return fmt::format("{:#x}", static_cast<uint32_t>(format));
}

bool accepts(const DeviceState& state, udal_module_format_t format) {
  for (uint32_t i = 0; i < state.info.module_format_count; ++i) {
    if (state.info.module_formats[i] == format)
      return true;
  }
  return false;
}

// The image's bytes: the caller's, or a file's (a regular file of at most 1 GiB, opened
// without following a FIFO into a blocking read).
udal_result_t image_bytes(const udal_module_image_t& image, uint32_t index,
                          std::vector<unsigned char>* storage, const unsigned char** data,
                          size_t* size) {
  if (image.data != nullptr) {
    *data = static_cast<const unsigned char*>(image.data);
    *size = image.size;
    return UDAL_SUCCESS;
  }
  if (image.path == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->images[{}] has neither data nor path", kFn,
                index);
  }
  const int fd = ::open(image.path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    return fail(UDAL_ERROR_INVALID_MODULE, "{}: desc->images[{}].path '{}' cannot be opened: {}",
                kFn, index, image.path, std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) > kMaxImageFileBytes || st.st_size == 0) {
    ::close(fd);
    return fail(UDAL_ERROR_INVALID_MODULE,
                "{}: desc->images[{}].path '{}' is not a regular, non-empty file of at most {} "
                "bytes",
                kFn, index, image.path, kMaxImageFileBytes);
  }
  storage->resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < storage->size()) {
    const ssize_t n = ::read(fd, storage->data() + done, storage->size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (done != storage->size()) {
    return fail(UDAL_ERROR_INVALID_MODULE, "{}: reading desc->images[{}].path '{}' failed", kFn,
                index, image.path);
  }
  *data = storage->data();
  *size = storage->size();
  return UDAL_SUCCESS;
}

std::string shortened(std::string text) {
  if (text.size() > kMaxLogInMessage) {
    text.resize(kMaxLogInMessage);
    text += " [...]";
  }
  return text;
}

// Builds |program| for the device; INVALID_MODULE with the build log on failure.
udal_result_t build(DeviceState& state, cl_program program, const std::string& options,
                    const std::string& what) {
  const cl_int built = clBuildProgram(program, 1, &state.id, options.c_str(), nullptr, nullptr);
  if (built == CL_SUCCESS)
    return UDAL_SUCCESS;
  if (built == CL_OUT_OF_HOST_MEMORY)
    return fail_cl(kFn, "clBuildProgram", built);
  const std::string log = build_log(program, state.id);
  return fail(UDAL_ERROR_INVALID_MODULE,
              "{}: {} does not build on device '{}' (clBuildProgram: {}, options '{}'){}{}", kFn,
              what, state.info.name, cl_error_name(built), options,
              log.empty() ? "" : "; build log:\n", shortened(log));
}

// The platform's binary of a built program (for the cache); empty when it has none.
std::vector<unsigned char> program_binary(cl_program program) {
  size_t size = 0;
  if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof(size), &size, nullptr) !=
          CL_SUCCESS ||
      size == 0) {
    return {};
  }
  std::vector<unsigned char> binary(size);
  unsigned char* pointer = binary.data();
  if (clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof(pointer), &pointer, nullptr) !=
      CL_SUCCESS) {
    return {};
  }
  return binary;
}

// A program from a platform binary; nullptr-holding with |*error| / |*status| on failure.
ClProgram program_from_binary(DeviceState& state, const unsigned char* data, size_t size,
                              cl_int* error, cl_int* status) {
  *status = CL_SUCCESS;
  return ClProgram(
      clCreateProgramWithBinary(state.context.get(), 1, &state.id, &size, &data, status, error));
}

struct Built {
  ClProgram program;
  std::shared_ptr<const ProgramReflection> reflection;
};

// A cached build of |key|, built with |options|; false when there is none that loads.
bool load_cached(DeviceState& state, const std::string& key, const std::string& options,
                 Built* out) {
  if (state.cache_dir.empty() || key.empty())
    return false;
  CacheEntry entry;
  std::string why;
  if (!cache_load(state.cache_dir, key, &entry, &why)) {
    state.log(UDAL_LOG_LEVEL_DEBUG, fmt::format("opencl driver: program cache miss: {}", why));
    return false;
  }
  cl_int error = CL_SUCCESS;
  cl_int status = CL_SUCCESS;
  ClProgram program =
      program_from_binary(state, entry.binary.data(), entry.binary.size(), &error, &status);
  if (error != CL_SUCCESS || status != CL_SUCCESS ||
      clBuildProgram(program.get(), 1, &state.id, options.c_str(), nullptr, nullptr) !=
          CL_SUCCESS) {
    state.log(UDAL_LOG_LEVEL_INFO,
              fmt::format("opencl driver: the cached program {} does not load; rebuilding", key));
    return false;
  }
  state.log(UDAL_LOG_LEVEL_DEBUG, fmt::format("opencl driver: program cache hit: {}", key));
  out->program = std::move(program);
  out->reflection = std::make_shared<ProgramReflection>(std::move(entry.reflection));
  return true;
}

void store_cached(DeviceState& state, const std::string& key, cl_program program,
                  const ProgramReflection& reflection) {
  if (state.cache_dir.empty() || key.empty())
    return;
  std::string why;
  if (!cache_store(state.cache_dir, key, program_binary(program), reflection, &why)) {
    state.log(UDAL_LOG_LEVEL_INFO,
              fmt::format("opencl driver: the program cache keeps nothing: {}", why));
  }
}

udal_result_t build_opencl_c(DeviceState& state, const unsigned char* data, size_t size,
                             const std::string& user_options, Built* out) {
  // Argument information is what udal_kernel_get_argument_info and the launch checks read.
  const std::string options =
      user_options + (user_options.empty() ? "" : " ") + "-cl-kernel-arg-info";
  const std::string key =
      cache_key(state.caps.identity, UDAL_MODULE_FORMAT_OPENCL_C, options, data, size, "");
  if (load_cached(state, key, options, out))
    return UDAL_SUCCESS;
  const char* text = reinterpret_cast<const char*>(data);
  cl_int error = CL_SUCCESS;
  ClProgram program(clCreateProgramWithSource(state.context.get(), 1, &text, &size, &error));
  if (error != CL_SUCCESS)
    return fail_cl(kFn, "clCreateProgramWithSource", error);
  if (udal_result_t r = build(state, program.get(), options, "the OpenCL C source"))
    return r;
  auto reflection =
      std::make_shared<ProgramReflection>(reflect_program(program.get(), state.caps.address_bits));
  store_cached(state, key, program.get(), *reflection);
  out->program = std::move(program);
  out->reflection = std::move(reflection);
  return UDAL_SUCCESS;
}

udal_result_t build_spirv(DeviceState& state, const unsigned char* data, size_t size,
                          const std::string& user_options, const udal_module_desc_t& desc,
                          Built* out) {
  SpirvModule module;
  if (std::string why = parse_spirv(data, size, state.caps.address_bits, &module); !why.empty()) {
    return fail(UDAL_ERROR_INVALID_MODULE,
                "{}: the SPIRV_KERNEL image ({} bytes) is not a module "
                "the driver can load: {}",
                kFn, size, why);
  }
  std::vector<SpecValue> specs;
  std::string specialization;
  for (uint32_t i = 0; i < desc.specialization_constant_count; ++i) {
    const udal_specialization_constant_t& given = desc.specialization_constants[i];
    const SpirvSpecConstant* declared = nullptr;
    for (const SpirvSpecConstant& c : module.spec_constants) {
      if (c.id == given.id)
        declared = &c;
    }
    if (declared == nullptr) {
      std::string ids;
      for (const SpirvSpecConstant& c : module.spec_constants) {
        ids += fmt::format("{}{}", ids.empty() ? "" : ", ", c.id);
      }
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->specialization_constants[{}] has id {}, which the SPIR-V image does "
                  "not declare (its SpecIds: {})",
                  kFn, i, given.id, ids.empty() ? std::string("none") : ids);
    }
    if (given.size != declared->size) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->specialization_constants[{}] (id {}) has size {}, but the image "
                  "declares a {}-byte constant",
                  kFn, i, given.id, given.size, declared->size);
    }
    SpecValue value;
    value.constant = *declared;
    std::memcpy(&value.bits, given.value, given.size);
    specs.push_back(value);
    specialization += fmt::format("{}:{}:{:x};", given.id, given.size, value.bits);
  }

  const DeviceCaps& caps = state.caps;
  const bool il = caps.spirv == SpirvPath::kIl;
  const std::string options =
      il ? user_options
         : "-x spir -spir-std=1.2" + (user_options.empty() ? "" : " " + user_options);
  const std::string key =
      cache_key(caps.identity, UDAL_MODULE_FORMAT_SPIRV_KERNEL, options, data, size, specialization);
  auto reflection = std::make_shared<ProgramReflection>(std::move(module.reflection));
  if (load_cached(state, key, options, out)) {
    out->reflection = std::move(reflection); // the SPIR-V's own is exact
    return UDAL_SUCCESS;
  }
  cl_int error = CL_SUCCESS;
  ClProgram program;
  if (il) {
    if (!specs.empty() && !caps.set_spec_constants) {
      return fail(UDAL_ERROR_UNSUPPORTED,
                  "{}: device '{}' (OpenCL {}.{}) takes SPIR-V but cannot set specialization "
                  "constants (clSetProgramSpecializationConstant is OpenCL 2.2)",
                  kFn, state.info.name, caps.version / 10, caps.version % 10);
    }
    program = ClProgram(clCreateProgramWithIL(state.context.get(), data, size, &error));
    if (error != CL_SUCCESS) {
      return fail(UDAL_ERROR_INVALID_MODULE, "{}: clCreateProgramWithIL refused the image: {}", kFn,
                  cl_error_name(error));
    }
    for (const SpecValue& s : specs) {
      error = clSetProgramSpecializationConstant(program.get(), s.constant.id, s.constant.size,
                                                 &s.bits);
      if (error != CL_SUCCESS) {
        return fail(
            UDAL_ERROR_INVALID_ARGUMENT,
            "{}: specialization constant {} was refused: clSetProgramSpecializationConstant "
            "failed with {}",
            kFn, s.constant.id, cl_error_name(error));
      }
    }
  } else {
    std::vector<unsigned char> bitcode;
    const std::string why =
        caps.spirv == SpirvPath::kTool
            ? translate_with_tool(caps.llvm_spirv_tool, data, size, specs, &bitcode)
            : translate_with_library(data, size, specs, &bitcode);
    if (!why.empty()) {
      return fail(UDAL_ERROR_INVALID_MODULE,
                  "{}: the SPIR-V image does not translate to SPIR (LLVM bitcode): {}", kFn,
                  shortened(why));
    }
    cl_int status = CL_SUCCESS;
    program = program_from_binary(state, bitcode.data(), bitcode.size(), &error, &status);
    if (error != CL_SUCCESS || status != CL_SUCCESS) {
      return fail(UDAL_ERROR_INVALID_MODULE,
                  "{}: device '{}' refused the SPIR bitcode translated from the SPIR-V image "
                  "(clCreateProgramWithBinary: {}, binary status {})",
                  kFn, state.info.name, cl_error_name(error), cl_error_name(status));
    }
  }
  if (udal_result_t r = build(state, program.get(), options, "the SPIR-V image"))
    return r;
  store_cached(state, key, program.get(), *reflection);
  out->program = std::move(program);
  out->reflection = std::move(reflection);
  return UDAL_SUCCESS;
}

// PoCL reads its binaries without bounds checks (reads past a short buffer, asserts on a
// damaged one): refuse what cannot be one before PoCL sees it.
constexpr size_t kMinPoclBinaryBytes = 256;
bool is_pocl(const DeviceState& state) {
  return state.caps.identity.platform_name == "Portable Computing Language";
}

udal_result_t build_binary(DeviceState& state, const unsigned char* data, size_t size,
                           const std::string& options, Built* out) {
  if (is_pocl(state) && (size < kMinPoclBinaryBytes || std::memcmp(data, "poclbin", 8) != 0)) {
    return fail(UDAL_ERROR_INVALID_MODULE,
                "{}: the {} bytes are not a PoCL program binary (it starts with \"poclbin\" and "
                "has at least {} bytes)",
                kFn, size, kMinPoclBinaryBytes);
  }
  cl_int error = CL_SUCCESS;
  cl_int status = CL_SUCCESS;
  ClProgram program = program_from_binary(state, data, size, &error, &status);
  if (error != CL_SUCCESS || status != CL_SUCCESS) {
    if (error == CL_OUT_OF_HOST_MEMORY)
      return fail_cl(kFn, "clCreateProgramWithBinary", error);
    return fail(UDAL_ERROR_INVALID_MODULE,
                "{}: device '{}' refused the program binary ({} bytes): clCreateProgramWithBinary "
                "returned {} with binary status {}",
                kFn, state.info.name, size, cl_error_name(error), cl_error_name(status));
  }
  if (udal_result_t r = build(state, program.get(), options, "the program binary"))
    return r;
  out->reflection =
      std::make_shared<ProgramReflection>(reflect_program(program.get(), state.caps.address_bits));
  out->program = std::move(program);
  return UDAL_SUCCESS;
}

} // namespace

udal_result_t module_create(udal_device_t device_handle, const udal_module_desc_t* desc_in,
                            udal_module_t* out_module) {
  if (out_module == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_module is NULL", kFn);
  }
  *out_module = nullptr;
  if (desc_in == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc is NULL", kFn);
  if (udal_result_t r = udal::sdk::check_struct(kFn, "desc", desc_in))
    return r;
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    Device* device = to_device(device_handle);
    DeviceState& state = *device->state;
    const udal_module_desc_t desc = udal::sdk::read_struct(desc_in);
    if (desc.image_count == 0 || desc.images == nullptr) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc has no images (image_count {})", kFn,
                  desc.image_count);
    }
    if (desc.specialization_constant_count > 0 && desc.specialization_constants == nullptr) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: desc->specialization_constants is NULL but the count is {}", kFn,
                  desc.specialization_constant_count);
    }
    uint32_t chosen = desc.image_count;
    std::string offered;
    for (uint32_t i = 0; i < desc.image_count; ++i) {
      const std::string what = fmt::format("desc->images[{}]", i);
      if (udal_result_t r = udal::sdk::check_struct(kFn, what.c_str(), &desc.images[i]))
        return r;
      offered += (offered.empty() ? "" : ", ") + format_name(desc.images[i].format);
      if (chosen == desc.image_count && accepts(state, desc.images[i].format))
        chosen = i;
    }
    if (chosen == desc.image_count) {
      std::string taken;
      for (uint32_t i = 0; i < state.info.module_format_count; ++i) {
        taken += (taken.empty() ? "" : ", ") + format_name(state.info.module_formats[i]);
      }
      return fail(UDAL_ERROR_UNSUPPORTED,
                  "{}: device '{}' takes none of the {} image(s) (formats offered: {}; the "
                  "device takes {})",
                  kFn, state.info.name, desc.image_count, offered, taken);
    }
    const udal_module_image_t image = udal::sdk::read_struct(&desc.images[chosen]);
    if (image.format != UDAL_MODULE_FORMAT_SPIRV_KERNEL && desc.specialization_constant_count > 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: {} specialization constant(s) given, but the image taken ({}) has none", kFn,
                  desc.specialization_constant_count, format_name(image.format));
    }
    std::vector<unsigned char> storage;
    const unsigned char* data = nullptr;
    size_t size = 0;
    if (udal_result_t r = image_bytes(image, chosen, &storage, &data, &size))
      return r;
    if (size == 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->images[{}] is empty", kFn, chosen);
    }
    const std::string options = desc.build_options != nullptr ? desc.build_options : "";
    Built built;
    udal_result_t r = UDAL_SUCCESS;
    if (image.format == UDAL_MODULE_FORMAT_OPENCL_C) {
      r = build_opencl_c(state, data, size, options, &built);
    } else if (image.format == UDAL_MODULE_FORMAT_SPIRV_KERNEL) {
      r = build_spirv(state, data, size, options, desc, &built);
    } else {
      r = build_binary(state, data, size, options, &built);
    }
    if (r != UDAL_SUCCESS)
      return r;

    auto module = std::make_unique<Module>();
    module->dispatch = device->dispatch;
    module->device = device;
    module->program = std::move(built.program);
    module->format = image.format;
    module->image_index = chosen;
    module->reflection = std::move(built.reflection);
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
  destroy_module(to_module(handle));
  return UDAL_SUCCESS;
}

udal_result_t module_get_info(udal_module_t handle, udal_module_info_t* out_info) {
  const Module* module = to_module(handle);
  auto info = udal::sdk::make_struct<udal_module_info_t>();
  info.format = module->format;
  info.image_index = module->image_index;
  return udal::sdk::answer_struct("udal_module_get_info", "out_info", out_info, info);
}

} // namespace udal::opencl
