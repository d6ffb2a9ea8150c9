// Modules: OpenCL C (build options, build failures with the log), SPIR-V from clang +
// llvm-spirv (translated for PoCL, with specialization constants; corrupt images refused),
// platform binaries, images from files, and the program cache.
#define CL_TARGET_OPENCL_VERSION 300
#include <CL/cl.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "fixture.h"
#include "udal/udal_opencl.h"

namespace udal::opencl::test {
namespace {

class ModuleTest : public OpenclDriverTest {
protected:
  void TearDown() override {
    unsetenv("UDAL_OPENCL_CACHE");
    unsetenv("UDAL_OPENCL_LLVM_SPIRV");
    setenv("XDG_CACHE_HOME", test_cache_home().c_str(), 1);
  }
  // Replaces the fixture's instance with one whose driver caches programs in a directory of
  // this test alone (PoCL keeps its own cache where it was).
  void use_private_cache() {
    static int counter = 0;
    private_home_ = std::string(UDAL_OPENCL_TEST_TMP_DIR) + "/cache-" + std::to_string(::getpid()) +
                    "-" + std::to_string(++counter);
    setenv("XDG_CACHE_HOME", private_home_.c_str(), 1);
    io_stream_.reset();
    modules_.clear();
    instance_.reset();
    udal_instance_t raw = nullptr;
    ASSERT_EQ(UDAL_SUCCESS, create_opencl_instance(&raw)) << udal_last_error_message();
    instance_.reset(raw);
    ASSERT_EQ(UDAL_SUCCESS, udal_instance_get_device(raw, 0, &device_));
    io_stream_ = make_stream();
  }
  std::string private_home_;
  bool accepts(udal_module_format_t format) const {
    for (uint32_t i = 0; i < info_.module_format_count; ++i) {
      if (info_.module_formats[i] == format)
        return true;
    }
    return false;
  }
  // vector_add of |module| over 100 floats, checked.
  void expect_vector_add_works(udal_module_t module) {
    udal_kernel_t raw = nullptr;
    UDAL_ASSERT_OK(udal_kernel_create(module, "vector_add", &raw));
    Kernel kernel(raw);
    constexpr uint32_t n = 100;
    std::vector<float> a(n), b(n);
    for (uint32_t i = 0; i < n; ++i) {
      a[i] = static_cast<float>(i);
      b[i] = 0.5f * static_cast<float>(i);
    }
    Buffer ba = make_buffer(n * 4), bb = make_buffer(n * 4), bc = make_buffer(n * 4);
    write(ba.get(), 0, a.data(), n * 4);
    write(bb.get(), 0, b.data(), n * 4);
    UDAL_ASSERT_OK(launch(io_stream_.get(), kernel.get(),
                          {udal_arg_buffer_access(ba.get(), 0, UDAL_ARG_ACCESS_READ),
                           udal_arg_buffer_access(bb.get(), 0, UDAL_ARG_ACCESS_READ),
                           // OpenCL C cannot say write-only: the kernel declares READ_WRITE.
                           udal_arg_buffer_access(bc.get(), 0, UDAL_ARG_ACCESS_READ_WRITE),
                           udal_arg_value(&n, 4)},
                          4, 32));
    std::vector<float> c = read_as<float>(bc.get(), n);
    for (uint32_t i = 0; i < n; ++i)
      ASSERT_EQ(c[i], 1.5f * static_cast<float>(i)) << i;
  }
  std::string cache_dir() const { return private_home_ + "/udal/opencl"; }
  std::vector<std::string> cache_files() const {
    std::vector<std::string> files;
    if (DIR* dir = opendir(cache_dir().c_str())) {
      while (const dirent* e = readdir(dir)) {
        std::string name = e->d_name;
        if (name.size() > 4 && name.substr(name.size() - 4) == ".bin")
          files.push_back(name);
      }
      closedir(dir);
    }
    return files;
  }
  // An OpenCL C source no earlier run built (so the cache has no entry for it).
  std::vector<uint8_t> fresh_source() {
    static int counter = 0;
    std::string text = "// " + std::to_string(::getpid()) + "-" + std::to_string(++counter) + "-" +
                       std::to_string(std::rand()) + "\n";
    std::vector<uint8_t> source = kernel_source();
    source.insert(source.begin(), text.begin(), text.end());
    return source;
  }
};

TEST_F(ModuleTest, OpenclCSourceBuildsAndRuns) {
  udal_module_t module = nullptr;
  UDAL_ASSERT_OK(create_module(device_, UDAL_MODULE_FORMAT_OPENCL_C, kernel_source(), &module));
  Module owned(module);
  udal_module_info_t info = UDAL_MODULE_INFO_INIT;
  UDAL_ASSERT_OK(udal_module_get_info(module, &info));
  EXPECT_EQ(info.format, UDAL_MODULE_FORMAT_OPENCL_C);
  EXPECT_EQ(info.image_index, 0u);
  expect_vector_add_works(module);
}

// The "done when": a SPIR-V kernel compiled from OpenCL C with clang + llvm-spirv
// runs on the device through udal_module_create.
TEST_F(ModuleTest, SpirvCompiledFromOpenclCRuns) {
  if (!accepts(UDAL_MODULE_FORMAT_SPIRV_KERNEL))
    GTEST_SKIP() << "device takes no SPIRV_KERNEL";
  std::vector<uint8_t> spirv = kernel_spirv();
  ASSERT_FALSE(spirv.empty());
  udal_module_t module = nullptr;
  UDAL_ASSERT_OK(create_module(device_, UDAL_MODULE_FORMAT_SPIRV_KERNEL, spirv, &module));
  Module owned(module);
  expect_vector_add_works(module);
}

// Both translators: the tool (the default, in a process of its own) and the library (in
// the process), each with specialization constants and no cache, so the translation runs.
TEST_F(ModuleTest, SpirvThroughTheTranslatorToolAndLibraryWithSpecializationConstants) {
  if (!accepts(UDAL_MODULE_FORMAT_SPIRV_KERNEL))
    GTEST_SKIP() << "device takes no SPIRV_KERNEL";
  setenv("UDAL_OPENCL_CACHE", "0", 1);
  for (const char* translator : {UDAL_OPENCL_TEST_LLVM_SPIRV, "library"}) {
    SCOPED_TRACE(translator);
    if (std::string(translator) != "library" && access(translator, X_OK) != 0)
      continue;
    setenv("UDAL_OPENCL_LLVM_SPIRV", translator, 1);
    udal_instance_t raw = nullptr;
    UDAL_ASSERT_OK(create_opencl_instance(&raw));
    Instance instance(raw);
    udal_device_t device = nullptr;
    UDAL_ASSERT_OK(udal_instance_get_device(raw, 0, &device));
    const int32_t seven = 5;
    const float eight = 2.5f;
    udal_module_t module = nullptr;
    UDAL_ASSERT_OK(create_module(device, UDAL_MODULE_FORMAT_SPIRV_KERNEL,
                                 kernel_spirv("spec_constants.spv"), &module, nullptr,
                                 {{7, 4, &seven}, {8, 4, &eight}}));
    Module module_owner(module);
    udal_kernel_t kernel = nullptr;
    UDAL_ASSERT_OK(udal_kernel_create(module, "specialized", &kernel));
    Kernel kernel_owner(kernel);
    udal_stream_t stream = nullptr;
    UDAL_ASSERT_OK(udal_stream_create(device, nullptr, &stream));
    Stream stream_owner(stream);
    udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
    desc.size = 16;
    desc.kind = UDAL_BUFFER_KIND_HOST;
    udal_buffer_t out = nullptr, scale = nullptr;
    UDAL_ASSERT_OK(udal_buffer_create(device, &desc, &out));
    Buffer out_owner(out);
    UDAL_ASSERT_OK(udal_buffer_create(device, &desc, &scale));
    Buffer scale_owner(scale);
    udal_kernel_arg_t args[2] = {udal_arg_buffer(out, 0), udal_arg_buffer(scale, 0)};
    udal_launch_desc_t launch_desc = UDAL_LAUNCH_DESC_INIT;
    launch_desc.group_count[0] = 4;
    launch_desc.args = args;
    launch_desc.arg_count = 2;
    UDAL_ASSERT_OK(udal_stream_launch(stream, kernel, &launch_desc));
    int32_t words[4] = {};
    float scale_value = 0;
    UDAL_ASSERT_OK(udal_stream_read_buffer(stream, out, 0, words, 16));
    UDAL_ASSERT_OK(udal_stream_read_buffer(stream, scale, 0, &scale_value, 4));
    UDAL_ASSERT_OK(udal_stream_synchronize(stream, kWaitNs));
    EXPECT_EQ(words[3], 5);
    EXPECT_EQ(scale_value, 2.5f);
  }
}

// Malformed SPIR-V that passes the driver's structural checks reaches the translator: a
// translator that fails (the tool exits with an error, or aborts on an assertion in its own
// process) makes INVALID_MODULE, never a crash of this process.
TEST_F(ModuleTest, SpirvTheTranslatorRefusesIsInvalidModule) {
  if (!accepts(UDAL_MODULE_FORMAT_SPIRV_KERNEL))
    GTEST_SKIP() << "device takes no SPIRV_KERNEL";
  if (access(UDAL_OPENCL_TEST_LLVM_SPIRV, X_OK) != 0)
    GTEST_SKIP() << "no llvm-spirv tool";
  setenv("UDAL_OPENCL_CACHE", "0", 1);
  setenv("UDAL_OPENCL_LLVM_SPIRV", UDAL_OPENCL_TEST_LLVM_SPIRV, 1);
  udal_instance_t raw = nullptr;
  UDAL_ASSERT_OK(create_opencl_instance(&raw));
  Instance instance(raw);
  udal_device_t device = nullptr;
  UDAL_ASSERT_OK(udal_instance_get_device(raw, 0, &device));
  // Every OpStore gets its pointer and value swapped: operand types that do not match (the
  // library asserts on exactly this), in an instruction the driver's checks do not read.
  std::vector<uint8_t> spirv = kernel_spirv();
  std::vector<uint32_t> words(spirv.size() / 4);
  std::memcpy(words.data(), spirv.data(), spirv.size());
  int stores = 0;
  for (size_t at = 5; at < words.size();) {
    const uint32_t count = words[at] >> 16;
    if ((words[at] & 0xffff) == 62 && count >= 3) { // OpStore
      std::swap(words[at + 1], words[at + 2]);
      ++stores;
    }
    at += count == 0 ? 1 : count;
  }
  ASSERT_GT(stores, 0);
  std::memcpy(spirv.data(), words.data(), spirv.size());
  udal_module_t module = reinterpret_cast<udal_module_t>(1);
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE,
                    create_module(device, UDAL_MODULE_FORMAT_SPIRV_KERNEL, spirv, &module),
                    "llvm-spirv");
  EXPECT_EQ(module, nullptr);
}

TEST_F(ModuleTest, SpecializationConstantsApplyAndBadOnesAreRefused) {
  if (!accepts(UDAL_MODULE_FORMAT_SPIRV_KERNEL))
    GTEST_SKIP() << "device takes no SPIRV_KERNEL";
  std::vector<uint8_t> spirv = kernel_spirv("spec_constants.spv");
  for (bool set : {false, true}) {
    const int32_t seven = -3;
    const float eight = 0.25f;
    std::vector<udal_specialization_constant_t> constants;
    if (set)
      constants = {{7, 4, &seven}, {8, 4, &eight}};
    udal_module_t module = nullptr;
    UDAL_ASSERT_OK(create_module(device_, UDAL_MODULE_FORMAT_SPIRV_KERNEL, spirv, &module, nullptr,
                                 constants));
    modules_.emplace_back(module);
    udal_kernel_t raw = nullptr;
    UDAL_ASSERT_OK(udal_kernel_create(module, "specialized", &raw));
    Kernel kernel(raw);
    Buffer out = make_buffer(16);
    Buffer scale = make_buffer(4);
    UDAL_ASSERT_OK(launch(io_stream_.get(), kernel.get(),
                          {udal_arg_buffer(out.get(), 0), udal_arg_buffer(scale.get(), 0)}, 4));
    EXPECT_EQ(read_as<int32_t>(out.get(), 4), std::vector<int32_t>(4, set ? -3 : 42));
    EXPECT_EQ(read_as<float>(scale.get(), 1)[0], set ? 0.25f : 1.5f);
  }
  const uint64_t wide = 1;
  udal_module_t module = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    create_module(device_, UDAL_MODULE_FORMAT_SPIRV_KERNEL, spirv, &module, nullptr,
                                  {{9, 4, &wide}}),
                    "id 9", "7, 8");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    create_module(device_, UDAL_MODULE_FORMAT_SPIRV_KERNEL, spirv, &module, nullptr,
                                  {{7, 8, &wide}}),
                    "size 8");
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    create_module(device_, UDAL_MODULE_FORMAT_OPENCL_C, kernel_source(), &module,
                                  nullptr, {{7, 4, &wide}}),
                    "OPENCL_C");
  EXPECT_EQ(module, nullptr);
}

