#include "session.h"

#include <chrono>
#include <thread>

#include <boost/asio/post.hpp>

#include "convert.h"
#include "server.h"

namespace udal::remote::server {

namespace {

// Flow control: the channel stops reading while this many requests wait for the work
// strand, and reads again below the second number.
constexpr uint64_t kPauseAt = 4096;
constexpr uint64_t kResumeAt = 1024;

template <typename Map>
auto* find(Map& map, uint64_t id) {
  const auto found = map.find(id);
  return found == map.end() ? nullptr : &found->second;
}

std::string last_message() { return udal_last_error_message(); }

// The context of a host function that tells the client something once the stream gets
// there: a record completed, a mark reached, a read's bytes ready, a host function due.
struct Notify {
  std::shared_ptr<Session> session;
  wire::Body kind;
  uint64_t a;
  uint64_t b;
  std::shared_ptr<Staging> staging;

  static void run(void* user_data) {
    std::unique_ptr<Notify> self(static_cast<Notify*>(user_data));
    if (self->kind == wire::Body::NONE) return;  // only releases |staging|
    flatbuffers::FlatBufferBuilder builder(64);
    OutFrame frame;
    switch (self->kind) {
      case wire::Body::EventDone:
        finish_message(builder, wire::CreateEventDone(builder, self->a, self->b));
        frame = make_frame(builder);
        break;
      case wire::Body::StreamDone:
        finish_message(builder, wire::CreateStreamDone(builder, self->a, self->b));
        frame = make_frame(builder);
        break;
      case wire::Body::HostFunctionReady:
        finish_message(builder, wire::CreateHostFunctionReady(builder, self->a, self->b));
        frame = make_frame(builder);
        break;
      case wire::Body::ReadData: {
        finish_message(builder, wire::CreateReadData(builder, self->a, self->b));
        frame = make_frame(builder, self->staging->size());
        frame.bulk = self->staging->data();
        // Sent from where the device wrote it; in flight until the channel has sent it.
        frame.bulk_owner = self->staging;
        break;
      }
      default:
        return;
    }
    self->session->send(std::move(frame));
  }
};

}  // namespace

Session::Session(Server& server, std::shared_ptr<Channel> channel, std::string identity,
                 uint64_t number)
    : server_(server),
      channel_(std::move(channel)),
      identity_(std::move(identity)),
      name_(fmt::format("session {} ({} from {})", number, identity_, channel_->peer())),
      limits_(server.config().limits_for(identity_)),
      work_(asio::make_strand(server.work_context())),
      in_flight_(std::make_shared<std::atomic<uint64_t>>(0)) {}

Session::~Session() = default;

void Session::start() { channel_->start(this); }

void Session::shut_down(const std::string& why) { channel_->say_goodbye_and_close(why); }

// ==========================================================================================
// Channel strand: decode, count, hand over
// ==========================================================================================

uint8_t* Session::on_message(const wire::Message& message, uint64_t bulk_bytes) {
  Request request;
  std::string why;
  if (!decode_request(message, bulk_bytes, request, why)) {
    server_.log().write(Level::kWarning, "{}: {}; closing the session", name_, why);
    channel_->say_goodbye_and_close(fmt::format("udal-server: {}", why));
    return nullptr;
  }
  if (!hello_seen_ && !std::holds_alternative<HelloRequest>(request)) {
    channel_->say_goodbye_and_close(fmt::format(
        "udal-server: the first message must be Hello, not {}", body_name(message.body_type())));
    return nullptr;
  }
  if (std::holds_alternative<HelloRequest>(request)) hello_seen_ = true;
  if (const auto* ping = std::get_if<PingRequest>(&request)) {
    flatbuffers::FlatBufferBuilder builder(64);
    finish_message(builder, wire::CreatePong(builder, ping->nonce));
    send(make_frame(builder));
    return nullptr;
  }
  if (std::holds_alternative<PongRequest>(request)) return nullptr;
  if (const auto* goodbye = std::get_if<GoodbyeRequest>(&request)) {
    server_.log().write(Level::kDebug, "{}: the client says goodbye: {}", name_,
                        goodbye->message);
    return nullptr;
  }
  if (auto* write = std::get_if<WriteRequest>(&request); write != nullptr && write->deferred) {
    // The bytes come later (WriteData): staged now, so the channel knows where they go.
    std::string refusal;
    auto staging = stage(write->size, refusal);
    if (staging) deferred_staging_[{write->stream, write->seq}] = staging;
    post(std::move(request), std::move(staging), std::move(refusal));
    return nullptr;
  }
  if (auto* data = std::get_if<WriteDataRequest>(&request)) {
    const auto found = deferred_staging_.find({data->stream, data->seq});
    if (found == deferred_staging_.end()) return nullptr;  // the write was refused: dropped
    if (found->second->size() != data->bytes) {
      const std::string mismatch = fmt::format(
          "a WriteData of {} bytes for a deferred write of {}", data->bytes,
          found->second->size());
      server_.log().write(Level::kWarning, "{}: {}; closing the session", name_, mismatch);
      channel_->say_goodbye_and_close(fmt::format("udal-server: {}", mismatch));
      return nullptr;
    }
    pending_ = std::move(request);
    pending_staging_ = std::move(found->second);
    pending_refusal_.clear();
    deferred_staging_.erase(found);
    return pending_staging_->data();
  }
  const uint64_t bulk = request_bulk_bytes(request);
  if (bulk == 0) {
    post(std::move(request), nullptr, {});
    return nullptr;
  }
  if (auto* write = std::get_if<WriteRequest>(&request)) {
    if (uint8_t* target = receive_in_place(*write)) {
      write->in_place = true;
      pending_ = std::move(request);
      pending_staging_.reset();
      pending_refusal_.clear();
      return target;
    }
  }
  // Data for a write or a module image: received into staging memory, unless that would
  // take the client over its in-flight limit (then the bytes are read and dropped, and the
  // request fails with a message naming the limit).
  pending_ = std::move(request);
  pending_refusal_.clear();
  pending_staging_ = stage(bulk, pending_refusal_);
  return pending_staging_ ? pending_staging_->data() : nullptr;
}

std::shared_ptr<Staging> Session::stage(uint64_t bytes, std::string& refusal) {
  const uint64_t held = in_flight_->load();
  if (limits_.in_flight_bytes != 0 && held + bytes > limits_.in_flight_bytes) {
    refusal = fmt::format(
        "udal-server: client '{}' would have {} bytes in flight, over its limit of {} "
        "(limits.in_flight_bytes{})",
        identity_, held + bytes, limits_.in_flight_bytes,
        server_.config().config_path.empty() ? "" : " in " + server_.config().config_path);
    return nullptr;
  }
  try {
    return std::make_shared<Staging>(bytes, in_flight_);
  } catch (const std::bad_alloc&) {
    refusal = fmt::format("udal-server: out of host memory for {} bytes of data", bytes);
    return nullptr;
  }
}

uint8_t* Session::receive_in_place(const WriteRequest& write) {
  // The tables belong to whichever side runs requests; with nothing queued for the work
  // strand that is this one (as for the requests post() runs inline). An idle stream and
  // no queued request mean nothing enqueued before the write is still to run, and nothing
  // after it can be enqueued before its bytes are in (this strand reads them first): the
  // bytes may land in the buffer as they arrive, as the write itself would store them.
  if (!welcomed_ || queued_.load(std::memory_order_acquire) != 0) return nullptr;
  const auto* stream = find(streams_, write.stream);
  const auto* buffer = find(buffers_, write.dst);
  if (stream == nullptr || buffer == nullptr || !buffer->mapping ||
      buffer->device != stream->device || write.offset > buffer->size ||
      write.size > buffer->size - write.offset || !idle(stream->handle)) {
    return nullptr;
  }
  return buffer->mapping->data + write.offset;
}

void Session::destroy_buffer(BufferEntry& buffer) {
  if (buffer.mapping) {
    buffer.mapping.reset();  // the last frame sending from it destroys it
  } else {
    udal_buffer_destroy(buffer.handle);
  }
}

void Session::on_bulk_received() {
  post(std::move(pending_), std::move(pending_staging_), std::move(pending_refusal_));
  pending_ = PongRequest{};
  pending_staging_.reset();
  pending_refusal_.clear();
}

namespace {

// Requests that only enqueue or release: they never block, so they may run on the
// channel's strand. Creations (allocations, module builds) go to the work pool.
bool runs_inline(const Request& request) {
  return std::holds_alternative<CopyRequest>(request) ||
         std::holds_alternative<FillRequest>(request) ||
         std::holds_alternative<WriteRequest>(request) ||
         std::holds_alternative<ReadRequest>(request) ||
         std::holds_alternative<LaunchRequest>(request) ||
         std::holds_alternative<RecordEventRequest>(request) ||
         std::holds_alternative<WaitEventRequest>(request) ||
         std::holds_alternative<StreamMarkRequest>(request) ||
         std::holds_alternative<HostFunctionRequest>(request) ||
         std::holds_alternative<HostFunctionDoneRequest>(request) ||
         std::holds_alternative<WriteDataRequest>(request) ||
         std::holds_alternative<EventSignalRequest>(request) ||
         std::holds_alternative<DestroyRequest>(request);
}

}  // namespace

void Session::post(Request request, std::shared_ptr<Staging> staging, std::string refusal) {
  // Nothing waits on the work strand: an enqueue runs here at once, saving a thread hop
  // on the way to the device (the work strand's last access to the session's tables
  // happens before its release of |queued_|, which this acquire sees).
  if (queued_.load(std::memory_order_acquire) == 0 && runs_inline(request)) {
    execute(request, staging, refusal);
    return;
  }
  if (queued_.fetch_add(1) + 1 >= kPauseAt && !paused_) {
    paused_ = true;
    channel_->pause_reading();
  }
  asio::post(work_, [self = shared_from_this(), request = std::move(request),
                     staging = std::move(staging), refusal = std::move(refusal)]() mutable {
    self->execute(request, staging, refusal);
    staging.reset();
    if (self->queued_.fetch_sub(1, std::memory_order_acq_rel) - 1 == kResumeAt) {
      asio::post(self->channel_->executor(), [self] {
        if (self->paused_) {
          self->paused_ = false;
          self->channel_->resume_reading();
        }
      });
    }
  });
}

void Session::on_closed(const std::string& reason) {
  asio::post(work_, [self = shared_from_this(), reason] { self->teardown(reason); });
}

// ==========================================================================================
// Work strand
// ==========================================================================================

void Session::execute(Request& request, const std::shared_ptr<Staging>& staging,
                      const std::string& refusal) {
  if (ended_) return;
  std::visit(
      [&](auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, HelloRequest>) {
          handle(r);
        } else if constexpr (std::is_same_v<T, PingRequest> || std::is_same_v<T, PongRequest> ||
                             std::is_same_v<T, GoodbyeRequest>) {
          // answered on the channel strand
        } else if constexpr (std::is_same_v<T, UnknownRequest>) {
          server_.log().write(Level::kDebug, "{}: ignored a {} message", name_, r.name);
        } else if constexpr (std::is_same_v<T, WriteDataRequest>) {
          if (welcomed_) handle(r);
        } else if constexpr (std::is_same_v<T, ModuleCreateRequest> ||
                             std::is_same_v<T, WriteRequest>) {
          if (welcomed_) handle(r, staging, refusal);
        } else {
          if (welcomed_) handle(r);
        }
      },
      request);
}

