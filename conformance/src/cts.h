// The CTS's shared test vocabulary: the device under test (a test parameter), RAII owners
// of UDAL objects, result assertions that also demand the driver's own message, gates that
// hold work back deterministically, and host-side helpers.
#pragma once

#include <udal/udal.h>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace cts {

// One device under test. Tests are instantiated once per DeviceParam.
struct DeviceParam {
  udal_device_t device = nullptr;
  uint32_t index = 0;       // in the instance
  std::string driver_name;  // as libudal knows it
  std::string test_suffix;  // "<driver>_<index>_<device name>", sanitized for gtest
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
};

// GoogleTest prints a failing test's parameter: the device's name, not its bytes.
inline void PrintTo(const DeviceParam& param, std::ostream* os) { *os << param.test_suffix; }

// What main() found before GoogleTest registered the tests.
struct Context {
  udal_instance_t instance = nullptr;
  std::vector<std::string> driver_paths; // the instance's driver_paths (empty: the search)
  std::string driver_name;               // --driver given as a name; "" otherwise
  std::vector<DeviceParam> devices;
  std::string kernel_dir;
  double timeout_s = 20;
};
Context& context();

// The parameter generator's source; read when GoogleTest registers the tests.
const std::vector<DeviceParam>& devices();
std::string ParamName(const testing::TestParamInfo<DeviceParam>& info);
std::string Sanitize(const std::string& text);

// Creates an instance that loads the same drivers as the CTS's own one.
udal_result_t CreateInstanceLikeContext(udal_instance_t* out);

// ---------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------

// The phrase of the message libudal substitutes when a driver returns an error without a
// message of its own (udal.h, docs/driver-guide.md rule 7). Any call whose message holds it
// fails the test: the driver broke the rule, whatever code it returned.
inline constexpr const char* kNoMessagePhrase = "without a message (driver guide rule 7)";

// Checks that |actual| is |expected|. Every non-success result must come with a message
// that the driver (or libudal) wrote itself: empty, or libudal's substitute, fails. The
// message is printed only when the call did not succeed (on success it is stale).
testing::AssertionResult ResultIs(const char* expected_text, const char* actual_text,
                                  udal_result_t expected, udal_result_t actual);

#define EXPECT_UDAL(expected, expr) EXPECT_PRED_FORMAT2(::cts::ResultIs, expected, expr)
#define ASSERT_UDAL(expected, expr) ASSERT_PRED_FORMAT2(::cts::ResultIs, expected, expr)
#define ASSERT_OK(expr) ASSERT_UDAL(UDAL_SUCCESS, expr)
#define EXPECT_OK(expr) EXPECT_UDAL(UDAL_SUCCESS, expr)

// For code off the test's thread: "" when |actual| is |expected| with a proper message,
// else what was wrong (the same rules as ResultIs).
std::string CheckResult(const char* what, udal_result_t expected, udal_result_t actual);

// A value out-parameters are preset to, so a test sees whether the callee cleared them.
template <typename T> T Poison() { return reinterpret_cast<T>(uintptr_t{0x5a5a5a5a}); }

// ---------------------------------------------------------------------------------------
// Owners
// ---------------------------------------------------------------------------------------

