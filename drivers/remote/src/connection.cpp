#include "connection.h"

#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <fmt/format.h>

#include "convert.h"
#include "udal/sdk/error.h"

namespace udal::remote {

using udal::sdk::fail;

// ==========================================================================================
// CallbackThread
// ==========================================================================================

CallbackThread::CallbackThread() : thread_([this] {
  std::unique_lock lock(mutex_);
  for (;;) {
    ready_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
    if (jobs_.empty()) return;
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}) {}

CallbackThread::~CallbackThread() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  ready_.notify_all();
  if (thread_.joinable()) {
    if (is_current()) {
      thread_.detach();  // a host function destroyed its own stream: undefined, not a crash
    } else {
      thread_.join();
    }
  }
}

void CallbackThread::post(std::function<void()> job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  ready_.notify_one();
}

// ==========================================================================================
// Connecting
// ==========================================================================================

namespace {

// What a failure while connecting usually means, appended to the reason.
std::string connect_hint(const std::string& error, bool insecure) {
  auto has = [&](const char* text) { return error.find(text) != std::string::npos; };
  if (has("Connection refused")) return " (is udal-server running there?)";
  if (has("certificate required")) {
    return " (the server requires a client certificate: set UDAL_REMOTE_CERT and "
           "UDAL_REMOTE_KEY)";
  }
  if (has("unknown ca") || has("bad certificate") || has("decrypt error")) {
    return " (the server does not accept this client certificate: it is not signed by the "
           "server's --client-ca)";
  }
  if (has("certificate verify failed")) {
    return " (the server's certificate is not signed by UDAL_REMOTE_CA, or does not name the "
           "address it is reached at)";
  }
  if (has("wrong version number") || has("packet length too long") ||
      has("not a UDAL remote frame")) {
    return insecure ? "" : " (the server does not speak TLS: started with --insecure?)";
  }
  if (!insecure && (has("stream truncated") || has("end of file"))) {
    return " (the server closed the connection in the TLS handshake: does it run with "
           "--insecure?)";
  }
  if (insecure && has("closed the connection")) {
    return " (a TLS server closes plain connections: set UDAL_REMOTE_CERT, UDAL_REMOTE_KEY and "
           "UDAL_REMOTE_CA instead of UDAL_REMOTE_INSECURE)";
  }
  return "";
}

}  // namespace

Connection::Connection(HostPort server, const ClientConfig& config, ssl::context* tls,
                       Logger logger)
    : server_(std::move(server)),
      address_(server_.text()),
      config_(config),
      tls_(tls),
      logger_(logger),
      deadline_(io_),
      resolver_(io_) {}

Connection::~Connection() { shut_down(); }

void Connection::start() {
  {
    std::lock_guard lock(mutex_);
    phase_ = Phase::kConnecting;
  }
  work_.emplace(io_.get_executor());
  thread_ = std::thread([this] { io_.run(); });
  asio::post(io_, [this] {
    deadline_.expires_after(std::chrono::milliseconds(config_.connect_timeout_ms));
    deadline_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      fail_connect(fmt::format("no answer within the connect timeout of {} ms while {}",
                               config_.connect_timeout_ms, phase_text_));
    });
    phase_text_ = "resolving the address";
    resolver_.async_resolve(
        server_.host, std::to_string(server_.port),
        [this](const boost::system::error_code& ec, const tcp::resolver::results_type& results) {
          if (ec) {
            fail_connect(fmt::format("cannot resolve '{}': {}", server_.host, ec.message()));
            return;
          }
          if (config_.insecure) {
            for (const auto& entry : results) {
              if (!is_loopback(entry.endpoint().address())) {
                fail_connect(fmt::format(
                    "UDAL_REMOTE_INSECURE=1 (plain TCP, no authentication) is allowed only for "
                    "a server on a loopback address (127.0.0.0/8, ::1); {} is not one",
                    entry.endpoint().address().to_string() == server_.host
                        ? server_.host
                        : server_.host + " (" + entry.endpoint().address().to_string() + ")"));
                return;
              }
            }
          }
          phase_text_ = "connecting";
          socket_ = std::make_unique<tcp::socket>(io_);
          asio::async_connect(*socket_, results,
                              [this](const boost::system::error_code& connect_ec,
                                     const tcp::endpoint&) {
                                if (connect_ec) {
                                  fail_connect(connect_ec.message());
                                  return;
                                }
                                on_connected_socket(std::move(socket_));
                              });
        });
  });
}

