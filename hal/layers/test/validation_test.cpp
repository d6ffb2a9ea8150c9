// The validation layer: each check makes the misuse and expects the finding (its code, its
// message, and the line libudal logs), against hal/test's fake driver, which trusts its
// caller completely (so whatever is caught, validation caught). What the layer must not
// find is checked too: a correct program, ordered writes, host-signalled gates.
#include "layers_test_support.h"

#include <dlfcn.h>

#include <atomic>
#include <thread>

namespace {

using namespace layers_test;

// A fake driver instance with validation on (|setting| is UDAL_VALIDATION's value).
class ValidationTest : public ::testing::Test {
protected:
  void SetUp() override { start("1"); }

  void start(const char* setting, const char* log = "warning") {
    env_.emplace(log);
    if (setting != nullptr)
      env_->set("UDAL_VALIDATION", setting);
    instance_.emplace(std::vector<std::string>{stub("udal_test_fake")});
    device_ = instance_->device(0);
    ASSERT_NE(device_, nullptr);
  }

  // Releases the instance now (its objects are then of a released instance).
  void release() { instance_.reset(); }

  udal_module_t fake_module() {
    static const char bytes[] = "not an ELF file: the fake driver takes any bytes";
    udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
    image.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
    image.data = bytes;
    image.size = sizeof(bytes);
    udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
    desc.images = &image;
    desc.image_count = 1;
    udal_module_t m = nullptr;
    EXPECT_EQ(udal_module_create(device_, &desc, &m), UDAL_SUCCESS) << udal_last_error_message();
    return m;
  }

  // The fake's "noop" kernel takes (buffer, uint32_t).
  udal_result_t launch_noop(udal_stream_t stream, udal_kernel_t kernel, udal_buffer_t buffer,
                            udal_arg_access_t access, uint64_t offset = 0) {
    static const uint32_t value = 7;
    udal_kernel_arg_t args[2] = {udal_arg_buffer_access(buffer, offset, access),
                                 udal_arg_value(&value, sizeof(value))};
    udal_launch_desc_t desc = UDAL_LAUNCH_DESC_INIT;
    desc.args = args;
    desc.arg_count = 2;
    return udal_stream_launch(stream, kernel, &desc);
  }

