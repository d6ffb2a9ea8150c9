// Streams: every enqueue is checked here as a local driver checks it, numbered, and queued
// for the server without waiting (pipelined). The server reports a failed enqueue with a
// StreamError, which the next synchronize (or a wait on an event recorded after it)
// returns; a StreamMark answered by StreamDone tells when the work before it completed.
#include <cstring>

#include "objects.h"

namespace udal::remote {

using udal::sdk::fail;

namespace {


// [offset, offset + size) lies inside |buffer| (overflow-safe).
bool in_range(const Buffer& buffer, uint64_t offset, uint64_t size) {
  return offset <= buffer.size && size <= buffer.size - offset;
}

udal_result_t same_device(const char* fn, const Stream& stream, const Buffer& buffer,
                          const char* role) {
  if (buffer.device != stream.device) {
    return fail(UDAL_ERROR_INVALID_HANDLE,
                "{}: {} buffer {} belongs to device '{}', the stream to device '{}'", fn, role,
                fmt::ptr(&buffer), buffer.device->info.name, stream.device->info.name);
  }
  return UDAL_SUCCESS;
}

// Numbers and queues work on |stream|: |build|(seq) makes the frames. The order lock keeps
// numbers and frames in the same order whatever threads enqueue.
template <typename Build>
udal_result_t enqueue(const char* fn, Stream& stream, Build&& build) {
  Connection& connection = *stream.device->connection;
  if (connection.lost()) return connection.lost_error(fn);
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    std::lock_guard order(stream.state->order);
    build(connection, *stream.state);
    return UDAL_SUCCESS;
  });
}

// The arguments of a launch of a per-kind kernel (SPIRV_COMPUTE): buffer i is declared
// buffer i, with its access; values fill the declared values in order, a value as large as
// several consecutive declared values of one size taking them all (an array passed whole).
// What only the packing can tell (offsets) the server checks; a mismatch there fails the
// stream at the next synchronize.
udal_result_t check_per_kind(const char* fn, const Kernel& kernel, const udal_launch_desc_t& desc) {
  std::vector<const udal_kernel_arg_info_t*> buffers, values;
  for (const udal_kernel_arg_info_t& declared : kernel.info.args) {
    (declared.kind == UDAL_ARG_KIND_BUFFER ? buffers : values).push_back(&declared);
  }
  std::size_t next_buffer = 0, next_value = 0;
  for (uint32_t i = 0; i < desc.arg_count; ++i) {
    const udal_kernel_arg_t& arg = desc.args[i];
    if (arg.kind == UDAL_ARG_KIND_BUFFER) {
      if (next_buffer >= buffers.size()) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT,
                    "{}: args[{}] is a buffer past the {} buffer arguments the kernel declares",
                    fn, i, buffers.size());
      }
      const uint32_t declared = static_cast<uint32_t>(buffers[next_buffer]->access);
      if (declared & ~static_cast<uint32_t>(arg.access)) {
        return fail(UDAL_ERROR_INVALID_ARGUMENT,
                    "{}: args[{}] (buffer {} of the kernel) is passed with access {} but the "
                    "kernel declares access {} (it {} what the caller said it does not)",
                    fn, i, next_buffer, static_cast<int>(arg.access), declared,
                    (declared & ~static_cast<uint32_t>(arg.access) & UDAL_ARG_ACCESS_WRITE)
                        ? "writes"
                        : "reads");
      }
      ++next_buffer;
      continue;
    }
    if (next_value >= values.size()) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: args[{}] is a value past the {} value arguments the kernel declares", fn, i,
                  values.size());
    }
    const uint32_t element = values[next_value]->value_size;
    uint64_t covered = 0;
    std::size_t taken = 0;
    while (covered < arg.value_size && next_value + taken < values.size() &&
           values[next_value + taken]->value_size == element) {
      covered += element;
      ++taken;
    }
    if (covered != arg.value_size) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT,
                  "{}: args[{}] has value_size {} but the kernel's value argument {} takes {} "
                  "bytes",
                  fn, i, arg.value_size, next_value, element);
    }
    next_value += taken;
  }
  if (next_buffer != buffers.size() || next_value != values.size()) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: the kernel takes {} buffer and {} value arguments, the launch passes {} and "
                "{}",
                fn, buffers.size(), values.size(), next_buffer, next_value);
  }
  return UDAL_SUCCESS;
}

}  // namespace

