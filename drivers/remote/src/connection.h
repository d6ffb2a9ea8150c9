// connection.h — the client's link to one udal-server: connecting, round trips, and the
// notifications that complete streams, events, reads and host functions.
//
// One io thread per server runs the channel. Calls from the application's threads either
// queue a frame (pipelined enqueues) or queue a request and wait for its Reply. Everything
// the io thread updates (completions, errors, the lost state) is under mutex_, and every
// waiter waits on changed_ with a predicate that also ends on a lost connection, so no call
// outlives the keep-alive timeout once the server is gone.
#ifndef UDAL_REMOTE_CONNECTION_H_
#define UDAL_REMOTE_CONNECTION_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "channel.h"
#include "config.h"
#include "udal/udal_driver.h"

namespace udal::remote {

// Runs a stream's host functions, in order, on a thread of their own (a host function may
// call udal_* functions that wait for other streams' host functions).
class CallbackThread {
 public:
  CallbackThread();
  ~CallbackThread();
  CallbackThread(const CallbackThread&) = delete;
  CallbackThread& operator=(const CallbackThread&) = delete;
  void post(std::function<void()> job);
  // Whether the calling thread is this one.
  bool is_current() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::thread thread_;
};

struct HostCall {
  udal_host_function_t fn;
  void* user_data;
  uint64_t ticket;  // the connection's number of this call (see Connection::defer_write)
};

// What a stream shares with the io thread. |order| serializes the numbering and queueing
// of its work; the rest is under the connection's mutex.
struct StreamState {
  uint64_t id = 0;
  uint32_t device = 0;
  std::mutex order;
  uint64_t last_seq = 0;  // under |order|
  uint64_t done_seq = 0;
  uint64_t marked_seq = 0;
  udal_result_t error = UDAL_SUCCESS;
  std::string error_message;
  uint64_t error_seq = 0;
  std::map<uint64_t, HostCall> host_calls;
  uint64_t host_calls_running = 0;
  std::unique_ptr<CallbackThread> callbacks;  // created with the first host function
};

struct EventState {
  uint64_t id = 0;
  uint32_t device = 0;
  uint64_t flags = 0;
  uint64_t generation = 0;       // records enqueued
  uint64_t done_generation = 0;  // the latest record completed
  bool signalled = false;        // HOST_SIGNAL events
  std::shared_ptr<StreamState> record_stream;
  uint64_t record_seq = 0;
  udal_result_t error = UDAL_SUCCESS;
  std::string error_message;
};

struct KernelInfoData {
  uint64_t flags = 0;
  uint32_t argument_count = 0;
  uint32_t max_group_invocations = 0;
  uint32_t required_group_size[3] = {0, 0, 0};
  std::vector<udal_kernel_arg_info_t> args;
  udal_result_t argument_info_result = UDAL_SUCCESS;
  std::string argument_info_message;
};

struct ReplyData {
  udal_result_t result = UDAL_SUCCESS;
  std::string message;
  uint64_t device_address = 0;
  udal_memory_usage_t memory_usage{};
  int32_t module_format = 0;
  KernelInfoData kernel;
  uint64_t elapsed_ns = 0;
};

class Connection final : public Channel::Handler {
 public:
  struct Logger {
    udal_log_fn fn = nullptr;
    void* user_data = nullptr;
    void write(udal_log_level_t level, const std::string& message) const {
      if (fn != nullptr) fn(user_data, level, message.c_str());
    }
  };