void Session::handle(HelloRequest& r) {
  if (welcomed_) return;
  if (r.major != kProtocolMajor) {
    const std::string why = fmt::format(
        "udal-server speaks remote protocol {}.{}, the client {}.{}: a major version is never "
        "mixed; install the same UDAL major version on both machines",
        kProtocolMajor, kProtocolMinor, r.major, r.minor);
    server_.log().write(Level::kWarning, "{}: refused ({}): {}", name_, r.client, why);
    channel_->say_goodbye_and_close(why);
    return;
  }
  welcomed_ = true;
  server_.log().write(Level::kInfo, "{}: {} (protocol {}.{}) connected", name_, r.client,
                      r.major, r.minor);
  flatbuffers::FlatBufferBuilder builder(4096);
  std::vector<flatbuffers::Offset<wire::DeviceInfo>> devices;
  for (const ServerDevice& device : server_.devices()) devices.push_back(to_wire(builder, device.info));
  const auto list = builder.CreateVector(devices);
  const auto server = builder.CreateString(server_.description());
  const auto who = builder.CreateString(identity_);
  finish_message(builder, wire::CreateWelcome(builder, kProtocolMajor, kProtocolMinor, server, who,
                                              list, server_.config().keepalive_interval_ms));
  send(make_frame(builder));
}

