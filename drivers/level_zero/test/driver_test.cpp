// The Level Zero driver through libudal. LevelZero*: on libze_udal through the real loader
// (ZE_ENABLE_ALT_DRIVERS), checking what only this driver can get wrong, with bad input for
// each entry it implements. NoLevelZero*: with no Level Zero driver at all.
#include <gtest/gtest.h>
#include <level_zero/ze_api.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "udal/udal.h"
#include "udal/udal_level_zero.h"
#include "udal_test.h"

namespace {

using udal::test::read_file;

// An instance of the Level Zero driver alone; the test releases it.
udal_instance_t make_instance() {
  return udal::test::open_instance(UDAL_ZE_DRIVER_MANIFEST).release();
}

std::string message() { return udal::test::last_message(); }

TEST(NoLevelZero, TheDriverIsListedAsNotLoadedWithTheLoadersResult) {
  udal_instance_t instance = make_instance();
  ASSERT_NE(nullptr, instance);
  udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
  ASSERT_EQ(UDAL_SUCCESS, udal_instance_get_driver_status(instance, 0, &status));
  if (status.state == UDAL_DRIVER_STATE_LOADED) {
    udal_instance_release(instance);
    GTEST_SKIP() << "a Level Zero driver is installed on this machine";
  }
  EXPECT_EQ(UDAL_DRIVER_STATE_FAILED, status.state);
  EXPECT_EQ(UDAL_ERROR_UNSUPPORTED, status.result);
  EXPECT_NE(std::string::npos, std::string(status.reason).find("zeInit failed with ZE_RESULT_ERROR_UNINITIALIZED"))
      << status.reason;
  uint32_t count = 1;
  EXPECT_EQ(UDAL_SUCCESS, udal_instance_get_device_count(instance, &count));
  EXPECT_EQ(0u, count);
  EXPECT_EQ(UDAL_SUCCESS, udal_instance_release(instance));
  // A second instance gets the same answer (the loader's zeInit result stands).
  instance = make_instance();
  ASSERT_EQ(UDAL_SUCCESS, udal_instance_get_driver_status(instance, 0, &status));
  EXPECT_EQ(UDAL_DRIVER_STATE_FAILED, status.state);
  EXPECT_EQ(UDAL_SUCCESS, udal_instance_release(instance));
}

class LevelZero : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    instance_ = make_instance();
    ASSERT_NE(nullptr, instance_);
    udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
    ASSERT_EQ(UDAL_SUCCESS, udal_instance_get_driver_status(instance_, 0, &status));
    ASSERT_EQ(UDAL_DRIVER_STATE_LOADED, status.state) << status.reason;
    ASSERT_EQ(UDAL_SUCCESS, udal_instance_get_device(instance_, 0, &device_));
  }
  static void TearDownTestSuite() {
    if (instance_ != nullptr) udal_instance_release(instance_);
  }
  void SetUp() override { ASSERT_EQ(UDAL_SUCCESS, udal_stream_create(device_, nullptr, &stream_)); }
  void TearDown() override {
    if (stream_ != nullptr) udal_stream_destroy(stream_);
  }

  udal_buffer_t buffer(uint64_t size, udal_buffer_kind_t kind = UDAL_BUFFER_KIND_DEVICE, uint64_t flags = 0) {
    udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
    desc.size = size;
    desc.kind = kind;
    desc.flags = flags;
    udal_buffer_t b = nullptr;
    EXPECT_EQ(UDAL_SUCCESS, udal_buffer_create(device_, &desc, &b)) << message();
    return b;
  }
  udal_module_t module(const void* data, size_t size, udal_module_format_t format = UDAL_MODULE_FORMAT_SPIRV_KERNEL,
                       udal_result_t expect = UDAL_SUCCESS) {
    udal_module_t m = nullptr;
    const std::span<const uint8_t> bytes(static_cast<const uint8_t*>(data), size);
    EXPECT_EQ(expect, udal::test::create_module(device_, format, bytes, &m)) << message();
    return m;
  }
  udal_kernel_t kernel(udal_module_t m, const char* name) {
    udal_kernel_t k = nullptr;
    EXPECT_EQ(UDAL_SUCCESS, udal_kernel_create(m, name, &k)) << message();
    return k;
  }
  udal_result_t launch(udal_kernel_t k, uint32_t groups, uint32_t size, std::vector<udal_kernel_arg_t> args,
                       uint64_t local = 0) {
    udal_launch_desc_t desc = UDAL_LAUNCH_DESC_INIT;
    desc.group_count[0] = groups;
    desc.group_size[0] = size;
    desc.args = args.data();
    desc.arg_count = static_cast<uint32_t>(args.size());
    desc.local_memory_bytes = local;
    return udal_stream_launch(stream_, k, &desc);
  }
  std::vector<uint32_t> read(udal_buffer_t b, size_t words, uint64_t offset = 0) {
    std::vector<uint32_t> out(words);
    EXPECT_EQ(UDAL_SUCCESS, udal_stream_read_buffer(stream_, b, offset, out.data(), words * 4));
    EXPECT_EQ(UDAL_SUCCESS, udal_stream_synchronize(stream_, UDAL_TIMEOUT_INFINITE));
    return out;
  }

  static inline udal_instance_t instance_ = nullptr;
  static inline udal_device_t device_ = nullptr;
  udal_stream_t stream_ = nullptr;
};

