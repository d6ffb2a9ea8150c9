/*
 * udal_level_zero.h — what the UDAL Level Zero driver adds to udal.h.
 *
 * UDAL_MODULE_FORMAT_LEVEL_ZERO_NATIVE: a module image that is a Level Zero native binary of
 * the device, as zeModuleGetNativeBinary returns it. The driver loads it with zeModuleCreate
 * (ZE_MODULE_FORMAT_NATIVE) and the module's build_options. Native binaries carry no
 * kernel-argument information, so their kernels lack UDAL_KERNEL_FLAG_ARGUMENT_INFO.
 */
#ifndef UDAL_UDAL_LEVEL_ZERO_H_
#define UDAL_UDAL_LEVEL_ZERO_H_

#include "udal/udal.h"

#define UDAL_MODULE_FORMAT_LEVEL_ZERO_NATIVE \
  ((udal_module_format_t)(UDAL_MODULE_FORMAT_VENDOR_BEGIN + 0x1e))

#endif /* UDAL_UDAL_LEVEL_ZERO_H_ */