udal_result_t wait_stream(Connection& connection, StreamState& stream, uint64_t timeout_ns,
                          const char* fn) {
  uint64_t target = 0;
  {
    std::lock_guard order(stream.order);
    target = stream.last_seq;
    bool mark = false;
    {
      std::lock_guard lock(connection.mutex());
      if (target > stream.done_seq && target > stream.marked_seq && !connection.lost()) {
        stream.marked_seq = target;
        mark = true;
      }
    }
    if (mark) {
      flatbuffers::FlatBufferBuilder builder(64);
      finish_message(builder, wire::CreateStreamMark(builder, stream.id, target));
      connection.send(make_frame(builder), /*urgent=*/true);
    }
  }
  std::unique_lock lock(connection.mutex());
  const bool done = connection.wait(lock, timeout_ns, [&] {
    return stream.done_seq >= target || stream.error != UDAL_SUCCESS;
  });
  if (stream.error != UDAL_SUCCESS) {
    const udal_result_t error = stream.error;
    const std::string message = std::move(stream.error_message);
    stream.error = UDAL_SUCCESS;
    stream.error_message.clear();
    return fail(error, "{}: work enqueued on the stream failed on udal-server {}: {}", fn,
                connection.address(), message);
  }
  if (done) return UDAL_SUCCESS;
  lock.unlock();
  if (connection.lost()) return connection.lost_error(fn);
  return fail(UDAL_TIMEOUT, "{}: the stream's work did not complete within {} ns", fn,
              timeout_ns);
}

udal_result_t stream_create(udal_device_t device_handle, const udal_stream_desc_t* desc_in,
                            udal_stream_t* out_stream) {
  *out_stream = nullptr;
  constexpr const char* kFn = "udal_stream_create";
  udal_stream_desc_t desc;
  if (udal_result_t r = udal::sdk::read_optional_desc(kFn, "desc", desc_in, &desc)) return r;
  Device* device = to<Device>(device_handle);
  Connection& connection = *device->connection;
  if (connection.lost()) return connection.lost_error(kFn);
  return udal::sdk::guard(kFn, [&]() -> udal_result_t {
    auto stream = std::make_unique<Stream>();
    stream->dispatch = device->dispatch;
    stream->device = device;
    stream->state = std::make_shared<StreamState>();
    stream->state->id = connection.new_id();
    stream->state->device = device->index;
    const uint64_t request = connection.new_id();
    flatbuffers::FlatBufferBuilder builder(64);
    finish_message(builder, wire::CreateStreamCreate(builder, request, device->index,
                                                     stream->state->id, desc.flags));
    connection.add_stream(stream->state);
    ReplyData reply;
    if (udal_result_t r = connection.call(kFn, request, make_frame(builder), reply)) {
      connection.remove_stream(stream->state->id);
      return r;
    }
    *out_stream = udal::sdk::to_handle<udal_stream_t>(device->live->adopt(std::move(stream)));
    return UDAL_SUCCESS;
  });
}

