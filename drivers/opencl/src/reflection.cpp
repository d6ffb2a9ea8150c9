// Kernel reflection through clGetKernelArgInfo, and its JSON form for the program cache.
#include "reflection.h"

#include <nlohmann/json.hpp>

#include <cctype>

namespace udal::opencl {

uint32_t opencl_type_size(const std::string& type_name, cl_uint address_bits) {
  std::string base = type_name;
  uint32_t count = 1;
  size_t digits = base.size();
  while (digits > 0 && std::isdigit(static_cast<unsigned char>(base[digits - 1])))
    --digits;
  if (digits < base.size()) {
    const std::string suffix = base.substr(digits);
    if (suffix.size() > 2)
      return 0;
    count = static_cast<uint32_t>(std::stoul(suffix));
    if (count != 2 && count != 3 && count != 4 && count != 8 && count != 16)
      return 0;
    base.resize(digits);
  }
  uint32_t scalar = 0;
  if (base == "char" || base == "uchar" || base == "bool") {
    scalar = 1;
  } else if (base == "short" || base == "ushort" || base == "half") {
    scalar = 2;
  } else if (base == "int" || base == "uint" || base == "float") {
    scalar = 4;
  } else if (base == "long" || base == "ulong" || base == "double") {
    scalar = 8;
  } else if (count == 1 && (base == "size_t" || base == "ptrdiff_t" || base == "intptr_t" ||
                            base == "uintptr_t")) {
    scalar = address_bits / 8;
  } else {
    return 0;
  }
  if (base == "bool" && count != 1)
    return 0;
  return scalar * (count == 3 ? 4 : count);
}

namespace {

bool is_opaque_value_type(const std::string& type) {
  return type == "sampler_t" || type == "queue_t" || type == "clk_event_t" || type == "event_t" ||
         type == "reserve_id_t" || type.find("pipe") != std::string::npos;
}

KernelReflection reflect_kernel(cl_kernel kernel, cl_uint address_bits) {
  KernelReflection r;
  cl_uint count = 0;
  if (clGetKernelInfo(kernel, CL_KERNEL_NUM_ARGS, sizeof(count), &count, nullptr) != CL_SUCCESS) {
    r.undescribed = "the OpenCL platform does not say the kernel's argument count";
    return r;
  }
  for (cl_uint i = 0; i < count; ++i) {
    cl_kernel_arg_address_qualifier address = 0;
    cl_kernel_arg_access_qualifier access = CL_KERNEL_ARG_ACCESS_NONE;
    cl_kernel_arg_type_qualifier qualifier = 0;
    const cl_int queried = clGetKernelArgInfo(kernel, i, CL_KERNEL_ARG_ADDRESS_QUALIFIER,
                                              sizeof(address), &address, nullptr);
    if (queried != CL_SUCCESS) {
      r = KernelReflection{};
      r.undescribed =
          fmt::format("the program carries no kernel-argument information (clGetKernelArgInfo: {}; "
                      "platform binaries built without -cl-kernel-arg-info have none)",
                      cl_error_name(queried));
      return r;
    }
    clGetKernelArgInfo(kernel, i, CL_KERNEL_ARG_ACCESS_QUALIFIER, sizeof(access), &access, nullptr);
    clGetKernelArgInfo(kernel, i, CL_KERNEL_ARG_TYPE_QUALIFIER, sizeof(qualifier), &qualifier,
                       nullptr);
    std::string type;
    size_t type_size = 0;
    if (clGetKernelArgInfo(kernel, i, CL_KERNEL_ARG_TYPE_NAME, 0, nullptr, &type_size) ==
            CL_SUCCESS &&
        type_size > 0) {
      std::vector<char> text(type_size + 1, '\0');
      clGetKernelArgInfo(kernel, i, CL_KERNEL_ARG_TYPE_NAME, type_size, text.data(), nullptr);
      type = text.data();
    }
    if (access != CL_KERNEL_ARG_ACCESS_NONE) {
      r.unsupported =
          fmt::format("parameter {} is an image ({}), which UDAL does not model", i, type);
      continue;
    }
    ArgReflection arg;
    switch (address) {
    case CL_KERNEL_ARG_ADDRESS_LOCAL:
      if (i + 1 != count || r.uses_local_memory) {
        r.unsupported = fmt::format(
            "parameter {} is a local pointer but not the last parameter (the launch's dynamic "
            "local memory arrives as one trailing local pointer only)",
            i);
      }
      r.uses_local_memory = true;
      continue;
    case CL_KERNEL_ARG_ADDRESS_GLOBAL:
    case CL_KERNEL_ARG_ADDRESS_CONSTANT:
      if (type.empty() || type.back() != '*') {
        r.unsupported = fmt::format("parameter {} ({}) is not a pointer to a buffer", i, type);
        continue;
      }
      arg.kind = UDAL_ARG_KIND_BUFFER;
      arg.access =
          address == CL_KERNEL_ARG_ADDRESS_CONSTANT || (qualifier & CL_KERNEL_ARG_TYPE_CONST) != 0
              ? UDAL_ARG_ACCESS_READ
              : UDAL_ARG_ACCESS_READ_WRITE;
      break;
    default:
      if (is_opaque_value_type(type)) {
        r.unsupported = fmt::format("parameter {} is a {}, which UDAL does not model", i, type);
        continue;
      }
      arg.kind = UDAL_ARG_KIND_VALUE;
      arg.value_size = opencl_type_size(type, address_bits);
      if (arg.value_size == 0 && r.undescribed.empty()) {
        r.undescribed = fmt::format(
            "parameter {} has type '{}', whose size the driver cannot tell from its name", i, type);
      }
      break;
    }
    r.args.push_back(arg);
  }
  r.kinds_known = true;
  return r;
}

} // namespace

ProgramReflection reflect_program(cl_program program, cl_uint address_bits) {
  ProgramReflection reflection;
  size_t size = 0;
  if (clGetProgramInfo(program, CL_PROGRAM_KERNEL_NAMES, 0, nullptr, &size) != CL_SUCCESS ||
      size == 0) {
    return reflection;
  }
  std::vector<char> text(size + 1, '\0');
  if (clGetProgramInfo(program, CL_PROGRAM_KERNEL_NAMES, size, text.data(), nullptr) !=
      CL_SUCCESS) {
    return reflection;
  }
  std::string names = text.data();
  size_t start = 0;
  while (start <= names.size()) {
    size_t end = names.find(';', start);
    if (end == std::string::npos)
      end = names.size();
    const std::string name = names.substr(start, end - start);
    start = end + 1;
    if (name.empty())
      continue;
    cl_int created = CL_SUCCESS;
    ClKernel kernel(clCreateKernel(program, name.c_str(), &created));
    if (created != CL_SUCCESS)
      continue;
    reflection.kernels[name] = reflect_kernel(kernel.get(), address_bits);
  }
  return reflection;
}

std::string reflection_to_json(const ProgramReflection& reflection) {
  nlohmann::json kernels = nlohmann::json::object();
  for (const auto& [name, k] : reflection.kernels) {
    nlohmann::json args = nlohmann::json::array();
    for (const ArgReflection& a : k.args) {
      args.push_back({static_cast<int>(a.kind), a.value_size, static_cast<int>(a.access)});
    }
    kernels[name] = {{"kinds_known", k.kinds_known},
                     {"local", k.uses_local_memory},
                     {"unsupported", k.unsupported},
                     {"undescribed", k.undescribed},
                     {"args", std::move(args)}};
  }
  return nlohmann::json{{"version", 1}, {"kernels", std::move(kernels)}}.dump();
}

std::optional<ProgramReflection> reflection_from_json(const std::string& text) {
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  // Each member's type is checked before it is read: json's value() and get() throw on a
  // member of another type, and a cache file may hold anything.
  if (!doc.is_object() || !doc.contains("version") || !doc["version"].is_number_unsigned() ||
      doc["version"].get<uint64_t>() != 1 || !doc.contains("kernels") ||
      !doc["kernels"].is_object()) {
    return std::nullopt;
  }
  ProgramReflection reflection;
  for (const auto& item : doc["kernels"].items()) {
    const nlohmann::json& k = item.value();
    if (!k.is_object() || !k.contains("args") || !k["args"].is_array())
      return std::nullopt;
    KernelReflection r;
    const auto flag = [&](const char* key) {
      return k.contains(key) && k[key].is_boolean() && k[key].get<bool>();
    };
    const auto text_of = [&](const char* key) {
      return k.contains(key) && k[key].is_string() ? k[key].get<std::string>() : std::string();
    };
    r.kinds_known = flag("kinds_known");
    r.uses_local_memory = flag("local");
    r.unsupported = text_of("unsupported");
    r.undescribed = text_of("undescribed");
    for (const auto& a : k["args"]) {
      if (!a.is_array() || a.size() != 3 || !a[0].is_number_unsigned() ||
          !a[1].is_number_unsigned() || !a[2].is_number_unsigned()) {
        return std::nullopt;
      }
      // Read at full width, so 2^32 + 1 is not taken for kind 1.
      const auto kind = a[0].get<uint64_t>();
      const auto value_size = a[1].get<uint64_t>();
      const auto access = a[2].get<uint64_t>();
      if (kind > UDAL_ARG_KIND_VALUE || access > UDAL_ARG_ACCESS_READ_WRITE ||
          value_size > UINT32_MAX) {
        return std::nullopt;
      }
      ArgReflection arg;
      arg.kind = static_cast<udal_arg_kind_t>(kind);
      arg.value_size = static_cast<uint32_t>(value_size);
      arg.access = static_cast<udal_arg_access_t>(access);
      r.args.push_back(arg);
    }
    reflection.kernels[item.key()] = std::move(r);
  }
  return reflection;
}

} // namespace udal::opencl
