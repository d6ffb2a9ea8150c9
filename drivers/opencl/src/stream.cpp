// Streams: in-order command queues (a profiling one from a stream's first TIMING record, so
// TIMING events can read their markers' timestamps), records, waits and host functions.
#include "stream.h"

#include "event.h"

namespace udal::opencl {

using udal::sdk::fail;

// ==========================================================================================
// Host functions
// ==========================================================================================

HostFunctionWorker::HostFunctionWorker() : thread_([this] { run(); }) {}

HostFunctionWorker::~HostFunctionWorker() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void HostFunctionWorker::push(Item item) {
  {
    std::lock_guard lock(mutex_);
    items_.push_back(std::move(item));
  }
  wake_.notify_one();
}

void HostFunctionWorker::run() noexcept {
  for (;;) {
    Item item;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !items_.empty(); });
      if (items_.empty())
        return; // stopping, and nothing left to run
      item = std::move(items_.front());
      items_.pop_front();
    }
    cl_event after = item.after.get();
    // A failure of the earlier work does not skip the function: the stream's failure shows
    // at its next synchronize, and the function may be what the caller waits for.
    clWaitForEvents(1, &after);
    item.fn(item.user_data);
    clSetUserEventStatus(item.gate.get(), CL_COMPLETE);
  }
}

// ==========================================================================================
// Streams
// ==========================================================================================

namespace {

ClQueue make_queue(const DeviceState& state, bool profiling, cl_int* error) {
  const cl_command_queue_properties properties = profiling ? CL_QUEUE_PROFILING_ENABLE : 0;
  if (state.caps.version >= 20) {
    const cl_queue_properties list[] = {CL_QUEUE_PROPERTIES, properties, 0};
    return ClQueue(clCreateCommandQueueWithProperties(state.context.get(), state.id,
                                                      profiling ? list : nullptr, error));
  }
  return ClQueue(clCreateCommandQueue(state.context.get(), state.id, properties, error));
}

// Moves |stream| (its lock held) onto a profiling queue whose first command waits for the
// last one of the old queue, so the stream stays in order.
cl_int start_profiling(Stream* stream) noexcept {
  cl_int error = CL_SUCCESS;
  ClQueue profiled = make_queue(*stream->device->state, true, &error);
  if (error != CL_SUCCESS)
    return error;
  if (stream->last) {
    cl_event before = stream->last.get();
    error = clEnqueueBarrierWithWaitList(profiled.get(), 1, &before, stream->next_event());
    if (error != CL_SUCCESS)
      return error;
  }
  // Releasing the old queue flushes it; OpenCL keeps it until its commands completed.
  clFlush(stream->queue.get());
  stream->queue = std::move(profiled);
  stream->profiling = true;
  return CL_SUCCESS;
}

} // namespace

ClEvent stream_marker(Stream* stream, cl_int* error) noexcept {
  std::lock_guard lock(stream->mutex);
  *error = clEnqueueMarkerWithWaitList(stream->queue.get(), 0, nullptr, stream->next_event());
  if (*error != CL_SUCCESS)
    return {};
  // Whoever waits on the marker (another stream, the host) needs it submitted.
  clFlush(stream->queue.get());
  return stream->last;
}

udal_result_t stream_create(udal_device_t device_handle, const udal_stream_desc_t* desc_in,
                            udal_stream_t* out_stream) {
  constexpr const char* fn = "udal_stream_create";
  if (out_stream == nullptr) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: out_stream is NULL", fn);
  }
  *out_stream = nullptr;
  if (desc_in != nullptr) {
    if (udal_result_t r = udal::sdk::check_struct(fn, "desc", desc_in))
      return r;
  }
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    Device* device = to_device(device_handle);
    DeviceState& state = *device->state;
    const udal_stream_desc_t desc = udal::sdk::read_struct(desc_in);
    if (desc.flags != 0) {
      return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: desc->flags {:#x} has unknown bits", fn,
                  desc.flags);
    }
    cl_int created = CL_SUCCESS;
    ClQueue queue = make_queue(state, false, &created);
    if (created != CL_SUCCESS)
      return fail_cl(fn, "creating the command queue", created);
    auto stream = std::make_unique<Stream>();
    stream->dispatch = device->dispatch;
    stream->device = device;
    stream->queue = std::move(queue);
    stream->profiling = false;
    state.streams.add(stream.get());
    *out_stream = udal::sdk::to_handle<udal_stream_t>(stream.release());
    return UDAL_SUCCESS;
  });
}

udal_result_t destroy_stream(Stream* stream) noexcept {
  std::unique_ptr<Stream> owned(stream);
  // Listed until its work is done: a buffer destroyed meanwhile on another thread waits for
  // this stream's last command too.
  const cl_int finished = clFinish(stream->current_queue().get());
  stream->worker.reset();
  stream->device->state->streams.remove(stream);
  if (finished != CL_SUCCESS) {
    return fail_cl("udal_stream_destroy", "clFinish", finished);
  }
  return UDAL_SUCCESS;
}

udal_result_t stream_destroy(udal_stream_t handle) {
  const udal_result_t r = destroy_stream(to_stream(handle));
  // The stream is gone either way; a failure of its last work is reported once.
  return r == UDAL_SUCCESS ? r : UDAL_ERROR_DEVICE_LOST;
}

