// The SDK's C++ helpers: messages, the exception guard, versioned structs, negotiation
// with older and newer loaders.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>

#include "udal/sdk/sdk.h"

namespace {

struct Object {
  const udal_driver_table_t* dispatch;
  int value;
};
UDAL_SDK_DISPATCHABLE(Object);

TEST(SdkObject, HandlesAndObjectsConvertBothWays) {
  udal_driver_table_t table = {};
  Object object{&table, 42};
  auto handle = udal::sdk::to_handle<udal_buffer_t>(&object);
  EXPECT_EQ(udal::sdk::from_handle<Object>(handle), &object);
  EXPECT_EQ(udal::sdk::dispatch_of(handle), &table);
}

TEST(SdkError, FailSetsTheMessageAndReturnsTheCode) {
  udal_result_t r = udal::sdk::fail(UDAL_ERROR_OUT_OF_RANGE, "copy of {} bytes at offset {}", 512, 3840);
  EXPECT_EQ(r, UDAL_ERROR_OUT_OF_RANGE);
  EXPECT_STREQ(udal::sdk::last_error_message(), "copy of 512 bytes at offset 3840");
}

TEST(SdkError, LongMessagesAreTruncatedNotOverflowed) {
  const std::string long_text(10000, 'x');
  udal::sdk::fail(UDAL_ERROR_INTERNAL, "{}", long_text);
  EXPECT_EQ(std::strlen(udal::sdk::last_error_message()), udal::sdk::kMaxMessageBytes - 1);
}

TEST(SdkError, MessagesAreThreadLocal) {
  udal::sdk::fail(UDAL_ERROR_INTERNAL, "main thread");
  std::thread([] {
    EXPECT_STREQ(udal::sdk::last_error_message(), "");
    udal::sdk::fail(UDAL_ERROR_INTERNAL, "other thread");
  }).join();
  EXPECT_STREQ(udal::sdk::last_error_message(), "main thread");
}

TEST(SdkError, GuardTurnsExceptionsIntoResults) {
  EXPECT_EQ(udal::sdk::guard("f", []() -> udal_result_t { throw std::bad_alloc(); }),
            UDAL_ERROR_OUT_OF_HOST_MEMORY);
  EXPECT_NE(std::string(udal::sdk::last_error_message()).find("f: out of host memory"), std::string::npos);
  EXPECT_EQ(udal::sdk::guard("g", []() -> udal_result_t { throw std::runtime_error("boom"); }),
            UDAL_ERROR_INTERNAL);
  EXPECT_NE(std::string(udal::sdk::last_error_message()).find("boom"), std::string::npos);
  EXPECT_EQ(udal::sdk::guard("h", []() -> udal_result_t { throw 7; }), UDAL_ERROR_INTERNAL);
  EXPECT_EQ(udal::sdk::guard("i", []() -> udal_result_t { return UDAL_SUCCESS; }), UDAL_SUCCESS);
}

TEST(SdkStructs, ReadStructZeroFillsPastTheCallersSize) {
  udal_buffer_desc_t full = UDAL_BUFFER_DESC_INIT;
  full.size = 100;
  full.alignment = 64;
  full.flags = 0xdead;
  full.struct_size = offsetof(udal_buffer_desc_t, alignment);  // an "older" caller
  udal_buffer_desc_t copy = udal::sdk::read_struct(&full);
  EXPECT_EQ(copy.size, 100u);
  EXPECT_EQ(copy.alignment, 0u);
  EXPECT_EQ(copy.flags, 0u);
  udal_buffer_desc_t defaults = udal::sdk::read_struct<udal_buffer_desc_t>(nullptr);
  EXPECT_EQ(defaults.struct_size, sizeof(udal_buffer_desc_t));
  EXPECT_EQ(defaults.size, 0u);
}

TEST(SdkStructs, WriteStructWritesOnlyInsideTheCallersSize) {
  udal_buffer_info_t value = {};
  value.struct_size = sizeof(value);
  value.kind = UDAL_BUFFER_KIND_HOST;
  value.size = 4096;
  value.alignment = 64;
  udal_buffer_info_t out;
  std::memset(&out, 0xab, sizeof(out));
  out.struct_size = offsetof(udal_buffer_info_t, alignment);
  int chain = 0;
  out.next = &chain;
  udal::sdk::write_struct(&out, value);
  EXPECT_EQ(out.struct_size, offsetof(udal_buffer_info_t, alignment));
  EXPECT_EQ(out.next, &chain);
  EXPECT_EQ(out.size, 4096u);
  uint64_t untouched;
  std::memset(&untouched, 0xab, sizeof(untouched));
  EXPECT_EQ(out.alignment, untouched);
}

udal_result_t dummy_create(const udal_driver_table_t*, const udal_driver_create_desc_t*,
                           udal_driver_t*) {
  return UDAL_SUCCESS;
}
udal_result_t dummy_synchronize(udal_stream_t, uint64_t) { return UDAL_SUCCESS; }

udal_driver_table_t full_table() {
  udal_driver_table_t t = {};
  t.struct_size = sizeof(t);
  t.last_error_message = udal::sdk::last_error_message;
  t.driver_create = dummy_create;
  t.stream_synchronize = dummy_synchronize;
  return t;
}

TEST(SdkNegotiate, FillsTheWholeTableOfAnEqualLoader) {
  udal_driver_table_t table = {};
  table.struct_size = sizeof(table);
  ASSERT_EQ(udal::sdk::negotiate(UDAL_ABI_VERSION, &table, full_table(), UDAL_MAKE_VERSION(2, 3)),
            UDAL_SUCCESS);
  EXPECT_EQ(table.abi_version, UDAL_ABI_VERSION);
  EXPECT_EQ(table.driver_version, UDAL_MAKE_VERSION(2, 3));
  EXPECT_EQ(table.driver_create, dummy_create);
  EXPECT_EQ(table.stream_synchronize, dummy_synchronize);
}

TEST(SdkNegotiate, AnOlderLoaderGetsOnlyTheEntriesItKnows) {
  // An older loader's table ends before stream_synchronize.
  udal_driver_table_t table;
  std::memset(&table, 0x5c, sizeof(table));
  table.struct_size = offsetof(udal_driver_table_t, stream_synchronize);
  table.next = nullptr;
  ASSERT_EQ(udal::sdk::negotiate(UDAL_MAKE_VERSION(1, 0), &table, full_table(), 1), UDAL_SUCCESS);
  EXPECT_EQ(table.struct_size, offsetof(udal_driver_table_t, stream_synchronize));
  EXPECT_EQ(table.driver_create, dummy_create);
  const auto* past = reinterpret_cast<const unsigned char*>(&table) +
                     offsetof(udal_driver_table_t, stream_synchronize);
  for (std::size_t i = 0; i < sizeof(table) - offsetof(udal_driver_table_t, stream_synchronize); ++i) {
    ASSERT_EQ(past[i], 0x5c) << "byte " << i << " past the loader's table was written";
  }
}

TEST(SdkNegotiate, ANewerLoaderKeepsZerosForEntriesTheDriverLacks) {
  struct NewerTable {
    udal_driver_table_t known;
    void* later_entries[4];
  } newer;
  std::memset(&newer, 0, sizeof(newer));
  newer.known.struct_size = sizeof(newer);
  ASSERT_EQ(udal::sdk::negotiate(UDAL_MAKE_VERSION(1, 7), &newer.known, full_table(), 1),
            UDAL_SUCCESS);
  EXPECT_EQ(newer.known.struct_size, sizeof(newer));
  EXPECT_EQ(newer.known.stream_synchronize, dummy_synchronize);
  for (void* entry : newer.later_entries) EXPECT_EQ(entry, nullptr);
}

TEST(SdkNegotiate, AnotherMajorVersionIsIncompatible) {
  udal_driver_table_t table = {};
  table.struct_size = sizeof(table);
  EXPECT_EQ(udal::sdk::negotiate(UDAL_MAKE_VERSION(2, 0), &table, full_table(), 1),
            UDAL_ERROR_INCOMPATIBLE_DRIVER);
  EXPECT_NE(std::string(udal::sdk::last_error_message()).find("2.0"), std::string::npos);
  EXPECT_EQ(table.driver_create, nullptr);
  EXPECT_EQ(udal::sdk::negotiate(UDAL_ABI_VERSION, nullptr, full_table(), 1),
            UDAL_ERROR_INVALID_ARGUMENT);
}

}  // namespace
