// libFuzzer target: the public API (udal.h) driven by bytes on the CPU driver. libudal's
// sources are compiled into this program and the CPU driver is loaded from its own
// instrumented build (fuzz_api_driver_cpu), so coverage guides the fuzzer through both.
//
// The input is a program for a small interpreter: its first byte picks the instance (plain,
// or with the validation layer), then each op byte picks an entry point, and the bytes after
// it its arguments: handles from those this input created (on either of two devices), NULL,
// and — under validation only, where the ABI gives them a meaning — destroyed handles and
// handles of another kind; sizes and offsets near the limits, past them and wrapping;
// descriptors with wrong types, sizes and chained structs; module images from a path (good
// ones, FIFOs, directories, devices, missing files), from bytes (whole, cut short, not ELF).
// What the ABI leaves undefined (a garbage pointer, host memory shorter than the size given)
// is never generated, so any crash, hang, leak or sanitizer report is a bug of UDAL's.
// Beyond that, the interpreter checks that every failure comes with a message and clears its
// out-parameter, and that what succeeds says what was asked (a buffer's size, a mapping
// that reaches the bytes it maps).
//
// The instances are made once per process; each input destroys what it made.
#include <udal/udal.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <type_traits>
#include <vector>

#define CHECK(condition)                                                                           \
  do {                                                                                             \
    if (!(condition)) {                                                                            \
      std::fprintf(stderr, "fuzz_api: check failed at line %d: %s (last message: %s)\n",         \
                   __LINE__, #condition, udal_last_error_message());                              \
      __builtin_trap();                                                                            \
    }                                                                                              \
  } while (0)

namespace {

// The largest buffer an input makes (larger sizes are only ones the driver must refuse):
// host memory given to write and read is this large, so no accepted transfer leaves it.
constexpr uint64_t kMaxBuffer = 1 << 16;
constexpr size_t kMaxOps = 256;     // per input
constexpr size_t kMaxObjects = 24;  // live objects of one kind
constexpr size_t kSlab = 1024;      // bytes behind every descriptor (struct_size ≤ this)

// ------------------------------------------------------------------------------------------
// Input
// ------------------------------------------------------------------------------------------

class Bytes {
public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return size_ == 0; }
  uint8_t u8() {
    if (size_ == 0)
      return 0;
    --size_;
    return *data_++;
  }
  uint16_t u16() { return static_cast<uint16_t>(u8() | u8() << 8); }
  uint32_t u32() { return static_cast<uint32_t>(u16()) | static_cast<uint32_t>(u16()) << 16; }
  uint64_t u64() { return static_cast<uint64_t>(u32()) | static_cast<uint64_t>(u32()) << 32; }
  // Up to |max| raw bytes.
  std::vector<uint8_t> take(size_t max) {
    size_t n = std::min<size_t>(max, std::min<size_t>(u16(), size_));
    std::vector<uint8_t> out(data_, data_ + n);
    data_ += n;
    size_ -= n;
    return out;
  }

private:
  const uint8_t* data_;
  size_t size_;
};

// A size or offset near |bound|: 0, small, inside, at, just past, far past, wrapping.
uint64_t near(Bytes& in, uint64_t bound) {
  switch (in.u8() % 10) {
  case 0: return 0;
  case 1: return in.u8();
  case 2: return bound == 0 ? 0 : in.u32() % bound;
  case 3: return bound;
  case 4: return bound + 1;
  case 5: return bound + 1 + in.u8();
  case 6: return UINT64_MAX - in.u8();
  case 7: return uint64_t{1} << (in.u8() % 64);
  case 8: return (uint64_t{1} << 63) + in.u8();
  default: return in.u64();
  }
}

uint32_t near32(Bytes& in, uint32_t bound) {
  switch (in.u8() % 7) {
  case 0: return 0;
  case 1: return 1 + in.u8() % 4;
  case 2: return bound;
  case 3: return bound + 1;
  case 4: return UINT32_MAX;
  case 5: return uint32_t{1} << (in.u8() % 32);
  default: return in.u32();
  }
}

// ------------------------------------------------------------------------------------------
// Process-wide state
// ------------------------------------------------------------------------------------------

struct Device {
  udal_device_t handle = nullptr;
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
};

struct World {
  udal_instance_t instance = nullptr;
  std::vector<Device> devices;
};

World g_plain, g_validated;
std::vector<uint8_t> g_module_bytes; // the kernels' image
std::string g_module_path, g_fifo, g_directory;
alignas(64) uint8_t g_host[2 * kMaxBuffer]; // host memory of writes and reads
std::atomic<uint64_t> g_host_calls{0};

const char* env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value && value[0] ? value : fallback;
}

