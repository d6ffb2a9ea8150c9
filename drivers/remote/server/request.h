// request.h — a client's message, decoded and checked, as the server executes it.
//
// decode_request() is the only place the server reads a wire message: after the channel has
// run the FlatBuffers verifier, it checks what the verifier cannot (fixed-length vectors,
// fill patterns, bulk sizes that match the message) and copies the fields out, so nothing
// later touches untrusted bytes. The fuzz target (fuzz/) drives exactly this function.
#ifndef UDAL_REMOTE_SERVER_REQUEST_H_
#define UDAL_REMOTE_SERVER_REQUEST_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "frame.h"

namespace udal::remote::server {

// Bytes received for a request (a write's data, a module image), counted against the
// client's in-flight limit while they exist.
struct Staging {
  Staging(uint64_t size, std::shared_ptr<std::atomic<uint64_t>> in_flight)
      : storage(std::make_unique_for_overwrite<uint8_t[]>(size)),  // not zeroed: overwritten
        length(size),
        account(std::move(in_flight)) {
    account->fetch_add(size);
  }
  ~Staging() { account->fetch_sub(length); }
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;
  uint8_t* data() { return storage.get(); }
  uint64_t size() const { return length; }

 private:
  std::unique_ptr<uint8_t[]> storage;
  uint64_t length;
  std::shared_ptr<std::atomic<uint64_t>> account;  // the session's in-flight bytes
};

struct HelloRequest { uint16_t major; uint16_t minor; std::string client; };
struct PingRequest { uint64_t nonce; };
struct PongRequest {};
struct GoodbyeRequest { std::string message; };
struct MemoryUsageRequest { uint64_t request; uint32_t device; };
struct BufferCreateRequest {
  uint64_t request; uint32_t device; uint64_t id; uint64_t size; uint64_t alignment;
  uint64_t flags; int32_t kind;
};
struct EventCreateRequest { uint64_t request; uint32_t device; uint64_t id; uint64_t flags; };
struct StreamCreateRequest { uint64_t request; uint32_t device; uint64_t id; uint64_t flags; };
struct SpecConstant { uint32_t id; std::vector<uint8_t> value; };
struct ModuleCreateRequest {
  uint64_t request; uint32_t device; uint64_t id; int32_t format; std::string build_options;
  bool has_build_options; std::vector<SpecConstant> constants; uint64_t image_bytes;
};
struct KernelCreateRequest { uint64_t request; uint64_t module; uint64_t id; std::string name; };
struct EventElapsedRequest { uint64_t request; uint64_t start; uint64_t end; };
enum class ObjectKind { kBuffer, kEvent, kModule, kKernel, kStream };
struct DestroyRequest { ObjectKind kind; uint64_t id; };
struct EventSignalRequest { uint64_t id; };
struct CopyRequest {
  uint64_t stream; uint64_t seq; uint64_t src; uint64_t src_offset; uint64_t dst;
  uint64_t dst_offset; uint64_t size;
};
struct FillRequest {
  uint64_t stream; uint64_t seq; uint64_t dst; uint64_t offset; uint64_t size;
  std::array<uint8_t, 16> pattern; uint32_t pattern_size;
};
struct WriteRequest {
  uint64_t stream; uint64_t seq; uint64_t dst; uint64_t offset; uint64_t size; bool deferred;
  // Set by the session: the bytes were received straight into the buffer's memory.
  bool in_place = false;
};
// The bytes of a deferred write (their size is the write's, known to the session).
struct WriteDataRequest { uint64_t stream; uint64_t seq; uint64_t bytes; };
struct ReadRequest { uint64_t stream; uint64_t seq; uint64_t src; uint64_t offset; uint64_t size; };
struct LaunchArgument {
  int32_t kind; uint64_t buffer; uint64_t offset; int32_t access; std::vector<uint8_t> value;
};
struct LaunchRequest {
  uint64_t stream; uint64_t seq; uint64_t kernel; uint32_t group_count[3]; uint32_t group_size[3];
  uint64_t local_memory_bytes; std::vector<LaunchArgument> args;
};
struct RecordEventRequest { uint64_t stream; uint64_t seq; uint64_t event; uint64_t generation; };
struct WaitEventRequest { uint64_t stream; uint64_t seq; uint64_t event; };
struct StreamMarkRequest { uint64_t stream; uint64_t seq; };
struct HostFunctionRequest { uint64_t stream; uint64_t seq; };
struct HostFunctionDoneRequest { uint64_t stream; uint64_t seq; };
// A message of the union this server does not know (a newer minor version), or one only a
// server sends: answered or ignored, never executed.
struct UnknownRequest { std::string name; uint64_t request; bool has_request; };

using Request =
    std::variant<HelloRequest, PingRequest, PongRequest, GoodbyeRequest, MemoryUsageRequest,
                 BufferCreateRequest, EventCreateRequest, StreamCreateRequest, ModuleCreateRequest,
                 KernelCreateRequest, EventElapsedRequest, DestroyRequest, EventSignalRequest,
                 CopyRequest, FillRequest, WriteRequest, ReadRequest, LaunchRequest,
                 RecordEventRequest, WaitEventRequest, StreamMarkRequest, HostFunctionRequest,
                 HostFunctionDoneRequest, WriteDataRequest, UnknownRequest>;

// Decodes a verified |message| announcing |bulk_bytes| of bulk. False with the reason in
// |why| for a message no correct client sends; the server then ends the session.
bool decode_request(const wire::Message& message, uint64_t bulk_bytes, Request& out,
                    std::string& why);

// The bulk a decoded request takes (its data or image); 0 for the others.
uint64_t request_bulk_bytes(const Request& request);

}  // namespace udal::remote::server

#endif  // UDAL_REMOTE_SERVER_REQUEST_H_
