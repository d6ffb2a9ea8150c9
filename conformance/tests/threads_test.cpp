// Thread safety: N threads × M streams doing transfers, launches and events at once, and
// objects created and destroyed concurrently. Run under ThreadSanitizer in CI.
#include "cts.h"

#include <fmt/format.h>

#include <atomic>
#include <thread>

namespace cts {
namespace {

using ThreadsTest = DeviceTest;

constexpr int kThreads = 4;
constexpr int kStreamsPerThread = 3;
constexpr int kRounds = 25;

TEST_P(ThreadsTest, ThreadsTimesStreamsStress) {
  Module module;
  Kernel add = MakeKernel("add_u32", &module);
  ASSERT_TRUE(add);
  constexpr uint32_t kWords = 256;
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto fail = [&](const std::string& what, udal_result_t r) {
        if (errors[t].empty()) errors[t] = fmt::format("{}: {} ({})", what, udal_result_name(r), udal_last_error_message());
      };
      std::vector<udal_stream_t> streams(kStreamsPerThread, nullptr);
      std::vector<udal_buffer_t> a(kStreamsPerThread, nullptr), b(kStreamsPerThread, nullptr);
      udal_event_t event = nullptr;
      udal_result_t r = udal_event_create(device(), nullptr, &event);
      if (r != UDAL_SUCCESS) return fail("event_create", r);
      udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
      desc.size = kWords * 4;
      for (int s = 0; s < kStreamsPerThread; ++s) {
        if ((r = udal_stream_create(device(), nullptr, &streams[s])) != UDAL_SUCCESS) fail("stream_create", r);
        if ((r = udal_buffer_create(device(), &desc, &a[s])) != UDAL_SUCCESS) fail("buffer_create", r);
        if ((r = udal_buffer_create(device(), &desc, &b[s])) != UDAL_SUCCESS) fail("buffer_create", r);
      }
      if (errors[t].empty()) {
        const uint32_t one = 1, n = kWords;
        for (int s = 0; s < kStreamsPerThread; ++s) {
          uint32_t start = static_cast<uint32_t>(t * 100 + s);
          if ((r = udal_stream_fill_buffer(streams[s], a[s], 0, kWords * 4, &start, 4)) != UDAL_SUCCESS) fail("fill", r);
        }
        for (int round = 0; round < kRounds; ++round) {
          for (int s = 0; s < kStreamsPerThread; ++s) {
            if ((r = Launch(streams[s], add.get(), {kWords / 32, 1, 1}, {32, 1, 1},
                            {udal_arg_buffer(a[s], 0), udal_arg_value(&one, 4), udal_arg_value(&n, 4)})) != UDAL_SUCCESS)
              fail("launch", r);
            if ((r = udal_stream_copy_buffer(streams[s], a[s], 0, b[s], 0, kWords * 4)) != UDAL_SUCCESS) fail("copy", r);
            if ((r = udal_stream_copy_buffer(streams[s], b[s], 0, a[s], 0, kWords * 4)) != UDAL_SUCCESS) fail("copy", r);
          }
          // Every few rounds, stream 0 waits for stream 1 through an event.
          if (round % 5 == 0 && kStreamsPerThread > 1) {
            if ((r = udal_stream_record_event(streams[1], event)) != UDAL_SUCCESS) fail("record", r);
            if ((r = udal_stream_wait_event(streams[0], event)) != UDAL_SUCCESS) fail("wait_event", r);
          }
        }
        for (int s = 0; s < kStreamsPerThread; ++s) {
          std::vector<uint32_t> words(kWords, 0);
          if ((r = udal_stream_read_buffer(streams[s], a[s], 0, words.data(), kWords * 4)) != UDAL_SUCCESS) fail("read", r);
          if ((r = udal_stream_synchronize(streams[s], kWaitNs)) != UDAL_SUCCESS) fail("synchronize", r);
          uint32_t want = static_cast<uint32_t>(t * 100 + s + kRounds);
          for (uint32_t i = 0; i < kWords && errors[t].empty(); ++i) {
            if (words[i] != want)
              errors[t] = fmt::format("stream {}: word {} is {}, want {}", s, i, words[i], want);
          }
        }
      }
      for (int s = 0; s < kStreamsPerThread; ++s) {
        if (streams[s]) udal_stream_destroy(streams[s]);
        if (a[s]) udal_buffer_destroy(a[s]);
        if (b[s]) udal_buffer_destroy(b[s]);
      }
      udal_event_destroy(event);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ("", errors[t]) << "thread " << t;
}

TEST_P(ThreadsTest, ConcurrentCreateAndDestroyOfEveryObject) {
  KernelImages images = LoadKernelImages("fill_index");
  ASSERT_FALSE(images.images.empty());
  std::atomic<int> failures{0};
  std::string first_failure;
  std::mutex mutex;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      auto check = [&](udal_result_t r, const char* what) {
        if (r == UDAL_SUCCESS) return true;
        if (failures++ == 0) {
          std::lock_guard lock(mutex);
          first_failure = fmt::format("{}: {} ({})", what, udal_result_name(r), udal_last_error_message());
        }
        return false;
      };
      for (int round = 0; round < 30; ++round) {
        udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
        desc.size = 1024 + static_cast<uint64_t>(round);
        udal_buffer_t buffer = nullptr;
        udal_stream_t stream = nullptr;
        udal_event_t event = nullptr;
        if (check(udal_buffer_create(device(), &desc, &buffer), "buffer_create")) udal_buffer_destroy(buffer);
        if (check(udal_stream_create(device(), nullptr, &stream), "stream_create")) udal_stream_destroy(stream);
        if (check(udal_event_create(device(), nullptr, &event), "event_create")) udal_event_destroy(event);
        if (round % 10 == 0) {
          udal_module_desc_t module_desc = UDAL_MODULE_DESC_INIT;
          module_desc.images = images.images.data();
          module_desc.image_count = static_cast<uint32_t>(images.images.size());
          udal_module_t module = nullptr;
          if (check(udal_module_create(device(), &module_desc, &module), "module_create")) {
            udal_kernel_t kernel = nullptr;
            if (check(udal_kernel_create(module, "fill_index", &kernel), "kernel_create")) udal_kernel_destroy(kernel);
            udal_module_destroy(module);
          }
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(0, failures.load()) << first_failure;
}

TEST_P(ThreadsTest, EventsSignalledOnOneThreadReleaseWaitersOnOthers) {
  Delayer delay(this);
  Stream producer = MakeStream();
  Event event = MakeEvent();
  ASSERT_TRUE(delay.ok() && producer && event);
  ASSERT_OK(delay.Enqueue(producer.get(), 50'000));
  ASSERT_OK(udal_stream_record_event(producer.get(), event.get()));
  std::atomic<int> released{0};
  std::vector<std::thread> waiters;
  for (int t = 0; t < kThreads; ++t) {
    waiters.emplace_back([&] {
      if (udal_event_wait(event.get(), kWaitNs) == UDAL_SUCCESS) ++released;
    });
  }
  for (std::thread& waiter : waiters) waiter.join();
  EXPECT_EQ(kThreads, released.load());
  EXPECT_EQ(1u, delay.Count(producer.get()));
}

}  // namespace

CTS_INSTANTIATE(ThreadsTest);

}  // namespace cts
