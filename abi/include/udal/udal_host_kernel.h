/*
 * udal_host_kernel.h — the calling convention of host (CPU) kernels, version 1.
 *
 * A HOST_NATIVE module image is an ELF shared object for the host's architecture. It
 * declares itself once with UDAL_HOST_MODULE() and defines each kernel with
 * UDAL_HOST_KERNEL(name, argument_count), or — so that drivers can describe and check its
 * arguments — with UDAL_HOST_KERNEL_ARGS(name, flags, arguments...). A kernel is a work-group function: the driver
 * calls it once per work-group, possibly from several threads at once for different
 * groups, and the function runs every work-item of its group itself (for example with
 * UDAL_FOR_EACH_ITEM). Phases separated by a barrier in a device kernel are consecutive
 * loops over the items here; the group's dynamic local memory is d->local_memory.
 *
 *   #include <udal/udal_host_kernel.h>
 *   UDAL_HOST_MODULE();
 *   UDAL_HOST_KERNEL_ARGS(vector_add, 0,             // (a, b, c, n)
 *                         UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_READ),
 *                         UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_READ),
 *                         UDAL_HOST_ARG_BUFFER(UDAL_HOST_ACCESS_WRITE),
 *                         UDAL_HOST_ARG_VALUE(uint32_t)) {
 *     const float* a = UDAL_ARG_BUFFER(d, 0, const float);
 *     const float* b = UDAL_ARG_BUFFER(d, 1, const float);
 *     float* c = UDAL_ARG_BUFFER(d, 2, float);
 *     uint32_t n = UDAL_ARG_VALUE(d, 3, uint32_t);
 *     UDAL_FOR_EACH_ITEM(d, x, y, z) {
 *       uint64_t i = udal_global_id(d, 0, x);
 *       if (i < n) c[i] = a[i] + b[i];
 *     }
 *   }
 */
#ifndef UDAL_UDAL_HOST_KERNEL_H_
#define UDAL_UDAL_HOST_KERNEL_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this calling convention; a module states the one it was built with. */
#define UDAL_HOST_KERNEL_ABI_VERSION 1u

/* What a work-group function receives. The driver owns it; valid during the call only. */
typedef struct udal_host_dispatch_t {
  size_t struct_size;        /* sizeof as the driver knows it; fields are only appended */
  uint32_t group_id[3];      /* this work-group */
  uint32_t group_count[3];   /* work-groups of the launch per axis */
  uint32_t group_size[3];    /* work-items per group per axis */
  uint32_t arg_count;
  /* Argument i: for a buffer, the address of its byte at the launch offset; for a value,
   * the address of the value's bytes (aligned to 16). */
  void* const* args;
  /* Argument i: for a buffer, the bytes from the launch offset to the buffer's end; for a
   * value, its size. */
  const uint64_t* arg_sizes;
  void* local_memory;        /* this group's dynamic local memory (aligned to 64), or NULL */
  uint64_t local_memory_bytes;
} udal_host_dispatch_t;

typedef void (*udal_host_kernel_fn)(const udal_host_dispatch_t* d);

/* Symbols a module exports; drivers look kernels up by these names. */
#define UDAL_HOST_MODULE_SYMBOL "udal_host_module_abi_version"
#define UDAL_HOST_KERNEL_SYMBOL_PREFIX "udal_host_kernel__"
#define UDAL_HOST_KERNEL_ARGC_SYMBOL_PREFIX "udal_host_kernel_argc__"
/* A udal_host_kernel_decl_t, exported by kernels defined with UDAL_HOST_KERNEL_ARGS. */
#define UDAL_HOST_KERNEL_DECL_SYMBOL_PREFIX "udal_host_kernel_decl__"

/* What a kernel declares of one argument (the values of udal.h's udal_arg_kind_t and
 * udal_arg_access_t, as plain integers so this header stands alone). */
typedef struct udal_host_arg_decl_t {
  uint32_t kind;       /* 1 buffer, 2 value */
  uint32_t access;     /* buffer: 1 read, 2 write, 3 read-write; value: 0 */
  uint32_t value_size; /* value: its size in bytes; buffer: 0 */
  uint32_t reserved0;
} udal_host_arg_decl_t;

/* UDAL_HOST_KERNEL_ARGS flags. */
#define UDAL_HOST_KERNEL_USES_LOCAL_MEMORY 1u /* a launch needs local_memory_bytes > 0 */

