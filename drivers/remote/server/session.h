// session.h — one client's connection and every object it created.
//
// Two sides: the channel's strand receives, decodes and counts (in-flight bytes, queued
// requests); the session's work strand (on the server's work pool) executes requests in
// the order they arrived, against libudal. Objects live in this session's tables only, by
// the ids the client chose, so an id names nothing in another session. When the channel
// closes for any reason, teardown() destroys everything the session holds.
#ifndef UDAL_REMOTE_SERVER_SESSION_H_
#define UDAL_REMOTE_SERVER_SESSION_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include "channel.h"
#include "config.h"
#include "request.h"
#include "udal/udal.h"

namespace udal::remote::server {

class Server;

class Session final : public Channel::Handler, public std::enable_shared_from_this<Session> {
 public:
  Session(Server& server, std::shared_ptr<Channel> channel, std::string identity,
          uint64_t number);
  ~Session() override;

  void start();
  // The server stops: tell the client why and close.
  void shut_down(const std::string& why);

  uint8_t* on_message(const wire::Message& message, uint64_t bulk_bytes) override;
  void on_bulk_received() override;
  void on_closed(const std::string& reason) override;

  // Any thread (host functions run on the device's threads). A frame without bulk is an
  // answer or a notification someone waits for: written at once when the channel is idle.
  void send(OutFrame frame) {
    const bool urgent = frame.bulk_bytes == 0;
    channel_->send(std::move(frame), urgent);
  }
  const std::string& name() const { return name_; }

 private:
  // A buffer mapped for its life (buffers of CPU devices, see handle(BufferCreateRequest&)):
  // a write on an idle stream is received into it directly, and a read on an idle stream
  // is sent from it. Shared with the frames that send from it, so a buffer the client
  // destroys meanwhile goes only once they are sent.
  struct Mapping {
    udal_buffer_t handle;
    uint8_t* data;
    ~Mapping() {
      udal_buffer_unmap(handle);
      udal_buffer_destroy(handle);
    }
  };
  struct BufferEntry {
    udal_buffer_t handle;
    uint64_t size;
    uint32_t device;
    std::shared_ptr<Mapping> mapping;  // null: not mapped
  };
  // |reads_only|: since the stream was last idle, only reads sent from the mapped buffer
  // were enqueued (each holding the stream until its bytes are sent): another such read
  // may be sent at once too.
  struct StreamEntry { udal_stream_t handle; uint32_t device; bool reads_only; };
  // |complete|: the latest record was answered at once on an idle stream, without being
  // recorded on the device: the event counts as complete here (a wait on it waits for
  // nothing) until it is recorded again.
  struct EventEntry { udal_event_t handle; uint32_t device; uint64_t flags; bool complete; };
  template <typename T>
  struct Entry { T handle; uint32_t device; };

  void post(Request request, std::shared_ptr<Staging> staging, std::string refusal);
  // Staging memory for |bytes| received bytes, or null with the refusal (in-flight limit).
  std::shared_ptr<Staging> stage(uint64_t bytes, std::string& refusal);
  // Where the bytes of |write| may be received directly (its buffer's mapped memory), or
  // null. Channel strand, with nothing queued for the work strand.
  uint8_t* receive_in_place(const WriteRequest& write);
  static void destroy_buffer(BufferEntry& buffer);
  // Sends read |r| from the mapped memory of |buffer| if |stream| allows (see StreamEntry).
  // |reads_only|: the stream's flag before this request.
  bool read_in_place(ReadRequest& r, StreamEntry& stream, const BufferEntry& buffer,
                     bool reads_only);
  void execute(Request& request, const std::shared_ptr<Staging>& staging,
               const std::string& refusal);
  void teardown(const std::string& reason);

