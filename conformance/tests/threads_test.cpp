// Thread safety: N threads × M streams doing transfers, launches and events at once, and
// objects created and destroyed concurrently. Run under ThreadSanitizer in CI.
#include "cts.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <mutex>
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
  Stream producer = MakeStream();
  Event event = MakeEvent();
  ASSERT_TRUE(producer && event);
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  ASSERT_OK(gate.Hold(producer.get()));
  ASSERT_OK(udal_stream_record_event(producer.get(), event.get()));
  ASSERT_TRUE(StillPending(producer.get()));
  std::atomic<bool> opened{false};
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> waiters;
  for (int t = 0; t < kThreads; ++t) {
    waiters.emplace_back([&, t] {
      errors[t] = CheckResult("udal_event_wait", UDAL_SUCCESS, udal_event_wait(event.get(), kWaitNs));
      if (errors[t].empty() && !opened) errors[t] = "udal_event_wait returned before the gate opened";
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  opened = true;
  ASSERT_OK(gate.Open());
  for (std::thread& waiter : waiters) waiter.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ("", errors[t]) << "waiter " << t;
}

// One event recorded and waited on from several threads at once, each on its own stream.
// While every stream is held, every record is pending, so the event is not complete whatever
// record is latest; once the gate opens every wait of every thread is released.
TEST_P(ThreadsTest, RecordAndWaitOnOneEventFromSeveralThreads) {
  constexpr int kRoundsPerThread = 50;
  std::vector<Stream> streams;
  std::vector<Buffer> buffers;
  for (int t = 0; t < kThreads; ++t) {
    streams.push_back(MakeStream());
    buffers.push_back(MakeBuffer(64));
    ASSERT_TRUE(streams.back() && buffers.back());
  }
  Event event = MakeEvent();
  ASSERT_TRUE(event);
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  for (int t = 0; t < kThreads; ++t) ASSERT_OK(gate.Hold(streams[t].get()));
  std::vector<std::string> errors(kThreads);
  auto run = [&](auto body) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) threads.emplace_back([&, t] { body(t); });
    for (std::thread& thread : threads) thread.join();
  };
  run([&](int t) {
    udal_stream_t s = streams[t].get();
    for (int round = 0; round < kRoundsPerThread && errors[t].empty(); ++round) {
      uint32_t value = static_cast<uint32_t>(t * 1000 + round);
      errors[t] = CheckResult("fill", UDAL_SUCCESS, udal_stream_fill_buffer(s, buffers[t].get(), 0, 64, &value, 4));
      if (errors[t].empty())
        errors[t] = CheckResult("record", UDAL_SUCCESS, udal_stream_record_event(s, event.get()));
      if (errors[t].empty())
        errors[t] = CheckResult("wait_event", UDAL_SUCCESS, udal_stream_wait_event(s, event.get()));
      if (errors[t].empty())
        errors[t] = CheckResult("query while every stream is held", UDAL_NOT_READY, udal_event_query(event.get()));
    }
  });
  for (int t = 0; t < kThreads; ++t) ASSERT_EQ("", errors[t]) << "thread " << t;
  for (int t = 0; t < kThreads; ++t) ASSERT_TRUE(StillPending(streams[t].get())) << "stream " << t;
  EXPECT_UDAL(UDAL_NOT_READY, udal_event_query(event.get()));
  ASSERT_OK(gate.Open());
  run([&](int t) {
    errors[t] = CheckResult("udal_event_wait", UDAL_SUCCESS, udal_event_wait(event.get(), kWaitNs));
    if (errors[t].empty())
      errors[t] = CheckResult("synchronize", UDAL_SUCCESS, udal_stream_synchronize(streams[t].get(), kWaitNs));
  });
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ("", errors[t]) << "thread " << t;
    std::vector<uint32_t> words = ReadBackAs<uint32_t>(streams[t].get(), buffers[t].get(), 16);
    EXPECT_EQ(static_cast<uint32_t>(t * 1000 + kRoundsPerThread - 1), words[0]) << "stream " << t;
  }
}

}  // namespace

CTS_INSTANTIATE(ThreadsTest);

}  // namespace cts