udal_result_t stream_destroy(udal_stream_t handle) {
  constexpr const char* kFn = "udal_stream_destroy";
  Stream* raw = to<Stream>(handle);
  std::unique_ptr<Stream> stream = raw->device->live->release(raw);
  if (!stream) return UDAL_SUCCESS;
  Connection& connection = *stream->device->connection;
  udal_result_t result = wait_stream(connection, *stream->state, UDAL_TIMEOUT_INFINITE, kFn);
  {
    // Host functions already handed to the stream's thread finish before it goes.
    std::unique_lock lock(connection.mutex());
    connection.wait(lock, UDAL_TIMEOUT_INFINITE,
                    [&] { return stream->state->host_calls_running == 0; });
  }
  connection.remove_stream(stream->state->id);
  stream->state->callbacks.reset();
  if (!connection.lost()) {
    udal::sdk::guard(kFn, [&]() -> udal_result_t {
      flatbuffers::FlatBufferBuilder builder(64);
      finish_message(builder, wire::CreateStreamDestroy(builder, stream->state->id));
      connection.send(make_frame(builder));
      return UDAL_SUCCESS;
    });
  }
  // A server failure of earlier work was the stream's to report; the stream is gone now.
  return result == UDAL_ERROR_DEVICE_LOST ? result : UDAL_SUCCESS;
}

udal_result_t stream_copy_buffer(udal_stream_t stream_handle, udal_buffer_t src_handle,
                                 uint64_t src_offset, udal_buffer_t dst_handle,
                                 uint64_t dst_offset, uint64_t size) {
  constexpr const char* kFn = "udal_stream_copy_buffer";
  Stream& stream = *to<Stream>(stream_handle);
  const Buffer& src = *to<Buffer>(src_handle);
  const Buffer& dst = *to<Buffer>(dst_handle);
  if (udal_result_t r = same_device(kFn, stream, src, "source")) return r;
  if (udal_result_t r = same_device(kFn, stream, dst, "destination")) return r;
  if (!in_range(src, src_offset, size)) {
    return fail(UDAL_ERROR_OUT_OF_RANGE,
                "{}: copy of {} bytes at source offset {} runs past the end of buffer {} ({} "
                "bytes)",
                kFn, size, src_offset, fmt::ptr(&src), src.size);
  }
  if (!in_range(dst, dst_offset, size)) {
    return fail(UDAL_ERROR_OUT_OF_RANGE,
                "{}: copy of {} bytes at destination offset {} runs past the end of buffer {} "
                "({} bytes)",
                kFn, size, dst_offset, fmt::ptr(&dst), dst.size);
  }
  if (&src == &dst && src_offset < dst_offset + size && dst_offset < src_offset + size) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: the ranges [{}, {}) and [{}, {}) of buffer {} overlap", kFn, src_offset,
                src_offset + size, dst_offset, dst_offset + size, fmt::ptr(&src));
  }
  return enqueue(kFn, stream, [&](Connection& connection, StreamState& state) {
    flatbuffers::FlatBufferBuilder builder(128);
    finish_message(builder, wire::CreateCopyBuffer(builder, state.id, ++state.last_seq, src.id,
                                                   src_offset, dst.id, dst_offset, size));
    connection.send(make_frame(builder));
  });
}

udal_result_t stream_fill_buffer(udal_stream_t stream_handle, udal_buffer_t dst_handle,
                                 uint64_t offset, uint64_t size, const void* pattern,
                                 uint32_t pattern_size) {
  constexpr const char* kFn = "udal_stream_fill_buffer";
  Stream& stream = *to<Stream>(stream_handle);
  const Buffer& dst = *to<Buffer>(dst_handle);
  if (udal_result_t r = same_device(kFn, stream, dst, "destination")) return r;
  if (pattern_size != 1 && pattern_size != 2 && pattern_size != 4 && pattern_size != 8 &&
      pattern_size != 16) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: pattern_size {} is not 1, 2, 4, 8 or 16", kFn,
                pattern_size);
  }
  if (!in_range(dst, offset, size)) {
    return fail(UDAL_ERROR_OUT_OF_RANGE,
                "{}: fill of {} bytes at offset {} runs past the end of buffer {} ({} bytes)", kFn,
                size, offset, fmt::ptr(&dst), dst.size);
  }
  return enqueue(kFn, stream, [&](Connection& connection, StreamState& state) {
    flatbuffers::FlatBufferBuilder builder(128);
    const auto bytes = builder.CreateVector(static_cast<const uint8_t*>(pattern), pattern_size);
    finish_message(builder, wire::CreateFillBuffer(builder, state.id, ++state.last_seq, dst.id,
                                                   offset, size, bytes));
    connection.send(make_frame(builder));
  });
}

