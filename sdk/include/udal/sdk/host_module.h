// host_module.h — HOST_NATIVE modules: shared objects of host kernels (udal_host_kernel.h),
// checked, loaded with dlopen, their kernels looked up, and their work-groups called.
//
// Link udal::sdk_host_module (a static library, position-independent with hidden symbols:
// each driver carries its own copy). The CPU driver is built on it; a vendor driver whose
// device runs host kernels (a simulator, a CPU-side fallback) uses it the same way:
//
//   // udal_module_create (inside udal::sdk::guard, after check_struct on |desc|):
//   std::shared_ptr<udal::sdk::HostLibrary> library;
//   uint32_t image_index = 0;
//   if (udal_result_t r = udal::sdk::load_host_module(desc, device->info.name, library,
//                                                     image_index)) return r;
//   module->library = std::move(library);            // shared with every kernel made from it
//
//   // udal_kernel_create:
//   if (udal_result_t r = udal::sdk::find_host_kernel(module->library, name,
//       device->info.max_kernel_arguments, module, kernel->host)) return r;
//
//   // udal_kernel_get_info / udal_kernel_get_argument_info, the whole entries:
//   return udal::sdk::get_host_kernel_info(kernel->host, device->info.max_group_invocations,
//                                          out_info);
//   return udal::sdk::get_host_kernel_argument_info(kernel->host, index, out_info);
//
//   // udal_stream_launch: udal::sdk::check_launch (checks.h) with kernel->host.signature(),
//   // then capture the launch and run it later (its work-groups on any threads):
//   auto launch = std::make_shared<udal::sdk::HostLaunch>(kernel->host, desc);
//   for each BUFFER argument i: launch->set_buffer(i, data + offset, size - offset);
//   ... on the stream's executor: launch->run_groups(0, launch->group_total(), local);
//
// Every function returns a udal_result_t and sets the message with udal::sdk::fail; none
// throws except std::bad_alloc (run them inside udal::sdk::guard, as every entry is).
#ifndef UDAL_SDK_HOST_MODULE_H_
#define UDAL_SDK_HOST_MODULE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "udal/sdk/checks.h"
#include "udal/udal_driver.h"
#include "udal/udal_host_kernel.h"

namespace udal::sdk {

// One dlopen'ed host module. Hold it by shared_ptr from the module and from every kernel
// made from it, and from every launch in flight: a module may be destroyed while its
// kernels live, and a kernel while its launches run.
class HostLibrary {
public:
  // Takes |handle| (from dlopen) and |memfd| (-1 for a library loaded from a path).
  HostLibrary(void* handle, int memfd) noexcept : handle_(handle), memfd_(memfd) {}
  ~HostLibrary();
  HostLibrary(const HostLibrary&) = delete;
  HostLibrary& operator=(const HostLibrary&) = delete;

  void* handle() const noexcept { return handle_; }
  // dlsym(handle(), |name|), or nullptr.
  void* symbol(const char* name) const noexcept;

private:
  void* handle_;
  // The memfd an in-memory image was loaded from, kept open while the library is loaded:
  // glibc recognises loaded objects by path, and a reused "/proc/self/fd/N" would make a
  // later dlopen return this library instead of the new image.
  int memfd_;
};

// Loads HOST_NATIVE image |image| (desc->images[|index|], for messages) into |out|.
//
// Before dlopen an image passes the checks of file_check.h: bytes (image.data) are at most
// 1 GiB and an ELF shared object of this process's class, byte order and machine whose ELF
// header, program headers, segments, section-header table and sections all lie inside the
// image (an image missing even the last byte of its section headers is refused: dlopen
// maps what the headers name, and a truncated image would be a SIGBUS at first touch); a
// path (image.path) must name a regular file of at most 1 GiB that passes the same checks.
// Bytes are written into a memfd and loaded from there, so nothing touches the disk.
// The library must export UDAL_HOST_MODULE_SYMBOL with UDAL_HOST_KERNEL_ABI_VERSION.
// Returns UDAL_SUCCESS; UDAL_ERROR_INVALID_ARGUMENT (no data nor path, data of size 0);
// UDAL_ERROR_INVALID_MODULE (a check or dlopen failed, no or another ABI version);
// UDAL_ERROR_OUT_OF_HOST_MEMORY (no memfd). The message names images[|index|] and why.
udal_result_t load_host_image(const udal_module_image_t& image, uint32_t index,
                              std::shared_ptr<HostLibrary>& out);

// The whole of udal_module_create's work for a driver that takes HOST_NATIVE images only:
// checks every image struct (check_struct), refuses specialization constants (host images
// have none), and loads the first HOST_NATIVE image with load_host_image. Call it with the
// desc already read (read_struct) and checked. |device_name| is for the message when no
// image is HOST_NATIVE: UDAL_ERROR_UNSUPPORTED "device '<name>' takes HOST_NATIVE images
// only; the module offers SPIRV_COMPUTE (2), ...". |out_image_index|: the image taken.
udal_result_t load_host_module(const udal_module_desc_t& desc, const char* device_name,
                               std::shared_ptr<HostLibrary>& out, uint32_t& out_image_index);

// One kernel of a host module, as udal_kernel_create found it. Immutable once made, so
// launches from several threads read it without a lock.
struct HostKernel {
  std::shared_ptr<HostLibrary> library; // keeps |function| mapped
  udal_host_kernel_fn function = nullptr;
  std::string name;
  uint32_t argument_count = UDAL_ARGUMENT_COUNT_UNKNOWN;
  // From udal_host_kernel_decl__<name> (UDAL_HOST_KERNEL_ARGS), checked and copied:
  bool declared = false;
  uint32_t declared_flags = 0; // UDAL_HOST_KERNEL_*
  std::vector<ArgDeclaration> declared_args;

