// Modules and kernels: each format the device accepts, format selection among several
// images, images from files, corrupt images, unknown kernels, and lifetimes.
#include "cts.h"

#include <fmt/format.h>

namespace cts {
namespace {

class ModuleTest : public DeviceTest {
 public:
  bool AcceptsFormat(udal_module_format_t format) const { return Accepts(format); }
  udal_device_t Device() const { return device(); }

 protected:
  // Runs fill_index through |kernel| and checks the result: proves a module really works.
  void ExpectFillIndexWorks(udal_kernel_t kernel, const std::string& what) {
    Stream stream = MakeStream();
    Buffer out = MakeBuffer(100 * 4);
    ASSERT_TRUE(stream && out);
    const uint32_t n = 100, base = 1000;
    ASSERT_OK(Launch(stream.get(), kernel, {4, 1, 1}, {25, 1, 1},
                     {udal_arg_buffer(out.get(), 0), udal_arg_value(&n, 4), udal_arg_value(&base, 4)}))
        << what;
    std::vector<uint32_t> values = ReadBackAs<uint32_t>(stream.get(), out.get(), 100);
    for (uint32_t i = 0; i < 100; ++i) ASSERT_EQ(base + i, values[i]) << what << ", item " << i;
  }

  // The images of the CTS's kernels in the formats this device accepts.
  std::vector<size_t> AcceptedImages(const KernelImages& images) {
    std::vector<size_t> accepted;
    for (size_t k = 0; k < images.images.size(); ++k) {
      if (Accepts(images.images[k].format)) accepted.push_back(k);
    }
    return accepted;
  }