udal_result_t stream_write_buffer(udal_stream_t stream_handle, udal_buffer_t dst_handle,
                                  uint64_t dst_offset, const void* src, uint64_t size) {
  constexpr const char* kFn = "udal_stream_write_buffer";
  Stream& stream = *to<Stream>(stream_handle);
  const Buffer& dst = *to<Buffer>(dst_handle);
  if (udal_result_t r = same_device(kFn, stream, dst, "destination")) return r;
  if (!in_range(dst, dst_offset, size)) {
    return fail(UDAL_ERROR_OUT_OF_RANGE,
                "{}: write of {} bytes at offset {} runs past the end of buffer {} ({} bytes)",
                kFn, size, dst_offset, fmt::ptr(&dst), dst.size);
  }
  // The caller keeps |src| valid and unchanged until the write completes (udal.h), so the
  // bytes are sent from where they are, in chunks that stream while the server copies.
  return enqueue(kFn, stream, [&](Connection& connection, StreamState& state) {
    const auto* bytes = static_cast<const uint8_t*>(src);
    for (uint64_t done = 0; done < size;) {
      const uint64_t n = std::min(size - done, kTransferChunkBytes);
      connection.send_write(state.id, ++state.last_seq, dst.id, dst_offset + done, bytes + done, n);
      done += n;
    }
  });
}

udal_result_t stream_read_buffer(udal_stream_t stream_handle, udal_buffer_t src_handle,
                                 uint64_t src_offset, void* dst, uint64_t size) {
  constexpr const char* kFn = "udal_stream_read_buffer";
  Stream& stream = *to<Stream>(stream_handle);
  const Buffer& src = *to<Buffer>(src_handle);
  if (udal_result_t r = same_device(kFn, stream, src, "source")) return r;
  if (!in_range(src, src_offset, size)) {
    return fail(UDAL_ERROR_OUT_OF_RANGE,
                "{}: read of {} bytes at offset {} runs past the end of buffer {} ({} bytes)",
                kFn, size, src_offset, fmt::ptr(&src), src.size);
  }
  // The server sends each chunk once the read has run there; the io thread stores it at
  // |dst| before the stream's later completions arrive (one ordered connection).
  return enqueue(kFn, stream, [&](Connection& connection, StreamState& state) {
    auto* bytes = static_cast<uint8_t*>(dst);
    for (uint64_t done = 0; done < size;) {
      const uint64_t n = std::min(size - done, kTransferChunkBytes);
      const uint64_t seq = ++state.last_seq;
      connection.expect_read(state.id, seq, bytes + done, n);
      flatbuffers::FlatBufferBuilder builder(128);
      finish_message(builder, wire::CreateReadBuffer(builder, state.id, seq, src.id,
                                                     src_offset + done, n));
      connection.send(make_frame(builder));
      done += n;
    }
  });
}

udal::sdk::KernelSignature Kernel::signature() const noexcept {
  udal::sdk::KernelSignature out;
  out.name = name;
  const bool per_kind = format == UDAL_MODULE_FORMAT_SPIRV_COMPUTE;
  if (!per_kind) out.argument_count = info.argument_count;
  out.declared = !declarations.empty() && declarations.size() == info.argument_count;
  if (out.declared) out.args = declarations;
  out.uses_local_memory = (info.flags & UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY) != 0;
  return out;
}

