// channel.h — one established connection (TLS or plain TCP) carrying frames both ways.
//
// Both ends use it: the client driver with one io thread per server, udal-server with a
// strand per session. Everything but send() and the thread-safe close calls runs on the
// channel's executor. Every received message is verified before the handler sees it; a
// frame that fails (bad magic, sizes, verification) closes the channel with the reason.
// Keep-alive: a Ping goes out after |interval| without sending, and the peer is taken for
// lost after |timeout| without a byte from it.
#ifndef UDAL_REMOTE_CHANNEL_H_
#define UDAL_REMOTE_CHANNEL_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include "frame.h"

namespace udal::remote {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

using TlsSocket = ssl::stream<tcp::socket>;

class Channel : public std::enable_shared_from_this<Channel> {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    // A verified message. Returns where its |bulk_bytes| go (nullptr: read and dropped).
    // The message's bytes are valid during the call only.
    virtual uint8_t* on_message(const wire::Message& message, uint64_t bulk_bytes) = 0;
    // The bulk of the last message has been stored (only when bulk_bytes > 0).
    virtual void on_bulk_received() = 0;
    // Called once, when the channel is closed for any reason; no call follows.
    virtual void on_closed(const std::string& reason) = 0;
  };

  struct Options {
    std::chrono::milliseconds keepalive_interval{kDefaultKeepaliveIntervalMs};
    std::chrono::milliseconds keepalive_timeout{kDefaultClientKeepaliveTimeoutMs};
    std::string peer;  // "127.0.0.1:7860", for messages
  };

  // |tls| or |plain| (the other null): an established, handshaken connection whose I/O
  // object runs on |executor|'s execution context.
  Channel(asio::any_io_executor executor, std::unique_ptr<TlsSocket> tls,
          std::unique_ptr<tcp::socket> plain, Options options);
  ~Channel();
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // Starts reading and the keep-alive. |handler| must outlive the channel's on_closed call.
  void start(Handler* handler);

  // Queues a frame (any thread). Dropped when the channel is closed. |urgent|: someone
  // waits for what the frame starts (a round trip, a record, a mark), so on plain TCP with
  // nothing queued or being written the calling thread writes it itself, without waking
  // the executor's thread (what the socket does not take at once still goes through the
  // queue, in order). Not urgent, a burst of frames (pipelined launches) leaves in batches.
  void send(OutFrame frame, bool urgent = false);

  // Closes now (any thread); the handler's on_closed gets |reason|.
  void close(std::string reason);

  // Sends a Goodbye with |message| after what is queued, then closes (any thread). Gives
  // up waiting for the peer after two seconds.
  void say_goodbye_and_close(std::string message);

  // Flow control (on the executor only): stop reading after the current frame, and go on.
  void pause_reading();
  void resume_reading();

  bool closed() const { return closed_flag_.load(std::memory_order_acquire); }
  const std::string& peer() const { return options_.peer; }
  const asio::any_io_executor& executor() const { return executor_; }
  // The TLS connection, or nullptr on plain TCP.
  TlsSocket* tls() { return tls_.get(); }

 private:
  enum class ReadState { kHeader, kMessage, kBulk };

  template <typename Fn>
  void with_stream(Fn&& fn) {
    if (tls_) {
      fn(*tls_);
    } else {
      fn(*plain_);
    }
  }
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }

  void do_read();
  void on_read(const boost::system::error_code& ec, std::size_t n);
  void process();
  void do_write();
  // Writes |frame| on the calling thread without blocking; the rest of it, if any, is queued.
  // Under |send_mutex_|, with nothing queued or in flight.
  void write_now_locked(OutFrame& frame);
  void on_written(const boost::system::error_code& ec);
  void arm_keepalive();
  void on_keepalive();
  void do_close(const std::string& reason);
  std::string describe(const boost::system::error_code& ec) const;

  asio::any_io_executor executor_;
  std::unique_ptr<TlsSocket> tls_;
  std::unique_ptr<tcp::socket> plain_;
  Options options_;
  Handler* handler_ = nullptr;
  asio::steady_timer keepalive_timer_;
  asio::steady_timer goodbye_timer_;

  // Reading (executor only).
  std::vector<uint8_t> rx_;
  std::size_t rx_begin_ = 0;
  std::size_t rx_end_ = 0;
  std::vector<uint64_t> aligned_;  // a message that does not start 8-aligned in rx_
  ReadState state_ = ReadState::kHeader;
  FrameHeader header_;
  uint8_t* bulk_dst_ = nullptr;
  uint64_t bulk_done_ = 0;
  bool reading_ = false;
  bool direct_read_ = false;
  bool paused_ = false;
  bool started_ = false;
  std::chrono::steady_clock::time_point last_rx_;
  std::chrono::steady_clock::time_point last_tx_;
  uint64_t ping_nonce_ = 0;

  // Writing: the queue under |send_mutex_|, the batch in flight on the executor.
  std::mutex send_mutex_;
  std::deque<OutFrame> queue_;
  bool writing_ = false;
  bool direct_ok_ = false;  // plain TCP, started, not closed: send() may write itself
  bool closing_ = false;  // after say_goodbye_and_close: close once the queue drains
  std::string closing_reason_;
  std::vector<OutFrame> in_flight_;
  std::vector<std::vector<uint8_t>> blocks_;
  std::vector<asio::const_buffer> buffers_;

  bool closed_ = false;  // executor only
  std::atomic<bool> closed_flag_{false};
};

}  // namespace udal::remote

#endif  // UDAL_REMOTE_CHANNEL_H_
