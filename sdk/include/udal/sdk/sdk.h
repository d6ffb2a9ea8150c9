// sdk.h — everything of the UDAL driver SDK.
#ifndef UDAL_SDK_SDK_H_
#define UDAL_SDK_SDK_H_

#include "udal/sdk/error.h"
#include "udal/sdk/negotiate.h"
#include "udal/sdk/object.h"
#include "udal/sdk/structs.h"
#include "udal/udal_driver.h"

// The version udal_add_driver(... DRIVER_VERSION x.y) gave this driver.
#if defined(UDAL_DRIVER_VERSION_MAJOR) && defined(UDAL_DRIVER_VERSION_MINOR)
#define UDAL_SDK_DRIVER_VERSION \
  UDAL_MAKE_VERSION(UDAL_DRIVER_VERSION_MAJOR, UDAL_DRIVER_VERSION_MINOR)
#else
#define UDAL_SDK_DRIVER_VERSION UDAL_MAKE_VERSION(0, 0)
#endif

#endif  // UDAL_SDK_SDK_H_