void make_world(World& world, udal_instance_flags_t flags, const char* driver) {
  udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
  desc.flags = flags;
  desc.driver_paths = &driver;
  desc.driver_path_count = 1;
  if (udal_instance_create(&desc, &world.instance) != UDAL_SUCCESS) {
    std::fprintf(stderr, "fuzz_api: cannot create an instance on %s: %s\n", driver,
                 udal_last_error_message());
    std::abort();
  }
  uint32_t count = 0;
  CHECK(udal_instance_get_device_count(world.instance, &count) == UDAL_SUCCESS);
  if (count == 0) {
    std::fprintf(stderr, "fuzz_api: the driver %s has no device\n", driver);
    std::abort();
  }
  for (uint32_t i = 0; i < count; ++i) {
    Device device;
    CHECK(udal_instance_get_device(world.instance, i, &device.handle) == UDAL_SUCCESS);
    CHECK(udal_device_get_info(device.handle, &device.info) == UDAL_SUCCESS);
    world.devices.push_back(device);
  }
}

// ------------------------------------------------------------------------------------------
// One input
// ------------------------------------------------------------------------------------------

// Every result is checked the same way: a failure has a message; an out-parameter of a
// failed call is cleared.
void check_result(udal_result_t r) {
  CHECK(udal_result_name(r) != nullptr);
  if (r != UDAL_SUCCESS && r != UDAL_NOT_READY && r != UDAL_TIMEOUT) {
    const char* message = udal_last_error_message();
    CHECK(message != nullptr && message[0] != '\0');
  }
}

template <class H>
struct Object {
  H handle;
  size_t device; // index in World::devices
};

struct BufferObject : Object<udal_buffer_t> {
  uint64_t size;
  bool mapped;
};

struct EventObject : Object<udal_event_t> {
  bool host_signal;
  bool signalled;
};

class Run {
public:
  Run(World& world, bool validated, Bytes& in) : world_(world), validated_(validated), in_(in) {}

  ~Run() { finish(); }

  void step() {
    switch (in_.u8() % 34) {
    case 0: buffer_create(); break;
    case 1: buffer_destroy(); break;
    case 2: buffer_get_info(); break;
    case 3: buffer_map(); break;
    case 4: buffer_unmap(); break;
    case 5: buffer_get_device_address(); break;
    case 6: stream_create(); break;
    case 7: stream_destroy(); break;
    case 8: stream_write(); break;
    case 9: stream_read(); break;
    case 10: stream_copy(); break;
    case 11: stream_fill(); break;
    case 12: stream_launch(); break;
    case 13: stream_record(); break;
    case 14: stream_wait(); break;
    case 15: stream_synchronize(); break;
    case 16: stream_host_function(); break;
    case 17: event_create(); break;
    case 18: event_destroy(); break;
    case 19: event_query_wait(); break;
    case 20: event_elapsed(); break;
    case 21: event_signal(); break;
    case 22: module_create(); break;
    case 23: module_destroy(); break;
    case 24: module_get_info(); break;
    case 25: kernel_create(); break;
    case 26: kernel_destroy(); break;
    case 27: kernel_get_info(); break;
    case 28: kernel_get_argument_info(); break;
    case 29: device_get_info(); break;
    case 30: device_get_memory_usage(); break;
    case 31: instance_queries(); break;
    case 32: stream_create(); stream_launch(); break; // launches are what drivers get wrong
    default: buffer_create(); stream_write(); break;
    }
  }

private:
  // ---------------------------------------------------------------- picking handles

  size_t pick_device() { return in_.u8() % world_.devices.size(); }

  // A handle of kind H: a live one, NULL, or (validation only) a destroyed one or one of
  // another kind.
  template <class H, class O>
  H pick(const std::vector<O>& live, const std::vector<H>& dead, size_t* index = nullptr) {
    const uint8_t choice = in_.u8();
    if (index)
      *index = SIZE_MAX;
    if (choice < 16)
      return nullptr;
    if (validated_ && choice >= 232) {
      if (choice >= 244 && !dead.empty())
        return dead[in_.u8() % dead.size()];
      return other_kind<H>();
    }
    if (live.empty())
      return nullptr;
    const size_t i = in_.u8() % live.size();
    if (index)
      *index = i;
    return live[i].handle;
  }

  // A live object of another kind than H (a device when there is none), as an H.
  template <class H>
  H other_kind() {
    const uint8_t k = in_.u8() % 5;
    if (k == 0 && !std::is_same_v<H, udal_buffer_t> && !buffers_.empty())
      return reinterpret_cast<H>(buffers_[0].handle);
    if (k == 1 && !std::is_same_v<H, udal_stream_t> && !streams_.empty())
      return reinterpret_cast<H>(streams_[0].handle);
    if (k == 2 && !std::is_same_v<H, udal_event_t> && !events_.empty())
      return reinterpret_cast<H>(events_[0].handle);
    if (k == 3 && !std::is_same_v<H, udal_module_t> && !modules_.empty())
      return reinterpret_cast<H>(modules_[0].handle);
    if (k == 4 && !std::is_same_v<H, udal_kernel_t> && !kernels_.empty())
      return reinterpret_cast<H>(kernels_[0].handle);
    return reinterpret_cast<H>(world_.devices[0].handle);
  }

  udal_buffer_t pick_buffer(size_t* i = nullptr) { return pick(buffers_, dead_buffers_, i); }
  udal_stream_t pick_stream(size_t* i = nullptr) { return pick(streams_, dead_streams_, i); }
  udal_event_t pick_event(size_t* i = nullptr) { return pick(events_, dead_events_, i); }
  udal_module_t pick_module(size_t* i = nullptr) { return pick(modules_, dead_modules_, i); }
  udal_kernel_t pick_kernel(size_t* i = nullptr) { return pick(kernels_, dead_kernels_, i); }