TEST_F(LevelZero, DeviceInfoComesFromLevelZero) {
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  ASSERT_EQ(UDAL_SUCCESS, udal_device_get_info(device_, &info));
  EXPECT_STREQ("level_zero", info.driver_name);
  EXPECT_NE('\0', info.name[0]);
  EXPECT_EQ(UDAL_DEVICE_TYPE_CPU, info.device_type);  // PoCL's device, through libze_udal
  EXPECT_STREQ("", info.pci_bus_id);                 // not a PCI device
  EXPECT_EQ(1u, info.buffer_argument_offset_alignment);
  const uint64_t want = UDAL_DEVICE_FEATURE_TIMESTAMPS | UDAL_DEVICE_FEATURE_DEVICE_ADDRESS |
                        UDAL_DEVICE_FEATURE_MEMORY_USAGE | UDAL_DEVICE_FEATURE_KERNEL_ARGUMENT_INFO |
                        UDAL_DEVICE_FEATURE_HOST_BUFFERS | UDAL_DEVICE_FEATURE_SHARED_BUFFERS;
  EXPECT_EQ(want, info.features & want);
  ASSERT_EQ(2u, info.module_format_count);
  EXPECT_EQ(UDAL_MODULE_FORMAT_SPIRV_KERNEL, info.module_formats[0]);
  EXPECT_EQ(UDAL_MODULE_FORMAT_LEVEL_ZERO_NATIVE, info.module_formats[1]);
  // The same device UUID as Level Zero reports (libze_udal passes UDAL's through).
  bool nonzero = false;
  for (uint8_t b : info.uuid) nonzero = nonzero || b != 0;
  EXPECT_TRUE(nonzero);
}

