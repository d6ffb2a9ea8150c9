// fixture.h — the Vulkan driver's tests: an instance that loads only the build tree's
// vulkan manifest, its first device, RAII handles, SPIR-V kernels built from GLSL, and
// result assertions that print (and require) the message.
#ifndef UDAL_VULKAN_TEST_FIXTURE_H_
#define UDAL_VULKAN_TEST_FIXTURE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "udal/udal.h"

namespace udal::vulkan::test {

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

std::vector<uint8_t> read_file(const std::string& path);
// Creates a module of |bytes| in |format| on |device|.
udal_result_t create_module(udal_device_t device, const std::vector<uint8_t>& bytes,
                            udal_module_t* out,
                            udal_module_format_t format = UDAL_MODULE_FORMAT_SPIRV_COMPUTE);
// The SPIR-V of test kernel |name| (kernels/<name>.comp, entry point |name|).
std::vector<uint8_t> kernel_spirv(const char* name);

constexpr uint64_t kWaitNs = 20'000'000'000ull;

#define UDAL_ASSERT_OK(call)                                                              \
  do {                                                                                    \
    udal_result_t udal_r_ = (call);                                                       \
    ASSERT_EQ(udal_r_, UDAL_SUCCESS) << #call << ": " << udal_result_name(udal_r_) << ": " \
                                     << udal_last_error_message();                        \
  } while (0)

// Expects |call| to return exactly |code| with a non-empty message that mentions every
// string of |...|.
#define UDAL_EXPECT_FAILS(code, call, ...)                                              \
  do {                                                                                  \
    udal_result_t udal_r_ = (call);                                                     \
    const std::string udal_m_ = udal_last_error_message();                              \
    EXPECT_EQ(udal_r_, code) << #call << " returned " << udal_result_name(udal_r_)      \
                             << ": " << udal_m_;                                        \
    EXPECT_FALSE(udal_m_.empty()) << #call << " failed without a message";              \
    for (const char* udal_s_ : std::initializer_list<const char*>{__VA_ARGS__}) {       \
      EXPECT_NE(udal_m_.find(udal_s_), std::string::npos)                               \
          << #call << ": message \"" << udal_m_ << "\" does not mention " << udal_s_;   \
    }                                                                                   \
  } while (0)

class VulkanDriverTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  Buffer make_buffer(uint64_t size, udal_buffer_kind_t kind = UDAL_BUFFER_KIND_DEVICE,
                     udal_buffer_flags_t flags = 0);
  Stream make_stream();
  Event make_event(udal_event_flags_t flags = 0);
  Kernel make_kernel(const char* name);  // from kernel_spirv(name), module kept by the fixture
  // Kernel |name| of the module of SPIR-V file |file| (kernels/<file>.spv), kept by the fixture.
  Kernel make_kernel_from(const char* file, const char* name);

  udal_result_t launch(udal_stream_t stream, udal_kernel_t kernel,
                       std::vector<udal_kernel_arg_t> args, uint32_t groups = 1,
                       uint32_t size = 1, uint64_t local_memory = 0);
  void write(udal_buffer_t buffer, uint64_t offset, const void* bytes, uint64_t size);
  std::vector<uint8_t> read(udal_buffer_t buffer, uint64_t offset, uint64_t size);

  // Set by tests that run the staging paths (UDAL_VULKAN_FORCE_STAGING) before SetUp.
  bool force_staging_ = false;
  // Set by tests that need a second device (UDAL_VULKAN_DEVICE_COPIES) before SetUp.
  uint32_t device_copies_ = 1;
  Instance instance_;  // first member: released after every object below
  udal_device_t device_ = nullptr;
  udal_device_info_t info_ = UDAL_DEVICE_INFO_INIT;
  std::vector<Module> modules_;
  Stream io_stream_;
};

}  // namespace udal::vulkan::test

#endif  // UDAL_VULKAN_TEST_FIXTURE_H_
