// The SDK's checks (udal/sdk/checks.h) and sub-allocator (udal/sdk/suballocator.h): ranges
// that overflow, copies that overlap, fill patterns, and launches against every limit.
#include "udal/sdk/checks.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "udal/sdk/structs.h"
#include "udal/sdk/suballocator.h"

namespace {

using udal::sdk::ArgDeclaration;
using udal::sdk::BufferView;
using udal::sdk::KernelSignature;

std::string message() { return udal::sdk::last_error_message(); }

bool message_has(const std::string& text) { return message().find(text) != std::string::npos; }

// ==========================================================================================
// Ranges
// ==========================================================================================

TEST(Checks, RangesNearUint64MaxAreRefusedNotWrapped) {
  EXPECT_TRUE(udal::sdk::range_fits(4096, 0, 4096));
  EXPECT_TRUE(udal::sdk::range_fits(4096, 4096, 0));
  EXPECT_FALSE(udal::sdk::range_fits(4096, 4095, 2));
  EXPECT_FALSE(udal::sdk::range_fits(4096, 4097, 0));
  EXPECT_FALSE(udal::sdk::range_fits(4096, 1, UINT64_MAX));  // offset + size wraps to 0
  EXPECT_FALSE(udal::sdk::range_fits(4096, UINT64_MAX, 2));

  const int buffer = 0;
  EXPECT_EQ(udal::sdk::check_range("f", "read", &buffer, 4096, 4000, 96), UDAL_SUCCESS);
  EXPECT_EQ(udal::sdk::check_range("f", "read", &buffer, 4096, 4000, 97), UDAL_ERROR_OUT_OF_RANGE);
  EXPECT_TRUE(message_has("f: read of 97 bytes at offset 4000 runs past the end of buffer"));
  EXPECT_TRUE(message_has("(4096 bytes)"));
  EXPECT_EQ(udal::sdk::check_range("f", "fill", &buffer, 4096, UINT64_MAX, UINT64_MAX),
            UDAL_ERROR_OUT_OF_RANGE);

  uint64_t out = 0;
  EXPECT_TRUE(udal::sdk::align_up(5, 4, out));
  EXPECT_EQ(out, 8u);
  EXPECT_TRUE(udal::sdk::align_up(8, 0, out));
  EXPECT_EQ(out, 8u);
  EXPECT_FALSE(udal::sdk::align_up(UINT64_MAX - 2, 4, out));
  EXPECT_TRUE(udal::sdk::is_aligned(256, 64));
  EXPECT_FALSE(udal::sdk::is_aligned(260, 64));
  EXPECT_TRUE(udal::sdk::is_aligned(3, 0));
  EXPECT_TRUE(udal::sdk::is_power_of_two_or_zero(0));
  EXPECT_FALSE(udal::sdk::is_power_of_two_or_zero(12));
}

TEST(Checks, CopiesCheckBothEndsAndOverlapWithinOneBuffer) {
  const int a = 0, b = 0;
  EXPECT_EQ(udal::sdk::check_copy("c", &a, 100, 0, &b, 100, 0, 100), UDAL_SUCCESS);
  EXPECT_EQ(udal::sdk::check_copy("c", &a, 100, 1, &b, 100, 0, 100), UDAL_ERROR_OUT_OF_RANGE);
  EXPECT_TRUE(message_has("at source offset 1"));
  EXPECT_EQ(udal::sdk::check_copy("c", &a, 100, 0, &b, 100, UINT64_MAX, 100),
            UDAL_ERROR_OUT_OF_RANGE);
  EXPECT_TRUE(message_has("at destination offset 18446744073709551615"));
  EXPECT_EQ(udal::sdk::check_copy("c", &a, 100, 0, &a, 100, 50, 50), UDAL_SUCCESS);
  EXPECT_EQ(udal::sdk::check_copy("c", &a, 100, 0, &a, 100, 49, 50), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_has("source [0, 50) and destination [49, 99) overlap"));
  EXPECT_EQ(udal::sdk::check_copy("c", &a, 100, 10, &a, 100, 0, 11), UDAL_ERROR_INVALID_ARGUMENT);
}

TEST(Checks, FillPatternsAreOneToSixteenBytesInPowersOfTwo) {
  const uint8_t pattern[16] = {};
  for (uint32_t size : {1u, 2u, 4u, 8u, 16u}) {
    EXPECT_EQ(udal::sdk::check_fill_pattern("f", pattern, size), UDAL_SUCCESS) << size;
  }
  for (uint32_t size : {0u, 3u, 12u, 32u, UINT32_MAX}) {
    EXPECT_EQ(udal::sdk::check_fill_pattern("f", pattern, size), UDAL_ERROR_INVALID_ARGUMENT)
        << size;
  }
  EXPECT_EQ(udal::sdk::check_fill_pattern("f", nullptr, 4), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_has("pattern is NULL"));
}

TEST(Names, EveryValueTheAbiNamesHasItsNameAndOthersTheFallback) {
  EXPECT_STREQ(udal::sdk::module_format_name(UDAL_MODULE_FORMAT_SPIRV_KERNEL), "SPIRV_KERNEL");
  EXPECT_STREQ(udal::sdk::module_format_name(static_cast<udal_module_format_t>(0x10000)),
               "VENDOR");
  EXPECT_STREQ(udal::sdk::module_format_name(static_cast<udal_module_format_t>(0x10000), "?"), "?");
  EXPECT_STREQ(udal::sdk::access_name(UDAL_ARG_ACCESS_READ_WRITE), "READ_WRITE");
  EXPECT_STREQ(udal::sdk::access_name(9), "UNKNOWN");
}

// ==========================================================================================
// Launches
// ==========================================================================================

class LaunchCheck : public ::testing::Test {
 protected:
  LaunchCheck() {
    info = udal::sdk::make_struct<udal_device_info_t>();
    info.max_group_size[0] = 64;
    info.max_group_size[1] = 8;
    info.max_group_size[2] = 4;
    info.max_group_count[0] = 1000;
    info.max_group_count[1] = 100;
    info.max_group_count[2] = 10;
    info.max_group_invocations = 128;
    info.max_local_memory_bytes = 1024;
    info.max_kernel_arguments = 4;
    info.max_value_argument_bytes = 16;
    info.buffer_argument_offset_alignment = 256;
    desc = udal::sdk::make_struct<udal_launch_desc_t>();
    for (int axis = 0; axis < 3; ++axis) desc.group_count[axis] = desc.group_size[axis] = 1;
    buffer_arg.kind = UDAL_ARG_KIND_BUFFER;
    buffer_arg.buffer = reinterpret_cast<udal_buffer_t>(&buffer_object);
    buffer_arg.access = UDAL_ARG_ACCESS_READ_WRITE;
    value_arg.kind = UDAL_ARG_KIND_VALUE;
    value_arg.value = &value;
    value_arg.value_size = sizeof(value);
    signature.name = "k";
  }