  // What check_launch (checks.h) checks a launch of this kernel against. Points into
  // this kernel: use it while the kernel lives.
  KernelSignature signature() const noexcept;
};

// Looks up kernel |name| in |library| into |out|: its group function
// (udal_host_kernel__<name>), its argument count (udal_host_kernel_argc__<name>, when
// present) and its declaration (udal_host_kernel_decl__<name>, when present), which is read
// as untrusted and checked (ABI version, count within |max_kernel_arguments| and matching
// the count symbol, kinds, access, sizes, reserved fields). |module| is the driver's module
// object, only for messages. Returns UDAL_SUCCESS; UDAL_ERROR_INVALID_ARGUMENT (name NULL
// or empty); UDAL_ERROR_KERNEL_NOT_FOUND; UDAL_ERROR_INVALID_MODULE (a bad declaration).
udal_result_t find_host_kernel(const std::shared_ptr<HostLibrary>& library, const char* name,
                               uint32_t max_kernel_arguments, const void* module, HostKernel& out);

// Fills |info| (from make_struct) for udal_kernel_get_info: ARGUMENT_INFO and
// USES_LOCAL_MEMORY from the declaration, the argument count, |max_group_invocations|.
void host_kernel_info(const HostKernel& kernel, uint32_t max_group_invocations,
                      udal_kernel_info_t& info) noexcept;

// Fills |info| (from make_struct) for udal_kernel_get_argument_info. Returns
// UDAL_ERROR_UNSUPPORTED for a kernel defined without a declaration (UDAL_HOST_KERNEL),
// UDAL_ERROR_NOT_FOUND for an index past its arguments.
udal_result_t host_kernel_argument_info(const HostKernel& kernel, uint32_t index,
                                        udal_kernel_arg_info_t& info) noexcept;

// The whole of the entries udal_kernel_get_info and udal_kernel_get_argument_info for a
// host kernel: |out_info| NULL or of another struct type is refused (INVALID_ARGUMENT),
// else filled as above within the caller's struct_size.
udal_result_t get_host_kernel_info(const HostKernel& kernel, uint32_t max_group_invocations,
                                   udal_kernel_info_t* out_info) noexcept;
udal_result_t get_host_kernel_argument_info(const HostKernel& kernel, uint32_t index,
                                            udal_kernel_arg_info_t* out_info) noexcept;

// One launch of a host kernel, captured at enqueue (value bytes copied, the library held)
// so that it runs later, on any thread, while the caller reuses its arguments. Make it
// after check_launch passed. The driver sets every BUFFER argument's pointer and holds
// the buffers' memory itself for as long as the launch lives.
class HostLaunch {
public:
  // Throws std::bad_alloc.
  HostLaunch(const HostKernel& kernel, const udal_launch_desc_t& desc);

  // What BUFFER argument |index| points to: the buffer's bytes at the argument's offset,
  // and how many bytes follow (udal_host_dispatch_t::arg_sizes).
  void set_buffer(uint32_t index, void* data, uint64_t bytes) noexcept;

  // group_count[0] * [1] * [2].
  uint64_t group_total() const noexcept;
  uint64_t local_memory_bytes() const noexcept { return local_memory_bytes_; }

  // Calls the kernel's group function for groups [begin, end) of the launch (numbered x
  // fastest), one after another, with |local_memory| (local_memory_bytes(), 64-byte
  // aligned, or NULL when 0) as every group's local memory. Split the range over threads
  // as the device likes; each thread needs its own local memory.
  void run_groups(uint64_t begin, uint64_t end, void* local_memory) const noexcept;

private:
  udal_host_kernel_fn function_ = nullptr;
  std::shared_ptr<HostLibrary> library_;
  uint32_t group_count_[3] = {};
  uint32_t group_size_[3] = {};
  uint64_t local_memory_bytes_ = 0;
  std::vector<void*> args_;
  std::vector<uint64_t> arg_sizes_;
  struct alignas(16) ValueSlot {
    std::byte bytes[16];
  };
  std::vector<ValueSlot> values_; // value arguments, each starting 16-byte aligned
};

} // namespace udal::sdk

#endif // UDAL_SDK_HOST_MODULE_H_