  // A standard format the device does not accept, or NONE.
  udal_module_format_t UnacceptedFormat() {
    for (udal_module_format_t f : {UDAL_MODULE_FORMAT_PTX, UDAL_MODULE_FORMAT_OPENCL_C,
                                   UDAL_MODULE_FORMAT_SPIRV_KERNEL, UDAL_MODULE_FORMAT_SPIRV_COMPUTE,
                                   UDAL_MODULE_FORMAT_HOST_NATIVE}) {
      if (!Accepts(f)) return f;
    }
    return UDAL_MODULE_FORMAT_NONE;
  }
};

TEST_P(ModuleTest, EachBuiltFormatTheDeviceAcceptsLoadsAndRuns) {
  KernelImages images = LoadKernelImages("fill_index");
  std::vector<size_t> accepted = AcceptedImages(images);
  if (accepted.empty()) {
    GTEST_SKIP() << "the device accepts none of the formats the CTS's kernels were built in "
                    "(HOST_NATIVE, SPIRV_COMPUTE, SPIRV_KERNEL, OPENCL_C)";
  }
  for (size_t k : accepted) {
    std::string what = fmt::format("format {}", static_cast<int>(images.images[k].format));
    udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
    desc.images = &images.images[k];
    desc.image_count = 1;
    Module module;
    ASSERT_OK(udal_module_create(device(), &desc, module.out())) << what;
    udal_module_info_t module_info = UDAL_MODULE_INFO_INIT;
    module_info.image_index = 99;
    ASSERT_OK(udal_module_get_info(module.get(), &module_info));
    EXPECT_EQ(images.images[k].format, module_info.format);
    EXPECT_EQ(0u, module_info.image_index);
    Kernel kernel;
    ASSERT_OK(udal_kernel_create(module.get(), "fill_index", kernel.out())) << what;
    ExpectFillIndexWorks(kernel.get(), what);
  }
}

TEST_P(ModuleTest, FirstAcceptedImageInTheGivenOrderIsTaken) {
  KernelImages images = LoadKernelImages("fill_index");
  std::vector<size_t> accepted = AcceptedImages(images);
  udal_module_format_t unaccepted = UnacceptedFormat();
  if (accepted.empty()) GTEST_SKIP() << "the device accepts none of the CTS's kernel formats";
  if (unaccepted == UDAL_MODULE_FORMAT_NONE) GTEST_SKIP() << "the device accepts every standard format";
  // Garbage in a format the device does not take must be passed over, not parsed.
  static const char garbage[] = "not a module in any format";
  udal_module_image_t skipped = UDAL_MODULE_IMAGE_INIT;
  skipped.format = unaccepted;
  skipped.data = garbage;
  skipped.size = sizeof garbage;
  std::vector<udal_module_image_t> list = {skipped, skipped, images.images[accepted.back()]};
  if (accepted.size() > 1) list.push_back(images.images[accepted.front()]);
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = list.data();
  desc.image_count = static_cast<uint32_t>(list.size());
  Module module;
  ASSERT_OK(udal_module_create(device(), &desc, module.out()));
  udal_module_info_t module_info = UDAL_MODULE_INFO_INIT;
    module_info.image_index = 99;
  ASSERT_OK(udal_module_get_info(module.get(), &module_info));
  EXPECT_EQ(2u, module_info.image_index);
  EXPECT_EQ(images.images[accepted.back()].format, module_info.format);
  Kernel kernel;
  ASSERT_OK(udal_kernel_create(module.get(), "fill_index", kernel.out()));
  ExpectFillIndexWorks(kernel.get(), "the image taken");
}

TEST_P(ModuleTest, NoImageInAnAcceptedFormatIsUnsupported) {
  udal_module_format_t unaccepted = UnacceptedFormat();
  if (unaccepted == UDAL_MODULE_FORMAT_NONE) GTEST_SKIP() << "the device accepts every standard format";
  static const char bytes[] = "whatever";
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = unaccepted;
  image.data = bytes;
  image.size = sizeof bytes;
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = &image;
  desc.image_count = 1;
  udal_module_t module = Poison<udal_module_t>();
  EXPECT_UDAL(UDAL_ERROR_UNSUPPORTED, udal_module_create(device(), &desc, &module));
  EXPECT_EQ(nullptr, module);
}

TEST_P(ModuleTest, ImageIsReadFromAPath) {
  if (!Accepts(UDAL_MODULE_FORMAT_HOST_NATIVE)) GTEST_SKIP() << "needs module format HOST_NATIVE";
  std::string path = KernelPath("cts_kernels.so");
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  image.path = path.c_str();
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = &image;
  desc.image_count = 1;
  Module module;
  ASSERT_OK(udal_module_create(device(), &desc, module.out()));
  Kernel kernel;
  ASSERT_OK(udal_kernel_create(module.get(), "fill_index", kernel.out()));
  ExpectFillIndexWorks(kernel.get(), "image from " + path);
}

// Each corruption of each accepted image must be refused with INVALID_MODULE.
void ExpectEveryCorruptionRefused(ModuleTest* test, bool truncations) {
  KernelImages images = LoadKernelImages("fill_index");
  std::vector<size_t> accepted;
  for (size_t k = 0; k < images.images.size(); ++k) {
    if (test->AcceptsFormat(images.images[k].format)) accepted.push_back(k);
  }
  if (accepted.empty()) GTEST_SKIP() << "the device accepts none of the CTS's kernel formats";
  for (size_t k : accepted) {
    const udal_module_image_t& good = images.images[k];
    const auto* bytes = static_cast<const uint8_t*>(good.data);
    std::vector<std::pair<std::string, std::vector<uint8_t>>> corrupt;
    if (good.format == UDAL_MODULE_FORMAT_OPENCL_C) {
      if (truncations) continue;
      std::string broken = "kernel void broken(global uint* out) { this is not OpenCL C }";
      corrupt = {{"source that does not build", std::vector<uint8_t>(broken.begin(), broken.end())}};
    } else if (truncations) {
      corrupt = {{"the first half", std::vector<uint8_t>(bytes, bytes + good.size / 2)},
                 {"all but the last byte", std::vector<uint8_t>(bytes, bytes + good.size - 1)}};
    } else {
      corrupt = {{"random bytes", Pattern(4096, 77)},
                 {"the first 16 bytes", std::vector<uint8_t>(bytes, bytes + std::min<size_t>(16, good.size))},
                 {"one byte", std::vector<uint8_t>(bytes, bytes + 1)}};
    }
    for (const auto& [what, data] : corrupt) {
      udal_module_image_t image = good;
      image.data = data.data();
      image.size = data.size();
      udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
      desc.images = &image;
      desc.image_count = 1;
      udal_module_t module = Poison<udal_module_t>();
      EXPECT_UDAL(UDAL_ERROR_INVALID_MODULE, udal_module_create(test->Device(), &desc, &module))
          << "format " << good.format << ": " << what;
      EXPECT_EQ(nullptr, module);
      if (module != nullptr && module != Poison<udal_module_t>()) udal_module_destroy(module);
    }
  }
}

TEST_P(ModuleTest, CorruptImageIsInvalidModule) { ExpectEveryCorruptionRefused(this, false); }

TEST_P(ModuleTest, TruncatedImageIsInvalidModule) { ExpectEveryCorruptionRefused(this, true); }

TEST_P(ModuleTest, SharedObjectWithoutHostModuleMarkIsInvalidModule) {
  if (!Accepts(UDAL_MODULE_FORMAT_HOST_NATIVE)) GTEST_SKIP() << "needs module format HOST_NATIVE";
  std::vector<uint8_t> bytes = ReadFile(KernelPath("not_a_module.so"));
  ASSERT_FALSE(bytes.empty()) << KernelPath("not_a_module.so");
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  image.data = bytes.data();
  image.size = bytes.size();
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = &image;
  desc.image_count = 1;
  udal_module_t module = Poison<udal_module_t>();
  EXPECT_UDAL(UDAL_ERROR_INVALID_MODULE, udal_module_create(device(), &desc, &module));
  EXPECT_EQ(nullptr, module);
}

TEST_P(ModuleTest, BadDescriptorsAreInvalidArgument) {
  KernelImages images = LoadKernelImages("fill_index");
  ASSERT_FALSE(images.images.empty());
  udal_module_t module = Poison<udal_module_t>();
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = images.images.data();
  desc.image_count = 0;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_module_create(device(), &desc, &module)) << "no images";
  EXPECT_EQ(nullptr, module);
  udal_module_image_t empty = UDAL_MODULE_IMAGE_INIT;
  empty.format = images.images[0].format;
  desc.images = &empty;
  desc.image_count = 1;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_module_create(device(), &desc, &module))
      << "an image with neither data nor path";
  udal_module_image_t unknown = images.images[0];
  unknown.format = static_cast<udal_module_format_t>(77);
  desc.images = &unknown;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_module_create(device(), &desc, &module))
      << "an unknown format";
  udal_module_image_t reserved = images.images[0];
  reserved.reserved0 = 1;
  desc.images = &reserved;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_module_create(device(), &desc, &module))
      << "an image with reserved0 not zero";
  udal_module_image_t wrong_type = images.images[0];
  wrong_type.type = UDAL_STRUCTURE_TYPE_MODULE_DESC;
  desc.images = &wrong_type;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_module_create(device(), &desc, &module))
      << "an image whose type is MODULE_DESC";
  desc.images = images.images.data();
  desc.type = UDAL_STRUCTURE_TYPE_MODULE_IMAGE;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_module_create(device(), &desc, &module))
      << "a desc whose type is MODULE_IMAGE";
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_module_create(device(), nullptr, &module));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_module_destroy(nullptr));
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_kernel_destroy(nullptr));
}

