#include "cts.h"

#include "expectations.h"

#include <fmt/format.h>

#include <fstream>
#include <iterator>

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

udal_result_t CreateInstanceLikeContext(udal_instance_t* out) {
  const Context& ctx = context();
  std::vector<const char*> paths;
  for (const std::string& path : ctx.driver_paths) paths.push_back(path.c_str());
  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  desc.driver_paths = paths.empty() ? nullptr : paths.data();
  desc.driver_path_count = static_cast<uint32_t>(paths.size());
  return udal_instance_create(&desc, out);
}

testing::AssertionResult ResultIs(const char* /*expected_text*/, const char* actual_text,
                                  udal_result_t expected, udal_result_t actual) {
  std::string message = udal_last_error_message();
  if (actual != expected) {
    return testing::AssertionFailure()
           << actual_text << "\n  returned " << udal_result_name(actual) << " (" << actual
           << ")\n  expected " << udal_result_name(expected) << " (" << expected
           << ")\n  udal_last_error_message(): \"" << message << "\"";
  }
  if (expected != UDAL_SUCCESS && message.empty()) {
    return testing::AssertionFailure()
           << actual_text << "\n  returned " << udal_result_name(actual)
           << " as expected, but udal_last_error_message() is empty (every non-success "
              "result must come with a message)";
  }
  return testing::AssertionSuccess();
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

KernelImages LoadKernelImages(const std::string& kernel) {
  const std::pair<udal_module_format_t, std::string> candidates[] = {
      {UDAL_MODULE_FORMAT_HOST_NATIVE, "cts_kernels.so"},
      {UDAL_MODULE_FORMAT_SPIRV_COMPUTE, kernel + ".spv"},
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

Buffer DeviceTest::MakeBuffer(uint64_t size, udal_buffer_kind_t kind) {
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.kind = kind;
  desc.size = size;
  Buffer buffer;
  EXPECT_OK(udal_buffer_create(device(), &desc, buffer.out())) << "size " << size;
  return buffer;
}

Stream DeviceTest::MakeStream() {
  Stream stream;
  EXPECT_OK(udal_stream_create(device(), nullptr, stream.out()));
  return stream;
}

Event DeviceTest::MakeEvent() {
  Event event;
  EXPECT_OK(udal_event_create(device(), nullptr, event.out()));
  return event;
}

Kernel DeviceTest::MakeKernel(const std::string& name, Module* module_out) {
  KernelImages images = LoadKernelImages(name);
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

std::vector<uint8_t> DeviceTest::ReadBack(udal_stream_t stream, udal_buffer_t buffer,
                                          uint64_t offset, uint64_t size) {
  std::vector<uint8_t> bytes(size, 0xcd);
  EXPECT_OK(udal_stream_read_buffer(stream, buffer, offset, bytes.data(), size));
  EXPECT_OK(udal_stream_synchronize(stream, kWaitNs));
  return bytes;
}

void DeviceTest::Upload(udal_stream_t stream, udal_buffer_t buffer, uint64_t offset,
                        const std::vector<uint8_t>& bytes) {
  EXPECT_OK(udal_stream_write_buffer(stream, buffer, offset, bytes.data(), bytes.size()));
  EXPECT_OK(udal_stream_synchronize(stream, kWaitNs));
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

namespace cts {

Delayer::Delayer(DeviceTest* test) : test_(test) {
  kernel_ = test->MakeKernel("delay", &module_);
  counter_ = test->MakeBuffer(16);
  if (!counter_) return;
  Stream stream = test->MakeStream();
  const uint32_t zero = 0;
  EXPECT_OK(udal_stream_fill_buffer(stream.get(), counter_.get(), 0, 16, &zero, 4));
  EXPECT_OK(udal_stream_synchronize(stream.get(), kWaitNs));
}

udal_result_t Delayer::Enqueue(udal_stream_t stream, uint32_t microseconds) {
  return Launch(stream, kernel_.get(), {1, 1, 1}, {1, 1, 1},
                {udal_arg_buffer(counter_.get(), 0), udal_arg_value(&microseconds, 4)});
}

uint32_t Delayer::Count(udal_stream_t stream) {
  std::vector<uint8_t> bytes = test_->ReadBack(stream, counter_.get(), 0, 4);
  uint32_t value = 0;
  std::memcpy(&value, bytes.data(), 4);
  return value;
}

}  // namespace cts
