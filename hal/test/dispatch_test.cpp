// Every udal.h entry point through libudal: what libudal rejects itself (with the exact
// code, a message naming the bad parameter, and the out-parameter cleared), and what it
// passes on to the driver and back.
#include "test_support.h"

#include <cstring>
#include <thread>

using namespace udal_test;

namespace {

// A dangling, non-NULL value out-parameters start with, to see them cleared.
template <typename T> T garbage() {
  return reinterpret_cast<T>(uintptr_t{0x1});
}

// Stores |value| into an enum field the way C code can, bypassing C++'s enum range.
template <typename Enum> void store_raw(Enum& field, int32_t value) {
  static_assert(sizeof(Enum) == sizeof(value));
  std::memcpy(&field, &value, sizeof(value));
}

class DispatchTest : public ::testing::Test {
protected:
  void SetUp() override {
    mine.create({stub("udal_test_fake")});
    other.create({stub("udal_test_fake_b")});
    device = mine.device(0);
    foreign_device = other.device(0);
    ASSERT_NE(device, nullptr);
    ASSERT_NE(foreign_device, nullptr);

    udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
    desc.kind = UDAL_BUFFER_KIND_HOST;
    desc.size = 256;
    ASSERT_EQ(udal_buffer_create(device, &desc, &buffer), UDAL_SUCCESS);
    ASSERT_EQ(udal_buffer_create(device, &desc, &buffer2), UDAL_SUCCESS);
    ASSERT_EQ(udal_buffer_create(foreign_device, &desc, &foreign_buffer), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_create(device, nullptr, &stream), UDAL_SUCCESS);
    ASSERT_EQ(udal_stream_create(foreign_device, nullptr, &foreign_stream), UDAL_SUCCESS);
    ASSERT_EQ(udal_event_create(device, nullptr, &event), UDAL_SUCCESS);
    ASSERT_EQ(udal_event_create(device, nullptr, &event2), UDAL_SUCCESS);
    ASSERT_EQ(udal_event_create(foreign_device, nullptr, &foreign_event), UDAL_SUCCESS);

    image.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
    image.data = image_bytes;
    image.size = sizeof(image_bytes);
    module_desc.images = &image;
    module_desc.image_count = 1;
    ASSERT_EQ(udal_module_create(device, &module_desc, &module), UDAL_SUCCESS);
    ASSERT_EQ(udal_kernel_create(module, "noop", &kernel), UDAL_SUCCESS);
    ASSERT_EQ(udal_module_create(foreign_device, &module_desc, &foreign_module), UDAL_SUCCESS);
    ASSERT_EQ(udal_kernel_create(foreign_module, "noop", &foreign_kernel), UDAL_SUCCESS);

    args[0] = udal_arg_buffer(buffer, 0);
    args[1] = udal_arg_value(&value, sizeof(value));
    launch.args = args;
    launch.arg_count = 2;
  }

  void TearDown() override {
    for (udal_kernel_t k : {kernel, foreign_kernel})
      if (k) {
        EXPECT_EQ(udal_kernel_destroy(k), UDAL_SUCCESS);
      }
    for (udal_module_t m : {module, foreign_module})
      if (m) {
        EXPECT_EQ(udal_module_destroy(m), UDAL_SUCCESS);
      }
    for (udal_event_t e : {event, event2, foreign_event})
      if (e) {
        EXPECT_EQ(udal_event_destroy(e), UDAL_SUCCESS);
      }
    for (udal_stream_t s : {stream, foreign_stream})
      if (s) {
        EXPECT_EQ(udal_stream_destroy(s), UDAL_SUCCESS);
      }
    for (udal_buffer_t b : {buffer, buffer2, foreign_buffer})
      if (b) {
        EXPECT_EQ(udal_buffer_destroy(b), UDAL_SUCCESS);
      }
  }

