// The driver's reading of an OpenCL-flavoured SPIR-V module: the SDK's reader
// (udal/sdk/spirv.h) checks and reflects it; this maps what it found onto the driver's
// terms (the device's address width, UDAL argument kinds and access).
#include "spirv.h"

#include <fmt/format.h>
#include <udal/sdk/spirv.h>

namespace udal::opencl {

namespace {

namespace sdk = udal::sdk::spirv;

KernelReflection reflect(const sdk::EntryPoint& entry) {
  KernelReflection r;
  const size_t count = entry.parameters.size();
  for (size_t i = 0; i < count; ++i) {
    const sdk::Parameter& p = entry.parameters[i];
    ArgReflection arg;
    if (p.kind == sdk::ParameterKind::kPointer) {
      switch (p.storage_class) {
      case sdk::kStorageCrossWorkgroup:
      case sdk::kStorageUniformConstant:
        arg.kind = UDAL_ARG_KIND_BUFFER;
        arg.access =
            p.storage_class == sdk::kStorageUniformConstant || p.no_write || p.no_read_write
                ? UDAL_ARG_ACCESS_READ
                : UDAL_ARG_ACCESS_READ_WRITE;
        break;
      case sdk::kStorageWorkgroup:
        if (i + 1 != count || r.uses_local_memory) {
          r.unsupported = fmt::format(
              "parameter {} is a Workgroup (local) pointer but not the last parameter (the "
              "launch's dynamic local memory arrives as one trailing local pointer only)",
              i);
        }
        r.uses_local_memory = true;
        continue;
      case sdk::kStorageFunction:
        if (p.by_val) {
          arg.kind = UDAL_ARG_KIND_VALUE;
          arg.value_size = static_cast<uint32_t>(p.pointee_size.value_or(0));
          break;
        }
        [[fallthrough]];
      default:
        r.unsupported = fmt::format("parameter {} is a pointer in storage class {}, which a "
                                    "launch cannot pass",
                                    i, sdk::storage_class_name(p.storage_class));
        continue;
      }
    } else if (p.kind == sdk::ParameterKind::kValue) {
      arg.kind = UDAL_ARG_KIND_VALUE;
      arg.value_size = p.size && *p.size <= UINT32_MAX ? static_cast<uint32_t>(*p.size) : 0;
    } else {
      r.unsupported = fmt::format("parameter {} is {}, which UDAL does not model", i, p.what);
      continue;
    }
    if (arg.kind == UDAL_ARG_KIND_VALUE && arg.value_size == 0 && r.undescribed.empty()) {
      r.undescribed = fmt::format("the size of parameter {} cannot be derived from the SPIR-V", i);
    }
    r.args.push_back(arg);
  }
  r.kinds_known = true;
  return r;
}

} // namespace

std::string parse_spirv(const void* data, size_t size, uint32_t address_bits, SpirvModule* out) {
  *out = SpirvModule{};
  sdk::Module module;
  if (std::string why = sdk::read_bytes(data, size, &module); !why.empty())
    return why;
  const uint32_t want =
      address_bits == 32 ? sdk::kAddressingPhysical32 : sdk::kAddressingPhysical64;
  if (module.addressing_model != want) {
    return fmt::format("the module's addressing model is {} but the device has {}-bit "
                       "addresses (Physical{} needed)",
                       module.addressing_model == sdk::kAddressingPhysical32 ? "Physical32"
                       : module.addressing_model == sdk::kAddressingPhysical64
                           ? "Physical64"
                           : fmt::format("{}", module.addressing_model),
                       address_bits, address_bits);
  }
  SpirvModule result;
  for (const sdk::EntryPoint& e : module.entry_points) {
    if (e.model == sdk::kExecutionModelGLCompute) {
      return fmt::format("entry point '{}' is GLCompute: this is Vulkan-flavoured SPIR-V "
                         "(SPIRV_COMPUTE), not SPIRV_KERNEL",
                         e.name);
    }
    if (e.model != sdk::kExecutionModelKernel)
      continue;
    result.kernels.push_back(e.name);
    result.reflection.kernels[e.name] = reflect(e);
  }
  if (result.kernels.empty())
    return "the module has no Kernel entry point";
  for (const sdk::SpecConstant& c : module.spec_constants)
    result.spec_constants.push_back({c.spec_id, c.size, c.is_bool});
  result.addressing_model = module.addressing_model;
  *out = std::move(result);
  return {};
}

} // namespace udal::opencl
