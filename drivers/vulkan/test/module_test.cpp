// SPIR-V modules: entry points, argument counts, and every kind of bad image.
#include "fixture.h"

namespace udal::vulkan::test {
namespace {

using ModuleTest = VulkanDriverTest;

TEST_F(ModuleTest, EntryPointsAreKernelsWithTheirArgumentCounts) {
  Kernel add = make_kernel("vector_add");
  ASSERT_TRUE(add);
  udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
  UDAL_ASSERT_OK(udal_kernel_get_info(add.get(), &info));
  EXPECT_EQ(5u, info.argument_count) << "3 buffers + 2 push-constant members";
  EXPECT_EQ(info_.max_group_invocations, info.max_group_invocations);
  udal_module_info_t module_info = UDAL_MODULE_INFO_INIT;
  module_info.image_index = 7;
  UDAL_ASSERT_OK(udal_module_get_info(modules_.back().get(), &module_info));
  EXPECT_EQ(UDAL_MODULE_FORMAT_SPIRV_COMPUTE, module_info.format);
  EXPECT_EQ(0u, module_info.image_index);
}

TEST_F(ModuleTest, UnknownKernelIsKernelNotFound) {
  std::vector<uint8_t> spirv = kernel_spirv("vector_add");
  udal_module_t module = nullptr;
  UDAL_ASSERT_OK(create_module(device_, kSpirv, spirv, &module));
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
    UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE, create_module(device_, kSpirv, *bytes, &module),
                      what);
    EXPECT_EQ(nullptr, module) << what;
  }
}

// What the driver does not model is refused when the module is created, never later in
// vkCreateComputePipelines (where lavapipe crashed on some of it).
TEST_F(ModuleTest, WhatTheDriverDoesNotModelIsInvalidModuleAtCreation) {
  const std::pair<const char*, const char*> cases[] = {
      {"descriptor_set1", "descriptor set 1"},
      {"image", "an image"},
      {"uniform_buffer", "uniform buffer"},
      {"big_push_constants", "132 bytes"}};
  for (auto [file, what] : cases) {
    const std::vector<uint8_t> bytes = kernel_spirv(file);
    ASSERT_FALSE(bytes.empty()) << file;
    udal_module_t module = nullptr;
    UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE, create_module(device_, kSpirv, bytes, &module),
                      what, file);
    EXPECT_EQ(nullptr, module) << file;
  }
}

// A fixed LocalSize over the device's limits would fail (or worse) in the pipeline.
TEST_F(ModuleTest, FixedGroupSizeOverTheLimitsIsInvalidModule) {
  std::vector<uint8_t> bytes = kernel_spirv("fixed_size");
  std::vector<uint32_t> words(bytes.size() / 4);
  std::memcpy(words.data(), bytes.data(), bytes.size());
  bool patched = false;
  for (size_t at = 5; at + 5 < words.size();) {
    const uint32_t count = words[at] >> 16, op = words[at] & 0xffff;
    if (count == 0) break;
    if (op == 16 && count == 6 && words[at + 2] == 17) {  // OpExecutionMode ... LocalSize
      words[at + 3] = info_.max_group_size[0] + 1;
      patched = true;
    }
    at += count;
  }
  ASSERT_TRUE(patched);
  std::memcpy(bytes.data(), words.data(), bytes.size());
  udal_module_t module = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE, create_module(device_, kSpirv, bytes, &module),
                    "fixes its group size", "maxComputeWorkGroupSize");
}

TEST_F(ModuleTest, ImagesTheValidatorRefusesAreInvalidModule) {
  std::vector<uint8_t> bytes = kernel_spirv("store_u32");
  ASSERT_GT(bytes.size(), 40u);
  // The version word says SPIR-V 9.0.
  std::vector<uint8_t> version = bytes;
  version[6] = 9;
  // An instruction's opcode replaced by one that does not exist.
  std::vector<uint8_t> opcode = bytes;
  opcode[20] = 0xff;
  opcode[21] = 0x7f;
  for (const auto* image : {&version, &opcode}) {
    udal_module_t module = nullptr;
    UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE, create_module(device_, kSpirv, *image, &module),
                      "SPIR-V");
    EXPECT_EQ(nullptr, module);
  }
}

