// fixture.h — the CPU driver's tests: an instance that loads only the build tree's cpu
// manifest, its first device, RAII handles and result assertions that print the message.
#ifndef UDAL_CPU_TEST_FIXTURE_H_
#define UDAL_CPU_TEST_FIXTURE_H_

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "udal/udal.h"

namespace udal::cpu::test {

template <auto Destroy>
struct HandleDeleter {
  template <typename T>
  void operator()(T* handle) const noexcept {
    Destroy(handle);
  }
};
using Instance = std::unique_ptr<udal_instance_s, HandleDeleter<udal_instance_release>>;
using Buffer = std::unique_ptr<udal_buffer_s, HandleDeleter<udal_buffer_destroy>>;
using Stream = std::unique_ptr<udal_stream_s, HandleDeleter<udal_stream_destroy>>;
using Event = std::unique_ptr<udal_event_s, HandleDeleter<udal_event_destroy>>;
using Module = std::unique_ptr<udal_module_s, HandleDeleter<udal_module_destroy>>;
using Kernel = std::unique_ptr<udal_kernel_s, HandleDeleter<udal_kernel_destroy>>;

std::string last_message();
std::vector<std::byte> read_file(const char* path);

// A new instance that loads only this build's cpu driver (whatever UDAL_* variables the
// developer has set), or null with a test failure.
Instance open_instance();

// Sets an environment variable for the life of the object, then restores it.
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const char* value);
  ~ScopedEnvironment();
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

 private:
  std::string name_;
  bool had_value_ = false;
  std::string old_value_;
};

// Asserts |call| returns UDAL_SUCCESS, printing the message when not.
#define UDAL_ASSERT_OK(call)                                                              \
  do {                                                                                    \
    udal_result_t udal_r_ = (call);                                                       \
    ASSERT_EQ(udal_r_, UDAL_SUCCESS) << #call << ": " << udal_result_name(udal_r_) << ": " \
                                     << udal_last_error_message();                        \
  } while (0)

// Expects |call| to return |code| with a message containing every string of |...|.
#define UDAL_EXPECT_FAILS(code, call, ...)                                              \
  do {                                                                                  \
    udal_result_t udal_r_ = (call);                                                     \
    const std::string udal_m_ = ::udal::cpu::test::last_message();                      \
    EXPECT_EQ(udal_r_, code) << #call << " returned " << udal_result_name(udal_r_)      \
                             << ": " << udal_m_;                                        \
    EXPECT_FALSE(udal_m_.empty()) << #call << " failed without a message";              \
    for (const char* udal_s_ : std::initializer_list<const char*>{__VA_ARGS__}) {       \
      EXPECT_NE(udal_m_.find(udal_s_), std::string::npos)                               \
          << #call << ": message \"" << udal_m_ << "\" does not mention " << udal_s_;   \
    }                                                                                   \
  } while (0)

class CpuDriverTest : public ::testing::Test {
 protected:
  void SetUp() override;

  Buffer make_buffer(uint64_t size, udal_buffer_kind_t kind = UDAL_BUFFER_KIND_DEVICE,
                     uint64_t alignment = 0, udal_buffer_flags_t flags = 0);
  Stream make_stream();
  Event make_event(udal_event_flags_t flags = 0);
  // A HOST_SIGNAL event: a stream that waits on it holds its later work until the test
  // signals it. Gates pending work without any timing.
  Event make_gate() { return make_event(UDAL_EVENT_FLAG_HOST_SIGNAL); }
  Module make_module_from_file(const char* path);
  // A kernel of the test module (test_kernels.c).
  Kernel make_kernel(const char* name);

  // Enqueues |kernel| with |args| on |stream| as |groups| groups of |size| items.
  udal_result_t launch(udal_stream_t stream, udal_kernel_t kernel,
                       std::vector<udal_kernel_arg_t> args, uint32_t groups = 1,
                       uint32_t size = 1, uint64_t local_memory = 0);
  // Writes |bytes| into |buffer| at |offset| and waits.
  void write(udal_buffer_t buffer, uint64_t offset, const void* bytes, uint64_t size);
  // Reads |size| bytes of |buffer| at |offset| (after waiting for the stream).
  std::vector<std::byte> read(udal_buffer_t buffer, uint64_t offset, uint64_t size);
  template <typename T>
  T read_value(udal_buffer_t buffer, uint64_t offset = 0) {
    T value{};
    auto bytes = read(buffer, offset, sizeof(T));
    std::memcpy(&value, bytes.data(), sizeof(T));
    return value;
  }

  Instance instance_;  // first member: released after every object below
  udal_device_t device_ = nullptr;
  udal_device_info_t info_ = UDAL_DEVICE_INFO_INIT;
  Module test_module_;
  Stream io_stream_;  // for write()/read()
};

}  // namespace udal::cpu::test

#endif  // UDAL_CPU_TEST_FIXTURE_H_