  uint64_t size_of(udal_buffer_t buffer) const {
    for (const BufferObject& b : buffers_)
      if (b.handle == buffer)
        return b.size;
    return kMaxBuffer;
  }

  // ---------------------------------------------------------------- descriptors

  // A descriptor of type T in a zeroed slab: usually well formed; sometimes with another
  // type, another struct_size (up to the slab: a callee may read that far) or a chained
  // struct of any type.
  template <class T>
  T* desc(const T& init) {
    static_assert(sizeof(T) <= kSlab);
    unsigned char* slab = slabs_[slab_next_++ % std::size(slabs_)];
    std::memset(slab, 0, kSlab);
    std::memcpy(slab, &init, sizeof(T));
    T* out = reinterpret_cast<T*>(slab);
    const uint8_t shape = in_.u8();
    if (shape >= 240) {
      switch (shape % 4) {
      case 0: out->type = static_cast<udal_structure_type_t>(in_.u32()); break;
      case 1: out->struct_size = static_cast<uint32_t>(in_.u16() % (kSlab + 1)); break;
      case 2: out->struct_size = UINT32_MAX; break; // checked before it is believed
      default: {
        unsigned char* chained = slabs_[slab_next_++ % std::size(slabs_)];
        std::memset(chained, 0, kSlab);
        auto* base = reinterpret_cast<udal_base_in_t*>(chained);
        base->type = static_cast<udal_structure_type_t>(in_.u8() % 20);
        if (in_.u8() & 1)
          base->type = static_cast<udal_structure_type_t>(in_.u32());
        base->struct_size = static_cast<uint32_t>(in_.u16() % (kSlab + 1));
        out->next = base;
      }
      }
      if (out->struct_size == UINT32_MAX)
        out->struct_size = static_cast<uint32_t>(kSlab); // never more than the slab
    }
    return out;
  }

  // What a callee makes of |desc|: the fields inside its struct_size, the rest zero (every
  // field's default); a NULL desc is all defaults.
  template <class T>
  static T effective(const T* desc_ptr, const T& defaults) {
    if (desc_ptr == nullptr)
      return defaults;
    T out;
    std::memset(&out, 0, sizeof out);
    std::memcpy(&out, desc_ptr, std::min<size_t>(desc_ptr->struct_size, sizeof(T)));
    return out;
  }

  // ---------------------------------------------------------------- buffers

  void buffer_create() {
    if (buffers_.size() >= kMaxObjects)
      return;
    const size_t d = pick_device();
    const udal_device_info_t& info = world_.devices[d].info;
    udal_buffer_desc_t init = UDAL_BUFFER_DESC_INIT;
    init.size = near(in_, kMaxBuffer);
    // A size the driver would take but larger than kMaxBuffer becomes a small one (a real
    // allocation of gigabytes tells nothing and trips the fuzzer's memory limit).
    if (init.size > kMaxBuffer && init.size <= info.max_allocation_bytes)
      init.size = 1 + init.size % kMaxBuffer;
    const uint8_t a = in_.u8();
    init.alignment = a < 128 ? 0 : a < 200 ? uint64_t{1} << (a % 13) : near(in_, 4096);
    if (init.alignment > (uint64_t{1} << 20) && init.alignment <= info.max_allocation_bytes &&
        (init.alignment & (init.alignment - 1)) == 0)
      init.alignment = 4096;
    init.flags = in_.u8() < 220 ? (in_.u8() & 1) : in_.u64();
    const uint8_t k = in_.u8();
    init.kind = static_cast<udal_buffer_kind_t>(k < 240 ? k % 3 : in_.u32());
    init.reserved0 = in_.u8() < 250 ? 0 : in_.u32();
    udal_buffer_desc_t* desc_ptr = in_.u8() < 4 ? nullptr : desc(init);
    udal_buffer_t buffer = reinterpret_cast<udal_buffer_t>(&g_host); // must be cleared
    udal_result_t r = udal_buffer_create(world_.devices[d].handle, desc_ptr, &buffer);
    check_result(r);
    if (r != UDAL_SUCCESS) {
      CHECK(buffer == nullptr);
      return;
    }
    CHECK(buffer != nullptr);
    const udal_buffer_desc_t asked = effective(desc_ptr, init);
    CHECK(desc_ptr != nullptr && asked.size > 0 && asked.size <= kMaxBuffer);
    udal_buffer_info_t got = UDAL_BUFFER_INFO_INIT;
    CHECK(udal_buffer_get_info(buffer, &got) == UDAL_SUCCESS);
    CHECK(got.size == asked.size);
    CHECK(got.kind == asked.kind);
    CHECK(got.device == world_.devices[d].handle);
    buffers_.push_back({{buffer, d}, asked.size, false});
  }