TEST_F(ModuleTest, CorruptOrForeignSpirvIsInvalidModule) {
  if (!accepts(UDAL_MODULE_FORMAT_SPIRV_KERNEL))
    GTEST_SKIP() << "device takes no SPIRV_KERNEL";
  const std::vector<uint8_t> good = kernel_spirv();
  std::vector<uint8_t> random(4096);
  for (size_t i = 0; i < random.size(); ++i)
    random[i] = static_cast<uint8_t>(i * 131 + 7);
  const std::vector<std::pair<std::vector<uint8_t>, const char*>> cases = {
      {std::vector<uint8_t>(good.begin(), good.begin() + good.size() / 2), "truncated"},
      {std::vector<uint8_t>(good.begin(), good.end() - 1), "words"},
      {std::vector<uint8_t>(good.begin(), good.begin() + 16), "too few"},
      {random, "magic"},
      {kernel_spirv("test_kernels32.spv"), "Physical32"},
  };
  for (const auto& [bytes, why] : cases) {
    udal_module_t module = reinterpret_cast<udal_module_t>(1);
    UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE,
                      create_module(device_, UDAL_MODULE_FORMAT_SPIRV_KERNEL, bytes, &module), why);
    EXPECT_EQ(module, nullptr);
  }
}

TEST_F(ModuleTest, FailedBuildIsInvalidModuleWithTheBuildLog) {
  const std::string text = "kernel void broken(global uint* out) { out[0] = undeclared_thing; }";
  udal_module_t module = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE,
                    create_module(device_, UDAL_MODULE_FORMAT_OPENCL_C,
                                  std::vector<uint8_t>(text.begin(), text.end()), &module),
                    "build log", "undeclared_thing");
  EXPECT_EQ(module, nullptr);
}

