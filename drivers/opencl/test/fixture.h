// fixture.h — the OpenCL driver's tests: an instance that loads only the build tree's opencl
// manifest, its first device, RAII handles, the test kernels (OpenCL C source, and SPIR-V
// compiled from it by clang + llvm-spirv at build time), and result assertions that print
// (and require) the message.
#ifndef UDAL_OPENCL_TEST_FIXTURE_H_
#define UDAL_OPENCL_TEST_FIXTURE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "udal/udal.h"

namespace udal::opencl::test {

template <auto Destroy> struct HandleDeleter {
  template <typename T> void operator()(T* handle) const noexcept { Destroy(handle); }
};
using Instance = std::unique_ptr<udal_instance_s, HandleDeleter<udal_instance_release>>;
using Buffer = std::unique_ptr<udal_buffer_s, HandleDeleter<udal_buffer_destroy>>;
using Stream = std::unique_ptr<udal_stream_s, HandleDeleter<udal_stream_destroy>>;
using Event = std::unique_ptr<udal_event_s, HandleDeleter<udal_event_destroy>>;
using Module = std::unique_ptr<udal_module_s, HandleDeleter<udal_module_destroy>>;
using Kernel = std::unique_ptr<udal_kernel_s, HandleDeleter<udal_kernel_destroy>>;

std::vector<uint8_t> read_file(const std::string& path);
// The OpenCL C source of the test kernels, and their SPIR-V.
std::vector<uint8_t> kernel_source(const char* file = "test_kernels.cl");
std::vector<uint8_t> kernel_spirv(const char* file = "test_kernels.spv");

// Creates a module of |bytes| in |format| on |device|.
udal_result_t create_module(udal_device_t device, const std::vector<uint8_t>& bytes,
                            udal_module_format_t format, udal_module_t* out,
                            const char* build_options = nullptr,
                            const std::vector<udal_specialization_constant_t>& constants = {});

// An instance of the opencl driver alone (the build tree's manifest).
udal_result_t create_opencl_instance(udal_instance_t* out);

constexpr uint64_t kWaitNs = 30'000'000'000ull;

#define UDAL_ASSERT_OK(call)                                                                       \
  do {                                                                                             \
    udal_result_t udal_r_ = (call);                                                                \
    ASSERT_EQ(udal_r_, UDAL_SUCCESS)                                                               \
        << #call << ": " << udal_result_name(udal_r_) << ": " << udal_last_error_message();        \
  } while (0)

#define UDAL_EXPECT_OK(call)                                                                       \
  do {                                                                                             \
    udal_result_t udal_r_ = (call);                                                                \
    EXPECT_EQ(udal_r_, UDAL_SUCCESS)                                                               \
        << #call << ": " << udal_result_name(udal_r_) << ": " << udal_last_error_message();        \
  } while (0)

// Expects |call| to return exactly |code| with a non-empty message that mentions every
// string of |...|.
#define UDAL_EXPECT_FAILS(code, call, ...)                                                         \
  do {                                                                                             \
    udal_result_t udal_r_ = (call);                                                                \
    const std::string udal_m_ = udal_last_error_message();                                         \
    EXPECT_EQ(udal_r_, code) << #call << " returned " << udal_result_name(udal_r_) << ": "         \
                             << udal_m_;                                                           \
    EXPECT_FALSE(udal_m_.empty()) << #call << " failed without a message";                         \
    EXPECT_EQ(udal_m_.find("without a message"), std::string::npos) << udal_m_;                    \
    for (const char* udal_s_ : std::initializer_list<const char*>{__VA_ARGS__}) {                  \
      EXPECT_NE(udal_m_.find(udal_s_), std::string::npos)                                          \
          << #call << ": message \"" << udal_m_ << "\" does not mention " << udal_s_;              \
    }                                                                                              \
  } while (0)

class OpenclDriverTest : public ::testing::Test {
protected:
  void SetUp() override;

  Buffer make_buffer(uint64_t size, udal_buffer_kind_t kind = UDAL_BUFFER_KIND_DEVICE,
                     udal_buffer_flags_t flags = 0, uint64_t alignment = 0);
  Stream make_stream();
  Event make_event(udal_event_flags_t flags = 0);
  // Kernel |name| of the test kernels in |format| (OPENCL_C or SPIRV_KERNEL); the module is
  // kept by the fixture.
  Kernel make_kernel(const char* name, udal_module_format_t format = UDAL_MODULE_FORMAT_OPENCL_C);

  udal_result_t launch(udal_stream_t stream, udal_kernel_t kernel,
                       std::vector<udal_kernel_arg_t> args, uint32_t groups = 1, uint32_t size = 1,
                       uint64_t local_memory = 0);
  void write(udal_buffer_t buffer, uint64_t offset, const void* bytes, uint64_t size);
  std::vector<uint8_t> read(udal_buffer_t buffer, uint64_t offset, uint64_t size);
  template <typename T> std::vector<T> read_as(udal_buffer_t buffer, uint64_t count) {
    std::vector<uint8_t> bytes = read(buffer, 0, count * sizeof(T));
    std::vector<T> values(count);
    if (bytes.size() == count * sizeof(T))
      std::memcpy(values.data(), bytes.data(), bytes.size());
    return values;
  }

  Instance instance_; // first member: released after every object below
  udal_device_t device_ = nullptr;
  udal_device_info_t info_ = UDAL_DEVICE_INFO_INIT;
  std::vector<Module> modules_;
  Stream io_stream_;
};

// The cache directory (XDG_CACHE_HOME) of the tests.
std::string test_cache_home();

} // namespace udal::opencl::test

#endif // UDAL_OPENCL_TEST_FIXTURE_H_