void Connection::on_connected_socket(std::unique_ptr<tcp::socket> socket) {
  {
    std::lock_guard lock(mutex_);
    if (phase_ != Phase::kConnecting) return;
  }
  boost::system::error_code ignored;
  socket->set_option(tcp::no_delay(true), ignored);
  Channel::Options options;
  options.keepalive_timeout = std::chrono::milliseconds(config_.keepalive_timeout_ms);
  options.keepalive_interval = std::min(std::chrono::milliseconds(kDefaultKeepaliveIntervalMs),
                                        options.keepalive_timeout / 4);
  options.peer = "udal-server " + address_;
  auto open_channel = [this, options](std::unique_ptr<TlsSocket> tls,
                                      std::unique_ptr<tcp::socket> plain) {
    channel_ = std::make_shared<Channel>(io_.get_executor(), std::move(tls), std::move(plain),
                                         options);
    phase_text_ = "waiting for the server's answer to Hello";
    channel_->start(this);
    flatbuffers::FlatBufferBuilder builder(128);
    const auto client = builder.CreateString(
        fmt::format("udal remote driver {}.{}, pid {}", UDAL_DRIVER_VERSION_MAJOR,
                    UDAL_DRIVER_VERSION_MINOR, static_cast<long>(getpid())));
    finish_message(builder, wire::CreateHello(builder, kProtocolMajor, kProtocolMinor, client));
    channel_->send(make_frame(builder));
  };
  if (tls_ == nullptr) {
    open_channel(nullptr, std::move(socket));
    return;
  }
  tls_socket_ = std::make_unique<TlsSocket>(std::move(*socket), *tls_);
  std::string why;
  if (!expect_server_identity(tls_socket_->native_handle(), server_.host, why)) {
    fail_connect(why);
    return;
  }
  phase_text_ = "in the TLS handshake";
  tls_socket_->async_handshake(ssl::stream_base::client,
                               [this, open_channel](const boost::system::error_code& ec) {
                                 if (ec) {
                                   fail_connect(fmt::format("TLS handshake failed: {}",
                                                            ec.message()));
                                   return;
                                 }
                                 open_channel(std::move(tls_socket_), nullptr);
                               });
}

void Connection::fail_connect(const std::string& why) {
  {
    std::lock_guard lock(mutex_);
    if (phase_ != Phase::kConnecting) return;
    phase_ = Phase::kFailed;
    failure_ = why + connect_hint(why, config_.insecure);
    lost_reason_ = failure_;
    lost_flag_.store(true, std::memory_order_release);
  }
  boost::system::error_code ignored;
  deadline_.cancel();
  resolver_.cancel();
  if (socket_) socket_->close(ignored);
  if (tls_socket_) tls_socket_->next_layer().close(ignored);
  if (channel_) channel_->close(why);
  wake();
}

bool Connection::wait_connected(std::string& why) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return phase_ != Phase::kConnecting; });
  if (phase_ == Phase::kConnected) return true;
  why = failure_;
  return false;
}

void Connection::on_welcome(const wire::Welcome& welcome) {
  if (welcome.protocol_major() != kProtocolMajor) {
    fail_connect(fmt::format(
        "the server speaks remote protocol {}.{}, this driver {}.{}: a major version is never "
        "mixed; install the same UDAL major version on both machines",
        welcome.protocol_major(), welcome.protocol_minor(), kProtocolMajor, kProtocolMinor));
    return;
  }
  std::vector<udal_device_info_t> devices;
  if (const auto* list = welcome.devices()) {
    for (const wire::DeviceInfo* in : *list) {
      udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
      std::string why;
      if (in == nullptr || !from_wire(*in, info, why)) {
        fail_connect(fmt::format("the server described a device badly: {}",
                                 in == nullptr ? "an empty entry" : why));
        return;
      }
      devices.push_back(info);
    }
  }
  {
    std::lock_guard lock(mutex_);
    if (phase_ != Phase::kConnecting) return;
    devices_ = std::move(devices);
    server_description_ = welcome.server() ? welcome.server()->str() : std::string();
    phase_ = Phase::kConnected;
  }
  boost::system::error_code ignored;
  deadline_.cancel();
  wake();
}

