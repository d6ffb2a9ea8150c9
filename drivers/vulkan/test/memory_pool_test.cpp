// The memory pool (src/memory.cpp): buffers carved from one block never share a byte, are
// aligned as asked, are bound on the device where their host address says, and keep their
// bytes while their neighbours are freed and the holes are carved again.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fixture.h"

namespace udal::vulkan::test {
namespace {

// Byte |index| of pattern |tag|: no two tags agree for long, so a buffer that overlaps
// another, or is bound elsewhere than its mapping, shows someone else's bytes.
uint8_t pattern_byte(uint32_t tag, uint64_t index) {
  const uint32_t x = (static_cast<uint32_t>(index) + 1) * 2654435761u ^ (tag + 1) * 0x9e3779b9u;
  return static_cast<uint8_t>((x >> 24) ^ (x >> 11));
}

std::vector<uint8_t> pattern(uint32_t tag, uint64_t size) {
  std::vector<uint8_t> bytes(size);
  for (uint64_t i = 0; i < size; ++i) bytes[i] = pattern_byte(tag, i);
  return bytes;
}

// The first index where |got| is not pattern |tag|, or -1.
int64_t first_difference(const std::vector<uint8_t>& got, uint32_t tag) {
  for (uint64_t i = 0; i < got.size(); ++i) {
    if (got[i] != pattern_byte(tag, i)) return static_cast<int64_t>(i);
  }
  return -1;
}

const char* kind_name(udal_buffer_kind_t kind) {
  switch (kind) {
    case UDAL_BUFFER_KIND_HOST: return "HOST";
    case UDAL_BUFFER_KIND_SHARED: return "SHARED";
    default: return "DEVICE";
  }
}

struct Carved {
  Buffer buffer;
  uint64_t size = 0;
  uint64_t alignment = 0;
  uint32_t tag = 0;
  uintptr_t host_address = 0;   // of byte 0, when the kind maps
  uint64_t device_address = 0;  // when the device has UDAL_DEVICE_FEATURE_DEVICE_ADDRESS
};

class MemoryPoolTest : public VulkanDriverTest {
 protected:
  bool mappable(udal_buffer_kind_t kind) const { return kind != UDAL_BUFFER_KIND_DEVICE; }
  bool addressed() const { return (info_.features & UDAL_DEVICE_FEATURE_DEVICE_ADDRESS) != 0; }

  // A buffer of |size| bytes at |alignment| holding pattern |tag|, written through its
  // mapping (whose address must honour the alignment) or, for DEVICE, a stream write.
  void add(std::vector<Carved>& live, udal_buffer_kind_t kind, uint64_t size,
           uint64_t alignment, uint32_t tag) {
    Carved carved;
    udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
    desc.kind = kind;
    desc.size = size;
    desc.alignment = alignment;
    if (addressed()) desc.flags = UDAL_BUFFER_FLAG_DEVICE_ADDRESS;
    udal_buffer_t raw = nullptr;
    UDAL_ASSERT_OK(udal_buffer_create(device_, &desc, &raw));
    carved.buffer.reset(raw);
    carved.size = size;
    carved.alignment = std::max(alignment, info_.min_buffer_alignment);
    carved.tag = tag;
    const std::vector<uint8_t> bytes = pattern(tag, size);
    if (mappable(kind)) {
      void* p = nullptr;
      UDAL_ASSERT_OK(udal_buffer_map(raw, 0, size, &p));
      carved.host_address = reinterpret_cast<uintptr_t>(p);
      std::memcpy(p, bytes.data(), size);
      UDAL_ASSERT_OK(udal_buffer_unmap(raw));
      ASSERT_EQ(0u, carved.host_address % carved.alignment)
          << "buffer " << tag << " of " << size << " bytes asked for alignment " << alignment;
    } else {
      write(raw, 0, bytes.data(), size);
    }
    if (addressed()) UDAL_ASSERT_OK(udal_buffer_get_device_address(raw, &carved.device_address));
    live.push_back(std::move(carved));
  }