  Environment env;
  Instance mine;
  Instance other; // a different driver: its objects are foreign to |mine|'s
  udal_device_t device = nullptr;
  udal_device_t foreign_device = nullptr;
  udal_buffer_t buffer = nullptr;
  udal_buffer_t buffer2 = nullptr;
  udal_buffer_t foreign_buffer = nullptr;
  udal_stream_t stream = nullptr;
  udal_stream_t foreign_stream = nullptr;
  udal_event_t event = nullptr;
  udal_event_t event2 = nullptr;
  udal_event_t foreign_event = nullptr;
  unsigned char image_bytes[8] = {0x7f, 'E', 'L', 'F'};
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  udal_module_desc_t module_desc = UDAL_MODULE_DESC_INIT;
  udal_module_t module = nullptr;
  udal_module_t foreign_module = nullptr;
  udal_kernel_t kernel = nullptr;
  udal_kernel_t foreign_kernel = nullptr;
  uint32_t value = 7;
  udal_kernel_arg_t args[2] = {};
  udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
};

/* ---------------------------------------------------------------------------------------
 * Devices
 * ------------------------------------------------------------------------------------- */

TEST_F(DispatchTest, DeviceGetInfoRejectsBadInput) {
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  EXPECT_FAILS_WITH(udal_device_get_info(nullptr, &info), UDAL_ERROR_INVALID_HANDLE, "device");
  EXPECT_FAILS_WITH(udal_device_get_info(device, nullptr), UDAL_ERROR_INVALID_ARGUMENT, "out_info");
  info.struct_size = sizeof(info) - 1;
  EXPECT_FAILS_WITH(udal_device_get_info(device, &info), UDAL_ERROR_INVALID_ARGUMENT,
                    "struct_size");
}

TEST_F(DispatchTest, DeviceGetInfoKeepsTheCallersNextChain) {
  udal_device_info_t info;
  std::memset(&info, 0xab, sizeof(info));
  udal_base_out_t extension = {kFakeExtension, sizeof(extension), nullptr};
  info.type = UDAL_STRUCTURE_TYPE_DEVICE_INFO;
  info.struct_size = sizeof(info);
  info.next = &extension;
  ASSERT_EQ(udal_device_get_info(device, &info), UDAL_SUCCESS) << udal_last_error_message();
  EXPECT_EQ(info.next, &extension);
  EXPECT_EQ(info.type, UDAL_STRUCTURE_TYPE_DEVICE_INFO);
  EXPECT_EQ(info.struct_size, sizeof(info));
  EXPECT_EQ(info.pci_bus_id[0], '\0') << "fields the driver left alone must be cleared";
  EXPECT_EQ(info.reserved0, 0u) << "the fake writes reserved0; libudal must write it as 0";
  EXPECT_STREQ(info.driver_name, "udal_test_fake");
  EXPECT_EQ(info.buffer_argument_offset_alignment, 4u);
}

/* ---------------------------------------------------------------------------------------
 * Buffers
 * ------------------------------------------------------------------------------------- */

TEST_F(DispatchTest, BufferCreateRejectsBadInputAndClearsTheOutput) {
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = 64;
  udal_buffer_t out = garbage<udal_buffer_t>();
  EXPECT_FAILS_WITH(udal_buffer_create(nullptr, &desc, &out), UDAL_ERROR_INVALID_HANDLE, "device");
  EXPECT_EQ(out, nullptr);
  EXPECT_FAILS_WITH(udal_buffer_create(device, &desc, nullptr), UDAL_ERROR_INVALID_ARGUMENT,
                    "out_buffer");
  out = garbage<udal_buffer_t>();
  EXPECT_FAILS_WITH(udal_buffer_create(device, nullptr, &out), UDAL_ERROR_INVALID_ARGUMENT, "desc");
  EXPECT_EQ(out, nullptr);

  udal_buffer_desc_t bad = desc;
  bad.struct_size = sizeof(bad) - 8;
  EXPECT_FAILS_WITH(udal_buffer_create(device, &bad, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "struct_size");
  bad = desc;
  bad.kind = static_cast<udal_buffer_kind_t>(3);
  EXPECT_FAILS_WITH(udal_buffer_create(device, &bad, &out), UDAL_ERROR_INVALID_ARGUMENT, "kind 3");
  bad = desc;
  store_raw(bad.kind, -1); // what a C caller can store; not a value C++ may load as the enum
  EXPECT_FAILS_WITH(udal_buffer_create(device, &bad, &out), UDAL_ERROR_INVALID_ARGUMENT, "kind -1");
  bad = desc;
  bad.size = 0;
  EXPECT_FAILS_WITH(udal_buffer_create(device, &bad, &out), UDAL_ERROR_INVALID_ARGUMENT, "size");
  bad = desc;
  bad.alignment = 48;
  EXPECT_FAILS_WITH(udal_buffer_create(device, &bad, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "alignment 48");
  bad = desc;
  bad.flags = 4;
  EXPECT_FAILS_WITH(udal_buffer_create(device, &bad, &out), UDAL_ERROR_INVALID_ARGUMENT, "flags");
  EXPECT_EQ(out, nullptr);
}

TEST_F(DispatchTest, BufferCreateCarriesTheDriversErrorPrefixedWithTheFunction) {
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = uint64_t{1} << 30;
  udal_buffer_t out = garbage<udal_buffer_t>();
  EXPECT_FAILS_WITH(udal_buffer_create(device, &desc, &out), UDAL_ERROR_OUT_OF_DEVICE_MEMORY,
                    "udal_buffer_create: buffer of 1073741824 bytes");
  EXPECT_EQ(out, nullptr);
}

TEST_F(DispatchTest, BufferDestroyRejectsNull) {
  EXPECT_FAILS_WITH(udal_buffer_destroy(nullptr), UDAL_ERROR_INVALID_HANDLE, "buffer");
}

TEST_F(DispatchTest, BufferGetInfoRejectsBadInputAndReturnsTheDriversAnswer) {
  udal_buffer_info_t info = UDAL_BUFFER_INFO_INIT;
  EXPECT_FAILS_WITH(udal_buffer_get_info(nullptr, &info), UDAL_ERROR_INVALID_HANDLE, "buffer");
  EXPECT_FAILS_WITH(udal_buffer_get_info(buffer, nullptr), UDAL_ERROR_INVALID_ARGUMENT, "out_info");
  info.struct_size = 16;
  EXPECT_FAILS_WITH(udal_buffer_get_info(buffer, &info), UDAL_ERROR_INVALID_ARGUMENT,
                    "struct_size 16");
  info.struct_size = sizeof(info);
  ASSERT_EQ(udal_buffer_get_info(buffer, &info), UDAL_SUCCESS);
  EXPECT_EQ(info.size, 256u);
  EXPECT_EQ(info.device, device);
  EXPECT_EQ(info.kind, UDAL_BUFFER_KIND_HOST);
  EXPECT_EQ(info.reserved0, 0u) << "the fake writes reserved0; libudal must write it as 0";
}

TEST_F(DispatchTest, BufferMapRejectsBadInputAndClearsThePointer) {
  void* ptr = garbage<void*>();
  EXPECT_FAILS_WITH(udal_buffer_map(nullptr, 0, 1, &ptr), UDAL_ERROR_INVALID_HANDLE, "buffer");
  EXPECT_EQ(ptr, nullptr);
  EXPECT_FAILS_WITH(udal_buffer_map(buffer, 0, 1, nullptr), UDAL_ERROR_INVALID_ARGUMENT, "out_ptr");
  ptr = garbage<void*>();
  EXPECT_FAILS_WITH(udal_buffer_map(buffer, 0, 0, &ptr), UDAL_ERROR_INVALID_ARGUMENT, "size");
  EXPECT_EQ(ptr, nullptr);
  EXPECT_FAILS_WITH(udal_buffer_map(buffer, UINT64_MAX, 2, &ptr), UDAL_ERROR_OUT_OF_RANGE,
                    "offset");
}

TEST_F(DispatchTest, DriverMessageThatNamesTheFunctionIsNotPrefixedTwice) {
  void* ptr = nullptr;
  EXPECT_FAILS_WITH(udal_buffer_map(buffer, 200, 100, &ptr), UDAL_ERROR_OUT_OF_RANGE,
                    "past the end");
  EXPECT_STREQ(udal_last_error_message(), "udal_buffer_map: range past the end of the buffer");
}

TEST_F(DispatchTest, BufferMapAndUnmapReachTheDriver) {
  void* ptr = nullptr;
  ASSERT_EQ(udal_buffer_map(buffer, 16, 16, &ptr), UDAL_SUCCESS);
  ASSERT_NE(ptr, nullptr);
  std::memset(ptr, 0x5a, 16);
  EXPECT_FAILS_WITH(udal_buffer_map(buffer, 0, 1, &ptr), UDAL_ERROR_INVALID_STATE,
                    "udal_buffer_map: already mapped");
  EXPECT_EQ(udal_buffer_unmap(buffer), UDAL_SUCCESS);
  EXPECT_FAILS_WITH(udal_buffer_unmap(buffer), UDAL_ERROR_INVALID_STATE, "udal_buffer_unmap");
  EXPECT_FAILS_WITH(udal_buffer_unmap(nullptr), UDAL_ERROR_INVALID_HANDLE, "buffer");
  unsigned char back[16] = {};
  ASSERT_EQ(udal_stream_read_buffer(stream, buffer, 16, back, sizeof(back)), UDAL_SUCCESS);
  EXPECT_EQ(back[0], 0x5a);
  EXPECT_EQ(back[15], 0x5a);
}

/* ---------------------------------------------------------------------------------------
 * Events
 * ------------------------------------------------------------------------------------- */

TEST_F(DispatchTest, EventCreateRejectsBadInputAndClearsTheOutput) {
  udal_event_t out = garbage<udal_event_t>();
  EXPECT_FAILS_WITH(udal_event_create(nullptr, nullptr, &out), UDAL_ERROR_INVALID_HANDLE, "device");
  EXPECT_EQ(out, nullptr);
  EXPECT_FAILS_WITH(udal_event_create(device, nullptr, nullptr), UDAL_ERROR_INVALID_ARGUMENT,
                    "out_event");
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.struct_size = 8;
  out = garbage<udal_event_t>();
  EXPECT_FAILS_WITH(udal_event_create(device, &desc, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "struct_size 8");
  EXPECT_EQ(out, nullptr);
  desc = UDAL_EVENT_DESC_INIT;
  desc.flags = 4;
  EXPECT_FAILS_WITH(udal_event_create(device, &desc, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "unknown bits 0x4");
  desc.flags = UDAL_EVENT_FLAG_TIMING | UDAL_EVENT_FLAG_HOST_SIGNAL;
  EXPECT_FAILS_WITH(udal_event_create(device, &desc, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "combine UDAL_EVENT_FLAG_TIMING and UDAL_EVENT_FLAG_HOST_SIGNAL");
  EXPECT_EQ(out, nullptr);
  for (udal_event_flags_t flags :
       {udal_event_flags_t{0}, UDAL_EVENT_FLAG_TIMING, UDAL_EVENT_FLAG_HOST_SIGNAL}) {
    desc.flags = flags;
    ASSERT_EQ(udal_event_create(device, &desc, &out), UDAL_SUCCESS) << udal_last_error_message();
    EXPECT_EQ(udal_event_destroy(out), UDAL_SUCCESS);
  }
}

TEST_F(DispatchTest, EventFunctionsRejectNullHandles) {
  EXPECT_FAILS_WITH(udal_event_destroy(nullptr), UDAL_ERROR_INVALID_HANDLE, "event");
  EXPECT_FAILS_WITH(udal_event_query(nullptr), UDAL_ERROR_INVALID_HANDLE, "event");
  EXPECT_FAILS_WITH(udal_event_wait(nullptr, 0), UDAL_ERROR_INVALID_HANDLE, "event");
}

TEST_F(DispatchTest, EventStatusesComeBackWithAStaticMessage) {
  ASSERT_EQ(udal_stream_record_event(stream, event), UDAL_SUCCESS);
  EXPECT_EQ(udal_event_wait(event, 0), UDAL_TIMEOUT);
  EXPECT_NE(std::string(udal_last_error_message()).find("UDAL_TIMEOUT"), std::string::npos);
  EXPECT_EQ(udal_event_query(event), UDAL_NOT_READY);
  const char* first = udal_last_error_message();
  EXPECT_NE(std::string(first).find("UDAL_NOT_READY"), std::string::npos);
  EXPECT_EQ(udal_event_query(event), UDAL_SUCCESS);
  EXPECT_EQ(udal_event_wait(event, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);

  ASSERT_EQ(udal_stream_record_event(stream, event), UDAL_SUCCESS);
  EXPECT_EQ(udal_event_query(event), UDAL_NOT_READY);
  EXPECT_EQ(udal_last_error_message(), first) << "a status must not copy a message";
}

TEST_F(DispatchTest, EventElapsedRejectsBadInputAndForeignEvents) {
  uint64_t ns = 99;
  // Events without UDAL_EVENT_FLAG_TIMING: the driver refuses them (with its message).
  ASSERT_EQ(udal_stream_record_event(stream, event), UDAL_SUCCESS);
  ASSERT_EQ(udal_stream_record_event(stream, event2), UDAL_SUCCESS);
  EXPECT_FAILS_WITH(udal_event_elapsed_ns(event, event2, &ns), UDAL_ERROR_INVALID_ARGUMENT,
                    "udal_event_elapsed_ns: an event was created without UDAL_EVENT_FLAG_TIMING");
  EXPECT_EQ(ns, 0u);

  udal_event_desc_t timing = UDAL_EVENT_DESC_INIT;
  timing.flags = UDAL_EVENT_FLAG_TIMING;
  ASSERT_EQ(udal_event_destroy(event), UDAL_SUCCESS);
  ASSERT_EQ(udal_event_destroy(event2), UDAL_SUCCESS);
  ASSERT_EQ(udal_event_create(device, &timing, &event), UDAL_SUCCESS);
  ASSERT_EQ(udal_event_create(device, &timing, &event2), UDAL_SUCCESS);
  ns = 99;
  EXPECT_FAILS_WITH(udal_event_elapsed_ns(nullptr, event2, &ns), UDAL_ERROR_INVALID_HANDLE,
                    "start");
  EXPECT_EQ(ns, 0u);
  EXPECT_FAILS_WITH(udal_event_elapsed_ns(event, nullptr, &ns), UDAL_ERROR_INVALID_HANDLE, "end");
  EXPECT_FAILS_WITH(udal_event_elapsed_ns(event, event2, nullptr), UDAL_ERROR_INVALID_ARGUMENT,
                    "out_ns");
  ns = 99;
  EXPECT_FAILS_WITH(udal_event_elapsed_ns(event, foreign_event, &ns), UDAL_ERROR_INVALID_HANDLE,
                    "fake_b");
  EXPECT_EQ(ns, 0u);
  EXPECT_FAILS_WITH(udal_event_elapsed_ns(event, event2, &ns), UDAL_ERROR_INVALID_STATE,
                    "never recorded");
  ASSERT_EQ(udal_stream_record_event(stream, event), UDAL_SUCCESS);
  ASSERT_EQ(udal_stream_record_event(stream, event2), UDAL_SUCCESS);
  EXPECT_EQ(udal_event_elapsed_ns(event, event2, &ns), UDAL_SUCCESS);
  EXPECT_EQ(ns, 42u);
}

/* ---------------------------------------------------------------------------------------
 * Modules and kernels
 * ------------------------------------------------------------------------------------- */

TEST_F(DispatchTest, ModuleCreateRejectsBadInputAndClearsTheOutput) {
  udal_module_t out = garbage<udal_module_t>();
  EXPECT_FAILS_WITH(udal_module_create(nullptr, &module_desc, &out), UDAL_ERROR_INVALID_HANDLE,
                    "device");
  EXPECT_EQ(out, nullptr);
  EXPECT_FAILS_WITH(udal_module_create(device, &module_desc, nullptr), UDAL_ERROR_INVALID_ARGUMENT,
                    "out_module");
  EXPECT_FAILS_WITH(udal_module_create(device, nullptr, &out), UDAL_ERROR_INVALID_ARGUMENT, "desc");

  udal_module_desc_t d = module_desc;
  d.struct_size = 4;
  EXPECT_FAILS_WITH(udal_module_create(device, &d, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "struct_size");
  d = module_desc;
  d.image_count = 0;
  EXPECT_FAILS_WITH(udal_module_create(device, &d, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "image_count");
  d = module_desc;
  d.images = nullptr;
  EXPECT_FAILS_WITH(udal_module_create(device, &d, &out), UDAL_ERROR_INVALID_ARGUMENT, "images");

  udal_module_image_t images[2] = {image, image};
  d = module_desc;
  d.images = images;
  d.image_count = 2;
  images[1].struct_size = 0;
  EXPECT_FAILS_WITH(udal_module_create(device, &d, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "images[1].struct_size");
  images[1] = image;
  images[1].format = UDAL_MODULE_FORMAT_NONE;
  EXPECT_FAILS_WITH(udal_module_create(device, &d, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "images[1].format");
  images[1].format = static_cast<udal_module_format_t>(6);
  EXPECT_FAILS_WITH(udal_module_create(device, &d, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "images[1].format 0x6");
  images[1].format = UDAL_MODULE_FORMAT_FORCE_32BIT;
  EXPECT_FAILS_WITH(udal_module_create(device, &d, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "images[1].format 0x7fffffff");
  store_raw(images[1].format, -5);
  EXPECT_FAILS_WITH(udal_module_create(device, &d, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "images[1].format 0xfffffffb");
  images[1] = image;
  images[1].data = nullptr;
  images[1].size = 0;
  EXPECT_FAILS_WITH(udal_module_create(device, &d, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "neither data nor path");
  images[1] = image;
  images[1].size = 0;
  EXPECT_FAILS_WITH(udal_module_create(device, &d, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "images[1].size");
  EXPECT_EQ(out, nullptr);
}

TEST_F(DispatchTest, VendorModuleFormatsPassLibudalsCheck) {
  udal_module_image_t vendor = image;
  vendor.format = static_cast<udal_module_format_t>(UDAL_MODULE_FORMAT_VENDOR_BEGIN + 5);
  udal_module_desc_t d = module_desc;
  d.images = &vendor;
  udal_module_t out = garbage<udal_module_t>();
  // The fake takes only HOST_NATIVE, and says nothing: libudal must still explain.
  EXPECT_FAILS_WITH(udal_module_create(device, &d, &out), UDAL_ERROR_UNSUPPORTED,
                    "driver 'udal_test_fake' returned UDAL_ERROR_UNSUPPORTED");
  // The exact phrase the conformance suite fails a driver for (driver guide rule 7).
  EXPECT_NE(std::string(udal_last_error_message()).find("without a message (driver guide rule 7)"),
            std::string::npos)
      << udal_last_error_message();
  EXPECT_EQ(out, nullptr);
}

TEST_F(DispatchTest, ModuleImageMayBeAPath) {
  udal_module_image_t from_file = UDAL_MODULE_IMAGE_INIT;
  from_file.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  from_file.path = "/nonexistent/kernels.so";
  udal_module_desc_t d = module_desc;
  d.images = &from_file;
  udal_module_t out = nullptr;
  ASSERT_EQ(udal_module_create(device, &d, &out), UDAL_SUCCESS) << udal_last_error_message();
  EXPECT_EQ(udal_module_destroy(out), UDAL_SUCCESS);
}

TEST_F(DispatchTest, ModuleGetInfoRejectsBadInputAndReturnsTheDriversAnswer) {
  udal_module_info_t info = UDAL_MODULE_INFO_INIT;
  EXPECT_FAILS_WITH(udal_module_get_info(nullptr, &info), UDAL_ERROR_INVALID_HANDLE, "module");
  EXPECT_FAILS_WITH(udal_module_get_info(module, nullptr), UDAL_ERROR_INVALID_ARGUMENT, "out_info");
  info.struct_size = 1;
  EXPECT_FAILS_WITH(udal_module_get_info(module, &info), UDAL_ERROR_INVALID_ARGUMENT,
                    "struct_size 1");
  info.struct_size = sizeof(info);
  ASSERT_EQ(udal_module_get_info(module, &info), UDAL_SUCCESS);
  EXPECT_EQ(info.format, UDAL_MODULE_FORMAT_HOST_NATIVE);
  EXPECT_EQ(info.image_index, 0u);
  EXPECT_FAILS_WITH(udal_module_destroy(nullptr), UDAL_ERROR_INVALID_HANDLE, "module");
}

TEST_F(DispatchTest, KernelCreateRejectsBadInputAndClearsTheOutput) {
  udal_kernel_t out = garbage<udal_kernel_t>();
  EXPECT_FAILS_WITH(udal_kernel_create(nullptr, "noop", &out), UDAL_ERROR_INVALID_HANDLE, "module");
  EXPECT_EQ(out, nullptr);
  EXPECT_FAILS_WITH(udal_kernel_create(module, "noop", nullptr), UDAL_ERROR_INVALID_ARGUMENT,
                    "out_kernel");
  EXPECT_FAILS_WITH(udal_kernel_create(module, nullptr, &out), UDAL_ERROR_INVALID_ARGUMENT, "name");
  EXPECT_FAILS_WITH(udal_kernel_create(module, "", &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "name is empty");
  out = garbage<udal_kernel_t>();
  EXPECT_FAILS_WITH(udal_kernel_create(module, "nope", &out), UDAL_ERROR_KERNEL_NOT_FOUND,
                    "udal_kernel_create: no kernel named 'nope'");
  EXPECT_EQ(out, nullptr);
}

TEST_F(DispatchTest, KernelGetInfoRejectsBadInputAndReturnsTheDriversAnswer) {
  udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
  EXPECT_FAILS_WITH(udal_kernel_get_info(nullptr, &info), UDAL_ERROR_INVALID_HANDLE, "kernel");
  EXPECT_FAILS_WITH(udal_kernel_get_info(kernel, nullptr), UDAL_ERROR_INVALID_ARGUMENT, "out_info");
  info.struct_size = 0;
  EXPECT_FAILS_WITH(udal_kernel_get_info(kernel, &info), UDAL_ERROR_INVALID_ARGUMENT,
                    "struct_size 0");
  info.struct_size = sizeof(info);
  ASSERT_EQ(udal_kernel_get_info(kernel, &info), UDAL_SUCCESS);
  EXPECT_EQ(info.argument_count, 2u);
  EXPECT_EQ(info.flags, UDAL_KERNEL_FLAG_ARGUMENT_INFO);
  EXPECT_EQ(info.reserved0, 0u) << "the fake writes reserved0; libudal must write it as 0";
  EXPECT_FAILS_WITH(udal_kernel_destroy(nullptr), UDAL_ERROR_INVALID_HANDLE, "kernel");
}

/* ---------------------------------------------------------------------------------------
 * Streams
 * ------------------------------------------------------------------------------------- */

TEST_F(DispatchTest, StreamCreateRejectsBadInputAndClearsTheOutput) {
  udal_stream_t out = garbage<udal_stream_t>();
  EXPECT_FAILS_WITH(udal_stream_create(nullptr, nullptr, &out), UDAL_ERROR_INVALID_HANDLE,
                    "device");
  EXPECT_EQ(out, nullptr);
  EXPECT_FAILS_WITH(udal_stream_create(device, nullptr, nullptr), UDAL_ERROR_INVALID_ARGUMENT,
                    "out_stream");
  udal_stream_desc_t desc = UDAL_STREAM_DESC_INIT;
  desc.struct_size = 0;
  EXPECT_FAILS_WITH(udal_stream_create(device, &desc, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "struct_size");
  desc = UDAL_STREAM_DESC_INIT;
  desc.flags = 0x10;
  EXPECT_FAILS_WITH(udal_stream_create(device, &desc, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "flags 0x10");
  EXPECT_EQ(out, nullptr);
}

TEST_F(DispatchTest, StreamDestroyAndSynchronizeRejectNull) {
  EXPECT_FAILS_WITH(udal_stream_destroy(nullptr), UDAL_ERROR_INVALID_HANDLE, "stream");
  EXPECT_FAILS_WITH(udal_stream_synchronize(nullptr, 0), UDAL_ERROR_INVALID_HANDLE, "stream");
}

TEST_F(DispatchTest, StreamSynchronizeTimeoutIsAStatusWithAMessage) {
  EXPECT_EQ(udal_stream_synchronize(stream, 1), UDAL_TIMEOUT);
  EXPECT_NE(std::string(udal_last_error_message()).find("udal_stream_synchronize"),
            std::string::npos);
  EXPECT_EQ(udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
}

TEST_F(DispatchTest, StreamCopyRejectsBadInput) {
  EXPECT_FAILS_WITH(udal_stream_copy_buffer(nullptr, buffer, 0, buffer2, 0, 4),
                    UDAL_ERROR_INVALID_HANDLE, "stream");
  EXPECT_FAILS_WITH(udal_stream_copy_buffer(stream, nullptr, 0, buffer2, 0, 4),
                    UDAL_ERROR_INVALID_HANDLE, "src");
  EXPECT_FAILS_WITH(udal_stream_copy_buffer(stream, buffer, 0, nullptr, 0, 4),
                    UDAL_ERROR_INVALID_HANDLE, "dst");
  EXPECT_FAILS_WITH(udal_stream_copy_buffer(stream, foreign_buffer, 0, buffer2, 0, 4),
                    UDAL_ERROR_INVALID_HANDLE, "src buffer");
  EXPECT_FAILS_WITH(udal_stream_copy_buffer(stream, buffer, 0, foreign_buffer, 0, 4),
                    UDAL_ERROR_INVALID_HANDLE, "dst buffer");
  EXPECT_FAILS_WITH(udal_stream_copy_buffer(stream, buffer, 0, buffer2, 0, 0),
                    UDAL_ERROR_INVALID_ARGUMENT, "size is 0");
  EXPECT_FAILS_WITH(udal_stream_copy_buffer(stream, buffer, 0, buffer, 8, 16),
                    UDAL_ERROR_INVALID_ARGUMENT, "overlap");
  EXPECT_FAILS_WITH(udal_stream_copy_buffer(stream, buffer, 16, buffer, 8, 16),
                    UDAL_ERROR_INVALID_ARGUMENT, "overlap");
  EXPECT_FAILS_WITH(udal_stream_copy_buffer(stream, buffer, UINT64_MAX, buffer2, 0, 2),
                    UDAL_ERROR_OUT_OF_RANGE, "src_offset");
  EXPECT_FAILS_WITH(udal_stream_copy_buffer(stream, buffer, 0, buffer2, 250, 16),
                    UDAL_ERROR_OUT_OF_RANGE, "udal_stream_copy_buffer: copy runs past the end");
}

TEST_F(DispatchTest, StreamCopyOfAdjacentRangesInOneBufferIsAllowed) {
  const unsigned char bytes[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_EQ(udal_stream_write_buffer(stream, buffer, 0, bytes, 8), UDAL_SUCCESS);
  ASSERT_EQ(udal_stream_copy_buffer(stream, buffer, 0, buffer, 8, 8), UDAL_SUCCESS)
      << udal_last_error_message();
  unsigned char back[16] = {};
  ASSERT_EQ(udal_stream_read_buffer(stream, buffer, 0, back, 16), UDAL_SUCCESS);
  EXPECT_EQ(back[8], 1);
  EXPECT_EQ(back[15], 8);
}

TEST_F(DispatchTest, StreamFillRejectsBadInput) {
  uint32_t pattern = 0xdeadbeef;
  EXPECT_FAILS_WITH(udal_stream_fill_buffer(nullptr, buffer, 0, 4, &pattern, 4),
                    UDAL_ERROR_INVALID_HANDLE, "stream");
  EXPECT_FAILS_WITH(udal_stream_fill_buffer(stream, nullptr, 0, 4, &pattern, 4),
                    UDAL_ERROR_INVALID_HANDLE, "dst");
  EXPECT_FAILS_WITH(udal_stream_fill_buffer(stream, foreign_buffer, 0, 4, &pattern, 4),
                    UDAL_ERROR_INVALID_HANDLE, "dst buffer");
  EXPECT_FAILS_WITH(udal_stream_fill_buffer(stream, buffer, 0, 0, &pattern, 4),
                    UDAL_ERROR_INVALID_ARGUMENT, "size is 0");
  EXPECT_FAILS_WITH(udal_stream_fill_buffer(stream, buffer, 0, 4, nullptr, 4),
                    UDAL_ERROR_INVALID_ARGUMENT, "pattern is NULL");
  for (uint32_t bad : {0u, 3u, 5u, 32u}) {
    EXPECT_FAILS_WITH(udal_stream_fill_buffer(stream, buffer, 0, 4, &pattern, bad),
                      UDAL_ERROR_INVALID_ARGUMENT, "pattern_size " + std::to_string(bad));
  }
  EXPECT_STREQ(udal_last_error_message(),
               "udal_stream_fill_buffer: pattern_size 32 is not 1, 2, 4, 8 or 16");
  EXPECT_FAILS_WITH(udal_stream_fill_buffer(stream, buffer, UINT64_MAX, 4, &pattern, 4),
                    UDAL_ERROR_OUT_OF_RANGE, "offset");
}

TEST_F(DispatchTest, StreamFillAcceptsEveryPatternSize) {
  unsigned char pattern[16];
  for (int i = 0; i < 16; ++i)
    pattern[i] = static_cast<unsigned char>(i + 1);
  for (uint32_t size : {1u, 2u, 4u, 8u, 16u}) {
    ASSERT_EQ(udal_stream_fill_buffer(stream, buffer, 3, 37, pattern, size), UDAL_SUCCESS)
        << size << ": " << udal_last_error_message();
    unsigned char back[37];
    ASSERT_EQ(udal_stream_read_buffer(stream, buffer, 3, back, sizeof(back)), UDAL_SUCCESS);
    EXPECT_EQ(back[36], pattern[36 % size]);
  }
}

TEST_F(DispatchTest, StreamWriteRejectsBadInput) {
  char bytes[4] = {};
  EXPECT_FAILS_WITH(udal_stream_write_buffer(nullptr, buffer, 0, bytes, 4),
                    UDAL_ERROR_INVALID_HANDLE, "stream");
  EXPECT_FAILS_WITH(udal_stream_write_buffer(stream, nullptr, 0, bytes, 4),
                    UDAL_ERROR_INVALID_HANDLE, "dst");
  EXPECT_FAILS_WITH(udal_stream_write_buffer(stream, foreign_buffer, 0, bytes, 4),
                    UDAL_ERROR_INVALID_HANDLE, "dst buffer");
  EXPECT_FAILS_WITH(udal_stream_write_buffer(stream, buffer, 0, nullptr, 4),
                    UDAL_ERROR_INVALID_ARGUMENT, "src is NULL");
  EXPECT_FAILS_WITH(udal_stream_write_buffer(stream, buffer, 0, bytes, 0),
                    UDAL_ERROR_INVALID_ARGUMENT, "size is 0");
  EXPECT_FAILS_WITH(udal_stream_write_buffer(stream, buffer, UINT64_MAX - 1, bytes, 4),
                    UDAL_ERROR_OUT_OF_RANGE, "dst_offset");
}

TEST_F(DispatchTest, StreamReadRejectsBadInput) {
  char bytes[4] = {};
  EXPECT_FAILS_WITH(udal_stream_read_buffer(nullptr, buffer, 0, bytes, 4),
                    UDAL_ERROR_INVALID_HANDLE, "stream");
  EXPECT_FAILS_WITH(udal_stream_read_buffer(stream, nullptr, 0, bytes, 4),
                    UDAL_ERROR_INVALID_HANDLE, "src");
  EXPECT_FAILS_WITH(udal_stream_read_buffer(stream, foreign_buffer, 0, bytes, 4),
                    UDAL_ERROR_INVALID_HANDLE, "src buffer");
  EXPECT_FAILS_WITH(udal_stream_read_buffer(stream, buffer, 0, nullptr, 4),
                    UDAL_ERROR_INVALID_ARGUMENT, "dst is NULL");
  EXPECT_FAILS_WITH(udal_stream_read_buffer(stream, buffer, 0, bytes, 0),
                    UDAL_ERROR_INVALID_ARGUMENT, "size is 0");
  EXPECT_FAILS_WITH(udal_stream_read_buffer(stream, buffer, 256, bytes, 4), UDAL_ERROR_OUT_OF_RANGE,
                    "udal_stream_read_buffer");
}

TEST_F(DispatchTest, StreamLaunchRejectsBadInput) {
  EXPECT_FAILS_WITH(udal_stream_launch(nullptr, kernel, &launch), UDAL_ERROR_INVALID_HANDLE,
                    "stream");
  EXPECT_FAILS_WITH(udal_stream_launch(stream, nullptr, &launch), UDAL_ERROR_INVALID_HANDLE,
                    "kernel");
  EXPECT_FAILS_WITH(udal_stream_launch(stream, foreign_kernel, &launch), UDAL_ERROR_INVALID_HANDLE,
                    "kernel");
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, nullptr), UDAL_ERROR_INVALID_ARGUMENT,
                    "desc");

  udal_launch_desc_t d = launch;
  d.struct_size = sizeof(d) - 4;
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT,
                    "struct_size");
  for (int axis = 0; axis < 3; ++axis) {
    d = launch;
    d.group_count[axis] = 0;
    EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT,
                      "group_count[" + std::to_string(axis) + "]");
    d = launch;
    d.group_size[axis] = 0;
    EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT,
                      "group_size[" + std::to_string(axis) + "]");
  }
  d = launch;
  d.args = nullptr;
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT, "args");

  udal_kernel_arg_t bad[2] = {args[0], args[1]};
  d = launch;
  d.args = bad;
  bad[1].kind = static_cast<udal_arg_kind_t>(3);
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT,
                    "args[1].kind 3");
  store_raw(bad[1].kind, -1);
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT,
                    "args[1].kind -1");
  bad[1] = udal_arg_value(nullptr, 4);
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT, "args[1]");
  bad[1] = udal_arg_value(&value, 0);
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT,
                    "value_size 0");
  bad[1] = args[1];
  bad[0] = udal_arg_buffer(nullptr, 0);
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_HANDLE, "args[0]");
  bad[0] = udal_arg_buffer(foreign_buffer, 0);
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_HANDLE, "fake_b");
}

TEST_F(DispatchTest, StreamLaunchReachesTheDriver) {
  EXPECT_EQ(udal_stream_launch(stream, kernel, &launch), UDAL_SUCCESS) << udal_last_error_message();
  udal_launch_desc_t d = launch;
  d.arg_count = 1;
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT,
                    "kernel takes 2 arguments");
  d.arg_count = 0;
  d.args = nullptr; // allowed when the count is 0; the driver then complains of the count
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT,
                    "launch gives 0");
}

TEST_F(DispatchTest, StreamEventFunctionsRejectNullAndForeignHandles) {
  EXPECT_FAILS_WITH(udal_stream_record_event(nullptr, event), UDAL_ERROR_INVALID_HANDLE, "stream");
  EXPECT_FAILS_WITH(udal_stream_record_event(stream, nullptr), UDAL_ERROR_INVALID_HANDLE, "event");
  EXPECT_FAILS_WITH(udal_stream_record_event(stream, foreign_event), UDAL_ERROR_INVALID_HANDLE,
                    "event");
  EXPECT_FAILS_WITH(udal_stream_wait_event(nullptr, event), UDAL_ERROR_INVALID_HANDLE, "stream");
  EXPECT_FAILS_WITH(udal_stream_wait_event(stream, nullptr), UDAL_ERROR_INVALID_HANDLE, "event");
  EXPECT_FAILS_WITH(udal_stream_wait_event(foreign_stream, event), UDAL_ERROR_INVALID_HANDLE,
                    "udal_test_fake");
  EXPECT_EQ(udal_stream_wait_event(stream, event), UDAL_SUCCESS);
}

TEST_F(DispatchTest, ForeignHandleMessageNamesBothDrivers) {
  char bytes[4] = {};
  EXPECT_FAILS_WITH(udal_stream_write_buffer(stream, foreign_buffer, 0, bytes, 4),
                    UDAL_ERROR_INVALID_HANDLE, "driver 'udal_test_fake_b'");
  EXPECT_NE(std::string(udal_last_error_message()).find("driver 'udal_test_fake'"),
            std::string::npos);
}

TEST_F(DispatchTest, MessagesAreKeptPerThread) {
  EXPECT_FAILS_WITH(udal_buffer_destroy(nullptr), UDAL_ERROR_INVALID_HANDLE, "buffer");
  std::string seen_there = "unset";
  std::thread([&] {
    seen_there = udal_last_error_message();
    EXPECT_EQ(udal_stream_destroy(nullptr), UDAL_ERROR_INVALID_HANDLE);
  }).join();
  EXPECT_EQ(seen_there, "");
  EXPECT_NE(std::string(udal_last_error_message()).find("udal_buffer_destroy"), std::string::npos);
}

/* ---------------------------------------------------------------------------------------
 * The entries added in 1.0's freeze
 * ------------------------------------------------------------------------------------- */

TEST_F(DispatchTest, DeviceGetMemoryUsageRejectsBadInputAndReturnsTheDriversAnswer) {
  udal_memory_usage_t usage = UDAL_MEMORY_USAGE_INIT;
  EXPECT_FAILS_WITH(udal_device_get_memory_usage(nullptr, &usage), UDAL_ERROR_INVALID_HANDLE,
                    "device is NULL");
  EXPECT_FAILS_WITH(udal_device_get_memory_usage(device, nullptr), UDAL_ERROR_INVALID_ARGUMENT,
                    "out_usage is NULL");
  usage.struct_size = 40;
  EXPECT_FAILS_WITH(udal_device_get_memory_usage(device, &usage), UDAL_ERROR_INVALID_ARGUMENT,
                    "out_usage->struct_size 40 is smaller than udal_memory_usage_t of UDAL 1.0 "
                    "(48 bytes)");
  usage = UDAL_MEMORY_USAGE_INIT;
  usage.type = UDAL_STRUCTURE_TYPE_DEVICE_INFO;
  EXPECT_FAILS_WITH(udal_device_get_memory_usage(device, &usage), UDAL_ERROR_INVALID_ARGUMENT,
                    "out_usage->type is 3 (UDAL_STRUCTURE_TYPE_DEVICE_INFO), not "
                    "UDAL_STRUCTURE_TYPE_MEMORY_USAGE");
  usage = UDAL_MEMORY_USAGE_INIT;
  ASSERT_EQ(udal_device_get_memory_usage(device, &usage), UDAL_SUCCESS)
      << udal_last_error_message();
  EXPECT_EQ(usage.device_allocated_bytes, 2u * 256u) << "the fixture's two buffers";
  EXPECT_EQ(usage.device_budget_bytes, 1u << 20);
}

TEST_F(DispatchTest, BufferGetDeviceAddressRejectsBadInputAndClearsTheOutput) {
  uint64_t address = 99;
  EXPECT_FAILS_WITH(udal_buffer_get_device_address(nullptr, &address), UDAL_ERROR_INVALID_HANDLE,
                    "buffer is NULL");
  EXPECT_EQ(address, 0u);
  EXPECT_FAILS_WITH(udal_buffer_get_device_address(buffer, nullptr), UDAL_ERROR_INVALID_ARGUMENT,
                    "out_address is NULL");
  address = 99;
  EXPECT_FAILS_WITH(udal_buffer_get_device_address(buffer, &address), UDAL_ERROR_INVALID_ARGUMENT,
                    "udal_buffer_get_device_address: the buffer was created without "
                    "UDAL_BUFFER_FLAG_DEVICE_ADDRESS");
  EXPECT_EQ(address, 0u);

  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = 64;
  desc.flags = UDAL_BUFFER_FLAG_DEVICE_ADDRESS;
  udal_buffer_t addressed = nullptr;
  ASSERT_EQ(udal_buffer_create(device, &desc, &addressed), UDAL_SUCCESS)
      << udal_last_error_message();
  ASSERT_EQ(udal_buffer_get_device_address(addressed, &address), UDAL_SUCCESS);
  EXPECT_NE(address, 0u);
  EXPECT_EQ(udal_buffer_destroy(addressed), UDAL_SUCCESS);
}

TEST_F(DispatchTest, EventSignalRejectsBadInputAndReachesTheDriver) {
  EXPECT_FAILS_WITH(udal_event_signal(nullptr), UDAL_ERROR_INVALID_HANDLE, "event is NULL");
  EXPECT_FAILS_WITH(udal_event_signal(event), UDAL_ERROR_INVALID_ARGUMENT,
                    "udal_event_signal: the event was created without "
                    "UDAL_EVENT_FLAG_HOST_SIGNAL");

  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  udal_event_t host = nullptr;
  ASSERT_EQ(udal_event_create(device, &desc, &host), UDAL_SUCCESS) << udal_last_error_message();
  EXPECT_EQ(udal_event_query(host), UDAL_NOT_READY);
  EXPECT_FAILS_WITH(udal_stream_record_event(stream, host), UDAL_ERROR_INVALID_ARGUMENT,
                    "host-signalled");
  EXPECT_EQ(udal_event_signal(host), UDAL_SUCCESS) << udal_last_error_message();
  EXPECT_EQ(udal_event_query(host), UDAL_SUCCESS);
  EXPECT_FAILS_WITH(udal_event_signal(host), UDAL_ERROR_INVALID_STATE, "already signalled");
  EXPECT_EQ(udal_event_destroy(host), UDAL_SUCCESS);
}

TEST_F(DispatchTest, KernelGetArgumentInfoRejectsBadInputAndReturnsTheDriversAnswer) {
  udal_kernel_arg_info_t info = UDAL_KERNEL_ARG_INFO_INIT;
  EXPECT_FAILS_WITH(udal_kernel_get_argument_info(nullptr, 0, &info), UDAL_ERROR_INVALID_HANDLE,
                    "kernel is NULL");
  EXPECT_FAILS_WITH(udal_kernel_get_argument_info(kernel, 0, nullptr), UDAL_ERROR_INVALID_ARGUMENT,
                    "out_info is NULL");
  info.struct_size = 16;
  EXPECT_FAILS_WITH(udal_kernel_get_argument_info(kernel, 0, &info), UDAL_ERROR_INVALID_ARGUMENT,
                    "out_info->struct_size 16");
  info = UDAL_KERNEL_ARG_INFO_INIT;
  info.type = UDAL_STRUCTURE_TYPE_KERNEL_INFO;
  EXPECT_FAILS_WITH(udal_kernel_get_argument_info(kernel, 0, &info), UDAL_ERROR_INVALID_ARGUMENT,
                    "not UDAL_STRUCTURE_TYPE_KERNEL_ARG_INFO");
  info = UDAL_KERNEL_ARG_INFO_INIT;
  EXPECT_FAILS_WITH(udal_kernel_get_argument_info(kernel, 2, &info), UDAL_ERROR_NOT_FOUND,
                    "udal_kernel_get_argument_info: the kernel has 2 arguments");

  ASSERT_EQ(udal_kernel_get_argument_info(kernel, 0, &info), UDAL_SUCCESS);
  EXPECT_EQ(info.kind, UDAL_ARG_KIND_BUFFER);
  EXPECT_EQ(info.access, UDAL_ARG_ACCESS_READ_WRITE);
  EXPECT_EQ(info.reserved0, 0u) << "the fake writes reserved0; libudal must write it as 0";
  info.value_size = 77; // cleared by libudal before the driver fills the rest
  ASSERT_EQ(udal_kernel_get_argument_info(kernel, 1, &info), UDAL_SUCCESS);
  EXPECT_EQ(info.kind, UDAL_ARG_KIND_VALUE);
  EXPECT_EQ(info.value_size, 4u);
  EXPECT_EQ(info.access, UDAL_ARG_ACCESS_NONE);
}

TEST_F(DispatchTest, StreamEnqueueHostFunctionRejectsBadInputAndReachesTheDriver) {
  int calls = 0;
  auto count = [](void* user_data) { ++*static_cast<int*>(user_data); };
  EXPECT_FAILS_WITH(udal_stream_enqueue_host_function(nullptr, count, &calls),
                    UDAL_ERROR_INVALID_HANDLE, "stream is NULL");
  EXPECT_FAILS_WITH(udal_stream_enqueue_host_function(stream, nullptr, &calls),
                    UDAL_ERROR_INVALID_ARGUMENT, "udal_stream_enqueue_host_function: fn is NULL");
  EXPECT_EQ(calls, 0);
  ASSERT_EQ(udal_stream_enqueue_host_function(stream, count, &calls), UDAL_SUCCESS)
      << udal_last_error_message();
  ASSERT_EQ(udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
  EXPECT_EQ(calls, 1);
}

/* ---------------------------------------------------------------------------------------
 * Launch arguments: libudal's stateless checks
 * ------------------------------------------------------------------------------------- */

TEST_F(DispatchTest, StreamLaunchChecksBufferArgumentsStatelessly) {
  udal_kernel_arg_t bad[2] = {args[0], args[1]};
  udal_launch_desc_t d = launch;
  d.args = bad;
  bad[0].value = &value;
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT,
                    "args[0] is a BUFFER with value");
  bad[0] = args[0];
  bad[0].value_size = 4;
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT,
                    "args[0] is a BUFFER with value_size 4");
  for (int32_t access : {0, 4, -1}) {
    bad[0] = args[0];
    store_raw(bad[0].access, access);
    EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT,
                      "args[0] is a BUFFER with access " + std::to_string(access));
  }
  for (udal_arg_access_t access :
       {UDAL_ARG_ACCESS_READ, UDAL_ARG_ACCESS_WRITE, UDAL_ARG_ACCESS_READ_WRITE}) {
    bad[0] = udal_arg_buffer_access(buffer, 0, access);
    EXPECT_EQ(udal_stream_launch(stream, kernel, &d), UDAL_SUCCESS) << udal_last_error_message();
  }
}

TEST_F(DispatchTest, StreamLaunchChecksValueArgumentsStatelessly) {
  udal_kernel_arg_t bad[2] = {args[0], args[1]};
  udal_launch_desc_t d = launch;
  d.args = bad;
  bad[1].buffer = buffer;
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT,
                    "args[1] is a VALUE with buffer");
  bad[1] = args[1];
  bad[1].offset = 8;
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT,
                    "args[1] is a VALUE with offset 8");
  bad[1] = args[1];
  bad[1].access = UDAL_ARG_ACCESS_READ;
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT,
                    "args[1] is a VALUE with access 1 (UDAL_ARG_ACCESS_READ)");
  bad[1] = args[1];
  bad[1].kind = UDAL_ARG_KIND_UNKNOWN;
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT,
                    "args[1].kind 0 is UDAL_ARG_KIND_UNKNOWN");
}

TEST_F(DispatchTest, StreamLaunchRefusesNonZeroReservedFields) {
  udal_kernel_arg_t bad[2] = {args[0], args[1]};
  udal_launch_desc_t d = launch;
  d.args = bad;
  bad[1].reserved0 = 1;
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT,
                    "args[1].reserved0 is 0x1");
  bad[1] = args[1];
  bad[0].reserved1[2] = 0x80;
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT,
                    "args[0].reserved1[2] is 0x80");
  d = launch;
  d.reserved0 = 3;
  EXPECT_FAILS_WITH(udal_stream_launch(stream, kernel, &d), UDAL_ERROR_INVALID_ARGUMENT,
                    "desc->reserved0 is 0x3");
}

} // namespace