void Connection::shut_down() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
  }
  if (channel_ && !channel_->closed()) {
    channel_->say_goodbye_and_close("the client is closing its UDAL instance");
  }
  {
    // The goodbye goes out, or the channel gives up after two seconds.
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, std::chrono::seconds(3), [this] { return lost() || !channel_; });
  }
  if (channel_) channel_->close("the client is closing its UDAL instance");
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    deadline_.cancel();
    resolver_.cancel();
  });
  work_.reset();
  io_.stop();
  thread_.join();
  // Host-function threads of streams never destroyed.
  std::unordered_map<uint64_t, std::shared_ptr<StreamState>> streams;
  {
    std::lock_guard lock(mutex_);
    streams.swap(streams_);
  }
  for (auto& [id, stream] : streams) stream->callbacks.reset();
}

// ==========================================================================================
// Calls and registrations
// ==========================================================================================

udal_result_t Connection::lost_error(const char* function) {
  std::string reason;
  {
    std::lock_guard lock(mutex_);
    reason = lost_reason_;
  }
  return fail(UDAL_ERROR_DEVICE_LOST, "{}: the connection to udal-server {} is lost: {}", function,
              address_, reason);
}

udal_result_t Connection::call(const char* function, uint64_t request, OutFrame frame,
                               ReplyData& reply) {
  PendingCall pending{&reply};
  std::unique_lock lock(mutex_);
  if (lost()) {
    lock.unlock();
    return lost_error(function);
  }
  calls_[request] = &pending;
  lock.unlock();
  send(std::move(frame), /*urgent=*/true);
  lock.lock();
  wait(lock, UDAL_TIMEOUT_INFINITE, [&] { return pending.done; });
  calls_.erase(request);
  if (!pending.done) {
    lock.unlock();
    return lost_error(function);
  }
  lock.unlock();
  if (reply.result != UDAL_SUCCESS) {
    return fail(reply.result, "{}: udal-server {}: {}", function, address_,
                reply.message.empty() ? std::string("(no message)") : reply.message);
  }
  return UDAL_SUCCESS;
}

void Connection::add_stream(const std::shared_ptr<StreamState>& stream) {
  std::lock_guard lock(mutex_);
  streams_[stream->id] = stream;
}

void Connection::remove_stream(uint64_t id) {
  std::lock_guard lock(mutex_);
  streams_.erase(id);
}

void Connection::add_event(const std::shared_ptr<EventState>& event) {
  std::lock_guard lock(mutex_);
  events_[event->id] = event;
}

void Connection::remove_event(uint64_t id) {
  std::lock_guard lock(mutex_);
  events_.erase(id);
}

void Connection::expect_read(uint64_t stream, uint64_t seq, uint8_t* dst, uint64_t size) {
  std::lock_guard lock(mutex_);
  reads_[{stream, seq}] = ReadTarget{dst, size};
}

void Connection::add_host_call(StreamState& stream, uint64_t seq, udal_host_function_t fn,
                               void* data) {
  std::lock_guard lock(mutex_);
  if (!stream.callbacks) stream.callbacks = std::make_unique<CallbackThread>();
  const uint64_t ticket = ++next_ticket_;
  pending_tickets_.insert(ticket);
  stream.host_calls[seq] = HostCall{fn, data, ticket};
}

void Connection::send_write(uint64_t stream, uint64_t seq, uint64_t dst, uint64_t offset,
                            const uint8_t* data, uint64_t size) {
  flatbuffers::FlatBufferBuilder builder(128);
  // Frames are queued under mutex_ here and in finish_ticket_locked, so a WriteData never
  // overtakes its WriteBuffer.
  std::lock_guard lock(mutex_);
  const bool deferred = !pending_tickets_.empty();
  finish_message(builder,
                 wire::CreateWriteBuffer(builder, stream, seq, dst, offset, size, deferred));
  OutFrame frame = make_frame(builder, deferred ? 0 : size);
  if (deferred) {
    deferred_writes_.push_back(
        DeferredWrite{stream, seq, data, size, *pending_tickets_.rbegin()});
  } else {
    frame.bulk = data;
  }
  send(std::move(frame));
}

