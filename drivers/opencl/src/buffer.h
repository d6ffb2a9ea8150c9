// buffer.h — a UDAL buffer: an OpenCL buffer object, over SVM where the buffer is mapped
// coherently or has a device address, with the sub-buffers its launches used at offsets.
#ifndef UDAL_OPENCL_BUFFER_H_
#define UDAL_OPENCL_BUFFER_H_

#include <atomic>
#include <mutex>
#include <utility>
#include <vector>

#include "device.h"

namespace udal::opencl {

struct Buffer {
  const udal_driver_table_t* dispatch;
  Device* device;
  ClMem mem;
  OwnedMemory memory; // the SVM or host memory behind |mem| (CL_MEM_USE_HOST_PTR), if any
  void* host_pointer; // byte 0 as the host (and, for SVM, the device) addresses it
  bool coherent;      // fine-grained SVM: |host_pointer| needs no map/unmap
  uint64_t size;
  uint64_t alignment;
  udal_buffer_flags_t flags;
  udal_buffer_kind_t kind;
  std::atomic<bool> mapped;
  void* map_base; // what clEnqueueMapBuffer returned for the current mapping
  std::mutex sub_mutex;
  std::vector<std::pair<uint64_t, ClMem>> sub_buffers;

  // The buffer object a kernel argument at |offset| binds: the buffer itself, a cached
  // sub-buffer, or a new one left in |*temporary| (released once enqueued: OpenCL keeps it
  // for the launch). nullptr with |*error| when OpenCL refuses.
  cl_mem argument(uint64_t offset, ClMem* temporary, cl_int* error);
};
UDAL_SDK_DISPATCHABLE(Buffer);

inline Buffer* to_buffer(udal_buffer_t handle) noexcept {
  return udal::sdk::from_handle<Buffer>(handle);
}

// Destroys |buffer| as udal_buffer_destroy does, without the mapped check (shutdown).
void destroy_buffer(Buffer* buffer) noexcept;

} // namespace udal::opencl

#endif // UDAL_OPENCL_BUFFER_H_
