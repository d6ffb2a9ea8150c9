// Streams: transfers, fills, order, synchronize, destroy with work in flight.
#include <cstdint>
#include <cstring>
#include <numeric>
#include <thread>
#include <vector>

#include "fixture.h"

namespace udal::cpu::test {
namespace {

std::vector<uint8_t> iota_bytes(std::size_t n, uint8_t start = 1) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), start);
  return v;
}

TEST_F(CpuDriverTest, WriteThenReadRoundTrips) {
  Buffer buffer = make_buffer(1 << 16);
  auto data = iota_bytes(5000);
  write(buffer.get(), 123, data.data(), data.size());
  auto back = read(buffer.get(), 123, data.size());
  EXPECT_EQ(0, std::memcmp(back.data(), data.data(), data.size()));
}

TEST_F(CpuDriverTest, CopiesWithinAndAcrossBuffers) {
  Buffer a = make_buffer(4096);
  Buffer b = make_buffer(4096, UDAL_BUFFER_KIND_HOST);
  auto data = iota_bytes(1000, 7);
  write(a.get(), 0, data.data(), data.size());
  Stream stream = make_stream();
  UDAL_ASSERT_OK(udal_stream_copy_buffer(stream.get(), a.get(), 0, a.get(), 2000, 1000));
  UDAL_ASSERT_OK(udal_stream_copy_buffer(stream.get(), a.get(), 2000, b.get(), 3, 1000));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  auto back = read(b.get(), 3, 1000);
  EXPECT_EQ(0, std::memcmp(back.data(), data.data(), data.size()));
}

TEST_F(CpuDriverTest, BigCopiesAndFillsUseEveryByte) {
  const uint64_t size = (uint64_t{32} << 20) + 13;  // over the parallel threshold, odd tail
  Buffer a = make_buffer(size);
  Buffer b = make_buffer(size);
  std::vector<uint8_t> data(size);
  for (uint64_t i = 0; i < size; ++i) data[i] = static_cast<uint8_t>(i * 2654435761u >> 24);
  write(a.get(), 0, data.data(), size);
  Stream stream = make_stream();
  UDAL_ASSERT_OK(udal_stream_copy_buffer(stream.get(), a.get(), 0, b.get(), 0, size));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  auto back = read(b.get(), 0, size);
  ASSERT_EQ(0, std::memcmp(back.data(), data.data(), size));

  const uint8_t pattern[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  const uint64_t offset = 5;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), b.get(), offset, size - offset - 3,
                                         pattern, 16));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  back = read(b.get(), 0, size);
  for (uint64_t i = 0; i < size; ++i) {
    const uint8_t expected =
        (i < offset || i >= size - 3) ? data[i] : pattern[(i - offset) % 16];
    ASSERT_EQ(static_cast<uint8_t>(back[i]), expected) << "byte " << i;
  }
}

// Copies of 4 MiB and more stream their stores from a 16-byte-aligned destination: offsets
// that put source and destination out of step, and sizes that leave a tail, on the serial
// path (under 8 MiB) and the parallel one, by copy, host write and host read.
TEST_F(CpuDriverTest, LargeCopiesAtMisalignedOffsetsKeepEveryByte) {
  for (const uint64_t size : {(uint64_t{5} << 20) + 7, (uint64_t{20} << 20) + 45}) {
    const uint64_t src_offset = 3, dst_offset = 9, total = size + 64;
    Buffer a = make_buffer(total);
    Buffer b = make_buffer(total);
    std::vector<uint8_t> data(total), background(total, 0xee);
    for (uint64_t i = 0; i < total; ++i) data[i] = static_cast<uint8_t>(i * 2246822519u >> 24);
    write(a.get(), 0, data.data(), total);
    write(b.get(), 0, background.data(), total);
    Stream stream = make_stream();
    UDAL_ASSERT_OK(
        udal_stream_copy_buffer(stream.get(), a.get(), src_offset, b.get(), dst_offset, size));
    UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
    auto back = read(b.get(), 0, total);
    for (uint64_t i = 0; i < total; ++i) {
      const bool copied = i >= dst_offset && i < dst_offset + size;
      ASSERT_EQ(static_cast<uint8_t>(back[i]), copied ? data[i - dst_offset + src_offset] : 0xee)
          << "size " << size << " byte " << i;
    }
    // The host write and read paths, from and into host memory at an odd address.
    write(b.get(), 1, data.data() + 5, size);
    back = read(b.get(), 1, size);
    ASSERT_EQ(0, std::memcmp(back.data(), data.data() + 5, size)) << "size " << size;
  }
}