  void buffer_destroy() {
    size_t i;
    udal_buffer_t buffer = pick_buffer(&i);
    udal_result_t r = udal_buffer_destroy(buffer);
    check_result(r);
    if (i != SIZE_MAX) {
      CHECK((r == UDAL_SUCCESS) == !buffers_[i].mapped);
      if (r == UDAL_SUCCESS) {
        dead_buffers_.push_back(buffer);
        buffers_.erase(buffers_.begin() + static_cast<long>(i));
      }
    }
  }

  void buffer_get_info() {
    udal_buffer_t buffer = pick_buffer();
    udal_buffer_info_t* out = in_.u8() < 8 ? nullptr : desc(udal_buffer_info_t UDAL_BUFFER_INFO_INIT);
    check_result(udal_buffer_get_info(buffer, out));
  }

  void buffer_map() {
    size_t i;
    udal_buffer_t buffer = pick_buffer(&i);
    const uint64_t size = size_of(buffer);
    const uint64_t offset = near(in_, size);
    const uint64_t length = near(in_, size);
    void* ptr = &g_host; // must be cleared on failure
    udal_result_t r = udal_buffer_map(buffer, offset, length, in_.u8() < 8 ? nullptr : &ptr);
    check_result(r);
    if (r != UDAL_SUCCESS) {
      CHECK(ptr == nullptr || ptr == &g_host); // &g_host: out_ptr was NULL
      return;
    }
    CHECK(i != SIZE_MAX && !buffers_[i].mapped);
    CHECK(length > 0 && offset < size && length <= size - offset);
    // The mapping reaches every byte it maps (AddressSanitizer checks the ends).
    auto* bytes = static_cast<volatile uint8_t*>(ptr);
    bytes[0] = static_cast<uint8_t>(bytes[0] + 1);
    bytes[length - 1] = static_cast<uint8_t>(bytes[length - 1] + 1);
    buffers_[i].mapped = true;
  }

  void buffer_unmap() {
    size_t i;
    udal_buffer_t buffer = pick_buffer(&i);
    udal_result_t r = udal_buffer_unmap(buffer);
    check_result(r);
    if (i != SIZE_MAX) {
      CHECK((r == UDAL_SUCCESS) == buffers_[i].mapped);
      buffers_[i].mapped = false;
    }
  }

  void buffer_get_device_address() {
    udal_buffer_t buffer = pick_buffer();
    uint64_t address = 1;
    udal_result_t r = udal_buffer_get_device_address(buffer, in_.u8() < 8 ? nullptr : &address);
    check_result(r);
  }

  // ---------------------------------------------------------------- streams

  void stream_create() {
    if (streams_.size() >= 4) // each one is a thread
      return;
    const size_t d = pick_device();
    udal_stream_desc_t init = UDAL_STREAM_DESC_INIT;
    init.flags = in_.u8() < 250 ? 0 : in_.u64();
    udal_stream_desc_t* desc_ptr = in_.u8() < 64 ? nullptr : desc(init);
    udal_stream_t stream = reinterpret_cast<udal_stream_t>(&g_host);
    udal_result_t r = udal_stream_create(world_.devices[d].handle, desc_ptr, &stream);
    check_result(r);
    if (r != UDAL_SUCCESS) {
      CHECK(stream == nullptr);
      return;
    }
    streams_.push_back({stream, d});
  }

  void stream_destroy() {
    size_t i;
    udal_stream_t stream = pick_stream(&i);
    // Destroying a stream waits for its work, and work behind an unsignalled HOST_SIGNAL
    // event waits for ever (udal.h): signal them first, as a program must.
    signal_all();
    udal_result_t r = udal_stream_destroy(stream);
    check_result(r);
    if (i != SIZE_MAX) {
      CHECK(r == UDAL_SUCCESS);
      dead_streams_.push_back(stream);
      streams_.erase(streams_.begin() + static_cast<long>(i));
    }
  }

  void stream_write() {
    udal_stream_t stream = pick_stream();
    udal_buffer_t buffer = pick_buffer();
    const uint64_t size = size_of(buffer);
    const uint64_t offset = near(in_, size);
    const uint64_t length = near(in_, size);
    const void* src = in_.u8() < 8 ? nullptr : g_host + in_.u16() % kMaxBuffer;
    check_result(udal_stream_write_buffer(stream, buffer, offset, src, length));
  }

  void stream_read() {
    udal_stream_t stream = pick_stream();
    udal_buffer_t buffer = pick_buffer();
    const uint64_t size = size_of(buffer);
    const uint64_t offset = near(in_, size);
    const uint64_t length = near(in_, size);
    void* dst = in_.u8() < 8 ? nullptr : g_host + in_.u16() % kMaxBuffer;
    check_result(udal_stream_read_buffer(stream, buffer, offset, dst, length));
  }

  void stream_copy() {
    udal_stream_t stream = pick_stream();
    udal_buffer_t src = pick_buffer();
    udal_buffer_t dst = in_.u8() < 32 ? src : pick_buffer();
    const uint64_t src_size = size_of(src), dst_size = size_of(dst);
    const uint64_t src_offset = near(in_, src_size);
    const uint64_t dst_offset = near(in_, dst_size);
    const uint64_t length = near(in_, std::min(src_size, dst_size));
    check_result(udal_stream_copy_buffer(stream, src, src_offset, dst, dst_offset, length));
  }

