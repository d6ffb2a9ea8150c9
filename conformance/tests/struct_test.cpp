// The struct header of ABI 1.0: a struct's type must be its own, and an extension chained on
// `next` is never ignored. 1.0 defines no core extension struct, so any chained core type is
// refused by libudal; a type of the vendor range reaches the driver, which refuses those it
// does not know (and says so in its own message). Chains that loop are refused too.
#include "cts.h"

#include <fmt/format.h>

namespace cts {
namespace {

using StructTest = DeviceTest;

// An extension struct of a vendor the driver under test does not know.
struct VendorExtension {
  udal_structure_type_t type;
  uint32_t struct_size;
  const void* next;
  uint64_t payload;
};

constexpr udal_structure_type_t kVendorType = static_cast<udal_structure_type_t>(0x7ffe0001);

VendorExtension MakeVendorExtension(const void* next = nullptr) {
  return {kVendorType, static_cast<uint32_t>(sizeof(VendorExtension)), next, 42};
}

// A core struct chained where 1.0 defines no extension.
udal_event_desc_t CoreExtension() { return UDAL_EVENT_DESC_INIT; }

TEST_P(StructTest, ChainedCoreStructIsRefusedNamingIt) {
  udal_event_desc_t chained = CoreExtension();
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = 64;
  desc.next = &chained;
  udal_buffer_t buffer = Poison<udal_buffer_t>();
  udal_result_t result = udal_buffer_create(device(), &desc, &buffer);
  std::string message = result == UDAL_SUCCESS ? "" : udal_last_error_message();
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, result);
  EXPECT_EQ(nullptr, buffer);
  EXPECT_TRUE(message.find("EVENT_DESC") != std::string::npos || message.find(" 7") != std::string::npos)
      << "the message should name the chained type (7, UDAL_STRUCTURE_TYPE_EVENT_DESC): " << message;
}

TEST_P(StructTest, ChainedVendorStructIsRefusedByEveryCreateFunction) {
  VendorExtension vendor = MakeVendorExtension();
  {
    udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
    desc.size = 64;
    desc.next = &vendor;
    udal_buffer_t out = Poison<udal_buffer_t>();
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_create(device(), &desc, &out)) << "buffer desc";
    EXPECT_EQ(nullptr, out);
  }
  {
    udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
    desc.next = &vendor;
    udal_event_t out = Poison<udal_event_t>();
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_event_create(device(), &desc, &out)) << "event desc";
    EXPECT_EQ(nullptr, out);
  }
  {
    udal_stream_desc_t desc = UDAL_STREAM_DESC_INIT;
    desc.next = &vendor;
    udal_stream_t out = Poison<udal_stream_t>();
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_create(device(), &desc, &out)) << "stream desc";
    EXPECT_EQ(nullptr, out);
  }
  {
    KernelImages images = LoadKernelImages("fill_index");
    ASSERT_FALSE(images.images.empty());
    udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
    desc.images = images.images.data();
    desc.image_count = static_cast<uint32_t>(images.images.size());
    desc.next = &vendor;
    udal_module_t out = Poison<udal_module_t>();
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_module_create(device(), &desc, &out)) << "module desc";
    EXPECT_EQ(nullptr, out);
    desc.next = nullptr;
    std::vector<udal_module_image_t> chained_images = images.images;
    for (udal_module_image_t& image : chained_images) image.next = &vendor;
    desc.images = chained_images.data();
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_module_create(device(), &desc, &out)) << "module image";
  }
}

TEST_P(StructTest, ChainedVendorStructIsRefusedOnALaunch) {
  Module module;
  Kernel kernel = MakeKernel("fill_index", &module);
  Stream stream = MakeStream();
  Buffer out = MakeBuffer(256);
  ASSERT_TRUE(kernel && stream && out);
  const uint32_t n = 64, base = 0, poison = 0x12121212;
  ASSERT_OK(udal_stream_fill_buffer(stream.get(), out.get(), 0, 256, &poison, 4));
  std::vector<udal_kernel_arg_t> args = {udal_arg_buffer(out.get(), 0), Value(n), Value(base)};
  VendorExtension vendor = MakeVendorExtension();
  udal_event_desc_t core = CoreExtension();
  for (const void* chained : {static_cast<const void*>(&vendor), static_cast<const void*>(&core)}) {
    udal_launch_desc_t desc = UDAL_LAUNCH_DESC_INIT;
    desc.group_size[0] = 64;
    desc.args = args.data();
    desc.arg_count = 3;
    desc.next = chained;
    EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_launch(stream.get(), kernel.get(), &desc))
        << (chained == &vendor ? "a vendor struct" : "a core struct") << " on the launch desc";
  }
  EXPECT_EQ(std::vector<uint32_t>(64, poison), ReadBackAs<uint32_t>(stream.get(), out.get(), 64))
      << "a refused launch ran";
}

TEST_P(StructTest, ChainedVendorStructIsRefusedOnAnInfoStruct) {
  VendorExtension vendor = MakeVendorExtension();
  udal_device_info_t device_info = UDAL_DEVICE_INFO_INIT;
  device_info.next = &vendor;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_device_get_info(device(), &device_info));
  Buffer buffer = MakeBuffer(64);
  ASSERT_TRUE(buffer);
  udal_buffer_info_t buffer_info = UDAL_BUFFER_INFO_INIT;
  buffer_info.next = &vendor;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_get_info(buffer.get(), &buffer_info));
}

TEST_P(StructTest, ChainThatLoopsIsRefused) {
  VendorExtension first = MakeVendorExtension(), second = MakeVendorExtension(&first);
  first.next = &second;
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = 64;
  desc.next = &first;
  udal_buffer_t out = Poison<udal_buffer_t>();
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_create(device(), &desc, &out)) << "a two-link loop";
  EXPECT_EQ(nullptr, out);
  VendorExtension self = MakeVendorExtension();
  self.next = &self;
  desc.next = &self;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_create(device(), &desc, &out)) << "a struct chained to itself";
}

// A chained struct whose header is wrong (struct_size 0) is refused, not walked past.
TEST_P(StructTest, ChainedStructWithABadHeaderIsRefused) {
  VendorExtension bad = MakeVendorExtension();
  bad.struct_size = 0;
  udal_stream_desc_t desc = UDAL_STREAM_DESC_INIT;
  desc.next = &bad;
  udal_stream_t out = Poison<udal_stream_t>();
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_create(device(), &desc, &out));
  EXPECT_EQ(nullptr, out);
  udal_event_desc_t none = UDAL_EVENT_DESC_INIT;
  none.type = UDAL_STRUCTURE_TYPE_NONE;
  desc.next = &none;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_create(device(), &desc, &out)) << "type NONE";
}

// Structs of the frozen 1.0 size work; a smaller struct_size is refused for inputs.
TEST_P(StructTest, DescriptorSmallerThanVersion1IsRefused) {
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = 64;
  desc.struct_size = static_cast<uint32_t>(offsetof(udal_buffer_desc_t, kind));
  udal_buffer_t out = Poison<udal_buffer_t>();
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_buffer_create(device(), &desc, &out));
  udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
  launch.struct_size = static_cast<uint32_t>(offsetof(udal_launch_desc_t, args));
  Module module;
  Kernel kernel = MakeKernel("fill_index", &module);
  Stream stream = MakeStream();
  ASSERT_TRUE(kernel && stream);
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_stream_launch(stream.get(), kernel.get(), &launch));
}

}  // namespace

CTS_INSTANTIATE(StructTest);

}  // namespace cts