TEST_F(LevelZero, TransfersAndTheirBadInput) {
  udal_buffer_t a = buffer(4096);
  udal_buffer_t h = buffer(4096, UDAL_BUFFER_KIND_HOST);
  const uint32_t pattern = 0x01020304u;
  ASSERT_EQ(UDAL_SUCCESS, udal_stream_fill_buffer(stream_, a, 0, 4096, &pattern, 4));
  // 4093 bytes: the last partial pattern is truncated.
  const uint16_t p2 = 0xabcd;
  ASSERT_EQ(UDAL_SUCCESS, udal_stream_fill_buffer(stream_, a, 3, 4093, &p2, 2));
  ASSERT_EQ(UDAL_SUCCESS, udal_stream_copy_buffer(stream_, a, 0, h, 0, 4096));
  ASSERT_EQ(UDAL_SUCCESS, udal_stream_synchronize(stream_, UDAL_TIMEOUT_INFINITE));
  void* mapped = nullptr;
  ASSERT_EQ(UDAL_SUCCESS, udal_buffer_map(h, 0, 4096, &mapped));
  const uint8_t* bytes = static_cast<const uint8_t*>(mapped);
  EXPECT_EQ(0x04, bytes[0]);
  EXPECT_EQ(0x03, bytes[1]);
  EXPECT_EQ(0x02, bytes[2]);
  EXPECT_EQ(0xcd, bytes[3]);
  EXPECT_EQ(0xab, bytes[4]);
  EXPECT_EQ(0xcd, bytes[4095]);
  // Bad input.
  uint8_t byte = 0;
  EXPECT_EQ(UDAL_ERROR_INVALID_STATE, udal_buffer_map(h, 0, 1, &mapped));  // already mapped
  EXPECT_EQ(UDAL_ERROR_INVALID_STATE, udal_buffer_destroy(h));             // mapped
  EXPECT_EQ(UDAL_SUCCESS, udal_buffer_unmap(h));
  EXPECT_EQ(UDAL_ERROR_INVALID_STATE, udal_buffer_unmap(h));
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_map(a, 0, 1, &mapped));  // DEVICE
  EXPECT_EQ(UDAL_ERROR_OUT_OF_RANGE, udal_buffer_map(h, 4000, 100, &mapped));
  EXPECT_EQ(UDAL_ERROR_OUT_OF_RANGE, udal_stream_copy_buffer(stream_, a, 4000, h, 0, 100));
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_copy_buffer(stream_, a, 0, a, 10, 100));  // overlap
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_fill_buffer(stream_, a, 0, 8, &pattern, 3));
  EXPECT_EQ(UDAL_ERROR_OUT_OF_RANGE, udal_stream_write_buffer(stream_, a, 4096, &byte, 1));
  EXPECT_EQ(UDAL_ERROR_OUT_OF_RANGE, udal_stream_read_buffer(stream_, a, 1, &byte, 4096));
  udal_buffer_desc_t bad = UDAL_BUFFER_DESC_INIT;
  bad.size = 16;
  bad.alignment = 24;
  udal_buffer_t none = nullptr;
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_create(device_, &bad, &none));
  bad.alignment = 0;
  bad.size = UINT64_MAX / 2;
  EXPECT_EQ(UDAL_ERROR_OUT_OF_DEVICE_MEMORY, udal_buffer_create(device_, &bad, &none));
  uint64_t address = 1;
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_get_device_address(a, &address));  // no flag
  udal_buffer_t addressed = buffer(64, UDAL_BUFFER_KIND_DEVICE, UDAL_BUFFER_FLAG_DEVICE_ADDRESS);
  EXPECT_EQ(UDAL_SUCCESS, udal_buffer_get_device_address(addressed, &address));
  EXPECT_NE(0u, address);
  udal_buffer_destroy(addressed);
  udal_buffer_destroy(a);
  udal_buffer_destroy(h);
}

