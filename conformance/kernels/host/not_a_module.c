/* A valid ELF shared object without UDAL_HOST_MODULE(): a HOST_NATIVE driver must refuse it
 * with UDAL_ERROR_INVALID_MODULE rather than look kernels up in it. */
__attribute__((visibility("default"))) int udal_cts_not_a_module(void);
int udal_cts_not_a_module(void) { return 42; }
