#include "udal_test.h"

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace udal::test {

std::string last_message() { return udal_last_error_message(); }

std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(file),
                              std::istreambuf_iterator<char>());
}

ScopedEnvironment::ScopedEnvironment(const char* name, const char* value) : name_(name) {
  if (const char* old = std::getenv(name)) old_value_ = old;
  if (value != nullptr) {
    setenv(name, value, 1);
  } else {
    unsetenv(name);
  }
}

ScopedEnvironment::~ScopedEnvironment() {
  if (old_value_) {
    setenv(name_.c_str(), old_value_->c_str(), 1);
  } else {
    unsetenv(name_.c_str());
  }
}

udal_result_t create_instance(const char* manifest, udal_instance_t* out) {
  const char* paths[] = {manifest};
  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  desc.flags = UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT;
  desc.driver_paths = paths;
  desc.driver_path_count = 1;
  return udal_instance_create(&desc, out);
}

Instance open_instance(const char* manifest) {
  udal_instance_t instance = nullptr;
  const udal_result_t r = create_instance(manifest, &instance);
  EXPECT_EQ(r, UDAL_SUCCESS) << manifest << ": " << udal_result_name(r) << ": " << last_message();
  return Instance(instance);
}

uint32_t device_count(udal_instance_t instance) {
  uint32_t count = 0;
  UDAL_EXPECT_OK(udal_instance_get_device_count(instance, &count));
  return count;
}

udal_device_t device(udal_instance_t instance, uint32_t index) {
  udal_device_t device = nullptr;
  UDAL_EXPECT_OK(udal_instance_get_device(instance, index, &device));
  return device;
}

namespace {

// Creates a module of |image| (its format and its bytes or path set) on |device|.
udal_result_t create_module_of(udal_device_t device, const udal_module_image_t& image,
                               udal_module_t* out, const char* build_options,
                               const std::vector<udal_specialization_constant_t>& constants) {
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = &image;
  desc.image_count = 1;
  desc.build_options = build_options;
  desc.specialization_constants = constants.empty() ? nullptr : constants.data();
  desc.specialization_constant_count = static_cast<uint32_t>(constants.size());
  return udal_module_create(device, &desc, out);
}

Module expect_module(udal_device_t device, const udal_module_image_t& image, const char* what) {
  udal_module_t module = nullptr;
  const udal_result_t r = create_module_of(device, image, &module, nullptr, {});
  EXPECT_EQ(r, UDAL_SUCCESS) << "module of " << what << ": " << udal_result_name(r) << ": "
                             << last_message();
  return Module(module);
}

}  // namespace

udal_result_t create_module(udal_device_t device, udal_module_format_t format,
                            std::span<const uint8_t> bytes, udal_module_t* out,
                            const char* build_options,
                            const std::vector<udal_specialization_constant_t>& constants) {
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = format;
  image.data = bytes.data();
  image.size = bytes.size();
  return create_module_of(device, image, out, build_options, constants);
}

Module make_module(udal_device_t device, udal_module_format_t format,
                   std::span<const uint8_t> bytes) {
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = format;
  image.data = bytes.data();
  image.size = bytes.size();
  return expect_module(device, image, (std::to_string(bytes.size()) + " bytes").c_str());
}

Module make_module(udal_device_t device, udal_module_format_t format, const char* path) {
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = format;
  image.path = path;
  return expect_module(device, image, path);
}

Kernel make_kernel(udal_module_t module, const char* name) {
  udal_kernel_t kernel = nullptr;
  const udal_result_t r = udal_kernel_create(module, name, &kernel);
  EXPECT_EQ(r, UDAL_SUCCESS) << name << ": " << udal_result_name(r) << ": " << last_message();
  return Kernel(kernel);
}

// ==========================================================================================
// DeviceTest
// ==========================================================================================

void DeviceTest::use_device(uint32_t index) {
  ASSERT_TRUE(instance_);
  UDAL_ASSERT_OK(udal_instance_get_device(instance_.get(), index, &device_));
  UDAL_ASSERT_OK(udal_device_get_info(device_, &info_));
  io_stream_ = make_stream();
  ASSERT_TRUE(io_stream_);
}

Buffer DeviceTest::make_buffer(uint64_t size, udal_buffer_kind_t kind, udal_buffer_flags_t flags,
                               uint64_t alignment) {
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.kind = kind;
  desc.flags = flags;
  desc.size = size;
  desc.alignment = alignment;
  udal_buffer_t buffer = nullptr;
  UDAL_EXPECT_OK(udal_buffer_create(device_, &desc, &buffer));
  return Buffer(buffer);
}

Stream DeviceTest::make_stream() {
  udal_stream_t stream = nullptr;
  UDAL_EXPECT_OK(udal_stream_create(device_, nullptr, &stream));
  return Stream(stream);
}

Event DeviceTest::make_event(udal_event_flags_t flags) {
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = flags;
  udal_event_t event = nullptr;
  UDAL_EXPECT_OK(udal_event_create(device_, &desc, &event));
  return Event(event);
}

udal_result_t DeviceTest::launch(udal_stream_t stream, udal_kernel_t kernel,
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

void DeviceTest::write(udal_buffer_t buffer, uint64_t offset, const void* bytes, uint64_t size) {
  UDAL_ASSERT_OK(udal_stream_write_buffer(io_stream_.get(), buffer, offset, bytes, size));
  UDAL_ASSERT_OK(udal_stream_synchronize(io_stream_.get(), io_wait_ns_));
}

std::vector<uint8_t> DeviceTest::read(udal_buffer_t buffer, uint64_t offset, uint64_t size) {
  std::vector<uint8_t> bytes(size);
  const udal_result_t r =
      udal_stream_read_buffer(io_stream_.get(), buffer, offset, bytes.data(), size);
  EXPECT_EQ(r, UDAL_SUCCESS) << "read: " << udal_result_name(r) << ": " << last_message();
  if (r != UDAL_SUCCESS) return bytes;  // zeros: a test that indexes them fails, not crashes
  UDAL_EXPECT_OK(udal_stream_synchronize(io_stream_.get(), io_wait_ns_));
  return bytes;
}

}  // namespace udal::test