template <typename T, udal_result_t (*Destroy)(T)> class Owned {
 public:
  Owned() = default;
  explicit Owned(T handle) : handle_(handle) {}
  ~Owned() { reset(); }
  Owned(Owned&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Owned& operator=(Owned&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;

  T get() const { return handle_; }
  // For an out-parameter: drops what is held first.
  T* out() {
    reset();
    return &handle_;
  }
  T release() { return std::exchange(handle_, nullptr); }
  void reset() {
    if (handle_ != nullptr) Destroy(handle_);
    handle_ = nullptr;
  }
  explicit operator bool() const { return handle_ != nullptr; }

 private:
  T handle_ = nullptr;
};

using Buffer = Owned<udal_buffer_t, udal_buffer_destroy>;
using Stream = Owned<udal_stream_t, udal_stream_destroy>;
using Event = Owned<udal_event_t, udal_event_destroy>;
using Module = Owned<udal_module_t, udal_module_destroy>;
using Kernel = Owned<udal_kernel_t, udal_kernel_destroy>;
using Instance = Owned<udal_instance_t, udal_instance_release>;

// ---------------------------------------------------------------------------------------
// Kernels
// ---------------------------------------------------------------------------------------

// The images of the CTS's kernel |kernel| in every format that was built, in this order:
// HOST_NATIVE, SPIRV_COMPUTE, SPIRV_KERNEL, OPENCL_C. The device takes the first it accepts.
// |spirv_compute_file| replaces "<kernel>.spv" (kernels built in several variants).
struct KernelImages {
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<udal_module_image_t> images;
};
KernelImages LoadKernelImages(const std::string& kernel, const std::string& spirv_compute_file = "");
std::vector<uint8_t> ReadFile(const std::string& path);
std::string KernelPath(const std::string& file); // under the kernel directory
const char* FormatName(udal_module_format_t format);

// ---------------------------------------------------------------------------------------
// The fixture
// ---------------------------------------------------------------------------------------

// Host waits in tests never block for ever: a driver that loses work fails the test with a
// timeout result instead of hanging until the watchdog fires.
inline constexpr uint64_t kWaitNs = 10'000'000'000ull;

class DeviceTest : public testing::TestWithParam<DeviceParam> {
 public:
  udal_device_t device() const { return GetParam().device; }
  const udal_device_info_t& info() const { return GetParam().info; }
  bool HasFeature(udal_device_features_t feature) const {
    return (info().features & feature) != 0;
  }
  bool Accepts(udal_module_format_t format) const;

  // Creation helpers; each fails the test (ADD_FAILURE) and returns an empty owner on error.
  Buffer MakeBuffer(uint64_t size, udal_buffer_kind_t kind = UDAL_BUFFER_KIND_DEVICE,
                    udal_buffer_flags_t flags = 0);
  Stream MakeStream();
  Event MakeEvent(udal_event_flags_t flags = 0);
  // Module + kernel |name| from the CTS's kernels; |module_out| keeps the module alive.
  Kernel MakeKernel(const std::string& name, Module* module_out,
                    const std::string& spirv_compute_file = "");
  // The format of the image the device took for |module|.
  udal_module_format_t FormatOf(udal_module_t module);

  // |at_least| rounded up to the device's buffer_argument_offset_alignment: a buffer
  // argument offset every device takes.
  uint64_t ArgOffset(uint64_t at_least) const;

  // Another device of the same driver (objects of another device), or nullptr.
  const DeviceParam* OtherDevice() const;

  // Host <-> buffer through |stream|, synchronized.
  std::vector<uint8_t> ReadBack(udal_stream_t stream, udal_buffer_t buffer, uint64_t offset,
                                uint64_t size);
  void Upload(udal_stream_t stream, udal_buffer_t buffer, uint64_t offset,
              const std::vector<uint8_t>& bytes);
  template <typename T>
  std::vector<T> ReadBackAs(udal_stream_t stream, udal_buffer_t buffer, uint64_t count,
                            uint64_t offset = 0) {
    std::vector<uint8_t> bytes = ReadBack(stream, buffer, offset, count * sizeof(T));
    std::vector<T> values(count);
    if (bytes.size() == count * sizeof(T)) std::memcpy(values.data(), bytes.data(), bytes.size());
    return values;
  }

 protected:
  void SetUp() override;
};

// Enqueues |kernel| with the given grid and arguments.
inline udal_result_t Launch(udal_stream_t stream, udal_kernel_t kernel,
                            std::array<uint32_t, 3> group_count,
                            std::array<uint32_t, 3> group_size,
                            const std::vector<udal_kernel_arg_t>& args,
                            uint64_t local_memory_bytes = 0) {
  udal_launch_desc_t desc = UDAL_LAUNCH_DESC_INIT;
  for (int axis = 0; axis < 3; ++axis) {
    desc.group_count[axis] = group_count[axis];
    desc.group_size[axis] = group_size[axis];
  }
  desc.local_memory_bytes = local_memory_bytes;
  desc.args = args.empty() ? nullptr : args.data();
  desc.arg_count = static_cast<uint32_t>(args.size());
  return udal_stream_launch(stream, kernel, &desc);
}

// ---------------------------------------------------------------------------------------
// Gates: work held back by the host, deterministically
// ---------------------------------------------------------------------------------------

// A HOST_SIGNAL event that streams wait on: work enqueued on a held stream after Hold()
// stays pending until Open(). Tests that need pending work use a gate, never a slow kernel,
// and check that the work is still pending (StillPending) before the action under test.
//
// Declare a gate AFTER the streams it holds: it is then destroyed first, and its destructor
// opens it, so a test that stops early never leaves a stream waiting for ever.
class Gate {
 public:
  explicit Gate(udal_device_t device);  // fails the test (ADD_FAILURE) on error
  ~Gate();
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;

  bool ok() const { return event_ != nullptr; }
  udal_event_t event() const { return event_; }
  // |stream| waits on the gate: its work enqueued after this call is held.
  udal_result_t Hold(udal_stream_t stream);
  // Signals the event (once; later calls return UDAL_SUCCESS without signalling again).
  udal_result_t Open();
  // A safety valve: opens the gate from another thread after |delay| unless it was opened
  // before. A test whose driver ignores a timeout then sees the work complete (a wrong
  // result) instead of hanging until the watchdog ends the run.
  void OpenAfter(std::chrono::milliseconds delay);

 private:
  udal_event_t event_ = nullptr;
  std::mutex mutex_;
  bool opened_ = false;
  udal_result_t open_result_ = UDAL_SUCCESS;
  std::thread valve_;
  std::atomic<bool> closing_{false};
};

// Success when |stream| still has work pending: udal_stream_synchronize(stream, 0) is
// UDAL_TIMEOUT (with a message). Used to prove gated work is pending before the action.
testing::AssertionResult StillPending(udal_stream_t stream);

// A deterministic byte pattern distinct per |seed|.
std::vector<uint8_t> Pattern(size_t size, uint32_t seed);

// First index where |actual| differs from |expected|, described; "" when equal.
std::string FirstDifference(const std::vector<uint8_t>& expected,
                            const std::vector<uint8_t>& actual);

// A value argument of |value|'s bytes. Values are copied at enqueue: |value| must live until
// the launch call returns, not longer.
template <typename T> udal_kernel_arg_t Value(const T& value) {
  return udal_arg_value(&value, static_cast<uint32_t>(sizeof(T)));
}

}  // namespace cts

// Instantiates |suite| once per device under test, named after driver and device.
#define CTS_INSTANTIATE(suite)                                                              \
  INSTANTIATE_TEST_SUITE_P(Devices, suite, ::testing::ValuesIn(::cts::devices()),           \
                           ::cts::ParamName);                                               \
  GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(suite)