void Session::reply(uint64_t request, udal_result_t result, const std::string& message) {
  flatbuffers::FlatBufferBuilder builder(256);
  const auto text = builder.CreateString(message);
  wire::ReplyBuilder b(builder);
  b.add_request(request);
  b.add_result(result);
  b.add_message(text);
  finish_message(builder, b.Finish());
  send(make_frame(builder));
}

void Session::stream_error(uint64_t stream, uint64_t seq, udal_result_t result,
                           const std::string& message) {
  server_.log().write(Level::kDebug, "{}: stream {} work {} failed: {}", name_, stream, seq,
                      message);
  flatbuffers::FlatBufferBuilder builder(256);
  const auto text = builder.CreateString(message);
  finish_message(builder, wire::CreateStreamError(builder, stream, seq, result, text));
  send(make_frame(builder));
}

udal_device_t Session::device_or_reply(uint32_t index, uint64_t request) {
  if (index < server_.devices().size()) return server_.devices()[index].handle;
  reply(request, UDAL_ERROR_NOT_FOUND,
        fmt::format("udal-server: device {} does not exist (the server has {})", index,
                    server_.devices().size()));
  return nullptr;
}

uint64_t Session::object_count() const {
  return buffers_.size() + streams_.size() + events_.size() + modules_.size() + kernels_.size();
}

bool Session::object_fits_or_reply(uint64_t request, uint64_t id, const char* what) {
  if (buffers_.count(id) || streams_.count(id) || events_.count(id) || modules_.count(id) ||
      kernels_.count(id)) {
    reply(request, UDAL_ERROR_INVALID_ARGUMENT,
          fmt::format("udal-server: the client reused object id {} for a new {}", id, what));
    return false;
  }
  if (limits_.objects != 0 && object_count() >= limits_.objects) {
    reply(request, UDAL_ERROR_OUT_OF_HOST_MEMORY,
          fmt::format("udal-server: client '{}' holds {} objects, its limit (limits.objects{})",
                      identity_, object_count(),
                      server_.config().config_path.empty()
                          ? ""
                          : " in " + server_.config().config_path));
    return false;
  }
  return true;
}

udal_result_t Session::notify_when_done(udal_stream_t stream, wire::Body kind, uint64_t a,
                                        uint64_t b, std::shared_ptr<Staging> staging) {
  auto notify = std::make_unique<Notify>(Notify{shared_from_this(), kind, a, b, std::move(staging)});
  const udal_result_t result = udal_stream_enqueue_host_function(stream, &Notify::run, notify.get());
  if (result == UDAL_SUCCESS) notify.release();
  return result;
}

bool Session::idle(udal_stream_t stream) {
  return udal_stream_synchronize(stream, 0) == UDAL_SUCCESS;
}

udal_result_t Session::wait_then_mark(udal_stream_t stream, udal_event_t event) {
  // A wait is never left the last work of a stream: a driver that holds waits on the host
  // may count a stream whose only pending work is a wait as synchronized (the Vulkan
  // driver did, until the suite's HostSignalTest.AStreamWhoseLastWorkIsAPendingWaitIsNot-
  // Finished caught it; a server may still run a driver certified before that test), and
  // idle() must not take such a stream for idle. A host function that does nothing, after
  // the wait, is pending work on every driver until the wait passes.
  udal_result_t result = udal_stream_wait_event(stream, event);
  if (result == UDAL_SUCCESS) result = notify_when_done(stream, wire::Body::NONE, 0, 0, nullptr);
  return result;
}

