#include "fixture.h"

#include <dlfcn.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace udal::vulkan::test {

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

std::vector<uint8_t> kernel_spirv(const char* name) {
  return read_file(std::string(UDAL_VULKAN_KERNEL_DIR) + "/" + name + ".spv");
}

udal_result_t create_module(udal_device_t device, const std::vector<uint8_t>& bytes,
                            udal_module_t* out, udal_module_format_t format) {
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = format;
  image.data = bytes.data();
  image.size = bytes.size();
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = &image;
  desc.image_count = 1;
  return udal_module_create(device, &desc, out);
}

void VulkanDriverTest::SetUp() {
  // The driver reads them when it creates its devices, i.e. in udal_instance_create.
  if (force_staging_) {
    setenv("UDAL_VULKAN_FORCE_STAGING", "1", 1);
  } else {
    unsetenv("UDAL_VULKAN_FORCE_STAGING");
  }
  // The tests' pipeline cache goes to the build tree, not the user's cache directory.
  setenv("UDAL_VULKAN_PIPELINE_CACHE", UDAL_VULKAN_TEST_CACHE_DIR, 0);
  if (device_copies_ > 1) {
    setenv("UDAL_VULKAN_DEVICE_COPIES", std::to_string(device_copies_).c_str(), 1);
  } else {
    unsetenv("UDAL_VULKAN_DEVICE_COPIES");
  }
  const char* paths[] = {UDAL_VULKAN_MANIFEST};
  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  desc.flags = UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT;
  desc.driver_paths = paths;
  desc.driver_path_count = 1;
  udal_instance_t instance = nullptr;
  UDAL_ASSERT_OK(udal_instance_create(&desc, &instance));
  instance_.reset(instance);
  // LeakSanitizer symbolizes at exit, when the Vulkan loader and libudal have unloaded
  // Mesa's ICD and this driver: their frames would read "<unknown module>", which no
  // suppression can name (and which would hide this driver's own leaks). Keep both mapped.
  static const bool pinned = [] {
    dlopen("libvulkan_lvp.so", RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
    dlopen(UDAL_VULKAN_DRIVER_LIBRARY, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
    return true;
  }();
  (void)pinned;
  uint32_t count = 0;
  UDAL_ASSERT_OK(udal_instance_get_device_count(instance, &count));
  if (count == 0) GTEST_SKIP() << "no Vulkan device with compute (is lavapipe installed?)";
  UDAL_ASSERT_OK(udal_instance_get_device(instance, 0, &device_));
  UDAL_ASSERT_OK(udal_device_get_info(device_, &info_));
  io_stream_ = make_stream();
  ASSERT_TRUE(io_stream_);
}

void VulkanDriverTest::TearDown() {
  unsetenv("UDAL_VULKAN_FORCE_STAGING");
  unsetenv("UDAL_VULKAN_DEVICE_COPIES");
}

Buffer VulkanDriverTest::make_buffer(uint64_t size, udal_buffer_kind_t kind,
                                     udal_buffer_flags_t flags) {
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.kind = kind;
  desc.size = size;
  desc.flags = flags;
  udal_buffer_t buffer = nullptr;
  udal_result_t r = udal_buffer_create(device_, &desc, &buffer);
  EXPECT_EQ(UDAL_SUCCESS, r) << udal_last_error_message();
  return Buffer(buffer);
}

Stream VulkanDriverTest::make_stream() {
  udal_stream_t stream = nullptr;
  udal_result_t r = udal_stream_create(device_, nullptr, &stream);
  EXPECT_EQ(UDAL_SUCCESS, r) << udal_last_error_message();
  return Stream(stream);
}

Event VulkanDriverTest::make_event(udal_event_flags_t flags) {
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = flags;
  udal_event_t event = nullptr;
  udal_result_t r = udal_event_create(device_, &desc, &event);
  EXPECT_EQ(UDAL_SUCCESS, r) << udal_last_error_message();
  return Event(event);
}

Kernel VulkanDriverTest::make_kernel(const char* name) { return make_kernel_from(name, name); }

Kernel VulkanDriverTest::make_kernel_from(const char* file, const char* name) {
  std::vector<uint8_t> spirv = kernel_spirv(file);
  EXPECT_FALSE(spirv.empty()) << file;
  udal_module_t module = nullptr;
  udal_result_t r = create_module(device_, spirv, &module);
  EXPECT_EQ(UDAL_SUCCESS, r) << udal_last_error_message();
  if (r != UDAL_SUCCESS) return nullptr;
  modules_.emplace_back(module);
  udal_kernel_t kernel = nullptr;
  r = udal_kernel_create(module, name, &kernel);
  EXPECT_EQ(UDAL_SUCCESS, r) << udal_last_error_message();
  return Kernel(kernel);
}

udal_result_t VulkanDriverTest::launch(udal_stream_t stream, udal_kernel_t kernel,
                                       std::vector<udal_kernel_arg_t> args, uint32_t groups,
                                       uint32_t size, uint64_t local_memory) {
  udal_launch_desc_t desc = UDAL_LAUNCH_DESC_INIT;
  desc.group_count[0] = groups;
  desc.group_size[0] = size;
  desc.local_memory_bytes = local_memory;
  desc.args = args.data();
  desc.arg_count = static_cast<uint32_t>(args.size());
  return udal_stream_launch(stream, kernel, &desc);
}

void VulkanDriverTest::write(udal_buffer_t buffer, uint64_t offset, const void* bytes,
                             uint64_t size) {
  UDAL_ASSERT_OK(udal_stream_write_buffer(io_stream_.get(), buffer, offset, bytes, size));
  UDAL_ASSERT_OK(udal_stream_synchronize(io_stream_.get(), kWaitNs));
}

std::vector<uint8_t> VulkanDriverTest::read(udal_buffer_t buffer, uint64_t offset, uint64_t size) {
  std::vector<uint8_t> bytes(size);
  udal_result_t r = udal_stream_read_buffer(io_stream_.get(), buffer, offset, bytes.data(), size);
  EXPECT_EQ(UDAL_SUCCESS, r) << udal_last_error_message();
  r = udal_stream_synchronize(io_stream_.get(), kWaitNs);
  EXPECT_EQ(UDAL_SUCCESS, r) << udal_last_error_message();
  return bytes;
}

}  // namespace udal::vulkan::test