TEST_F(ModuleTest, BuildOptionsReachTheCompiler) {
  const std::string text = "kernel void k(global int* out) { out[0] = VALUE; }";
  const std::vector<uint8_t> source(text.begin(), text.end());
  for (int value : {5, 17}) {
    const std::string options = "-DVALUE=" + std::to_string(value);
    udal_module_t module = nullptr;
    UDAL_ASSERT_OK(
        create_module(device_, UDAL_MODULE_FORMAT_OPENCL_C, source, &module, options.c_str()));
    modules_.emplace_back(module);
    udal_kernel_t raw = nullptr;
    UDAL_ASSERT_OK(udal_kernel_create(module, "k", &raw));
    Kernel kernel(raw);
    Buffer out = make_buffer(4);
    UDAL_ASSERT_OK(launch(io_stream_.get(), kernel.get(), {udal_arg_buffer(out.get(), 0)}));
    EXPECT_EQ(read_as<int32_t>(out.get(), 1)[0], value);
  }
  udal_module_t module = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE,
                    create_module(device_, UDAL_MODULE_FORMAT_OPENCL_C, source, &module), "VALUE");
}

TEST_F(ModuleTest, FirstAcceptedImageIsTakenAndOthersAreUnsupported) {
  static const char junk[] = "not a module";
  const std::vector<uint8_t> source = kernel_source();
  udal_module_image_t images[2] = {UDAL_MODULE_IMAGE_INIT, UDAL_MODULE_IMAGE_INIT};
  images[0].format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  images[0].data = junk;
  images[0].size = sizeof(junk);
  images[1].format = UDAL_MODULE_FORMAT_OPENCL_C;
  images[1].data = source.data();
  images[1].size = source.size();
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = images;
  desc.image_count = 2;
  udal_module_t module = nullptr;
  UDAL_ASSERT_OK(udal_module_create(device_, &desc, &module));
  Module owned(module);
  udal_module_info_t info = UDAL_MODULE_INFO_INIT;
  UDAL_ASSERT_OK(udal_module_get_info(module, &info));
  EXPECT_EQ(info.image_index, 1u);
  EXPECT_EQ(info.format, UDAL_MODULE_FORMAT_OPENCL_C);
  desc.image_count = 1;
  udal_module_t none = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_UNSUPPORTED, udal_module_create(device_, &desc, &none),
                    "HOST_NATIVE", "OPENCL_C");
}

