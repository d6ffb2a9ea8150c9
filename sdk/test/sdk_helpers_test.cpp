// The SDK's C++ helpers: messages, the exception guard, typed structs and their chains,
// negotiation with older and newer loaders, and the table fill from UDAL_DRIVER_ENTRIES.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "udal/sdk/sdk.h"

namespace {

std::string message() { return udal::sdk::last_error_message(); }

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
  EXPECT_NE(message().find("f: out of host memory"), std::string::npos);
  EXPECT_EQ(udal::sdk::guard("g", []() -> udal_result_t { throw std::runtime_error("boom"); }),
            UDAL_ERROR_INTERNAL);
  EXPECT_NE(message().find("boom"), std::string::npos);
  EXPECT_EQ(udal::sdk::guard("h", []() -> udal_result_t { throw 7; }), UDAL_ERROR_INTERNAL);
  EXPECT_EQ(udal::sdk::guard("i", []() -> udal_result_t { return UDAL_SUCCESS; }), UDAL_SUCCESS);
}

// ---- structs -------------------------------------------------------------------------

TEST(SdkObject, AnswerDeviceCountsAndHandsOutDevicesInOrder) {
  udal_driver_table_t table = {};
  std::vector<std::unique_ptr<Object>> devices;
  devices.push_back(std::make_unique<Object>(Object{&table, 1}));
  devices.push_back(std::make_unique<Object>(Object{&table, 2}));
  uint32_t count = 0;
  EXPECT_EQ(udal::sdk::answer_device_count(devices, &count), UDAL_SUCCESS);
  EXPECT_EQ(count, 2u);
  EXPECT_EQ(udal::sdk::answer_device_count(devices, nullptr), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(message(), "udal_driver_get_device_count: out_count is NULL");
  udal_device_t device = nullptr;
  EXPECT_EQ(udal::sdk::answer_device(devices, 1, &device), UDAL_SUCCESS);
  EXPECT_EQ(udal::sdk::from_handle<Object>(device), devices[1].get());
  EXPECT_EQ(udal::sdk::answer_device(devices, 2, &device), UDAL_ERROR_NOT_FOUND);
  EXPECT_EQ(device, nullptr);
  EXPECT_EQ(message(), "udal_driver_get_device: index 2 is not below the device count 2");
  EXPECT_EQ(udal::sdk::answer_device(devices, 0, nullptr), UDAL_ERROR_INVALID_ARGUMENT);
  // Raw pointers do as well as owning ones.
  std::vector<Object*> raw = {devices[0].get()};
  EXPECT_EQ(udal::sdk::answer_device(raw, 0, &device), UDAL_SUCCESS);
  EXPECT_EQ(udal::sdk::from_handle<Object>(device), devices[0].get());
}

TEST(SdkStructs, EveryStructKnowsItsType) {
  EXPECT_EQ(udal::sdk::structure_type_of<udal_buffer_desc_t>, UDAL_STRUCTURE_TYPE_BUFFER_DESC);
  EXPECT_EQ(udal::sdk::structure_type_of<udal_kernel_arg_info_t>, UDAL_STRUCTURE_TYPE_KERNEL_ARG_INFO);
  EXPECT_EQ(udal::sdk::structure_type_of<udal_driver_table_t>, UDAL_STRUCTURE_TYPE_DRIVER_TABLE);
  EXPECT_EQ(udal::sdk::structure_type_of<int>, UDAL_STRUCTURE_TYPE_NONE);
  EXPECT_STREQ(udal::sdk::structure_type_name(UDAL_STRUCTURE_TYPE_EVENT_DESC),
               "UDAL_STRUCTURE_TYPE_EVENT_DESC");
  EXPECT_STREQ(udal::sdk::structure_type_name(static_cast<udal_structure_type_t>(0x10005)),
               "a vendor type");
  EXPECT_STREQ(udal::sdk::structure_type_name(static_cast<udal_structure_type_t>(999)),
               "an unknown core type");
  EXPECT_EQ(udal::sdk::kStructHeaderBytes, 16u);
}

TEST(SdkStructs, ReadStructZeroFillsPastTheCallersSize) {
  udal_buffer_desc_t full = UDAL_BUFFER_DESC_INIT;
  full.size = 100;
  full.alignment = 64;
  full.flags = 0xdead;
  full.struct_size = offsetof(udal_buffer_desc_t, alignment);  // an "older" caller
  udal_buffer_desc_t copy = udal::sdk::read_struct(&full);
  EXPECT_EQ(copy.type, UDAL_STRUCTURE_TYPE_BUFFER_DESC);
  EXPECT_EQ(copy.size, 100u);
  EXPECT_EQ(copy.alignment, 0u);
  EXPECT_EQ(copy.flags, 0u);
  udal_buffer_desc_t defaults = udal::sdk::read_struct<udal_buffer_desc_t>(nullptr);
  EXPECT_EQ(defaults.type, UDAL_STRUCTURE_TYPE_BUFFER_DESC);
  EXPECT_EQ(defaults.struct_size, sizeof(udal_buffer_desc_t));
  EXPECT_EQ(defaults.next, nullptr);
  EXPECT_EQ(defaults.size, 0u);
  udal_kernel_info_t made = udal::sdk::make_struct<udal_kernel_info_t>();
  EXPECT_EQ(made.type, UDAL_STRUCTURE_TYPE_KERNEL_INFO);
  EXPECT_EQ(made.struct_size, sizeof(udal_kernel_info_t));
}

TEST(SdkStructs, WriteStructWritesOnlyInsideTheCallersSizeAndKeepsItsHeader) {
  udal_buffer_info_t value = udal::sdk::make_struct<udal_buffer_info_t>();
  value.kind = UDAL_BUFFER_KIND_HOST;
  value.size = 4096;
  value.alignment = 64;
  udal_buffer_info_t out;
  std::memset(&out, 0xab, sizeof(out));
  out.type = UDAL_STRUCTURE_TYPE_BUFFER_INFO;
  out.struct_size = offsetof(udal_buffer_info_t, alignment);
  int chain = 0;
  out.next = &chain;
  udal::sdk::write_struct(&out, value);
  EXPECT_EQ(out.type, UDAL_STRUCTURE_TYPE_BUFFER_INFO);
  EXPECT_EQ(out.struct_size, offsetof(udal_buffer_info_t, alignment));
  EXPECT_EQ(out.next, &chain);
  EXPECT_EQ(out.size, 4096u);
  uint64_t untouched;
  std::memset(&untouched, 0xab, sizeof(untouched));
  EXPECT_EQ(out.alignment, untouched);

  // A struct_size inside the header gets nothing written at all.
  udal_buffer_info_t tiny;
  std::memset(&tiny, 0xcd, sizeof(tiny));
  tiny.struct_size = 8;
  udal::sdk::write_struct(&tiny, value);
  udal::sdk::clear_struct(&tiny);
  const auto* bytes = reinterpret_cast<const unsigned char*>(&tiny);
  for (std::size_t i = 16; i < sizeof(tiny); ++i) ASSERT_EQ(bytes[i], 0xcd) << i;
}

TEST(SdkStructs, ClearStructZeroesTheFieldsInsideTheSizeOnly) {
  udal_kernel_info_t out;
  std::memset(&out, 0x77, sizeof(out));
  out.type = UDAL_STRUCTURE_TYPE_KERNEL_INFO;
  out.struct_size = offsetof(udal_kernel_info_t, max_group_invocations);
  out.next = nullptr;
  udal::sdk::clear_struct(&out);
  EXPECT_EQ(out.type, UDAL_STRUCTURE_TYPE_KERNEL_INFO);
  EXPECT_EQ(out.flags, 0u);
  EXPECT_EQ(out.argument_count, 0u);
  EXPECT_EQ(out.max_group_invocations, 0x77777777u);
}

TEST(SdkStructs, CheckStructRefusesAnotherTypeNamingBoth) {
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  EXPECT_EQ(udal::sdk::check_struct("udal_buffer_create", "desc", &desc), UDAL_SUCCESS);
  desc.type = UDAL_STRUCTURE_TYPE_EVENT_DESC;
  EXPECT_EQ(udal::sdk::check_struct("udal_buffer_create", "desc", &desc), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(message(),
            "udal_buffer_create: desc->type is 7 (UDAL_STRUCTURE_TYPE_EVENT_DESC), not "
            "UDAL_STRUCTURE_TYPE_BUFFER_DESC");
  desc.type = UDAL_STRUCTURE_TYPE_BUFFER_DESC;
  desc.struct_size = 12;
  EXPECT_EQ(udal::sdk::check_struct("udal_buffer_create", "desc", &desc), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("struct_size 12"), std::string::npos) << message();
}

TEST(SdkStructs, ReadDescRefusesNullAndBadHeadersAndCopiesTheRest) {
  udal_buffer_desc_t out = UDAL_BUFFER_DESC_INIT;
  out.size = 99;
  EXPECT_EQ(udal::sdk::read_desc("udal_buffer_create", "desc",
                                 static_cast<const udal_buffer_desc_t*>(nullptr), &out),
            UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(message(), "udal_buffer_create: desc is NULL");
  EXPECT_EQ(out.size, 0u);  // the defaults on failure, not what was there
  udal_buffer_desc_t in = UDAL_BUFFER_DESC_INIT;
  in.size = 4096;
  in.type = UDAL_STRUCTURE_TYPE_EVENT_DESC;
  EXPECT_EQ(udal::sdk::read_desc("udal_buffer_create", "desc", &in, &out),
            UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("desc->type is 7"), std::string::npos) << message();
  EXPECT_EQ(out.size, 0u);
  in.type = UDAL_STRUCTURE_TYPE_BUFFER_DESC;
  // An older caller's smaller struct: the fields past its size read as zero.
  in.struct_size = offsetof(udal_buffer_desc_t, size) + sizeof(in.size);
  in.kind = UDAL_BUFFER_KIND_HOST;
  EXPECT_EQ(udal::sdk::read_desc("udal_buffer_create", "desc", &in, &out), UDAL_SUCCESS);
  EXPECT_EQ(out.size, 4096u);
  EXPECT_EQ(out.kind, udal_buffer_kind_t{});
}

TEST(SdkStructs, ReadOptionalDescTakesNullAsTheDefaults) {
  udal_stream_desc_t out = UDAL_STREAM_DESC_INIT;
  out.flags = 7;
  EXPECT_EQ(udal::sdk::read_optional_desc("udal_stream_create", "desc",
                                          static_cast<const udal_stream_desc_t*>(nullptr), &out),
            UDAL_SUCCESS);
  EXPECT_EQ(out.type, UDAL_STRUCTURE_TYPE_STREAM_DESC);
  EXPECT_EQ(out.struct_size, sizeof(udal_stream_desc_t));
  EXPECT_EQ(out.flags, 0u);
  udal_event_desc_t wrong = UDAL_EVENT_DESC_INIT;
  EXPECT_EQ(udal::sdk::read_optional_desc("udal_stream_create", "desc",
                                          reinterpret_cast<const udal_stream_desc_t*>(&wrong),
                                          &out),
            UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("not UDAL_STRUCTURE_TYPE_STREAM_DESC"), std::string::npos) << message();
}

struct VendorExtension {
  udal_structure_type_t type;
  uint32_t struct_size;
  const void* next;
  uint64_t payload;
};

TEST(SdkStructs, CheckChainRefusesEveryTypeTheDriverDoesNotKnow) {
  EXPECT_EQ(udal::sdk::check_chain("f", "desc", nullptr), UDAL_SUCCESS);
  const auto vendor = static_cast<udal_structure_type_t>(0x10001);
  VendorExtension second = {vendor, sizeof(VendorExtension), nullptr, 0};
  VendorExtension first = {static_cast<udal_structure_type_t>(0x10002), sizeof(VendorExtension),
                           &second, 0};
  EXPECT_EQ(udal::sdk::check_chain("udal_buffer_create", "desc", &first),
            UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("udal_buffer_create: desc->next"), std::string::npos) << message();
  EXPECT_NE(message().find("0x10002"), std::string::npos) << message();
  EXPECT_NE(message().find("link 0"), std::string::npos) << message();
  // A driver that knows the first type is stopped at the second.
  EXPECT_EQ(udal::sdk::check_chain("f", "desc", &first, {static_cast<udal_structure_type_t>(0x10002)}),
            UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("0x10001"), std::string::npos) << message();
  EXPECT_NE(message().find("link 1"), std::string::npos) << message();
  EXPECT_EQ(udal::sdk::check_chain("f", "desc", &first,
                                   {static_cast<udal_structure_type_t>(0x10002), vendor}),
            UDAL_SUCCESS);
  // A core type chained on a struct is refused too (libudal refuses it first).
  udal_event_desc_t core = UDAL_EVENT_DESC_INIT;
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.next = &core;
  EXPECT_EQ(udal::sdk::check_struct("udal_buffer_create", "desc", &desc), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("UDAL_STRUCTURE_TYPE_EVENT_DESC"), std::string::npos) << message();
}

TEST(SdkStructs, CheckChainStopsAtACycle) {
  const auto vendor = static_cast<udal_structure_type_t>(0x10001);
  VendorExtension a = {vendor, sizeof(VendorExtension), nullptr, 0};
  VendorExtension b = {vendor, sizeof(VendorExtension), &a, 0};
  a.next = &b;
  EXPECT_EQ(udal::sdk::check_chain("f", "desc", &a, {vendor}), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("more than 64 links"), std::string::npos) << message();
}

// ---- negotiation ---------------------------------------------------------------------

udal_result_t dummy_create(const udal_driver_table_t*, const udal_driver_create_desc_t*,
                           udal_driver_t*) {
  return UDAL_SUCCESS;
}
udal_result_t dummy_synchronize(udal_stream_t, uint64_t) { return UDAL_SUCCESS; }

udal_driver_table_t full_table() {
  udal_driver_table_t t = {};
  t.type = UDAL_STRUCTURE_TYPE_DRIVER_TABLE;
  t.struct_size = sizeof(t);
  t.last_error_message = udal::sdk::last_error_message;
  t.driver_create = dummy_create;
  t.stream_synchronize = dummy_synchronize;
  return t;
}

udal_driver_table_t loader_table(uint32_t struct_size) {
  udal_driver_table_t table = {};
  table.type = UDAL_STRUCTURE_TYPE_DRIVER_TABLE;
  table.struct_size = struct_size;
  return table;
}

TEST(SdkNegotiate, FillsTheWholeTableOfAnEqualLoader) {
  udal_driver_table_t table = loader_table(sizeof(udal_driver_table_t));
  ASSERT_EQ(udal::sdk::negotiate(UDAL_ABI_VERSION, &table, full_table(), UDAL_MAKE_VERSION(2, 3)),
            UDAL_SUCCESS);
  EXPECT_EQ(table.type, UDAL_STRUCTURE_TYPE_DRIVER_TABLE);
  EXPECT_EQ(table.abi_version, UDAL_ABI_VERSION);
  EXPECT_EQ(table.driver_version, UDAL_MAKE_VERSION(2, 3));
  EXPECT_EQ(table.driver_create, dummy_create);
  EXPECT_EQ(table.stream_synchronize, dummy_synchronize);
}

TEST(SdkNegotiate, AnOlderLoaderGetsOnlyTheEntriesItKnows) {
  // An older loader's table ends before stream_synchronize.
  udal_driver_table_t table;
  std::memset(&table, 0x5c, sizeof(table));
  table.type = UDAL_STRUCTURE_TYPE_DRIVER_TABLE;
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
  newer.known.type = UDAL_STRUCTURE_TYPE_DRIVER_TABLE;
  newer.known.struct_size = sizeof(newer);
  ASSERT_EQ(udal::sdk::negotiate(UDAL_MAKE_VERSION(1, 7), &newer.known, full_table(), 1),
            UDAL_SUCCESS);
  EXPECT_EQ(newer.known.struct_size, sizeof(newer));
  EXPECT_EQ(newer.known.stream_synchronize, dummy_synchronize);
  for (void* entry : newer.later_entries) EXPECT_EQ(entry, nullptr);
}

TEST(SdkNegotiate, BadLoadersAreRefusedWithAMessage) {
  udal_driver_table_t table = loader_table(sizeof(udal_driver_table_t));
  EXPECT_EQ(udal::sdk::negotiate(UDAL_MAKE_VERSION(2, 0), &table, full_table(), 1),
            UDAL_ERROR_INCOMPATIBLE_DRIVER);
  EXPECT_NE(message().find("2.0"), std::string::npos);
  EXPECT_EQ(table.driver_create, nullptr);
  EXPECT_EQ(udal::sdk::negotiate(UDAL_ABI_VERSION, nullptr, full_table(), 1),
            UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("NULL"), std::string::npos);
  table.type = UDAL_STRUCTURE_TYPE_DRIVER_CREATE_DESC;
  EXPECT_EQ(udal::sdk::negotiate(UDAL_ABI_VERSION, &table, full_table(), 1),
            UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(message().find("table->type is 16"), std::string::npos) << message();
  EXPECT_EQ(table.driver_create, nullptr);
  table = loader_table(offsetof(udal_driver_table_t, driver_version));
  EXPECT_EQ(udal::sdk::negotiate(UDAL_ABI_VERSION, &table, full_table(), 1),
            UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(table.abi_version, 0u);
}

}  // namespace

// ---- the table fill ------------------------------------------------------------------

// A driver that implements a few entries, declared and defined in different translation
// units (sdk_table_entries.cpp defines them): UDAL_SDK_TABLE() takes what it declares.
#include "sdk_table_entries.h"

namespace sdk_test_partial {
udal_driver_table_t table() noexcept { return UDAL_SDK_TABLE(); }
}  // namespace sdk_test_partial

namespace sdk_test_full {
udal_driver_table_t table() noexcept { return UDAL_SDK_FULL_TABLE(); }
}  // namespace sdk_test_full

namespace sdk_test_throwing {
udal_driver_table_t table() noexcept { return UDAL_SDK_GUARDED_FULL_TABLE(); }
}  // namespace sdk_test_throwing

namespace {

TEST(SdkTable, TakesTheEntriesDeclaredInScopeAndLeavesTheOthersNull) {
  const udal_driver_table_t table = sdk_test_partial::table();
  EXPECT_EQ(table.type, UDAL_STRUCTURE_TYPE_DRIVER_TABLE);
  EXPECT_EQ(table.struct_size, sizeof(udal_driver_table_t));
  EXPECT_EQ(table.last_error_message, udal::sdk::last_error_message);
  EXPECT_EQ(table.driver_create, sdk_test_partial::driver_create);
  EXPECT_EQ(table.buffer_create, sdk_test_partial::buffer_create);
  EXPECT_EQ(table.event_signal, sdk_test_partial::event_signal);
  EXPECT_EQ(table.stream_enqueue_host_function, nullptr);
  EXPECT_EQ(table.buffer_destroy, nullptr);
  udal_buffer_t buffer = nullptr;
  EXPECT_EQ(table.buffer_create(nullptr, nullptr, &buffer), UDAL_ERROR_UNSUPPORTED);
  EXPECT_STREQ(table.last_error_message(), "partial: buffer_create");
}

TEST(SdkTable, AFullTableHasEveryEntryOfTheList) {
  const udal_driver_table_t table = sdk_test_full::table();
  std::size_t entries = 0;
#define UDAL_SDK_TEST_COUNT_(name, required, is_public, params, args) \
  EXPECT_NE(table.name, nullptr) << #name;                          \
  ++entries;
  UDAL_DRIVER_ENTRIES(UDAL_SDK_TEST_COUNT_)
#undef UDAL_SDK_TEST_COUNT_
  // Every pointer of the table past last_error_message is an entry of the list.
  EXPECT_EQ(entries, (sizeof(udal_driver_table_t) - offsetof(udal_driver_table_t, driver_create)) /
                         sizeof(void*));
  EXPECT_EQ(table.event_signal(nullptr), UDAL_ERROR_INTERNAL);
  EXPECT_STREQ(table.last_error_message(), "full: event_signal");
}

// Without the guard each call would end the process (an exception through a noexcept C
// function): the guarded table turns it into a result and a message naming the entry.
TEST(SdkTable, AGuardedTableTurnsEveryExceptionIntoAResultWithAMessage) {
  const udal_driver_table_t table = sdk_test_throwing::table();
  std::size_t entries = 0;
#define UDAL_SDK_TEST_COUNT_(name, required, is_public, params, args) \
  EXPECT_NE(table.name, nullptr) << #name;                          \
  ++entries;
  UDAL_DRIVER_ENTRIES(UDAL_SDK_TEST_COUNT_)
#undef UDAL_SDK_TEST_COUNT_
  EXPECT_EQ(entries, (sizeof(udal_driver_table_t) - offsetof(udal_driver_table_t, driver_create)) /
                         sizeof(void*));
  sdk_test_throwing::throw_bad_alloc = true;
  udal_buffer_t buffer = nullptr;
  EXPECT_EQ(table.buffer_create(nullptr, nullptr, &buffer), UDAL_ERROR_OUT_OF_HOST_MEMORY);
  EXPECT_STREQ(table.last_error_message(), "udal_buffer_create: out of host memory");
  EXPECT_EQ(table.stream_synchronize(nullptr, 0), UDAL_ERROR_OUT_OF_HOST_MEMORY);
  EXPECT_STREQ(table.last_error_message(), "udal_stream_synchronize: out of host memory");
  sdk_test_throwing::throw_bad_alloc = false;
  EXPECT_EQ(table.event_signal(nullptr), UDAL_ERROR_INTERNAL);
  EXPECT_NE(std::string(table.last_error_message()).find("thrown by event_signal"),
            std::string::npos)
      << table.last_error_message();
  sdk_test_throwing::throw_bad_alloc = true;
}

}  // namespace
