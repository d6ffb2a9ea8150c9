/* wrong_version_module.c — states a host kernel ABI version no driver takes. */
#include <stdint.h>
__attribute__((visibility("default"))) extern const uint32_t udal_host_module_abi_version;
const uint32_t udal_host_module_abi_version = 999;
