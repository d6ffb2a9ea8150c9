// launch.h — checking a kernel launch and running its work-groups on the device's threads.
#ifndef UDAL_CPU_LAUNCH_H_
#define UDAL_CPU_LAUNCH_H_

#include "device.h"
#include "kernel.h"
#include "stream.h"

namespace udal::cpu {

// Checks |desc| against |kernel| and |device| (udal::sdk::check_launch), captures what the
// launch needs (value bytes copied, buffer memory and the kernel's library held) and
// submits it to |work|'s stream. Returns UDAL_SUCCESS or an error with its message; throws
// bad_alloc.
udal_result_t enqueue_launch(Device& device, const Kernel& kernel, const udal_launch_desc_t& desc,
                             StreamWork& work);

} // namespace udal::cpu

#endif // UDAL_CPU_LAUNCH_H_
