// udal_test.h — what the in-tree tests of UDAL's drivers share (udal::test_support, never
// installed): RAII handles, result assertions that print libudal's message, an instance that
// loads one manifest only, one-image modules, scoped environment variables, a loader table
// newer than this ABI, and DeviceTest, the fixture of one device that each driver's own
// fixture derives from (adding only which manifest, which kernels and its own settings).
#ifndef UDAL_TESTING_UDAL_TEST_H_
#define UDAL_TESTING_UDAL_TEST_H_

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "udal/udal.h"
#include "udal/udal_driver.h"

namespace udal::test {

// ==========================================================================================
// Handles and messages
// ==========================================================================================

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

// libudal's message for this thread's last failure.
std::string last_message();

// Asserts (or expects) |call| returns UDAL_SUCCESS, printing the code and the message when not.
#define UDAL_ASSERT_OK(call) UDAL_TEST_CHECK_OK_(ASSERT_EQ, call)
#define UDAL_EXPECT_OK(call) UDAL_TEST_CHECK_OK_(EXPECT_EQ, call)
#define UDAL_TEST_CHECK_OK_(check, call)                                                  \
  do {                                                                                    \
    udal_result_t udal_r_ = (call);                                                       \
    check(udal_r_, UDAL_SUCCESS) << #call << ": " << udal_result_name(udal_r_) << ": "    \
                                 << udal_last_error_message();                            \
  } while (0)

// Expects |call| to return exactly |code| with a message of the driver's own (not empty, not
// libudal's "failed without a message" stand-in: driver guide rule 7) that mentions every
// string of |...|.
#define UDAL_EXPECT_FAILS(code, call, ...)                                                \
  do {                                                                                    \
    udal_result_t udal_r_ = (call);                                                       \
    const std::string udal_m_ = ::udal::test::last_message();                             \
    EXPECT_EQ(udal_r_, code) << #call << " returned " << udal_result_name(udal_r_) << ": " \
                             << udal_m_;                                                  \
    EXPECT_FALSE(udal_m_.empty()) << #call << " failed without a message";                \
    EXPECT_EQ(udal_m_.find("without a message"), std::string::npos)                       \
        << #call << ": " << udal_m_;                                                      \
    for (const char* udal_s_ : std::initializer_list<const char*>{__VA_ARGS__}) {         \
      EXPECT_NE(udal_m_.find(udal_s_), std::string::npos)                                 \
          << #call << ": message \"" << udal_m_ << "\" does not mention " << udal_s_;     \
    }                                                                                     \
  } while (0)

// ==========================================================================================
// Files and the environment
// ==========================================================================================

// The bytes of the file at |path|; empty when it cannot be read.
std::vector<uint8_t> read_file(const std::string& path);

// Sets (or unsets, with nullptr) an environment variable for the life of the object, then
// restores what was there.
class ScopedEnvironment {
 public:
  ScopedEnvironment(const char* name, const char* value);
  ~ScopedEnvironment();
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_value_;
};

// ==========================================================================================
// Instances, devices, modules
// ==========================================================================================

// Creates an instance that loads only the driver of |manifest|, whatever UDAL_* variables
// the developer has set (UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT).
udal_result_t create_instance(const char* manifest, udal_instance_t* out);
// The same instance, owned; null, with a test failure, when it cannot be created.
Instance open_instance(const char* manifest);

// How many devices |instance| has, and its device |index| (expecting success).
uint32_t device_count(udal_instance_t instance);
udal_device_t device(udal_instance_t instance, uint32_t index);

// Creates a module of one image, |bytes| in |format|, on |device|.
udal_result_t create_module(udal_device_t device, udal_module_format_t format,
                            std::span<const uint8_t> bytes, udal_module_t* out,
                            const char* build_options = nullptr,
                            const std::vector<udal_specialization_constant_t>& constants = {});
// A module of one image, |bytes| in |format| or the file at |path| (read by the driver);
// null, with a test failure, when it cannot be created.
Module make_module(udal_device_t device, udal_module_format_t format,
                   std::span<const uint8_t> bytes);
Module make_module(udal_device_t device, udal_module_format_t format, const char* path);
// Kernel |name| of |module|; null, with a test failure, when it cannot be created.
Kernel make_kernel(udal_module_t module, const char* name);

// ==========================================================================================
// Negotiation
// ==========================================================================================

// The driver table of a loader newer than this ABI: |LaterEntries| entries past those this
// ABI knows, all zero, and struct_size covering them.
template <std::size_t LaterEntries>
struct NewerDriverTable {
  udal_driver_table_t known;
  void* later_entries[LaterEntries];

  NewerDriverTable() {
    std::memset(static_cast<void*>(this), 0, sizeof(*this));
    known.type = UDAL_STRUCTURE_TYPE_DRIVER_TABLE;
    known.struct_size = sizeof(*this);
  }
};

// ==========================================================================================
// The fixture of one device
// ==========================================================================================

// A test of one device. The driver's fixture sets instance_ (open_instance) and calls
// use_device(); the helpers then act on device_, expecting success.
class DeviceTest : public ::testing::Test {
 protected:
  // Takes device |index| of instance_, its info, and a stream for write() and read().
  void use_device(uint32_t index = 0);

  Buffer make_buffer(uint64_t size, udal_buffer_kind_t kind = UDAL_BUFFER_KIND_DEVICE,
                     udal_buffer_flags_t flags = 0, uint64_t alignment = 0);
  Stream make_stream();
  Event make_event(udal_event_flags_t flags = 0);
  // A HOST_SIGNAL event: a stream that waits on it holds its later work until the test
  // signals it. Gates pending work without any timing.
  Event make_gate() { return make_event(UDAL_EVENT_FLAG_HOST_SIGNAL); }

  // Enqueues |kernel| with |args| on |stream| as |groups| groups of |size| items.
  udal_result_t launch(udal_stream_t stream, udal_kernel_t kernel,
                       std::vector<udal_kernel_arg_t> args, uint32_t groups = 1,
                       uint32_t size = 1, uint64_t local_memory = 0);
  // Writes |size| bytes into |buffer| at |offset| and waits (io_wait_ns_ at most).
  void write(udal_buffer_t buffer, uint64_t offset, const void* bytes, uint64_t size);
  // Reads |size| bytes of |buffer| at |offset| and waits; |size| zeros when it is refused.
  std::vector<uint8_t> read(udal_buffer_t buffer, uint64_t offset, uint64_t size);
  template <typename T>
  T read_value(udal_buffer_t buffer, uint64_t offset = 0) {
    T value{};
    const std::vector<uint8_t> bytes = read(buffer, offset, sizeof(T));
    if (bytes.size() == sizeof(T)) std::memcpy(&value, bytes.data(), sizeof(T));
    return value;
  }
  // The first |count| values of type T in |buffer|.
  template <typename T>
  std::vector<T> read_as(udal_buffer_t buffer, uint64_t count) {
    const std::vector<uint8_t> bytes = read(buffer, 0, count * sizeof(T));
    std::vector<T> values(count);
    if (bytes.size() == count * sizeof(T)) std::memcpy(values.data(), bytes.data(), bytes.size());
    return values;
  }

  Instance instance_;  // first member: released after every object below and the fixture's
  udal_device_t device_ = nullptr;
  udal_device_info_t info_ = UDAL_DEVICE_INFO_INIT;
  Stream io_stream_;  // for write() and read()
  uint64_t io_wait_ns_ = UDAL_TIMEOUT_INFINITE;
};

}  // namespace udal::test

#endif  // UDAL_TESTING_UDAL_TEST_H_
