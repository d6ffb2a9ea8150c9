// The driver as libudal sees it, without libudal: negotiation with older and newer
// loaders, and entries called with structs of an older caller.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "udal/udal_driver.h"
#include "udal_test.h"

namespace {

class NegotiateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    library_ = dlopen(UDAL_CPU_DRIVER_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(library_, nullptr) << dlerror();
    void* symbol = dlsym(library_, UDAL_DRIVER_NEGOTIATE_SYMBOL);
    ASSERT_NE(symbol, nullptr);
    std::memcpy(&negotiate_, &symbol, sizeof(symbol));
  }
  void TearDown() override {
    if (library_) dlclose(library_);
  }
  void* library_ = nullptr;
  udal_pfn_driver_negotiate negotiate_ = nullptr;
};

TEST_F(NegotiateTest, AnOlderLoaderGetsOnlyWhatItsTableHolds) {
  udal_driver_table_t table;
  std::memset(&table, 0, sizeof(table));
  const std::size_t old_size = offsetof(udal_driver_table_t, stream_launch);
  table.type = UDAL_STRUCTURE_TYPE_DRIVER_TABLE;
  table.struct_size = old_size;
  // Sentinels past the old loader's table must survive.
  std::memset(reinterpret_cast<char*>(&table) + old_size, 0x5c, sizeof(table) - old_size);
  ASSERT_EQ(negotiate_(UDAL_MAKE_VERSION(1, 0), &table), UDAL_SUCCESS);
  EXPECT_EQ(table.struct_size, old_size);
  EXPECT_EQ(UDAL_VERSION_MAJOR(table.abi_version), 1u);
  EXPECT_EQ(table.driver_version, UDAL_MAKE_VERSION(1, 0));
  EXPECT_NE(table.stream_copy_buffer, nullptr);
  const auto* past = reinterpret_cast<const unsigned char*>(&table) + old_size;
  for (std::size_t i = 0; i < sizeof(table) - old_size; ++i) ASSERT_EQ(past[i], 0x5c) << i;

  // That table works: create the driver, read device info as a caller from before
  // |features| existed, and only the fields it knows are written.
  table.struct_size = old_size;
  udal_driver_create_desc_t desc = {};
  desc.type = UDAL_STRUCTURE_TYPE_DRIVER_CREATE_DESC;
  desc.struct_size = sizeof(desc);
  desc.loader_abi_version = UDAL_MAKE_VERSION(1, 0);
  desc.driver_name = "cpu";
  udal_driver_t driver = nullptr;
  ASSERT_EQ(table.driver_create(&table, &desc, &driver), UDAL_SUCCESS) << table.last_error_message();
  EXPECT_EQ(*reinterpret_cast<const udal_driver_table_t* const*>(driver), &table);
  udal_device_t device = nullptr;
  ASSERT_EQ(table.driver_get_device(driver, 0, &device), UDAL_SUCCESS);
  EXPECT_EQ(*reinterpret_cast<const udal_driver_table_t* const*>(device), &table);
  udal_device_info_t info;
  std::memset(&info, 0xab, sizeof(info));
  info.type = UDAL_STRUCTURE_TYPE_DEVICE_INFO;
  info.struct_size = offsetof(udal_device_info_t, features);
  info.next = nullptr;
  ASSERT_EQ(table.device_get_info(device, &info), UDAL_SUCCESS);
  EXPECT_EQ(std::string(info.name).rfind("CPU (NUMA node", 0), 0u);
  const auto* tail = reinterpret_cast<const unsigned char*>(&info) + offsetof(udal_device_info_t, features);
  for (std::size_t i = 0; i < sizeof(info) - offsetof(udal_device_info_t, features); ++i) {
    ASSERT_EQ(tail[i], 0xab) << "byte " << i << " past the caller's struct was written";
  }
  udal_device_t none = nullptr;
  EXPECT_EQ(table.driver_get_device(driver, 1000, &none), UDAL_ERROR_NOT_FOUND);
  EXPECT_NE(std::string(table.last_error_message()).find("1000"), std::string::npos);
  EXPECT_EQ(table.driver_destroy(driver), UDAL_SUCCESS);
}

TEST_F(NegotiateTest, ANewerLoaderKeepsItsOwnEntriesEmpty) {
  udal::test::NewerDriverTable<8> newer;
  ASSERT_EQ(negotiate_(UDAL_MAKE_VERSION(1, 9), &newer.known), UDAL_SUCCESS);
  EXPECT_EQ(newer.known.struct_size, sizeof(newer));
  EXPECT_NE(newer.known.stream_synchronize, nullptr);
  for (void* entry : newer.later_entries) EXPECT_EQ(entry, nullptr);
}

TEST_F(NegotiateTest, AnotherMajorVersionIsRefusedWithAMessage) {
  udal_driver_table_t table;
  std::memset(&table, 0, sizeof(table));
  table.type = UDAL_STRUCTURE_TYPE_DRIVER_TABLE;
  table.struct_size = sizeof(table);
  EXPECT_EQ(negotiate_(UDAL_MAKE_VERSION(2, 0), &table), UDAL_ERROR_INCOMPATIBLE_DRIVER);
  EXPECT_EQ(table.driver_create, nullptr);
}

