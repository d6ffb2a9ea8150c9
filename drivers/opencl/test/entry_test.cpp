// Bad input on every entry point: through libudal (NULL handles and outputs, structs with a
// vendor extension chained, which only the driver can refuse) and on the driver's own table
// (negotiation, driver_create, device lookups), where libudal's checks are not in front.
#include <dlfcn.h>

#include "fixture.h"
#include "udal/udal_driver.h"

namespace udal::opencl::test {
namespace {

// A vendor extension struct no driver knows.
struct VendorStruct {
  udal_structure_type_t type;
  uint32_t struct_size;
  const void* next;
};
const VendorStruct kVendor = {
    static_cast<udal_structure_type_t>(UDAL_STRUCTURE_TYPE_VENDOR_BEGIN + 0x77),
    sizeof(VendorStruct), nullptr};

using EntryTest = OpenclDriverTest;

TEST_F(EntryTest, VendorStructsChainedOnDescriptorsAreRefusedByTheDriver) {
  udal_buffer_desc_t buffer_desc = UDAL_BUFFER_DESC_INIT;
  buffer_desc.size = 64;
  buffer_desc.next = &kVendor;
  udal_buffer_t buffer = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_create(device_, &buffer_desc, &buffer),
                    "0x10077", "opencl");
  EXPECT_EQ(buffer, nullptr);

  udal_event_desc_t event_desc = UDAL_EVENT_DESC_INIT;
  event_desc.next = &kVendor;
  udal_event_t event = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_event_create(device_, &event_desc, &event),
                    "0x10077");

  udal_stream_desc_t stream_desc = UDAL_STREAM_DESC_INIT;
  stream_desc.next = &kVendor;
  udal_stream_t stream = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_create(device_, &stream_desc, &stream),
                    "0x10077");

  const std::vector<uint8_t> source = kernel_source();
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = UDAL_MODULE_FORMAT_OPENCL_C;
  image.data = source.data();
  image.size = source.size();
  image.next = &kVendor;
  udal_module_desc_t module_desc = UDAL_MODULE_DESC_INIT;
  module_desc.images = &image;
  module_desc.image_count = 1;
  udal_module_t module = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_module_create(device_, &module_desc, &module),
                    "images[0]", "0x10077");
  image.next = nullptr;
  module_desc.next = &kVendor;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_module_create(device_, &module_desc, &module),
                    "0x10077");
  module_desc.next = nullptr;
  UDAL_ASSERT_OK(udal_module_create(device_, &module_desc, &module));
  Module module_owner(module);

  udal_kernel_t kernel = nullptr;
  UDAL_ASSERT_OK(udal_kernel_create(module, "add_u32", &kernel));
  Kernel kernel_owner(kernel);
  Buffer data = make_buffer(64);
  const uint32_t value = 1;
  udal_kernel_arg_t args[3] = {udal_arg_buffer(data.get(), 0), udal_arg_value(&value, 4),
                               udal_arg_value(&value, 4)};
  udal_launch_desc_t launch_desc = UDAL_LAUNCH_DESC_INIT;
  launch_desc.args = args;
  launch_desc.arg_count = 3;
  launch_desc.next = &kVendor;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_stream_launch(io_stream_.get(), kernel, &launch_desc), "0x10077");
}

TEST_F(EntryTest, VendorStructsChainedOnOutputsAreRefusedByTheDriver) {
  VendorStruct out_ext = kVendor;
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  info.next = &out_ext;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_info(device_, &info), "0x10077");
  udal_memory_usage_t usage = UDAL_MEMORY_USAGE_INIT;
  usage.next = &out_ext;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_memory_usage(device_, &usage),
                    "0x10077");
  Buffer buffer = make_buffer(64);
  udal_buffer_info_t buffer_info = UDAL_BUFFER_INFO_INIT;
  buffer_info.next = &out_ext;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_get_info(buffer.get(), &buffer_info),
                    "0x10077");
  Kernel kernel = make_kernel("add_u32");
  ASSERT_TRUE(kernel);
  udal_kernel_info_t kernel_info = UDAL_KERNEL_INFO_INIT;
  kernel_info.next = &out_ext;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_kernel_get_info(kernel.get(), &kernel_info),
                    "0x10077");
  udal_kernel_arg_info_t arg_info = UDAL_KERNEL_ARG_INFO_INIT;
  arg_info.next = &out_ext;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_kernel_get_argument_info(kernel.get(), 0, &arg_info), "0x10077");
  udal_module_info_t module_info = UDAL_MODULE_INFO_INIT;
  module_info.next = &out_ext;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_module_get_info(modules_.back().get(), &module_info), "0x10077");
}