TEST_P(ModuleTest, UnknownKernelIsKernelNotFound) {
  Module module;
  Kernel kernel = MakeKernel("fill_index", &module);
  ASSERT_TRUE(kernel);
  udal_kernel_t missing = Poison<udal_kernel_t>();
  EXPECT_UDAL(UDAL_ERROR_KERNEL_NOT_FOUND, udal_kernel_create(module.get(), "no_such_kernel", &missing));
  EXPECT_EQ(nullptr, missing);
  EXPECT_UDAL(UDAL_ERROR_KERNEL_NOT_FOUND, udal_kernel_create(module.get(), "fill_inde", &missing));
  EXPECT_UDAL(UDAL_ERROR_KERNEL_NOT_FOUND, udal_kernel_create(module.get(), "fill_index_", &missing));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_kernel_create(module.get(), "", &missing));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_kernel_create(module.get(), nullptr, &missing));
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_kernel_create(module.get(), "fill_index", nullptr));
}

TEST_P(ModuleTest, KernelInfoIsConsistent) {
  Module module;
  const std::pair<const char*, uint32_t> kernels[] = {{"fill_index", 3}, {"arg_order", 10}, {"many_args", 32}};
  for (auto [name, count] : kernels) {
    Kernel kernel = MakeKernel(name, &module);
    ASSERT_TRUE(kernel);
    udal_kernel_info_t kernel_info = UDAL_KERNEL_INFO_INIT;
    ASSERT_OK(udal_kernel_get_info(kernel.get(), &kernel_info));
    if (kernel_info.argument_count != UDAL_ARGUMENT_COUNT_UNKNOWN) {
      EXPECT_EQ(count, kernel_info.argument_count) << name;
    }
    EXPECT_GT(kernel_info.max_group_invocations, 0u) << name;
    EXPECT_LE(kernel_info.max_group_invocations, info().max_group_invocations) << name;
  }
}

