// The wire format alone: frame headers, the verifier, and the server's request decoding.
#include <cstring>

#include <gtest/gtest.h>

#include "net.h"
#include "convert.h"
#include "frame.h"
#include "request.h"

namespace udal::remote {
namespace {

TEST(Wire, FrameHeaderRoundTrips) {
  uint8_t bytes[kFrameHeaderBytes];
  write_frame_header(bytes, 1234, 5678901234ull % kMaxModuleBytes);
  FrameHeader header;
  std::string why;
  ASSERT_TRUE(parse_frame_header(bytes, header, why)) << why;
  EXPECT_EQ(header.message_bytes, 1234u);
  EXPECT_EQ(header.bulk_bytes, 5678901234ull % kMaxModuleBytes);
}

TEST(Wire, TlsRecordInsteadOfFrameIsNamed) {
  // A TLS alert record, as a TLS server answers a plain client.
  const uint8_t alert[kFrameHeaderBytes] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46};
  FrameHeader header;
  std::string why;
  EXPECT_FALSE(parse_frame_header(alert, header, why));
  EXPECT_NE(why.find("speaks TLS"), std::string::npos) << why;
}

TEST(Wire, OversizedOrEmptyMessagesAreRefused) {
  uint8_t bytes[kFrameHeaderBytes];
  FrameHeader header;
  std::string why;
  write_frame_header(bytes, kMaxMessageBytes + 1, 0);
  EXPECT_FALSE(parse_frame_header(bytes, header, why));
  EXPECT_NE(why.find(std::to_string(kMaxMessageBytes + 1)), std::string::npos) << why;
  write_frame_header(bytes, 0, 0);
  EXPECT_FALSE(parse_frame_header(bytes, header, why));
  write_frame_header(bytes, 16, kMaxModuleBytes + 1);
  EXPECT_FALSE(parse_frame_header(bytes, header, why));
}

TEST(Wire, VerifierRefusesGarbageAndTruncation) {
  std::vector<uint64_t> storage(64, 0x5a5a5a5a5a5a5a5aull);
  std::string why;
  EXPECT_EQ(verify_message(reinterpret_cast<const uint8_t*>(storage.data()), 512, why), nullptr);
  flatbuffers::FlatBufferBuilder builder;
  finish_message(builder, wire::CreateCopyBuffer(builder, 1, 2, 3, 4, 5, 6, 7));
  std::vector<uint64_t> copy((builder.GetSize() + 7) / 8);
  std::memcpy(copy.data(), builder.GetBufferPointer(), builder.GetSize());
  const auto* bytes = reinterpret_cast<const uint8_t*>(copy.data());
  EXPECT_NE(verify_message(bytes, builder.GetSize(), why), nullptr) << why;
  EXPECT_EQ(verify_message(bytes, builder.GetSize() / 2, why), nullptr);
}

// Decodes the message finished in |builder| as the server does.
bool decode(const flatbuffers::FlatBufferBuilder& builder, uint64_t bulk,
            server::Request& request, std::string& why) {
  std::vector<uint64_t> copy((builder.GetSize() + 7) / 8);
  std::memcpy(copy.data(), builder.GetBufferPointer(), builder.GetSize());
  const wire::Message* message =
      verify_message(reinterpret_cast<const uint8_t*>(copy.data()), builder.GetSize(), why);
  if (message == nullptr) return false;
  return server::decode_request(*message, bulk, request, why);
}

TEST(Wire, DecodeRefusesWhatNoClientSends) {
  server::Request request;
  std::string why;
  {
    flatbuffers::FlatBufferBuilder builder;
    const auto pattern = builder.CreateVector(std::vector<uint8_t>(3, 1));
    finish_message(builder, wire::CreateFillBuffer(builder, 1, 1, 2, 0, 64, pattern));
    EXPECT_FALSE(decode(builder, 0, request, why));
    EXPECT_NE(why.find("pattern of 3 bytes"), std::string::npos) << why;
  }
  {
    flatbuffers::FlatBufferBuilder builder;
    finish_message(builder, wire::CreateWriteBuffer(builder, 1, 1, 2, 0, 100));
    EXPECT_FALSE(decode(builder, 99, request, why)) << "bulk shorter than the write";
    EXPECT_TRUE(decode(builder, 100, request, why)) << why;
    EXPECT_EQ(server::request_bulk_bytes(request), 100u);
  }
  {
    flatbuffers::FlatBufferBuilder builder;
    const auto three = builder.CreateVector(std::vector<uint32_t>{1, 1});
    finish_message(builder, wire::CreateLaunch(builder, 1, 1, 1, three, three, 0));
    EXPECT_FALSE(decode(builder, 0, request, why));
    EXPECT_NE(why.find("3 entries"), std::string::npos) << why;
  }
  {
    flatbuffers::FlatBufferBuilder builder;
    finish_message(builder, wire::CreatePing(builder, 7));
    EXPECT_FALSE(decode(builder, 8, request, why)) << "a ping with bulk";
    EXPECT_TRUE(decode(builder, 0, request, why)) << why;
    EXPECT_EQ(std::get<server::PingRequest>(request).nonce, 7u);
  }
  {
    flatbuffers::FlatBufferBuilder builder;
    finish_message(builder, wire::CreateReadBuffer(builder, 1, 1, 2, 0, kTransferChunkBytes + 1));
    EXPECT_FALSE(decode(builder, 0, request, why));
  }
}

TEST(Wire, DeviceInfoRoundTripsFieldByField) {
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  std::strcpy(info.name, "test device");
  std::strcpy(info.vendor, "vendor");
  for (int i = 0; i < UDAL_UUID_SIZE; ++i) info.uuid[i] = static_cast<uint8_t>(i * 7);
  info.features = UDAL_DEVICE_FEATURE_INT64 | UDAL_DEVICE_FEATURE_MEMORY_USAGE;
  info.max_local_memory_bytes = 1 << 16;
  info.max_allocation_bytes = 1ull << 34;
  info.min_buffer_alignment = 64;
  info.buffer_argument_offset_alignment = 4;
  for (int axis = 0; axis < 3; ++axis) {
    info.max_group_size[axis] = 1024 >> axis;
    info.max_group_count[axis] = 65535u + axis;
  }
  info.max_group_invocations = 1024;
  info.max_kernel_arguments = 64;
  info.max_value_argument_bytes = 4096;
  info.subgroup_size_count = 2;
  info.subgroup_sizes[0] = 8;
  info.subgroup_sizes[1] = 16;
  info.module_format_count = 1;
  info.module_formats[0] = UDAL_MODULE_FORMAT_HOST_NATIVE;
  flatbuffers::FlatBufferBuilder builder;
  builder.Finish(to_wire(builder, info));
  const auto* wire_info = flatbuffers::GetRoot<wire::DeviceInfo>(builder.GetBufferPointer());
  udal_device_info_t back = UDAL_DEVICE_INFO_INIT;
  std::string why;
  ASSERT_TRUE(from_wire(*wire_info, back, why)) << why;
  EXPECT_EQ(std::memcmp(&info, &back, sizeof(info)), 0);
}

TEST(Wire, HostPortParsing) {
  HostPort where;
  std::string why;
  EXPECT_TRUE(parse_host_port("127.0.0.2:7860", where, why));
  EXPECT_EQ(where.host, "127.0.0.2");
  EXPECT_EQ(where.port, 7860);
  EXPECT_TRUE(parse_host_port("[::1]:1", where, why));
  EXPECT_EQ(where.host, "::1");
  EXPECT_FALSE(parse_host_port("127.0.0.1", where, why));
  EXPECT_FALSE(parse_host_port("host:99999", where, why));
  EXPECT_FALSE(parse_host_port("::1:80", where, why));
  EXPECT_FALSE(parse_host_port("127.0.0.1:0", where, why));
  EXPECT_TRUE(parse_host_port("127.0.0.1:0", where, why, /*allow_port_zero=*/true));
  EXPECT_TRUE(is_loopback(asio::ip::make_address("127.4.5.6")));
  EXPECT_FALSE(is_loopback(asio::ip::make_address("10.0.0.1")));
  EXPECT_TRUE(is_loopback(asio::ip::make_address("::ffff:127.0.0.1")));
}

}  // namespace
}  // namespace udal::remote
