// Buffers: created on the server with a round trip (so a full device answers at once);
// destroyed without one. Remote buffers are never mappable (DEVICE kind only).
#include "objects.h"

namespace udal::remote {

using udal::sdk::fail;

udal_result_t buffer_create(udal_device_t device_handle, const udal_buffer_desc_t* desc_in,
                            udal_buffer_t* out_buffer) {
  *out_buffer = nullptr;
  constexpr const char* kFn = "udal_buffer_create";
  udal_buffer_desc_t desc;
  if (udal_result_t r = udal::sdk::read_desc(kFn, "desc", desc_in, &desc)) return r;
  Device* device = to<Device>(device_handle);
  Connection& connection = *device->connection;
  if (desc.kind != UDAL_BUFFER_KIND_DEVICE) {
    return fail(UDAL_ERROR_UNSUPPORTED,
                "{}: remote device '{}' offers only UDAL_BUFFER_KIND_DEVICE buffers (kind {} "
                "needs host-visible memory, which a remote device does not have)",
                kFn, device->info.name, static_cast<int>(desc.kind));
  }
  if ((desc.flags & UDAL_BUFFER_FLAG_DEVICE_ADDRESS) &&
      !(device->info.features & UDAL_DEVICE_FEATURE_DEVICE_ADDRESS)) {
    return fail(UDAL_ERROR_UNSUPPORTED,
                "{}: UDAL_BUFFER_FLAG_DEVICE_ADDRESS needs UDAL_DEVICE_FEATURE_DEVICE_ADDRESS, "
                "which device '{}' does not have",
                kFn, device->info.name);
  }
  if (desc.size > device->info.max_allocation_bytes) {
    return fail(UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                "{}: {} bytes is over the device's max_allocation_bytes {}", kFn, desc.size,
                device->info.max_allocation_bytes);
  }
  if (connection.lost()) return connection.lost_error(kFn);
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    auto buffer = std::make_unique<Buffer>();
    buffer->dispatch = device->dispatch;
    buffer->device = device;
    buffer->id = connection.new_id();
    buffer->size = desc.size;
    buffer->alignment = desc.alignment != 0 ? desc.alignment : device->info.min_buffer_alignment;
    if (buffer->alignment < device->info.min_buffer_alignment) {
      buffer->alignment = device->info.min_buffer_alignment;
    }
    buffer->flags = desc.flags;
    buffer->kind = desc.kind;
    const uint64_t request = connection.new_id();
    flatbuffers::FlatBufferBuilder builder(128);
    finish_message(builder, wire::CreateBufferCreate(builder, request, device->index, buffer->id,
                                                     desc.size, desc.alignment, desc.flags,
                                                     static_cast<int32_t>(desc.kind)));
    ReplyData reply;
    if (udal_result_t r = connection.call(kFn, request, make_frame(builder), reply)) return r;
    buffer->device_address = reply.device_address;
    *out_buffer = udal::sdk::to_handle<udal_buffer_t>(device->live->adopt(std::move(buffer)));
    return UDAL_SUCCESS;
  });
}

udal_result_t buffer_destroy(udal_buffer_t handle) {
  Buffer* raw = to<Buffer>(handle);
  std::unique_ptr<Buffer> buffer = raw->device->live->release(raw);
  if (!buffer) return UDAL_SUCCESS;  // already freed by a destroy: undefined, not a crash
  return udal::sdk::guard("udal_buffer_destroy", [&]() -> udal_result_t {
    // Work enqueued before keeps the server's memory until it has run (udal.h), and the
    // server's session frees everything when the client goes: nothing to wait for here.
    Connection& connection = *buffer->device->connection;
    if (!connection.lost()) {
      flatbuffers::FlatBufferBuilder builder(64);
      finish_message(builder, wire::CreateBufferDestroy(builder, buffer->id));
      connection.send(make_frame(builder));
    }
    return UDAL_SUCCESS;
  });
}

udal_result_t buffer_get_info(udal_buffer_t handle, udal_buffer_info_t* out_info) {
  if (udal_result_t r = udal::sdk::check_struct("udal_buffer_get_info", "out_info", out_info)) {
    return r;
  }
  const Buffer* buffer = to<Buffer>(handle);
  udal_buffer_info_t info = udal::sdk::make_struct<udal_buffer_info_t>();
  info.device = udal::sdk::to_handle<udal_device_t>(buffer->device);
  info.size = buffer->size;
  info.alignment = buffer->alignment;
  info.flags = buffer->flags;
  info.kind = buffer->kind;
  udal::sdk::write_struct(out_info, info);
  return UDAL_SUCCESS;
}

udal_result_t buffer_map(udal_buffer_t handle, uint64_t, uint64_t, void** out_ptr) {
  *out_ptr = nullptr;
  return fail(UDAL_ERROR_INVALID_ARGUMENT,
              "udal_buffer_map: buffer {} is a DEVICE buffer, which cannot be mapped (remote "
              "devices have no host-visible buffers)",
              fmt::ptr(to<Buffer>(handle)));
}

udal_result_t buffer_unmap(udal_buffer_t handle) {
  return fail(UDAL_ERROR_INVALID_STATE, "udal_buffer_unmap: buffer {} is not mapped",
              fmt::ptr(to<Buffer>(handle)));
}

udal_result_t buffer_get_device_address(udal_buffer_t handle, uint64_t* out_address) {
  *out_address = 0;
  const Buffer* buffer = to<Buffer>(handle);
  if (!(buffer->flags & UDAL_BUFFER_FLAG_DEVICE_ADDRESS)) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "udal_buffer_get_device_address: buffer {} was created without "
                "UDAL_BUFFER_FLAG_DEVICE_ADDRESS",
                fmt::ptr(buffer));
  }
  *out_address = buffer->device_address;
  return UDAL_SUCCESS;
}

}  // namespace udal::remote