  void stream_fill() {
    udal_stream_t stream = pick_stream();
    udal_buffer_t buffer = pick_buffer();
    const uint64_t size = size_of(buffer);
    const uint64_t offset = near(in_, size);
    const uint64_t length = near(in_, size);
    uint8_t pattern[16]; // exactly the largest pattern: a larger size read here is a bug
    for (uint8_t& b : pattern)
      b = in_.u8();
    const uint8_t p = in_.u8();
    const uint32_t pattern_size = p < 200 ? 1u << (p % 5) : near32(in_, 16);
    check_result(udal_stream_fill_buffer(stream, buffer, offset, length,
                                         in_.u8() < 8 ? nullptr : pattern, pattern_size));
  }

  void stream_launch() {
    udal_stream_t stream = pick_stream();
    udal_kernel_t kernel = pick_kernel();
    size_t d = 0;
    for (const auto& s : streams_)
      if (s.handle == stream)
        d = s.device;
    const udal_device_info_t& info = world_.devices[d].info;
    udal_launch_desc_t init = UDAL_LAUNCH_DESC_INIT;
    // Small groups and counts, or ones past the device's limits (a launch of 2^32 groups
    // the driver may legitimately run is not generated).
    for (int axis = 0; axis < 3; ++axis) {
      const uint8_t c = in_.u8();
      uint32_t count = 1 + c % 4;
      if (c >= 240)
        count = c == 255 ? 0 : info.max_group_count[axis] == UINT32_MAX ? 0 : info.max_group_count[axis] + 1;
      const uint8_t s = in_.u8();
      uint32_t size = 1 + s % 4;
      if (s >= 240)
        size = s == 255 ? 0 : s == 254 ? UINT32_MAX : info.max_group_size[axis] + 1;
      init.group_count[axis] = count;
      init.group_size[axis] = size;
    }
    const uint8_t l = in_.u8();
    init.local_memory_bytes = l < 128 ? 0 : l < 240 ? uint64_t{1} << (l % 14) : near(in_, info.max_local_memory_bytes);
    if (init.local_memory_bytes > kMaxBuffer && init.local_memory_bytes <= info.max_local_memory_bytes)
      init.local_memory_bytes = kMaxBuffer;
    // Value bytes live in |values| (64 bytes an argument): a value_size past that is only
    // generated where the driver must refuse it (past max_value_argument_bytes).
    constexpr uint32_t kValueRoom = 64;
    alignas(16) static uint8_t values[8][kValueRoom];
    std::array<udal_kernel_arg_t, 8> args{};
    const uint8_t n = in_.u8();
    init.arg_count = n < 240 ? n % 6 : n == 255 ? UINT32_MAX : n % 9;
    const uint32_t stored = std::min<uint32_t>(init.arg_count, static_cast<uint32_t>(args.size()));
    for (uint32_t a = 0; a < stored; ++a) {
      udal_kernel_arg_t& arg = args[a];
      const uint8_t kind = in_.u8();
      if (kind < 110) {
        arg = udal_arg_buffer_access(nullptr, 0, static_cast<udal_arg_access_t>(1 + in_.u8() % 3));
        arg.buffer = pick_buffer();
        arg.offset = near(in_, size_of(arg.buffer));
      } else if (kind < 220) {
        for (uint8_t& b : values[a])
          b = in_.u8();
        uint32_t size = 1u << (in_.u8() % 5); // 1 … 16
        const uint8_t odd = in_.u8();
        if (odd >= 240)
          size = odd % 2 ? 0 : std::max(info.max_value_argument_bytes + 1, kValueRoom + 1);
        arg = udal_arg_value(values[a], size);
        if (size > kValueRoom)
          arg.value = nullptr; // with a NULL pointer too: nothing is read either way
        if (odd == 239)
          arg.value = nullptr;
      } else {
        arg.kind = static_cast<udal_arg_kind_t>(kind % 2 ? 0 : in_.u32());
        arg.value_size = in_.u8() % 4;
        arg.buffer = kind % 3 ? nullptr : pick_buffer();
        arg.access = static_cast<udal_arg_access_t>(in_.u8() % 5);
      }
      if (in_.u8() >= 250)
        arg.reserved1[in_.u8() % 3] = 1 + in_.u8();
    }
    init.args = init.arg_count == 0 || in_.u8() < 4 ? nullptr : args.data();
    if (init.arg_count > args.size())
      init.args = nullptr; // the array is not that long: only NULL is a valid pointer here
    init.reserved0 = in_.u8() < 250 ? 0 : 1;
    udal_launch_desc_t* desc_ptr = in_.u8() < 4 ? nullptr : desc(init);
    check_result(udal_stream_launch(stream, kernel, desc_ptr));
  }

  void stream_record() {
    udal_stream_t stream = pick_stream();
    udal_event_t event = pick_event();
    check_result(udal_stream_record_event(stream, event));
  }

  void stream_wait() {
    udal_stream_t stream = pick_stream();
    udal_event_t event = pick_event();
    check_result(udal_stream_wait_event(stream, event));
  }