void Connection::finish_ticket_locked(uint64_t ticket) {
  pending_tickets_.erase(ticket);
  for (auto it = deferred_writes_.begin(); it != deferred_writes_.end();) {
    if (!pending_tickets_.empty() && *pending_tickets_.begin() <= it->after_ticket) {
      ++it;
      continue;
    }
    flatbuffers::FlatBufferBuilder builder(64);
    finish_message(builder, wire::CreateWriteData(builder, it->stream, it->seq));
    OutFrame frame = make_frame(builder, it->size);
    frame.bulk = it->data;
    send(std::move(frame));
    it = deferred_writes_.erase(it);
  }
}

std::vector<std::shared_ptr<StreamState>> Connection::streams() {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<StreamState>> list;
  for (auto& [id, stream] : streams_) list.push_back(stream);
  return list;
}

// ==========================================================================================
// The io thread: what the server says
// ==========================================================================================

void Connection::on_reply(const wire::Reply& in) {
  std::lock_guard lock(mutex_);
  const auto found = calls_.find(in.request());
  if (found == calls_.end()) return;
  ReplyData& out = *found->second->reply;
  out.result = static_cast<udal_result_t>(in.result());
  out.message = in.message() ? in.message()->str() : std::string();
  out.device_address = in.device_address();
  if (const auto* usage = in.memory_usage()) {
    out.memory_usage.device_allocated_bytes = usage->device_allocated_bytes();
    out.memory_usage.device_budget_bytes = usage->device_budget_bytes();
    out.memory_usage.host_visible_allocated_bytes = usage->host_visible_allocated_bytes();
    out.memory_usage.host_visible_budget_bytes = usage->host_visible_budget_bytes();
  }
  out.module_format = in.module_format();
  out.elapsed_ns = in.elapsed_ns();
  if (const auto* kernel = in.kernel()) {
    KernelInfoData& k = out.kernel;
    k.flags = kernel->flags();
    k.argument_count = kernel->argument_count();
    k.max_group_invocations = kernel->max_group_invocations();
    if (const auto* required = kernel->required_group_size(); required && required->size() == 3) {
      for (uint32_t axis = 0; axis < 3; ++axis) k.required_group_size[axis] = required->Get(axis);
    }
    if (const auto* args = kernel->args()) {
      for (const wire::ArgInfo* arg : *args) {
        udal_kernel_arg_info_t info = UDAL_KERNEL_ARG_INFO_INIT;
        if (arg != nullptr) {
          info.kind = static_cast<udal_arg_kind_t>(arg->kind());
          info.value_size = arg->value_size();
          info.access = static_cast<udal_arg_access_t>(arg->access());
        }
        k.args.push_back(info);
      }
    }
    k.argument_info_result = static_cast<udal_result_t>(kernel->argument_info_result());
    k.argument_info_message =
        kernel->argument_info_message() ? kernel->argument_info_message()->str() : std::string();
  }
  found->second->done = true;
  wake();
}

