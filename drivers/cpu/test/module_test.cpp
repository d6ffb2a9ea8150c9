// Modules and kernels: loading HOST_NATIVE images, format choice, corrupt images, names.
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fixture.h"

namespace udal::cpu::test {
namespace {

udal_module_image_t bytes_image(udal_module_format_t format, const std::vector<uint8_t>& bytes) {
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = format;
  image.data = bytes.data();
  image.size = bytes.size();
  return image;
}

udal_module_image_t path_image(const std::string& path) {
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  image.path = path.c_str();
  return image;
}

// A directory of its own under the temporary directory, removed with what it holds.
class ScratchDirectory {
 public:
  ScratchDirectory() {
    std::string pattern = (std::filesystem::temp_directory_path() / "udal-cpu-module-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDirectory() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  const std::string& path() const { return path_; }
  std::string write(const std::string& name, const std::vector<uint8_t>& bytes) const {
    const std::string file = path_ + "/" + name;
    std::ofstream(file, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return file;
  }

 private:
  std::string path_;
};

#if defined(__aarch64__)
constexpr uint16_t kForeignMachine = EM_X86_64;
constexpr const char* kForeignMachineName = "x86-64";
#else
constexpr uint16_t kForeignMachine = EM_AARCH64;
constexpr const char* kForeignMachineName = "AArch64";
#endif

// The test kernels with their ELF header's machine (e_machine, at byte 18 in host byte
// order) changed: an image of another machine, well formed otherwise.
std::vector<uint8_t> foreign_kernels() {
  auto bytes = read_file(UDAL_CPU_TEST_KERNELS);
  if (bytes.size() >= 20) std::memcpy(bytes.data() + 18, &kForeignMachine, sizeof kForeignMachine);
  return bytes;
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
  std::vector<uint8_t> spirv(64, 0x03);
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
  std::vector<uint8_t> bytes(64, 1);
  udal_module_t raw = nullptr;
  UDAL_EXPECT_FAILS(UDAL_ERROR_UNSUPPORTED,
                    create({bytes_image(UDAL_MODULE_FORMAT_SPIRV_KERNEL, bytes),
                            bytes_image(UDAL_MODULE_FORMAT_PTX, bytes)},
                           &raw),
                    "SPIRV_KERNEL", "PTX", "HOST_NATIVE");
  EXPECT_EQ(raw, nullptr);
}

TEST_F(ModuleTest, CorruptBytesAreAnInvalidModuleWithTheLoaderError) {
  std::vector<uint8_t> garbage(4096, 0x42);
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

// A HOST_NATIVE path passes libudal's checks for driver libraries before anything opens or
// maps it (udal/sdk/file_check.h): each refusal is INVALID_MODULE naming the file and the
// check that failed. Before them a FIFO blocked for ever, a directory was INTERNAL
// "basic_filebuf::underflow", /dev/zero read until memory ran out.
TEST_F(ModuleTest, HostNativeFilesAreCheckedBeforeTheyAreOpenedSayingWhichCheckFailed) {
  ScratchDirectory dir;
  ASSERT_FALSE(dir.path().empty());
  udal_module_t raw = nullptr;
  auto expect_refused = [&](const std::string& path, const char* check, const char* found) {
    SCOPED_TRACE(path);
    UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE, create({path_image(path)}, &raw), path.c_str(),
                      check, found);
    EXPECT_EQ(raw, nullptr);
  };
  const std::string fifo = dir.path() + "/fifo.so";  // nobody writes: a read blocks for ever
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  expect_refused(fifo, "file type", "a FIFO");
  expect_refused(dir.path(), "file type", "a directory");
  expect_refused("/dev/zero", "file type", "a character device");

  // 1 GiB and a byte, sparse: the limit is checked on the size, nothing is read.
  const std::string big = dir.path() + "/big.so";
  {
    const int fd = open(big.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, (off_t{1} << 30) + 1), 0);
    close(fd);
  }
  expect_refused(big, "size", "1073741825 bytes");

  const std::string text_bytes = "#!/bin/sh\necho not a shared object\n";
  std::vector<uint8_t> text(text_bytes.size());
  std::memcpy(text.data(), text_bytes.data(), text.size());
  expect_refused(dir.write("script.so", text), "ELF magic", "23 21 2f 62");

  auto truncated = read_file(UDAL_CPU_TEST_KERNELS);
  truncated.resize(truncated.size() / 2);
  expect_refused(dir.write("truncated.so", truncated), "truncated", "past the end");

  expect_refused(dir.write("foreign.so", foreign_kernels()), "ELF machine", kForeignMachineName);

  const std::string link = dir.path() + "/loop.so";  // a symlink to itself
  ASSERT_EQ(symlink(link.c_str(), link.c_str()), 0);
  expect_refused(link, "stat", "symlink loop");

  // The checks pass a good file (and the refusals above left nothing behind).
  UDAL_ASSERT_OK(create({path_image(UDAL_CPU_OTHER_KERNELS)}, &raw));
  Module module(raw);
  EXPECT_EQ(identify(raw), 7u);
}

// Bytes get the same ELF checks, and a size past 1 GiB is refused before a byte is read
// (before, the size alone was believed: OUT_OF_HOST_MEMORY "Bad address", or a crash).
TEST_F(ModuleTest, HostNativeBytesAreCheckedBeforeTheyAreRead) {
  auto image = read_file(UDAL_CPU_TEST_KERNELS);
  udal_module_t raw = nullptr;
  for (const size_t size : {(size_t{1} << 30) + 1, SIZE_MAX}) {
    udal_module_image_t oversized = bytes_image(UDAL_MODULE_FORMAT_HOST_NATIVE, image);
    oversized.size = size;  // far more than |image| holds: reading it would be a crash
    const std::string size_text = std::to_string(size);
    UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE, create({oversized}, &raw), "images[0]",
                      size_text.c_str(), "1073741824");
  }
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE,
                    create({bytes_image(UDAL_MODULE_FORMAT_HOST_NATIVE, foreign_kernels())}, &raw),
                    "ELF machine", kForeignMachineName);
  auto other_class = image;
  other_class[EI_CLASS] = sizeof(void*) == 8 ? ELFCLASS32 : ELFCLASS64;
  UDAL_EXPECT_FAILS(UDAL_ERROR_INVALID_MODULE,
                    create({bytes_image(UDAL_MODULE_FORMAT_HOST_NATIVE, other_class)}, &raw),
                    "ELF class");
  EXPECT_EQ(raw, nullptr);
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
