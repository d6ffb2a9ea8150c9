/* bad_declarations.c — kernels whose argument declarations are wrong, written by hand as a
 * broken tool would write them: the driver must refuse each kernel with INVALID_MODULE. */
#include <stdint.h>

#include <udal/udal_host_kernel.h>

UDAL_HOST_MODULE();

#define DECLARE(name, abi, count, args, flags)                                            \
  UDAL_HOST_EXTERN_C UDAL_HOST_EXPORT const udal_host_kernel_decl_t                        \
      udal_host_kernel_decl__##name;                                                      \
  const udal_host_kernel_decl_t udal_host_kernel_decl__##name = {abi, count, args, flags, 0u}

static const udal_host_arg_decl_t unknown_kind[] = {{7u, 0u, 4u, 0u}};
static const udal_host_arg_decl_t buffer_without_access[] = {{1u, 0u, 0u, 0u}};
static const udal_host_arg_decl_t empty_value[] = {{2u, 0u, 0u, 0u}};
static const udal_host_arg_decl_t one_buffer[] = {UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_READ_WRITE)};

/* An argument kind no version defines. */
DECLARE(bad_kind, UDAL_HOST_KERNEL_ABI_VERSION, 1u, unknown_kind, 0u);
UDAL_HOST_KERNEL(bad_kind, 1) { (void)d; }

/* A buffer argument with access 0. */
DECLARE(bad_access, UDAL_HOST_KERNEL_ABI_VERSION, 1u, buffer_without_access, 0u);
UDAL_HOST_KERNEL(bad_access, 1) { (void)d; }

/* A value argument of 0 bytes. */
DECLARE(bad_value, UDAL_HOST_KERNEL_ABI_VERSION, 1u, empty_value, 0u);
UDAL_HOST_KERNEL(bad_value, 1) { (void)d; }

/* Declares 1 argument, its argument count symbol says 2. */
DECLARE(bad_count, UDAL_HOST_KERNEL_ABI_VERSION, 1u, one_buffer, 0u);
UDAL_HOST_KERNEL(bad_count, 2) { (void)d; }

/* Another calling-convention version. */
DECLARE(bad_version, 99u, 1u, one_buffer, 0u);
UDAL_HOST_KERNEL(bad_version, 1) { (void)d; }

/* A flag no version defines. */
DECLARE(bad_flags, UDAL_HOST_KERNEL_ABI_VERSION, 1u, one_buffer, 0x80u);
UDAL_HOST_KERNEL(bad_flags, 1) { (void)d; }

/* The declaration done right, as a control. */
DECLARE(good, UDAL_HOST_KERNEL_ABI_VERSION, 1u, one_buffer, 0u);
UDAL_HOST_KERNEL(good, 1) { (void)d; }