  // Every buffer of |live| holds its pattern, seen from the host (its mapping, or a stream
  // read) and from the device (copied into |probe| there), and no two of them share an
  // address on either side.
  void check(const std::vector<Carved>& live, udal_buffer_kind_t kind, udal_buffer_t probe) {
    for (const Carved& c : live) {
      std::vector<uint8_t> host(c.size);
      if (mappable(kind)) {
        void* p = nullptr;
        UDAL_ASSERT_OK(udal_buffer_map(c.buffer.get(), 0, c.size, &p));
        std::memcpy(host.data(), p, c.size);
        UDAL_ASSERT_OK(udal_buffer_unmap(c.buffer.get()));
      } else {
        host = read(c.buffer.get(), 0, c.size);
      }
      ASSERT_EQ(-1, first_difference(host, c.tag))
          << "host view of buffer " << c.tag << " (" << c.size << " bytes, alignment "
          << c.alignment << ")";
      UDAL_ASSERT_OK(udal_stream_copy_buffer(io_stream_.get(), c.buffer.get(), 0, probe, 0, c.size));
      ASSERT_EQ(-1, first_difference(read(probe, 0, c.size), c.tag))
          << "device view of buffer " << c.tag << " (" << c.size << " bytes, alignment "
          << c.alignment << ")";
    }
    auto disjoint = [&](auto start_of, const char* side) {
      std::vector<const Carved*> order;
      for (const Carved& c : live) order.push_back(&c);
      std::sort(order.begin(), order.end(),
                [&](const Carved* a, const Carved* b) { return start_of(*a) < start_of(*b); });
      for (size_t i = 1; i < order.size(); ++i) {
        EXPECT_LE(start_of(*order[i - 1]) + order[i - 1]->size, start_of(*order[i]))
            << side << ": buffer " << order[i - 1]->tag << " (" << order[i - 1]->size
            << " bytes) runs into buffer " << order[i]->tag;
      }
    };
    if (mappable(kind)) disjoint([](const Carved& c) { return uint64_t{c.host_address}; }, "host");
    if (addressed()) disjoint([](const Carved& c) { return c.device_address; }, "device");
  }
};

constexpr uint64_t kLargest = 40'001;  // every buffer here; 96 of them fill a fraction of a block
constexpr uint64_t kAlignments[] = {0, 64, 256, 4096, 65536};

TEST_F(MemoryPoolTest, OddSizesAndAlignmentsKeepTheirBytesWhileHolesAreCarvedAgain) {
  for (udal_buffer_kind_t kind :
       {UDAL_BUFFER_KIND_HOST, UDAL_BUFFER_KIND_SHARED, UDAL_BUFFER_KIND_DEVICE}) {
    SCOPED_TRACE(kind_name(kind));
    Buffer probe = make_buffer(kLargest, UDAL_BUFFER_KIND_DEVICE);
    ASSERT_TRUE(probe);
    std::mt19937 random(20261130);
    auto odd_size = [&](uint64_t largest) { return (1 + random() % largest) | 1; };
    std::vector<Carved> live;
    uint32_t tag = 0;
    // Sizes that are not multiples of 4 next to the smallest and the block's own alignment.
    for (uint64_t size : {uint64_t{1}, uint64_t{3}, uint64_t{4095}, uint64_t{4097}}) {
      ASSERT_NO_FATAL_FAILURE(add(live, kind, size, 0, tag++));
    }
    for (int i = 0; i < 44; ++i) {
      ASSERT_NO_FATAL_FAILURE(
          add(live, kind, odd_size(kLargest), kAlignments[random() % std::size(kAlignments)], tag++));
    }
    ASSERT_NO_FATAL_FAILURE(check(live, kind, probe.get()));

    // Every third buffer goes, and a run of neighbours whose ranges coalesce into one hole;
    // what follows is carved into those holes, smaller and larger than what was there.
    std::vector<Carved> kept;
    for (size_t i = 0; i < live.size(); ++i) {
      if (i % 3 != 0 && (i < 20 || i > 25)) kept.push_back(std::move(live[i]));
    }
    live = std::move(kept);
    for (int i = 0; i < 48; ++i) {
      const uint64_t largest = i % 4 == 0 ? kLargest : 2'001;
      ASSERT_NO_FATAL_FAILURE(
          add(live, kind, odd_size(largest), kAlignments[random() % std::size(kAlignments)], tag++));
    }
    ASSERT_NO_FATAL_FAILURE(check(live, kind, probe.get()));
    if (mappable(kind)) {
      // One block holds them (src/memory.cpp: 32 MiB), the case where a wrong carve overlaps.
      uintptr_t low = UINTPTR_MAX, high = 0;
      for (const Carved& c : live) {
        low = std::min(low, c.host_address);
        high = std::max(high, c.host_address + c.size);
      }
      EXPECT_LE(high - low, uint64_t{32} << 20) << "the buffers were meant to share one block";
    }
  }
}

// The pool's lock: threads carve and free buffers of one memory type at once, each checking
// that its buffers kept their bytes (CI runs this under ThreadSanitizer).
TEST_F(MemoryPoolTest, BuffersCarvedAndFreedFromSeveralThreadsKeepTheirBytes) {
  constexpr int kThreads = 4, kRounds = 40;
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(static_cast<uint32_t>(t) + 1);
      std::vector<std::pair<udal_buffer_t, uint32_t>> mine;
      auto verify = [&](udal_buffer_t buffer, uint32_t tag, uint64_t size) {
        void* p = nullptr;
        if (udal_buffer_map(buffer, 0, size, &p) != UDAL_SUCCESS) {
          failures[t] = std::string("map: ") + udal_last_error_message();
          return;
        }
        std::vector<uint8_t> got(static_cast<const uint8_t*>(p),
                                 static_cast<const uint8_t*>(p) + size);
        udal_buffer_unmap(buffer);
        if (const int64_t at = first_difference(got, tag); at >= 0 && failures[t].empty()) {
          failures[t] = "buffer " + std::to_string(tag) + " changed at byte " + std::to_string(at);
        }
      };
      auto size_of = [](uint32_t tag) { return uint64_t{1} + (tag * 7919u) % 3000; };
      for (int round = 0; round < kRounds && failures[t].empty(); ++round) {
        const uint32_t tag = static_cast<uint32_t>(t * kRounds + round);
        udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
        desc.kind = UDAL_BUFFER_KIND_HOST;
        desc.size = size_of(tag);
        desc.alignment = kAlignments[random() % std::size(kAlignments)];
        udal_buffer_t buffer = nullptr;
        if (udal_buffer_create(device_, &desc, &buffer) != UDAL_SUCCESS) {
          failures[t] = std::string("create: ") + udal_last_error_message();
          break;
        }
        void* p = nullptr;
        if (udal_buffer_map(buffer, 0, desc.size, &p) != UDAL_SUCCESS) {
          failures[t] = std::string("map: ") + udal_last_error_message();
          udal_buffer_destroy(buffer);
          break;
        }
        const std::vector<uint8_t> bytes = pattern(tag, desc.size);
        std::memcpy(p, bytes.data(), desc.size);
        udal_buffer_unmap(buffer);
        mine.emplace_back(buffer, tag);
        if (random() % 2 == 0) {  // free one of this thread's buffers, anywhere in the list
          const size_t victim = random() % mine.size();
          verify(mine[victim].first, mine[victim].second, size_of(mine[victim].second));
          udal_buffer_destroy(mine[victim].first);
          mine.erase(mine.begin() + static_cast<std::ptrdiff_t>(victim));
        }
      }
      for (auto [buffer, tag] : mine) {
        verify(buffer, tag, size_of(tag));
        udal_buffer_destroy(buffer);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ("", failures[t]) << "thread " << t;
}

}  // namespace
}  // namespace udal::vulkan::test
