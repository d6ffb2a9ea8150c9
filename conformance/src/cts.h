// The CTS's shared test vocabulary: the device under test (a test parameter), RAII owners
// of UDAL objects, result assertions that also demand a message, and host-side helpers.
#pragma once

#include <udal/udal.h>

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace cts {

// One device under test. Tests are instantiated once per DeviceParam.
struct DeviceParam {
  udal_device_t device = nullptr;
  uint32_t index = 0;       // in the instance
  std::string driver_name;  // as libudal knows it
  std::string test_suffix;  // "<driver>_<index>_<device name>", sanitized for gtest
  udal_device_info_t info{};
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

// Checks that |actual| is |expected|; a non-success result must come with a message
// (udal.h: every failure sets one), which is read before anything else can overwrite it.
testing::AssertionResult ResultIs(const char* expected_text, const char* actual_text,
                                  udal_result_t expected, udal_result_t actual);

#define EXPECT_UDAL(expected, expr) EXPECT_PRED_FORMAT2(::cts::ResultIs, expected, expr)
#define ASSERT_UDAL(expected, expr) ASSERT_PRED_FORMAT2(::cts::ResultIs, expected, expr)
#define ASSERT_OK(expr) ASSERT_UDAL(UDAL_SUCCESS, expr)
#define EXPECT_OK(expr) EXPECT_UDAL(UDAL_SUCCESS, expr)

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
struct KernelImages {
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<udal_module_image_t> images;
};
KernelImages LoadKernelImages(const std::string& kernel);
std::vector<uint8_t> ReadFile(const std::string& path);
std::string KernelPath(const std::string& file); // under the kernel directory

// ---------------------------------------------------------------------------------------
// The fixture
// ---------------------------------------------------------------------------------------

// Host waits in tests never block for ever: a driver that loses work fails the test with a
// timeout result instead of hanging until the watchdog fires.
inline constexpr uint64_t kWaitNs = 10'000'000'000ull;

class DeviceTest : public testing::TestWithParam<DeviceParam> {
  friend class Delayer;

 protected:
  void SetUp() override;

  udal_device_t device() const { return GetParam().device; }
  const udal_device_info_t& info() const { return GetParam().info; }
  bool HasFeature(udal_device_features_t feature) const {
    return (info().features & feature) != 0;
  }
  bool Accepts(udal_module_format_t format) const;

  // Creation helpers; each fails the test (ADD_FAILURE) and returns an empty owner on error.
  Buffer MakeBuffer(uint64_t size, udal_buffer_kind_t kind = UDAL_BUFFER_KIND_DEVICE);
  Stream MakeStream();
  Event MakeEvent();
  // Module + kernel |name| from the CTS's kernels; |module_out| keeps the module alive.
  Kernel MakeKernel(const std::string& name, Module* module_out);

  // Host <-> buffer through |stream|, synchronized.
  std::vector<uint8_t> ReadBack(udal_stream_t stream, udal_buffer_t buffer, uint64_t offset,
                                uint64_t size);
  void Upload(udal_stream_t stream, udal_buffer_t buffer, uint64_t offset,
              const std::vector<uint8_t>& bytes);
  template <typename T>
  std::vector<T> ReadBackAs(udal_stream_t stream, udal_buffer_t buffer, uint64_t count) {
    std::vector<uint8_t> bytes = ReadBack(stream, buffer, 0, count * sizeof(T));
    std::vector<T> values(count);
    if (bytes.size() == count * sizeof(T)) std::memcpy(values.data(), bytes.data(), bytes.size());
    return values;
  }
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

// Work that keeps |stream| busy for at least |microseconds|: the CTS's `delay` kernel on one
// item, adding 1 to the first u32 of |counter|.
class Delayer {
 public:
  // Fails the test (ADD_FAILURE) when the kernel cannot be made.
  explicit Delayer(DeviceTest* test);
  udal_result_t Enqueue(udal_stream_t stream, uint32_t microseconds);
  // How many delays have run (reads the counter through |stream|).
  uint32_t Count(udal_stream_t stream);
  bool ok() const { return static_cast<bool>(kernel_) && static_cast<bool>(counter_); }

 private:
  DeviceTest* test_;
  Module module_;
  Kernel kernel_;
  Buffer counter_;
};

// A deterministic byte pattern distinct per |seed|.
std::vector<uint8_t> Pattern(size_t size, uint32_t seed);

// First index where |actual| differs from |expected|, described; "" when equal.
std::string FirstDifference(const std::vector<uint8_t>& expected,
                            const std::vector<uint8_t>& actual);

}  // namespace cts

// Instantiates |suite| once per device under test, named after driver and device.
#define CTS_INSTANTIATE(suite)                                                              \
  INSTANTIATE_TEST_SUITE_P(Devices, suite, ::testing::ValuesIn(::cts::devices()),           \
                           ::cts::ParamName);                                               \
  GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(suite)
