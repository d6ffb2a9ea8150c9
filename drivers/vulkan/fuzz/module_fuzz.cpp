// libFuzzer target fuzz_vulkan_module: mutated SPIR-V through the Vulkan driver on lavapipe.
// Each input is one SPIRV_COMPUTE image: module creation, kernel creation of each GLCompute
// entry point it names, and one launch of each kernel that was created (arguments built
// from the kernel's reflection), then a synchronize. The driver's sources are compiled
// into this program (instrumented: coverage guides the fuzzer through the driver), and it
// is called through its own table, as libudal calls it.
//
// The driver must answer every input with a result and a message, never a crash, a hang, a
// leak or a sanitizer report; what it accepts must launch without crashing lavapipe (the
// issue: modules that passed creation and then crashed vkCreateComputePipelines).
//
// What the driver cannot be asked to make safe is not launched (Vulkan leaves it undefined
// and it would crash lavapipe's JIT code, not the driver): shaders that use physical
// pointers (a zero address from a zero push constant), shaders with Workgroup variables (an
// index past one reads the heap: robustness does not cover Workgroup memory; found so), and
// shaders with more than one loop (lavapipe caps each loop at 65535 iterations, but nested
// ones multiply). Buffers are
// bound with robustBufferAccess on (the fuzz build turns it on) so an index past a
// buffer's end reads zero instead of the heap.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "udal/sdk/spirv.h"
#include "udal/udal_driver.h"

extern "C" udal_result_t udal_driver_negotiate(uint32_t loader_abi_version,
                                               udal_driver_table_t* table);

#define CHECK(condition)                                                                      \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "fuzz_vulkan_module: check failed at line %d: %s (message: %s)\n", \
                   __LINE__, #condition, last_message());                                     \
      __builtin_trap();                                                                       \
    }                                                                                         \
  } while (0)

