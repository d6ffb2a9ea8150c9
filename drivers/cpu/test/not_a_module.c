/* not_a_module.c — a valid shared object without UDAL_HOST_MODULE(): must be refused. */
__attribute__((visibility("default"))) int udal_test_not_a_module(void) { return 42; }