// Random mutations of a valid image: each is refused at creation or makes a kernel whose
// pipeline builds (a kernel of a fixed group size has its pipeline made at creation), and
// nothing crashes (today most were accepted, then failed or crashed at launch). They are
// not launched: a mutated kernel may write anywhere.
TEST_F(ModuleTest, MutatedImagesAreRefusedOrBuild) {
  const std::vector<uint8_t> good = kernel_spirv("fixed_size");
  ASSERT_GT(good.size(), 40u);
  uint32_t x = 12345;
  int refused = 0, built = 0;
  for (int round = 0; round < 300; ++round) {
    std::vector<uint8_t> bytes = good;
    x = x * 1664525u + 1013904223u;
    const size_t at = 20 + (x >> 8) % (bytes.size() - 20);
    bytes[at] = static_cast<uint8_t>(x >> 24);
    udal_module_t module = nullptr;
    if (create_module(device_, kSpirv, bytes, &module) != UDAL_SUCCESS) {
      EXPECT_GT(std::strlen(udal_last_error_message()), 0u);
      ++refused;
      continue;
    }
    Module owner(module);
    udal_kernel_t kernel = nullptr;
    const udal_result_t r = udal_kernel_create(module, "fixed_size", &kernel);
    Kernel kernel_owner(kernel);
    if (r == UDAL_SUCCESS) {
      ++built;
    } else {
      EXPECT_GT(std::strlen(udal_last_error_message()), 0u);
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(built, 0);
}

// store_u32 with its `OpDecorate %gl_GlobalInvocationID BuiltIn GlobalInvocationId` changed
// to |decoration| |operand|: SPIR-V the validator accepts.
std::vector<uint8_t> store_u32_with_builtin_decoration(uint32_t decoration, uint32_t operand) {
  std::vector<uint8_t> bytes = kernel_spirv("store_u32");
  std::vector<uint32_t> words(bytes.size() / 4);
  std::memcpy(words.data(), bytes.data(), words.size() * 4);
  bool rewritten = false;
  for (size_t i = 5; i < words.size() && (words[i] >> 16) != 0; i += words[i] >> 16) {
    if ((words[i] & 0xffffu) == 71 && (words[i] >> 16) == 4 && words[i + 2] == 11 &&
        words[i + 3] == 28) {
      words[i + 2] = decoration;
      words[i + 3] = operand;
      rewritten = true;
    }
  }
  EXPECT_TRUE(rewritten) << "store_u32 has no BuiltIn GlobalInvocationId";
  std::memcpy(bytes.data(), words.data(), words.size() * 4);
  return bytes;
}

// fuzz_vulkan_module found both: the validator accepts them, and lavapipe crashed (SIGSEGV on
// its queue thread, the second inside LLVM) launching kernels that read such inputs.
TEST_F(ModuleTest, InputsThatAreNotBuiltInsOfTheirTypeAreInvalidModule) {
  udal_module_t module = nullptr;
  // An Input variable that is not a built-in (Location 0).
  UDAL_EXPECT_FAILS(
      UDAL_ERROR_INVALID_MODULE,
      create_module(device_, kSpirv, store_u32_with_builtin_decoration(30, 0), &module),
      "Input variable", "BuiltIn 0 times");
  EXPECT_EQ(nullptr, module);
  // A v3uint decorated LocalInvocationIndex (a scalar built-in).
  UDAL_EXPECT_FAILS(
      UDAL_ERROR_INVALID_MODULE,
      create_module(device_, kSpirv, store_u32_with_builtin_decoration(11, 29), &module),
      "BuiltIn 29", "32-bit integer scalar");
  EXPECT_EQ(nullptr, module);
  // The unchanged module is taken.
  UDAL_ASSERT_OK(
      create_module(device_, kSpirv, store_u32_with_builtin_decoration(11, 28), &module));
  udal_module_destroy(module);
}

TEST_F(ModuleTest, SpecializationConstantsOfTheCallerAreApplied) {
  const std::vector<uint8_t> bytes = kernel_spirv("spec_constant");
  Buffer out = make_buffer(64);
  ASSERT_TRUE(out);
  auto make = [&](std::vector<udal_specialization_constant_t> constants, udal_module_t* module) {
    udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
    image.format = UDAL_MODULE_FORMAT_SPIRV_COMPUTE;
    image.data = bytes.data();
    image.size = bytes.size();
    udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
    desc.images = &image;
    desc.image_count = 1;
    desc.specialization_constants = constants.data();
    desc.specialization_constant_count = static_cast<uint32_t>(constants.size());
    return udal_module_create(device_, &desc, module);
  };
  const uint32_t answer = 42;
  const uint64_t wide = 42;
  for (uint32_t given : {0u, 1u}) {
    udal_module_t module = nullptr;
    std::vector<udal_specialization_constant_t> constants;
    if (given) constants.push_back({4, 4, &answer});
    UDAL_ASSERT_OK(make(constants, &module));
    Module owner(module);
    udal_kernel_t kernel = nullptr;
    UDAL_ASSERT_OK(udal_kernel_create(module, "spec_constant", &kernel));
    Kernel kernel_owner(kernel);
    UDAL_ASSERT_OK(launch(io_stream_.get(), kernel, {udal_arg_buffer(out.get(), 0)}));
    std::vector<uint8_t> back = read(out.get(), 0, 4);
    uint32_t word;
    std::memcpy(&word, back.data(), 4);
    EXPECT_EQ(given ? 42u : 7u, word);
  }
  udal_module_t module = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, make({{0, 4, &answer}}, &module), "id 0",
                    "the driver sets");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, make({{9, 4, &answer}}, &module), "SpecId 9");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, make({{4, 8, &wide}}, &module), "takes 4");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, make({{4, 4, &answer}, {4, 4, &answer}}, &module),
                    "twice");
  EXPECT_EQ(nullptr, module);
}

TEST_F(ModuleTest, ChainedVendorStructsAreRefused) {
  const std::vector<uint8_t> bytes = kernel_spirv("store_u32");
  udal_base_in_t vendor = {static_cast<udal_structure_type_t>(UDAL_STRUCTURE_TYPE_VENDOR_BEGIN + 7),
                           sizeof(udal_base_in_t), nullptr};
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = UDAL_MODULE_FORMAT_SPIRV_COMPUTE;
  image.data = bytes.data();
  image.size = bytes.size();
  image.next = &vendor;
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = &image;
  desc.image_count = 1;
  udal_module_t module = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_module_create(device_, &desc, &module),
                    "0x10007");
  image.next = nullptr;
  desc.next = &vendor;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_module_create(device_, &desc, &module),
                    "0x10007");
  EXPECT_EQ(nullptr, module);
}

TEST_F(ModuleTest, NoSpirvImageIsUnsupported) {
  const std::vector<uint8_t> bytes = kernel_spirv("vector_add");
  udal_module_t module = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_UNSUPPORTED,
                    create_module(device_, UDAL_MODULE_FORMAT_HOST_NATIVE, bytes, &module),
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