TEST_F(LevelZero, ModulesKernelsAndLaunchChecks) {
  const std::vector<uint8_t> spv = read_file(UDAL_ZE_DRIVER_KERNELS);
  ASSERT_FALSE(spv.empty());
  udal_module_t m = module(spv.data(), spv.size());
  ASSERT_NE(nullptr, m);
  udal_kernel_t fill = kernel(m, "fill_index");
  udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
  ASSERT_EQ(UDAL_SUCCESS, udal_kernel_get_info(fill, &info));
  EXPECT_TRUE(info.flags & UDAL_KERNEL_FLAG_ARGUMENT_INFO);
  EXPECT_EQ(3u, info.argument_count);
  udal_kernel_arg_info_t arg = UDAL_KERNEL_ARG_INFO_INIT;
  ASSERT_EQ(UDAL_SUCCESS, udal_kernel_get_argument_info(fill, 0, &arg));
  EXPECT_EQ(UDAL_ARG_KIND_BUFFER, arg.kind);
  ASSERT_EQ(UDAL_SUCCESS, udal_kernel_get_argument_info(fill, 2, &arg));
  EXPECT_EQ(UDAL_ARG_KIND_VALUE, arg.kind);
  EXPECT_EQ(4u, arg.value_size);
  EXPECT_EQ(UDAL_ERROR_NOT_FOUND, udal_kernel_get_argument_info(fill, 3, &arg));
  udal_kernel_t add = kernel(m, "add");
  ASSERT_EQ(UDAL_SUCCESS, udal_kernel_get_argument_info(add, 1, &arg));
  EXPECT_EQ(UDAL_ARG_ACCESS_READ, arg.access);  // global const uint*
  udal_kernel_t none = nullptr;
  EXPECT_EQ(UDAL_ERROR_KERNEL_NOT_FOUND, udal_kernel_create(m, "nope", &none));
  EXPECT_EQ(UDAL_ERROR_INVALID_MODULE, udal_kernel_create(m, "with_image", &none));

  udal_buffer_t out = buffer(4096);
  const uint32_t n = 100, base = 7;
  // An offset that is no multiple of anything: Level Zero takes any pointer.
  ASSERT_EQ(UDAL_SUCCESS, launch(fill, 2, 64, {udal_arg_buffer(out, 12), udal_arg_value(&n, 4), udal_arg_value(&base, 4)}))
      << message();
  std::vector<uint32_t> words = read(out, n, 12);
  for (uint32_t i = 0; i < n; ++i) ASSERT_EQ(base + i, words[i]) << i;
  // Launches the driver refuses before Level Zero sees them.
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT, launch(fill, 1, 64, {udal_arg_buffer(out, 0), udal_arg_value(&n, 4)}));
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT,
            launch(fill, 1, 64, {udal_arg_value(&n, 4), udal_arg_value(&n, 4), udal_arg_value(&base, 4)}));
  const uint64_t wide = 1;
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT,
            launch(fill, 1, 64, {udal_arg_buffer(out, 0), udal_arg_value(&wide, 8), udal_arg_value(&base, 4)}));
  EXPECT_EQ(UDAL_ERROR_OUT_OF_RANGE,
            launch(fill, 1, 64, {udal_arg_buffer(out, 4096), udal_arg_value(&n, 4), udal_arg_value(&base, 4)}));
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT, launch(fill, 0, 64, {udal_arg_buffer(out, 0), udal_arg_value(&n, 4),
                                                              udal_arg_value(&base, 4)}));
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT,
            launch(add, 1, 1, {udal_arg_buffer_access(out, 0, UDAL_ARG_ACCESS_READ), udal_arg_buffer(out, 0),
                               udal_arg_value(&n, 4)}));  // the kernel writes data
  udal_kernel_t rev = kernel(m, "reverse_local");
  ASSERT_EQ(UDAL_SUCCESS, udal_kernel_get_info(rev, &info));
  EXPECT_TRUE(info.flags & UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY);
  EXPECT_EQ(1u, info.argument_count);
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT, launch(rev, 1, 16, {udal_arg_buffer(out, 0)}));  // no local memory
  ASSERT_EQ(UDAL_SUCCESS, launch(rev, 1, 16, {udal_arg_buffer(out, 12)}, 16 * 4)) << message();
  words = read(out, 16, 12);
  for (uint32_t i = 0; i < 16; ++i) ASSERT_EQ(base + 15 - i, words[i]) << i;
  udal_kernel_t fixed = kernel(m, "fixed");
  ASSERT_EQ(UDAL_SUCCESS, udal_kernel_get_info(fixed, &info));
  EXPECT_TRUE(info.flags & UDAL_KERNEL_FLAG_REQUIRED_GROUP_SIZE);
  EXPECT_EQ(8u, info.required_group_size[0]);
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT, launch(fixed, 1, 16, {udal_arg_buffer(out, 0)}));
  for (udal_kernel_t k : {fill, add, rev, fixed}) udal_kernel_destroy(k);
  udal_module_destroy(m);
  udal_buffer_destroy(out);
}