udal_result_t stream_launch(udal_stream_t stream_handle, udal_kernel_t kernel_handle,
                            const udal_launch_desc_t* desc_in) {
  constexpr const char* kFn = "udal_stream_launch";
  udal_launch_desc_t desc;
  if (udal_result_t r = udal::sdk::read_desc(kFn, "desc", desc_in, &desc)) return r;
  Stream& stream = *to<Stream>(stream_handle);
  const Kernel& kernel = *to<Kernel>(kernel_handle);
  const udal_device_info_t& info = stream.device->info;
  if (kernel.device != stream.device) {
    return fail(UDAL_ERROR_INVALID_HANDLE,
                "{}: kernel {} belongs to device '{}', the stream to device '{}'", kFn,
                fmt::ptr(&kernel), kernel.device->info.name, info.name);
  }
  auto resolve = [&](uint32_t i, udal_buffer_t handle, udal::sdk::BufferView& out) {
    const Buffer& buffer = *to<Buffer>(handle);
    if (buffer.dispatch != stream.dispatch || buffer.device != stream.device) {
      return fail(UDAL_ERROR_INVALID_HANDLE,
                  "{}: args[{}] is buffer {} of another device than the stream's", kFn, i,
                  fmt::ptr(&buffer));
    }
    out = {&buffer, buffer.size};
    return UDAL_SUCCESS;
  };
  if (udal_result_t r = udal::sdk::check_launch(kFn, info, kernel.signature(), desc, resolve)) {
    return r;
  }
  // What the server told of this kernel beyond the device's limits.
  uint64_t invocations = uint64_t{desc.group_size[0]} * desc.group_size[1];
  invocations *= desc.group_size[2];  // within max_group_invocations (32 bits): no overflow
  if (kernel.info.max_group_invocations != 0 && invocations > kernel.info.max_group_invocations) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: group size {}x{}x{} = {} work-items is over kernel '{}''s "
                "max_group_invocations {}",
                kFn, desc.group_size[0], desc.group_size[1], desc.group_size[2], invocations,
                kernel.name, kernel.info.max_group_invocations);
  }
  if ((kernel.info.flags & UDAL_KERNEL_FLAG_REQUIRED_GROUP_SIZE) &&
      (desc.group_size[0] != kernel.info.required_group_size[0] ||
       desc.group_size[1] != kernel.info.required_group_size[1] ||
       desc.group_size[2] != kernel.info.required_group_size[2])) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: kernel '{}' requires group size {}x{}x{}, the launch gives {}x{}x{}", kFn,
                kernel.name, kernel.info.required_group_size[0],
                kernel.info.required_group_size[1], kernel.info.required_group_size[2],
                desc.group_size[0], desc.group_size[1], desc.group_size[2]);
  }
  // Vulkan-flavoured SPIR-V matches buffers to bindings and values to push-constant members,
  // each kind in its own order (docs/spec.md); every other format matches by position.
  const bool per_kind = kernel.format == UDAL_MODULE_FORMAT_SPIRV_COMPUTE;
  if (per_kind && (kernel.info.flags & UDAL_KERNEL_FLAG_ARGUMENT_INFO)) {
    if (udal_result_t r = check_per_kind(kFn, kernel, desc)) return r;
  }
  return enqueue(kFn, stream, [&](Connection& connection, StreamState& state) {
    flatbuffers::FlatBufferBuilder builder(512);
    std::vector<flatbuffers::Offset<wire::LaunchArg>> args;
    args.reserve(desc.arg_count);
    for (uint32_t i = 0; i < desc.arg_count; ++i) {
      const udal_kernel_arg_t& arg = desc.args[i];
      if (arg.kind == UDAL_ARG_KIND_BUFFER) {
        args.push_back(wire::CreateLaunchArg(builder, arg.kind, to<Buffer>(arg.buffer)->id,
                                             arg.offset, arg.access));
      } else {
        const auto value =
            builder.CreateVector(static_cast<const uint8_t*>(arg.value), arg.value_size);
        args.push_back(wire::CreateLaunchArg(builder, arg.kind, 0, 0, arg.access, value));
      }
    }
    const auto arg_vector = builder.CreateVector(args);
    const auto counts = builder.CreateVector(desc.group_count, 3);
    const auto sizes = builder.CreateVector(desc.group_size, 3);
    finish_message(builder, wire::CreateLaunch(builder, state.id, ++state.last_seq, kernel.id,
                                               counts, sizes, desc.local_memory_bytes,
                                               arg_vector));
    connection.send(make_frame(builder));
  });
}