  uint64_t timeout() {
    switch (in_.u8() % 4) {
    case 0: return 0;
    case 1: return 1000;
    case 2: return 20000;
    default: return 100000;
    }
  }

  void stream_synchronize() {
    udal_stream_t stream = pick_stream();
    udal_result_t r = udal_stream_synchronize(stream, timeout());
    check_result(r);
  }

  static void host_function(void* user_data) {
    static_cast<std::atomic<uint64_t>*>(user_data)->fetch_add(1, std::memory_order_relaxed);
  }

  void stream_host_function() {
    udal_stream_t stream = pick_stream();
    udal_host_function_t fn = in_.u8() < 8 ? nullptr : host_function;
    check_result(udal_stream_enqueue_host_function(stream, fn, &g_host_calls));
  }

  // ---------------------------------------------------------------- events

  void event_create() {
    if (events_.size() >= kMaxObjects)
      return;
    const size_t d = pick_device();
    udal_event_desc_t init = UDAL_EVENT_DESC_INIT;
    const uint8_t f = in_.u8();
    init.flags = f < 240 ? f % 4 : in_.u64();
    udal_event_desc_t* desc_ptr = in_.u8() < 16 ? nullptr : desc(init);
    udal_event_t event = reinterpret_cast<udal_event_t>(&g_host);
    udal_result_t r = udal_event_create(world_.devices[d].handle, desc_ptr, &event);
    check_result(r);
    if (r != UDAL_SUCCESS) {
      CHECK(event == nullptr);
      return;
    }
    udal_event_desc_t none = UDAL_EVENT_DESC_INIT;
    const bool host_signal = effective(desc_ptr, none).flags & UDAL_EVENT_FLAG_HOST_SIGNAL;
    events_.push_back({{event, d}, host_signal, false});
  }

  void event_destroy() {
    size_t i;
    udal_event_t event = pick_event(&i);
    udal_result_t r = udal_event_destroy(event);
    check_result(r);
    if (i != SIZE_MAX) {
      CHECK(r == UDAL_SUCCESS);
      dead_events_.push_back(event);
      events_.erase(events_.begin() + static_cast<long>(i));
    }
  }

  void event_query_wait() {
    udal_event_t event = pick_event();
    udal_result_t r = in_.u8() % 2 ? udal_event_query(event) : udal_event_wait(event, timeout());
    check_result(r);
  }

  void event_elapsed() {
    udal_event_t start = pick_event();
    udal_event_t end = pick_event();
    uint64_t ns = 1;
    udal_result_t r = udal_event_elapsed_ns(start, end, in_.u8() < 8 ? nullptr : &ns);
    check_result(r);
  }

  void event_signal() {
    size_t i;
    udal_event_t event = pick_event(&i);
    udal_result_t r = udal_event_signal(event);
    check_result(r);
    if (i != SIZE_MAX) {
      EventObject& e = events_[i];
      CHECK((r == UDAL_SUCCESS) == (e.host_signal && !e.signalled));
      if (r == UDAL_SUCCESS)
        e.signalled = true;
    }
  }

  void signal_all() {
    for (EventObject& e : events_) {
      if (e.host_signal && !e.signalled) {
        CHECK(udal_event_signal(e.handle) == UDAL_SUCCESS);
        e.signalled = true;
      }
    }
  }

  // ---------------------------------------------------------------- modules and kernels

  void module_create() {
    if (modules_.size() >= 8)
      return;
    const size_t d = pick_device();
    std::vector<uint8_t> bytes; // kept alive through the call
    std::array<udal_module_image_t, 3> images{};
    const uint32_t count = 1 + in_.u8() % 3;
    for (uint32_t i = 0; i < count; ++i) {
      udal_module_image_t& image = images[i];
      image = udal_module_image_t UDAL_MODULE_IMAGE_INIT;
      const uint8_t f = in_.u8();
      image.format = static_cast<udal_module_format_t>(f < 200 ? 1 : f < 240 ? f % 7 : in_.u32());
      switch (in_.u8() % 12) {
      case 0: image.path = "/dev/zero"; break;
      case 1: image.path = g_fifo.c_str(); break;
      case 2: image.path = g_directory.c_str(); break;
      case 3: image.path = "/nonexistent/udal/fuzz.so"; break;
      case 4: image.path = ""; break;
      case 5: image.path = "/proc/self/exe"; break; // an executable, not a shared object
      case 6: // cut short
        image.data = g_module_bytes.data();
        image.size = in_.u32() % g_module_bytes.size();
        if (image.size == 0)
          image.data = nullptr;
        break;
      case 7: // bytes that are not an ELF image (fuzz_elf tries ELF headers)
        bytes = in_.take(4096);
        if (!bytes.empty() && bytes[0] == 0x7f)
          bytes[0] = 0;
        image.data = bytes.empty() ? nullptr : bytes.data();
        image.size = bytes.size();
        break;
      case 8: // a size past the 1 GiB limit: refused before a byte is read
        image.data = g_module_bytes.data();
        image.size = (size_t{1} << 30) + 1 + in_.u8();
        if (in_.u8() % 2)
          image.size = SIZE_MAX - in_.u8();
        break;
      case 9:
      case 10:
        image.data = g_module_bytes.data();
        image.size = g_module_bytes.size();
        break;
      default: image.path = g_module_path.c_str(); break;
      }
      if (in_.u8() >= 250)
        image.reserved0 = 1;
    }
    udal_module_desc_t init = UDAL_MODULE_DESC_INIT;
    init.images = in_.u8() < 4 ? nullptr : images.data();
    init.image_count = in_.u8() < 4 ? 0 : count;
    const udal_specialization_constant_t constant{1, 4, &g_host};
    if (in_.u8() >= 245) {
      init.specialization_constants = in_.u8() % 2 ? &constant : nullptr;
      init.specialization_constant_count = 1;
    }
    udal_module_desc_t* desc_ptr = in_.u8() < 4 ? nullptr : desc(init);
    udal_module_t module = reinterpret_cast<udal_module_t>(&g_host);
    udal_result_t r = udal_module_create(world_.devices[d].handle, desc_ptr, &module);
    check_result(r);
    if (r != UDAL_SUCCESS) {
      CHECK(module == nullptr);
      return;
    }
    modules_.push_back({module, d});
  }

