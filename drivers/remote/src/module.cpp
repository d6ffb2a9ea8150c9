// Modules and kernels: the image travels once, at creation (a round trip); a kernel's
// info and argument list come back with its creation and stay here for launch checks.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "objects.h"

namespace udal::remote {

using udal::sdk::fail;

namespace {

// Reads the image file |path| (a regular file of at most 1 GiB, udal.h).
udal_result_t read_image(const char* fn, const char* path, std::vector<uint8_t>& out) {
  struct stat st {};
  if (stat(path, &st) != 0) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: cannot read the image file '{}': {}", fn, path,
                std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: the image path '{}' is not a regular file", fn,
                path);
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxModuleBytes) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: the image file '{}' has {} bytes, over 1 GiB",
                fn, path, static_cast<uint64_t>(st.st_size));
  }
  std::ifstream in(path, std::ios::binary);
  out.resize(static_cast<std::size_t>(st.st_size));
  if (!in || !in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()))) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: cannot read the image file '{}'", fn, path);
  }
  return UDAL_SUCCESS;
}

}  // namespace

udal_result_t module_create(udal_device_t device_handle, const udal_module_desc_t* desc_in,
                            udal_module_t* out_module) {
  *out_module = nullptr;
  constexpr const char* kFn = "udal_module_create";
  udal_module_desc_t desc;
  if (udal_result_t r = udal::sdk::read_desc(kFn, "desc", desc_in, &desc)) return r;
  Device* device = to<Device>(device_handle);
  Connection& connection = *device->connection;
  // The first image, in the caller's order, whose format the device accepts.
  uint32_t chosen = desc.image_count;
  for (uint32_t i = 0; i < desc.image_count && chosen == desc.image_count; ++i) {
    if (udal_result_t r = udal::sdk::check_struct(kFn, "desc->images[i]", &desc.images[i])) {
      return r;
    }
    for (uint32_t f = 0; f < device->info.module_format_count; ++f) {
      if (device->info.module_formats[f] == desc.images[i].format) chosen = i;
    }
  }
  if (chosen == desc.image_count) {
    return fail(UDAL_ERROR_UNSUPPORTED,
                "{}: none of the {} images is in a format device '{}' accepts", kFn,
                desc.image_count, device->info.name);
  }
  const udal_module_image_t image = udal::sdk::read_struct(&desc.images[chosen]);
  if (connection.lost()) return connection.lost_error(kFn);
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    std::vector<uint8_t> file;
    const uint8_t* data = static_cast<const uint8_t*>(image.data);
    uint64_t size = image.size;
    if (data == nullptr) {
      if (image.path == nullptr) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: images[{}] has neither data nor path", kFn,
                    chosen);
      }
      if (udal_result_t r = read_image(kFn, image.path, file)) return r;
      data = file.data();
      size = file.size();
    }
    if (size == 0 || size > kMaxModuleBytes) {
      return fail(UDAL_ERROR_INVALID_MODULE, "{}: images[{}] has {} bytes (1 to 1 GiB)", kFn,
                  chosen, size);
    }
    auto module = std::make_unique<Module>();
    module->dispatch = device->dispatch;
    module->device = device;
    module->id = connection.new_id();
    module->format = image.format;
    module->image_index = chosen;
    const uint64_t request = connection.new_id();
    flatbuffers::FlatBufferBuilder builder(256);
    std::vector<flatbuffers::Offset<wire::SpecializationConstant>> constants;
    for (uint32_t i = 0; i < desc.specialization_constant_count; ++i) {
      const udal_specialization_constant_t& c = desc.specialization_constants[i];
      const auto value = builder.CreateVector(static_cast<const uint8_t*>(c.value), c.size);
      constants.push_back(wire::CreateSpecializationConstant(builder, c.id, value));
    }
    const auto constant_vector = builder.CreateVector(constants);
    flatbuffers::Offset<flatbuffers::String> options;
    if (desc.build_options != nullptr) options = builder.CreateString(desc.build_options);
    finish_message(builder, wire::CreateModuleCreate(builder, request, device->index, module->id,
                                                     image.format, options, constant_vector));
    // The bytes are sent from where they are: the call waits for the answer.
    OutFrame frame = make_frame(builder, size);
    frame.bulk = data;
    ReplyData reply;
    if (udal_result_t r = connection.call(kFn, request, std::move(frame), reply)) return r;
    *out_module = udal::sdk::to_handle<udal_module_t>(device->live->adopt(std::move(module)));
    return UDAL_SUCCESS;
  });
}

udal_result_t module_destroy(udal_module_t handle) {
  Module* raw = to<Module>(handle);
  std::unique_ptr<Module> module = raw->device->live->release(raw);
  if (!module) return UDAL_SUCCESS;
  return udal::sdk::guard("udal_module_destroy", [&]() -> udal_result_t {
    Connection& connection = *module->device->connection;
    if (!connection.lost()) {
      flatbuffers::FlatBufferBuilder builder(64);
      finish_message(builder, wire::CreateModuleDestroy(builder, module->id));
      connection.send(make_frame(builder));
    }
    return UDAL_SUCCESS;
  });
}

