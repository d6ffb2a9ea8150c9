#include <dlfcn.h>
#include <link.h>

#include "cts.h"

#include "expectations.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>

namespace cts {

Context& context() {
  static Context instance;
  return instance;
}

const std::vector<DeviceParam>& devices() { return context().devices; }

std::string Sanitize(const std::string& text) {
  std::string out;
  for (char c : text) {
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (word) {
      out += c;
    } else if (!out.empty() && out.back() != '_') {
      out += '_';  // one '_' per run of other characters keeps names readable
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? "unnamed" : out;
}

std::string ParamName(const testing::TestParamInfo<DeviceParam>& info) {
  return info.param.test_suffix;
}

namespace {

// Keeps every shared object loaded so far mapped until the process exits. A driver's own
// runtime (a Vulkan ICD, an OpenCL platform) is unloaded when the instance is released; a
// leak it left would then be reported against "<unknown module>", which no suppression can
// name, and a crash report would lose its symbols. The suite never needs the memory back.
void PinLoadedLibraries() {
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void*) {
        if (info->dlpi_name != nullptr && info->dlpi_name[0] != '\0') {
          dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
        }
        return 0;
      },
      nullptr);
}

}  // namespace

udal_result_t CreateInstanceLikeContext(udal_instance_t* out) {
  const Context& ctx = context();
  std::vector<const char*> paths;
  for (const std::string& path : ctx.driver_paths) paths.push_back(path.c_str());
  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  desc.driver_paths = paths.empty() ? nullptr : paths.data();
  desc.driver_path_count = static_cast<uint32_t>(paths.size());
  udal_result_t result = udal_instance_create(&desc, out);
  if (result == UDAL_SUCCESS) PinLoadedLibraries();
  return result;
}

namespace {

// The message of the call that returned |actual| (read before anything else can overwrite
// it), or "" after a success, whose message is stale.
std::string MessageOf(udal_result_t actual) {
  return actual == UDAL_SUCCESS ? std::string() : std::string(udal_last_error_message());
}

// What is wrong with a call that returned |actual| with |message|, "" when nothing is.
std::string Problem(const char* actual_text, udal_result_t expected, udal_result_t actual,
                    const std::string& message) {
  std::string problem;
  if (actual != expected) {
    problem = fmt::format("{}\n  returned {} ({})\n  expected {} ({})", actual_text,
                          udal_result_name(actual), static_cast<int>(actual),
                          udal_result_name(expected), static_cast<int>(expected));
    if (actual != UDAL_SUCCESS) problem += fmt::format("\n  udal_last_error_message(): \"{}\"", message);
  }
  if (actual != UDAL_SUCCESS && message.empty()) {
    problem += fmt::format("{}{}\n  returned {} with an empty udal_last_error_message() (every "
                           "non-success result must come with a message)",
                           problem.empty() ? "" : "\n", actual_text, udal_result_name(actual));
  } else if (actual != UDAL_SUCCESS && message.find(kNoMessagePhrase) != std::string::npos) {
    problem += fmt::format("{}{}\n  returned {} without a message of the driver's own: libudal "
                           "substituted \"{}\" (docs/driver-guide.md, rule 7: every error carries "
                           "the driver's message)",
                           problem.empty() ? "" : "\n", actual_text, udal_result_name(actual),
                           message);
  }
  return problem;
}

}  // namespace

testing::AssertionResult ResultIs(const char* /*expected_text*/, const char* actual_text,
                                  udal_result_t expected, udal_result_t actual) {
  std::string problem = Problem(actual_text, expected, actual, MessageOf(actual));
  if (problem.empty()) return testing::AssertionSuccess();
  return testing::AssertionFailure() << problem;
}

std::string CheckResult(const char* what, udal_result_t expected, udal_result_t actual) {
  return Problem(what, expected, actual, MessageOf(actual));
}

// ---------------------------------------------------------------------------------------
// Kernels
// ---------------------------------------------------------------------------------------

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string KernelPath(const std::string& file) { return context().kernel_dir + "/" + file; }

KernelImages LoadKernelImages(const std::string& kernel, const std::string& spirv_compute_file) {
  const std::pair<udal_module_format_t, std::string> candidates[] = {
      {UDAL_MODULE_FORMAT_HOST_NATIVE, "cts_kernels.so"},
      {UDAL_MODULE_FORMAT_SPIRV_COMPUTE, spirv_compute_file.empty() ? kernel + ".spv" : spirv_compute_file},
      {UDAL_MODULE_FORMAT_SPIRV_KERNEL, "cts_kernels.spirv-kernel.spv"},
      {UDAL_MODULE_FORMAT_OPENCL_C, "cts_kernels.cl"},
  };
  KernelImages result;
  for (const auto& [format, file] : candidates) {
    std::vector<uint8_t> bytes = ReadFile(KernelPath(file));
    if (bytes.empty()) continue;
    result.bytes.push_back(std::move(bytes));
    udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
    image.format = format;
    result.images.push_back(image);
  }
  // Pointers are taken once the byte vectors no longer move.
  for (size_t i = 0; i < result.images.size(); ++i) {
    result.images[i].data = result.bytes[i].data();
    result.images[i].size = result.bytes[i].size();
  }
  return result;
}

const char* FormatName(udal_module_format_t format) {
  switch (format) {
    case UDAL_MODULE_FORMAT_HOST_NATIVE: return "HOST_NATIVE";
    case UDAL_MODULE_FORMAT_SPIRV_COMPUTE: return "SPIRV_COMPUTE";
    case UDAL_MODULE_FORMAT_SPIRV_KERNEL: return "SPIRV_KERNEL";
    case UDAL_MODULE_FORMAT_OPENCL_C: return "OPENCL_C";
    case UDAL_MODULE_FORMAT_PTX: return "PTX";
    default: return "a vendor or unknown format";
  }
}

// ---------------------------------------------------------------------------------------
// The fixture
// ---------------------------------------------------------------------------------------

void DeviceTest::SetUp() {
  const testing::TestInfo* test = testing::UnitTest::GetInstance()->current_test_info();
  std::string full_name = std::string(test->test_suite_name()) + "." + test->name();
  if (const Expectation* expected = expectations().Match(full_name)) {
    if (!run_expected_failures()) {
      GTEST_SKIP() << "expected failure (" << expectations().path() << ": " << expected->glob
                   << "): " << expected->reason;
    }
  }
}

bool DeviceTest::Accepts(udal_module_format_t format) const {
  for (uint32_t i = 0; i < info().module_format_count && i < UDAL_MAX_MODULE_FORMATS; ++i) {
    if (info().module_formats[i] == format) return true;
  }
  return false;
}

Buffer DeviceTest::MakeBuffer(uint64_t size, udal_buffer_kind_t kind, udal_buffer_flags_t flags) {
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.kind = kind;
  desc.size = size;
  desc.flags = flags;
  Buffer buffer;
  EXPECT_OK(udal_buffer_create(device(), &desc, buffer.out())) << "size " << size;
  return buffer;
}

Stream DeviceTest::MakeStream() {
  Stream stream;
  EXPECT_OK(udal_stream_create(device(), nullptr, stream.out()));
  return stream;
}

Event DeviceTest::MakeEvent(udal_event_flags_t flags) {
  Event event;
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = flags;
  EXPECT_OK(udal_event_create(device(), &desc, event.out())) << "flags " << flags;
  return event;
}

Kernel DeviceTest::MakeKernel(const std::string& name, Module* module_out,
                              const std::string& spirv_compute_file) {
  KernelImages images = LoadKernelImages(name, spirv_compute_file);
  Kernel kernel;
  if (images.images.empty()) {
    ADD_FAILURE() << "no image of CTS kernel " << name << " under " << context().kernel_dir;
    return kernel;
  }
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = images.images.data();
  desc.image_count = static_cast<uint32_t>(images.images.size());
  EXPECT_OK(udal_module_create(device(), &desc, module_out->out())) << "kernel " << name;
  if (!*module_out) return kernel;
  EXPECT_OK(udal_kernel_create(module_out->get(), name.c_str(), kernel.out())) << name;
  return kernel;
}

udal_module_format_t DeviceTest::FormatOf(udal_module_t module) {
  udal_module_info_t module_info = UDAL_MODULE_INFO_INIT;
  EXPECT_OK(udal_module_get_info(module, &module_info));
  return module_info.format;
}

uint64_t DeviceTest::ArgOffset(uint64_t at_least) const {
  uint64_t alignment = std::max<uint64_t>(info().buffer_argument_offset_alignment, 1);
  return (at_least + alignment - 1) / alignment * alignment;
}

const DeviceParam* DeviceTest::OtherDevice() const {
  for (const DeviceParam& other : devices()) {
    if (other.driver_name == GetParam().driver_name && other.device != device()) return &other;
  }
  return nullptr;
}

std::vector<uint8_t> DeviceTest::ReadBack(udal_stream_t stream, udal_buffer_t buffer,
                                          uint64_t offset, uint64_t size) {
  // The read writes the host memory when it runs. If it has not run when this returns (a
  // synchronize that returned early, or work that outlasted the wait), the memory is left to
  // it rather than freed: a failed test, never a write into freed memory.
  auto host = std::make_unique<std::vector<uint8_t>>(size, 0xcd);
  EXPECT_OK(udal_stream_read_buffer(stream, buffer, offset, host->data(), size));
  Event done;
  EXPECT_OK(udal_event_create(device(), nullptr, done.out()));
  if (done) {
    EXPECT_OK(udal_stream_record_event(stream, done.get()));
  }
  EXPECT_OK(udal_stream_synchronize(stream, kWaitNs));
  udal_result_t completed = done ? udal_event_wait(done.get(), kWaitNs) : UDAL_ERROR_INVALID_HANDLE;
  EXPECT_OK(completed) << "the read's own completion";
  if (completed != UDAL_SUCCESS) {
    std::vector<uint8_t> copy = *host;
    static std::mutex mutex;
    static std::vector<std::unique_ptr<std::vector<uint8_t>>> left_to_the_driver;
    std::lock_guard lock(mutex);
    left_to_the_driver.push_back(std::move(host));
    return copy;
  }
  return std::move(*host);
}

void DeviceTest::Upload(udal_stream_t stream, udal_buffer_t buffer, uint64_t offset,
                        const std::vector<uint8_t>& bytes) {
  EXPECT_OK(udal_stream_write_buffer(stream, buffer, offset, bytes.data(), bytes.size()));
  EXPECT_OK(udal_stream_synchronize(stream, kWaitNs));
}

// ---------------------------------------------------------------------------------------
// Gates
// ---------------------------------------------------------------------------------------

Gate::Gate(udal_device_t device) {
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = UDAL_EVENT_FLAG_HOST_SIGNAL;
  udal_result_t result = udal_event_create(device, &desc, &event_);
  EXPECT_UDAL(UDAL_SUCCESS, result) << "a HOST_SIGNAL event (required of every driver)";
  if (result != UDAL_SUCCESS) event_ = nullptr;
}

Gate::~Gate() {
  closing_ = true;
  if (valve_.joinable()) valve_.join();
  if (event_ == nullptr) return;
  Open();
  udal_event_destroy(event_);
}

udal_result_t Gate::Hold(udal_stream_t stream) { return udal_stream_wait_event(stream, event_); }

udal_result_t Gate::Open() {
  std::lock_guard lock(mutex_);
  if (!opened_) {
    opened_ = true;
    open_result_ = udal_event_signal(event_);
    return open_result_;
  }
  return UDAL_SUCCESS;
}

void Gate::OpenAfter(std::chrono::milliseconds delay) {
  if (valve_.joinable()) return;
  valve_ = std::thread([this, delay] {
    auto until = std::chrono::steady_clock::now() + delay;
    while (!closing_ && std::chrono::steady_clock::now() < until) {
      {
        std::lock_guard lock(mutex_);
        if (opened_) return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!closing_) Open();
  });
}

testing::AssertionResult StillPending(udal_stream_t stream) {
  udal_result_t result = udal_stream_synchronize(stream, 0);
  std::string problem = CheckResult("udal_stream_synchronize(stream, 0)", UDAL_TIMEOUT, result);
  if (problem.empty()) return testing::AssertionSuccess();
  return testing::AssertionFailure()
         << "the stream's gated work must still be pending before the action under test:\n"
         << problem;
}

std::vector<uint8_t> Pattern(size_t size, uint32_t seed) {
  std::vector<uint8_t> bytes(size);
  uint32_t state = seed * 2654435761u + 12345u;
  for (size_t i = 0; i < size; ++i) {
    state = state * 1664525u + 1013904223u;
    bytes[i] = static_cast<uint8_t>(state >> 24);
  }
  return bytes;
}

std::string FirstDifference(const std::vector<uint8_t>& expected,
                            const std::vector<uint8_t>& actual) {
  if (expected.size() != actual.size()) {
    return fmt::format("sizes differ: expected {} bytes, got {}", expected.size(),
                       actual.size());
  }
  size_t count = 0;
  size_t first = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (expected[i] != actual[i]) {
      if (count == 0) first = i;
      ++count;
    }
  }
  if (count == 0) return "";
  return fmt::format("{} byte(s) differ; first at byte {}: expected 0x{:02x}, got 0x{:02x}",
                     count, first, expected[first], actual[first]);
}

}  // namespace cts