  void module_destroy() {
    size_t i;
    udal_module_t module = pick_module(&i);
    udal_result_t r = udal_module_destroy(module);
    check_result(r);
    if (i != SIZE_MAX) {
      CHECK(r == UDAL_SUCCESS);
      dead_modules_.push_back(module);
      modules_.erase(modules_.begin() + static_cast<long>(i));
    }
  }

  void module_get_info() {
    udal_module_t module = pick_module();
    udal_module_info_t* out = in_.u8() < 8 ? nullptr : desc(udal_module_info_t UDAL_MODULE_INFO_INIT);
    check_result(udal_module_get_info(module, out));
  }

  void kernel_create() {
    if (kernels_.size() >= kMaxObjects)
      return;
    udal_module_t module = pick_module();
    static const char* const names[] = {"empty", "touch", "copy",    "local",   "block",
                                        "sum_bytes", "missing", "", "udal_host_module_abi_version"};
    char custom[17] = {};
    const char* name = nullptr;
    const uint8_t n = in_.u8();
    if (n < 200) {
      name = names[n % std::size(names)];
    } else if (n < 250) {
      for (size_t i = 0; i + 1 < sizeof custom; ++i)
        custom[i] = static_cast<char>(in_.u8());
      name = custom;
    }
    udal_kernel_t kernel = reinterpret_cast<udal_kernel_t>(&g_host);
    udal_result_t r = udal_kernel_create(module, name, &kernel);
    check_result(r);
    if (r != UDAL_SUCCESS) {
      CHECK(kernel == nullptr);
      return;
    }
    kernels_.push_back({kernel, 0});
  }

  void kernel_destroy() {
    size_t i;
    udal_kernel_t kernel = pick_kernel(&i);
    udal_result_t r = udal_kernel_destroy(kernel);
    check_result(r);
    if (i != SIZE_MAX) {
      CHECK(r == UDAL_SUCCESS);
      dead_kernels_.push_back(kernel);
      kernels_.erase(kernels_.begin() + static_cast<long>(i));
    }
  }

  void kernel_get_info() {
    udal_kernel_t kernel = pick_kernel();
    udal_kernel_info_t* out = in_.u8() < 8 ? nullptr : desc(udal_kernel_info_t UDAL_KERNEL_INFO_INIT);
    check_result(udal_kernel_get_info(kernel, out));
  }

  void kernel_get_argument_info() {
    udal_kernel_t kernel = pick_kernel();
    const uint32_t index = near32(in_, 4);
    udal_kernel_arg_info_t* out =
        in_.u8() < 8 ? nullptr : desc(udal_kernel_arg_info_t UDAL_KERNEL_ARG_INFO_INIT);
    check_result(udal_kernel_get_argument_info(kernel, index, out));
  }

  // ---------------------------------------------------------------- devices and instance

  void device_get_info() {
    udal_device_t device = in_.u8() < 16 ? nullptr : world_.devices[pick_device()].handle;
    udal_device_info_t* out = in_.u8() < 8 ? nullptr : desc(udal_device_info_t UDAL_DEVICE_INFO_INIT);
    udal_result_t r = udal_device_get_info(device, out);
    check_result(r);
    if (r == UDAL_SUCCESS && out->struct_size == sizeof(udal_device_info_t))
      CHECK(std::memchr(out->name, '\0', sizeof out->name) != nullptr);
  }

  void device_get_memory_usage() {
    udal_device_t device = in_.u8() < 16 ? nullptr : world_.devices[pick_device()].handle;
    udal_memory_usage_t* out =
        in_.u8() < 8 ? nullptr : desc(udal_memory_usage_t UDAL_MEMORY_USAGE_INIT);
    check_result(udal_device_get_memory_usage(device, out));
  }