udal_result_t stream_record_event(udal_stream_t stream_handle, udal_event_t event_handle) {
  constexpr const char* kFn = "udal_stream_record_event";
  Stream& stream = *to<Stream>(stream_handle);
  Event& event = *to<Event>(event_handle);
  if (event.device != stream.device) {
    return fail(UDAL_ERROR_INVALID_HANDLE,
                "{}: event {} belongs to device '{}', the stream to device '{}'", kFn,
                fmt::ptr(&event), event.device->info.name, stream.device->info.name);
  }
  if (event.state->flags & UDAL_EVENT_FLAG_HOST_SIGNAL) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: event {} is a UDAL_EVENT_FLAG_HOST_SIGNAL event, completed by "
                "udal_event_signal, never recorded",
                kFn, fmt::ptr(&event));
  }
  return enqueue(kFn, stream, [&](Connection& connection, StreamState& state) {
    const uint64_t seq = ++state.last_seq;
    uint64_t generation = 0;
    {
      std::lock_guard lock(connection.mutex());
      generation = ++event.state->generation;
      event.state->record_stream = stream.state;
      event.state->record_seq = seq;
      event.state->error = UDAL_SUCCESS;
      event.state->error_message.clear();
    }
    flatbuffers::FlatBufferBuilder builder(64);
    finish_message(builder, wire::CreateRecordEvent(builder, state.id, seq, event.state->id,
                                                    generation));
    // A record is usually waited for (or marks the end of a batch): sent at once.
    connection.send(make_frame(builder), /*urgent=*/true);
  });
}

udal_result_t stream_wait_event(udal_stream_t stream_handle, udal_event_t event_handle) {
  constexpr const char* kFn = "udal_stream_wait_event";
  Stream& stream = *to<Stream>(stream_handle);
  Event& event = *to<Event>(event_handle);
  if (event.device != stream.device) {
    return fail(UDAL_ERROR_INVALID_HANDLE,
                "{}: event {} belongs to device '{}', the stream to device '{}'", kFn,
                fmt::ptr(&event), event.device->info.name, stream.device->info.name);
  }
  return enqueue(kFn, stream, [&](Connection& connection, StreamState& state) {
    flatbuffers::FlatBufferBuilder builder(64);
    finish_message(builder,
                   wire::CreateWaitEvent(builder, state.id, ++state.last_seq, event.state->id));
    connection.send(make_frame(builder));
  });
}

udal_result_t stream_synchronize(udal_stream_t stream_handle, uint64_t timeout_ns) {
  Stream& stream = *to<Stream>(stream_handle);
  return wait_stream(*stream.device->connection, *stream.state, timeout_ns,
                     "udal_stream_synchronize");
}

udal_result_t stream_enqueue_host_function(udal_stream_t stream_handle, udal_host_function_t fn,
                                           void* user_data) {
  constexpr const char* kFn = "udal_stream_enqueue_host_function";
  Stream& stream = *to<Stream>(stream_handle);
  return enqueue(kFn, stream, [&](Connection& connection, StreamState& state) {
    const uint64_t seq = ++state.last_seq;
    connection.add_host_call(state, seq, fn, user_data);
    flatbuffers::FlatBufferBuilder builder(64);
    finish_message(builder, wire::CreateHostFunction(builder, state.id, seq));
    connection.send(make_frame(builder));
  });
}

}  // namespace udal::remote