TEST_F(ModuleTest, ImagesAreReadFromFiles) {
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  const std::string path = std::string(UDAL_OPENCL_KERNEL_SOURCE_DIR) + "/test_kernels.cl";
  image.format = UDAL_MODULE_FORMAT_OPENCL_C;
  image.path = path.c_str();
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = &image;
  desc.image_count = 1;
  udal_module_t module = nullptr;
  UDAL_ASSERT_OK(udal_module_create(device_, &desc, &module));
  Module owned(module);
  expect_vector_add_works(module);
  for (const char* bad : {"/nonexistent/kernels.cl", UDAL_OPENCL_KERNEL_SOURCE_DIR}) {
    image.path = bad;
    udal_module_t none = nullptr;
    UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE, udal_module_create(device_, &desc, &none), bad);
  }
}

TEST_F(ModuleTest, PlatformBinaryIsAVendorFormat) {
  // The platform's own binary of the test kernels, as an OpenCL program would save it.
  cl_platform_id platform = nullptr;
  cl_device_id device = nullptr;
  ASSERT_EQ(clGetPlatformIDs(1, &platform, nullptr), CL_SUCCESS);
  ASSERT_EQ(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, 1, &device, nullptr), CL_SUCCESS);
  cl_int error = CL_SUCCESS;
  cl_context context = clCreateContext(nullptr, 1, &device, nullptr, nullptr, &error);
  ASSERT_EQ(error, CL_SUCCESS);
  const std::vector<uint8_t> source = kernel_source();
  const char* text = reinterpret_cast<const char*>(source.data());
  const size_t length = source.size();
  cl_program program = clCreateProgramWithSource(context, 1, &text, &length, &error);
  ASSERT_EQ(clBuildProgram(program, 1, &device, "", nullptr, nullptr), CL_SUCCESS);
  size_t size = 0;
  clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof(size), &size, nullptr);
  std::vector<uint8_t> binary(size);
  unsigned char* pointer = binary.data();
  clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof(pointer), &pointer, nullptr);
  clReleaseProgram(program);
  clReleaseContext(context);
  ASSERT_GT(size, 0u);

  udal_module_t module = nullptr;
  UDAL_ASSERT_OK(create_module(device_, UDAL_MODULE_FORMAT_OPENCL_PROGRAM_BINARY, binary, &module));
  Module owned(module);
  udal_kernel_t raw = nullptr;
  UDAL_ASSERT_OK(udal_kernel_create(module, "add_u32", &raw));
  Kernel kernel(raw);
  // PoCL's binaries carry no argument information: the count is unknown, launches still run.
  udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
  UDAL_ASSERT_OK(udal_kernel_get_info(kernel.get(), &info));
  if ((info.flags & UDAL_KERNEL_FLAG_ARGUMENT_INFO) == 0) {
    udal_kernel_arg_info_t arg = UDAL_KERNEL_ARG_INFO_INIT;
    UDAL_EXPECT_FAILS(UDAL_ERROR_UNSUPPORTED, udal_kernel_get_argument_info(kernel.get(), 0, &arg),
                      "add_u32");
  }
  Buffer data = make_buffer(16);
  const uint32_t zero = 0, value = 4, n = 4;
  UDAL_ASSERT_OK(udal_stream_fill_buffer(io_stream_.get(), data.get(), 0, 16, &zero, 4));
  UDAL_ASSERT_OK(launch(
      io_stream_.get(), kernel.get(),
      {udal_arg_buffer(data.get(), 0), udal_arg_value(&value, 4), udal_arg_value(&n, 4)}, 1, 4));
  EXPECT_EQ(read_as<uint32_t>(data.get(), 4), std::vector<uint32_t>(4, 4u));
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_ARGUMENT,
                    launch(io_stream_.get(), kernel.get(), {udal_arg_buffer(data.get(), 0)}),
                    "3 parameter");

  // What is not a binary of the platform at all is refused before the platform parses it
  // (a damaged PoCL binary is not: PoCL asserts on it; README "Platform binaries").
  std::vector<uint8_t> garbage(4096, 0x5a);
  udal_module_t broken = nullptr;
  UDAL_EXPECT_FAILS(
      UDAL_ERROR_INVALID_MODULE,
      create_module(device_, UDAL_MODULE_FORMAT_OPENCL_PROGRAM_BINARY, garbage, &broken));
  binary.resize(64);
  UDAL_EXPECT_FAILS(
      UDAL_ERROR_INVALID_MODULE,
      create_module(device_, UDAL_MODULE_FORMAT_OPENCL_PROGRAM_BINARY, binary, &broken));
  EXPECT_EQ(broken, nullptr);
}