namespace {

constexpr uint64_t kBufferBytes = 4096;
constexpr uint32_t kBuffers = 8;
constexpr uint64_t kSyncTimeoutNs = 20'000'000'000ull;
// The driver (instance, device, pipelines the implementation caches) is made again after
// this many inputs, so what lavapipe keeps per pipeline does not grow without bound.
constexpr uint32_t kInputsPerDriver = 2000;

udal_driver_table_t g_table;
udal_driver_t g_driver = nullptr;
udal_device_t g_device = nullptr;
udal_stream_t g_stream = nullptr;
udal_buffer_t g_buffers[kBuffers] = {};
uint32_t g_inputs = 0;
// How far inputs got, printed at exit (a run that never reaches a launch fuzzes little).
struct Counts {
  uint64_t modules = 0, kernels = 0, launches = 0, completed = 0;
} g_counts;

void print_counts() {
  std::fprintf(stderr, "fuzz_vulkan_module: %u inputs: %llu modules accepted, %llu kernels "
               "created, %llu launches accepted, %llu completed\n", g_inputs,
               static_cast<unsigned long long>(g_counts.modules),
               static_cast<unsigned long long>(g_counts.kernels),
               static_cast<unsigned long long>(g_counts.launches),
               static_cast<unsigned long long>(g_counts.completed));
}

const char* last_message() {
  const char* m = g_table.last_error_message != nullptr ? g_table.last_error_message() : nullptr;
  return m != nullptr ? m : "(none)";
}

// A failed call must say why.
void check_message(udal_result_t r) {
  if (r == UDAL_SUCCESS) return;
  const char* m = g_table.last_error_message();
  if (m == nullptr || m[0] == '\0') {
    std::fprintf(stderr, "fuzz_vulkan_module: a call failed with %d and no message\n", r);
    __builtin_trap();
  }
}

void close_driver() {
  if (g_driver == nullptr) return;
  for (udal_buffer_t& b : g_buffers) {
    if (b != nullptr) CHECK(g_table.buffer_destroy(b) == UDAL_SUCCESS);
    b = nullptr;
  }
  if (g_stream != nullptr) CHECK(g_table.stream_destroy(g_stream) == UDAL_SUCCESS);
  g_stream = nullptr;
  CHECK(g_table.driver_destroy(g_driver) == UDAL_SUCCESS);
  g_driver = nullptr;
  g_device = nullptr;
}

void open_driver() {
  udal_driver_create_desc_t desc{};
  desc.type = UDAL_STRUCTURE_TYPE_DRIVER_CREATE_DESC;
  desc.struct_size = sizeof desc;
  desc.loader_abi_version = UDAL_ABI_VERSION;
  desc.driver_name = "vulkan";
  CHECK(g_table.driver_create(&g_table, &desc, &g_driver) == UDAL_SUCCESS);
  uint32_t count = 0;
  CHECK(g_table.driver_get_device_count(g_driver, &count) == UDAL_SUCCESS);
  if (count == 0) {
    std::fprintf(stderr, "fuzz_vulkan_module: no Vulkan device (install mesa-vulkan-drivers)\n");
    std::exit(1);
  }
  CHECK(g_table.driver_get_device(g_driver, 0, &g_device) == UDAL_SUCCESS);
  udal_stream_desc_t stream_desc{};
  stream_desc.type = UDAL_STRUCTURE_TYPE_STREAM_DESC;
  stream_desc.struct_size = sizeof stream_desc;
  CHECK(g_table.stream_create(g_device, &stream_desc, &g_stream) == UDAL_SUCCESS);
  for (udal_buffer_t& b : g_buffers) {
    udal_buffer_desc_t buffer_desc{};
    buffer_desc.type = UDAL_STRUCTURE_TYPE_BUFFER_DESC;
    buffer_desc.struct_size = sizeof buffer_desc;
    buffer_desc.size = kBufferBytes;
    buffer_desc.kind = UDAL_BUFFER_KIND_DEVICE;
    CHECK(g_table.buffer_create(g_device, &buffer_desc, &b) == UDAL_SUCCESS);
  }
}

// Whether a module the driver accepted may be run (see the top of the file).
bool launchable(const uint8_t* data, size_t size) {
  // SPIR-V's numbers for what is looked for (unified1/spirv.h).
  constexpr uint32_t kOpCapability = 17, kOpVariable = 59, kOpLoopMerge = 246;
  constexpr uint32_t kCapabilityPhysicalStorageBufferAddresses = 5347;
  using udal::sdk::spirv::kStorageWorkgroup;
  std::vector<uint32_t> words(size / 4);
  std::memcpy(words.data(), data, words.size() * 4);
  uint32_t loops = 0;
  const std::string stop = udal::sdk::spirv::for_each_instruction(
      words, [&](uint32_t op, std::span<const uint32_t> instruction, size_t) -> std::string {
        if (op == kOpLoopMerge && ++loops > 1) return "loops";
        // Workgroup (shared) memory: robustness does not cover it, and an index past it
        // read the heap from lavapipe's JIT code.
        if (op == kOpVariable && instruction.size() >= 4 && instruction[3] == kStorageWorkgroup)
          return "workgroup memory";
        if (op == kOpCapability && instruction.size() >= 2 &&
            instruction[1] == kCapabilityPhysicalStorageBufferAddresses)
          return "physical pointers";
        return {};
      });
  return stop.empty();
}

void launch(udal_kernel_t kernel) {
  udal_kernel_info_t info{};
  info.type = UDAL_STRUCTURE_TYPE_KERNEL_INFO;
  info.struct_size = sizeof info;
  udal_result_t r = g_table.kernel_get_info(kernel, &info);
  check_message(r);
  if (r != UDAL_SUCCESS || !(info.flags & UDAL_KERNEL_FLAG_ARGUMENT_INFO)) return;
  std::vector<udal_kernel_arg_t> args(info.argument_count);
  std::vector<std::vector<uint8_t>> values(info.argument_count);
  for (uint32_t i = 0; i < info.argument_count; ++i) {
    udal_kernel_arg_info_t arg{};
    arg.type = UDAL_STRUCTURE_TYPE_KERNEL_ARG_INFO;
    arg.struct_size = sizeof arg;
    r = g_table.kernel_get_argument_info(kernel, i, &arg);
    check_message(r);
    CHECK(r == UDAL_SUCCESS);  // every index below argument_count is described
    args[i] = udal_kernel_arg_t{};
    if (arg.kind == UDAL_ARG_KIND_BUFFER) {
      args[i].kind = UDAL_ARG_KIND_BUFFER;
      args[i].buffer = g_buffers[i % kBuffers];
      args[i].access = UDAL_ARG_ACCESS_READ_WRITE;
    } else {
      CHECK(arg.kind == UDAL_ARG_KIND_VALUE && arg.value_size > 0);
      values[i].assign(arg.value_size, 0);
      args[i].kind = UDAL_ARG_KIND_VALUE;
      args[i].value = values[i].data();
      args[i].value_size = arg.value_size;
    }
  }
  udal_launch_desc_t desc{};
  desc.type = UDAL_STRUCTURE_TYPE_LAUNCH_DESC;
  desc.struct_size = sizeof desc;
  for (int axis = 0; axis < 3; ++axis) {
    desc.group_count[axis] = 1;
    desc.group_size[axis] =
        (info.flags & UDAL_KERNEL_FLAG_REQUIRED_GROUP_SIZE) ? info.required_group_size[axis] : 1;
  }
  desc.local_memory_bytes = (info.flags & UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY) ? 64 : 0;
  desc.arg_count = info.argument_count;
  desc.args = args.data();
  r = g_table.stream_launch(g_stream, kernel, &desc);
  check_message(r);
  if (r == UDAL_SUCCESS) ++g_counts.launches;
  r = g_table.stream_synchronize(g_stream, kSyncTimeoutNs);
  if (r == UDAL_SUCCESS) ++g_counts.completed;
  check_message(r);
  // A launch the driver took either runs or fails with a message; it never hangs.
  CHECK(r != UDAL_TIMEOUT);
  if (r != UDAL_SUCCESS) {
    // The stream failed (a submission error): a new one for the next input.
    CHECK(g_table.stream_destroy(g_stream) == UDAL_SUCCESS);
    udal_stream_desc_t stream_desc{};
    stream_desc.type = UDAL_STRUCTURE_TYPE_STREAM_DESC;
    stream_desc.struct_size = sizeof stream_desc;
    CHECK(g_table.stream_create(g_device, &stream_desc, &g_stream) == UDAL_SUCCESS);
  }
}

}  // namespace