TEST_F(LevelZero, BadModulesAndSpecializationConstants) {
  const uint32_t garbage[8] = {0x07230203u, 0x10000, 0, 20, 0, 0xffffffffu, 1, 2};
  module(garbage, sizeof(garbage), UDAL_MODULE_FORMAT_SPIRV_KERNEL, UDAL_ERROR_INVALID_MODULE);
  module(garbage, 6, UDAL_MODULE_FORMAT_SPIRV_KERNEL, UDAL_ERROR_INVALID_MODULE);
  module(garbage, sizeof(garbage), UDAL_MODULE_FORMAT_LEVEL_ZERO_NATIVE, UDAL_ERROR_INVALID_MODULE);
  module(garbage, sizeof(garbage), UDAL_MODULE_FORMAT_SPIRV_COMPUTE, UDAL_ERROR_UNSUPPORTED);
  const std::vector<uint8_t> spv = read_file(UDAL_ZE_DRIVER_KERNELS);
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.data = spv.data();
  image.size = spv.size();
  image.format = UDAL_MODULE_FORMAT_SPIRV_KERNEL;
  const uint32_t value = 1;
  udal_specialization_constant_t constant{3, 4, &value};
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = &image;
  desc.image_count = 1;
  desc.specialization_constants = &constant;
  desc.specialization_constant_count = 1;
  udal_module_t m = nullptr;
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT, udal_module_create(device_, &desc, &m));
  EXPECT_NE(std::string::npos, message().find("id 3")) << message();
  image.data = nullptr;
  image.size = 0;
  image.path = "/nonexistent/kernels.spv";
  desc.specialization_constant_count = 0;
  EXPECT_EQ(UDAL_ERROR_INVALID_MODULE, udal_module_create(device_, &desc, &m));
  image.path = UDAL_ZE_DRIVER_KERNELS;  // from a file
  ASSERT_EQ(UDAL_SUCCESS, udal_module_create(device_, &desc, &m)) << message();
  udal_module_destroy(m);
}