TEST_P(ModuleTest, KernelOutlivesItsModule) {
  Module module;
  Kernel kernel = MakeKernel("fill_index", &module);
  ASSERT_TRUE(kernel);
  ASSERT_OK(udal_module_destroy(module.release()));
  ExpectFillIndexWorks(kernel.get(), "after its module was destroyed");
}

TEST_P(ModuleTest, ImageBytesAreCopiedAtCreation) {
  KernelImages images = LoadKernelImages("fill_index");
  ASSERT_FALSE(images.images.empty());
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = images.images.data();
  desc.image_count = static_cast<uint32_t>(images.images.size());
  Module module;
  ASSERT_OK(udal_module_create(device(), &desc, module.out()));
  for (std::vector<uint8_t>& bytes : images.bytes) std::fill(bytes.begin(), bytes.end(), 0);
  Kernel kernel;
  ASSERT_OK(udal_kernel_create(module.get(), "fill_index", kernel.out()));
  ExpectFillIndexWorks(kernel.get(), "after the caller's image bytes were zeroed");
}

TEST_P(ModuleTest, SeveralModulesOfTheSameImageLiveSideBySide) {
  std::vector<Module> modules(4);
  std::vector<Kernel> kernels;
  for (Module& module : modules) {
    kernels.push_back(MakeKernel("fill_index", &module));
    ASSERT_TRUE(kernels.back());
  }
  modules[1].reset();
  kernels[2].reset();
  for (size_t k : {0u, 1u, 3u}) ExpectFillIndexWorks(kernels[k].get(), fmt::format("module {}", k));
}

TEST_P(ModuleTest, KernelAndModuleDestroyedWithLaunchesPendingStillRun) {
  Stream stream = MakeStream();
  Buffer out = MakeBuffer(64 * 4);
  ASSERT_TRUE(stream && out);
  Gate gate(device());
  ASSERT_TRUE(gate.ok());
  ASSERT_OK(gate.Hold(stream.get()));
  {
    Module module;
    Kernel kernel = MakeKernel("fill_index", &module);
    ASSERT_TRUE(kernel);
    const uint32_t n = 64, base = 7;
    ASSERT_OK(Launch(stream.get(), kernel.get(), {2, 1, 1}, {32, 1, 1},
                     {udal_arg_buffer(out.get(), 0), udal_arg_value(&n, 4), udal_arg_value(&base, 4)}));
    ASSERT_TRUE(StillPending(stream.get()));
  }  // kernel and module destroyed while the launch is held
  ASSERT_OK(gate.Open());
  std::vector<uint32_t> values = ReadBackAs<uint32_t>(stream.get(), out.get(), 64);
  for (uint32_t i = 0; i < 64; ++i) ASSERT_EQ(7 + i, values[i]) << "item " << i;
}