void Session::handle(MemoryUsageRequest& r) {
  udal_device_t device = device_or_reply(r.device, r.request);
  if (device == nullptr) return;
  udal_memory_usage_t usage = UDAL_MEMORY_USAGE_INIT;
  const udal_result_t result = udal_device_get_memory_usage(device, &usage);
  if (result != UDAL_SUCCESS) {
    reply(r.request, result, last_message());
    return;
  }
  // A CPU device's buffers are made SHARED here (handle(BufferCreateRequest&)): they are
  // still device memory to the client.
  if (server_.devices()[r.device].info.device_type == UDAL_DEVICE_TYPE_CPU) {
    usage.device_allocated_bytes += usage.host_visible_allocated_bytes;
  }
  // The counts are the server's (every client's buffers: what competes for the device);
  // the budget is what this client may still reach under its own limit.
  if (limits_.device_memory_bytes != 0) {
    uint64_t mine = 0;
    for (const auto& [id, buffer] : buffers_) {
      if (buffer.device == r.device) mine += buffer.size;
    }
    const uint64_t others = usage.device_allocated_bytes > mine ? usage.device_allocated_bytes - mine : 0;
    const uint64_t room = limits_.device_memory_bytes > device_bytes_
                              ? limits_.device_memory_bytes - device_bytes_
                              : 0;
    usage.device_budget_bytes =
        std::min(usage.device_budget_bytes, others + mine + room);
  }
  flatbuffers::FlatBufferBuilder builder(256);
  const auto wire_usage = to_wire(builder, usage);
  const auto text = builder.CreateString("");
  wire::ReplyBuilder b(builder);
  b.add_request(r.request);
  b.add_result(UDAL_SUCCESS);
  b.add_message(text);
  b.add_memory_usage(wire_usage);
  finish_message(builder, b.Finish());
  send(make_frame(builder));
}

void Session::handle(BufferCreateRequest& r) {
  udal_device_t device = device_or_reply(r.device, r.request);
  if (device == nullptr || !object_fits_or_reply(r.request, r.id, "buffer")) return;
  if (limits_.device_memory_bytes != 0 &&
      (r.size > limits_.device_memory_bytes ||
       device_bytes_ > limits_.device_memory_bytes - r.size)) {
    reply(r.request, UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
          fmt::format("udal-server: a buffer of {} bytes would take client '{}' to {} bytes of "
                      "device memory, over its limit of {} (limits.device_memory_bytes{})",
                      r.size, identity_, device_bytes_ + r.size, limits_.device_memory_bytes,
                      server_.config().config_path.empty()
                          ? ""
                          : " in " + server_.config().config_path));
    return;
  }
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = r.size;
  desc.alignment = r.alignment;
  desc.flags = r.flags;
  desc.kind = static_cast<udal_buffer_kind_t>(r.kind);
  udal_buffer_t buffer = nullptr;
  std::shared_ptr<Mapping> mapping;
  // A CPU device's device memory is host memory: its buffers are made SHARED (the same
  // pages) and mapped for their life, so a write's bytes can be received into them
  // directly (receive_in_place) instead of through staging memory and a copy.
  if (desc.kind == UDAL_BUFFER_KIND_DEVICE &&
      server_.devices()[r.device].info.device_type == UDAL_DEVICE_TYPE_CPU) {
    desc.kind = UDAL_BUFFER_KIND_SHARED;
    if (udal_buffer_create(device, &desc, &buffer) == UDAL_SUCCESS) {
      void* pointer = nullptr;
      if (udal_buffer_map(buffer, 0, r.size, &pointer) == UDAL_SUCCESS) {
        // Constructed in place: a Mapping destroys its buffer when it goes.
        mapping = std::make_shared<Mapping>(buffer, static_cast<uint8_t*>(pointer));
      } else {
        udal_buffer_destroy(buffer);
        buffer = nullptr;
      }
    }
    desc.kind = UDAL_BUFFER_KIND_DEVICE;
  }
  udal_result_t result = UDAL_SUCCESS;
  if (buffer == nullptr) result = udal_buffer_create(device, &desc, &buffer);
  if (result != UDAL_SUCCESS) {
    reply(r.request, result, last_message());
    return;
  }
  uint64_t address = 0;
  if (r.flags & UDAL_BUFFER_FLAG_DEVICE_ADDRESS) {
    result = udal_buffer_get_device_address(buffer, &address);
    if (result != UDAL_SUCCESS) {
      const std::string message = last_message();
      BufferEntry failed{buffer, r.size, r.device, std::move(mapping)};
      destroy_buffer(failed);
      reply(r.request, result, message);
      return;
    }
  }
  buffers_[r.id] = BufferEntry{buffer, r.size, r.device, std::move(mapping)};
  device_bytes_ += r.size;
  flatbuffers::FlatBufferBuilder builder(128);
  const auto text = builder.CreateString("");
  wire::ReplyBuilder b(builder);
  b.add_request(r.request);
  b.add_result(UDAL_SUCCESS);
  b.add_message(text);
  b.add_device_address(address);
  finish_message(builder, b.Finish());
  send(make_frame(builder));
}

void Session::handle(EventCreateRequest& r) {
  udal_device_t device = device_or_reply(r.device, r.request);
  if (device == nullptr || !object_fits_or_reply(r.request, r.id, "event")) return;
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = r.flags;
  udal_event_t event = nullptr;
  const udal_result_t result = udal_event_create(device, &desc, &event);
  if (result == UDAL_SUCCESS) events_[r.id] = {event, r.device, r.flags, false};
  reply(r.request, result, result == UDAL_SUCCESS ? std::string() : last_message());
}

void Session::handle(StreamCreateRequest& r) {
  udal_device_t device = device_or_reply(r.device, r.request);
  if (device == nullptr || !object_fits_or_reply(r.request, r.id, "stream")) return;
  udal_stream_desc_t desc = UDAL_STREAM_DESC_INIT;
  desc.flags = r.flags;
  udal_stream_t stream = nullptr;
  const udal_result_t result = udal_stream_create(device, &desc, &stream);
  if (result == UDAL_SUCCESS) streams_[r.id] = StreamEntry{stream, r.device, false};
  reply(r.request, result, result == UDAL_SUCCESS ? std::string() : last_message());
}