// A native binary from Level Zero itself (zeModuleGetNativeBinary) makes a module too; its
// kernels run, without argument information.
TEST_F(LevelZero, NativeBinariesFromLevelZero) {
  ASSERT_EQ(ZE_RESULT_SUCCESS, zeInit(0));
  uint32_t count = 1;
  ze_driver_handle_t driver = nullptr;
  ASSERT_EQ(ZE_RESULT_SUCCESS, zeDriverGet(&count, &driver));
  ze_device_handle_t device = nullptr;
  count = 1;
  ASSERT_EQ(ZE_RESULT_SUCCESS, zeDeviceGet(driver, &count, &device));
  ze_context_desc_t cdesc{ZE_STRUCTURE_TYPE_CONTEXT_DESC, nullptr, 0};
  ze_context_handle_t context = nullptr;
  ASSERT_EQ(ZE_RESULT_SUCCESS, zeContextCreate(driver, &cdesc, &context));
  const std::vector<uint8_t> spv = read_file(UDAL_ZE_DRIVER_KERNELS);
  ze_module_desc_t mdesc{ZE_STRUCTURE_TYPE_MODULE_DESC, nullptr, ZE_MODULE_FORMAT_IL_SPIRV, spv.size(), spv.data(),
                         nullptr, nullptr};
  ze_module_handle_t zmodule = nullptr;
  ASSERT_EQ(ZE_RESULT_SUCCESS, zeModuleCreate(context, device, &mdesc, &zmodule, nullptr));
  size_t size = 0;
  ASSERT_EQ(ZE_RESULT_SUCCESS, zeModuleGetNativeBinary(zmodule, &size, nullptr));
  std::vector<uint8_t> native(size);
  ASSERT_EQ(ZE_RESULT_SUCCESS, zeModuleGetNativeBinary(zmodule, &size, native.data()));
  zeModuleDestroy(zmodule);
  zeContextDestroy(context);

  udal_module_t m = module(native.data(), native.size(), UDAL_MODULE_FORMAT_LEVEL_ZERO_NATIVE);
  ASSERT_NE(nullptr, m);
  udal_module_info_t minfo = UDAL_MODULE_INFO_INIT;
  ASSERT_EQ(UDAL_SUCCESS, udal_module_get_info(m, &minfo));
  EXPECT_EQ(UDAL_MODULE_FORMAT_LEVEL_ZERO_NATIVE, minfo.format);
  udal_kernel_t fill = kernel(m, "fill_index");
  udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
  ASSERT_EQ(UDAL_SUCCESS, udal_kernel_get_info(fill, &info));
  EXPECT_EQ(0u, info.flags & UDAL_KERNEL_FLAG_ARGUMENT_INFO);
  EXPECT_EQ(UDAL_ARGUMENT_COUNT_UNKNOWN, info.argument_count);
  udal_kernel_arg_info_t arg = UDAL_KERNEL_ARG_INFO_INIT;
  EXPECT_EQ(UDAL_ERROR_UNSUPPORTED, udal_kernel_get_argument_info(fill, 0, &arg));
  udal_buffer_t out = buffer(256);
  const uint32_t n = 16, base = 3;
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT, launch(fill, 1, 16, {udal_arg_buffer(out, 0)}));  // 1 of 3 arguments
  ASSERT_EQ(UDAL_SUCCESS, launch(fill, 1, 16, {udal_arg_buffer(out, 0), udal_arg_value(&n, 4), udal_arg_value(&base, 4)}));
  std::vector<uint32_t> words = read(out, n);
  for (uint32_t i = 0; i < n; ++i) ASSERT_EQ(base + i, words[i]);
  udal_kernel_destroy(fill);
  udal_module_destroy(m);
  udal_buffer_destroy(out);
}

TEST_F(LevelZero, EventsTimestampsAndTheirBadInput) {
  udal_event_desc_t timing_desc = UDAL_EVENT_DESC_INIT;
  timing_desc.flags = UDAL_EVENT_FLAG_TIMING;
  udal_event_t start = nullptr, end = nullptr, plain = nullptr, host = nullptr;
  ASSERT_EQ(UDAL_SUCCESS, udal_event_create(device_, &timing_desc, &start));
  ASSERT_EQ(UDAL_SUCCESS, udal_event_create(device_, &timing_desc, &end));
  ASSERT_EQ(UDAL_SUCCESS, udal_event_create(device_, nullptr, &plain));
  udal_event_desc_t host_desc = UDAL_EVENT_DESC_INIT;
  host_desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  ASSERT_EQ(UDAL_SUCCESS, udal_event_create(device_, &host_desc, &host));
  uint64_t ns = 1;
  EXPECT_EQ(UDAL_ERROR_INVALID_STATE, udal_event_elapsed_ns(start, end, &ns));  // never recorded
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT, udal_event_elapsed_ns(start, plain, &ns));
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_record_event(stream_, host));
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT, udal_event_signal(plain));
  EXPECT_EQ(UDAL_SUCCESS, udal_event_query(plain));  // never recorded: complete
  EXPECT_EQ(UDAL_NOT_READY, udal_event_query(host));
  // The stream waits on the host: records after the wait stay pending.
  udal_buffer_t b = buffer(1 << 20);
  const uint8_t byte = 1;
  ASSERT_EQ(UDAL_SUCCESS, udal_stream_record_event(stream_, start));
  ASSERT_EQ(UDAL_SUCCESS, udal_stream_wait_event(stream_, host));
  ASSERT_EQ(UDAL_SUCCESS, udal_stream_fill_buffer(stream_, b, 0, 1 << 20, &byte, 1));
  ASSERT_EQ(UDAL_SUCCESS, udal_stream_record_event(stream_, end));
  EXPECT_EQ(UDAL_TIMEOUT, udal_event_wait(end, 10'000'000));
  EXPECT_EQ(UDAL_TIMEOUT, udal_stream_synchronize(stream_, 1'000'000));
  EXPECT_EQ(UDAL_NOT_READY, udal_event_elapsed_ns(start, end, &ns));
  ASSERT_EQ(UDAL_SUCCESS, udal_event_signal(host));
  EXPECT_EQ(UDAL_ERROR_INVALID_STATE, udal_event_signal(host));
  ASSERT_EQ(UDAL_SUCCESS, udal_event_wait(end, UDAL_TIMEOUT_INFINITE));
  ASSERT_EQ(UDAL_SUCCESS, udal_event_elapsed_ns(start, end, &ns));
  EXPECT_GT(ns, 0u);
  ASSERT_EQ(UDAL_SUCCESS, udal_event_elapsed_ns(end, start, &ns));
  EXPECT_EQ(0u, ns);  // end before start: 0, never a wrapped value
  for (udal_event_t e : {start, end, plain, host}) udal_event_destroy(e);
  udal_buffer_destroy(b);
}

