// launch.h — validating a kernel launch and running its work-groups.
#ifndef UDAL_CPU_LAUNCH_H_
#define UDAL_CPU_LAUNCH_H_

#include <memory>

#include "device.h"
#include "kernel.h"
#include "operation.h"

namespace udal::cpu {

// Checks |desc| against |kernel| and |device| and captures everything the launch needs
// (value bytes copied, buffer memory and the kernel's library held) in |out|. Returns
// UDAL_SUCCESS or an error with its message; throws bad_alloc.
udal_result_t prepare_launch(Device& device, const Kernel& kernel, const udal_launch_desc_t& desc,
                             std::unique_ptr<Operation>& out);

}  // namespace udal::cpu

#endif  // UDAL_CPU_LAUNCH_H_