TEST_F(ModuleTest, KernelsTheDriverCannotLaunchAreRefusedByName) {
  for (udal_module_format_t format :
       {UDAL_MODULE_FORMAT_OPENCL_C, UDAL_MODULE_FORMAT_SPIRV_KERNEL}) {
    if (!accepts(format))
      continue;
    udal_module_t module = nullptr;
    UDAL_ASSERT_OK(create_module(
        device_, format, format == UDAL_MODULE_FORMAT_OPENCL_C ? kernel_source() : kernel_spirv(),
        &module));
    Module owned(module);
    udal_kernel_t kernel = reinterpret_cast<udal_kernel_t>(1);
    UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE, udal_kernel_create(module, "local_first", &kernel),
                      "local_first", "last parameter");
    EXPECT_EQ(kernel, nullptr);
    UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE, udal_kernel_create(module, "uses_image", &kernel),
                      "image");
    UDAL_EXPECT_FAILS(UDAL_ERROR_KERNEL_NOT_FOUND, udal_kernel_create(module, "no_such", &kernel),
                      "no_such", "vector_add");
  }
}

// ---------------------------------------------------------------------------------------
// The program cache
// ---------------------------------------------------------------------------------------

TEST_F(ModuleTest, ProgramCacheKeepsABuildAndLoadsItTheNextTime) {
  use_private_cache();
  const std::vector<uint8_t> source = fresh_source();
  udal_module_t module = nullptr;
  UDAL_ASSERT_OK(create_module(device_, UDAL_MODULE_FORMAT_OPENCL_C, source, &module));
  modules_.emplace_back(module);
  std::vector<std::string> files = cache_files();
  ASSERT_EQ(files.size(), 1u) << "no cache entry in " << cache_dir();
  // No entry may be replaced by a second build of the same source (rename makes a new inode).
  std::vector<std::pair<std::string, ino_t>> inodes;
  for (const std::string& f : files) {
    struct stat st {};
    ASSERT_EQ(stat((cache_dir() + "/" + f).c_str(), &st), 0);
    EXPECT_TRUE(S_ISREG(st.st_mode));
    inodes.emplace_back(f, st.st_ino);
  }
  udal_module_t again = nullptr;
  UDAL_ASSERT_OK(create_module(device_, UDAL_MODULE_FORMAT_OPENCL_C, source, &again));
  modules_.emplace_back(again);
  EXPECT_EQ(cache_files().size(), 1u);
  for (const auto& [f, inode] : inodes) {
    struct stat st {};
    ASSERT_EQ(stat((cache_dir() + "/" + f).c_str(), &st), 0);
    EXPECT_EQ(st.st_ino, inode) << f << " was rewritten: the cached build was not used";
  }
  // The cached program's kernels keep their argument information.
  udal_kernel_t raw = nullptr;
  UDAL_ASSERT_OK(udal_kernel_create(again, "vector_add", &raw));
  Kernel kernel(raw);
  udal_kernel_info_t info = UDAL_KERNEL_INFO_INIT;
  UDAL_ASSERT_OK(udal_kernel_get_info(kernel.get(), &info));
  EXPECT_NE(info.flags & UDAL_KERNEL_FLAG_ARGUMENT_INFO, 0u);
  EXPECT_EQ(info.argument_count, 4u);
  expect_vector_add_works(again);
}