TEST_F(CpuDriverTest, FillsEveryPatternSizeAtOddOffsetsAndSizes) {
  const uint8_t pattern[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                               0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf};
  Buffer buffer = make_buffer(2048);
  Stream stream = make_stream();
  for (uint32_t pattern_size : {1u, 2u, 4u, 8u, 16u}) {
    for (uint64_t offset : {0u, 1u, 3u, 7u, 64u}) {
      for (uint64_t size : {1u, 5u, 33u, 257u, 1000u}) {
        std::vector<uint8_t> zeros(2048, 0);
        write(buffer.get(), 0, zeros.data(), zeros.size());
        UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), offset, size, pattern,
                                               pattern_size));
        UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
        auto back = read(buffer.get(), 0, 2048);
        for (uint64_t i = 0; i < 2048; ++i) {
          const uint8_t expected =
              (i >= offset && i < offset + size) ? pattern[(i - offset) % pattern_size] : 0;
          ASSERT_EQ(static_cast<uint8_t>(back[i]), expected)
              << "pattern " << pattern_size << " offset " << offset << " size " << size
              << " byte " << i;
        }
      }
    }
  }
}

// Fills of 4 MiB and more take the string-store path (patterns of up to 8 bytes) or the
// streaming path (16 bytes), from an aligned word or vector with the pattern in phase: every
// pattern size, at offsets that leave a head, sizes that leave a tail, on the serial path
// (under 8 MiB) and the parallel one.
TEST_F(CpuDriverTest, LargeFillsOfEveryPatternSizeKeepPhaseAndBounds) {
  const uint8_t pattern[16] = {0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
                               0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf};
  const uint64_t total = (uint64_t{20} << 20) + 64;
  Buffer buffer = make_buffer(total);
  Stream stream = make_stream();
  const std::vector<uint8_t> background(total, 0xee);
  for (const uint64_t size : {(uint64_t{5} << 20) + 7, (uint64_t{20} << 20) + 45}) {
    for (const uint32_t pattern_size : {1u, 2u, 4u, 8u, 16u}) {
      const uint64_t offset = 3;
      write(buffer.get(), 0, background.data(), total);
      UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), buffer.get(), offset, size, pattern,
                                             pattern_size));
      UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
      auto back = read(buffer.get(), 0, total);
      for (uint64_t i = 0; i < total; ++i) {
        const bool filled = i >= offset && i < offset + size;
        const uint8_t expected = filled ? pattern[(i - offset) % pattern_size] : 0xee;
        ASSERT_EQ(static_cast<uint8_t>(back[i]), expected)
            << "size " << size << " pattern " << pattern_size << " byte " << i;
      }
    }
  }
}

TEST_F(CpuDriverTest, OutOfRangeTransfersAreRejectedWithTheValues) {
  Buffer a = make_buffer(4096);
  Buffer b = make_buffer(1024);
  Stream stream = make_stream();
  udal_stream_t s = stream.get();
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE, udal_stream_copy_buffer(s, a.get(), 3840, b.get(), 0, 512),
                    "512", "3840", "4096");
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE, udal_stream_copy_buffer(s, a.get(), 0, b.get(), 600, 512),
                    "600", "1024");
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE,
                    udal_stream_copy_buffer(s, a.get(), UINT64_MAX, b.get(), 0, 2));
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE,
                    udal_stream_copy_buffer(s, a.get(), 8, b.get(), 0, UINT64_MAX));
  const uint32_t pattern = 0;
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE, udal_stream_fill_buffer(s, b.get(), 1020, 8, &pattern, 4),
                    "1020");
  std::vector<uint8_t> host(8192);
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE, udal_stream_write_buffer(s, b.get(), 1, host.data(), 1024));
  UDAL_EXPECT_FAILS(UDAL_ERROR_OUT_OF_RANGE, udal_stream_read_buffer(s, b.get(), 1025, host.data(), 1));
  UDAL_ASSERT_OK(udal_stream_synchronize(s, UDAL_TIMEOUT_INFINITE));
}

