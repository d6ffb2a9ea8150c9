// SPIR-V modules: entry points, argument counts, and every kind of bad image.
#include "fixture.h"

namespace udal::vulkan::test {
namespace {

using ModuleTest = VulkanDriverTest;

udal_result_t create_module(udal_device_t device, const std::vector<uint8_t>& bytes,
                            udal_module_t* out,
                            udal_module_format_t format = UDAL_MODULE_FORMAT_SPIRV_COMPUTE) {
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = format;
  image.data = bytes.data();
  image.size = bytes.size();
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = &image;
  desc.image_count = 1;
  return udal_module_create(device, &desc, out);
}

TEST_F(ModuleTest, EntryPointsAreKernelsWithTheirArgumentCounts) {
  Kernel add = make_kernel("vector_add");
  ASSERT_TRUE(add);
  udal_kernel_info_t info{sizeof(udal_kernel_info_t), nullptr, 0, 0};
  UDAL_ASSERT_OK(udal_kernel_get_info(add.get(), &info));
  EXPECT_EQ(5u, info.argument_count) << "3 buffers + 2 push-constant members";
  EXPECT_EQ(info_.max_group_invocations, info.max_group_invocations);
  udal_module_info_t module_info{sizeof(udal_module_info_t), nullptr, UDAL_MODULE_FORMAT_NONE, 7};
  UDAL_ASSERT_OK(udal_module_get_info(modules_.back().get(), &module_info));
  EXPECT_EQ(UDAL_MODULE_FORMAT_SPIRV_COMPUTE, module_info.format);
  EXPECT_EQ(0u, module_info.image_index);
}

TEST_F(ModuleTest, UnknownKernelIsKernelNotFound) {
  std::vector<uint8_t> spirv = kernel_spirv("vector_add");
  udal_module_t module = nullptr;
  UDAL_ASSERT_OK(create_module(device_, spirv, &module));
  Module owner(module);
  udal_kernel_t kernel = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_KERNEL_NOT_FOUND, udal_kernel_create(module, "main", &kernel),
                    "main", "vector_add");
  UDAL_EXPECT_FAILS(UDAL_ERROR_KERNEL_NOT_FOUND, udal_kernel_create(module, "vector_ad", &kernel));
  EXPECT_EQ(nullptr, kernel);
}

TEST_F(ModuleTest, CorruptImagesAreInvalidModule) {
  const std::vector<uint8_t> good = kernel_spirv("vector_add");
  ASSERT_GT(good.size(), 100u);
  std::vector<uint8_t> bad_magic = good;
  bad_magic[0] ^= 0xff;
  std::vector<uint8_t> odd_size(good.begin(), good.end() - 1);
  std::vector<uint8_t> half(good.begin(), good.begin() + static_cast<ptrdiff_t>(good.size() / 8 * 4));
  std::vector<uint8_t> header_only(good.begin(), good.begin() + 16);
  std::vector<uint8_t> bad_length = good;
  bad_length[22] = 0xff;  // the first instruction's word count runs past the end
  bad_length[23] = 0xff;
  const std::pair<const char*, const std::vector<uint8_t>*> cases[] = {
      {"magic number", &bad_magic}, {"whole number", &odd_size}, {"cut short", &half},
      {"shorter than", &header_only}, {"runs past the end", &bad_length}};
  for (auto [what, bytes] : cases) {
    udal_module_t module = nullptr;
    UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE, create_module(device_, *bytes, &module), what);
    EXPECT_EQ(nullptr, module) << what;
  }
}

TEST_F(ModuleTest, NoSpirvImageIsUnsupported) {
  const std::vector<uint8_t> bytes = kernel_spirv("vector_add");
  udal_module_t module = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_UNSUPPORTED,
                    create_module(device_, bytes, &module, UDAL_MODULE_FORMAT_HOST_NATIVE),
                    "SPIRV_COMPUTE");
}

TEST_F(ModuleTest, KernelOutlivesItsModule) {
  Kernel kernel = make_kernel("store_u32");
  ASSERT_TRUE(kernel);
  modules_.clear();
  Buffer out = make_buffer(64);
  const uint32_t value = 9, n = 4;
  UDAL_ASSERT_OK(launch(io_stream_.get(), kernel.get(),
                        {udal_arg_buffer(out.get(), 0), udal_arg_value(&value, 4), udal_arg_value(&n, 4)},
                        1, 4));
  std::vector<uint8_t> back = read(out.get(), 0, 16);
  uint32_t words[4];
  std::memcpy(words, back.data(), 16);
  EXPECT_EQ(9u, words[0]);
  EXPECT_EQ(12u, words[3]);
}

}  // namespace
}  // namespace udal::vulkan::test