TEST_F(LevelZero, HostFunctionsRunInStreamOrder) {
  udal_buffer_t b = buffer(64, UDAL_BUFFER_KIND_HOST);
  void* mapped = nullptr;
  ASSERT_EQ(UDAL_SUCCESS, udal_buffer_map(b, 0, 64, &mapped));
  struct Seen {
    uint32_t* memory;
    std::vector<uint32_t> values;
  } seen{static_cast<uint32_t*>(mapped), {}};
  auto look = [](void* user) {
    auto* s = static_cast<Seen*>(user);
    s->values.push_back(s->memory[0]);
  };
  for (uint32_t v = 1; v <= 3; ++v) {
    ASSERT_EQ(UDAL_SUCCESS, udal_stream_fill_buffer(stream_, b, 0, 4, &v, 4));
    ASSERT_EQ(UDAL_SUCCESS, udal_stream_enqueue_host_function(stream_, look, &seen));
  }
  ASSERT_EQ(UDAL_SUCCESS, udal_stream_synchronize(stream_, UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ((std::vector<uint32_t>{1, 2, 3}), seen.values);
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_enqueue_host_function(stream_, nullptr, nullptr));
  udal_buffer_unmap(b);
  udal_buffer_destroy(b);
}

TEST_F(LevelZero, BufferDestroyedWithWorkInFlightAndMemoryUsage) {
  udal_memory_usage_t before = UDAL_MEMORY_USAGE_INIT;
  ASSERT_EQ(UDAL_SUCCESS, udal_device_get_memory_usage(device_, &before));
  udal_event_desc_t host_desc = UDAL_EVENT_DESC_INIT;
  host_desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  udal_event_t gate = nullptr;
  ASSERT_EQ(UDAL_SUCCESS, udal_event_create(device_, &host_desc, &gate));
  udal_buffer_t src = buffer(1 << 16);
  udal_buffer_t dst = buffer(1 << 16, UDAL_BUFFER_KIND_HOST);
  udal_memory_usage_t during = UDAL_MEMORY_USAGE_INIT;
  ASSERT_EQ(UDAL_SUCCESS, udal_device_get_memory_usage(device_, &during));
  EXPECT_EQ(before.device_allocated_bytes + (1 << 16), during.device_allocated_bytes);
  const uint32_t v = 0x5a5a5a5a;
  ASSERT_EQ(UDAL_SUCCESS, udal_stream_wait_event(stream_, gate));
  ASSERT_EQ(UDAL_SUCCESS, udal_stream_fill_buffer(stream_, src, 0, 1 << 16, &v, 4));
  ASSERT_EQ(UDAL_SUCCESS, udal_stream_copy_buffer(stream_, src, 0, dst, 0, 1 << 16));
  ASSERT_EQ(UDAL_SUCCESS, udal_buffer_destroy(src));  // the work still runs against its memory
  ASSERT_EQ(UDAL_SUCCESS, udal_event_signal(gate));
  ASSERT_EQ(UDAL_SUCCESS, udal_stream_synchronize(stream_, UDAL_TIMEOUT_INFINITE));
  void* mapped = nullptr;
  ASSERT_EQ(UDAL_SUCCESS, udal_buffer_map(dst, 0, 1 << 16, &mapped));
  EXPECT_EQ(v, static_cast<uint32_t*>(mapped)[(1 << 14) - 1]);
  udal_buffer_unmap(dst);
  udal_memory_usage_t after = UDAL_MEMORY_USAGE_INIT;
  ASSERT_EQ(UDAL_SUCCESS, udal_device_get_memory_usage(device_, &after));
  EXPECT_EQ(before.device_allocated_bytes, after.device_allocated_bytes);
  udal_buffer_destroy(dst);
  udal_event_destroy(gate);
}

TEST_F(LevelZero, LaunchesFromSeveralThreads) {
  const std::vector<uint8_t> spv = read_file(UDAL_ZE_DRIVER_KERNELS);
  udal_module_t m = module(spv.data(), spv.size());
  udal_kernel_t fill = kernel(m, "fill_index");
  constexpr int kThreads = 4, kLaunches = 20;
  std::vector<udal_buffer_t> outs;
  for (int t = 0; t < kThreads; ++t) outs.push_back(buffer(64 * 4));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      udal_stream_t s = nullptr;
      if (udal_stream_create(device_, nullptr, &s) != UDAL_SUCCESS) {
        ++failures;
        return;
      }
      for (int i = 0; i < kLaunches; ++i) {
        const uint32_t n = 64, base = static_cast<uint32_t>(t * 1000 + i);
        std::vector<udal_kernel_arg_t> args = {udal_arg_buffer(outs[t], 0), udal_arg_value(&n, 4), udal_arg_value(&base, 4)};
        udal_launch_desc_t desc = UDAL_LAUNCH_DESC_INIT;
        desc.group_count[0] = 4;
        desc.group_size[0] = 16;
        desc.args = args.data();
        desc.arg_count = 3;
        if (udal_stream_launch(s, fill, &desc) != UDAL_SUCCESS) ++failures;
      }
      if (udal_stream_synchronize(s, UDAL_TIMEOUT_INFINITE) != UDAL_SUCCESS) ++failures;
      udal_stream_destroy(s);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(0, failures.load());
  for (int t = 0; t < kThreads; ++t) {
    std::vector<uint32_t> words = read(outs[t], 64);
    for (uint32_t i = 0; i < 64; ++i) ASSERT_EQ(static_cast<uint32_t>(t * 1000 + kLaunches - 1) + i, words[i]);
    udal_buffer_destroy(outs[t]);
  }
  udal_kernel_destroy(fill);
  udal_module_destroy(m);
}

TEST_F(LevelZero, VendorChainsAreRefused) {
  struct VendorStruct {
    udal_structure_type_t type;
    uint32_t struct_size;
    const void* next;
  } vendor = {static_cast<udal_structure_type_t>(UDAL_STRUCTURE_TYPE_VENDOR_BEGIN + 0x5e), sizeof(VendorStruct), nullptr};
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = 64;
  desc.next = &vendor;
  udal_buffer_t b = nullptr;
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_create(device_, &desc, &b));
  EXPECT_NE(std::string::npos, message().find("level_zero")) << message();
  udal_stream_desc_t sdesc = UDAL_STREAM_DESC_INIT;
  sdesc.next = &vendor;
  udal_stream_t s = nullptr;
  EXPECT_EQ(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_create(device_, &sdesc, &s));
}

}  // namespace