TEST_F(CpuDriverTest, BadTransferArgumentsAreRejected) {
  Buffer a = make_buffer(4096);
  Stream stream = make_stream();
  udal_stream_t s = stream.get();
  std::vector<uint8_t> host(64);
  const uint64_t pattern = 0;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_copy_buffer(s, a.get(), 0, a.get(), 64, 0));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_stream_copy_buffer(s, a.get(), 0, a.get(), 100, 200));  // overlap
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_fill_buffer(s, a.get(), 0, 0, &pattern, 8));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_fill_buffer(s, a.get(), 0, 8, nullptr, 8));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_fill_buffer(s, a.get(), 0, 8, &pattern, 3));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_write_buffer(s, a.get(), 0, nullptr, 8));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_write_buffer(s, a.get(), 0, host.data(), 0));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_read_buffer(s, a.get(), 0, nullptr, 8));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_read_buffer(s, a.get(), 0, host.data(), 0));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_copy_buffer(nullptr, a.get(), 0, a.get(), 64, 8));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_copy_buffer(s, nullptr, 0, a.get(), 64, 8));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_fill_buffer(s, nullptr, 0, 8, &pattern, 8));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_synchronize(nullptr, 0));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_destroy(nullptr));
  udal_stream_t out = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_create(device_, nullptr, nullptr));
  udal_stream_desc_t desc = UDAL_STREAM_DESC_INIT;
  desc.flags = 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_create(device_, &desc, &out));
  EXPECT_EQ(out, nullptr);
}

TEST_F(CpuDriverTest, OperationsRunInEnqueueOrder) {
  Buffer value = make_buffer(64);
  Kernel mix = make_kernel("mix");
  Stream stream = make_stream();
  const uint64_t zero = 0;
  UDAL_ASSERT_OK(udal_stream_write_buffer(stream.get(), value.get(), 0, &zero, sizeof(zero)));
  uint64_t expected = 0;
  std::vector<uint64_t> snapshots(50);
  for (uint32_t step = 1; step <= 1000; ++step) {
    UDAL_ASSERT_OK(launch(stream.get(), mix.get(),
                          {udal_arg_buffer(value.get(), 0), udal_arg_value(&step, 4)}));
    expected = expected * 3 + step;
    if (step % 20 == 0) {
      // Reads interleaved with launches see exactly the launches before them.
      UDAL_ASSERT_OK(udal_stream_read_buffer(stream.get(), value.get(), 0,
                                             &snapshots[step / 20 - 1], sizeof(uint64_t)));
    }
  }
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(read_value<uint64_t>(value.get()), expected);
  uint64_t replay = 0;
  for (uint32_t step = 1; step <= 1000; ++step) {
    replay = replay * 3 + step;
    if (step % 20 == 0) {
      EXPECT_EQ(snapshots[step / 20 - 1], replay) << "after step " << step;
    }
  }
}

TEST_F(CpuDriverTest, SynchronizeTimesOutWhileWorkIsHeld) {
  Event gate = make_gate();
  Stream stream = make_stream();
  Buffer buffer = make_buffer(64);
  const uint32_t value = 5;
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate.get()));
  UDAL_ASSERT_OK(udal_stream_write_buffer(stream.get(), buffer.get(), 0, &value, 4));
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_stream_synchronize(stream.get(), 1000000));
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_stream_synchronize(stream.get(), 0));
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), 0));
  EXPECT_EQ(read_value<uint32_t>(buffer.get()), value);
}

TEST_F(CpuDriverTest, DestroyingBuffersKernelsAndStreamsWithWorkInFlightIsSafe) {
  Event gate = make_gate();
  Kernel add_one = make_kernel("add_one");
  Buffer a = make_buffer(1 << 20);
  Buffer b = make_buffer(1 << 20);
  Stream stream = make_stream();
  const uint32_t n = (1 << 20) / 4;
  const uint32_t pattern = 41;
  UDAL_ASSERT_OK(udal_stream_wait_event(stream.get(), gate.get()));
  UDAL_ASSERT_OK(udal_stream_fill_buffer(stream.get(), a.get(), 0, 1 << 20, &pattern, 4));
  UDAL_ASSERT_OK(launch(stream.get(), add_one.get(),
                        {udal_arg_buffer(a.get(), 0), udal_arg_value(&n, 4)}, n / 64, 64));
  UDAL_ASSERT_OK(udal_stream_copy_buffer(stream.get(), a.get(), 0, b.get(), 0, 1 << 20));
  // Everything above is held by the gate: destroying a and the kernel now must not free
  // what that work uses.
  UDAL_EXPECT_FAILS(UDAL_TIMEOUT, udal_stream_synchronize(stream.get(), 0));
  a.reset();
  add_one.reset();
  std::vector<uint32_t> host(n);
  UDAL_ASSERT_OK(udal_stream_read_buffer(stream.get(), b.get(), 0, host.data(), 1 << 20));
  b.reset();
  UDAL_ASSERT_OK(udal_event_signal(gate.get()));
  // Destroying the stream waits for all of it.
  stream.reset();
  for (uint32_t i = 0; i < n; ++i) ASSERT_EQ(host[i], 42u) << i;
}