  Connection(HostPort server, const ClientConfig& config, ssl::context* tls, Logger logger);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts connecting in the background; wait_connected() waits for the outcome (bounded by
  // the connect timeout).
  void start();
  bool wait_connected(std::string& why);
  // Says goodbye, closes and stops the io thread. Streams must have been drained.
  void shut_down();

  const std::string& address() const { return address_; }
  const std::vector<udal_device_info_t>& devices() const { return devices_; }
  const std::string& server_description() const { return server_description_; }

  uint64_t new_id() { return next_id_.fetch_add(1) + 1; }
  // |urgent|: the caller (or a waiter) is about to wait for what the frame starts.
  void send(OutFrame frame, bool urgent = false) { channel_->send(std::move(frame), urgent); }

  // Sends |frame|, request number |request| (from new_id()), and waits for its Reply. A
  // result other than UDAL_SUCCESS comes with the message set: the server's, or why the
  // connection was lost meanwhile (UDAL_ERROR_DEVICE_LOST).
  udal_result_t call(const char* function, uint64_t request, OutFrame frame, ReplyData& reply);

  // The lost state. lost_error sets the message "<function>: …" and returns DEVICE_LOST.
  bool lost() const { return lost_flag_.load(std::memory_order_acquire); }
  udal_result_t lost_error(const char* function);

  // Registration of what notifications complete.
  void add_stream(const std::shared_ptr<StreamState>& stream);
  void remove_stream(uint64_t id);
  void add_event(const std::shared_ptr<EventState>& event);
  void remove_event(uint64_t id);
  // The bytes of read (|stream|, |seq|) go to |dst|.
  void expect_read(uint64_t stream, uint64_t seq, uint8_t* dst, uint64_t size);

  // Host functions and the writes after them. A write reads host memory when it runs
  // (udal.h), and a host function enqueued before it may still change that memory: while
  // any host function of this connection has not returned, a write is sent deferred (its
  // bytes follow in a WriteData once every host function pending at its enqueue has run).
  // Registers host call |call| of |stream| at |seq| (under the stream's order lock).
  void add_host_call(StreamState& stream, uint64_t seq, udal_host_function_t fn, void* data);
  // Queues the write (|stream|, |seq|) of |size| bytes at |data|: at once, or deferred.
  void send_write(uint64_t stream, uint64_t seq, uint64_t dst, uint64_t offset,
                  const uint8_t* data, uint64_t size);

  // Waiting on completions: predicates read the states under this mutex.
  std::mutex& mutex() { return mutex_; }
  // Waits until |done|() (under the mutex) or the connection is lost or |timeout_ns| passes;
  // returns whether |done|() held.
  template <typename Done>
  bool wait(std::unique_lock<std::mutex>& lock, uint64_t timeout_ns, Done done) {
    auto ready = [&] { return done() || lost(); };
    if (timeout_ns != 0 && !ready()) spin(lock, ready);
    if (timeout_ns == UDAL_TIMEOUT_INFINITE) {
      changed_.wait(lock, ready);
    } else {
      const auto limit = std::chrono::nanoseconds(
          std::min<uint64_t>(timeout_ns, uint64_t{1} << 62));
      changed_.wait_for(lock, limit, ready);
    }
    return done();
  }
  void notify() { wake(); }

  // Streams still registered (the driver drains them before shutting down).
  std::vector<std::shared_ptr<StreamState>> streams();

  // Channel::Handler (io thread)
  uint8_t* on_message(const wire::Message& message, uint64_t bulk_bytes) override;
  void on_bulk_received() override {}
  void on_closed(const std::string& reason) override;

 private:
  enum class Phase { kIdle, kConnecting, kConnected, kFailed };

  // How long a waiter watches for the io thread's next change before it sleeps: an answer
  // on loopback or a LAN often comes within it, and a condition-variable sleep costs a
  // futex wake-up (tens of µs on a busy machine) on top of the io thread's own. Yields
  // between checks, because the io thread may be queued on this very core.
  static constexpr std::chrono::microseconds kSpinTime{60};
  template <typename Ready>
  void spin(std::unique_lock<std::mutex>& lock, Ready& ready) {
    const auto end = std::chrono::steady_clock::now() + kSpinTime;
    uint64_t seen = changes_.load(std::memory_order_acquire);
    lock.unlock();
    for (uint32_t i = 1;; ++i) {
      const uint64_t now_seen = changes_.load(std::memory_order_acquire);
      if (now_seen != seen) {
        seen = now_seen;
        lock.lock();
        if (ready()) return;
        lock.unlock();
      }
      if (i % 16 == 0) {
        if (std::chrono::steady_clock::now() >= end) break;
        std::this_thread::yield();
      }
    }
    lock.lock();
  }
  // Under mutex_ or not: tells spinning and sleeping waiters that something changed.
  void wake() {
    changes_.fetch_add(1, std::memory_order_release);
    changed_.notify_all();
  }

  void fail_connect(const std::string& why);
  void on_connected_socket(std::unique_ptr<tcp::socket> socket);
  void on_welcome(const wire::Welcome& welcome);
  void on_reply(const wire::Reply& reply);
  void run_host_function(const std::shared_ptr<StreamState>& stream, uint64_t seq);
  // Host call |ticket| is over (ran, or failed on the server): sends the deferred writes
  // that waited only for it. Under mutex_.
  void finish_ticket_locked(uint64_t ticket);

  HostPort server_;
  std::string address_;
  ClientConfig config_;
  ssl::context* tls_;
  Logger logger_;

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  asio::steady_timer deadline_;
  tcp::resolver resolver_;
  std::unique_ptr<tcp::socket> socket_;  // while connecting
  std::unique_ptr<TlsSocket> tls_socket_;
  std::shared_ptr<Channel> channel_;
  std::string phase_text_ = "starting";

  std::atomic<uint64_t> next_id_{0};

  std::mutex mutex_;
  std::condition_variable changed_;
  std::atomic<uint64_t> changes_{0};
  Phase phase_ = Phase::kIdle;
  std::string failure_;
  std::string goodbye_;  // what the server said before closing
  bool shutting_down_ = false;  // the client closes: not a loss worth a warning
  std::vector<udal_device_info_t> devices_;
  std::string server_description_;
  std::atomic<bool> lost_flag_{false};
  std::string lost_reason_;
  struct PendingCall {
    ReplyData* reply;
    bool done = false;
  };
  std::unordered_map<uint64_t, PendingCall*> calls_;  // request → the caller waiting
  std::unordered_map<uint64_t, std::shared_ptr<StreamState>> streams_;
  std::unordered_map<uint64_t, std::shared_ptr<EventState>> events_;
  struct ReadTarget {
    uint8_t* dst;
    uint64_t size;
  };
  std::map<std::pair<uint64_t, uint64_t>, ReadTarget> reads_;
  uint64_t next_ticket_ = 0;
  std::set<uint64_t> pending_tickets_;
  struct DeferredWrite {
    uint64_t stream;
    uint64_t seq;
    const uint8_t* data;
    uint64_t size;
    uint64_t after_ticket;  // every host call up to this one must have run
  };
  std::deque<DeferredWrite> deferred_writes_;
};

}  // namespace udal::remote

#endif  // UDAL_REMOTE_CONNECTION_H_
