#include "frame.h"

#include <cstring>

#include <fmt/format.h>

namespace udal::remote {

bool parse_frame_header(const uint8_t* bytes, FrameHeader& out, std::string& why) {
  if (std::memcmp(bytes, kFrameMagic, sizeof(kFrameMagic)) != 0) {
    // A TLS record starts with its content type (20..23) and version 3.x.
    if (bytes[0] >= 20 && bytes[0] <= 23 && bytes[1] == 3) {
      why = "the peer speaks TLS but this end uses plain TCP (--insecure / "
            "UDAL_REMOTE_INSECURE=1 on one end only?)";
    } else {
      why = fmt::format("the peer sent bytes that are not a UDAL remote frame (starting "
                        "{:02x} {:02x} {:02x} {:02x}, not 'UDRM')",
                        bytes[0], bytes[1], bytes[2], bytes[3]);
    }
    return false;
  }
  uint32_t message_bytes = 0;
  uint64_t bulk_bytes = 0;
  for (int i = 0; i < 4; ++i) message_bytes |= uint32_t{bytes[4 + i]} << (8 * i);
  for (int i = 0; i < 8; ++i) bulk_bytes |= uint64_t{bytes[8 + i]} << (8 * i);
  if (message_bytes == 0 || message_bytes > kMaxMessageBytes) {
    why = fmt::format("a frame announces a message of {} bytes (1 to {} allowed)", message_bytes,
                      kMaxMessageBytes);
    return false;
  }
  if (bulk_bytes > kMaxModuleBytes) {
    why = fmt::format("a frame announces {} bulk bytes, over the protocol's {}", bulk_bytes,
                      kMaxModuleBytes);
    return false;
  }
  out.message_bytes = message_bytes;
  out.bulk_bytes = bulk_bytes;
  return true;
}

void write_frame_header(uint8_t* bytes, uint32_t message_bytes, uint64_t bulk_bytes) {
  std::memcpy(bytes, kFrameMagic, sizeof(kFrameMagic));
  for (int i = 0; i < 4; ++i) bytes[4 + i] = static_cast<uint8_t>(message_bytes >> (8 * i));
  for (int i = 0; i < 8; ++i) bytes[8 + i] = static_cast<uint8_t>(bulk_bytes >> (8 * i));
}

const wire::Message* verify_message(const uint8_t* data, std::size_t size, std::string& why) {
  // Depth and table counts far above what any valid message has, far below what costs.
  flatbuffers::Verifier verifier(data, size, /*max_depth=*/16, /*max_tables=*/1u << 16);
  if (!wire::VerifyMessageBuffer(verifier)) {
    why = fmt::format("a message of {} bytes failed FlatBuffers verification", size);
    return nullptr;
  }
  const wire::Message* message = wire::GetMessage(data);
  if (message->body_type() == wire::Body::NONE || message->body() == nullptr) {
    why = "a message has no body";
    return nullptr;
  }
  return message;
}

OutFrame make_frame(const flatbuffers::FlatBufferBuilder& builder, uint64_t bulk_bytes) {
  OutFrame frame;
  const auto size = builder.GetSize();
  frame.head.resize(kFrameHeaderBytes + size);
  write_frame_header(frame.head.data(), static_cast<uint32_t>(size), bulk_bytes);
  std::memcpy(frame.head.data() + kFrameHeaderBytes, builder.GetBufferPointer(), size);
  frame.bulk_bytes = bulk_bytes;
  return frame;
}

const char* body_name(wire::Body type) {
  const auto index = static_cast<std::size_t>(type);
  if (index > static_cast<std::size_t>(wire::Body::MAX)) return "(unknown)";
  return wire::EnumNamesBody()[index];
}

}  // namespace udal::remote
