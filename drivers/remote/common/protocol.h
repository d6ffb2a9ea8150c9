// protocol.h — the constants of the remote protocol both ends agree on.
#ifndef UDAL_REMOTE_PROTOCOL_H_
#define UDAL_REMOTE_PROTOCOL_H_

#include <cstddef>
#include <cstdint>

namespace udal::remote {

// The protocol version, exchanged in Hello/Welcome. Another major version is refused by
// both ends with a message; a minor version only appends (schema/remote.fbs).
inline constexpr uint16_t kProtocolMajor = 1;
inline constexpr uint16_t kProtocolMinor = 0;

// Frame header: 'U' 'D' 'R' 'M', message bytes (u32 little-endian), bulk bytes (u64 LE).
inline constexpr std::size_t kFrameHeaderBytes = 16;
inline constexpr uint8_t kFrameMagic[4] = {'U', 'D', 'R', 'M'};

// The largest message either side accepts (a launch's value arguments, a module's build
// options and specialization constants, the device list all fit many times over).
inline constexpr uint32_t kMaxMessageBytes = 1u << 20;
// The largest bulk of one frame: a module image (udal.h caps it at 1 GiB).
inline constexpr uint64_t kMaxModuleBytes = uint64_t{1} << 30;
// Host writes and reads travel in pieces of at most this size, so a big transfer streams
// and overlaps with the server's copies, and no frame holds the other side's memory long.
inline constexpr uint64_t kTransferChunkBytes = uint64_t{8} << 20;

// Defaults of the keep-alive: each side sends a Ping after this much silence on its way
// out, and takes the peer for lost after kDefaultKeepaliveTimeoutMs without a byte from it.
inline constexpr uint32_t kDefaultKeepaliveIntervalMs = 1000;
inline constexpr uint32_t kDefaultClientKeepaliveTimeoutMs = 5000;
inline constexpr uint32_t kDefaultServerKeepaliveTimeoutMs = 15000;
// How long a client waits for a server to connect, shake hands and list its devices.
inline constexpr uint32_t kDefaultConnectTimeoutMs = 3000;

}  // namespace udal::remote

#endif  // UDAL_REMOTE_PROTOCOL_H_