TEST_F(CpuDriverTest, EventsChainWorkBackAndForthBetweenStreams) {
  // a -> b -> a: each stream waits for an event only the other records, so the result is
  // 3 only if both streams run independently and honour the waits.
  Stream a = make_stream();
  Stream b = make_stream();
  Event ea = make_event();
  Event eb = make_event();
  Buffer buffer = make_buffer(64);
  const uint64_t zero = 0;
  write(buffer.get(), 0, &zero, sizeof(zero));
  Kernel increment = make_kernel("increment");
  UDAL_ASSERT_OK(launch(a.get(), increment.get(), {udal_arg_buffer(buffer.get(), 0)}));
  UDAL_ASSERT_OK(udal_stream_record_event(a.get(), ea.get()));
  UDAL_ASSERT_OK(udal_stream_wait_event(b.get(), ea.get()));
  UDAL_ASSERT_OK(launch(b.get(), increment.get(), {udal_arg_buffer(buffer.get(), 0)}));
  UDAL_ASSERT_OK(udal_stream_record_event(b.get(), eb.get()));
  UDAL_ASSERT_OK(udal_stream_wait_event(a.get(), eb.get()));
  UDAL_ASSERT_OK(launch(a.get(), increment.get(), {udal_arg_buffer(buffer.get(), 0)}));
  UDAL_ASSERT_OK(udal_stream_synchronize(a.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(read_value<uint64_t>(buffer.get()), 3u);
}

TEST_F(CpuDriverTest, EnqueueFromSeveralThreadsAtOnce) {
  Kernel increment = make_kernel("increment");
  Kernel add_one = make_kernel("add_one");
  Buffer counter = make_buffer(64);
  const uint64_t zero = 0;
  write(counter.get(), 0, &zero, sizeof(zero));
  Stream shared = make_stream();
  constexpr int kThreads = 4;
  constexpr int kLaunches = 250;
  const uint32_t n = 4096;
  std::vector<Buffer> own(kThreads);
  for (auto& b : own) {
    b = make_buffer(n * 4);
    const uint32_t z = 0;
    UDAL_ASSERT_OK(udal_stream_fill_buffer(io_stream_.get(), b.get(), 0, n * 4, &z, 4));
  }
  UDAL_ASSERT_OK(udal_stream_synchronize(io_stream_.get(), UDAL_TIMEOUT_INFINITE));
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Stream mine = make_stream();
      for (int i = 0; i < kLaunches; ++i) {
        // The same kernel from every thread: one on a shared stream, one on its own.
        if (launch(shared.get(), increment.get(), {udal_arg_buffer(counter.get(), 0)}) != UDAL_SUCCESS) ++failures[t];
        if (launch(mine.get(), add_one.get(), {udal_arg_buffer(own[t].get(), 0), udal_arg_value(&n, 4)},
                   n / 256, 256) != UDAL_SUCCESS) ++failures[t];
      }
      if (udal_stream_synchronize(mine.get(), UDAL_TIMEOUT_INFINITE) != UDAL_SUCCESS) ++failures[t];
    });
  }
  for (auto& thread : threads) thread.join();
  for (int f : failures) EXPECT_EQ(f, 0);
  UDAL_ASSERT_OK(udal_stream_synchronize(shared.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(read_value<uint64_t>(counter.get()), uint64_t{kThreads} * kLaunches);
  for (auto& b : own) {
    auto bytes = read(b.get(), 0, n * 4);
    std::vector<uint32_t> values(n);
    std::memcpy(values.data(), bytes.data(), n * 4);
    for (uint32_t i = 0; i < n; ++i) ASSERT_EQ(values[i], uint32_t{kLaunches}) << i;
  }
}

}  // namespace
}  // namespace udal::cpu::test