  std::optional<LayerEnvironment> env_;
  std::optional<udal_test::Instance> instance_;
  udal_device_t device_ = nullptr;
};

/* ==========================================================================================
 * Off costs nothing; on is chosen by the variable (or the instance flag)
 * ======================================================================================= */

// The entries the fake driver's negotiate gives: what an instance without layers dispatches to.
udal_driver_table_t fake_table() {
  udal_driver_table_t table{};
  table.type = UDAL_STRUCTURE_TYPE_DRIVER_TABLE;
  table.struct_size = sizeof(table);
  void* library = dlopen(stub("udal_test_fake").c_str(), RTLD_NOW | RTLD_LOCAL);
  EXPECT_NE(library, nullptr) << dlerror();
  if (library == nullptr)
    return table;
  auto negotiate = reinterpret_cast<udal_pfn_driver_negotiate>(dlsym(library, "udal_driver_negotiate"));
  EXPECT_EQ(negotiate(UDAL_ABI_VERSION, &table), UDAL_SUCCESS);
  // Kept open: libudal's copy of the library is the same mapping, so the addresses match.
  return table;
}

const udal_driver_table_t* table_of(const void* handle) {
  return *static_cast<const udal_driver_table_t* const*>(handle);
}

TEST(ValidationOff, TheTableHoldsTheDriversOwnEntries) {
  LayerEnvironment env;
  udal_test::Instance instance({stub("udal_test_fake")});
  udal_driver_table_t own = fake_table();
  const udal_driver_table_t* t = table_of(instance.device(0));
#define LAYERS_TEST_SAME_ENTRY_(name, required, is_public, params, args)                            \
  EXPECT_EQ(reinterpret_cast<void*>(t->name), reinterpret_cast<void*>(own.name)) << #name;
  UDAL_DRIVER_ENTRIES(LAYERS_TEST_SAME_ENTRY_)
#undef LAYERS_TEST_SAME_ENTRY_
}

TEST_F(ValidationTest, OnTheTableHoldsValidationsEntries) {
  udal_driver_table_t own = fake_table();
  const udal_driver_table_t* t = table_of(device_);
  EXPECT_NE(reinterpret_cast<void*>(t->buffer_create), reinterpret_cast<void*>(own.buffer_create));
  EXPECT_NE(reinterpret_cast<void*>(t->stream_launch), reinterpret_cast<void*>(own.stream_launch));
}

TEST(ValidationSetting, ZeroAndIgnoreEnvironmentLeaveItOff) {
  udal_driver_table_t own = fake_table();
  {
    LayerEnvironment env;
    env.set("UDAL_VALIDATION", "0");
    udal_test::Instance instance({stub("udal_test_fake")});
    EXPECT_EQ(reinterpret_cast<void*>(table_of(instance.device(0))->buffer_create),
              reinterpret_cast<void*>(own.buffer_create));
  }
  {
    LayerEnvironment env;
    env.set("UDAL_VALIDATION", "1");
    udal_test::Instance instance({stub("udal_test_fake")}, UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT);
    EXPECT_EQ(reinterpret_cast<void*>(table_of(instance.device(0))->buffer_create),
              reinterpret_cast<void*>(own.buffer_create));
  }
}

TEST(ValidationSetting, AnUnknownValueTurnsItOnAndSaysSo) {
  LayerEnvironment env;
  env.set("UDAL_VALIDATION", "everything");
  StderrCapture err;
  udal_test::Instance instance({stub("udal_test_fake")});
  udal_driver_table_t own = fake_table();
  EXPECT_NE(reinterpret_cast<void*>(table_of(instance.device(0))->buffer_create),
            reinterpret_cast<void*>(own.buffer_create));
  EXPECT_TRUE(contains(err.text(), "UDAL_VALIDATION='everything'"));
}

TEST(ValidationSetting, TheInstanceFlagTurnsItOnWhateverTheVariableSays) {
  udal_driver_table_t own = fake_table();
  for (const char* setting : {"", "0"}) {
    LayerEnvironment env;
    if (*setting)
      env.set("UDAL_VALIDATION", setting);
    udal_test::Instance instance({stub("udal_test_fake")}, UDAL_INSTANCE_FLAG_VALIDATION);
    EXPECT_NE(reinterpret_cast<void*>(table_of(instance.device(0))->buffer_create),
              reinterpret_cast<void*>(own.buffer_create))
        << "UDAL_VALIDATION='" << setting << "'";
    udal_buffer_t buffer = make_buffer(instance.device(0), 16);
    ASSERT_EQ(udal_buffer_destroy(buffer), UDAL_SUCCESS);
    EXPECT_FAILS_WITH(udal_buffer_destroy(buffer), UDAL_ERROR_INVALID_HANDLE, "double destroy");
  }
  // With IGNORE_ENVIRONMENT too: the flag is the program's own choice.
  LayerEnvironment env;
  udal_test::Instance instance({stub("udal_test_fake")},
                               UDAL_INSTANCE_FLAG_VALIDATION | UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT);
  EXPECT_NE(reinterpret_cast<void*>(table_of(instance.device(0))->buffer_create),
            reinterpret_cast<void*>(own.buffer_create));
}

/* ==========================================================================================
 * Handles: use after destroy, double destroy, wrong kind, use after release
 * ======================================================================================= */

TEST_F(ValidationTest, UseOfADestroyedBufferIsCaughtAndLogged) {
  udal_buffer_t buffer = make_buffer(device_, 64);
  ASSERT_EQ(udal_buffer_destroy(buffer), UDAL_SUCCESS);
  StderrCapture err;
  udal_buffer_info_t info = UDAL_BUFFER_INFO_INIT;
  EXPECT_FAILS_WITH(udal_buffer_get_info(buffer, &info), UDAL_ERROR_INVALID_HANDLE,
                    "use after destroy");
  std::string message = udal_last_error_message();
  EXPECT_TRUE(contains(message, "udal_buffer_get_info: buffer")) << message;
  EXPECT_TRUE(contains(message, "Created by udal_buffer_create at")) << message;
  EXPECT_TRUE(contains(message, "destroyed by udal_buffer_destroy at")) << message;
  std::string log = err.text();
  EXPECT_TRUE(contains(log, "udal: error: validation: udal_buffer_get_info")) << log;
}

TEST_F(ValidationTest, EveryKindIsCaughtWhenUsedAfterDestroy) {
  udal_stream_t stream = make_stream(device_);
  udal_buffer_t buffer = make_buffer(device_, 64);
  udal_event_t event = make_event(device_);
  udal_module_t module = fake_module();
  udal_kernel_t kernel = make_kernel(module, "noop");
  ASSERT_EQ(udal_event_destroy(event), UDAL_SUCCESS);
  EXPECT_FAILS_WITH(udal_event_query(event), UDAL_ERROR_INVALID_HANDLE, "use after destroy");
  EXPECT_FAILS_WITH(udal_stream_record_event(stream, event), UDAL_ERROR_INVALID_HANDLE,
                    "event (#");
  ASSERT_EQ(udal_kernel_destroy(kernel), UDAL_SUCCESS);
  udal_kernel_info_t kinfo = UDAL_KERNEL_INFO_INIT;
  EXPECT_FAILS_WITH(udal_kernel_get_info(kernel, &kinfo), UDAL_ERROR_INVALID_HANDLE,
                    "use after destroy");
  EXPECT_FAILS_WITH(launch_noop(stream, kernel, buffer, UDAL_ARG_ACCESS_READ_WRITE),
                    UDAL_ERROR_INVALID_HANDLE, "kernel");
  ASSERT_EQ(udal_module_destroy(module), UDAL_SUCCESS);
  udal_kernel_t k2 = nullptr;
  EXPECT_FAILS_WITH(udal_kernel_create(module, "noop", &k2), UDAL_ERROR_INVALID_HANDLE,
                    "use after destroy");
  EXPECT_EQ(k2, nullptr);
  ASSERT_EQ(udal_buffer_destroy(buffer), UDAL_SUCCESS);
  uint32_t pattern = 0;
  EXPECT_FAILS_WITH(udal_stream_fill_buffer(stream, buffer, 0, 4, &pattern, 4),
                    UDAL_ERROR_INVALID_HANDLE, "dst");
  ASSERT_EQ(udal_stream_destroy(stream), UDAL_SUCCESS);
  EXPECT_FAILS_WITH(udal_stream_synchronize(stream, 0), UDAL_ERROR_INVALID_HANDLE,
                    "use after destroy");
}

TEST_F(ValidationTest, DoubleDestroyOfEveryKindIsCaught) {
  udal_buffer_t buffer = make_buffer(device_, 64);
  udal_event_t event = make_event(device_);
  udal_stream_t stream = make_stream(device_);
  udal_module_t module = fake_module();
  udal_kernel_t kernel = make_kernel(module, "noop");
  ASSERT_EQ(udal_buffer_destroy(buffer), UDAL_SUCCESS);
  EXPECT_FAILS_WITH(udal_buffer_destroy(buffer), UDAL_ERROR_INVALID_HANDLE, "double destroy");
  ASSERT_EQ(udal_event_destroy(event), UDAL_SUCCESS);
  EXPECT_FAILS_WITH(udal_event_destroy(event), UDAL_ERROR_INVALID_HANDLE, "double destroy");
  ASSERT_EQ(udal_stream_destroy(stream), UDAL_SUCCESS);
  EXPECT_FAILS_WITH(udal_stream_destroy(stream), UDAL_ERROR_INVALID_HANDLE, "double destroy");
  ASSERT_EQ(udal_kernel_destroy(kernel), UDAL_SUCCESS);
  EXPECT_FAILS_WITH(udal_kernel_destroy(kernel), UDAL_ERROR_INVALID_HANDLE, "double destroy");
  ASSERT_EQ(udal_module_destroy(module), UDAL_SUCCESS);
  EXPECT_FAILS_WITH(udal_module_destroy(module), UDAL_ERROR_INVALID_HANDLE, "double destroy");
}

TEST_F(ValidationTest, AHandleOfTheWrongKindIsCaught) {
  udal_event_t event = make_event(device_);
  EXPECT_FAILS_WITH(udal_buffer_destroy(reinterpret_cast<udal_buffer_t>(event)),
                    UDAL_ERROR_INVALID_HANDLE, "is a udal_event_t");
  EXPECT_EQ(udal_event_query(event), UDAL_SUCCESS) << "the refused destroy touched the event";
  EXPECT_EQ(udal_event_destroy(event), UDAL_SUCCESS);
}

TEST_F(ValidationTest, ObjectsOfAReleasedInstanceAreCaught) {
  std::optional<LeaksOnPurpose> leaks(std::in_place);
  udal_buffer_t buffer = make_buffer(device_, 64);
  udal_stream_t stream = make_stream(device_);
  leaks.reset();
  udal_device_t device = device_;
  {
    StderrCapture quiet; // the leak report is checked elsewhere; keep it out of the output
    release();
  }
  StderrCapture err;
  udal_buffer_info_t info = UDAL_BUFFER_INFO_INIT;
  EXPECT_FAILS_WITH(udal_buffer_get_info(buffer, &info), UDAL_ERROR_INVALID_HANDLE,
                    "belongs to an instance that was released");
  EXPECT_FAILS_WITH(udal_buffer_destroy(buffer), UDAL_ERROR_INVALID_HANDLE, "use after release");
  EXPECT_FAILS_WITH(udal_stream_synchronize(stream, 0), UDAL_ERROR_INVALID_HANDLE,
                    "use after release");
  udal_device_info_t dinfo = UDAL_DEVICE_INFO_INIT;
  EXPECT_FAILS_WITH(udal_device_get_info(device, &dinfo), UDAL_ERROR_INVALID_HANDLE,
                    "device");
  EXPECT_TRUE(contains(err.text(), "udal: error: validation: udal_buffer_get_info"));
}

/* ==========================================================================================
 * Ranges
 * ======================================================================================= */

TEST_F(ValidationTest, RangesPastTheEndOfABufferAreCaughtBeforeTheDriver) {
  udal_stream_t stream = make_stream(device_);
  udal_buffer_t a = make_buffer(device_, 64);
  udal_buffer_t b = make_buffer(device_, 32);
  char host[128] = {};
  uint32_t pattern = 0;
  StderrCapture err;
  // "(#" and the size are validation's wording; the fake driver's messages have neither.
  EXPECT_FAILS_WITH(udal_stream_copy_buffer(stream, a, 40, b, 0, 32), UDAL_ERROR_OUT_OF_RANGE,
                    "at source offset 40 run past the end of buffer");
  EXPECT_FAILS_WITH(udal_stream_copy_buffer(stream, a, 0, b, 8, 32), UDAL_ERROR_OUT_OF_RANGE,
                    "32 bytes)");
  EXPECT_FAILS_WITH(udal_stream_fill_buffer(stream, a, 60, 8, &pattern, 4), UDAL_ERROR_OUT_OF_RANGE,
                    "(#");
  EXPECT_FAILS_WITH(udal_stream_write_buffer(stream, b, 1, host, 32), UDAL_ERROR_OUT_OF_RANGE,
                    "(#");
  EXPECT_FAILS_WITH(udal_stream_read_buffer(stream, a, 0, host, 65), UDAL_ERROR_OUT_OF_RANGE,
                    "(#");
  udal_module_t module = fake_module();
  udal_kernel_t kernel = make_kernel(module, "noop");
  EXPECT_FAILS_WITH(launch_noop(stream, kernel, b, UDAL_ARG_ACCESS_READ, 32),
                    UDAL_ERROR_OUT_OF_RANGE, "desc->args[0].offset 32 is past the end of buffer");
  udal_buffer_t h = make_buffer(device_, 64, UDAL_BUFFER_KIND_HOST);
  void* p = nullptr;
  EXPECT_FAILS_WITH(udal_buffer_map(h, 32, 33, &p), UDAL_ERROR_OUT_OF_RANGE, "(#");
  // In range, the same calls go through.
  EXPECT_EQ(udal_stream_copy_buffer(stream, a, 32, b, 0, 32), UDAL_SUCCESS) << udal_last_error_message();
  EXPECT_EQ(launch_noop(stream, kernel, b, UDAL_ARG_ACCESS_READ, 28), UDAL_SUCCESS)
      << udal_last_error_message();
  // Misuse the ABI gives a code for is logged as a warning, not as an error.
  std::string log = err.text();
  EXPECT_TRUE(contains(log, "udal: warning: validation: udal_stream_copy_buffer")) << log;
  EXPECT_FALSE(contains(log, "udal: error:")) << log;
  EXPECT_EQ(udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
  for (udal_buffer_t x : {a, b, h})
    EXPECT_EQ(udal_buffer_destroy(x), UDAL_SUCCESS);
  EXPECT_EQ(udal_kernel_destroy(kernel), UDAL_SUCCESS);
  EXPECT_EQ(udal_module_destroy(module), UDAL_SUCCESS);
  EXPECT_EQ(udal_stream_destroy(stream), UDAL_SUCCESS);
}

/* ==========================================================================================
 * Maps
 * ======================================================================================= */

TEST_F(ValidationTest, AMapLeftOpenAtDestroyIsCaught) {
  udal_buffer_t buffer = make_buffer(device_, 64, UDAL_BUFFER_KIND_HOST);
  void* p = nullptr;
  ASSERT_EQ(udal_buffer_map(buffer, 0, 64, &p), UDAL_SUCCESS);
  // The fake driver would free a mapped buffer; validation refuses first.
  EXPECT_FAILS_WITH(udal_buffer_destroy(buffer), UDAL_ERROR_INVALID_STATE, "is still mapped");
  EXPECT_TRUE(contains(udal_last_error_message(), "mapped at")) << udal_last_error_message();
  void* q = nullptr;
  EXPECT_FAILS_WITH(udal_buffer_map(buffer, 0, 8, &q), UDAL_ERROR_INVALID_STATE,
                    "already mapped");
  EXPECT_EQ(udal_buffer_unmap(buffer), UDAL_SUCCESS);
  EXPECT_FAILS_WITH(udal_buffer_unmap(buffer), UDAL_ERROR_INVALID_STATE, "is not mapped");
  EXPECT_EQ(udal_buffer_destroy(buffer), UDAL_SUCCESS);
}

/* ==========================================================================================
 * Access: a READ argument written while its launch may be running
 * ======================================================================================= */

class AccessTest : public ValidationTest {
protected:
  void SetUp() override {
    ValidationTest::SetUp();
    reader_ = make_stream(device_);
    writer_ = make_stream(device_);
    buffer_ = make_buffer(device_, 256, UDAL_BUFFER_KIND_HOST);
    module_ = fake_module();
    kernel_ = make_kernel(module_, "noop");
  }
  void TearDown() override {
    for (udal_stream_t s : {reader_, writer_})
      EXPECT_EQ(udal_stream_synchronize(s, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
    EXPECT_EQ(udal_buffer_destroy(buffer_), UDAL_SUCCESS) << udal_last_error_message();
    EXPECT_EQ(udal_kernel_destroy(kernel_), UDAL_SUCCESS);
    EXPECT_EQ(udal_module_destroy(module_), UDAL_SUCCESS);
    for (udal_stream_t s : {reader_, writer_})
      EXPECT_EQ(udal_stream_destroy(s), UDAL_SUCCESS);
  }

  udal_stream_t reader_ = nullptr, writer_ = nullptr;
  udal_buffer_t buffer_ = nullptr;
  udal_module_t module_ = nullptr;
  udal_kernel_t kernel_ = nullptr;
  char host_[256] = {};
};

TEST_F(AccessTest, AWriteOnAnotherStreamWhileAReadOnlyLaunchMayRunIsCaught) {
  ASSERT_EQ(launch_noop(reader_, kernel_, buffer_, UDAL_ARG_ACCESS_READ, 64), UDAL_SUCCESS);
  StderrCapture err;
  EXPECT_FAILS_WITH(udal_stream_write_buffer(writer_, buffer_, 100, host_, 8),
                    UDAL_ERROR_INVALID_STATE, "UDAL_ARG_ACCESS_READ");
  EXPECT_TRUE(contains(udal_last_error_message(), "kernel 'noop'")) << udal_last_error_message();
  uint32_t pattern = 0;
  EXPECT_FAILS_WITH(udal_stream_fill_buffer(writer_, buffer_, 0, 128, &pattern, 4),
                    UDAL_ERROR_INVALID_STATE, "the fill");
  EXPECT_FAILS_WITH(launch_noop(writer_, kernel_, buffer_, UDAL_ARG_ACCESS_WRITE),
                    UDAL_ERROR_INVALID_STATE, "argument 0 (UDAL_ARG_ACCESS_WRITE)");
  EXPECT_TRUE(contains(err.text(), "udal: error: validation: udal_stream_write_buffer"));
}

TEST_F(AccessTest, WritesThatCannotOverlapTheReadAreNotFindings) {
  ASSERT_EQ(launch_noop(reader_, kernel_, buffer_, UDAL_ARG_ACCESS_READ, 64), UDAL_SUCCESS);
  // Below the argument's offset; on the reading stream itself (ordered); another read.
  EXPECT_EQ(udal_stream_write_buffer(writer_, buffer_, 0, host_, 64), UDAL_SUCCESS)
      << udal_last_error_message();
  EXPECT_EQ(udal_stream_write_buffer(reader_, buffer_, 64, host_, 64), UDAL_SUCCESS)
      << udal_last_error_message();
  EXPECT_EQ(launch_noop(writer_, kernel_, buffer_, UDAL_ARG_ACCESS_READ), UDAL_SUCCESS)
      << udal_last_error_message();
}

TEST_F(AccessTest, AWriteOrderedAfterTheLaunchIsNotAFinding) {
  // By an event the writing stream waits on.
  ASSERT_EQ(launch_noop(reader_, kernel_, buffer_, UDAL_ARG_ACCESS_READ), UDAL_SUCCESS);
  udal_event_t done = make_event(device_);
  ASSERT_EQ(udal_stream_record_event(reader_, done), UDAL_SUCCESS);
  ASSERT_EQ(udal_stream_wait_event(writer_, done), UDAL_SUCCESS);
  EXPECT_EQ(udal_stream_write_buffer(writer_, buffer_, 0, host_, 64), UDAL_SUCCESS)
      << udal_last_error_message();
  // By the host having synchronized the reader.
  ASSERT_EQ(launch_noop(reader_, kernel_, buffer_, UDAL_ARG_ACCESS_READ), UDAL_SUCCESS);
  ASSERT_EQ(udal_stream_synchronize(reader_, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
  EXPECT_EQ(udal_stream_write_buffer(writer_, buffer_, 0, host_, 64), UDAL_SUCCESS)
      << udal_last_error_message();
  // By the host having waited on an event recorded after the launch.
  ASSERT_EQ(launch_noop(reader_, kernel_, buffer_, UDAL_ARG_ACCESS_READ), UDAL_SUCCESS);
  ASSERT_EQ(udal_stream_record_event(reader_, done), UDAL_SUCCESS);
  ASSERT_EQ(udal_event_wait(done, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
  EXPECT_EQ(udal_stream_write_buffer(writer_, buffer_, 0, host_, 64), UDAL_SUCCESS)
      << udal_last_error_message();
  EXPECT_EQ(udal_event_destroy(done), UDAL_SUCCESS);
}

TEST_F(AccessTest, AStreamHeldByAHostSignalIsNotJudgedBeforeTheSignal) {
  ASSERT_EQ(launch_noop(reader_, kernel_, buffer_, UDAL_ARG_ACCESS_READ), UDAL_SUCCESS);
  udal_event_t gate = make_event(device_, UDAL_EVENT_FLAG_HOST_SIGNAL);
  ASSERT_EQ(udal_stream_wait_event(writer_, gate), UDAL_SUCCESS);
  // Runs only after the signal, which may come after the host synchronized the reader.
  EXPECT_EQ(udal_stream_write_buffer(writer_, buffer_, 0, host_, 64), UDAL_SUCCESS)
      << udal_last_error_message();
  ASSERT_EQ(udal_stream_synchronize(reader_, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
  ASSERT_EQ(udal_event_signal(gate), UDAL_SUCCESS);
  EXPECT_EQ(udal_event_destroy(gate), UDAL_SUCCESS);
}

TEST_F(AccessTest, AHostWriteThroughAMappingWhileAReadOnlyLaunchMayRunIsCaught) {
  ASSERT_EQ(launch_noop(reader_, kernel_, buffer_, UDAL_ARG_ACCESS_READ, 64), UDAL_SUCCESS);
  void* p = nullptr;
  ASSERT_EQ(udal_buffer_map(buffer_, 0, 256, &p), UDAL_SUCCESS);
  static_cast<unsigned char*>(p)[10] ^= 0xff; // below the argument: not read by the launch
  static_cast<unsigned char*>(p)[70] ^= 0xff;
  EXPECT_FAILS_WITH(udal_buffer_unmap(buffer_), UDAL_ERROR_INVALID_STATE, "byte 70");
  EXPECT_TRUE(contains(udal_last_error_message(), "the buffer is unmapped"));
  void* q = nullptr;
  EXPECT_EQ(udal_buffer_map(buffer_, 0, 8, &q), UDAL_SUCCESS) << "the unmap must have happened";
  EXPECT_EQ(udal_buffer_unmap(buffer_), UDAL_SUCCESS);
}

TEST_F(AccessTest, AMappingTheHostOnlyReadsOrWritesAfterTheLaunchIsNotAFinding) {
  ASSERT_EQ(launch_noop(reader_, kernel_, buffer_, UDAL_ARG_ACCESS_READ), UDAL_SUCCESS);
  void* p = nullptr;
  ASSERT_EQ(udal_buffer_map(buffer_, 0, 256, &p), UDAL_SUCCESS);
  volatile unsigned char seen = static_cast<unsigned char*>(p)[5];
  (void)seen;
  EXPECT_EQ(udal_buffer_unmap(buffer_), UDAL_SUCCESS) << udal_last_error_message();
  ASSERT_EQ(udal_buffer_map(buffer_, 0, 256, &p), UDAL_SUCCESS);
  ASSERT_EQ(udal_stream_synchronize(reader_, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
  static_cast<unsigned char*>(p)[5] ^= 0xff;
  EXPECT_EQ(udal_buffer_unmap(buffer_), UDAL_SUCCESS) << udal_last_error_message();
}

TEST_F(ValidationTest, ABufferDestroyedWithWorkPendingIsADebugNoteNotAnError) {
  env_.reset();
  instance_.reset();
  start("1", "debug");
  udal_stream_t stream = make_stream(device_);
  udal_buffer_t buffer = make_buffer(device_, 64);
  uint32_t pattern = 1;
  ASSERT_EQ(udal_stream_fill_buffer(stream, buffer, 0, 64, &pattern, 4), UDAL_SUCCESS);
  StderrCapture err;
  EXPECT_EQ(udal_buffer_destroy(buffer), UDAL_SUCCESS) << udal_last_error_message();
  std::string log = err.text();
  EXPECT_TRUE(contains(log, "udal: debug: validation: udal_buffer_destroy")) << log;
  EXPECT_TRUE(contains(log, "may be pending (allowed")) << log;
  EXPECT_EQ(udal_stream_destroy(stream), UDAL_SUCCESS);
}

/* ==========================================================================================
 * Events no one will signal
 * ======================================================================================= */

TEST_F(ValidationTest, AHostSignalEventDestroyedUnsignalledWhileWaitedOnIsReported) {
  udal_stream_t stream = make_stream(device_);
  udal_event_t gate = make_event(device_, UDAL_EVENT_FLAG_HOST_SIGNAL);
  ASSERT_EQ(udal_stream_wait_event(stream, gate), UDAL_SUCCESS);
  StderrCapture err;
  // Defined by the ABI (the waiters go on), so the call succeeds; the note says why it is
  // probably not what was meant.
  EXPECT_EQ(udal_event_destroy(gate), UDAL_SUCCESS);
  std::string log = err.text();
  EXPECT_TRUE(contains(log, "udal: warning: validation: udal_event_destroy")) << log;
  EXPECT_TRUE(contains(log, "without having been signalled while 1 stream(s) wait on it")) << log;
  EXPECT_EQ(udal_stream_destroy(stream), UDAL_SUCCESS);
}

TEST_F(ValidationTest, AHostSignalEventSignalledOrNotWaitedOnIsNotReported) {
  udal_stream_t stream = make_stream(device_);
  udal_event_t signalled = make_event(device_, UDAL_EVENT_FLAG_HOST_SIGNAL);
  udal_event_t unused = make_event(device_, UDAL_EVENT_FLAG_HOST_SIGNAL);
  udal_event_t plain = make_event(device_);
  ASSERT_EQ(udal_stream_wait_event(stream, signalled), UDAL_SUCCESS);
  ASSERT_EQ(udal_stream_wait_event(stream, plain), UDAL_SUCCESS); // never recorded: fine
  ASSERT_EQ(udal_event_signal(signalled), UDAL_SUCCESS);
  StderrCapture err;
  for (udal_event_t e : {signalled, unused, plain})
    EXPECT_EQ(udal_event_destroy(e), UDAL_SUCCESS);
  EXPECT_EQ(err.text(), "");
  EXPECT_EQ(udal_stream_destroy(stream), UDAL_SUCCESS);
}

/* ==========================================================================================
 * The leak report
 * ======================================================================================= */

TEST_F(ValidationTest, ObjectsLeftAtReleaseAreReportedWithWhereTheyWereCreated) {
  std::optional<LeaksOnPurpose> leaks(std::in_place);
  udal_buffer_t buffer = make_buffer(device_, 96);
  udal_module_t module = fake_module();
  udal_kernel_t kernel = make_kernel(module, "noop");
  ASSERT_EQ(udal_module_destroy(module), UDAL_SUCCESS);
  udal_event_t gate = make_event(device_, UDAL_EVENT_FLAG_HOST_SIGNAL);
  leaks.reset();
  (void)buffer;
  (void)kernel;
  (void)gate;
  StderrCapture err;
  release();
  std::string log = err.text();
  EXPECT_TRUE(contains(log, "udal: warning: validation: leak: buffer")) << log;
  EXPECT_TRUE(contains(log, "96 bytes")) << log;
  EXPECT_TRUE(contains(log, "leak: kernel")) << log;
  EXPECT_TRUE(contains(log, "'noop'")) << log;
  EXPECT_TRUE(contains(log, "UDAL_EVENT_FLAG_HOST_SIGNAL, never signalled")) << log;
  EXPECT_FALSE(contains(log, "leak: module")) << "the module was destroyed: " << log;
  EXPECT_TRUE(contains(log, "created by udal_buffer_create at")) << log;
  // The caller: this test program, not libudal.
  EXPECT_TRUE(contains(log, "udal_layers_tests")) << log;
  EXPECT_TRUE(contains(log, "3 object(s) of driver 'udal_test_fake' leaked")) << log;
}

TEST_F(ValidationTest, BacktraceModeShowsTheWholeStack) {
  env_.reset();
  instance_.reset();
  start("backtrace");
  std::optional<LeaksOnPurpose> leaks(std::in_place);
  udal_buffer_t buffer = make_buffer(device_, 16);
  leaks.reset();
  (void)buffer;
  StderrCapture err;
  release();
  std::string log = err.text();
  EXPECT_TRUE(contains(log, "leak: buffer")) << log;
  EXPECT_TRUE(contains(log, "    #0 ")) << log;
  EXPECT_TRUE(contains(log, "    #1 ")) << log;
  EXPECT_FALSE(contains(log, "UDAL_VALIDATION=backtrace shows")) << log;
}

TEST_F(ValidationTest, ACorrectProgramHasNoFinding) {
  StderrCapture err;
  udal_stream_t a = make_stream(device_);
  udal_stream_t b = make_stream(device_);
  udal_buffer_t x = make_buffer(device_, 256, UDAL_BUFFER_KIND_HOST);
  udal_buffer_t y = make_buffer(device_, 256);
  udal_module_t module = fake_module();
  udal_kernel_t kernel = make_kernel(module, "noop");
  udal_event_t e = make_event(device_, UDAL_EVENT_FLAG_TIMING);
  char host[256] = {};
  uint32_t pattern = 3;
  ASSERT_EQ(udal_stream_write_buffer(a, x, 0, host, 256), UDAL_SUCCESS);
  ASSERT_EQ(launch_noop(a, kernel, x, UDAL_ARG_ACCESS_READ), UDAL_SUCCESS);
  ASSERT_EQ(udal_stream_record_event(a, e), UDAL_SUCCESS);
  ASSERT_EQ(udal_stream_wait_event(b, e), UDAL_SUCCESS);
  ASSERT_EQ(udal_stream_copy_buffer(b, y, 0, x, 0, 256), UDAL_SUCCESS) << udal_last_error_message();
  ASSERT_EQ(udal_stream_fill_buffer(b, y, 0, 256, &pattern, 4), UDAL_SUCCESS);
  ASSERT_EQ(udal_stream_read_buffer(b, y, 0, host, 256), UDAL_SUCCESS);
  ASSERT_EQ(udal_stream_synchronize(b, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
  udal_buffer_info_t info = UDAL_BUFFER_INFO_INIT;
  ASSERT_EQ(udal_buffer_get_info(x, &info), UDAL_SUCCESS);
  EXPECT_EQ(info.device, device_) << "buffer_get_info must give the handle the application holds";
  EXPECT_EQ(info.size, 256u);
  void* p = nullptr;
  ASSERT_EQ(udal_buffer_map(x, 0, 256, &p), UDAL_SUCCESS);
  ASSERT_EQ(udal_buffer_unmap(x), UDAL_SUCCESS);
  EXPECT_EQ(udal_event_destroy(e), UDAL_SUCCESS);
  EXPECT_EQ(udal_kernel_destroy(kernel), UDAL_SUCCESS);
  EXPECT_EQ(udal_module_destroy(module), UDAL_SUCCESS);
  for (udal_buffer_t buffer : {x, y})
    EXPECT_EQ(udal_buffer_destroy(buffer), UDAL_SUCCESS);
  for (udal_stream_t s : {a, b})
    EXPECT_EQ(udal_stream_destroy(s), UDAL_SUCCESS);
  release();
  EXPECT_EQ(err.text(), "");
}

TEST_F(ValidationTest, ADriversErrorKeepsTheDriversMessage) {
  udal_module_t module = fake_module();
  udal_kernel_t k = nullptr;
  EXPECT_FAILS_WITH(udal_kernel_create(module, "missing", &k), UDAL_ERROR_KERNEL_NOT_FOUND,
                    "no kernel named 'missing'");
  EXPECT_EQ(udal_module_destroy(module), UDAL_SUCCESS);
}

// Several threads creating, using and destroying objects at once (for TSan).
TEST_F(ValidationTest, ThreadsUseTheLayerAtOnce) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, &failures] {
      udal_stream_t s = nullptr;
      if (udal_stream_create(device_, nullptr, &s) != UDAL_SUCCESS) {
        ++failures;
        return;
      }
      for (int i = 0; i < 50; ++i) {
        udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
        desc.size = 64;
        udal_buffer_t b = nullptr;
        uint32_t pattern = static_cast<uint32_t>(i);
        if (udal_buffer_create(device_, &desc, &b) != UDAL_SUCCESS ||
            udal_stream_fill_buffer(s, b, 0, 64, &pattern, 4) != UDAL_SUCCESS ||
            udal_stream_synchronize(s, UDAL_TIMEOUT_INFINITE) != UDAL_SUCCESS ||
            udal_buffer_destroy(b) != UDAL_SUCCESS)
          ++failures;
      }
      if (udal_stream_destroy(s) != UDAL_SUCCESS)
        ++failures;
    });
  }
  for (std::thread& t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0);
}

} // namespace

namespace {

// On a real driver a use after destroy reads freed memory (a crash at best); with
// validation the same calls are findings and the driver never sees them.
TEST(ValidationCpu, UseAfterDestroyAndDoubleDestroyOnTheCpuDriverAreFindings) {
  LayerEnvironment env;
  env.set("UDAL_VALIDATION", "1");
  udal_test::Instance instance({LAYERS_CPU_DRIVER});
  udal_device_t device = instance.device(0);
  udal_stream_t stream = make_stream(device);
  udal_buffer_t a = make_buffer(device, 4096);
  udal_buffer_t b = make_buffer(device, 4096);
  ASSERT_EQ(udal_buffer_destroy(a), UDAL_SUCCESS);
  EXPECT_FAILS_WITH(udal_stream_copy_buffer(stream, a, 0, b, 0, 4096), UDAL_ERROR_INVALID_HANDLE,
                    "use after destroy");
  EXPECT_FAILS_WITH(udal_buffer_destroy(a), UDAL_ERROR_INVALID_HANDLE, "double destroy");
  uint32_t pattern = 5;
  EXPECT_FAILS_WITH(udal_stream_fill_buffer(stream, b, 4000, 100, &pattern, 4),
                    UDAL_ERROR_OUT_OF_RANGE, "(#");
  ASSERT_EQ(udal_stream_fill_buffer(stream, b, 0, 4096, &pattern, 4), UDAL_SUCCESS);
  std::vector<uint32_t> out(1024, 0);
  ASSERT_EQ(udal_stream_read_buffer(stream, b, 0, out.data(), 4096), UDAL_SUCCESS);
  ASSERT_EQ(udal_stream_synchronize(stream, UDAL_TIMEOUT_INFINITE), UDAL_SUCCESS);
  EXPECT_EQ(out, std::vector<uint32_t>(1024, 5)) << "validated work computes the same";
  ASSERT_EQ(udal_stream_destroy(stream), UDAL_SUCCESS);
  EXPECT_FAILS_WITH(udal_stream_destroy(stream), UDAL_ERROR_INVALID_HANDLE, "double destroy");
  ASSERT_EQ(udal_buffer_destroy(b), UDAL_SUCCESS);
}

} // namespace
