#include "fixture.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

namespace udal::cpu::test {

std::string last_message() { return udal_last_error_message(); }

std::vector<std::byte> read_file(const char* path) {
  std::ifstream file(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  std::memcpy(bytes.data(), chars.data(), chars.size());
  return bytes;
}

Instance open_instance() {
  const char* paths[] = {UDAL_CPU_MANIFEST};
  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  // Only this build's cpu driver, whatever UDAL_* variables the developer has set.
  desc.flags = UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT;
  desc.driver_paths = paths;
  desc.driver_path_count = 1;
  udal_instance_t instance = nullptr;
  udal_result_t r = udal_instance_create(&desc, &instance);
  EXPECT_EQ(r, UDAL_SUCCESS) << udal_last_error_message();
  return Instance(instance);
}

ScopedEnvironment::ScopedEnvironment(const char* name, const char* value) : name_(name) {
  if (const char* old = std::getenv(name)) {
    had_value_ = true;
    old_value_ = old;
  }
  if (value) {
    setenv(name, value, 1);
  } else {
    unsetenv(name);
  }
}

ScopedEnvironment::~ScopedEnvironment() {
  if (had_value_) {
    setenv(name_.c_str(), old_value_.c_str(), 1);
  } else {
    unsetenv(name_.c_str());
  }
}

void CpuDriverTest::SetUp() {
  // One device, whatever the developer's environment says (tests of several devices set
  // UDAL_CPU_DEVICE_COUNT themselves).
  ScopedEnvironment one_device("UDAL_CPU_DEVICE_COUNT", nullptr);
  instance_ = open_instance();
  ASSERT_TRUE(instance_);
  udal_instance_t instance = instance_.get();
  uint32_t count = 0;
  UDAL_ASSERT_OK(udal_instance_get_device_count(instance, &count));
  ASSERT_GE(count, 1u) << "the cpu driver reported no device";
  UDAL_ASSERT_OK(udal_instance_get_device(instance, 0, &device_));
  UDAL_ASSERT_OK(udal_device_get_info(device_, &info_));
  test_module_ = make_module_from_file(UDAL_CPU_TEST_KERNELS);
  ASSERT_TRUE(test_module_);
  io_stream_ = make_stream();
}

Buffer CpuDriverTest::make_buffer(uint64_t size, udal_buffer_kind_t kind, uint64_t alignment,
                                  udal_buffer_flags_t flags) {
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.kind = kind;
  desc.flags = flags;
  desc.size = size;
  desc.alignment = alignment;
  udal_buffer_t buffer = nullptr;
  udal_result_t r = udal_buffer_create(device_, &desc, &buffer);
  EXPECT_EQ(r, UDAL_SUCCESS) << udal_last_error_message();
  return Buffer(buffer);
}

Stream CpuDriverTest::make_stream() {
  udal_stream_t stream = nullptr;
  udal_result_t r = udal_stream_create(device_, nullptr, &stream);
  EXPECT_EQ(r, UDAL_SUCCESS) << udal_last_error_message();
  return Stream(stream);
}

Event CpuDriverTest::make_event(udal_event_flags_t flags) {
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = flags;
  udal_event_t event = nullptr;
  udal_result_t r = udal_event_create(device_, &desc, &event);
  EXPECT_EQ(r, UDAL_SUCCESS) << udal_last_error_message();
  return Event(event);
}

Module CpuDriverTest::make_module_from_file(const char* path) {
  std::vector<std::byte> bytes = read_file(path);
  EXPECT_FALSE(bytes.empty()) << "cannot read " << path;
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  image.data = bytes.data();
  image.size = bytes.size();
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = &image;
  desc.image_count = 1;
  udal_module_t module = nullptr;
  udal_result_t r = udal_module_create(device_, &desc, &module);
  EXPECT_EQ(r, UDAL_SUCCESS) << udal_last_error_message();
  return Module(module);
}

Kernel CpuDriverTest::make_kernel(const char* name) {
  udal_kernel_t kernel = nullptr;
  udal_result_t r = udal_kernel_create(test_module_.get(), name, &kernel);
  EXPECT_EQ(r, UDAL_SUCCESS) << name << ": " << udal_last_error_message();
  return Kernel(kernel);
}

udal_result_t CpuDriverTest::launch(udal_stream_t stream, udal_kernel_t kernel,
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

void CpuDriverTest::write(udal_buffer_t buffer, uint64_t offset, const void* bytes,
                          uint64_t size) {
  EXPECT_EQ(udal_stream_write_buffer(io_stream_.get(), buffer, offset, bytes, size), UDAL_SUCCESS)
      << udal_last_error_message();
  EXPECT_EQ(udal_stream_synchronize(io_stream_.get(), UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
}

std::vector<std::byte> CpuDriverTest::read(udal_buffer_t buffer, uint64_t offset, uint64_t size) {
  std::vector<std::byte> bytes(size);
  EXPECT_EQ(udal_stream_read_buffer(io_stream_.get(), buffer, offset, bytes.data(), size),
            UDAL_SUCCESS)
      << udal_last_error_message();
  EXPECT_EQ(udal_stream_synchronize(io_stream_.get(), UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
  return bytes;
}

}  // namespace udal::cpu::test