udal_result_t module_get_info(udal_module_t handle, udal_module_info_t* out_info) {
  if (udal_result_t r = udal::sdk::check_struct("udal_module_get_info", "out_info", out_info)) {
    return r;
  }
  const Module* module = to<Module>(handle);
  udal_module_info_t info = udal::sdk::make_struct<udal_module_info_t>();
  info.format = module->format;
  info.image_index = module->image_index;
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

udal_result_t kernel_create(udal_module_t module_handle, const char* name,
                            udal_kernel_t* out_kernel) {
  *out_kernel = nullptr;
  constexpr const char* kFn = "udal_kernel_create";
  Module* module = to<Module>(module_handle);
  Connection& connection = *module->device->connection;
  if (connection.lost()) return connection.lost_error(kFn);
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    auto kernel = std::make_unique<Kernel>();
    kernel->dispatch = module->dispatch;
    kernel->device = module->device;
    kernel->format = module->format;
    kernel->id = connection.new_id();
    const uint64_t request = connection.new_id();
    flatbuffers::FlatBufferBuilder builder(128);
    const auto text = builder.CreateString(name);
    finish_message(builder, wire::CreateKernelCreate(builder, request, module->id, kernel->id, text));
    ReplyData reply;
    if (udal_result_t r = connection.call(kFn, request, make_frame(builder), reply)) return r;
    kernel->info = std::move(reply.kernel);
    kernel->name = name;
    if ((kernel->info.flags & UDAL_KERNEL_FLAG_ARGUMENT_INFO) &&
        kernel->format != UDAL_MODULE_FORMAT_SPIRV_COMPUTE) {
      bool known = true;
      for (const udal_kernel_arg_info_t& arg : kernel->info.args) {
        known = known && (arg.kind == UDAL_ARG_KIND_BUFFER || arg.kind == UDAL_ARG_KIND_VALUE);
        kernel->declarations.push_back({static_cast<uint32_t>(arg.kind),
                                        static_cast<uint32_t>(arg.access), arg.value_size});
      }
      if (!known) kernel->declarations.clear();
    }
    *out_kernel = udal::sdk::to_handle<udal_kernel_t>(module->device->live->adopt(std::move(kernel)));
    return UDAL_SUCCESS;
  });
}

udal_result_t kernel_destroy(udal_kernel_t handle) {
  Kernel* raw = to<Kernel>(handle);
  std::unique_ptr<Kernel> kernel = raw->device->live->release(raw);
  if (!kernel) return UDAL_SUCCESS;
  return udal::sdk::guard("udal_kernel_destroy", [&]() -> udal_result_t {
    Connection& connection = *kernel->device->connection;
    if (!connection.lost()) {
      flatbuffers::FlatBufferBuilder builder(64);
      finish_message(builder, wire::CreateKernelDestroy(builder, kernel->id));
      connection.send(make_frame(builder));
    }
    return UDAL_SUCCESS;
  });
}

udal_result_t kernel_get_info(udal_kernel_t handle, udal_kernel_info_t* out_info) {
  if (udal_result_t r = udal::sdk::check_struct("udal_kernel_get_info", "out_info", out_info)) {
    return r;
  }
  const Kernel* kernel = to<Kernel>(handle);
  udal_kernel_info_t info = udal::sdk::make_struct<udal_kernel_info_t>();
  info.flags = kernel->info.flags;
  info.argument_count = kernel->info.argument_count;
  info.max_group_invocations = kernel->info.max_group_invocations;
  for (int axis = 0; axis < 3; ++axis) {
    info.required_group_size[axis] = kernel->info.required_group_size[axis];
  }
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

udal_result_t kernel_get_argument_info(udal_kernel_t handle, uint32_t index,
                                       udal_kernel_arg_info_t* out_info) {
  constexpr const char* kFn = "udal_kernel_get_argument_info";
  if (udal_result_t r = udal::sdk::check_struct(kFn, "out_info", out_info)) return r;
  udal::sdk::clear_struct(out_info);
  const Kernel* kernel = to<Kernel>(handle);
  if (!(kernel->info.flags & UDAL_KERNEL_FLAG_ARGUMENT_INFO)) {
    return fail(kernel->info.argument_info_result < 0 ? kernel->info.argument_info_result
                                                      : UDAL_ERROR_UNSUPPORTED,
                "{}: kernel {} does not describe its arguments: {}", kFn, fmt::ptr(kernel),
                kernel->info.argument_info_message);
  }
  if (index >= kernel->info.args.size()) {
    return fail(UDAL_ERROR_NOT_FOUND, "{}: index {} is not below the kernel's {} arguments", kFn,
                index, kernel->info.args.size());
  }
  udal_kernel_arg_info_t info = udal::sdk::make_struct<udal_kernel_arg_info_t>();
  info.kind = kernel->info.args[index].kind;
  info.value_size = kernel->info.args[index].value_size;
  info.access = kernel->info.args[index].access;
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

}  // namespace udal::remote