TEST_F(EntryTest, NullHandlesAndOutputsAreRefusedEverywhere) {
  Buffer buffer = make_buffer(64, UDAL_BUFFER_KIND_HOST);
  Kernel kernel = make_kernel("add_u32");
  Event event = make_event();
  ASSERT_TRUE(buffer && kernel && event);
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  udal_memory_usage_t usage = UDAL_MEMORY_USAGE_INIT;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_device_get_info(nullptr, &info));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_info(device_, nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_device_get_memory_usage(nullptr, &usage));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_memory_usage(device_, nullptr));
  udal_buffer_desc_t buffer_desc = UDAL_BUFFER_DESC_INIT;
  buffer_desc.size = 0;
  udal_buffer_t new_buffer = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_buffer_create(device_, &buffer_desc, &new_buffer));
  buffer_desc.size = 64;
  buffer_desc.alignment = 3;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_buffer_create(device_, &buffer_desc, &new_buffer));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_buffer_destroy(nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_get_info(buffer.get(), nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_map(buffer.get(), 0, 0, nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_buffer_unmap(nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_buffer_get_device_address(buffer.get(), nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_event_create(nullptr, nullptr, nullptr));
  udal_event_desc_t event_desc = UDAL_EVENT_DESC_INIT;
  event_desc.flags = 1u << 9;
  udal_event_t new_event = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_event_create(device_, &event_desc, &new_event));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_event_destroy(nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_event_query(nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_event_wait(nullptr, 0));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_event_elapsed_ns(event.get(), event.get(), nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_event_signal(nullptr));
  udal_module_t module = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_module_create(device_, nullptr, &module));
  udal_module_desc_t module_desc = UDAL_MODULE_DESC_INIT;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_module_create(device_, &module_desc, &module));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_module_destroy(nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_module_get_info(modules_.back().get(), nullptr));
  udal_kernel_t new_kernel = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_kernel_create(modules_.back().get(), "", &new_kernel));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_kernel_create(modules_.back().get(), nullptr, &new_kernel));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_kernel_destroy(nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_kernel_get_info(kernel.get(), nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_kernel_get_argument_info(kernel.get(), 0, nullptr));
  udal_stream_desc_t stream_desc = UDAL_STREAM_DESC_INIT;
  stream_desc.flags = 1;
  udal_stream_t stream = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_stream_create(device_, &stream_desc, &stream));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_destroy(nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_synchronize(nullptr, 0));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_record_event(io_stream_.get(), nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_wait_event(io_stream_.get(), nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_stream_launch(io_stream_.get(), kernel.get(), nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE,
                    udal_stream_copy_buffer(io_stream_.get(), nullptr, 0, buffer.get(), 0, 4));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_stream_enqueue_host_function(
                                                   nullptr, [](void*) {}, nullptr));
  udal_launch_desc_t launch_desc = UDAL_LAUNCH_DESC_INIT;
  udal_kernel_arg_t bad_arg = udal_arg_buffer(nullptr, 0);
  launch_desc.args = &bad_arg;
  launch_desc.arg_count = 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE,
                    udal_stream_launch(io_stream_.get(), kernel.get(), &launch_desc));
  launch_desc.group_count[0] = 0;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    udal_stream_launch(io_stream_.get(), kernel.get(), &launch_desc));
}

// ---------------------------------------------------------------------------------------
// The driver's own table, without libudal in front
// ---------------------------------------------------------------------------------------

