// The pipeline cache file (src/pipeline_cache.h): written when the device goes, loaded by the
// next instance, and ignored — said in the log, never read past its checks, replaced — when
// it is corrupt, truncated, huge, foreign, or not a regular file.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "fixture.h"

namespace udal::vulkan::test {
namespace {

namespace fs = std::filesystem;

constexpr size_t kHeaderBytes = 56;   // the driver's header before the Vulkan data
constexpr size_t kDigestOffset = 24;  // of the payload's SHA-256 in that header

std::string read_all(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

void write_all(const fs::path& path, const std::string& bytes) {
  fs::remove(path);
  std::ofstream file(path, std::ios::binary);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The file's header digest made right again after its payload was changed.
void reseal(std::string* file) {
  unsigned char digest[32];
  unsigned int length = 0;
  ASSERT_EQ(EVP_Digest(file->data() + kHeaderBytes, file->size() - kHeaderBytes, digest, &length,
                       EVP_sha256(), nullptr),
            1);
  std::memcpy(file->data() + kDigestOffset, digest, sizeof digest);
}

class PipelineCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("udal-vulkan-pipeline-cache-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    setenv("UDAL_VULKAN_PIPELINE_CACHE", dir_.c_str(), 1);
    setenv("UDAL_LOG", "info", 1);
  }
  void TearDown() override {
    unsetenv("UDAL_VULKAN_PIPELINE_CACHE");
    unsetenv("UDAL_LOG");
    fs::remove_all(dir_);
  }

  // An instance of the build tree's driver creates kernel fixed_size (its pipeline is made
  // at creation, through the cache), launches it and checks what it wrote, and goes (the
  // device saves the cache). Returns what libudal and the driver logged meanwhile.
  std::string run_once() {
    ::testing::internal::CaptureStderr();
    run_kernel();
    return ::testing::internal::GetCapturedStderr();
  }

  // The one cache file in the directory; empty when there is none.
  fs::path cache_file() const {
    fs::path found;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (entry.path().extension() == ".pipelines") found = entry.path();
    }
    return found;
  }

  // Replaces the cache file with |bytes|, runs, and expects the log to say it was ignored
  // for |why|, the kernel to have run, and a good file to be there again afterwards.
  void expect_ignored_and_replaced(const std::string& bytes, const char* why) {
    const fs::path path = cache_file();
    ASSERT_FALSE(path.empty());
    write_all(path, bytes);
    const std::string log = run_once();
    EXPECT_NE(log.find("is ignored"), std::string::npos) << log;
    EXPECT_NE(log.find(why), std::string::npos) << log;
    EXPECT_NE(log.find("saved"), std::string::npos) << log;
    expect_loads();
  }

  void expect_loads() {
    const std::string log = run_once();
    EXPECT_NE(log.find("loaded"), std::string::npos) << log;
    EXPECT_EQ(log.find("is ignored"), std::string::npos) << log;
  }

  fs::path dir_;

 private:
  void run_kernel() {
    const char* paths[] = {UDAL_VULKAN_MANIFEST};
    udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
    desc.driver_paths = paths;
    desc.driver_path_count = 1;
    udal_instance_t raw = nullptr;
    UDAL_ASSERT_OK(udal_instance_create(&desc, &raw));
    Instance instance(raw);
    udal_device_t device = nullptr;
    UDAL_ASSERT_OK(udal_instance_get_device(raw, 0, &device));
    Module module = make_module(device, kSpirv, kernel_spirv("fixed_size"));
    ASSERT_TRUE(module);
    Kernel kernel = make_kernel(module.get(), "fixed_size");
    ASSERT_TRUE(kernel);
    udal_buffer_desc_t buffer_desc = UDAL_BUFFER_DESC_INIT;
    buffer_desc.size = 8 * sizeof(uint32_t);
    buffer_desc.kind = UDAL_BUFFER_KIND_HOST;
    udal_buffer_t raw_buffer = nullptr;
    UDAL_ASSERT_OK(udal_buffer_create(device, &buffer_desc, &raw_buffer));
    Buffer buffer(raw_buffer);
    udal_stream_t raw_stream = nullptr;
    UDAL_ASSERT_OK(udal_stream_create(device, nullptr, &raw_stream));
    Stream stream(raw_stream);
    const udal_kernel_arg_t arg = udal_arg_buffer(raw_buffer, 0);
    udal_launch_desc_t launch = UDAL_LAUNCH_DESC_INIT;
    launch.group_count[0] = launch.group_count[1] = launch.group_count[2] = 1;
    launch.group_size[0] = 8;
    launch.group_size[1] = launch.group_size[2] = 1;
    launch.args = &arg;
    launch.arg_count = 1;
    UDAL_ASSERT_OK(udal_stream_launch(raw_stream, kernel.get(), &launch));
    uint32_t out[8] = {};
    UDAL_ASSERT_OK(udal_stream_read_buffer(raw_stream, raw_buffer, 0, out, sizeof out));
    UDAL_ASSERT_OK(udal_stream_synchronize(raw_stream, kWaitNs));
    for (uint32_t i = 0; i < 8; ++i) EXPECT_EQ(out[i], i);
  }
};

TEST_F(PipelineCacheTest, TheNextInstanceLoadsWhatTheLastOneSaved) {
  const std::string first = run_once();
  EXPECT_NE(first.find("saved"), std::string::npos) << first;
  const fs::path path = cache_file();
  ASSERT_FALSE(path.empty()) << "no .pipelines file in " << dir_;
  EXPECT_GT(fs::file_size(path), kHeaderBytes);
  // Only the user reads and writes it (mkstemp's mode).
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  expect_loads();
  // Nothing else is left in the directory (no temporary file).
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(PipelineCacheTest, ACorruptedFileIsIgnoredAndReplaced) {
  run_once();
  std::string bytes = read_all(cache_file());
  // A byte of the Vulkan header's pipelineCacheUUID (lavapipe's data may be that header only).
  ASSERT_GT(bytes.size(), kHeaderBytes + 20);
  bytes[kHeaderBytes + 20] ^= 0x5a;
  expect_ignored_and_replaced(bytes, "SHA-256");
}

TEST_F(PipelineCacheTest, ATruncatedFileIsIgnoredAndReplaced) {
  run_once();
  std::string bytes = read_all(cache_file());
  expect_ignored_and_replaced(bytes.substr(0, bytes.size() / 2), "truncated");
  expect_ignored_and_replaced(bytes.substr(0, 10), "truncated");
  expect_ignored_and_replaced(std::string(), "truncated");
}

TEST_F(PipelineCacheTest, AFileOfAnotherDeviceIsIgnoredAndReplaced) {
  run_once();
  std::string bytes = read_all(cache_file());
  // The Vulkan header's vendorID (bytes 8-11 of the payload), with a digest that matches:
  // only the header check can tell.
  bytes[kHeaderBytes + 8] ^= 0x01;
  reseal(&bytes);
  expect_ignored_and_replaced(bytes, "another device");
  // A header version other than one.
  bytes = read_all(cache_file());
  bytes[kHeaderBytes + 4] = 7;
  reseal(&bytes);
  expect_ignored_and_replaced(bytes, "version-one");
}

TEST_F(PipelineCacheTest, AFileThatIsNotAPipelineCacheIsIgnoredAndReplaced) {
  run_once();
  expect_ignored_and_replaced(std::string(4096, 'x'), "magic");
}

TEST_F(PipelineCacheTest, AHugeFileIsNotRead) {
  run_once();
  const fs::path path = cache_file();
  fs::remove(path);
  {
    std::ofstream file(path, std::ios::binary);
  }
  // Sparse: 1 GiB of size costs no disk. Read, it would take seconds and a GiB of memory.
  fs::resize_file(path, uint64_t{1} << 30);
  const std::string log = run_once();
  EXPECT_NE(log.find("is ignored"), std::string::npos) << log;
  EXPECT_NE(log.find("more than the"), std::string::npos) << log;
  EXPECT_LT(fs::file_size(path), uint64_t{1} << 20) << "the huge file was not replaced";
  expect_loads();
}

TEST_F(PipelineCacheTest, AFifoOrDirectoryAtThePathIsNotOpened) {
  run_once();
  const fs::path path = cache_file();
  fs::remove(path);
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  // Opening a FIFO for reading would block for ever: the type is checked first.
  std::string log = run_once();
  EXPECT_NE(log.find("FIFO"), std::string::npos) << log;
  EXPECT_TRUE(fs::is_regular_file(path)) << "the FIFO was not replaced";
  expect_loads();
  // A directory cannot be renamed over: the file is not written, and nothing fails.
  fs::remove(path);
  fs::create_directory(path);
  log = run_once();
  EXPECT_NE(log.find("directory"), std::string::npos) << log;
  EXPECT_NE(log.find("not saved"), std::string::npos) << log;
}

TEST_F(PipelineCacheTest, OffWritesNothing) {
  setenv("UDAL_VULKAN_PIPELINE_CACHE", "off", 1);
  const std::string log = run_once();
  EXPECT_NE(log.find("pipeline cache off"), std::string::npos) << log;
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(PipelineCacheTest, ARelativeDirectoryIsRefusedAndTheCacheStaysInMemory) {
  setenv("UDAL_VULKAN_PIPELINE_CACHE", "relative/dir", 1);
  const std::string log = run_once();
  EXPECT_NE(log.find("absolute"), std::string::npos) << log;
  EXPECT_FALSE(fs::exists("relative/dir"));
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(PipelineCacheTest, TheDefaultDirectoryIsUnderXdgCacheHome) {
  unsetenv("UDAL_VULKAN_PIPELINE_CACHE");
  const std::string saved_xdg = std::getenv("XDG_CACHE_HOME") ? std::getenv("XDG_CACHE_HOME") : "";
  setenv("XDG_CACHE_HOME", dir_.c_str(), 1);
  run_once();
  if (saved_xdg.empty()) {
    unsetenv("XDG_CACHE_HOME");
  } else {
    setenv("XDG_CACHE_HOME", saved_xdg.c_str(), 1);
  }
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir_ / "udal" / "vulkan")) {
    EXPECT_EQ(entry.path().extension(), ".pipelines");
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

}  // namespace
}  // namespace udal::vulkan::test