// One module holding several kernels, in every format the device takes that the CTS built
// as one: spirv-link's SPIRV_COMPUTE module, the OpenCL C module as SPIR-V and as source, and
// the host module. Two of its kernels run, one after the other, on one buffer.
TEST_P(ModuleTest, SeveralKernelsOfOneModuleRun) {
  const std::pair<udal_module_format_t, std::string> modules[] = {
      {UDAL_MODULE_FORMAT_HOST_NATIVE, "cts_kernels.so"},
      {UDAL_MODULE_FORMAT_SPIRV_COMPUTE, "cts_kernels.spirv-compute.spv"},
      {UDAL_MODULE_FORMAT_SPIRV_KERNEL, "cts_kernels.spirv-kernel.spv"},
      {UDAL_MODULE_FORMAT_OPENCL_C, "cts_kernels.cl"},
  };
  int tried = 0;
  for (const auto& [format, file] : modules) {
    if (!Accepts(format)) continue;
    std::vector<uint8_t> bytes = ReadFile(KernelPath(file));
    if (bytes.empty()) {
      ADD_FAILURE() << "the device takes " << FormatName(format) << " but " << KernelPath(file)
                    << " was not built";
      continue;
    }
    SCOPED_TRACE(FormatName(format));
    ++tried;
    udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
    image.format = format;
    image.data = bytes.data();
    image.size = bytes.size();
    udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
    desc.images = &image;
    desc.image_count = 1;
    Module module;
    ASSERT_OK(udal_module_create(device(), &desc, module.out()));
    Kernel fill, add, ids;
    ASSERT_OK(udal_kernel_create(module.get(), "fill_index", fill.out()));
    ASSERT_OK(udal_kernel_create(module.get(), "add_u32", add.out()));
    ASSERT_OK(udal_kernel_create(module.get(), "global_ids", ids.out()));
    Stream stream = MakeStream();
    Buffer out = MakeBuffer(128 * 4);
    ASSERT_TRUE(stream && out);
    const uint32_t n = 128, base = 40, seven = 7;
    ASSERT_OK(Launch(stream.get(), fill.get(), {4, 1, 1}, {32, 1, 1},
                     {udal_arg_buffer(out.get(), 0), Value(n), Value(base)}));
    ASSERT_OK(Launch(stream.get(), add.get(), {4, 1, 1}, {32, 1, 1},
                     {udal_arg_buffer(out.get(), 0), Value(seven), Value(n)}));
    std::vector<uint32_t> values = ReadBackAs<uint32_t>(stream.get(), out.get(), 128);
    for (uint32_t i = 0; i < 128; ++i) ASSERT_EQ(base + i + seven, values[i]) << "item " << i;
  }
  if (tried == 0) GTEST_SKIP() << "the device takes none of the formats the CTS builds multi-kernel modules in";
}

TEST_P(ModuleTest, InfoRejectsBadArguments) {
  Module module;
  Kernel kernel = MakeKernel("fill_index", &module);
  ASSERT_TRUE(kernel);
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_module_get_info(module.get(), nullptr));
  udal_module_info_t bad = UDAL_MODULE_INFO_INIT;
  bad.type = UDAL_STRUCTURE_TYPE_KERNEL_INFO;
  EXPECT_UDAL(UDAL_ERROR_INVALID_ARGUMENT, udal_module_get_info(module.get(), &bad)) << "wrong struct type";
  udal_module_info_t good = UDAL_MODULE_INFO_INIT;
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_module_get_info(nullptr, &good));
  udal_kernel_info_t kernel_info = UDAL_KERNEL_INFO_INIT;
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_kernel_get_info(nullptr, &kernel_info));
  udal_kernel_t out = Poison<udal_kernel_t>();
  EXPECT_UDAL(UDAL_ERROR_INVALID_HANDLE, udal_kernel_create(nullptr, "fill_index", &out));
  EXPECT_EQ(nullptr, out);
}

}  // namespace

CTS_INSTANTIATE(ModuleTest);

}  // namespace cts