TEST_F(ModuleTest, DamagedOrForeignCacheEntriesAreRebuiltNeverTrusted) {
  use_private_cache();
  const std::vector<uint8_t> source = fresh_source();
  udal_module_t module = nullptr;
  UDAL_ASSERT_OK(create_module(device_, UDAL_MODULE_FORMAT_OPENCL_C, source, &module));
  modules_.emplace_back(module);
  const std::vector<std::string> files = cache_files();
  ASSERT_EQ(files.size(), 1u);
  const std::string entry = files[0];
  const std::string path = cache_dir() + "/" + entry;
  // Garbage, a truncated entry, a FIFO (opening it must not block), a directory.
  const auto replace_with = [&](int what) {
    unlink(path.c_str());
    rmdir(path.c_str());
    if (what == 0) {
      std::ofstream(path) << "garbage";
    } else if (what == 1) {
      std::ofstream(path, std::ios::binary) << std::string("UDALOCL1\x10\0\0\0\0\0\0\0", 16);
    } else if (what == 2) {
      ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
    } else {
      ASSERT_EQ(mkdir(path.c_str(), 0700), 0);
    }
  };
  for (int what = 0; what < 4; ++what) {
    replace_with(what);
    udal_module_t rebuilt = nullptr;
    UDAL_ASSERT_OK(create_module(device_, UDAL_MODULE_FORMAT_OPENCL_C, source, &rebuilt));
    Module owned(rebuilt);
    expect_vector_add_works(rebuilt);
  }
  rmdir(path.c_str());
}

TEST_F(ModuleTest, CacheOffKeepsNothing) {
  setenv("UDAL_OPENCL_CACHE", "0", 1);
  use_private_cache();
  udal_module_t module = nullptr;
  UDAL_ASSERT_OK(create_module(device_, UDAL_MODULE_FORMAT_OPENCL_C, fresh_source(), &module));
  Module owned(module);
  EXPECT_EQ(cache_files().size(), 0u);
}

} // namespace
} // namespace udal::opencl::test
