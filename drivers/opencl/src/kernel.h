// kernel.h — a UDAL kernel: what the driver knows of one kernel of a program, and a pool of
// OpenCL kernel objects so that launches from several threads never share one object's
// argument state.
#ifndef UDAL_OPENCL_KERNEL_H_
#define UDAL_OPENCL_KERNEL_H_

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "device.h"
#include "reflection.h"

namespace udal::opencl {

struct Kernel {
  const udal_driver_table_t* dispatch;
  Device* device;
  ClProgram program;
  std::string name;
  std::shared_ptr<const ProgramReflection> reflection; // keeps |info| alive
  const KernelReflection* info; // never null (an empty reflection when nothing is known)
  uint32_t parameter_count;     // CL_KERNEL_NUM_ARGS
  uint32_t max_group_invocations;
  uint32_t required_group_size[3]; // all 0 when the kernel fixes none
  uint64_t static_local_bytes;     // CL_KERNEL_LOCAL_MEM_SIZE
  std::mutex pool_mutex;
  std::vector<ClKernel> pool; // kernel objects no launch is setting up now

  // A kernel object for one launch: from the pool, or a new one. Give it back with
  // give_back once enqueued (OpenCL captured the arguments at the enqueue).
  ClKernel take(cl_int* error);
  void give_back(ClKernel kernel) noexcept;
};
UDAL_SDK_DISPATCHABLE(Kernel);

inline Kernel* to_kernel(udal_kernel_t handle) noexcept {
  return udal::sdk::from_handle<Kernel>(handle);
}

void destroy_kernel(Kernel* kernel) noexcept;

} // namespace udal::opencl

#endif // UDAL_OPENCL_KERNEL_H_
