// The file checks live in the SDK (sdk/include/udal/sdk/file_check.h), since drivers make
// them too; this forwarding header keeps libudal's, the fuzz targets' and udal-cts's
// includes of "file_check.h" working.
#pragma once

#include "../../sdk/include/udal/sdk/file_check.h"