uint8_t* Connection::on_message(const wire::Message& message, uint64_t bulk_bytes) {
  switch (message.body_type()) {
    case wire::Body::Welcome:
      on_welcome(*message.body_as_Welcome());
      return nullptr;
    case wire::Body::Goodbye: {
      std::lock_guard lock(mutex_);
      const auto* text = message.body_as_Goodbye()->message();
      goodbye_ = text ? text->str() : std::string("(no reason given)");
      return nullptr;
    }
    case wire::Body::Ping: {
      flatbuffers::FlatBufferBuilder builder(64);
      finish_message(builder, wire::CreatePong(builder, message.body_as_Ping()->nonce()));
      channel_->send(make_frame(builder));
      return nullptr;
    }
    case wire::Body::Reply:
      on_reply(*message.body_as_Reply());
      return nullptr;
    case wire::Body::StreamDone: {
      const auto* m = message.body_as_StreamDone();
      std::lock_guard lock(mutex_);
      if (auto found = streams_.find(m->stream()); found != streams_.end()) {
        found->second->done_seq = std::max(found->second->done_seq, m->seq());
        wake();
      }
      return nullptr;
    }
    case wire::Body::StreamError: {
      const auto* m = message.body_as_StreamError();
      std::lock_guard lock(mutex_);
      reads_.erase({m->stream(), m->seq()});
      if (auto found = streams_.find(m->stream()); found != streams_.end()) {
        StreamState& stream = *found->second;
        if (auto call = stream.host_calls.find(m->seq()); call != stream.host_calls.end()) {
          // A host function the server could not enqueue never runs.
          finish_ticket_locked(call->second.ticket);
          stream.host_calls.erase(call);
        }
        if (stream.error == UDAL_SUCCESS) {
          stream.error = static_cast<udal_result_t>(m->result());
          if (stream.error >= 0) stream.error = UDAL_ERROR_INTERNAL;
          stream.error_message = m->message() ? m->message()->str() : std::string();
          stream.error_seq = m->seq();
        }
        wake();
      }
      return nullptr;
    }
    case wire::Body::EventDone: {
      const auto* m = message.body_as_EventDone();
      std::lock_guard lock(mutex_);
      if (auto found = events_.find(m->event()); found != events_.end()) {
        EventState& event = *found->second;
        event.done_generation = std::max(event.done_generation, m->generation());
        if (m->generation() == event.generation && event.record_stream &&
            event.record_stream->error != UDAL_SUCCESS &&
            event.record_stream->error_seq < event.record_seq) {
          event.error = event.record_stream->error;
          event.error_message = event.record_stream->error_message;
        }
        wake();
      }
      return nullptr;
    }
    case wire::Body::ReadData: {
      const auto* m = message.body_as_ReadData();
      std::lock_guard lock(mutex_);
      const auto found = reads_.find({m->stream(), m->seq()});
      if (found == reads_.end()) return nullptr;  // dropped: its stream failed or is gone
      if (found->second.size != bulk_bytes) {
        const std::string why = fmt::format(
            "the server sent {} bytes for a read of {}", bulk_bytes, found->second.size);
        reads_.erase(found);
        channel_->close(why);
        return nullptr;
      }
      uint8_t* dst = found->second.dst;
      reads_.erase(found);
      return dst;
    }
    case wire::Body::HostFunctionReady: {
      const auto* m = message.body_as_HostFunctionReady();
      std::shared_ptr<StreamState> stream;
      {
        std::lock_guard lock(mutex_);
        if (auto found = streams_.find(m->stream()); found != streams_.end()) {
          stream = found->second;
        }
      }
      if (stream) run_host_function(stream, m->seq());
      return nullptr;
    }
    default:
      return nullptr;  // Pong, and what a newer server may add
  }
}

void Connection::run_host_function(const std::shared_ptr<StreamState>& stream, uint64_t seq) {
  HostCall call{};
  {
    std::lock_guard lock(mutex_);
    const auto found = stream->host_calls.find(seq);
    if (found == stream->host_calls.end() || !stream->callbacks) return;
    call = found->second;
    stream->host_calls.erase(found);
    ++stream->host_calls_running;
  }
  stream->callbacks->post([this, stream, seq, call] {
    call.fn(call.user_data);
    flatbuffers::FlatBufferBuilder builder(64);
    finish_message(builder, wire::CreateHostFunctionDone(builder, stream->id, seq));
    std::lock_guard lock(mutex_);
    // The writes that waited for this function go first: their memory is final now.
    finish_ticket_locked(call.ticket);
    send(make_frame(builder), /*urgent=*/true);
    --stream->host_calls_running;
    wake();
  });
}

void Connection::on_closed(const std::string& reason) {
  std::string why;
  bool was_connected = false;
  {
    std::lock_guard lock(mutex_);
    why = goodbye_.empty() ? reason : "the server said: " + goodbye_;
    was_connected = phase_ == Phase::kConnected && !shutting_down_;
    if (phase_ == Phase::kConnected) {
      lost_reason_ = why;
      lost_flag_.store(true, std::memory_order_release);
      reads_.clear();
      deferred_writes_.clear();
      pending_tickets_.clear();
    }
  }
  wake();
  if (was_connected) {
    logger_.write(UDAL_LOG_LEVEL_WARNING,
                  fmt::format("remote driver: lost udal-server {}: {}", address_, why));
  }
  fail_connect(why);
}

}  // namespace udal::remote
