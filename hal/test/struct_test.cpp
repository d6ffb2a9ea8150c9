// The struct header every caller's struct begins with: libudal checks the type tag, compares
// struct_size with the frozen 1.0 size (never sizeof), walks the next chain (refusing core
// types, passing vendor types to the driver, bounding the walk), refuses non-zero reserved
// fields, and writes outputs only inside the caller's struct_size.
#include "test_support.h"

#include <cstring>
#include <vector>

using namespace udal_test;

namespace {

// A chain link as a caller from the future (core) or a vendor (≥ VENDOR_BEGIN) builds it.
udal_base_in_t link(uint32_t type, const udal_base_in_t* next = nullptr) {
  return {static_cast<udal_structure_type_t>(type), sizeof(udal_base_in_t), next};
}

class StructTest : public ::testing::Test {
protected:
  void SetUp() override {
    instance.create({stub("udal_test_fake")});
    device = instance.device(0);
    ASSERT_NE(device, nullptr);
    desc.size = 64;
  }

  Environment env;
  Instance instance;
  udal_device_t device = nullptr;
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  udal_buffer_t out = nullptr;
};

TEST_F(StructTest, WrongTypeTagIsRefusedNamingBothTypes) {
  desc.type = UDAL_STRUCTURE_TYPE_EVENT_DESC;
  EXPECT_FAILS_WITH(udal_buffer_create(device, &desc, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "udal_buffer_create: desc->type is 7 (UDAL_STRUCTURE_TYPE_EVENT_DESC), not "
                    "UDAL_STRUCTURE_TYPE_BUFFER_DESC");
  desc.type = UDAL_STRUCTURE_TYPE_NONE; // a struct whose type was never set
  EXPECT_FAILS_WITH(udal_buffer_create(device, &desc, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "desc->type is 0 (UDAL_STRUCTURE_TYPE_NONE)");
  desc.type = static_cast<udal_structure_type_t>(-3);
  EXPECT_FAILS_WITH(udal_buffer_create(device, &desc, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "desc->type is -3 (not a udal_structure_type_t)");
  EXPECT_EQ(out, nullptr);

  udal_stream_desc_t stream_desc = UDAL_STREAM_DESC_INIT;
  stream_desc.type = UDAL_STRUCTURE_TYPE_EVENT_DESC;
  udal_stream_t stream = nullptr;
  EXPECT_FAILS_WITH(udal_stream_create(device, &stream_desc, &stream), UDAL_ERROR_INVALID_ARGUMENT,
                    "not UDAL_STRUCTURE_TYPE_STREAM_DESC");
  udal_event_desc_t event_desc = UDAL_EVENT_DESC_INIT;
  event_desc.type = UDAL_STRUCTURE_TYPE_STREAM_DESC;
  udal_event_t event = nullptr;
  EXPECT_FAILS_WITH(udal_event_create(device, &event_desc, &event), UDAL_ERROR_INVALID_ARGUMENT,
                    "not UDAL_STRUCTURE_TYPE_EVENT_DESC");
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  info.type = UDAL_STRUCTURE_TYPE_BUFFER_INFO;
  EXPECT_FAILS_WITH(udal_device_get_info(device, &info), UDAL_ERROR_INVALID_ARGUMENT,
                    "out_info->type is 6 (UDAL_STRUCTURE_TYPE_BUFFER_INFO), not "
                    "UDAL_STRUCTURE_TYPE_DEVICE_INFO");
  udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
  status.type = UDAL_STRUCTURE_TYPE_DEVICE_INFO;
  EXPECT_FAILS_WITH(udal_instance_get_driver_status(instance.get(), 0, &status),
                    UDAL_ERROR_INVALID_ARGUMENT, "not UDAL_STRUCTURE_TYPE_DRIVER_STATUS");
  udal_instance_desc_t instance_desc = UDAL_INSTANCE_DESC_INIT;
  instance_desc.type = UDAL_STRUCTURE_TYPE_DRIVER_STATUS;
  udal_instance_t other = nullptr;
  EXPECT_FAILS_WITH(udal_instance_create(&instance_desc, &other), UDAL_ERROR_INVALID_ARGUMENT,
                    "not UDAL_STRUCTURE_TYPE_INSTANCE_DESC");
}

TEST_F(StructTest, StructSizeBelowTheFrozenOneZeroSizeIsRefused) {
  desc.struct_size = 40;
  EXPECT_FAILS_WITH(udal_buffer_create(device, &desc, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "desc->struct_size 40 is smaller than udal_buffer_desc_t of UDAL 1.0 (48 "
                    "bytes)");
  udal_driver_status_t status = UDAL_DRIVER_STATUS_INIT;
  status.struct_size = 64;
  EXPECT_FAILS_WITH(udal_instance_get_driver_status(instance.get(), 0, &status),
                    UDAL_ERROR_INVALID_ARGUMENT, "out_status->struct_size 64");
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  info.struct_size = 863;
  EXPECT_FAILS_WITH(udal_device_get_info(device, &info), UDAL_ERROR_INVALID_ARGUMENT,
                    "(864 bytes)");
}

TEST_F(StructTest, LargerStructSizeFromANewerCallerIsAccepted) {
  // A caller built against a later 1.x header: its struct is longer; the tail is the
  // caller's and libudal must not touch it.
  struct Newer {
    udal_buffer_desc_t v1_0;
    uint64_t appended;
  } newer{UDAL_BUFFER_DESC_INIT, 0};
  newer.v1_0.struct_size = sizeof(newer);
  newer.v1_0.size = 64;
  ASSERT_EQ(udal_buffer_create(device, &newer.v1_0, &out), UDAL_SUCCESS)
      << udal_last_error_message();
  EXPECT_EQ(udal_buffer_destroy(out), UDAL_SUCCESS);
}

TEST_F(StructTest, OutputsAreWrittenOnlyInsideStructSize) {
  // A device info 32 bytes longer than this libudal knows: libudal clears and fills its own
  // 864 bytes and leaves the rest exactly as it was.
  std::vector<unsigned char> bytes(sizeof(udal_device_info_t) + 32, 0xab);
  udal_device_info_t head = UDAL_DEVICE_INFO_INIT;
  head.struct_size = static_cast<uint32_t>(bytes.size());
  std::memcpy(bytes.data(), &head, 16);
  auto* info = reinterpret_cast<udal_device_info_t*>(bytes.data());
  ASSERT_EQ(udal_device_get_info(device, info), UDAL_SUCCESS) << udal_last_error_message();
  EXPECT_STREQ(info->name, "fake device 0");
  EXPECT_EQ(info->pci_bus_id[0], '\0');
  for (size_t i = sizeof(udal_device_info_t); i < bytes.size(); ++i)
    ASSERT_EQ(bytes[i], 0xab) << "byte " << i << " is past what libudal knows";

  std::vector<unsigned char> status_bytes(sizeof(udal_driver_status_t) + 16, 0xcd);
  udal_driver_status_t status_head = UDAL_DRIVER_STATUS_INIT;
  status_head.struct_size = static_cast<uint32_t>(status_bytes.size());
  std::memcpy(status_bytes.data(), &status_head, 16);
  auto* status = reinterpret_cast<udal_driver_status_t*>(status_bytes.data());
  ASSERT_EQ(udal_instance_get_driver_status(instance.get(), 0, status), UDAL_SUCCESS)
      << udal_last_error_message();
  EXPECT_EQ(status->state, UDAL_DRIVER_STATE_LOADED);
  EXPECT_EQ(status->reserved0, 0u) << "reserved output fields are written as zero";
  EXPECT_EQ(status->type, UDAL_STRUCTURE_TYPE_DRIVER_STATUS) << "the header is the caller's";
  EXPECT_EQ(status->struct_size, status_bytes.size());
  for (size_t i = sizeof(udal_driver_status_t); i < status_bytes.size(); ++i)
    ASSERT_EQ(status_bytes[i], 0xcd) << "byte " << i << " is past what libudal knows";
}

TEST_F(StructTest, ChainedCoreTypeIsRefusedNamingTheTypeAndTheStruct) {
  // 1.0 defines no core extension structs: a core type on a chain is one this libudal
  // does not know (e.g. from a later minor version) and must not be ignored.
  udal_base_in_t second = link(UDAL_STRUCTURE_TYPE_EVENT_DESC);
  udal_base_in_t first = link(kFakeExtension, &second);
  desc.next = &first;
  EXPECT_FAILS_WITH(udal_buffer_create(device, &desc, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "udal_buffer_create: desc->next chain link 1 has type 7 "
                    "(UDAL_STRUCTURE_TYPE_EVENT_DESC), which is not an extension of "
                    "udal_buffer_desc_t");
  EXPECT_EQ(out, nullptr);
  udal_base_in_t future = link(UDAL_STRUCTURE_TYPE_LAYER_STATUS + 1);
  desc.next = &future;
  EXPECT_FAILS_WITH(udal_buffer_create(device, &desc, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "link 0 has type 18 (not a udal_structure_type_t)");

  // The same on an output struct and on the instance's own structs.
  udal_base_out_t out_link = {UDAL_STRUCTURE_TYPE_MEMORY_USAGE, sizeof(udal_base_out_t), nullptr};
  udal_memory_usage_t usage = UDAL_MEMORY_USAGE_INIT;
  usage.next = &out_link;
  out_link.type = UDAL_STRUCTURE_TYPE_KERNEL_INFO;
  EXPECT_FAILS_WITH(udal_device_get_memory_usage(device, &usage), UDAL_ERROR_INVALID_ARGUMENT,
                    "out_usage->next chain link 0 has type 11 (UDAL_STRUCTURE_TYPE_KERNEL_INFO), "
                    "which is not an extension of udal_memory_usage_t");
  udal_instance_desc_t instance_desc = UDAL_INSTANCE_DESC_INIT;
  udal_base_in_t status_link = link(UDAL_STRUCTURE_TYPE_DRIVER_STATUS);
  instance_desc.next = &status_link;
  udal_instance_t other = nullptr;
  EXPECT_FAILS_WITH(udal_instance_create(&instance_desc, &other), UDAL_ERROR_INVALID_ARGUMENT,
                    "udal_instance_desc_t");
  EXPECT_EQ(other, nullptr);
}

TEST_F(StructTest, VendorTypesArePassedToTheDriver) {
  // The fake knows kFakeExtension: accepted. Another vendor type reaches the driver too,
  // which refuses it with its own message (libudal did not refuse it itself).
  udal_base_in_t known = link(kFakeExtension);
  desc.next = &known;
  ASSERT_EQ(udal_buffer_create(device, &desc, &out), UDAL_SUCCESS) << udal_last_error_message();
  EXPECT_EQ(udal_buffer_destroy(out), UDAL_SUCCESS);
  udal_base_in_t unknown = link(UDAL_STRUCTURE_TYPE_VENDOR_BEGIN + 7, &known);
  desc.next = &unknown;
  out = nullptr;
  EXPECT_FAILS_WITH(udal_buffer_create(device, &desc, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "udal_buffer_create: the fake driver does not know struct type 0x10007 "
                    "chained on udal_buffer_desc_t");
  EXPECT_EQ(out, nullptr);

  udal_base_out_t out_known = {kFakeExtension, sizeof(udal_base_out_t), nullptr};
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  info.next = &out_known;
  EXPECT_EQ(udal_device_get_info(device, &info), UDAL_SUCCESS) << udal_last_error_message();
}

TEST_F(StructTest, ChainCycleIsRefused) {
  udal_base_in_t a = link(kFakeExtension);
  udal_base_in_t b = link(kFakeExtension, &a);
  a.next = &b;
  desc.next = &a;
  EXPECT_FAILS_WITH(udal_buffer_create(device, &desc, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "desc->next chain has a cycle: link 2");
  a.next = &a;
  EXPECT_FAILS_WITH(udal_buffer_create(device, &desc, &out), UDAL_ERROR_INVALID_ARGUMENT, "cycle");
  EXPECT_EQ(out, nullptr);
}

TEST_F(StructTest, ChainLongerThan64LinksIsRefused) {
  std::vector<udal_base_in_t> links(65, link(kFakeExtension));
  for (size_t i = 0; i + 1 < links.size(); ++i)
    links[i].next = &links[i + 1];
  desc.next = links.data();
  EXPECT_FAILS_WITH(udal_buffer_create(device, &desc, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "desc->next chain is longer than 64 links");
  links[63].next = nullptr; // 64 links: the limit itself is fine
  ASSERT_EQ(udal_buffer_create(device, &desc, &out), UDAL_SUCCESS) << udal_last_error_message();
  EXPECT_EQ(udal_buffer_destroy(out), UDAL_SUCCESS);
}

TEST_F(StructTest, NonZeroReservedFieldsAreRefusedNamingTheField) {
  desc.reserved0 = 2;
  EXPECT_FAILS_WITH(udal_buffer_create(device, &desc, &out), UDAL_ERROR_INVALID_ARGUMENT,
                    "udal_buffer_create: desc->reserved0 is 0x2; reserved fields must be 0");
  EXPECT_EQ(out, nullptr);

  unsigned char bytes[8] = {0x7f, 'E', 'L', 'F'};
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  image.data = bytes;
  image.size = sizeof(bytes);
  image.reserved0 = 9;
  udal_module_desc_t module_desc = UDAL_MODULE_DESC_INIT;
  module_desc.images = &image;
  module_desc.image_count = 1;
  udal_module_t module = nullptr;
  EXPECT_FAILS_WITH(udal_module_create(device, &module_desc, &module), UDAL_ERROR_INVALID_ARGUMENT,
                    "desc->images[0].reserved0 is 0x9");

  udal_instance_desc_t instance_desc = UDAL_INSTANCE_DESC_INIT;
  instance_desc.reserved0 = 1;
  udal_instance_t other = nullptr;
  EXPECT_FAILS_WITH(udal_instance_create(&instance_desc, &other), UDAL_ERROR_INVALID_ARGUMENT,
                    "desc->reserved0 is 0x1");
  EXPECT_EQ(other, nullptr);
}

TEST_F(StructTest, ModuleImagesAndSpecializationConstantsAreChecked) {
  unsigned char bytes[8] = {0x7f, 'E', 'L', 'F'};
  udal_module_image_t images[2] = {UDAL_MODULE_IMAGE_INIT, UDAL_MODULE_IMAGE_INIT};
  for (udal_module_image_t& image : images) {
    image.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
    image.data = bytes;
    image.size = sizeof(bytes);
  }
  udal_module_desc_t module_desc = UDAL_MODULE_DESC_INIT;
  module_desc.images = images;
  module_desc.image_count = 2;
  udal_module_t module = nullptr;
  images[1].type = UDAL_STRUCTURE_TYPE_MODULE_DESC;
  EXPECT_FAILS_WITH(udal_module_create(device, &module_desc, &module), UDAL_ERROR_INVALID_ARGUMENT,
                    "desc->images[1].type is 9 (UDAL_STRUCTURE_TYPE_MODULE_DESC), not "
                    "UDAL_STRUCTURE_TYPE_MODULE_IMAGE");
  images[1].type = UDAL_STRUCTURE_TYPE_MODULE_IMAGE;
  udal_base_in_t core = link(UDAL_STRUCTURE_TYPE_LAUNCH_DESC);
  images[1].next = &core;
  EXPECT_FAILS_WITH(
      udal_module_create(device, &module_desc, &module), UDAL_ERROR_INVALID_ARGUMENT,
      "desc->images[1].next chain link 0 has type 13 (UDAL_STRUCTURE_TYPE_LAUNCH_DESC)");
  images[1].next = nullptr;

  uint32_t value = 1;
  udal_specialization_constant_t constants[2] = {{0, 4, &value}, {1, 3, &value}};
  module_desc.specialization_constants = constants;
  module_desc.specialization_constant_count = 2;
  EXPECT_FAILS_WITH(udal_module_create(device, &module_desc, &module), UDAL_ERROR_INVALID_ARGUMENT,
                    "desc->specialization_constants[1].size 3 is not 1, 2, 4 or 8");
  constants[1] = {1, 4, nullptr};
  EXPECT_FAILS_WITH(udal_module_create(device, &module_desc, &module), UDAL_ERROR_INVALID_ARGUMENT,
                    "desc->specialization_constants[1].value is NULL");
  module_desc.specialization_constants = nullptr;
  EXPECT_FAILS_WITH(udal_module_create(device, &module_desc, &module), UDAL_ERROR_INVALID_ARGUMENT,
                    "desc->specialization_constants is NULL");
  EXPECT_EQ(module, nullptr);
}

} // namespace