void Session::handle(ModuleCreateRequest& r, const std::shared_ptr<Staging>& image,
                     const std::string& refusal) {
  if (!refusal.empty() || image == nullptr) {
    reply(r.request, UDAL_ERROR_OUT_OF_HOST_MEMORY, refusal);
    return;
  }
  udal_device_t device = device_or_reply(r.device, r.request);
  if (device == nullptr || !object_fits_or_reply(r.request, r.id, "module")) return;
  udal_module_image_t module_image = UDAL_MODULE_IMAGE_INIT;
  module_image.data = image->data();
  module_image.size = image->size();
  module_image.format = static_cast<udal_module_format_t>(r.format);
  std::vector<udal_specialization_constant_t> constants;
  for (const SpecConstant& c : r.constants) {
    constants.push_back({c.id, static_cast<uint32_t>(c.value.size()), c.value.data()});
  }
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = &module_image;
  desc.image_count = 1;
  desc.build_options = r.has_build_options ? r.build_options.c_str() : nullptr;
  desc.specialization_constants = constants.empty() ? nullptr : constants.data();
  desc.specialization_constant_count = static_cast<uint32_t>(constants.size());
  udal_module_t module = nullptr;
  const udal_result_t result = udal_module_create(device, &desc, &module);
  if (result != UDAL_SUCCESS) {
    reply(r.request, result, last_message());
    return;
  }
  modules_[r.id] = {module, r.device};
  udal_module_info_t info = UDAL_MODULE_INFO_INIT;
  udal_module_get_info(module, &info);
  flatbuffers::FlatBufferBuilder builder(128);
  const auto text = builder.CreateString("");
  wire::ReplyBuilder b(builder);
  b.add_request(r.request);
  b.add_result(UDAL_SUCCESS);
  b.add_message(text);
  b.add_module_format(static_cast<int32_t>(info.format));
  finish_message(builder, b.Finish());
  send(make_frame(builder));
}

void Session::handle(KernelCreateRequest& r) {
  auto* module = find(modules_, r.module);
  if (module == nullptr) {
    reply(r.request, UDAL_ERROR_INVALID_HANDLE,
          fmt::format("udal-server: module id {} is not a module of this session", r.module));
    return;
  }
  if (!object_fits_or_reply(r.request, r.id, "kernel")) return;
  udal_kernel_t kernel = nullptr;
  udal_result_t result = udal_kernel_create(module->handle, r.name.c_str(), &kernel);
  if (result != UDAL_SUCCESS) {
    reply(r.request, result, last_message());
    return;
  }
  kernels_[r.id] = {kernel, module->device};
  udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
  udal_kernel_get_info(kernel, &info);
  flatbuffers::FlatBufferBuilder builder(512);
  std::vector<flatbuffers::Offset<wire::ArgInfo>> args;
  udal_result_t argument_info_result = UDAL_SUCCESS;
  std::string argument_info_message;
  if (info.flags & UDAL_KERNEL_FLAG_ARGUMENT_INFO) {
    for (uint32_t i = 0; i < info.argument_count && info.argument_count != UDAL_ARGUMENT_COUNT_UNKNOWN; ++i) {
      udal_kernel_arg_info_t arg = UDAL_KERNEL_ARG_INFO_INIT;
      udal_kernel_get_argument_info(kernel, i, &arg);
      args.push_back(wire::CreateArgInfo(builder, arg.kind, arg.value_size, arg.access));
    }
  } else {
    udal_kernel_arg_info_t arg = UDAL_KERNEL_ARG_INFO_INIT;
    argument_info_result = udal_kernel_get_argument_info(kernel, 0, &arg);
    if (argument_info_result == UDAL_SUCCESS) {
      argument_info_result = UDAL_ERROR_UNSUPPORTED;
      argument_info_message = "the kernel does not describe its arguments";
    } else {
      argument_info_message = last_message();
    }
  }
  const auto arg_vector = builder.CreateVector(args);
  const auto required = builder.CreateVector(info.required_group_size, 3);
  const auto argument_text = builder.CreateString(argument_info_message);
  const auto kernel_info = wire::CreateKernelInfo(builder, info.flags, info.argument_count,
                                                  info.max_group_invocations, required, arg_vector,
                                                  argument_info_result, argument_text);
  const auto text = builder.CreateString("");
  wire::ReplyBuilder b(builder);
  b.add_request(r.request);
  b.add_result(UDAL_SUCCESS);
  b.add_message(text);
  b.add_kernel(kernel_info);
  finish_message(builder, b.Finish());
  send(make_frame(builder));
}

void Session::handle(EventElapsedRequest& r) {
  auto* start = find(events_, r.start);
  auto* end = find(events_, r.end);
  if (start == nullptr || end == nullptr) {
    reply(r.request, UDAL_ERROR_INVALID_HANDLE,
          fmt::format("udal-server: event id {} is not an event of this session",
                      start == nullptr ? r.start : r.end));
    return;
  }
  uint64_t ns = 0;
  const udal_result_t result = udal_event_elapsed_ns(start->handle, end->handle, &ns);
  flatbuffers::FlatBufferBuilder builder(128);
  const auto text = builder.CreateString(result == UDAL_SUCCESS ? std::string() : last_message());
  wire::ReplyBuilder b(builder);
  b.add_request(r.request);
  b.add_result(result);
  b.add_message(text);
  b.add_elapsed_ns(ns);
  finish_message(builder, b.Finish());
  send(make_frame(builder));
}