  void instance_queries() {
    udal_instance_t instance = in_.u8() < 16 ? nullptr : world_.instance;
    uint32_t count = 0;
    switch (in_.u8() % 4) {
    case 0: check_result(udal_instance_get_driver_count(instance, in_.u8() < 8 ? nullptr : &count)); break;
    case 1: check_result(udal_instance_get_device_count(instance, in_.u8() < 8 ? nullptr : &count)); break;
    case 2: {
      udal_device_t device = nullptr;
      check_result(udal_instance_get_device(instance, near32(in_, 2), &device));
      break;
    }
    default: {
      udal_driver_status_t* out =
          in_.u8() < 8 ? nullptr : desc(udal_driver_status_t UDAL_DRIVER_STATUS_INIT);
      udal_result_t r = udal_instance_get_driver_status(instance, near32(in_, 1), out);
      check_result(r);
      if (r == UDAL_SUCCESS && out->struct_size == sizeof(udal_driver_status_t))
        CHECK(out->name && out->reason && out->library_path && out->manifest_path);
    }
    }
  }

  // ---------------------------------------------------------------- teardown

  // Everything this input made is destroyed, each call succeeding: streams first (their
  // work completes), after releasing every HOST_SIGNAL wait.
  void finish() {
    signal_all();
    for (auto& s : streams_)
      CHECK(udal_stream_synchronize(s.handle, UDAL_TIMEOUT_INFINITE) == UDAL_SUCCESS);
    for (BufferObject& b : buffers_)
      if (b.mapped)
        CHECK(udal_buffer_unmap(b.handle) == UDAL_SUCCESS);
    for (auto& s : streams_)
      CHECK(udal_stream_destroy(s.handle) == UDAL_SUCCESS);
    for (auto& k : kernels_)
      CHECK(udal_kernel_destroy(k.handle) == UDAL_SUCCESS);
    for (auto& m : modules_)
      CHECK(udal_module_destroy(m.handle) == UDAL_SUCCESS);
    for (auto& e : events_)
      CHECK(udal_event_destroy(e.handle) == UDAL_SUCCESS);
    for (BufferObject& b : buffers_)
      CHECK(udal_buffer_destroy(b.handle) == UDAL_SUCCESS);
    streams_.clear();
    kernels_.clear();
    modules_.clear();
    events_.clear();
    buffers_.clear();
  }

  World& world_;
  const bool validated_;
  Bytes& in_;
  std::vector<BufferObject> buffers_;
  std::vector<Object<udal_stream_t>> streams_;
  std::vector<EventObject> events_;
  std::vector<Object<udal_module_t>> modules_;
  std::vector<Object<udal_kernel_t>> kernels_;
  std::vector<udal_buffer_t> dead_buffers_;
  std::vector<udal_stream_t> dead_streams_;
  std::vector<udal_event_t> dead_events_;
  std::vector<udal_module_t> dead_modules_;
  std::vector<udal_kernel_t> dead_kernels_;
  alignas(16) unsigned char slabs_[4][kSlab] = {};
  size_t slab_next_ = 0;
};

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Two CPU devices (objects of one are refused by the other), quiet logs, and none of the
  // caller's search or filter variables.
  setenv("UDAL_CPU_DEVICE_COUNT", "2", 1);
  setenv("UDAL_LOG", "none", 1);
  for (const char* name : {"UDAL_DRIVER_FILES", "UDAL_ADD_DRIVER_FILES", "UDAL_DRIVERS_SELECT",
                           "UDAL_DRIVERS_DISABLE", "UDAL_VALIDATION", "UDAL_TRACE"})
    unsetenv(name);
  const char* driver = env_or("UDAL_FUZZ_API_DRIVER", UDAL_FUZZ_API_DRIVER);
  g_module_path = env_or("UDAL_FUZZ_API_KERNELS", UDAL_FUZZ_API_KERNELS);
  std::ifstream file(g_module_path, std::ios::binary);
  g_module_bytes.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  if (g_module_bytes.empty()) {
    std::fprintf(stderr, "fuzz_api: cannot read the kernels at %s\n", g_module_path.c_str());
    std::abort();
  }
  // A FIFO nobody writes and a directory, for module paths.
  char dir[] = "/tmp/udal-fuzz-api-XXXXXX";
  if (mkdtemp(dir) == nullptr)
    std::abort();
  g_directory = dir;
  g_fifo = g_directory + "/fifo.so";
  if (mkfifo(g_fifo.c_str(), 0600) != 0)
    std::abort();
  std::atexit([] {
    unlink(g_fifo.c_str());
    rmdir(g_directory.c_str());
  });
  make_world(g_plain, 0, driver);
  make_world(g_validated, UDAL_INSTANCE_FLAG_VALIDATION, driver);
  // Released at exit, so the drivers' teardown runs too and LeakSanitizer's check at exit
  // sees what they leave (the long runs use -detect_leaks=0: objects the validation layer
  // keeps on purpose make every input look like a leak to libFuzzer's per-input check).
  std::atexit([] {
    CHECK(udal_instance_release(g_validated.instance) == UDAL_SUCCESS);
    CHECK(udal_instance_release(g_plain.instance) == UDAL_SUCCESS);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  const bool validated = in.u8() % 2 == 1;
  Run run(validated ? g_validated : g_plain, validated, in);
  for (size_t op = 0; op < kMaxOps && !in.empty(); ++op)
    run.step();
  return 0;
}
