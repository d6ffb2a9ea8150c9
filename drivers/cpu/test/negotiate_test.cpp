// The driver as libudal sees it, without libudal: negotiation with older and newer
// loaders, and entries called with structs of an older caller.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "udal/udal_driver.h"

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
  struct NewerTable {
    udal_driver_table_t known;
    void* later_entries[8];
  } newer;
  std::memset(&newer, 0, sizeof(newer));
  newer.known.struct_size = sizeof(newer);
  ASSERT_EQ(negotiate_(UDAL_MAKE_VERSION(1, 9), &newer.known), UDAL_SUCCESS);
  EXPECT_EQ(newer.known.struct_size, sizeof(newer));
  EXPECT_NE(newer.known.stream_synchronize, nullptr);
  for (void* entry : newer.later_entries) EXPECT_EQ(entry, nullptr);
}

TEST_F(NegotiateTest, AnotherMajorVersionIsRefusedWithAMessage) {
  udal_driver_table_t table;
  std::memset(&table, 0, sizeof(table));
  table.struct_size = sizeof(table);
  EXPECT_EQ(negotiate_(UDAL_MAKE_VERSION(2, 0), &table), UDAL_ERROR_INCOMPATIBLE_DRIVER);
  EXPECT_EQ(table.driver_create, nullptr);
}

}  // namespace