void Session::handle(DestroyRequest& r) {
  // An id this session does not hold is ignored: destroys are not answered, and another
  // session's objects are never reachable from here.
  switch (r.kind) {
    case ObjectKind::kBuffer:
      if (auto* buffer = find(buffers_, r.id)) {
        if (buffer->mapping) {
          device_bytes_ -= buffer->size;
          destroy_buffer(*buffer);
          buffers_.erase(r.id);
        } else if (udal_buffer_destroy(buffer->handle) == UDAL_SUCCESS) {
          device_bytes_ -= buffer->size;
          buffers_.erase(r.id);
        }
      }
      break;
    case ObjectKind::kEvent:
      if (auto* event = find(events_, r.id)) {
        udal_event_destroy(event->handle);
        events_.erase(r.id);
      }
      break;
    case ObjectKind::kModule:
      if (auto* module = find(modules_, r.id)) {
        udal_module_destroy(module->handle);
        modules_.erase(r.id);
      }
      break;
    case ObjectKind::kKernel:
      if (auto* kernel = find(kernels_, r.id)) {
        udal_kernel_destroy(kernel->handle);
        kernels_.erase(r.id);
      }
      break;
    case ObjectKind::kStream:
      if (auto* stream = find(streams_, r.id)) {
        // Host functions the client never finished release the stream first.
        for (auto* gates : {&host_waits_, &deferred_gates_}) {
          for (auto it = gates->lower_bound({r.id, 0});
               it != gates->end() && it->first.first == r.id;) {
            udal_event_destroy(it->second);
            it = gates->erase(it);
          }
        }
        // The client waited for the stream's work first, but a client that did not must not
        // hold this strand: the server's reaper thread waits for it.
        server_.reap(stream->handle);
        streams_.erase(r.id);
      }
      break;
  }
}

void Session::handle(EventSignalRequest& r) {
  if (auto* event = find(events_, r.id)) {
    if (udal_event_signal(event->handle) != UDAL_SUCCESS) {
      server_.log().write(Level::kDebug, "{}: signal of event {}: {}", name_, r.id,
                          last_message());
    }
  }
}

#define UDAL_REMOTE_FIND_STREAM(r)                                                            \
  auto* stream = find(streams_, (r).stream);                                                  \
  if (stream == nullptr) {                                                                    \
    stream_error((r).stream, (r).seq, UDAL_ERROR_INVALID_HANDLE,                              \
                 fmt::format("udal-server: stream id {} is not a stream of this session",     \
                             (r).stream));                                                    \
    return;                                                                                   \
  }                                                                                           \
  stream->reads_only = false;

#define UDAL_REMOTE_FIND_BUFFER(var, r, id, role)                                             \
  auto* var = find(buffers_, (id));                                                           \
  if (var == nullptr) {                                                                       \
    stream_error((r).stream, (r).seq, UDAL_ERROR_INVALID_HANDLE,                              \
                 fmt::format("udal-server: {} buffer id {} is not a buffer of this session",  \
                             role, (id)));                                                    \
    return;                                                                                   \
  }

void Session::handle(CopyRequest& r) {
  UDAL_REMOTE_FIND_STREAM(r);
  UDAL_REMOTE_FIND_BUFFER(src, r, r.src, "source");
  UDAL_REMOTE_FIND_BUFFER(dst, r, r.dst, "destination");
  const udal_result_t result = udal_stream_copy_buffer(stream->handle, src->handle, r.src_offset,
                                                       dst->handle, r.dst_offset, r.size);
  if (result < 0) stream_error(r.stream, r.seq, result, last_message());
}

void Session::handle(FillRequest& r) {
  UDAL_REMOTE_FIND_STREAM(r);
  UDAL_REMOTE_FIND_BUFFER(dst, r, r.dst, "destination");
  const udal_result_t result = udal_stream_fill_buffer(stream->handle, dst->handle, r.offset,
                                                       r.size, r.pattern.data(), r.pattern_size);
  if (result < 0) stream_error(r.stream, r.seq, result, last_message());
}

void Session::handle(WriteRequest& r, const std::shared_ptr<Staging>& data,
                     const std::string& refusal) {
  if (r.in_place) return;  // the bytes are where the write would have put them
  UDAL_REMOTE_FIND_STREAM(r);
  if (!refusal.empty() || data == nullptr) {
    stream_error(r.stream, r.seq, UDAL_ERROR_OUT_OF_HOST_MEMORY, refusal);
    return;
  }
  UDAL_REMOTE_FIND_BUFFER(dst, r, r.dst, "destination");
  udal_event_t gate = nullptr;
  if (r.deferred) {
    // The stream holds the write until WriteData has filled the staging memory.
    udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
    desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
    udal_result_t result =
        udal_event_create(server_.devices()[stream->device].handle, &desc, &gate);
    if (result == UDAL_SUCCESS) result = wait_then_mark(stream->handle, gate);
    if (result != UDAL_SUCCESS) {
      const std::string message = last_message();
      if (gate != nullptr) udal_event_destroy(gate);
      stream_error(r.stream, r.seq, result, message);
      return;
    }
    deferred_gates_[{r.stream, r.seq}] = gate;
  }
  udal_result_t result = udal_stream_write_buffer(stream->handle, dst->handle, r.offset,
                                                  data->data(), r.size);
  if (result < 0) {
    stream_error(r.stream, r.seq, result, last_message());
    return;
  }
  // The staging bytes are read when the write runs: a host function after it frees them.
  result = notify_when_done(stream->handle, wire::Body::NONE, 0, 0, data);
  if (result < 0) {
    stream_error(r.stream, r.seq, result, last_message());
    udal_stream_synchronize(stream->handle, UDAL_TIMEOUT_INFINITE);
  }
}

