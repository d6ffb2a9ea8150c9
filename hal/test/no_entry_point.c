/* A library that looks like a driver but exports the wrong symbol. */
#include <udal/udal_driver.h>

UDAL_DRIVER_EXPORT udal_result_t udal_driver_negotiate_v0(uint32_t loader_abi_version,
                                                          udal_driver_table_t* table);

UDAL_DRIVER_EXPORT udal_result_t udal_driver_negotiate_v0(uint32_t loader_abi_version,
                                                          udal_driver_table_t* table) {
  (void)loader_abi_version;
  (void)table;
  return UDAL_SUCCESS;
}