class DriverTableTest : public ::testing::Test {
protected:
  void SetUp() override {
    library_ = dlopen(UDAL_OPENCL_DRIVER_LIBRARY, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    ASSERT_NE(library_, nullptr) << dlerror();
    negotiate_ =
        reinterpret_cast<udal_pfn_driver_negotiate>(dlsym(library_, UDAL_DRIVER_NEGOTIATE_SYMBOL));
    ASSERT_NE(negotiate_, nullptr);
    table_ = udal_driver_table_t{};
    table_.type = UDAL_STRUCTURE_TYPE_DRIVER_TABLE;
    table_.struct_size = sizeof(table_);
  }
  void TearDown() override {
    if (library_ != nullptr)
      dlclose(library_);
  }
  void* library_ = nullptr;
  udal_pfn_driver_negotiate negotiate_ = nullptr;
  udal_driver_table_t table_{};
};

TEST_F(DriverTableTest, NegotiationRefusesOtherMajorVersionsAndBadTables) {
  EXPECT_EQ(negotiate_(UDAL_MAKE_VERSION(2, 0), &table_), UDAL_ERROR_INCOMPATIBLE_DRIVER);
  EXPECT_EQ(negotiate_(UDAL_ABI_VERSION, nullptr), UDAL_ERROR_INVALID_ARGUMENT);
  udal_driver_table_t wrong = table_;
  wrong.type = UDAL_STRUCTURE_TYPE_BUFFER_DESC;
  EXPECT_EQ(negotiate_(UDAL_ABI_VERSION, &wrong), UDAL_ERROR_INVALID_ARGUMENT);
  ASSERT_EQ(negotiate_(UDAL_ABI_VERSION, &table_), UDAL_SUCCESS);
  EXPECT_EQ(table_.abi_version, UDAL_ABI_VERSION);
  EXPECT_EQ(table_.driver_version, UDAL_MAKE_VERSION(1, 0));
  // Every entry of the list is implemented.
#define UDAL_OPENCL_TEST_ENTRY(name, required, is_public, params, args)                            \
  EXPECT_NE(table_.name, nullptr) << #name;
  UDAL_DRIVER_ENTRIES(UDAL_OPENCL_TEST_ENTRY)
#undef UDAL_OPENCL_TEST_ENTRY
  EXPECT_NE(table_.last_error_message, nullptr);
}

TEST_F(DriverTableTest, DriverEntriesCheckTheirArguments) {
  ASSERT_EQ(negotiate_(UDAL_ABI_VERSION, &table_), UDAL_SUCCESS);
  EXPECT_EQ(table_.driver_create(&table_, nullptr, nullptr), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_STRNE(table_.last_error_message(), "");
  udal_driver_t driver = reinterpret_cast<udal_driver_t>(1);
  EXPECT_EQ(table_.driver_create(nullptr, nullptr, &driver), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(driver, nullptr);
  udal_driver_create_desc_t desc{};
  desc.type = UDAL_STRUCTURE_TYPE_BUFFER_DESC; // the wrong type
  desc.struct_size = sizeof(desc);
  EXPECT_EQ(table_.driver_create(&table_, &desc, &driver), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(table_.last_error_message()).find("UDAL_STRUCTURE_TYPE_DRIVER_CREATE_DESC"),
            std::string::npos)
      << table_.last_error_message();
  desc.type = UDAL_STRUCTURE_TYPE_DRIVER_CREATE_DESC;
  desc.loader_abi_version = UDAL_ABI_VERSION;
  desc.driver_name = "opencl";
  const udal_result_t created = table_.driver_create(&table_, &desc, &driver);
  if (created != UDAL_SUCCESS)
    GTEST_SKIP() << "no OpenCL device: " << table_.last_error_message();
  uint32_t count = 0;
  EXPECT_EQ(table_.driver_get_device_count(driver, nullptr), UDAL_ERROR_INVALID_ARGUMENT);
  ASSERT_EQ(table_.driver_get_device_count(driver, &count), UDAL_SUCCESS);
  udal_device_t device = reinterpret_cast<udal_device_t>(1);
  EXPECT_EQ(table_.driver_get_device(driver, count, &device), UDAL_ERROR_NOT_FOUND);
  EXPECT_EQ(device, nullptr);
  EXPECT_NE(std::string(table_.last_error_message()).find(std::to_string(count)),
            std::string::npos);
  EXPECT_EQ(table_.driver_get_device(driver, 0, nullptr), UDAL_ERROR_INVALID_ARGUMENT);
  ASSERT_EQ(table_.driver_get_device(driver, 0, &device), UDAL_SUCCESS);
  // The handles' first word is the table the driver was given.
  EXPECT_EQ(*reinterpret_cast<const udal_driver_table_t* const*>(driver), &table_);
  EXPECT_EQ(*reinterpret_cast<const udal_driver_table_t* const*>(device), &table_);
  // Entries called without libudal's checks in front still refuse bad input.
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  info.type = UDAL_STRUCTURE_TYPE_EVENT_DESC;
  EXPECT_EQ(table_.device_get_info(device, &info), UDAL_ERROR_INVALID_ARGUMENT);
  udal_buffer_desc_t buffer_desc = UDAL_BUFFER_DESC_INIT;
  buffer_desc.kind = static_cast<udal_buffer_kind_t>(9);
  buffer_desc.size = 8;
  udal_buffer_t buffer = nullptr;
  EXPECT_EQ(table_.buffer_create(device, &buffer_desc, &buffer), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(table_.driver_destroy(driver), UDAL_SUCCESS);
}

} // namespace
} // namespace udal::opencl::test