// The entries called as libudal calls them, with what only the driver can refuse: chained
// structs of a vendor's range (libudal passes them through) and, defensively, structs of
// another type.
class DirectTest : public NegotiateTest {
 protected:
  void SetUp() override {
    NegotiateTest::SetUp();
    if (HasFatalFailure()) return;
    std::memset(&table_, 0, sizeof(table_));
    table_.type = UDAL_STRUCTURE_TYPE_DRIVER_TABLE;
    table_.struct_size = sizeof(table_);
    ASSERT_EQ(negotiate_(UDAL_ABI_VERSION, &table_), UDAL_SUCCESS);
    udal_driver_create_desc_t desc = {};
    desc.type = UDAL_STRUCTURE_TYPE_DRIVER_CREATE_DESC;
    desc.struct_size = sizeof(desc);
    desc.loader_abi_version = UDAL_ABI_VERSION;
    desc.driver_name = "cpu";
    ASSERT_EQ(table_.driver_create(&table_, &desc, &driver_), UDAL_SUCCESS)
        << table_.last_error_message();
    ASSERT_EQ(table_.driver_get_device(driver_, 0, &device_), UDAL_SUCCESS);
  }
  void TearDown() override {
    if (driver_) {
      EXPECT_EQ(table_.driver_destroy(driver_), UDAL_SUCCESS);
    }
    NegotiateTest::TearDown();
  }
  std::string message() const { return table_.last_error_message(); }

  udal_driver_table_t table_;
  udal_driver_t driver_ = nullptr;
  udal_device_t device_ = nullptr;
};

struct VendorStruct {
  udal_structure_type_t type;
  uint32_t struct_size;
  const void* next;
};

TEST_F(DirectTest, TheTableHasEveryEntryOfTheList) {
#define CPU_TEST_ENTRY_(name, required, is_public, params, args)   EXPECT_NE(table_.name, nullptr) << #name;
  UDAL_DRIVER_ENTRIES(CPU_TEST_ENTRY_)
#undef CPU_TEST_ENTRY_
}

TEST_F(DirectTest, ChainedVendorStructsAndWrongTypesAreRefusedWithTheDriversMessage) {
  VendorStruct vendor = {static_cast<udal_structure_type_t>(0x10009), sizeof(VendorStruct), nullptr};
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = 64;
  desc.next = &vendor;
  udal_buffer_t buffer = nullptr;
  EXPECT_EQ(table_.buffer_create(device_, &desc, &buffer), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("0x10009"), std::string::npos) << message();
  EXPECT_EQ(buffer, nullptr);
  desc.next = nullptr;
  desc.type = UDAL_STRUCTURE_TYPE_EVENT_DESC;
  EXPECT_EQ(table_.buffer_create(device_, &desc, &buffer), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(message(),
            "udal_buffer_create: desc->type is 7 (UDAL_STRUCTURE_TYPE_EVENT_DESC), not "
            "UDAL_STRUCTURE_TYPE_BUFFER_DESC");
  // A chain that loops is refused, not walked for ever.
  VendorStruct loop = {static_cast<udal_structure_type_t>(0x10009), sizeof(VendorStruct), nullptr};
  loop.next = &loop;
  udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
  launch.next = &loop;
  udal_stream_t stream = nullptr;
  ASSERT_EQ(table_.stream_create(device_, nullptr, &stream), UDAL_SUCCESS);
  EXPECT_EQ(table_.stream_launch(stream, nullptr, &launch), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("0x10009"), std::string::npos) << message();
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  info.struct_size = 8;
  EXPECT_EQ(table_.device_get_info(device_, &info), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("struct_size 8"), std::string::npos) << message();
  EXPECT_EQ(table_.stream_destroy(stream), UDAL_SUCCESS);
}

TEST_F(DirectTest, DriverDestroyFinishesWorkLeftBehindAndFreesItsObjects) {
  // Objects never destroyed, a stream held by an unsignalled HOST_SIGNAL event with work
  // behind it: driver_destroy must release the gate, run the work and stop the thread.
  udal_stream_t stream = nullptr;
  ASSERT_EQ(table_.stream_create(device_, nullptr, &stream), UDAL_SUCCESS);
  udal_event_desc_t gate_desc = UDAL_EVENT_DESC_INIT;
  gate_desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  udal_event_t gate = nullptr;
  ASSERT_EQ(table_.event_create(device_, &gate_desc, &gate), UDAL_SUCCESS);
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = 4096;
  udal_buffer_t buffer = nullptr;
  ASSERT_EQ(table_.buffer_create(device_, &desc, &buffer), UDAL_SUCCESS);
  static int ran = 0;
  ran = 0;
  ASSERT_EQ(table_.stream_wait_event(stream, gate), UDAL_SUCCESS);
  const uint32_t pattern = 1;
  ASSERT_EQ(table_.stream_fill_buffer(stream, buffer, 0, 4096, &pattern, 4), UDAL_SUCCESS);
  ASSERT_EQ(table_.stream_enqueue_host_function(stream, [](void*) { ++ran; }, nullptr), UDAL_SUCCESS);
  EXPECT_EQ(table_.event_query(gate), UDAL_NOT_READY);
  EXPECT_EQ(ran, 0);
  EXPECT_EQ(table_.driver_destroy(driver_), UDAL_SUCCESS);
  driver_ = nullptr;
  EXPECT_EQ(ran, 1) << "the work behind the gate did not run before driver_destroy returned";
}

}  // namespace
