#include "fixture.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace udal::opencl::test {

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(file),
                              std::istreambuf_iterator<char>());
}

std::vector<uint8_t> kernel_source(const char* file) {
  return read_file(std::string(UDAL_OPENCL_KERNEL_SOURCE_DIR) + "/" + file);
}

std::vector<uint8_t> kernel_spirv(const char* file) {
  return read_file(std::string(UDAL_OPENCL_KERNEL_DIR) + "/" + file);
}

udal_result_t create_module(udal_device_t device, const std::vector<uint8_t>& bytes,
                            udal_module_format_t format, udal_module_t* out,
                            const char* build_options,
                            const std::vector<udal_specialization_constant_t>& constants) {
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = format;
  image.data = bytes.data();
  image.size = bytes.size();
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = &image;
  desc.image_count = 1;
  desc.build_options = build_options;
  desc.specialization_constants = constants.empty() ? nullptr : constants.data();
  desc.specialization_constant_count = static_cast<uint32_t>(constants.size());
  return udal_module_create(device, &desc, out);
}

std::string test_cache_home() {
  return std::string(UDAL_OPENCL_TEST_TMP_DIR) + "/cache";
}

udal_result_t create_opencl_instance(udal_instance_t* out) {
  // LeakSanitizer symbolizes at exit, after libudal unloaded this driver and the ICD loader
  // dropped PoCL: their frames would read "<unknown module>", which no suppression can name
  // (and which would hide the driver's own leaks). Keep them mapped.
  static const bool pinned = [] {
    dlopen(UDAL_OPENCL_DRIVER_LIBRARY, RTLD_LAZY | RTLD_NODELETE);
    // Programs the tests build go to a cache of their own (the driver's, and PoCL's kernel
    // cache), not the user's; shared by the test processes, so each builds only once.
    setenv("XDG_CACHE_HOME", test_cache_home().c_str(), 0);
    return true;
  }();
  (void)pinned;
  const char* paths[] = {UDAL_OPENCL_MANIFEST};
  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  desc.flags = UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT;
  desc.driver_paths = paths;
  desc.driver_path_count = 1;
  udal_result_t r = udal_instance_create(&desc, out);
  static const bool pinned_pocl = [] {
    dlopen("libpocl.so.2", RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
    return true;
  }();
  (void)pinned_pocl;
  return r;
}

void OpenclDriverTest::SetUp() {
  udal_instance_t instance = nullptr;
  UDAL_ASSERT_OK(create_opencl_instance(&instance));
  instance_.reset(instance);
  uint32_t count = 0;
  UDAL_ASSERT_OK(udal_instance_get_device_count(instance, &count));
  if (count == 0) {
    udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
    udal_instance_get_driver_status(instance, 0, &status);
    GTEST_SKIP() << "no OpenCL device: " << status.reason;
  }
  UDAL_ASSERT_OK(udal_instance_get_device(instance, 0, &device_));
  UDAL_ASSERT_OK(udal_device_get_info(device_, &info_));
  io_stream_ = make_stream();
  ASSERT_TRUE(io_stream_);
}

Buffer OpenclDriverTest::make_buffer(uint64_t size, udal_buffer_kind_t kind,
                                     udal_buffer_flags_t flags, uint64_t alignment) {
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.kind = kind;
  desc.size = size;
  desc.flags = flags;
  desc.alignment = alignment;
  udal_buffer_t buffer = nullptr;
  udal_result_t r = udal_buffer_create(device_, &desc, &buffer);
  EXPECT_EQ(UDAL_SUCCESS, r) << udal_last_error_message();
  return Buffer(buffer);
}

Stream OpenclDriverTest::make_stream() {
  udal_stream_t stream = nullptr;
  udal_result_t r = udal_stream_create(device_, nullptr, &stream);
  EXPECT_EQ(UDAL_SUCCESS, r) << udal_last_error_message();
  return Stream(stream);
}

Event OpenclDriverTest::make_event(udal_event_flags_t flags) {
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = flags;
  udal_event_t event = nullptr;
  udal_result_t r = udal_event_create(device_, &desc, &event);
  EXPECT_EQ(UDAL_SUCCESS, r) << udal_last_error_message();
  return Event(event);
}

Kernel OpenclDriverTest::make_kernel(const char* name, udal_module_format_t format) {
  std::vector<uint8_t> bytes =
      format == UDAL_MODULE_FORMAT_SPIRV_KERNEL ? kernel_spirv() : kernel_source();
  EXPECT_FALSE(bytes.empty());
  udal_module_t module = nullptr;
  udal_result_t r = create_module(device_, bytes, format, &module);
  EXPECT_EQ(UDAL_SUCCESS, r) << udal_last_error_message();
  if (r != UDAL_SUCCESS)
    return nullptr;
  modules_.emplace_back(module);
  udal_kernel_t kernel = nullptr;
  r = udal_kernel_create(module, name, &kernel);
  EXPECT_EQ(UDAL_SUCCESS, r) << name << ": " << udal_last_error_message();
  return Kernel(kernel);
}

udal_result_t OpenclDriverTest::launch(udal_stream_t stream, udal_kernel_t kernel,
                                       std::vector<udal_kernel_arg_t> args, uint32_t groups,
                                       uint32_t size, uint64_t local_memory) {
  udal_launch_desc_t desc = UDAL_LAUNCH_DESC_INIT;
  desc.group_count[0] = groups;
  desc.group_size[0] = size;
  desc.local_memory_bytes = local_memory;
  desc.args = args.empty() ? nullptr : args.data();
  desc.arg_count = static_cast<uint32_t>(args.size());
  return udal_stream_launch(stream, kernel, &desc);
}

void OpenclDriverTest::write(udal_buffer_t buffer, uint64_t offset, const void* bytes,
                             uint64_t size) {
  UDAL_ASSERT_OK(udal_stream_write_buffer(io_stream_.get(), buffer, offset, bytes, size));
  UDAL_ASSERT_OK(udal_stream_synchronize(io_stream_.get(), kWaitNs));
}

std::vector<uint8_t> OpenclDriverTest::read(udal_buffer_t buffer, uint64_t offset, uint64_t size) {
  std::vector<uint8_t> bytes(size);
  udal_result_t r = udal_stream_read_buffer(io_stream_.get(), buffer, offset, bytes.data(), size);
  EXPECT_EQ(UDAL_SUCCESS, r) << udal_last_error_message();
  if (r != UDAL_SUCCESS)
    return {};
  r = udal_stream_synchronize(io_stream_.get(), kWaitNs);
  EXPECT_EQ(UDAL_SUCCESS, r) << udal_last_error_message();
  return bytes;
}

} // namespace udal::opencl::test