void Session::handle(WriteDataRequest& r) {
  const auto found = deferred_gates_.find({r.stream, r.seq});
  if (found == deferred_gates_.end()) return;
  udal_event_signal(found->second);
  udal_event_destroy(found->second);
  deferred_gates_.erase(found);
}

namespace {

// A read sent from a mapped buffer: holds its stream (|gate|) and the buffer until the
// channel has sent the bytes.
struct ReadInPlace {
  udal_event_t gate;
  std::shared_ptr<void> buffer;
  std::shared_ptr<std::atomic<uint64_t>> count;
  ~ReadInPlace() {
    udal_event_signal(gate);
    udal_event_destroy(gate);
    buffer.reset();
    count->fetch_sub(1, std::memory_order_acq_rel);
  }
};

}  // namespace

bool Session::read_in_place(ReadRequest& r, StreamEntry& stream, const BufferEntry& buffer,
                            bool reads_only) {
  if (!buffer.mapping || buffer.device != stream.device ||
      !(reads_only || idle(stream.handle))) {
    return false;
  }
  // The bytes are final now (everything before the read has run) and stay so: the gate
  // holds the stream's later work until the channel has sent them.
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  udal_event_t gate = nullptr;
  if (udal_event_create(server_.devices()[stream.device].handle, &desc, &gate) != UDAL_SUCCESS) {
    return false;
  }
  if (wait_then_mark(stream.handle, gate) != UDAL_SUCCESS) {
    udal_event_destroy(gate);
    return false;
  }
  reads_in_place_->fetch_add(1, std::memory_order_acq_rel);
  // Constructed in place: a ReadInPlace releases the stream when it goes.
  auto hold = std::make_shared<ReadInPlace>(gate, buffer.mapping, reads_in_place_);
  flatbuffers::FlatBufferBuilder builder(64);
  finish_message(builder, wire::CreateReadData(builder, r.stream, r.seq));
  OutFrame frame = make_frame(builder, r.size);
  frame.bulk = buffer.mapping->data + r.offset;
  frame.bulk_owner = std::move(hold);
  send(std::move(frame));
  stream.reads_only = true;
  return true;
}

void Session::handle(ReadRequest& r) {
  const bool reads_only = [&] {
    auto* entry = find(streams_, r.stream);
    return entry != nullptr && entry->reads_only;
  }();
  UDAL_REMOTE_FIND_STREAM(r);
  UDAL_REMOTE_FIND_BUFFER(src, r, r.src, "source");
  if (read_in_place(r, *stream, *src, reads_only)) return;
  const uint64_t held = in_flight_->load();
  if (limits_.in_flight_bytes != 0 && held + r.size > limits_.in_flight_bytes) {
    stream_error(r.stream, r.seq, UDAL_ERROR_OUT_OF_HOST_MEMORY,
                 fmt::format("udal-server: client '{}' would have {} bytes in flight, over its "
                             "limit of {} (limits.in_flight_bytes)",
                             identity_, held + r.size, limits_.in_flight_bytes));
    return;
  }
  auto staging = std::make_shared<Staging>(r.size, in_flight_);
  udal_result_t result = udal_stream_read_buffer(stream->handle, src->handle, r.offset,
                                                 staging->data(), r.size);
  if (result < 0) {
    stream_error(r.stream, r.seq, result, last_message());
    return;
  }
  result = notify_when_done(stream->handle, wire::Body::ReadData, r.stream, r.seq, staging);
  if (result < 0) {
    stream_error(r.stream, r.seq, result, last_message());
    udal_stream_synchronize(stream->handle, UDAL_TIMEOUT_INFINITE);
  }
}

void Session::handle(LaunchRequest& r) {
  UDAL_REMOTE_FIND_STREAM(r);
  auto* kernel = find(kernels_, r.kernel);
  if (kernel == nullptr) {
    stream_error(r.stream, r.seq, UDAL_ERROR_INVALID_HANDLE,
                 fmt::format("udal-server: kernel id {} is not a kernel of this session", r.kernel));
    return;
  }
  std::vector<udal_kernel_arg_t> args(r.args.size());
  for (std::size_t i = 0; i < r.args.size(); ++i) {
    const LaunchArgument& in = r.args[i];
    udal_kernel_arg_t& arg = args[i];
    arg.kind = static_cast<udal_arg_kind_t>(in.kind);
    arg.access = static_cast<udal_arg_access_t>(in.access);
    arg.offset = in.offset;
    if (in.kind == UDAL_ARG_KIND_BUFFER) {
      UDAL_REMOTE_FIND_BUFFER(buffer, r, in.buffer, fmt::format("argument {}", i));
      arg.buffer = buffer->handle;
    } else {
      arg.value = in.value.empty() ? nullptr : in.value.data();
      arg.value_size = static_cast<uint32_t>(in.value.size());
    }
  }
  udal_launch_desc_t desc = UDAL_LAUNCH_DESC_INIT;
  for (int axis = 0; axis < 3; ++axis) {
    desc.group_count[axis] = r.group_count[axis];
    desc.group_size[axis] = r.group_size[axis];
  }
  desc.local_memory_bytes = r.local_memory_bytes;
  desc.args = args.empty() ? nullptr : args.data();
  desc.arg_count = static_cast<uint32_t>(args.size());
  const udal_result_t result = udal_stream_launch(stream->handle, kernel->handle, &desc);
  if (result < 0) stream_error(r.stream, r.seq, result, last_message());
}

