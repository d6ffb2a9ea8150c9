// Modules and kernels: loading HOST_NATIVE images, format choice, corrupt images, names.
#include <cstdint>
#include <string>
#include <vector>

#include "fixture.h"

namespace udal::cpu::test {
namespace {

udal_module_image_t bytes_image(udal_module_format_t format, const std::vector<std::byte>& bytes) {
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = format;
  image.data = bytes.data();
  image.size = bytes.size();
  return image;
}

class ModuleTest : public CpuDriverTest {
 protected:
  udal_result_t create(std::vector<udal_module_image_t> images, udal_module_t* out) {
    udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
    desc.images = images.data();
    desc.image_count = static_cast<uint32_t>(images.size());
    return udal_module_create(device_, &desc, out);
  }
  // Which module a kernel "identify" came from: 1 for test_kernels.c, 7 for other_kernels.c.
  uint32_t identify(udal_module_t module) {
    udal_kernel_t raw = nullptr;
    EXPECT_EQ(udal_kernel_create(module, "identify", &raw), UDAL_SUCCESS) << last_message();
    Kernel kernel(raw);
    Buffer out = make_buffer(64);
    Stream stream = make_stream();
    EXPECT_EQ(launch(stream.get(), kernel.get(), {udal_arg_buffer(out.get(), 0)}), UDAL_SUCCESS)
        << last_message();
    EXPECT_EQ(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
    return read_value<uint32_t>(out.get());
  }
};

TEST_F(ModuleTest, TakesTheFirstImageInAFormatTheDeviceAccepts) {
  std::vector<std::byte> spirv(64, std::byte{0x03});
  auto host = read_file(UDAL_CPU_TEST_KERNELS);
  udal_module_t raw = nullptr;
  UDAL_ASSERT_OK(create({bytes_image(UDAL_MODULE_FORMAT_SPIRV_COMPUTE, spirv),
                         bytes_image(UDAL_MODULE_FORMAT_HOST_NATIVE, host)},
                        &raw));
  Module module(raw);
  udal_module_info_t info = UDAL_MODULE_INFO_INIT;
  UDAL_ASSERT_OK(udal_module_get_info(raw, &info));
  EXPECT_EQ(info.format, UDAL_MODULE_FORMAT_HOST_NATIVE);
  EXPECT_EQ(info.image_index, 1u);
  EXPECT_EQ(identify(raw), 1u);
}

TEST_F(ModuleTest, LoadsAnImageFromAPath) {
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  image.path = UDAL_CPU_OTHER_KERNELS;
  udal_module_t raw = nullptr;
  UDAL_ASSERT_OK(create({image}, &raw));
  Module module(raw);
  EXPECT_EQ(identify(raw), 7u);
}

TEST_F(ModuleTest, ModulesFromBytesAreTheImagesGivenEvenAfterOthersAreDestroyed) {
  auto first = read_file(UDAL_CPU_TEST_KERNELS);
  auto second = read_file(UDAL_CPU_OTHER_KERNELS);
  for (int round = 0; round < 3; ++round) {
    udal_module_t a = nullptr;
    UDAL_ASSERT_OK(create({bytes_image(UDAL_MODULE_FORMAT_HOST_NATIVE, first)}, &a));
    EXPECT_EQ(identify(a), 1u);
    UDAL_ASSERT_OK(udal_module_destroy(a));
    udal_module_t b = nullptr;
    UDAL_ASSERT_OK(create({bytes_image(UDAL_MODULE_FORMAT_HOST_NATIVE, second)}, &b));
    EXPECT_EQ(identify(b), 7u);
    UDAL_ASSERT_OK(udal_module_destroy(b));
  }
}

TEST_F(ModuleTest, NoImageInAnAcceptedFormatIsUnsupportedNamingTheFormats) {
  std::vector<std::byte> bytes(64, std::byte{1});
  udal_module_t raw = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_UNSUPPORTED,
                    create({bytes_image(UDAL_MODULE_FORMAT_SPIRV_KERNEL, bytes),
                            bytes_image(UDAL_MODULE_FORMAT_PTX, bytes)},
                           &raw),
                    "SPIRV_KERNEL", "PTX", "HOST_NATIVE");
  EXPECT_EQ(raw, nullptr);
}

TEST_F(ModuleTest, CorruptBytesAreAnInvalidModuleWithTheLoaderError) {
  std::vector<std::byte> garbage(4096, std::byte{0x42});
  udal_module_t raw = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE,
                    create({bytes_image(UDAL_MODULE_FORMAT_HOST_NATIVE, garbage)}, &raw),
                    "images[0]", "ELF");
  auto truncated = read_file(UDAL_CPU_TEST_KERNELS);
  truncated.resize(truncated.size() / 3);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE,
                    create({bytes_image(UDAL_MODULE_FORMAT_HOST_NATIVE, truncated)}, &raw));
  auto one_short = read_file(UDAL_CPU_TEST_KERNELS);
  one_short.pop_back();
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE,
                    create({bytes_image(UDAL_MODULE_FORMAT_HOST_NATIVE, one_short)}, &raw),
                    "truncated");
  EXPECT_EQ(raw, nullptr);
}

