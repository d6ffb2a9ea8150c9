#include "channel.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

namespace udal::remote {

namespace {

// Reads start into |rx_|; a bulk of at least this size that finds |rx_| empty is read
// straight into its destination, in steps of kDirectStep (so the keep-alive sees progress).
constexpr std::size_t kRxBytes = 256 * 1024;
constexpr std::size_t kDirectMin = 64 * 1024;
constexpr std::size_t kDirectStep = 4u << 20;
// An urgent frame at most this large is written by the sending thread itself.
constexpr std::size_t kWriteNowMax = 64 * 1024;

using clock = std::chrono::steady_clock;

}  // namespace

Channel::Channel(asio::any_io_executor executor, std::unique_ptr<TlsSocket> tls,
                 std::unique_ptr<tcp::socket> plain, Options options)
    : executor_(std::move(executor)),
      tls_(std::move(tls)),
      plain_(std::move(plain)),
      options_(std::move(options)),
      keepalive_timer_(executor_),
      goodbye_timer_(executor_),
      rx_(kRxBytes) {}

Channel::~Channel() = default;

void Channel::start(Handler* handler) {
  asio::post(executor_, [self = shared_from_this(), handler] {
    self->handler_ = handler;
    self->started_ = true;
    self->last_rx_ = self->last_tx_ = clock::now();
    boost::system::error_code ignored;
    self->socket().set_option(tcp::no_delay(true), ignored);
    self->do_read();
    self->arm_keepalive();
    // Frames queued before start wait for the writer.
    bool start_writer = false;
    {
      std::lock_guard lock(self->send_mutex_);
      if (!self->writing_ && !self->queue_.empty()) start_writer = self->writing_ = true;
      self->direct_ok_ = self->plain_ != nullptr && !self->closed_;
    }
    if (start_writer) self->do_write();
  });
}

// ==========================================================================================
// Reading
// ==========================================================================================

void Channel::do_read() {
  if (closed_ || paused_ || reading_) return;
  asio::mutable_buffer target;
  direct_read_ = false;
  if (state_ == ReadState::kBulk && rx_begin_ == rx_end_ && bulk_dst_ != nullptr &&
      header_.bulk_bytes - bulk_done_ >= kDirectMin) {
    const uint64_t left = header_.bulk_bytes - bulk_done_;
    target = asio::buffer(bulk_dst_ + bulk_done_, static_cast<std::size_t>(std::min<uint64_t>(
                                                      left, kDirectStep)));
    direct_read_ = true;
  } else {
    if (rx_begin_ == rx_end_) {
      rx_begin_ = rx_end_ = 0;
    } else if (rx_begin_ > 0 && rx_.size() - rx_end_ < kRxBytes / 4) {
      // Keep message starts 8-aligned when moving down (the verifier wants aligned data).
      const std::size_t shift = rx_begin_ & ~std::size_t{7};
      std::memmove(rx_.data(), rx_.data() + shift, rx_end_ - shift);
      rx_begin_ -= shift;
      rx_end_ -= shift;
    }
    if (rx_end_ == rx_.size()) rx_.resize(rx_.size() * 2);
    target = asio::buffer(rx_.data() + rx_end_, rx_.size() - rx_end_);
  }
  reading_ = true;
  with_stream([&](auto& stream) {
    stream.async_read_some(
        target, asio::bind_executor(executor_, [self = shared_from_this()](
                                                   const boost::system::error_code& ec,
                                                   std::size_t n) { self->on_read(ec, n); }));
  });
}

void Channel::on_read(const boost::system::error_code& ec, std::size_t n) {
  reading_ = false;
  if (closed_) return;
  if (ec) {
    do_close(describe(ec));
    return;
  }
  last_rx_ = clock::now();
  if (direct_read_) {
    bulk_done_ += n;
    if (bulk_done_ == header_.bulk_bytes) {
      state_ = ReadState::kHeader;
      handler_->on_bulk_received();
    }
  } else {
    rx_end_ += n;
  }
  process();
  do_read();
}

void Channel::process() {
  while (!closed_ && !paused_) {
    const std::size_t available = rx_end_ - rx_begin_;
    if (state_ == ReadState::kHeader) {
      if (available < kFrameHeaderBytes) return;
      std::string why;
      if (!parse_frame_header(rx_.data() + rx_begin_, header_, why)) {
        do_close(fmt::format("{} ({})", why, options_.peer));
        return;
      }
      rx_begin_ += kFrameHeaderBytes;
      state_ = ReadState::kMessage;
      // Room for the whole message after what is already there.
      const std::size_t need = rx_begin_ + header_.message_bytes;
      if (need > rx_.size()) {
        if (header_.message_bytes + kFrameHeaderBytes <= rx_.size() && rx_begin_ > 0) {
          const std::size_t shift = rx_begin_ & ~std::size_t{7};
          std::memmove(rx_.data(), rx_.data() + shift, rx_end_ - shift);
          rx_begin_ -= shift;
          rx_end_ -= shift;
        } else {
          rx_.resize(need + kRxBytes);
        }
      }
    } else if (state_ == ReadState::kMessage) {
      if (available < header_.message_bytes) return;
      const uint8_t* data = rx_.data() + rx_begin_;
      if (reinterpret_cast<uintptr_t>(data) % 8 != 0) {
        aligned_.resize((header_.message_bytes + 7) / 8);
        std::memcpy(aligned_.data(), data, header_.message_bytes);
        data = reinterpret_cast<const uint8_t*>(aligned_.data());
      }
      std::string why;
      const wire::Message* message = verify_message(data, header_.message_bytes, why);
      if (message == nullptr) {
        do_close(fmt::format("{} ({})", why, options_.peer));
        return;
      }
      bulk_dst_ = handler_->on_message(*message, header_.bulk_bytes);
      if (closed_) return;
      rx_begin_ += header_.message_bytes;
      bulk_done_ = 0;
      state_ = header_.bulk_bytes > 0 ? ReadState::kBulk : ReadState::kHeader;
    } else {
      if (available == 0) return;
      const uint64_t n = std::min<uint64_t>(available, header_.bulk_bytes - bulk_done_);
      if (bulk_dst_ != nullptr) std::memcpy(bulk_dst_ + bulk_done_, rx_.data() + rx_begin_, n);
      rx_begin_ += n;
      bulk_done_ += n;
      if (bulk_done_ == header_.bulk_bytes) {
        state_ = ReadState::kHeader;
        handler_->on_bulk_received();
      }
    }
  }
}

void Channel::pause_reading() { paused_ = true; }

void Channel::resume_reading() {
  if (!paused_ || closed_) return;
  paused_ = false;
  last_rx_ = clock::now();
  process();
  do_read();
}

// ==========================================================================================
// Writing
// ==========================================================================================

void Channel::send(OutFrame frame, bool urgent) {
  if (closed_flag_.load(std::memory_order_acquire)) return;
  bool start_writer = false;
  {
    std::lock_guard lock(send_mutex_);
    if (closing_) return;
    if (urgent && direct_ok_ && !writing_ && queue_.empty() &&
        frame.head.size() + frame.bulk_bytes <= kWriteNowMax) {
      write_now_locked(frame);
      if (frame.head.empty() && frame.bulk_bytes == 0) return;
    }
    queue_.push_back(std::move(frame));
    if (!writing_) start_writer = writing_ = true;
  }
  if (start_writer) {
    asio::post(executor_, [self = shared_from_this()] {
      if (self->started_) {
        self->do_write();
      } else {
        std::lock_guard lock(self->send_mutex_);
        self->writing_ = false;  // start() begins the writer
      }
    });
  }
}

void Channel::write_now_locked(OutFrame& frame) {
  // The socket is non-blocking underneath Asio, and is closed only under send_mutex_, so
  // its descriptor is valid here; no Asio state is touched.
  iovec parts[2] = {{frame.head.data(), frame.head.size()},
                    {const_cast<uint8_t*>(frame.bulk), static_cast<std::size_t>(frame.bulk_bytes)}};
  msghdr message{};
  message.msg_iov = parts;
  message.msg_iovlen = frame.bulk_bytes > 0 ? 2 : 1;
  const ssize_t sent = ::sendmsg(plain_->native_handle(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (sent <= 0) return;  // EAGAIN or an error: the queue's writer sees it
  auto n = static_cast<std::size_t>(sent);
  const std::size_t from_head = std::min(n, frame.head.size());
  frame.head.erase(frame.head.begin(), frame.head.begin() + static_cast<std::ptrdiff_t>(from_head));
  n -= from_head;
  frame.bulk += n;
  frame.bulk_bytes -= n;
  if (frame.head.empty() && frame.bulk_bytes == 0) frame.bulk_owner.reset();
}

void Channel::do_write() {
  if (closed_) return;
  in_flight_.clear();
  {
    std::lock_guard lock(send_mutex_);
    if (queue_.empty()) {
      writing_ = false;
      if (closing_) {
        asio::post(executor_, [self = shared_from_this()] {
          self->do_close(self->closing_reason_);
        });
      }
      return;
    }
    while (!queue_.empty()) {
      in_flight_.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
  }
  // Headers and messages of consecutive frames travel as one block (one TLS record for a
  // burst of small enqueues); bulk bytes are sent from where they are.
  blocks_.clear();
  buffers_.clear();
  std::size_t block_bytes = 0;
  for (const OutFrame& frame : in_flight_) block_bytes += frame.head.size();
  blocks_.reserve(in_flight_.size());
  blocks_.emplace_back();
  blocks_.back().reserve(block_bytes);
  for (const OutFrame& frame : in_flight_) {
    blocks_.back().insert(blocks_.back().end(), frame.head.begin(), frame.head.end());
    if (frame.bulk_bytes > 0) {
      buffers_.push_back(asio::buffer(blocks_.back()));
      buffers_.push_back(asio::buffer(frame.bulk, static_cast<std::size_t>(frame.bulk_bytes)));
      blocks_.emplace_back();
    }
  }
  if (!blocks_.back().empty()) buffers_.push_back(asio::buffer(blocks_.back()));
  with_stream([&](auto& stream) {
    asio::async_write(stream, buffers_,
                      asio::bind_executor(executor_, [self = shared_from_this()](
                                                         const boost::system::error_code& ec,
                                                         std::size_t) { self->on_written(ec); }));
  });
}

void Channel::on_written(const boost::system::error_code& ec) {
  in_flight_.clear();  // releases bulk owners
  if (closed_) return;
  if (ec) {
    do_close(describe(ec));
    return;
  }
  last_tx_ = clock::now();
  do_write();
}

void Channel::say_goodbye_and_close(std::string message) {
  flatbuffers::FlatBufferBuilder builder(256);
  const auto text = builder.CreateString(message);
  builder.Finish(wire::CreateMessage(builder, wire::Body::Goodbye,
                                     wire::CreateGoodbye(builder, text).Union()),
                 wire::MessageIdentifier());
  OutFrame frame = make_frame(builder);
  bool start_writer = false;
  {
    std::lock_guard lock(send_mutex_);
    if (closing_ || closed_flag_.load()) return;
    queue_.push_back(std::move(frame));
    closing_ = true;
    closing_reason_ = message;
    if (!writing_) start_writer = writing_ = true;
  }
  asio::post(executor_, [self = shared_from_this(), start_writer] {
    if (self->closed_) return;
    self->goodbye_timer_.expires_after(std::chrono::seconds(2));
    self->goodbye_timer_.async_wait([self](const boost::system::error_code& ec) {
      if (!ec) self->do_close(self->closing_reason_);
    });
    if (start_writer) {
      if (self->started_) {
        self->do_write();
      } else {
        self->do_close(self->closing_reason_);
      }
    }
  });
}

// ==========================================================================================
// Keep-alive and closing
// ==========================================================================================

void Channel::arm_keepalive() {
  const auto step = std::max(std::chrono::milliseconds(10),
                             std::min(options_.keepalive_interval,
                                      options_.keepalive_timeout / 4));
  keepalive_timer_.expires_after(step);
  keepalive_timer_.async_wait(
      asio::bind_executor(executor_, [self = shared_from_this()](const boost::system::error_code& ec) {
        if (!ec) self->on_keepalive();
      }));
}

void Channel::on_keepalive() {
  if (closed_) return;
  const auto now = clock::now();
  if (!paused_ && now - last_rx_ > options_.keepalive_timeout) {
    do_close(fmt::format("no data from {} for {} ms (keep-alive timeout)", options_.peer,
                         options_.keepalive_timeout.count()));
    return;
  }
  if (now - last_tx_ >= options_.keepalive_interval) {
    flatbuffers::FlatBufferBuilder builder(64);
    builder.Finish(wire::CreateMessage(builder, wire::Body::Ping,
                                       wire::CreatePing(builder, ++ping_nonce_).Union()),
                   wire::MessageIdentifier());
    last_tx_ = now;  // one Ping per interval even while a big write is still going out
    send(make_frame(builder));
  }
  arm_keepalive();
}

void Channel::close(std::string reason) {
  asio::post(executor_, [self = shared_from_this(), reason = std::move(reason)] {
    self->do_close(reason);
  });
}

void Channel::do_close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  closed_flag_.store(true, std::memory_order_release);
  boost::system::error_code ignored;
  keepalive_timer_.cancel();
  goodbye_timer_.cancel();
  {
    // Under send_mutex_: a sending thread may be writing to the descriptor (write_now_locked).
    std::lock_guard lock(send_mutex_);
    direct_ok_ = false;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
    queue_.clear();
  }
  Handler* handler = handler_;
  handler_ = nullptr;
  if (handler != nullptr) handler->on_closed(reason);
}

std::string Channel::describe(const boost::system::error_code& ec) const {
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
      ec == asio::error::connection_reset) {
    return fmt::format("{} closed the connection", options_.peer);
  }
  if (ec.category() == asio::error::get_ssl_category()) {
    return fmt::format("TLS error with {}: {}", options_.peer, ec.message());
  }
  return fmt::format("connection to {} failed: {}", options_.peer, ec.message());
}

}  // namespace udal::remote