/* What a kernel declares of itself: a driver reports it through udal_kernel_get_info and
 * udal_kernel_get_argument_info and checks every launch against it. */
typedef struct udal_host_kernel_decl_t {
  uint32_t abi_version; /* UDAL_HOST_KERNEL_ABI_VERSION */
  uint32_t arg_count;
  const udal_host_arg_decl_t* args; /* arg_count entries */
  uint32_t flags;                   /* UDAL_HOST_KERNEL_* */
  uint32_t reserved0;
} udal_host_kernel_decl_t;

/* Buffer accesses, equal to udal.h's UDAL_ARG_ACCESS_* (either may be used). */
#define UDAL_HOST_ACCESS_READ 1u
#define UDAL_HOST_ACCESS_WRITE 2u
#define UDAL_HOST_ACCESS_READ_WRITE 3u

#define UDAL_HOST_ARG_BUFFER(access) {1u, (uint32_t)(access), 0u, 0u}
#define UDAL_HOST_ARG_VALUE(type) {2u, 0u, (uint32_t)sizeof(type), 0u}

#ifdef __cplusplus
#define UDAL_HOST_EXTERN_C extern "C"
#else
#define UDAL_HOST_EXTERN_C extern
#endif
#define UDAL_HOST_EXPORT __attribute__((visibility("default")))

/* Marks the shared object as a UDAL host module. Once per module. */
#define UDAL_HOST_MODULE()                                                                    \
  UDAL_HOST_EXTERN_C UDAL_HOST_EXPORT const uint32_t udal_host_module_abi_version;             \
  const uint32_t udal_host_module_abi_version = UDAL_HOST_KERNEL_ABI_VERSION

/* Defines kernel |name| taking |argument_count| arguments; the body sees `d`. */
#define UDAL_HOST_KERNEL(name, argument_count)                                                \
  UDAL_HOST_EXTERN_C UDAL_HOST_EXPORT const uint32_t udal_host_kernel_argc__##name;            \
  const uint32_t udal_host_kernel_argc__##name = (argument_count);                             \
  UDAL_HOST_EXTERN_C UDAL_HOST_EXPORT void udal_host_kernel__##name(                           \
      const udal_host_dispatch_t* d);                                                          \
  void udal_host_kernel__##name(const udal_host_dispatch_t* d)

/* Defines kernel |name| with |flags| (UDAL_HOST_KERNEL_*) and one UDAL_HOST_ARG_BUFFER or
 * UDAL_HOST_ARG_VALUE per argument, in order (at least one; a kernel without arguments uses
 * UDAL_HOST_KERNEL(name, 0)). The body sees `d`. */
#define UDAL_HOST_KERNEL_ARGS(name, flags, ...)                                               \
  static const udal_host_arg_decl_t udal_host_kernel_args__##name[] = {__VA_ARGS__};          \
  UDAL_HOST_EXTERN_C UDAL_HOST_EXPORT const udal_host_kernel_decl_t                             \
      udal_host_kernel_decl__##name;                                                           \
  const udal_host_kernel_decl_t udal_host_kernel_decl__##name = {                              \
      UDAL_HOST_KERNEL_ABI_VERSION,                                                            \
      (uint32_t)(sizeof(udal_host_kernel_args__##name) / sizeof(udal_host_arg_decl_t)),        \
      udal_host_kernel_args__##name, (flags), 0u};                                             \
  UDAL_HOST_KERNEL(name, sizeof(udal_host_kernel_args__##name) / sizeof(udal_host_arg_decl_t))

#define UDAL_ARG_BUFFER(d, index, type) ((type*)((d)->args[(index)]))
#define UDAL_ARG_VALUE(d, index, type) (*(const type*)((d)->args[(index)]))

/* Loops x, y, z over the work-items of the group (x fastest). */
#define UDAL_FOR_EACH_ITEM(d, x, y, z)                                                        \
  for (uint32_t z = 0; z < (d)->group_size[2]; ++z)                                          \
    for (uint32_t y = 0; y < (d)->group_size[1]; ++y)                                        \
      for (uint32_t x = 0; x < (d)->group_size[0]; ++x)

/* Global id on |axis| of the work-item with local id |local| on that axis. */
static inline uint64_t udal_global_id(const udal_host_dispatch_t* d, int axis, uint32_t local) {
  return (uint64_t)d->group_id[axis] * d->group_size[axis] + local;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* UDAL_UDAL_HOST_KERNEL_H_ */