udal_result_t stream_synchronize(udal_stream_t handle, uint64_t timeout_ns) {
  constexpr const char* fn = "udal_stream_synchronize";
  Stream* stream = to_stream(handle);
  if (timeout_ns == UDAL_TIMEOUT_INFINITE) {
    const cl_int finished = clFinish(stream->current_queue().get());
    if (finished != CL_SUCCESS) {
      return fail(UDAL_ERROR_DEVICE_LOST, "{}: clFinish failed with {} ({})", fn,
                  cl_error_name(finished), finished);
    }
    return UDAL_SUCCESS;
  }
  // The last command's event: nothing enqueued, or all of it done, is a success at once.
  ClEvent last;
  {
    std::lock_guard lock(stream->mutex);
    if (!stream->last)
      return UDAL_SUCCESS;
    last = stream->last;
    if (event_status(last.get()) > 0)
      clFlush(stream->queue.get());
  }
  return wait_cl_event(fn, last.get(), timeout_ns);
}

udal_result_t stream_record_event(udal_stream_t stream_handle, udal_event_t event_handle) {
  constexpr const char* fn = "udal_stream_record_event";
  Stream* stream = to_stream(stream_handle);
  Event* event = to_event(event_handle);
  if (event->device != stream->device) {
    return fail(UDAL_ERROR_INVALID_HANDLE,
                "{}: event {} belongs to device '{}', not to the stream's device '{}'", fn,
                fmt::ptr(event_handle), event->device->state->info.name,
                stream->device->state->info.name);
  }
  if (event->host_signal()) {
    return fail(UDAL_ERROR_INVALID_ARGUMENT,
                "{}: event {} is a HOST_SIGNAL event, which completes at udal_event_signal and "
                "cannot be recorded",
                fn, fmt::ptr(event_handle));
  }
  if ((event->flags & UDAL_EVENT_FLAG_TIMING) != 0) {
    std::lock_guard lock(stream->mutex);
    if (!stream->profiling) {
      if (const cl_int error = start_profiling(stream); error != CL_SUCCESS) {
        return fail_cl(fn, "making the stream's profiling command queue", error);
      }
    }
  }
  cl_int error = CL_SUCCESS;
  ClEvent marker = stream_marker(stream, &error);
  if (!marker)
    return fail_cl(fn, "clEnqueueMarkerWithWaitList", error);
  ClEvent previous;
  {
    std::lock_guard lock(event->mutex);
    previous = std::exchange(event->record, std::move(marker));
  }
  return UDAL_SUCCESS;
}

udal_result_t stream_wait_event(udal_stream_t stream_handle, udal_event_t event_handle) {
  constexpr const char* fn = "udal_stream_wait_event";
  Stream* stream = to_stream(stream_handle);
  Event* event = to_event(event_handle);
  if (event->device != stream->device) {
    return fail(UDAL_ERROR_INVALID_HANDLE,
                "{}: event {} belongs to device '{}', not to the stream's device '{}'", fn,
                fmt::ptr(event_handle), event->device->state->info.name,
                stream->device->state->info.name);
  }
  ClEvent record = event->current();
  if (!record)
    return UDAL_SUCCESS; // never recorded, or signalled: complete
  cl_event wait_list = record.get();
  std::lock_guard lock(stream->mutex);
  const cl_int error =
      clEnqueueBarrierWithWaitList(stream->queue.get(), 1, &wait_list, stream->next_event());
  if (error != CL_SUCCESS)
    return fail_cl(fn, "clEnqueueBarrierWithWaitList", error);
  return UDAL_SUCCESS;
}

udal_result_t stream_enqueue_host_function(udal_stream_t handle, udal_host_function_t fn_ptr,
                                           void* user_data) {
  constexpr const char* fn = "udal_stream_enqueue_host_function";
  if (fn_ptr == nullptr)
    return fail(UDAL_ERROR_INVALID_ARGUMENT, "{}: fn is NULL", fn);
  return udal::sdk::guard(fn, [&]() -> udal_result_t {
    Stream* stream = to_stream(handle);
    DeviceState& state = *stream->device->state;
    std::lock_guard lock(stream->mutex);
    if (!stream->worker)
      stream->worker = std::make_unique<HostFunctionWorker>();
    HostFunctionWorker::Item item{{}, fn_ptr, user_data, {}};
    cl_int error = CL_SUCCESS;
    item.gate = ClEvent(clCreateUserEvent(state.context.get(), &error));
    if (error != CL_SUCCESS)
      return fail_cl(fn, "clCreateUserEvent", error);
    error = clEnqueueMarkerWithWaitList(stream->queue.get(), 0, nullptr, item.after.out());
    if (error != CL_SUCCESS)
      return fail_cl(fn, "clEnqueueMarkerWithWaitList", error);
    stream->last = item.after;
    cl_event gate = item.gate.get();
    error = clEnqueueBarrierWithWaitList(stream->queue.get(), 1, &gate, stream->next_event());
    if (error != CL_SUCCESS) {
      // The marker is enqueued; nothing waits on the gate, so run nothing.
      return fail_cl(fn, "clEnqueueBarrierWithWaitList", error);
    }
    clFlush(stream->queue.get());
    try {
      stream->worker->push(std::move(item));
    } catch (...) {
      clSetUserEventStatus(gate, CL_COMPLETE); // never hold the stream for a function lost
      throw;
    }
    return UDAL_SUCCESS;
  });
}

} // namespace udal::opencl