  udal_result_t check(udal::sdk::LaunchSummary* summary = nullptr) {
    desc.args = args.data();
    desc.arg_count = static_cast<uint32_t>(args.size());
    auto resolve = [this](uint32_t, udal_buffer_t handle, BufferView& view) -> udal_result_t {
      ++resolved;
      if (handle != reinterpret_cast<udal_buffer_t>(&buffer_object)) {
        return udal::sdk::fail(UDAL_ERROR_INVALID_HANDLE, "foreign buffer");
      }
      view = {&buffer_object, 4096};
      return UDAL_SUCCESS;
    };
    return udal::sdk::check_launch("udal_stream_launch", info, signature, desc, resolve, summary);
  }

  udal_device_info_t info;
  udal_launch_desc_t desc;
  KernelSignature signature;
  int buffer_object = 0;
  uint64_t value = 0;
  udal_kernel_arg_t buffer_arg{};
  udal_kernel_arg_t value_arg{};
  std::vector<udal_kernel_arg_t> args;
  int resolved = 0;
};

TEST_F(LaunchCheck, GroupsWithinEveryLimitPass) {
  desc.group_size[0] = 64;
  desc.group_size[1] = 2;
  desc.group_count[0] = 1000;
  desc.group_count[1] = 100;
  desc.group_count[2] = 10;
  desc.local_memory_bytes = 1024;
  args = {buffer_arg, value_arg};
  udal::sdk::LaunchSummary summary;
  EXPECT_EQ(check(&summary), UDAL_SUCCESS) << message();
  EXPECT_EQ(summary.value_bytes, 8u);
  EXPECT_EQ(summary.buffer_count, 1u);
  EXPECT_EQ(resolved, 1);
}

TEST_F(LaunchCheck, EachAxisIsHeldToItsGroupSizeAndCount) {
  for (int axis = 0; axis < 3; ++axis) {
    SCOPED_TRACE(axis);
    desc.group_size[axis] = info.max_group_size[axis] + 1;
    EXPECT_EQ(check(), UDAL_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(message_has("max_group_size[" + std::to_string(axis) + "]")) << message();
    desc.group_size[axis] = 1;
    desc.group_count[axis] = info.max_group_count[axis] + 1;
    EXPECT_EQ(check(), UDAL_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(message_has("max_group_count[" + std::to_string(axis) + "]")) << message();
    desc.group_count[axis] = 0;
    EXPECT_EQ(check(), UDAL_ERROR_INVALID_ARGUMENT);
    EXPECT_TRUE(message_has("is 0")) << message();
    desc.group_count[axis] = 1;
  }
  // Each axis within its own limit, the group over the total.
  desc.group_size[0] = 64;
  desc.group_size[1] = 4;
  EXPECT_EQ(check(), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_has("64x4x1 = 256 work-items is over max_group_invocations 128"))
      << message();
  // The largest sizes the type holds do not wrap the product.
  info.max_group_size[0] = info.max_group_size[1] = info.max_group_size[2] = UINT32_MAX;
  desc.group_size[0] = desc.group_size[1] = desc.group_size[2] = UINT32_MAX;
  EXPECT_EQ(check(), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_has("max_group_invocations")) << message();
}

TEST_F(LaunchCheck, LocalMemoryAndReservedFieldsAreChecked) {
  desc.local_memory_bytes = 1025;
  EXPECT_EQ(check(), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_has("max_local_memory_bytes 1024")) << message();
  desc.local_memory_bytes = 0;
  signature.uses_local_memory = true;
  EXPECT_EQ(check(), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_has("uses dynamic local memory")) << message();
  signature.uses_local_memory = false;
  desc.reserved0 = 1;
  EXPECT_EQ(check(), UDAL_ERROR_INVALID_ARGUMENT);
  desc.reserved0 = 0;
  value_arg.reserved1[2] = 1;
  args = {value_arg};
  EXPECT_EQ(check(), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_has("non-zero reserved fields")) << message();
}

TEST_F(LaunchCheck, ArgumentCountsAndValueBytesAreHeldToTheLimits) {
  args = {value_arg, value_arg, value_arg};  // 24 value bytes, over 16
  EXPECT_EQ(check(), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_has("the value arguments take 24 bytes, over max_value_argument_bytes 16"))
      << message();
  args = {buffer_arg, buffer_arg, buffer_arg, buffer_arg, buffer_arg};
  EXPECT_EQ(check(), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_has("arg_count 5 is over max_kernel_arguments 4")) << message();
  EXPECT_EQ(resolved, 0);  // refused before any argument was looked at
  signature.argument_count = 2;
  args = {buffer_arg};
  EXPECT_EQ(check(), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_has("the launch passes 1 arguments but kernel 'k' takes 2")) << message();
  desc.arg_count = 1;
  desc.args = nullptr;
  signature.argument_count = UDAL_ARGUMENT_COUNT_UNKNOWN;
  auto resolve = [](uint32_t, udal_buffer_t, BufferView&) { return UDAL_SUCCESS; };
  EXPECT_EQ(udal::sdk::check_launch("f", info, signature, desc, resolve),
            UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_has("args is NULL with arg_count 1")) << message();
}

TEST_F(LaunchCheck, BufferArgumentsAreResolvedAndTheirOffsetsChecked) {
  buffer_arg.offset = 4096;
  args = {buffer_arg};
  EXPECT_EQ(check(), UDAL_ERROR_OUT_OF_RANGE);
  EXPECT_TRUE(message_has("args[0] offset 4096 is past the end of buffer")) << message();
  buffer_arg.offset = 100;
  args = {buffer_arg};
  EXPECT_EQ(check(), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_has("buffer_argument_offset_alignment 256")) << message();
  buffer_arg.offset = 0;
  int other = 0;
  udal_kernel_arg_t foreign = buffer_arg;
  foreign.buffer = reinterpret_cast<udal_buffer_t>(&other);
  args = {buffer_arg, foreign};
  EXPECT_EQ(check(), UDAL_ERROR_INVALID_HANDLE);
  EXPECT_EQ(message(), "foreign buffer");  // the resolver's own message
  udal_kernel_arg_t null_buffer = buffer_arg;
  null_buffer.buffer = nullptr;
  args = {null_buffer};
  EXPECT_EQ(check(), UDAL_ERROR_INVALID_HANDLE);
  udal_kernel_arg_t no_access = buffer_arg;
  no_access.access = UDAL_ARG_ACCESS_NONE;
  args = {no_access};
  EXPECT_EQ(check(), UDAL_ERROR_INVALID_ARGUMENT);
  udal_kernel_arg_t bad_kind = buffer_arg;
  bad_kind.kind = static_cast<udal_arg_kind_t>(7);
  args = {bad_kind};
  EXPECT_EQ(check(), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_has("args[0].kind 7 is not BUFFER or VALUE")) << message();
}

TEST_F(LaunchCheck, ArgumentsMustMatchWhatTheKernelDeclares) {
  const ArgDeclaration declared[2] = {{UDAL_ARG_KIND_BUFFER, UDAL_ARG_ACCESS_READ_WRITE, 0},
                                      {UDAL_ARG_KIND_VALUE, UDAL_ARG_ACCESS_NONE, 8}};
  signature.declared = true;
  signature.args = declared;
  signature.argument_count = 2;
  args = {buffer_arg, value_arg};
  EXPECT_EQ(check(), UDAL_SUCCESS) << message();
  args = {value_arg, buffer_arg};
  EXPECT_EQ(check(), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_has("arguments out of order?")) << message();
  udal_kernel_arg_t short_value = value_arg;
  short_value.value_size = 4;
  args = {buffer_arg, short_value};
  EXPECT_EQ(check(), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_has("a VALUE of 4 bytes but kernel 'k' declares argument 1 a VALUE of 8"))
      << message();
  udal_kernel_arg_t read_only = buffer_arg;
  read_only.access = UDAL_ARG_ACCESS_READ;
  args = {read_only, value_arg};
  EXPECT_EQ(check(), UDAL_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(message_has("the kernel writes a buffer the caller said it only reads")) << message();
}

// ==========================================================================================
// Sub-allocator
// ==========================================================================================

TEST(RangeAllocator, AllocationsAreAlignedDisjointAndCoalesceWhenFreed) {
  udal::sdk::RangeAllocator block(1024);
  auto a = block.allocate(100, 1);
  auto b = block.allocate(100, 256);
  auto c = block.allocate(10, 64);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->start, 0u);
  EXPECT_EQ(b->start, 256u);
  EXPECT_EQ(b->offset, 100u);  // the padding belongs to the allocation
  EXPECT_EQ(c->start % 64, 0u);
  EXPECT_GE(c->start, b->start + 100);
  EXPECT_EQ(block.used(), a->size + b->size + c->size);
  block.free(*b);
  EXPECT_EQ(block.free_range_count(), 2u);  // [100, 356) and the tail after c
  block.free(*a);
  EXPECT_EQ(block.free_range_count(), 2u);  // [0, 356) merged
  block.free(*c);
  EXPECT_EQ(block.free_range_count(), 1u);
  EXPECT_EQ(block.used(), 0u);
  EXPECT_EQ(block.largest_free(), 1024u);
}

TEST(RangeAllocator, ImpossibleRequestsAreRefusedWithoutChangingAnything) {
  udal::sdk::RangeAllocator block(1024);
  EXPECT_FALSE(block.allocate(0, 1));
  EXPECT_FALSE(block.allocate(1025, 1));
  EXPECT_FALSE(block.allocate(UINT64_MAX, 1));
  EXPECT_FALSE(block.allocate(16, 3));  // not a power of two
  auto all = block.allocate(1024, 0);
  ASSERT_TRUE(all);
  EXPECT_FALSE(block.allocate(1, 1));
  block.free(*all);
  block.free(*all);  // a second free of the same range is ignored
  EXPECT_EQ(block.used(), 0u);
  EXPECT_EQ(block.largest_free(), 1024u);
}

TEST(RangeAllocator, AlignmentIsOfTheBaseAddressPlusTheOffset) {
  udal::sdk::RangeAllocator block(4096, /*base=*/0x1010);
  auto range = block.allocate(64, 256);
  ASSERT_TRUE(range);
  EXPECT_EQ((0x1010 + range->start) % 256, 0u);
  EXPECT_EQ(range->start, 0xf0u);
}

TEST(RangeAllocator, AFullBlockFillsAndEmptiesInAnyOrder) {
  udal::sdk::RangeAllocator block(64 * 100);
  std::vector<udal::sdk::Range> ranges;
  while (auto range = block.allocate(64, 64)) ranges.push_back(*range);
  ASSERT_EQ(ranges.size(), 100u);
  for (std::size_t i = 0; i < ranges.size(); i += 2) block.free(ranges[i]);
  EXPECT_EQ(block.free_range_count(), 50u);
  EXPECT_EQ(block.largest_free(), 64u);
  EXPECT_FALSE(block.allocate(128, 1));
  for (std::size_t i = 1; i < ranges.size(); i += 2) block.free(ranges[i]);
  EXPECT_EQ(block.free_range_count(), 1u);
  EXPECT_EQ(block.used(), 0u);
}

}  // namespace
