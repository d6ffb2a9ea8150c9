// fork(): in the child, every call on a device or object of an instance created before the
// fork answers UDAL_ERROR_DEVICE_LOST with a message that says why; releasing that instance
// frees libudal's memory without calling (or unloading) the driver; a new instance works.
// The parent is unaffected. A real fork() of the test process, with the fake driver.
#include "test_support.h"

#include <cstdio>
#include <dlfcn.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

using namespace udal_test;

namespace {

// GoogleTest assertions do not cross back from a child: the child counts its failures,
// prints each one and exits with the count.
struct ChildChecks {
  int failures = 0;

  void expect(bool ok, const std::string& what) {
    if (!ok) {
      ++failures;
      std::fprintf(stderr, "child: FAILED: %s (last message: '%s')\n", what.c_str(),
                   udal_last_error_message());
    }
  }
  void expect_lost(udal_result_t r, const char* call, const std::string& parent_pid) {
    expect(r == UDAL_ERROR_DEVICE_LOST,
           std::string(call) + " returned " + udal_result_name(r) + ", not DEVICE_LOST");
    std::string message = udal_last_error_message();
    expect(message.find("created before fork() in process " + parent_pid) != std::string::npos,
           std::string(call) + ": the message does not say the instance came from process " +
               parent_pid);
    expect(message.find("create a new instance in the child") != std::string::npos,
           std::string(call) + ": the message does not say what to do");
  }
};

class ForkTest : public ::testing::Test {
protected:
  Environment env;
};

TEST_F(ForkTest, ChildGetsDeviceLostOnOldObjectsAndANewInstanceWorks) {
  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  std::string path = stub("udal_test_fake");
  const char* paths[] = {path.c_str()};
  desc.driver_paths = paths;
  desc.driver_path_count = 1;
  udal_instance_t instance = nullptr;
  ASSERT_EQ(udal_instance_create(&desc, &instance), UDAL_SUCCESS) << udal_last_error_message();
  udal_device_t device = nullptr;
  ASSERT_EQ(udal_instance_get_device(instance, 0, &device), UDAL_SUCCESS);
  udal_buffer_desc_t buffer_desc = UDAL_BUFFER_DESC_INIT;
  buffer_desc.size = 64;
  udal_buffer_t buffer = nullptr;
  ASSERT_EQ(udal_buffer_create(device, &buffer_desc, &buffer), UDAL_SUCCESS);
  udal_stream_t stream = nullptr;
  ASSERT_EQ(udal_stream_create(device, nullptr, &stream), UDAL_SUCCESS);
  const std::string parent_pid = std::to_string(getpid());

  std::fflush(nullptr);
  pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    ChildChecks c;
    udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
    c.expect_lost(udal_device_get_info(device, &info), "udal_device_get_info", parent_pid);
    uint32_t word = 7;
    c.expect_lost(udal_stream_write_buffer(stream, buffer, 0, &word, sizeof(word)),
                  "udal_stream_write_buffer", parent_pid);
    c.expect_lost(udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE), "udal_stream_synchronize",
                  parent_pid);
    udal_buffer_t another = nullptr;
    c.expect_lost(udal_buffer_create(device, &buffer_desc, &another), "udal_buffer_create",
                  parent_pid);
    c.expect(another == nullptr, "udal_buffer_create left its output set");
    c.expect_lost(udal_buffer_destroy(buffer), "udal_buffer_destroy", parent_pid);
    c.expect_lost(udal_stream_destroy(stream), "udal_stream_destroy", parent_pid);
    // libudal's own checks still come first.
    c.expect(udal_device_get_info(nullptr, &info) == UDAL_ERROR_INVALID_HANDLE,
             "a NULL device is still INVALID_HANDLE");