TEST_F(ModuleTest, SharedObjectsThatAreNotHostModulesAreRefused) {
  auto plain = read_file(UDAL_CPU_NOT_A_MODULE);
  udal_module_t raw = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE,
                    create({bytes_image(UDAL_MODULE_FORMAT_HOST_NATIVE, plain)}, &raw),
                    "udal_host_module_abi_version");
  auto wrong = read_file(UDAL_CPU_WRONG_VERSION);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE,
                    create({bytes_image(UDAL_MODULE_FORMAT_HOST_NATIVE, wrong)}, &raw), "999");
  udal_module_image_t missing = UDAL_MODULE_IMAGE_INIT;
  missing.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  missing.path = "/nonexistent/udal/module.so";
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE, create({missing}, &raw), "/nonexistent/udal/module.so");
}

TEST_F(ModuleTest, BadModuleDescriptionsAreRejected) {
  udal_module_t raw = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, create({}, &raw));
  udal_module_image_t empty = UDAL_MODULE_IMAGE_INIT;
  empty.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, create({empty}, &raw));
  udal_module_image_t unknown = UDAL_MODULE_IMAGE_INIT;
  unknown.format = static_cast<udal_module_format_t>(77);
  unknown.path = UDAL_CPU_TEST_KERNELS;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, create({unknown}, &raw));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_module_create(device_, nullptr, &raw));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_module_destroy(nullptr));
  // HOST_NATIVE images have no specialization constants.
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  image.path = UDAL_CPU_TEST_KERNELS;
  const uint32_t value = 1;
  udal_specialization_constant_t constant = {0, 4, &value};
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = &image;
  desc.image_count = 1;
  desc.specialization_constants = &constant;
  desc.specialization_constant_count = 1;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_module_create(device_, &desc, &raw),
                    "specialization");
  EXPECT_EQ(raw, nullptr);
  // An image of the wrong struct type.
  desc.specialization_constants = nullptr;
  desc.specialization_constant_count = 0;
  image.type = UDAL_STRUCTURE_TYPE_MODULE_DESC;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_module_create(device_, &desc, &raw),
                    "images[0]");
  udal_module_info_t info = UDAL_MODULE_INFO_INIT;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_module_get_info(nullptr, &info));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_module_get_info(test_module_.get(), nullptr));
}

TEST_F(ModuleTest, UnknownKernelNamesAreNotFoundNamingKernelAndModule) {
  udal_kernel_t kernel = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_KERNEL_NOT_FOUND,
                    udal_kernel_create(test_module_.get(), "no_such_kernel", &kernel),
                    "no_such_kernel", "module");
  EXPECT_EQ(kernel, nullptr);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_kernel_create(test_module_.get(), "", &kernel));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_kernel_create(test_module_.get(), nullptr, &kernel));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_kernel_create(nullptr, "empty", &kernel));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_kernel_destroy(nullptr));
}

TEST_F(ModuleTest, KernelInfoHasTheArgumentCount) {
  Kernel kernel = make_kernel("vector_add");
  udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
  UDAL_ASSERT_OK(udal_kernel_get_info(kernel.get(), &info));
  EXPECT_EQ(info.argument_count, 4u);
  EXPECT_GT(info.max_group_invocations, 0u);
  EXPECT_LE(info.max_group_invocations, info_.max_group_invocations);
  EXPECT_EQ(info.flags, UDAL_KERNEL_FLAG_ARGUMENT_INFO);
  for (uint32_t size : info.required_group_size) EXPECT_EQ(size, 0u);
  EXPECT_EQ(info.reserved0, 0u);
  // A plain UDAL_HOST_KERNEL kernel has its count, and no argument information.
  Kernel plain = make_kernel("increment");
  udal_kernel_info_t plain_info = UDAL_KERNEL_INFO_INIT;
  UDAL_ASSERT_OK(udal_kernel_get_info(plain.get(), &plain_info));
  EXPECT_EQ(plain_info.argument_count, 1u);
  EXPECT_EQ(plain_info.flags, 0u);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT, udal_kernel_get_info(kernel.get(), nullptr));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_HANDLE, udal_kernel_get_info(nullptr, &info));
}

TEST_F(ModuleTest, KernelsOutliveTheirModule) {
  udal_module_t raw = nullptr;
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  image.path = UDAL_CPU_OTHER_KERNELS;
  UDAL_ASSERT_OK(create({image}, &raw));
  udal_kernel_t kernel_raw = nullptr;
  UDAL_ASSERT_OK(udal_kernel_create(raw, "identify", &kernel_raw));
  Kernel kernel(kernel_raw);
  UDAL_ASSERT_OK(udal_module_destroy(raw));
  Buffer out = make_buffer(64);
  Stream stream = make_stream();
  UDAL_ASSERT_OK(launch(stream.get(), kernel.get(), {udal_arg_buffer(out.get(), 0)}));
  kernel.reset();  // the launch in flight keeps the code loaded
  UDAL_ASSERT_OK(udal_stream_synchronize(stream.get(), UDAL_TIMEOUT_INFINITE));
  EXPECT_EQ(read_value<uint32_t>(out.get()), 7u);
}

}  // namespace
}  // namespace udal::cpu::test