void Session::handle(RecordEventRequest& r) {
  UDAL_REMOTE_FIND_STREAM(r);
  auto* event = find(events_, r.event);
  if (event == nullptr) {
    stream_error(r.stream, r.seq, UDAL_ERROR_INVALID_HANDLE,
                 fmt::format("udal-server: event id {} is not an event of this session", r.event));
    return;
  }
  // On an idle stream the record is complete at once: the client hears so now, and the
  // device is not involved at all (no thread of it woken for nothing); a wait on the event
  // in this session then waits for nothing (handle(WaitEventRequest&)). Not for a timed
  // event, whose timestamp only a real record gives.
  if (!(event->flags & UDAL_EVENT_FLAG_TIMING) && idle(stream->handle)) {
    event->complete = true;
    flatbuffers::FlatBufferBuilder builder(64);
    finish_message(builder, wire::CreateEventDone(builder, r.event, r.generation));
    send(make_frame(builder));
    return;
  }
  event->complete = false;
  udal_result_t result = udal_stream_record_event(stream->handle, event->handle);
  if (result == UDAL_SUCCESS) {
    result = notify_when_done(stream->handle, wire::Body::EventDone, r.event, r.generation, nullptr);
  }
  if (result < 0) stream_error(r.stream, r.seq, result, last_message());
}

void Session::handle(WaitEventRequest& r) {
  UDAL_REMOTE_FIND_STREAM(r);
  auto* event = find(events_, r.event);
  if (event == nullptr) {
    stream_error(r.stream, r.seq, UDAL_ERROR_INVALID_HANDLE,
                 fmt::format("udal-server: event id {} is not an event of this session", r.event));
    return;
  }
  if (event->complete) return;  // recorded on an idle stream: nothing to wait for
  const udal_result_t result = wait_then_mark(stream->handle, event->handle);
  if (result < 0) stream_error(r.stream, r.seq, result, last_message());
}

void Session::handle(StreamMarkRequest& r) {
  UDAL_REMOTE_FIND_STREAM(r);
  if (idle(stream->handle)) {
    flatbuffers::FlatBufferBuilder builder(64);
    finish_message(builder, wire::CreateStreamDone(builder, r.stream, r.seq));
    send(make_frame(builder));
    return;
  }
  const udal_result_t result =
      notify_when_done(stream->handle, wire::Body::StreamDone, r.stream, r.seq, nullptr);
  if (result < 0) {
    // The client waits for this mark: say done, with the failure before it.
    stream_error(r.stream, r.seq, result, last_message());
    flatbuffers::FlatBufferBuilder builder(64);
    finish_message(builder, wire::CreateStreamDone(builder, r.stream, r.seq));
    send(make_frame(builder));
  }
}

void Session::handle(HostFunctionRequest& r) {
  UDAL_REMOTE_FIND_STREAM(r);
  // The stream tells the client when the function is due, then waits for the client to
  // say it returned: later work of the stream must not start before.
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  udal_event_t gate = nullptr;
  udal_result_t result =
      udal_event_create(server_.devices()[stream->device].handle, &desc, &gate);
  if (result == UDAL_SUCCESS) {
    result = notify_when_done(stream->handle, wire::Body::HostFunctionReady, r.stream, r.seq,
                              nullptr);
  }
  if (result == UDAL_SUCCESS) result = wait_then_mark(stream->handle, gate);
  if (result != UDAL_SUCCESS) {
    const std::string message = last_message();
    if (gate != nullptr) udal_event_destroy(gate);
    stream_error(r.stream, r.seq, result, message);
    return;
  }
  host_waits_[{r.stream, r.seq}] = gate;
}

void Session::handle(HostFunctionDoneRequest& r) {
  const auto found = host_waits_.find({r.stream, r.seq});
  if (found == host_waits_.end()) return;
  udal_event_signal(found->second);
  udal_event_destroy(found->second);
  host_waits_.erase(found);
}

void Session::teardown(const std::string& reason) {
  if (ended_) return;
  ended_ = true;
  const std::size_t buffers = buffers_.size();
  const uint64_t bytes = device_bytes_;
  // Events first: destroying a host-signal event releases the streams that wait on it, so
  // no stream below waits for a client that is gone.
  for (auto& [key, gate] : host_waits_) udal_event_destroy(gate);
  host_waits_.clear();
  for (auto& [key, gate] : deferred_gates_) udal_event_destroy(gate);
  deferred_gates_.clear();
  for (auto& [id, event] : events_) udal_event_destroy(event.handle);
  events_.clear();
  for (auto& [id, stream] : streams_) udal_stream_destroy(stream.handle);
  streams_.clear();
  // Reads sent from mapped buffers hold them until the closed channel drops the frames.
  for (int waited = 0; reads_in_place_->load(std::memory_order_acquire) != 0 && waited < 5000;
       ++waited) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  for (auto& [id, kernel] : kernels_) udal_kernel_destroy(kernel.handle);
  kernels_.clear();
  for (auto& [id, module] : modules_) udal_module_destroy(module.handle);
  modules_.clear();
  for (auto& [id, buffer] : buffers_) destroy_buffer(buffer);
  buffers_.clear();
  device_bytes_ = 0;
  server_.log().write(Level::kInfo, "{}: ended ({}); freed {} buffers ({} bytes)", name_, reason,
                      buffers, bytes);
  server_.session_ended(shared_from_this());
}

}  // namespace udal::remote::server