  void handle(HelloRequest& r);
  void handle(MemoryUsageRequest& r);
  void handle(BufferCreateRequest& r);
  void handle(EventCreateRequest& r);
  void handle(StreamCreateRequest& r);
  void handle(ModuleCreateRequest& r, const std::shared_ptr<Staging>& image,
              const std::string& refusal);
  void handle(KernelCreateRequest& r);
  void handle(EventElapsedRequest& r);
  void handle(DestroyRequest& r);
  void handle(EventSignalRequest& r);
  void handle(CopyRequest& r);
  void handle(FillRequest& r);
  void handle(WriteRequest& r, const std::shared_ptr<Staging>& data, const std::string& refusal);
  void handle(WriteDataRequest& r);
  void handle(ReadRequest& r);
  void handle(LaunchRequest& r);
  void handle(RecordEventRequest& r);
  void handle(WaitEventRequest& r);
  void handle(StreamMarkRequest& r);
  void handle(HostFunctionRequest& r);
  void handle(HostFunctionDoneRequest& r);

  // Answers request |request| (nothing more than the result and message).
  void reply(uint64_t request, udal_result_t result, const std::string& message);
  void stream_error(uint64_t stream, uint64_t seq, udal_result_t result,
                    const std::string& message);
  // The device |index| names, or null after answering |request| with NOT_FOUND.
  udal_device_t device_or_reply(uint32_t index, uint64_t request);
  // Whether another object fits the client's object limit; else answers |request|.
  bool object_fits_or_reply(uint64_t request, uint64_t id, const char* what);
  uint64_t object_count() const;
  // Enqueues a host function sending |notify| once |stream|'s earlier work has completed.
  udal_result_t notify_when_done(udal_stream_t stream, wire::Body kind, uint64_t a, uint64_t b,
                                 std::shared_ptr<Staging> staging);
  // Whether everything enqueued on |stream| so far has completed (then a record or a mark
  // is answered at once, without a trip through the device's thread).
  static bool idle(udal_stream_t stream);
  // udal_stream_wait_event, then a host function that does nothing (see idle()).
  udal_result_t wait_then_mark(udal_stream_t stream, udal_event_t event);

  Server& server_;
  std::shared_ptr<Channel> channel_;
  std::string identity_;
  std::string name_;  // "session 3 (alice from 127.0.0.1:50212)"
  Limits limits_;
  asio::strand<asio::io_context::executor_type> work_;

  // Channel strand.
  bool hello_seen_ = false;
  bool paused_ = false;
  Request pending_;
  std::shared_ptr<Staging> pending_staging_;
  std::string pending_refusal_;
  std::shared_ptr<std::atomic<uint64_t>> in_flight_;
  std::atomic<uint64_t> queued_{0};
  // Deferred writes whose bytes have not arrived: where they go.
  std::map<std::pair<uint64_t, uint64_t>, std::shared_ptr<Staging>> deferred_staging_;

  // Work strand.
  bool welcomed_ = false;
  bool ended_ = false;
  std::unordered_map<uint64_t, BufferEntry> buffers_;
  std::unordered_map<uint64_t, StreamEntry> streams_;
  std::unordered_map<uint64_t, EventEntry> events_;
  std::unordered_map<uint64_t, Entry<udal_module_t>> modules_;
  std::unordered_map<uint64_t, Entry<udal_kernel_t>> kernels_;
  // Host functions the client runs: the host-signal event each stream waits on.
  std::map<std::pair<uint64_t, uint64_t>, udal_event_t> host_waits_;
  // Deferred writes: the host-signal event each one waits on until its bytes arrive.
  std::map<std::pair<uint64_t, uint64_t>, udal_event_t> deferred_gates_;
  uint64_t device_bytes_ = 0;
  // Reads sent from mapped buffers whose bytes are not sent yet (teardown waits for them).
  std::shared_ptr<std::atomic<uint64_t>> reads_in_place_ = std::make_shared<std::atomic<uint64_t>>(0);
};

}  // namespace udal::remote::server

#endif  // UDAL_REMOTE_SERVER_SESSION_H_