    // The instance's own bookkeeping still answers; releasing it calls no driver and
    // unloads nothing (the driver's static destructors could wait for the parent's threads).
    uint32_t count = 0;
    c.expect(udal_instance_get_device_count(instance, &count) == UDAL_SUCCESS && count == 1,
             "the old instance still counts its device");
    c.expect(udal_instance_release(instance) == UDAL_SUCCESS, "udal_instance_release");
    c.expect(dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD) != nullptr,
             "the driver library was unloaded in the child");

    // A new instance in the child works.
    udal_instance_t fresh = nullptr;
    c.expect(udal_instance_create(&desc, &fresh) == UDAL_SUCCESS, "udal_instance_create");
    udal_device_t fresh_device = nullptr;
    c.expect(fresh && udal_instance_get_device(fresh, 0, &fresh_device) == UDAL_SUCCESS,
             "udal_instance_get_device on the new instance");
    if (fresh_device) {
      udal_device_info_t fresh_info = UDAL_DEVICE_INFO_INIT;
      c.expect(udal_device_get_info(fresh_device, &fresh_info) == UDAL_SUCCESS,
               "udal_device_get_info on the new instance");
      udal_buffer_t b = nullptr;
      udal_stream_t s = nullptr;
      c.expect(udal_buffer_create(fresh_device, &buffer_desc, &b) == UDAL_SUCCESS,
               "udal_buffer_create on the new instance");
      c.expect(udal_stream_create(fresh_device, nullptr, &s) == UDAL_SUCCESS,
               "udal_stream_create on the new instance");
      uint32_t back = 0;
      c.expect(udal_stream_write_buffer(s, b, 0, &word, sizeof(word)) == UDAL_SUCCESS &&
                   udal_stream_read_buffer(s, b, 0, &back, sizeof(back)) == UDAL_SUCCESS &&
                   udal_stream_synchronize(s, UDAL_TIMEOUT_INFINITE) == UDAL_SUCCESS &&
                   back == word,
               "a write and read back on the new instance");
      c.expect(udal_stream_destroy(s) == UDAL_SUCCESS, "udal_stream_destroy (new)");
      c.expect(udal_buffer_destroy(b) == UDAL_SUCCESS, "udal_buffer_destroy (new)");
    }
    c.expect(fresh && udal_instance_release(fresh) == UDAL_SUCCESS, "release of the new one");
    std::fflush(nullptr);
    _exit(c.failures > 100 ? 100 : c.failures); // no atexit handlers: nothing of the parent's
  }

  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died: status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "failed checks in the child (see its stderr above)";

  // The parent is unaffected.
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  EXPECT_EQ(udal_device_get_info(device, &info), UDAL_SUCCESS) << udal_last_error_message();
  EXPECT_STREQ(info.name, "fake device 0");
  uint32_t word = 0x1234, back = 0;
  EXPECT_EQ(udal_stream_write_buffer(stream, buffer, 0, &word, sizeof(word)), UDAL_SUCCESS);
  EXPECT_EQ(udal_stream_read_buffer(stream, buffer, 0, &back, sizeof(back)), UDAL_SUCCESS);
  EXPECT_EQ(udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
  EXPECT_EQ(back, word);
  EXPECT_EQ(udal_stream_destroy(stream), UDAL_SUCCESS);
  EXPECT_EQ(udal_buffer_destroy(buffer), UDAL_SUCCESS);
  EXPECT_EQ(udal_instance_release(instance), UDAL_SUCCESS);
}

TEST_F(ForkTest, InstancesReleasedBeforeTheForkAreNotTouchedInTheChild) {
  // An instance created and released before the fork leaves no table behind: the child
  // handler must not walk freed memory (AddressSanitizer would say so).
  Instance kept({stub("udal_test_fake_b")});
  { Instance temporary({stub("udal_test_fake")}); }
  udal_device_t device = kept.device(1);
  ASSERT_NE(device, nullptr);
  std::fflush(nullptr);
  pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
    int failures = udal_device_get_info(device, &info) == UDAL_ERROR_DEVICE_LOST ? 0 : 1;
    std::string path = stub("udal_test_fake");
    const char* paths[] = {path.c_str()};
    udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
    desc.driver_paths = paths;
    desc.driver_path_count = 1;
    udal_instance_t fresh = nullptr;
    failures += udal_instance_create(&desc, &fresh) == UDAL_SUCCESS ? 0 : 1;
    failures += fresh && udal_instance_release(fresh) == UDAL_SUCCESS ? 0 : 1;
    _exit(failures);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "the child died: status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  EXPECT_EQ(udal_device_get_info(device, &info), UDAL_SUCCESS) << udal_last_error_message();
}

} // namespace
