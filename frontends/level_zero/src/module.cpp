// Modules (SPIR-V, or libze_udal's native binary: the same SPIR-V behind a header), build
// logs and kernels. The SPIR-V is read here too (spirv.cpp): Level Zero passes arguments by
// index and size and specialization constants by id, so the parameter kinds and constant
// sizes UDAL needs come from the module itself.
#include <algorithm>
#include <cstring>
#include <sstream>

#include "ze_udal.h"

namespace udal::ze {

namespace {

// libze_udal's native binary: this header, a uint32 byte count and the build flags the
// module was made with, then the SPIR-V words.
constexpr char kNativeMagic[8] = {'U', 'D', 'A', 'L', 'Z', 'E', '0', '2'};

// Level Zero build flags as a UDAL device takes them: OpenCL's -cl-* options pass, the
// Level Zero compiler's -ze-* ones are translated where OpenCL has one ("-ze-opt-disable",
// "-ze-opt-level=0" ⇒ "-cl-opt-disable") and dropped otherwise (they tune Intel's compiler).
std::string translate_flags(const std::string& flags) {
  std::string out;
  std::string word;
  std::stringstream in(flags);
  while (in >> word) {
    std::string use;
    if (word == "-ze-opt-disable" || word == "-ze-opt-level=0" || word == "-ze-opt-level=O0") {
      use = "-cl-opt-disable";
    } else if (word.rfind("-ze-", 0) == 0) {
      continue;
    } else {
      use = word;
    }
    if (out.find(use) != std::string::npos) continue;
    if (!out.empty()) out += " ";
    out += use;
  }
  return out;
}

BuildLog* make_log(std::string text) {
  auto log = std::make_unique<BuildLog>();
  log->text = std::move(text);
  log->magic = BuildLog::kMagic;
  return log.release();
}

ze_result_t ZE_APICALL module_create(ze_context_handle_t hContext, ze_device_handle_t hDevice,
                                     const ze_module_desc_t* desc, ze_module_handle_t* phModule,
                                     ze_module_build_log_handle_t* phBuildLog) {
  static constexpr const char* fn = "zeModuleCreate";
  ZE_OBJECT(Context, context, hContext, fn);
  ZE_OBJECT(Device, device, hDevice, fn);
  ZE_NOT_NULL(desc, fn);
  ZE_NOT_NULL(phModule, fn);
  *phModule = nullptr;
  if (phBuildLog != nullptr) *phBuildLog = nullptr;
  ZE_NOT_NULL(desc->pInputModule, fn);
  if (desc->format != ZE_MODULE_FORMAT_IL_SPIRV && desc->format != ZE_MODULE_FORMAT_NATIVE) {
    return fail(ZE_RESULT_ERROR_INVALID_ENUMERATION, "{}: desc->format {} is not a module format",
                fn, static_cast<int>(desc->format));
  }
  if (desc->inputSize == 0) return fail(ZE_RESULT_ERROR_INVALID_SIZE, "{}: desc->inputSize is 0", fn);
  return guard(fn, [&]() -> ze_result_t {
    std::string log;
    auto finish = [&](ze_result_t code) {
      if (phBuildLog != nullptr) *phBuildLog = to_handle<ze_module_build_log_handle_t>(make_log(log));
      return code;
    };
    const uint8_t* bytes = desc->pInputModule;
    size_t size = desc->inputSize;
    std::string flags = desc->pBuildFlags != nullptr ? desc->pBuildFlags : "";
    if (desc->format == ZE_MODULE_FORMAT_NATIVE) {
      uint32_t flag_bytes = 0;
      if (size < sizeof(kNativeMagic) + 4 ||
          std::memcmp(bytes, kNativeMagic, sizeof(kNativeMagic)) != 0 ||
          (std::memcpy(&flag_bytes, bytes + sizeof(kNativeMagic), 4),
           flag_bytes > size - sizeof(kNativeMagic) - 4)) {
        log = "the native binary was not made by this libze_udal (zeModuleGetNativeBinary)";
        return finish(fail(ZE_RESULT_ERROR_INVALID_NATIVE_BINARY, "{}: {}", fn, log));
      }
      flags.assign(reinterpret_cast<const char*>(bytes) + sizeof(kNativeMagic) + 4, flag_bytes);
      bytes += sizeof(kNativeMagic) + 4 + flag_bytes;
      size -= sizeof(kNativeMagic) + 4 + flag_bytes;
    }
    if (size % 4 != 0) {
      log = fmt::format("the SPIR-V module has {} bytes, not a whole number of words", size);
      return finish(fail(desc->format == ZE_MODULE_FORMAT_NATIVE ? ZE_RESULT_ERROR_INVALID_NATIVE_BINARY
                                                               : ZE_RESULT_ERROR_INVALID_ARGUMENT,
                         "{}: {}", fn, log));
    }
    auto module = std::make_unique<Module>();
    module->spirv.resize(size / 4);
    std::memcpy(module->spirv.data(), bytes, size);
    if (std::string why = spirv::parse(module->spirv.data(), module->spirv.size(), &module->info);
        !why.empty()) {
      log = "the SPIR-V module cannot be read: " + why;
      return finish(fail(desc->format == ZE_MODULE_FORMAT_NATIVE ? ZE_RESULT_ERROR_INVALID_NATIVE_BINARY
                                                               : ZE_RESULT_ERROR_INVALID_ARGUMENT,
                         "{}: {}", fn, log));
    }
    module->flags = flags;
    module->context = context;
    module->device = device;
    for (const auto& k : module->info.kernels) module->kernel_names.push_back(k.name.c_str());
    if (module->info.kernels.empty()) {
      // A module without kernels is valid Level Zero; UDAL has nothing to build.
      module->magic = Module::kMagic;
      *phModule = to_handle<ze_module_handle_t>(module.release());
      return finish(ZE_RESULT_SUCCESS);
    }
    const std::string options = translate_flags(flags);
    // What UDAL builds: local-memory parameters reshaped to its one trailing local pointer.
    std::vector<uint32_t> built = module->spirv;
    spirv::rewrite_cpp_spec_constants(&built, &module->info);
    if (std::string why = spirv::rewrite_locals(&built, &module->info); !why.empty()) {
      log = "the SPIR-V module cannot be adapted to UDAL's local memory: " + why;
      return finish(fail(ZE_RESULT_ERROR_MODULE_BUILD_FAILURE, "{}: {}", fn, log));
    }
    std::vector<udal_specialization_constant_t> constants;
    if (desc->pConstants != nullptr && desc->pConstants->numConstants > 0) {
      const ze_module_constants_t& c = *desc->pConstants;
      if (c.pConstantIds == nullptr || c.pConstantValues == nullptr) {
        return fail(ZE_RESULT_ERROR_INVALID_NULL_POINTER,
                    "{}: pConstants has {} constants but NULL ids or values", fn, c.numConstants);
      }
      for (uint32_t i = 0; i < c.numConstants; ++i) {
        const spirv::SpecConstant* declared = nullptr;
        for (const auto& s : module->info.spec_constants) {
          if (s.id == c.pConstantIds[i]) declared = &s;
        }
        if (declared == nullptr) {
          log = fmt::format("specialization constant id {} is not declared by the module",
                            c.pConstantIds[i]);
          return finish(fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{}: {}", fn, log));
        }
        if (c.pConstantValues[i] == nullptr) {
          return fail(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "{}: pConstantValues[{}] is NULL", fn, i);
        }
        module->constant_values.emplace_back(static_cast<const uint8_t*>(c.pConstantValues[i]),
                                             static_cast<const uint8_t*>(c.pConstantValues[i]) + declared->size);
        constants.push_back({declared->id, declared->size, nullptr});
      }
      for (size_t i = 0; i < constants.size(); ++i) constants[i].value = module->constant_values[i].data();
    }
    module->options = options;
    module->constants = constants;
    udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
    image.data = built.data();
    image.size = built.size() * 4;
    image.format = UDAL_MODULE_FORMAT_SPIRV_KERNEL;
    udal_module_desc_t udesc = UDAL_MODULE_DESC_INIT;
    udesc.images = &image;
    udesc.image_count = 1;
    udesc.build_options = options.empty() ? nullptr : options.c_str();
    udesc.specialization_constants = constants.empty() ? nullptr : constants.data();
    udesc.specialization_constant_count = static_cast<uint32_t>(constants.size());
    udal_result_t r = udal_module_create(device->udal, &udesc, &module->udal);
    if (r != UDAL_SUCCESS) {
      log = udal_last_error_message();
      ze_result_t code = from_udal(r, fn);
      if (r == UDAL_ERROR_INVALID_MODULE || r == UDAL_ERROR_UNSUPPORTED) {
        code = ZE_RESULT_ERROR_MODULE_BUILD_FAILURE;
      }
      return finish(code);
    }
    module->magic = Module::kMagic;
    *phModule = to_handle<ze_module_handle_t>(module.release());
    return finish(ZE_RESULT_SUCCESS);
  });
}

ze_result_t ZE_APICALL module_destroy(ze_module_handle_t hModule) {
  static constexpr const char* fn = "zeModuleDestroy";
  ZE_OBJECT(Module, module, hModule, fn);
  module->magic = 0;
  std::unique_ptr<Module> owned(module);
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL module_dynamic_link(uint32_t numModules, ze_module_handle_t* phModules,
                                           ze_module_build_log_handle_t* phLinkLog) {
  static constexpr const char* fn = "zeModuleDynamicLink";
  ZE_NOT_NULL(phModules, fn);
  if (phLinkLog != nullptr) *phLinkLog = nullptr;
  std::string log;
  for (uint32_t i = 0; i < numModules; ++i) {
    Module* module = from_handle<Module>(phModules[i]);
    if (module == nullptr) {
      return fail(ZE_RESULT_ERROR_INVALID_NULL_HANDLE, "{}: phModules[{}] is not a module", fn, i);
    }
    if (module->info.imports) {
      log += fmt::format("module {} imports symbols; libze_udal does not link modules\n", i);
    }
  }
  return guard(fn, [&] {
    if (phLinkLog != nullptr) *phLinkLog = to_handle<ze_module_build_log_handle_t>(make_log(log));
    if (!log.empty()) return fail(ZE_RESULT_ERROR_MODULE_LINK_FAILURE, "{}: {}", fn, log);
    return ZE_RESULT_SUCCESS;  // nothing to resolve
  });
}

ze_result_t ZE_APICALL build_log_destroy(ze_module_build_log_handle_t hLog) {
  static constexpr const char* fn = "zeModuleBuildLogDestroy";
  ZE_OBJECT(BuildLog, log, hLog, fn);
  log->magic = 0;
  std::unique_ptr<BuildLog> owned(log);
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL build_log_get_string(ze_module_build_log_handle_t hLog, size_t* pSize,
                                            char* pBuildLog) {
  static constexpr const char* fn = "zeModuleBuildLogGetString";
  ZE_OBJECT(BuildLog, log, hLog, fn);
  ZE_NOT_NULL(pSize, fn);
  const size_t needed = log->text.size() + 1;
  if (*pSize == 0 || pBuildLog == nullptr) {
    *pSize = needed;
    return ZE_RESULT_SUCCESS;
  }
  const size_t n = std::min(*pSize, needed);
  std::memcpy(pBuildLog, log->text.c_str(), n);
  pBuildLog[n - 1] = '\0';
  *pSize = n;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL module_get_native_binary(ze_module_handle_t hModule, size_t* pSize,
                                                uint8_t* pBinary) {
  static constexpr const char* fn = "zeModuleGetNativeBinary";
  ZE_OBJECT(Module, module, hModule, fn);
  ZE_NOT_NULL(pSize, fn);
  const size_t needed = sizeof(kNativeMagic) + 4 + module->flags.size() + module->spirv.size() * 4;
  if (pBinary == nullptr) {
    *pSize = needed;
    return ZE_RESULT_SUCCESS;
  }
  if (*pSize < needed) {
    return fail(ZE_RESULT_ERROR_INVALID_SIZE, "{}: *pSize {} is less than the binary's {} bytes",
                fn, *pSize, needed);
  }
  const auto flag_bytes = static_cast<uint32_t>(module->flags.size());
  uint8_t* at = pBinary;
  std::memcpy(at, kNativeMagic, sizeof(kNativeMagic));
  at += sizeof(kNativeMagic);
  std::memcpy(at, &flag_bytes, 4);
  at += 4;
  std::memcpy(at, module->flags.data(), flag_bytes);
  at += flag_bytes;
  std::memcpy(at, module->spirv.data(), module->spirv.size() * 4);
  *pSize = needed;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL module_get_global_pointer(ze_module_handle_t hModule, const char* name,
                                                 size_t* pSize, void** pptr) {
  static constexpr const char* fn = "zeModuleGetGlobalPointer";
  ZE_OBJECT(Module, module, hModule, fn);
  ZE_NOT_NULL(name, fn);
  (void)module;
  if (pSize != nullptr) *pSize = 0;
  if (pptr != nullptr) *pptr = nullptr;
  return fail(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
              "{}: module global variables ('{}') are not reachable through UDAL", fn, name);
}

ze_result_t ZE_APICALL module_get_kernel_names(ze_module_handle_t hModule, uint32_t* pCount,
                                               const char** pNames) {
  static constexpr const char* fn = "zeModuleGetKernelNames";
  ZE_OBJECT(Module, module, hModule, fn);
  ZE_NOT_NULL(pCount, fn);
  const auto total = static_cast<uint32_t>(module->kernel_names.size());
  if (*pCount == 0 || pNames == nullptr) {
    *pCount = total;
    return ZE_RESULT_SUCCESS;
  }
  const uint32_t n = std::min(*pCount, total);
  for (uint32_t i = 0; i < n; ++i) pNames[i] = module->kernel_names[i];
  *pCount = n;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL module_get_properties(ze_module_handle_t hModule,
                                             ze_module_properties_t* p) {
  static constexpr const char* fn = "zeModuleGetProperties";
  ZE_OBJECT(Module, module, hModule, fn);
  ZE_NOT_NULL(p, fn);
  p->flags = module->info.imports ? ZE_MODULE_PROPERTY_FLAG_IMPORTS : 0;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL module_get_function_pointer(ze_module_handle_t hModule, const char* name,
                                                   void** pfn) {
  static constexpr const char* fn = "zeModuleGetFunctionPointer";
  ZE_OBJECT(Module, module, hModule, fn);
  ZE_NOT_NULL(name, fn);
  ZE_NOT_NULL(pfn, fn);
  (void)module;
  *pfn = nullptr;
  return fail(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
              "{}: function pointers ('{}') are not reachable through UDAL", fn, name);
}

// ----- kernels --------------------------------------------------------------------------

ze_result_t ZE_APICALL kernel_create(ze_module_handle_t hModule, const ze_kernel_desc_t* desc,
                                     ze_kernel_handle_t* phKernel) {
  static constexpr const char* fn = "zeKernelCreate";
  ZE_OBJECT(Module, module, hModule, fn);
  ZE_NOT_NULL(desc, fn);
  ZE_NOT_NULL(phKernel, fn);
  ZE_NOT_NULL(desc->pKernelName, fn);
  *phKernel = nullptr;
  const spirv::Kernel* sig = spirv::find_kernel(module->info, desc->pKernelName);
  if (sig == nullptr) {
    return fail(ZE_RESULT_ERROR_INVALID_KERNEL_NAME, "{}: the module has no kernel '{}'", fn,
                desc->pKernelName);
  }
  return guard(fn, [&] {
    auto kernel = std::make_unique<Kernel>();
    kernel->module = module;
    kernel->device = module->device;
    kernel->name = desc->pKernelName;
    kernel->sig = *sig;
    udal_result_t r = udal_kernel_create(module->udal, desc->pKernelName, &kernel->udal);
    if (r != UDAL_SUCCESS) {
      ze_result_t code = from_udal(r, fn);
      return r == UDAL_ERROR_INVALID_MODULE ? ZE_RESULT_ERROR_UNSUPPORTED_FEATURE : code;
    }
    kernel->udal_info = UDAL_KERNEL_INFO_INIT;
    udal_kernel_get_info(kernel->udal, &kernel->udal_info);
    kernel->args.resize(sig->args.size());
    if (sig->required_group_size[0] != 0) {
      for (int i = 0; i < 3; ++i) kernel->group_size[i] = sig->required_group_size[i];
    }
    kernel->magic = Kernel::kMagic;
    *phKernel = to_handle<ze_kernel_handle_t>(kernel.release());
    return ZE_RESULT_SUCCESS;
  });
}

ze_result_t ZE_APICALL kernel_destroy(ze_kernel_handle_t hKernel) {
  static constexpr const char* fn = "zeKernelDestroy";
  ZE_OBJECT(Kernel, kernel, hKernel, fn);
  kernel->magic = 0;
  std::unique_ptr<Kernel> owned(kernel);
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL kernel_set_cache_config(ze_kernel_handle_t hKernel,
                                               ze_cache_config_flags_t flags) {
  static constexpr const char* fn = "zeKernelSetCacheConfig";
  ZE_OBJECT(Kernel, kernel, hKernel, fn);
  (void)kernel;
  const ze_cache_config_flags_t known =
      ZE_CACHE_CONFIG_FLAG_LARGE_SLM | ZE_CACHE_CONFIG_FLAG_LARGE_DATA;
  if (flags & ~known) {
    return fail(ZE_RESULT_ERROR_INVALID_ENUMERATION, "{}: flags {:#x} has unknown bits", fn, flags);
  }
  return ZE_RESULT_SUCCESS;  // a hint
}

ze_result_t check_group_size(const Kernel* kernel, uint32_t x, uint32_t y, uint32_t z,
                             const char* fn) {
  const udal_device_info_t& info = kernel->device->info;
  const uint32_t size[3] = {x, y, z};
  for (int i = 0; i < 3; ++i) {
    if (size[i] == 0 || size[i] > info.max_group_size[i]) {
      return fail(ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION,
                  "{}: group size {}x{}x{}: axis {} is 0 or above the device's {}", fn, x, y, z, i,
                  info.max_group_size[i]);
    }
  }
  const uint64_t total = uint64_t{x} * y * z;
  const uint32_t limit = kernel->udal_info.max_group_invocations != 0
                             ? kernel->udal_info.max_group_invocations
                             : info.max_group_invocations;
  if (total > limit) {
    return fail(ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION,
                "{}: group size {}x{}x{} has {} work-items, above the kernel's limit {}", fn, x, y,
                z, total, limit);
  }
  const uint32_t* required = kernel->sig.required_group_size;
  if (required[0] != 0 && (x != required[0] || y != required[1] || z != required[2])) {
    return fail(ZE_RESULT_ERROR_INVALID_GROUP_SIZE_DIMENSION,
                "{}: kernel '{}' requires groups of {}x{}x{}, not {}x{}x{}", fn, kernel->name,
                required[0], required[1], required[2], x, y, z);
  }
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL kernel_set_group_size(ze_kernel_handle_t hKernel, uint32_t x, uint32_t y,
                                             uint32_t z) {
  static constexpr const char* fn = "zeKernelSetGroupSize";
  ZE_OBJECT(Kernel, kernel, hKernel, fn);
  if (ze_result_t r = check_group_size(kernel, x, y, z, fn); r != ZE_RESULT_SUCCESS) return r;
  kernel->group_size[0] = x;
  kernel->group_size[1] = y;
  kernel->group_size[2] = z;
  kernel->group_size_set = true;
  return ZE_RESULT_SUCCESS;
}

uint32_t largest_divisor(uint32_t n, uint32_t limit) {
  if (limit == 0) return 1;
  for (uint32_t d = std::min(n, limit); d > 1; --d) {
    if (n % d == 0) return d;
  }
  return 1;
}

ze_result_t ZE_APICALL kernel_suggest_group_size(ze_kernel_handle_t hKernel, uint32_t gx,
                                                 uint32_t gy, uint32_t gz, uint32_t* x,
                                                 uint32_t* y, uint32_t* z) {
  static constexpr const char* fn = "zeKernelSuggestGroupSize";
  ZE_OBJECT(Kernel, kernel, hKernel, fn);
  ZE_NOT_NULL(x, fn);
  ZE_NOT_NULL(y, fn);
  ZE_NOT_NULL(z, fn);
  if (gx == 0 || gy == 0 || gz == 0) {
    return fail(ZE_RESULT_ERROR_INVALID_GLOBAL_WIDTH_DIMENSION,
                "{}: global size {}x{}x{} has a zero axis", fn, gx, gy, gz);
  }
  const uint32_t* required = kernel->sig.required_group_size;
  if (required[0] != 0) {
    *x = required[0];
    *y = required[1];
    *z = required[2];
    return ZE_RESULT_SUCCESS;
  }
  const udal_device_info_t& info = kernel->device->info;
  uint32_t total = kernel->udal_info.max_group_invocations != 0
                       ? kernel->udal_info.max_group_invocations
                       : info.max_group_invocations;
  // Modest groups: PoCL-like host devices run best with few work-items per group.
  total = std::min<uint32_t>(total, 256);
  *x = largest_divisor(gx, std::min(info.max_group_size[0], total));
  total /= *x;
  *y = largest_divisor(gy, std::min(info.max_group_size[1], total));
  total /= *y;
  *z = largest_divisor(gz, std::min(info.max_group_size[2], total));
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL kernel_suggest_max_cooperative_group_count(ze_kernel_handle_t hKernel,
                                                                  uint32_t* total) {
  static constexpr const char* fn = "zeKernelSuggestMaxCooperativeGroupCount";
  ZE_OBJECT(Kernel, kernel, hKernel, fn);
  ZE_NOT_NULL(total, fn);
  *total = std::max<uint32_t>(kernel->device->info.compute_unit_count, 1);
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL kernel_set_argument_value(ze_kernel_handle_t hKernel, uint32_t index,
                                                 size_t size, const void* value) {
  static constexpr const char* fn = "zeKernelSetArgumentValue";
  ZE_OBJECT(Kernel, kernel, hKernel, fn);
  if (index >= kernel->sig.args.size()) {
    return fail(ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_INDEX,
                "{}: kernel '{}' has {} arguments; index {} is past them", fn, kernel->name,
                kernel->sig.args.size(), index);
  }
  const spirv::Arg& want = kernel->sig.args[index];
  return guard(fn, [&] {
    ArgValue arg;
    switch (want.kind) {
      case spirv::ArgKind::kGlobal: {
        if (size != want.size) {
          return fail(ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE,
                      "{}: argument {} of kernel '{}' is a pointer ({} bytes), not {} bytes", fn,
                      index, kernel->name, want.size, size);
        }
        const void* pointer = nullptr;
        if (value != nullptr) std::memcpy(&pointer, value, sizeof(pointer));
        if (pointer != nullptr) {
          Resolved r = resolve(pointer);
          if (r.allocation == nullptr) {
            return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT,
                        "{}: argument {} of kernel '{}' is {}, which is in no allocation of "
                        "libze_udal (zeMemAlloc*)",
                        fn, index, kernel->name, pointer);
          }
          arg.buffer = r.allocation->buffer;
          arg.offset = r.offset;
        }
        break;
      }
      case spirv::ArgKind::kLocal:
        if (value != nullptr) {
          return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT,
                      "{}: argument {} of kernel '{}' is local memory: pArgValue must be NULL", fn,
                      index, kernel->name);
        }
        if (size == 0) {
          return fail(ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE,
                      "{}: argument {} of kernel '{}' is local memory of 0 bytes", fn, index,
                      kernel->name);
        }
        arg.local_bytes = size;
        break;
      case spirv::ArgKind::kValue:
        if (size != want.size) {
          return fail(ZE_RESULT_ERROR_INVALID_KERNEL_ARGUMENT_SIZE,
                      "{}: argument {} of kernel '{}' has {} bytes, not {}", fn, index,
                      kernel->name, want.size, size);
        }
        if (value == nullptr) {
          return fail(ZE_RESULT_ERROR_INVALID_NULL_POINTER, "{}: pArgValue is NULL for argument {}",
                      fn, index);
        }
        arg.bytes.assign(static_cast<const uint8_t*>(value), static_cast<const uint8_t*>(value) + size);
        break;
      case spirv::ArgKind::kOther:
        return fail(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
                    "{}: argument {} of kernel '{}' is {}, which libze_udal does not pass", fn,
                    index, kernel->name, want.what);
    }
    arg.set = true;
    kernel->args[index] = std::move(arg);
    return ZE_RESULT_SUCCESS;
  });
}

ze_result_t ZE_APICALL kernel_set_indirect_access(ze_kernel_handle_t hKernel,
                                                  ze_kernel_indirect_access_flags_t flags) {
  static constexpr const char* fn = "zeKernelSetIndirectAccess";
  ZE_OBJECT(Kernel, kernel, hKernel, fn);
  const ze_kernel_indirect_access_flags_t known = ZE_KERNEL_INDIRECT_ACCESS_FLAG_HOST |
                                                  ZE_KERNEL_INDIRECT_ACCESS_FLAG_DEVICE |
                                                  ZE_KERNEL_INDIRECT_ACCESS_FLAG_SHARED;
  if (flags & ~known) {
    return fail(ZE_RESULT_ERROR_INVALID_ENUMERATION, "{}: flags {:#x} has unknown bits", fn, flags);
  }
  kernel->indirect = flags;  // every allocation with a device address is reachable anyway
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL kernel_get_indirect_access(ze_kernel_handle_t hKernel,
                                                  ze_kernel_indirect_access_flags_t* flags) {
  static constexpr const char* fn = "zeKernelGetIndirectAccess";
  ZE_OBJECT(Kernel, kernel, hKernel, fn);
  ZE_NOT_NULL(flags, fn);
  *flags = kernel->indirect;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL kernel_get_source_attributes(ze_kernel_handle_t hKernel, uint32_t* pSize,
                                                    char** pString) {
  static constexpr const char* fn = "zeKernelGetSourceAttributes";
  ZE_OBJECT(Kernel, kernel, hKernel, fn);
  ZE_NOT_NULL(pSize, fn);
  const std::string& text = kernel->sig.attributes;
  const auto needed = static_cast<uint32_t>(text.size() + 1);
  if (*pSize == 0 || pString == nullptr || *pString == nullptr) {
    *pSize = needed;
    return ZE_RESULT_SUCCESS;
  }
  const uint32_t n = std::min(*pSize, needed);
  std::memcpy(*pString, text.c_str(), n);
  (*pString)[n - 1] = '\0';
  *pSize = n;
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL kernel_get_properties(ze_kernel_handle_t hKernel,
                                             ze_kernel_properties_t* p) {
  static constexpr const char* fn = "zeKernelGetProperties";
  ZE_OBJECT(Kernel, kernel, hKernel, fn);
  ZE_NOT_NULL(p, fn);
  const udal_device_info_t& info = kernel->device->info;
  p->numKernelArgs = static_cast<uint32_t>(kernel->sig.args.size());
  p->requiredGroupSizeX = kernel->sig.required_group_size[0];
  p->requiredGroupSizeY = kernel->sig.required_group_size[1];
  p->requiredGroupSizeZ = kernel->sig.required_group_size[2];
  p->requiredNumSubGroups = 0;
  p->requiredSubgroupSize = kernel->sig.required_subgroup_size;
  uint32_t smallest = UINT32_MAX, largest = 1;
  for (uint32_t i = 0; i < info.subgroup_size_count && i < UDAL_MAX_SUBGROUP_SIZES; ++i) {
    smallest = std::min(smallest, info.subgroup_sizes[i]);
    largest = std::max(largest, info.subgroup_sizes[i]);
  }
  if (smallest == UINT32_MAX || smallest == 0) smallest = 1;
  const uint32_t invocations = kernel->udal_info.max_group_invocations != 0
                                   ? kernel->udal_info.max_group_invocations
                                   : info.max_group_invocations;
  p->maxSubgroupSize = largest;
  p->maxNumSubgroups = std::max<uint32_t>(invocations / smallest, 1);
  p->localMemSize = 0;
  p->privateMemSize = 0;
  p->spillMemSize = 0;
  std::memset(&p->uuid, 0, sizeof(p->uuid));
  uint64_t hash = 1469598103934665603ull;
  for (char c : kernel->name) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  std::memcpy(p->uuid.kid, &hash, sizeof(hash));
  uint64_t module_hash = reinterpret_cast<uintptr_t>(kernel->module);
  std::memcpy(p->uuid.mid, &module_hash, sizeof(module_hash));
  for (auto* ext = static_cast<ze_base_properties_t*>(p->pNext); ext != nullptr;
       ext = static_cast<ze_base_properties_t*>(ext->pNext)) {
    if (ext->stype == ZE_STRUCTURE_TYPE_KERNEL_PREFERRED_GROUP_SIZE_PROPERTIES) {
      reinterpret_cast<ze_kernel_preferred_group_size_properties_t*>(ext)->preferredMultiple =
          std::max<uint32_t>(info.preferred_group_size_multiple, 1);
    }
  }
  return ZE_RESULT_SUCCESS;
}

ze_result_t ZE_APICALL kernel_get_name(ze_kernel_handle_t hKernel, size_t* pSize, char* pName) {
  static constexpr const char* fn = "zeKernelGetName";
  ZE_OBJECT(Kernel, kernel, hKernel, fn);
  ZE_NOT_NULL(pSize, fn);
  const size_t needed = kernel->name.size() + 1;
  if (*pSize == 0 || pName == nullptr) {
    *pSize = needed;
    return ZE_RESULT_SUCCESS;
  }
  const size_t n = std::min(*pSize, needed);
  std::memcpy(pName, kernel->name.c_str(), n);
  pName[n - 1] = '\0';
  *pSize = n;
  return ZE_RESULT_SUCCESS;
}

}  // namespace

Module::~Module() {
  if (udal != nullptr) udal_module_destroy(udal);
  if (variant != nullptr) udal_module_destroy(variant);
}

Kernel::~Kernel() {
  if (udal != nullptr) udal_kernel_destroy(udal);
  if (variant != nullptr) udal_kernel_destroy(variant);
}

namespace {

// The kernel of the module's variant (see Module::variant), made at its first use.
ze_result_t variant_of(Kernel* kernel, const char* fn) {
  if (kernel->variant != nullptr) return ZE_RESULT_SUCCESS;
  Module* module = kernel->module;
  std::lock_guard lock(module->variant_mutex);
  if (kernel->variant != nullptr) return ZE_RESULT_SUCCESS;
  if (module->variant == nullptr && module->variant_error.empty()) {
    std::vector<uint32_t> words = module->spirv;
    module->variant_info = module->info;
    spirv::rewrite_cpp_spec_constants(&words, &module->variant_info);
    std::string why = spirv::rewrite_kernels(&words, &module->variant_info, true);
    if (why.empty()) {
      udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
      image.data = words.data();
      image.size = words.size() * 4;
      image.format = UDAL_MODULE_FORMAT_SPIRV_KERNEL;
      udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
      desc.images = &image;
      desc.image_count = 1;
      desc.build_options = module->options.empty() ? nullptr : module->options.c_str();
      desc.specialization_constants = module->constants.empty() ? nullptr : module->constants.data();
      desc.specialization_constant_count = static_cast<uint32_t>(module->constants.size());
      if (udal_result_t r = udal_module_create(module->device->udal, &desc, &module->variant); r != UDAL_SUCCESS) {
        why = udal_last_error_message();
        module->variant = nullptr;
      }
    }
    if (!why.empty()) module->variant_error = why;
  }
  if (module->variant == nullptr) {
    return fail(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
                "{}: a pointer argument of kernel '{}' is at an offset device '{}' does not take as a "
                "buffer argument, and the module could not be rebuilt to take it: {}",
                fn, kernel->name, kernel->device->info.name, module->variant_error);
  }
  const spirv::Kernel* sig = spirv::find_kernel(module->variant_info, kernel->name);
  if (sig == nullptr) return fail(ZE_RESULT_ERROR_UNKNOWN, "{}: kernel '{}' is missing from the variant", fn, kernel->name);
  udal_kernel_t made = nullptr;
  if (udal_result_t r = udal_kernel_create(module->variant, kernel->name.c_str(), &made); r != UDAL_SUCCESS) {
    return from_udal(r, fn);
  }
  kernel->variant_sig = *sig;
  kernel->variant = made;
  return ZE_RESULT_SUCCESS;
}

}  // namespace

ze_result_t capture_launch(Kernel* kernel, const ze_group_count_t& groups,
                           std::shared_ptr<LaunchCapture>* out, const char* fn) {
  // Pointers at offsets the device does not take as buffer arguments: the variant.
  const uint64_t alignment = std::max<uint64_t>(kernel->device->info.buffer_argument_offset_alignment, 1);
  bool misaligned = false;
  for (size_t i = 0; i < kernel->args.size(); ++i) {
    if (kernel->sig.args[i].kind == spirv::ArgKind::kGlobal && kernel->args[i].set &&
        kernel->args[i].buffer != nullptr && kernel->args[i].offset % alignment != 0) {
      misaligned = true;
    }
  }
  if (misaligned) {
    if (ze_result_t z = variant_of(kernel, fn); z != ZE_RESULT_SUCCESS) return z;
  }
  const bool variant = misaligned;
  const bool by_offset = variant ? kernel->variant_sig.local_offsets : kernel->sig.local_offsets;
  auto capture = std::make_shared<LaunchCapture>();
  capture->kernel = variant ? kernel->variant : kernel->udal;
  capture->device = kernel->device;
  capture->name = kernel->name;
  capture->values.reserve(kernel->args.size() * 3);
  uint64_t local_bytes = 0;
  std::vector<uint32_t> local_offsets;  // sig.local_offsets: each local argument's offset
  std::vector<uint64_t> global_offsets;  // the variant: each pointer argument's offset
  for (size_t i = 0; i < kernel->args.size(); ++i) {
    const ArgValue& arg = kernel->args[i];
    const spirv::Arg& want = kernel->sig.args[i];
    if (!arg.set) {
      return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT,
                  "{}: argument {} of kernel '{}' was never set (zeKernelSetArgumentValue)", fn, i,
                  kernel->name);
    }
    switch (want.kind) {
      case spirv::ArgKind::kGlobal:
        if (arg.buffer == nullptr) {
          return fail(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
                      "{}: argument {} of kernel '{}' is a NULL pointer, which a UDAL launch "
                      "cannot pass",
                      fn, i, kernel->name);
        }
        if (variant) {
          capture->args.push_back(udal_arg_buffer(arg.buffer, 0));
          global_offsets.push_back(arg.offset);
        } else {
          capture->args.push_back(udal_arg_buffer(arg.buffer, arg.offset));
        }
        break;
      case spirv::ArgKind::kValue:
        capture->values.push_back(arg.bytes);
        capture->args.push_back(udal_arg_value(capture->values.back().data(),
                                               static_cast<uint32_t>(arg.bytes.size())));
        break;
      case spirv::ArgKind::kLocal:
        if (by_offset) {
          constexpr uint64_t kAlign = 128;  // the largest OpenCL type (long16, double16)
          local_bytes = (local_bytes + kAlign - 1) / kAlign * kAlign;
          if (local_bytes > UINT32_MAX) {
            return fail(ZE_RESULT_ERROR_INVALID_ARGUMENT, "{}: local memory past 4 GiB", fn);
          }
          local_offsets.push_back(static_cast<uint32_t>(local_bytes));
          local_bytes += arg.local_bytes;
          break;
        }
        if (i + 1 != kernel->args.size()) {
          return fail(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE,
                      "{}: argument {} of kernel '{}' is local memory but not the last argument; "
                      "UDAL passes a launch's local memory as one trailing local pointer",
                      fn, i, kernel->name);
        }
        local_bytes = arg.local_bytes;
        break;
      case spirv::ArgKind::kOther:
        return fail(ZE_RESULT_ERROR_UNSUPPORTED_FEATURE, "{}: argument {} of kernel '{}' is {}", fn,
                    i, kernel->name, want.what);
    }
  }
  for (uint32_t offset : local_offsets) {
    std::vector<uint8_t> bytes(sizeof(offset));
    std::memcpy(bytes.data(), &offset, sizeof(offset));
    capture->values.push_back(std::move(bytes));
    capture->args.push_back(udal_arg_value(capture->values.back().data(), sizeof(offset)));
  }
  for (uint64_t offset : global_offsets) {
    std::vector<uint8_t> bytes(sizeof(offset));
    std::memcpy(bytes.data(), &offset, sizeof(offset));
    capture->values.push_back(std::move(bytes));
    capture->args.push_back(udal_arg_value(capture->values.back().data(), sizeof(offset)));
  }
  udal_launch_desc_t desc = UDAL_LAUNCH_DESC_INIT;
  desc.group_count[0] = groups.groupCountX;
  desc.group_count[1] = groups.groupCountY;
  desc.group_count[2] = groups.groupCountZ;
  for (int a = 0; a < 3; ++a) desc.group_size[a] = kernel->group_size[a];
  desc.local_memory_bytes = local_bytes;
  desc.args = capture->args.empty() ? nullptr : capture->args.data();
  desc.arg_count = static_cast<uint32_t>(capture->args.size());
  capture->desc = desc;
  *out = std::move(capture);
  return ZE_RESULT_SUCCESS;
}

void fill(ze_module_dditable_t* t) noexcept {
  t->pfnCreate = module_create;
  t->pfnDestroy = module_destroy;
  t->pfnDynamicLink = module_dynamic_link;
  t->pfnGetNativeBinary = module_get_native_binary;
  t->pfnGetGlobalPointer = module_get_global_pointer;
  t->pfnGetKernelNames = module_get_kernel_names;
  t->pfnGetProperties = module_get_properties;
  t->pfnGetFunctionPointer = module_get_function_pointer;
}

void fill(ze_module_build_log_dditable_t* t) noexcept {
  t->pfnDestroy = build_log_destroy;
  t->pfnGetString = build_log_get_string;
}

void fill(ze_kernel_dditable_t* t) noexcept {
  t->pfnCreate = kernel_create;
  t->pfnDestroy = kernel_destroy;
  t->pfnSetCacheConfig = kernel_set_cache_config;
  t->pfnSetGroupSize = kernel_set_group_size;
  t->pfnSuggestGroupSize = kernel_suggest_group_size;
  t->pfnSuggestMaxCooperativeGroupCount = kernel_suggest_max_cooperative_group_count;
  t->pfnSetArgumentValue = kernel_set_argument_value;
  t->pfnSetIndirectAccess = kernel_set_indirect_access;
  t->pfnGetIndirectAccess = kernel_get_indirect_access;
  t->pfnGetSourceAttributes = kernel_get_source_attributes;
  t->pfnGetProperties = kernel_get_properties;
  t->pfnGetName = kernel_get_name;
}

}  // namespace udal::ze