// LeakSanitizer is off in this program: its tracer, stopping lavapipe's threads for libFuzzer's
// per-input leak check, crashed ("Tracer caught signal 11 ... LeakSanitizer has encountered a
// fatal error", an empty input written as the crash). The driver's leaks are what its ASan
// test run (drivers/vulkan/test) checks at exit.
extern "C" int __lsan_is_turned_off() { return 1; }

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Nothing is written to the user's cache directory, and every input compiles afresh.
  setenv("UDAL_VULKAN_PIPELINE_CACHE", "off", 1);
  g_table = udal_driver_table_t{};
  g_table.type = UDAL_STRUCTURE_TYPE_DRIVER_TABLE;
  g_table.struct_size = sizeof g_table;
  CHECK(udal_driver_negotiate(UDAL_ABI_VERSION, &g_table) == UDAL_SUCCESS);
  open_driver();
  std::atexit(close_driver);
  std::atexit(print_counts);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (++g_inputs % kInputsPerDriver == 0) {
    close_driver();
    open_driver();
  }
  udal_module_image_t image{};
  image.type = UDAL_STRUCTURE_TYPE_MODULE_IMAGE;
  image.struct_size = sizeof image;
  image.format = UDAL_MODULE_FORMAT_SPIRV_COMPUTE;
  image.data = data;
  image.size = size;
  udal_module_desc_t desc{};
  desc.type = UDAL_STRUCTURE_TYPE_MODULE_DESC;
  desc.struct_size = sizeof desc;
  desc.image_count = 1;
  desc.images = &image;
  udal_module_t module = nullptr;
  udal_result_t r = g_table.module_create(g_device, &desc, &module);
  check_message(r);
  if (r != UDAL_SUCCESS) {
    CHECK(module == nullptr);
    CHECK(r == UDAL_ERROR_INVALID_MODULE || r == UDAL_ERROR_OUT_OF_HOST_MEMORY ||
          r == UDAL_ERROR_OUT_OF_DEVICE_MEMORY);
    return 0;
  }
  ++g_counts.modules;
  // The driver read the words; the SDK's reader names the entry points to ask for.
  udal::sdk::spirv::Module spirv;
  CHECK(udal::sdk::spirv::read_bytes(data, size, &spirv).empty());
  const bool run = launchable(data, size);
  for (const udal::sdk::spirv::EntryPoint& entry : spirv.entry_points) {
    udal_kernel_t kernel = nullptr;
    r = g_table.kernel_create(module, entry.name.c_str(), &kernel);
    check_message(r);
    if (r != UDAL_SUCCESS) {
      CHECK(kernel == nullptr);
      continue;
    }
    ++g_counts.kernels;
    if (run) launch(kernel);
    CHECK(g_table.kernel_destroy(kernel) == UDAL_SUCCESS);
  }
  CHECK(g_table.module_destroy(module) == UDAL_SUCCESS);
  return 0;
}
