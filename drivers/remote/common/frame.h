// frame.h — one frame on the wire: a 16-byte header, a verified Message, bulk bytes.
#ifndef UDAL_REMOTE_FRAME_H_
#define UDAL_REMOTE_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "protocol.h"
#include "remote_generated.h"

namespace udal::remote {


struct FrameHeader {
  uint32_t message_bytes = 0;
  uint64_t bulk_bytes = 0;
};

// Reads the header at |bytes| (kFrameHeaderBytes of them). On a bad header returns false
// and says why in |why|: a wrong magic (with a hint when the bytes are a TLS record, the
// usual sign of a TLS peer on a plain connection), a message of 0 or over kMaxMessageBytes
// bytes, a bulk over kMaxModuleBytes.
bool parse_frame_header(const uint8_t* bytes, FrameHeader& out, std::string& why);

void write_frame_header(uint8_t* bytes, uint32_t message_bytes, uint64_t bulk_bytes);

// Checks |size| bytes at |data| (8-aligned) with the FlatBuffers verifier and the file
// identifier; returns the message, or nullptr with the reason in |why|.
const wire::Message* verify_message(const uint8_t* data, std::size_t size, std::string& why);

// A frame to send: the header and the message, owned, then optional bulk bytes that live
// elsewhere. |bulk_owner| (may be null when the sender guarantees the bytes outlive the
// send, as the client does for host memory a write reads) is released once they are sent.
struct OutFrame {
  std::vector<uint8_t> head;
  const uint8_t* bulk = nullptr;
  uint64_t bulk_bytes = 0;
  std::shared_ptr<const void> bulk_owner;
};

// The frame of the message finished in |builder|, announcing |bulk_bytes| of bulk.
OutFrame make_frame(const flatbuffers::FlatBufferBuilder& builder, uint64_t bulk_bytes = 0);

// A union member's name ("WriteBuffer"), for messages.
const char* body_name(wire::Body type);

}  // namespace udal::remote

#endif  // UDAL_REMOTE_FRAME_H_
