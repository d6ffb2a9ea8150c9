// libFuzzer target: udal-server's decoding of what a client sends — frame headers, the
// FlatBuffers verifier, and decode_request — over a stream of frames, as the server's
// channel reads them. Nothing here may crash, hang, leak or read out of bounds, whatever
// the bytes.
#include <cstdint>
#include <cstring>
#include <vector>

#include "frame.h"
#include "request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace udal::remote;
  std::vector<uint64_t> aligned;
  std::size_t at = 0;
  while (size - at >= kFrameHeaderBytes) {
    FrameHeader header;
    std::string why;
    if (!parse_frame_header(data + at, header, why)) return 0;
    at += kFrameHeaderBytes;
    if (size - at < header.message_bytes) return 0;
    // The channel hands the verifier an 8-aligned copy, as here.
    aligned.assign((header.message_bytes + 7) / 8, 0);
    std::memcpy(aligned.data(), data + at, header.message_bytes);
    at += header.message_bytes;
    const wire::Message* message =
        verify_message(reinterpret_cast<const uint8_t*>(aligned.data()), header.message_bytes, why);
    if (message == nullptr) return 0;
    server::Request request;
    if (!server::decode_request(*message, header.bulk_bytes, request, why)) return 0;
    // The bulk follows: the server reads it into staging memory or drops it.
    const uint64_t bulk = server::request_bulk_bytes(request);
    if (bulk != header.bulk_bytes) __builtin_trap();  // decode accepted a mismatched bulk
    if (size - at < bulk) return 0;
    at += static_cast<std::size_t>(bulk);
  }
  return 0;
}
