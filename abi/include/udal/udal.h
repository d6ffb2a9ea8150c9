/*
 * udal.h — the UDAL application interface, ABI 1.0 (frozen).
 *
 * This header is the specification of what a framework may call. Every function:
 *   - returns a udal_result_t: UDAL_SUCCESS (0), a positive status (UDAL_NOT_READY,
 *     UDAL_TIMEOUT) or a negative error;
 *   - takes its outputs last, named out_*, and clears them on entry (even on failure);
 *   - on any non-success result sets a thread-local message that says what was wrong with
 *     which value, readable with udal_last_error_message().
 *
 * Structs. Every struct a caller passes or fills begins with the same header:
 *     udal_structure_type_t type;  what the struct is (UDAL_STRUCTURE_TYPE_*)
 *     uint32_t struct_size;        sizeof the struct as the caller's header knows it
 *     const void* next;            NULL, or the first extension struct of a chain
 *                                  (`void* next` in structs the callee writes)
 * The UDAL_*_INIT macros fill all three. Fields are only ever appended: a callee reads and
 * writes only the bytes inside struct_size, so code built against this header keeps working
 * with every later libudal and driver of major version 1. Every extension struct on a `next`
 * chain begins with the same header; libudal refuses a chained type it does not know with
 * UDAL_ERROR_INVALID_ARGUMENT (never ignores it), and a driver does the same for types in
 * the vendor range. Fields named reserved* must be zero. No public struct has padding.
 *
 * Thread safety: every function may be called from any thread. Objects may be used from
 * several threads at once except where a function says otherwise (a buffer's map/unmap
 * pair; destroying an object while another thread uses it is never allowed).
 *
 * fork(): objects do not cross into a child process. In the child, every call on a device
 * or object of an instance created before the fork returns UDAL_ERROR_DEVICE_LOST (its
 * drivers' threads and device contexts stayed in the parent); udal_instance_release() of
 * such an instance frees libudal's bookkeeping without calling the drivers. The child may
 * create a new instance. The parent is unaffected.
 *
 * Parameter annotations: [in] read by the callee, [out] written by the callee,
 * [optional] may be NULL / 0.
 */
#ifndef UDAL_UDAL_H_
#define UDAL_UDAL_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* libudal is built with hidden visibility; only what carries UDAL_API is exported. */
#define UDAL_API __attribute__((visibility("default")))

/* ==========================================================================================
 * Versions
 * ======================================================================================= */

/* A version is major.minor packed into 32 bits. A minor version only adds; only a major
 * version may break, and libudal refuses a driver of another major version. */
#define UDAL_MAKE_VERSION(major, minor) ((((uint32_t)(major)) << 16) | ((uint32_t)(minor)&0xffffu))
#define UDAL_VERSION_MAJOR(version) (((uint32_t)(version)) >> 16)
#define UDAL_VERSION_MINOR(version) (((uint32_t)(version)) & 0xffffu)

/* The ABI version this header describes. 1.1 added udal_instance_get_layer_count() and
 * udal_instance_get_layer_status(): check udal_get_abi_version() before calling them. */
#define UDAL_ABI_VERSION UDAL_MAKE_VERSION(1, 1)

/* Timeout value meaning "wait for ever". */
#define UDAL_TIMEOUT_INFINITE UINT64_MAX

/* ==========================================================================================
 * Results
 * ======================================================================================= */

typedef enum udal_result_t {
  UDAL_SUCCESS = 0,
  /* Statuses (positive): the call did what it was asked; the answer is "not yet". */
  UDAL_NOT_READY = 1, /* queried work has not completed */
  UDAL_TIMEOUT = 2,   /* a wait ended because its timeout expired; the work goes on */

  /* Errors (negative). */
  UDAL_ERROR_INVALID_ARGUMENT = -1,    /* a pointer, size, enum, flag or value is wrong */
  UDAL_ERROR_INVALID_HANDLE = -2,      /* a handle is NULL or of the wrong driver/device */
  UDAL_ERROR_OUT_OF_RANGE = -3,        /* an offset/size runs past the end of a buffer */
  UDAL_ERROR_UNSUPPORTED = -4,         /* the driver or device does not offer this */
  UDAL_ERROR_OUT_OF_HOST_MEMORY = -5,  /* host allocation failed */
  UDAL_ERROR_OUT_OF_DEVICE_MEMORY = -6, /* device allocation failed; the device still works */
  UDAL_ERROR_INVALID_MODULE = -7,      /* no image could be loaded, or the image is corrupt */
  UDAL_ERROR_KERNEL_NOT_FOUND = -8,    /* the module has no kernel of that name */
  UDAL_ERROR_INVALID_STATE = -9,       /* the object is not in a state that allows this */
  UDAL_ERROR_DEVICE_LOST = -10,        /* the device failed; its objects may only be destroyed */
  UDAL_ERROR_INCOMPATIBLE_DRIVER = -11, /* a driver's ABI major version differs from libudal's */
  UDAL_ERROR_NOT_FOUND = -12,          /* an index or name matches nothing */
  UDAL_ERROR_INTERNAL = -13,           /* a bug in libudal or a driver; the message says where */

  UDAL_RESULT_FORCE_32BIT = 0x7fffffff
} udal_result_t;

/* The name of a result ("UDAL_ERROR_OUT_OF_RANGE"); "UDAL_RESULT_UNKNOWN" for other
 * values. Never NULL; the string is static. */
UDAL_API const char* udal_result_name(udal_result_t result);

/* The message of the last call on this thread that did not return UDAL_SUCCESS, e.g.
 * "udal_stream_copy_buffer: copy of 512 bytes at source offset 3840 runs past the end of
 * buffer 0x... (4096 bytes)". Empty ("") when no call on this thread has failed. The
 * string stays valid until the next udal_* call on this thread. Never NULL. */
UDAL_API const char* udal_last_error_message(void);

/* The ABI version this libudal implements (UDAL_ABI_VERSION of its build). */
UDAL_API uint32_t udal_get_abi_version(void);

/* ==========================================================================================
 * Struct types
 * ======================================================================================= */

/* The value of every struct's `type` field. New core types are appended. Types from
 * UDAL_STRUCTURE_TYPE_VENDOR_BEGIN on belong to one vendor's driver: libudal passes them
 * through on a chain and the driver refuses those it does not know. How an extension is
 * added is docs/spec.md §2. */
typedef enum udal_structure_type_t {
  UDAL_STRUCTURE_TYPE_NONE = 0, /* never valid: a struct whose type was not set */
  UDAL_STRUCTURE_TYPE_INSTANCE_DESC = 1,
  UDAL_STRUCTURE_TYPE_DRIVER_STATUS = 2,
  UDAL_STRUCTURE_TYPE_DEVICE_INFO = 3,
  UDAL_STRUCTURE_TYPE_MEMORY_USAGE = 4,
  UDAL_STRUCTURE_TYPE_BUFFER_DESC = 5,
  UDAL_STRUCTURE_TYPE_BUFFER_INFO = 6,
  UDAL_STRUCTURE_TYPE_EVENT_DESC = 7,
  UDAL_STRUCTURE_TYPE_MODULE_IMAGE = 8,
  UDAL_STRUCTURE_TYPE_MODULE_DESC = 9,
  UDAL_STRUCTURE_TYPE_MODULE_INFO = 10,
  UDAL_STRUCTURE_TYPE_KERNEL_INFO = 11,
  UDAL_STRUCTURE_TYPE_KERNEL_ARG_INFO = 12,
  UDAL_STRUCTURE_TYPE_LAUNCH_DESC = 13,
  UDAL_STRUCTURE_TYPE_STREAM_DESC = 14,
  /* udal_driver.h */
  UDAL_STRUCTURE_TYPE_DRIVER_TABLE = 15,
  UDAL_STRUCTURE_TYPE_DRIVER_CREATE_DESC = 16,
  /* Appended after the 1.0 freeze. */
  UDAL_STRUCTURE_TYPE_LAYER_STATUS = 17,
  UDAL_STRUCTURE_TYPE_VENDOR_BEGIN = 0x10000, /* one vendor's types: 0x10000 … 0x7ffffffe */
  UDAL_STRUCTURE_TYPE_FORCE_32BIT = 0x7fffffff
} udal_structure_type_t;

/* The header every struct begins with, to walk a `next` chain. */
typedef struct udal_base_in_t {
  udal_structure_type_t type;
  uint32_t struct_size;
  const struct udal_base_in_t* next;
} udal_base_in_t;

typedef struct udal_base_out_t {
  udal_structure_type_t type;
  uint32_t struct_size;
  struct udal_base_out_t* next;
} udal_base_out_t;

/* The first three initializers of every *_INIT macro. */
#define UDAL_STRUCT_HEADER_INIT(T, type_value) (type_value), (uint32_t)sizeof(T), NULL

/* ==========================================================================================
 * Handles
 * ======================================================================================= */

typedef struct udal_instance_s* udal_instance_t; /* owned by libudal */
typedef struct udal_device_s* udal_device_t;     /* owned by the instance */
typedef struct udal_buffer_s* udal_buffer_t;
typedef struct udal_stream_s* udal_stream_t;
typedef struct udal_event_s* udal_event_t;
typedef struct udal_module_s* udal_module_t;
typedef struct udal_kernel_s* udal_kernel_t;

/* ==========================================================================================
 * Instance and drivers
 * ======================================================================================= */

typedef uint64_t udal_instance_flags_t;
/* Skip every environment variable libudal reads (UDAL_DRIVER_FILES, UDAL_ADD_DRIVER_FILES,
 * UDAL_DRIVERS_SELECT, UDAL_DRIVERS_DISABLE, UDAL_LOG, XDG_CONFIG_DIRS, XDG_DATA_DIRS):
 * the search uses the default locations only. */
#define UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT ((udal_instance_flags_t)1u << 0)
/* Turns the validation layer on for this instance (docs/layers.md), whatever UDAL_VALIDATION
 * says. */
#define UDAL_INSTANCE_FLAG_VALIDATION ((udal_instance_flags_t)1u << 1)

typedef struct udal_instance_desc_t {
  udal_structure_type_t type; /* UDAL_STRUCTURE_TYPE_INSTANCE_DESC */
  uint32_t struct_size;
  const void* next;           /* [optional] extension chain */
  udal_instance_flags_t flags;
  /* [optional] Manifests (.json) or driver libraries (.so) to load. When driver_path_count
   * is non-zero these replace the manifest search (the environment filters still apply
   * unless UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT is set). */
  const char* const* driver_paths;
  uint32_t driver_path_count;
  uint32_t reserved0;
} udal_instance_desc_t;

#define UDAL_INSTANCE_DESC_INIT                                                                \
  {UDAL_STRUCT_HEADER_INIT(udal_instance_desc_t, UDAL_STRUCTURE_TYPE_INSTANCE_DESC), 0, NULL, 0, 0}

/* Creates an instance: finds driver manifests, loads and negotiates with each driver and
 * collects their devices. A driver that fails to load does not fail the call: it is listed
 * by udal_instance_get_driver_status() with the reason. The instance starts with a
 * reference count of 1.
 *   desc          [in][optional] NULL means defaults (search + environment).
 *   out_instance  [out] the new instance.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_ARGUMENT (bad type or struct_size, unknown
 * flag, NULL driver path, unknown chained struct), UDAL_ERROR_OUT_OF_HOST_MEMORY. */
UDAL_API udal_result_t udal_instance_create(const udal_instance_desc_t* desc,
                                            udal_instance_t* out_instance);

/* Adds a reference. Returns UDAL_SUCCESS or UDAL_ERROR_INVALID_HANDLE. */
UDAL_API udal_result_t udal_instance_retain(udal_instance_t instance);

/* Drops a reference; the last one destroys the instance: every driver is closed and
 * unloaded, which invalidates every device and object created through it. Objects should
 * be destroyed first; work still in flight on a stream that was not destroyed is waited
 * for before the driver is unloaded, so no driver code runs after its library is gone.
 * Returns UDAL_SUCCESS or UDAL_ERROR_INVALID_HANDLE. */
UDAL_API udal_result_t udal_instance_release(udal_instance_t instance);

typedef enum udal_driver_state_t {
  UDAL_DRIVER_STATE_LOADED = 0,   /* loaded and negotiated; its devices are listed */
  UDAL_DRIVER_STATE_FAILED = 1,   /* could not be loaded; `reason` says why */
  UDAL_DRIVER_STATE_FILTERED = 2, /* skipped by UDAL_DRIVERS_SELECT / UDAL_DRIVERS_DISABLE */
  UDAL_DRIVER_STATE_FORCE_32BIT = 0x7fffffff
} udal_driver_state_t;

typedef struct udal_driver_status_t {
  udal_structure_type_t type; /* UDAL_STRUCTURE_TYPE_DRIVER_STATUS */
  uint32_t struct_size;
  void* next;
  udal_driver_state_t state;
  udal_result_t result;          /* the failure's code when FAILED; UDAL_SUCCESS when LOADED
                                    or FILTERED (a filtered driver was never tried) */
  /* The strings below are owned by the instance and live as long as it does; none is
   * NULL ("" when unknown). */
  const char* name;              /* the driver's name from its manifest (or file name) */
  const char* manifest_path;     /* "" when the driver was given as a library */
  const char* library_path;      /* as resolved */
  const char* reason;            /* why it is not loaded; "" when loaded */
  uint32_t abi_version;          /* the ABI version the driver stated; 0 when unknown */
  uint32_t driver_version;       /* the driver's own version; 0 when unknown */
  uint32_t device_count;         /* devices it reported; 0 unless loaded */
  uint32_t reserved0;
} udal_driver_status_t;

#define UDAL_DRIVER_STATUS_INIT                                                                \
  {UDAL_STRUCT_HEADER_INIT(udal_driver_status_t, UDAL_STRUCTURE_TYPE_DRIVER_STATUS),          \
   UDAL_DRIVER_STATE_LOADED, UDAL_SUCCESS, NULL, NULL, NULL, NULL, 0, 0, 0, 0}

/* Number of drivers the search found, loaded or not.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT. */
UDAL_API udal_result_t udal_instance_get_driver_count(udal_instance_t instance,
                                                      uint32_t* out_count);

/* Status of driver |index| (0 ≤ index < driver count), in search order.
 *   out_status  [in,out] type and struct_size set by the caller; the rest is written, only
 *               inside struct_size.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT,
 * UDAL_ERROR_NOT_FOUND (index out of range). */
UDAL_API udal_result_t udal_instance_get_driver_status(udal_instance_t instance, uint32_t index,
                                                       udal_driver_status_t* out_status);

/* Number of devices of every loaded driver. When it is 0, the driver statuses say why.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT. */
UDAL_API udal_result_t udal_instance_get_device_count(udal_instance_t instance,
                                                      uint32_t* out_count);

/* Device |index| (0 ≤ index < device count): drivers in search order, each driver's
 * devices in its own order. The handle lives as long as the instance.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT,
 * UDAL_ERROR_NOT_FOUND. */
UDAL_API udal_result_t udal_instance_get_device(udal_instance_t instance, uint32_t index,
                                                udal_device_t* out_device);

/* ---- Layers: what libudal puts between the application and the drivers ---------------------
 * Appended after the 1.0 freeze. libudal has layers (docs/layers.md) that an instance runs
 * in every driver it loads: validation (UDAL_VALIDATION or UDAL_INSTANCE_FLAG_VALIDATION)
 * and trace (UDAL_TRACE). These say, for one instance, which are on, what turned each on and
 * where its output goes: what the instance actually runs, so a tool need not (and should
 * not) re-read the environment. Like Vulkan's vkEnumerateInstanceLayerProperties, every
 * layer this libudal has is listed, on or off. */

typedef enum udal_layer_t {
  UDAL_LAYER_VALIDATION = 0, /* checks the application's use of the API */
  UDAL_LAYER_TRACE = 1,      /* writes every call and device operation to a trace file */
  UDAL_LAYER_FORCE_32BIT = 0x7fffffff
} udal_layer_t;

typedef enum udal_layer_state_t {
  UDAL_LAYER_STATE_OFF = 0,    /* not asked for */
  UDAL_LAYER_STATE_ON = 1,     /* asked for, and in every driver the instance loaded */
  UDAL_LAYER_STATE_FAILED = 2, /* asked for but could not be turned on; `reason` says why */
  UDAL_LAYER_STATE_FORCE_32BIT = 0x7fffffff
} udal_layer_state_t;

/* What asked for a layer (several may have). */
typedef uint64_t udal_layer_sources_t;
/* The layer's environment variable (udal_layer_status_t::environment_variable). */
#define UDAL_LAYER_SOURCE_ENVIRONMENT ((udal_layer_sources_t)1u << 0)
/* A flag of udal_instance_desc_t::flags (UDAL_INSTANCE_FLAG_VALIDATION). */
#define UDAL_LAYER_SOURCE_INSTANCE_FLAG ((udal_layer_sources_t)1u << 1)

typedef uint64_t udal_layer_flags_t;
/* Validation: each finding and leak carries the whole stack (UDAL_VALIDATION=backtrace). */
#define UDAL_LAYER_FLAG_BACKTRACES ((udal_layer_flags_t)1u << 0)

typedef struct udal_layer_status_t {
  udal_structure_type_t type; /* UDAL_STRUCTURE_TYPE_LAYER_STATUS */
  uint32_t struct_size;
  void* next;
  udal_layer_t layer;
  udal_layer_state_t state;
  udal_layer_sources_t sources; /* UDAL_LAYER_SOURCE_*: what asked for it; 0 when OFF */
  udal_layer_flags_t flags;     /* UDAL_LAYER_FLAG_*, when ON */
  /* The strings below are owned by the instance and live as long as it does; none is
   * NULL ("" when there is nothing to say). */
  const char* name;                 /* "validation", "trace" */
  const char* environment_variable; /* the variable that turns it on: "UDAL_VALIDATION" */
  const char* environment_value;    /* its value as this instance read it; "" when unset or
                                       not read (UDAL_INSTANCE_FLAG_IGNORE_ENVIRONMENT, a
                                       setuid/setgid process) */
  const char* output_path;          /* trace: the file it writes ("%p" replaced), also when
                                       FAILED; "" otherwise */
  const char* reason;               /* FAILED: why (e.g. the file cannot be created); "" */
} udal_layer_status_t;

#define UDAL_LAYER_STATUS_INIT                                                                 \
  {UDAL_STRUCT_HEADER_INIT(udal_layer_status_t, UDAL_STRUCTURE_TYPE_LAYER_STATUS),            \
   UDAL_LAYER_VALIDATION, UDAL_LAYER_STATE_OFF, 0, 0, NULL, NULL, NULL, NULL, NULL}

/* Number of layers this libudal has, on or off.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT. */
UDAL_API udal_result_t udal_instance_get_layer_count(udal_instance_t instance,
                                                     uint32_t* out_count);

/* Status of layer |index| (0 ≤ index < layer count) for |instance|. Layers are listed in the
 * order of udal_layer_t; a later libudal may list layers this header does not name (tell
 * them by `name`).
 *   out_status  [in,out] type and struct_size set by the caller; the rest is written, only
 *               inside struct_size.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT (NULL,
 * wrong type or struct_size too small, a chained struct), UDAL_ERROR_NOT_FOUND (index out of
 * range). */
UDAL_API udal_result_t udal_instance_get_layer_status(udal_instance_t instance, uint32_t index,
                                                      udal_layer_status_t* out_status);

/* ==========================================================================================
 * Devices
 * ======================================================================================= */

typedef enum udal_device_type_t {
  UDAL_DEVICE_TYPE_OTHER = 0,
  UDAL_DEVICE_TYPE_CPU = 1,
  UDAL_DEVICE_TYPE_GPU = 2,
  UDAL_DEVICE_TYPE_ACCELERATOR = 3,
  UDAL_DEVICE_TYPE_FORCE_32BIT = 0x7fffffff
} udal_device_type_t;

typedef enum udal_module_format_t {
  UDAL_MODULE_FORMAT_NONE = 0,
  UDAL_MODULE_FORMAT_HOST_NATIVE = 1,   /* ELF shared object of host kernels (udal_host_kernel.h) */
  UDAL_MODULE_FORMAT_SPIRV_COMPUTE = 2, /* Vulkan-flavoured SPIR-V (GLCompute entry points) */
  UDAL_MODULE_FORMAT_SPIRV_KERNEL = 3,  /* OpenCL-flavoured SPIR-V (Kernel entry points) */
  UDAL_MODULE_FORMAT_OPENCL_C = 4,      /* OpenCL C source text, built at module creation */
  UDAL_MODULE_FORMAT_PTX = 5,           /* NVIDIA PTX text */
  UDAL_MODULE_FORMAT_VENDOR_BEGIN = 0x10000, /* formats of one vendor: 0x10000 … 0x7ffffffe */
  UDAL_MODULE_FORMAT_FORCE_32BIT = 0x7fffffff
} udal_module_format_t;

typedef uint64_t udal_device_features_t;
#define UDAL_DEVICE_FEATURE_TIMESTAMPS ((udal_device_features_t)1u << 0)   /* UDAL_EVENT_FLAG_TIMING */
#define UDAL_DEVICE_FEATURE_HOST_BUFFERS ((udal_device_features_t)1u << 1) /* UDAL_BUFFER_KIND_HOST */
#define UDAL_DEVICE_FEATURE_SHARED_BUFFERS ((udal_device_features_t)1u << 2) /* UDAL_BUFFER_KIND_SHARED */
#define UDAL_DEVICE_FEATURE_LOCAL_MEMORY ((udal_device_features_t)1u << 3) /* dynamic local memory at launch */
#define UDAL_DEVICE_FEATURE_FLOAT64 ((udal_device_features_t)1u << 4)  /* kernels may use doubles */
#define UDAL_DEVICE_FEATURE_INT64 ((udal_device_features_t)1u << 5)    /* kernels may use 64-bit ints */
#define UDAL_DEVICE_FEATURE_FLOAT16 ((udal_device_features_t)1u << 6)  /* kernels may use halves */
#define UDAL_DEVICE_FEATURE_INT8 ((udal_device_features_t)1u << 7)     /* 8-bit ints in kernels and memory */
#define UDAL_DEVICE_FEATURE_INT16 ((udal_device_features_t)1u << 8)    /* 16-bit ints in kernels and memory */
/* UDAL_BUFFER_FLAG_DEVICE_ADDRESS and udal_buffer_get_device_address. */
#define UDAL_DEVICE_FEATURE_DEVICE_ADDRESS ((udal_device_features_t)1u << 9)
/* udal_device_get_memory_usage. */
#define UDAL_DEVICE_FEATURE_MEMORY_USAGE ((udal_device_features_t)1u << 10)
/* udal_kernel_get_argument_info for every module format the device takes. */
#define UDAL_DEVICE_FEATURE_KERNEL_ARGUMENT_INFO ((udal_device_features_t)1u << 11)

#define UDAL_MAX_DEVICE_NAME 256
#define UDAL_MAX_DRIVER_NAME 64
#define UDAL_UUID_SIZE 16
#define UDAL_MAX_PCI_BUS_ID 32
#define UDAL_MAX_MODULE_FORMATS 16
#define UDAL_MAX_SUBGROUP_SIZES 8

typedef struct udal_device_info_t {
  udal_structure_type_t type; /* UDAL_STRUCTURE_TYPE_DEVICE_INFO */
  uint32_t struct_size;
  void* next;
  char name[UDAL_MAX_DEVICE_NAME];        /* NUL-terminated */
  char vendor[UDAL_MAX_DEVICE_NAME];      /* NUL-terminated */
  char driver_name[UDAL_MAX_DRIVER_NAME]; /* the name libudal knows the driver by */
  char pci_bus_id[UDAL_MAX_PCI_BUS_ID];   /* "dddd:bb:dd.f", or "" when not a PCI device */
  uint8_t uuid[UDAL_UUID_SIZE];           /* stable for a device across runs; unique */
  uint32_t driver_version;                /* the driver's own version */
  uint32_t abi_version;                   /* the ABI version the driver implements */
  udal_device_type_t device_type;
  int32_t numa_node;                      /* host NUMA node nearest the device; -1 if unknown */
  udal_device_features_t features;        /* UDAL_DEVICE_FEATURE_* */
  uint64_t device_memory_bytes;           /* memory for UDAL_BUFFER_KIND_DEVICE */
  uint64_t host_visible_memory_bytes;     /* memory for HOST / SHARED buffers; 0 if none */
  /* Limits. Every one is non-zero. */
  uint64_t max_local_memory_bytes;        /* dynamic local memory of one launch */
  uint64_t max_allocation_bytes;          /* largest single buffer */
  uint64_t min_buffer_alignment;          /* every buffer's address is a multiple of it */
  /* A buffer argument's offset must be a multiple of this (a power of two; 1 when any
   * offset is fine). */
  uint64_t buffer_argument_offset_alignment;
  uint32_t max_group_size[3];             /* per axis */
  uint32_t max_group_invocations;         /* product of the three group sizes */
  uint32_t max_group_count[3];            /* per axis */
  uint32_t max_kernel_arguments;
  uint32_t max_value_argument_bytes;      /* total bytes of value arguments of one launch */
  /* What a framework tunes with. */
  uint32_t compute_unit_count;            /* work-groups that run at once, roughly */
  uint32_t preferred_group_size_multiple; /* group sizes that are a multiple of it run best */
  uint32_t subgroup_size_count;           /* entries of subgroup_sizes; ≥ 1 */
  uint32_t subgroup_sizes[UDAL_MAX_SUBGROUP_SIZES]; /* sizes a kernel may run at, ascending */
  /* Module formats the device accepts, in the driver's order of preference. */
  uint32_t module_format_count;
  udal_module_format_t module_formats[UDAL_MAX_MODULE_FORMATS];
  uint32_t reserved0;
} udal_device_info_t;

#define UDAL_DEVICE_INFO_INIT                                                                  \
  {UDAL_STRUCT_HEADER_INIT(udal_device_info_t, UDAL_STRUCTURE_TYPE_DEVICE_INFO), {0}, {0}, {0}, \
   {0}, {0}, 0, 0, UDAL_DEVICE_TYPE_OTHER, 0, 0, 0, 0, 0, 0, 0, 0, {0, 0, 0}, 0, {0, 0, 0}, 0, \
   0, 0, 0, 0, {0}, 0, {UDAL_MODULE_FORMAT_NONE}, 0}

/* Fills |out_info| (type and struct_size set by the caller; fields past struct_size are not
 * written).
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT. */
UDAL_API udal_result_t udal_device_get_info(udal_device_t device, udal_device_info_t* out_info);

typedef struct udal_memory_usage_t {
  udal_structure_type_t type; /* UDAL_STRUCTURE_TYPE_MEMORY_USAGE */
  uint32_t struct_size;
  void* next;
  uint64_t device_allocated_bytes;       /* DEVICE buffers of this process through UDAL */
  uint64_t device_budget_bytes;          /* what the process may allocate in all, now */
  uint64_t host_visible_allocated_bytes; /* HOST and SHARED buffers through UDAL */
  uint64_t host_visible_budget_bytes;
} udal_memory_usage_t;

#define UDAL_MEMORY_USAGE_INIT                                                                 \
  {UDAL_STRUCT_HEADER_INIT(udal_memory_usage_t, UDAL_STRUCTURE_TYPE_MEMORY_USAGE), 0, 0, 0, 0}

/* Bytes allocated on |device| through UDAL and the budget the device reports (its free
 * memory plus what this process holds, where the platform says; else the device's size).
 * A device memory allocation past the budget fails with UDAL_ERROR_OUT_OF_DEVICE_MEMORY.
 * Optional: UDAL_DEVICE_FEATURE_MEMORY_USAGE.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT,
 * UDAL_ERROR_UNSUPPORTED. */
UDAL_API udal_result_t udal_device_get_memory_usage(udal_device_t device,
                                                    udal_memory_usage_t* out_usage);

/* ==========================================================================================
 * Buffers
 * ======================================================================================= */

typedef enum udal_buffer_kind_t {
  UDAL_BUFFER_KIND_DEVICE = 0, /* device-local; not mappable */
  UDAL_BUFFER_KIND_HOST = 1,   /* host memory the device can reach (pinned); mappable */
  UDAL_BUFFER_KIND_SHARED = 2, /* reachable and fast from both sides; mappable */
  UDAL_BUFFER_KIND_FORCE_32BIT = 0x7fffffff
} udal_buffer_kind_t;

typedef uint64_t udal_buffer_flags_t;
/* The buffer has a device address (udal_buffer_get_device_address) that kernels may take as
 * a 64-bit value argument, offset, and store in memory. Needs
 * UDAL_DEVICE_FEATURE_DEVICE_ADDRESS. */
#define UDAL_BUFFER_FLAG_DEVICE_ADDRESS ((udal_buffer_flags_t)1u << 0)

typedef struct udal_buffer_desc_t {
  udal_structure_type_t type; /* UDAL_STRUCTURE_TYPE_BUFFER_DESC */
  uint32_t struct_size;
  const void* next;
  uint64_t size;      /* bytes; > 0 */
  uint64_t alignment; /* 0 for the device's minimum, else a power of two */
  udal_buffer_flags_t flags;
  udal_buffer_kind_t kind;
  uint32_t reserved0;
} udal_buffer_desc_t;

#define UDAL_BUFFER_DESC_INIT                                                                  \
  {UDAL_STRUCT_HEADER_INIT(udal_buffer_desc_t, UDAL_STRUCTURE_TYPE_BUFFER_DESC), 0, 0, 0,      \
   UDAL_BUFFER_KIND_DEVICE, 0}

/* Allocates a buffer. Contents are undefined until written.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT (size 0,
 * unknown kind, alignment not a power of two, unknown flag), UDAL_ERROR_UNSUPPORTED (kind
 * or flag the device lacks), UDAL_ERROR_OUT_OF_DEVICE_MEMORY (also when size >
 * max_allocation_bytes or past the device's memory), UDAL_ERROR_OUT_OF_HOST_MEMORY. */
UDAL_API udal_result_t udal_buffer_create(udal_device_t device, const udal_buffer_desc_t* desc,
                                          udal_buffer_t* out_buffer);

/* Destroys a buffer handle at once. Work already enqueued that uses the buffer still runs
 * against its memory: the driver releases the memory when the last such work completes
 * (so destroying right after an enqueue is safe, as in CUDA's cudaFree). The handle may not
 * be used again, also not by work enqueued after this call.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_STATE (mapped). */
UDAL_API udal_result_t udal_buffer_destroy(udal_buffer_t buffer);

typedef struct udal_buffer_info_t {
  udal_structure_type_t type; /* UDAL_STRUCTURE_TYPE_BUFFER_INFO */
  uint32_t struct_size;
  void* next;
  udal_device_t device;
  uint64_t size;
  uint64_t alignment;
  udal_buffer_flags_t flags;
  udal_buffer_kind_t kind;
  uint32_t reserved0;
} udal_buffer_info_t;

#define UDAL_BUFFER_INFO_INIT                                                                  \
  {UDAL_STRUCT_HEADER_INIT(udal_buffer_info_t, UDAL_STRUCTURE_TYPE_BUFFER_INFO), NULL, 0, 0, 0, \
   UDAL_BUFFER_KIND_DEVICE, 0}

/* Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT. */
UDAL_API udal_result_t udal_buffer_get_info(udal_buffer_t buffer, udal_buffer_info_t* out_info);

/* Maps bytes [offset, offset + size) of a HOST or SHARED buffer for host access. Host
 * visible memory is coherent: host writes are seen by work enqueued after them; device
 * writes are seen by the host once that work has completed (synchronize, event wait).
 * One mapping at a time per buffer; the buffer may be used by the device while mapped, on
 * ranges the host does not touch meanwhile.
 *   out_ptr  [out] address of byte |offset|.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT (NULL
 * out_ptr, size 0, a DEVICE buffer), UDAL_ERROR_OUT_OF_RANGE, UDAL_ERROR_INVALID_STATE
 * (already mapped). */
UDAL_API udal_result_t udal_buffer_map(udal_buffer_t buffer, uint64_t offset, uint64_t size,
                                       void** out_ptr);

/* Ends the mapping; the pointer it gave is no longer valid.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_STATE (not mapped). */
UDAL_API udal_result_t udal_buffer_unmap(udal_buffer_t buffer);

/* The device address of byte 0 of a buffer created with UDAL_BUFFER_FLAG_DEVICE_ADDRESS:
 * kernels take it as a 64-bit value argument. It stays the same for the buffer's life.
 * Optional: UDAL_DEVICE_FEATURE_DEVICE_ADDRESS.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT (NULL
 * out_address; a buffer created without the flag), UDAL_ERROR_UNSUPPORTED. */
UDAL_API udal_result_t udal_buffer_get_device_address(udal_buffer_t buffer,
                                                      uint64_t* out_address);

/* ==========================================================================================
 * Events
 * ======================================================================================= */

typedef uint64_t udal_event_flags_t;
/* Records take a device timestamp, for udal_event_elapsed_ns. Without it an event only
 * orders work and costs no timestamp query. Needs UDAL_DEVICE_FEATURE_TIMESTAMPS. */
#define UDAL_EVENT_FLAG_TIMING ((udal_event_flags_t)1u << 0)
/* The event starts pending and completes once, when the host calls udal_event_signal(); it
 * cannot be recorded on a stream. A stream that waits on it holds its later work until
 * then (a driver with one hardware queue holds that work on the host, never blocking other
 * streams). Required of every driver. Not combinable with UDAL_EVENT_FLAG_TIMING. */
#define UDAL_EVENT_FLAG_HOST_SIGNAL ((udal_event_flags_t)1u << 1)

typedef struct udal_event_desc_t {
  udal_structure_type_t type; /* UDAL_STRUCTURE_TYPE_EVENT_DESC */
  uint32_t struct_size;
  const void* next;
  udal_event_flags_t flags;
} udal_event_desc_t;

#define UDAL_EVENT_DESC_INIT                                                                   \
  {UDAL_STRUCT_HEADER_INIT(udal_event_desc_t, UDAL_STRUCTURE_TYPE_EVENT_DESC), 0}

/* Creates an event. An event that was never recorded counts as complete (except a
 * HOST_SIGNAL event, pending until signalled).
 *   desc  [in][optional] NULL for defaults (no flags).
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT (unknown
 * flag, TIMING with HOST_SIGNAL), UDAL_ERROR_UNSUPPORTED (TIMING without
 * UDAL_DEVICE_FEATURE_TIMESTAMPS), UDAL_ERROR_OUT_OF_HOST_MEMORY. */
UDAL_API udal_result_t udal_event_create(udal_device_t device, const udal_event_desc_t* desc,
                                         udal_event_t* out_event);

/* Destroys an event. Any record of it still pending completes without harm. Destroying a
 * HOST_SIGNAL event that was not signalled releases the streams that wait on it, as if it
 * had been signalled.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE. */
UDAL_API udal_result_t udal_event_destroy(udal_event_t event);

/* UDAL_SUCCESS when the event's latest record has completed (or it was never recorded),
 * UDAL_NOT_READY when not yet, else UDAL_ERROR_INVALID_HANDLE / UDAL_ERROR_DEVICE_LOST. */
UDAL_API udal_result_t udal_event_query(udal_event_t event);

/* Blocks until the event's latest record completes or |timeout_ns| passes
 * (UDAL_TIMEOUT_INFINITE: no limit; 0: a query).
 * Returns UDAL_SUCCESS, UDAL_TIMEOUT, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_DEVICE_LOST. */
UDAL_API udal_result_t udal_event_wait(udal_event_t event, uint64_t timeout_ns);

/* Device time in nanoseconds between two completed records of TIMING events: end − start.
 * When |end| completed before |start| (e.g. recorded on another stream that ran first) the
 * result is 0, never a wrapped value.
 * Returns UDAL_SUCCESS, UDAL_NOT_READY (either still pending), UDAL_ERROR_INVALID_HANDLE
 * (NULL, or events of different drivers or devices), UDAL_ERROR_INVALID_ARGUMENT (NULL
 * out_ns; an event created without UDAL_EVENT_FLAG_TIMING), UDAL_ERROR_INVALID_STATE
 * (either never recorded). */
UDAL_API udal_result_t udal_event_elapsed_ns(udal_event_t start, udal_event_t end,
                                             uint64_t* out_ns);

/* Completes a HOST_SIGNAL event: waits on it return, and streams waiting on it go on.
 * Required of every driver.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT (not a
 * HOST_SIGNAL event), UDAL_ERROR_INVALID_STATE (already signalled). */
UDAL_API udal_result_t udal_event_signal(udal_event_t event);

/* ==========================================================================================
 * Modules and kernels
 * ======================================================================================= */

typedef struct udal_module_image_t {
  udal_structure_type_t type; /* UDAL_STRUCTURE_TYPE_MODULE_IMAGE */
  uint32_t struct_size;
  const void* next;
  const void* data; /* the image's bytes; or NULL to read |path| */
  size_t size;      /* bytes at |data|; 0 with |path| */
  const char* path; /* [optional] file holding the image, used when data is NULL */
  udal_module_format_t format;
  uint32_t reserved0;
} udal_module_image_t;

#define UDAL_MODULE_IMAGE_INIT                                                                 \
  {UDAL_STRUCT_HEADER_INIT(udal_module_image_t, UDAL_STRUCTURE_TYPE_MODULE_IMAGE), NULL, 0,    \
   NULL, UDAL_MODULE_FORMAT_NONE, 0}

/* One specialization constant of a SPIR-V image (OpSpecConstant* with SpecId |id|): an
 * element of an array, so its layout is frozen. |size| is the constant's byte size (1, 2,
 * 4 or 8). Formats without specialization constants refuse a non-empty list. */
typedef struct udal_specialization_constant_t {
  uint32_t id;
  uint32_t size;
  const void* value;
} udal_specialization_constant_t;

typedef struct udal_module_desc_t {
  udal_structure_type_t type; /* UDAL_STRUCTURE_TYPE_MODULE_DESC */
  uint32_t struct_size;
  const void* next;
  const udal_module_image_t* images; /* one module may carry the same code in several formats */
  const char* build_options;         /* [optional] for formats built from source (OPENCL_C) */
  const udal_specialization_constant_t* specialization_constants; /* [optional] */
  uint32_t specialization_constant_count;
  uint32_t image_count;              /* > 0 */
} udal_module_desc_t;

#define UDAL_MODULE_DESC_INIT                                                                  \
  {UDAL_STRUCT_HEADER_INIT(udal_module_desc_t, UDAL_STRUCTURE_TYPE_MODULE_DESC), NULL, NULL,   \
   NULL, 0, 0}

/* Creates a module from the first image, in the order given, whose format the device
 * accepts. The bytes are copied: the caller may free them when the call returns. A file
 * named by |path| must be a regular file of at most 1 GiB.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT (no images,
 * an image with neither data nor path, an unknown format, a bad specialization constant),
 * UDAL_ERROR_UNSUPPORTED (no image in a format the device accepts),
 * UDAL_ERROR_INVALID_MODULE (the chosen image is corrupt, uses what the driver does not
 * model, or does not build; the message has the driver's log),
 * UDAL_ERROR_OUT_OF_HOST_MEMORY. */
UDAL_API udal_result_t udal_module_create(udal_device_t device, const udal_module_desc_t* desc,
                                          udal_module_t* out_module);

/* Destroys a module. Kernels created from it stay usable until they are destroyed.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE. */
UDAL_API udal_result_t udal_module_destroy(udal_module_t module);

typedef struct udal_module_info_t {
  udal_structure_type_t type; /* UDAL_STRUCTURE_TYPE_MODULE_INFO */
  uint32_t struct_size;
  void* next;
  udal_module_format_t format; /* the format of the image that was taken */
  uint32_t image_index;        /* its index in udal_module_desc_t::images */
} udal_module_info_t;

#define UDAL_MODULE_INFO_INIT                                                                  \
  {UDAL_STRUCT_HEADER_INIT(udal_module_info_t, UDAL_STRUCTURE_TYPE_MODULE_INFO),               \
   UDAL_MODULE_FORMAT_NONE, 0}

/* Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT. */
UDAL_API udal_result_t udal_module_get_info(udal_module_t module, udal_module_info_t* out_info);

/* Looks up kernel |name| (NUL-terminated) in |module|.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT (NULL or
 * empty name), UDAL_ERROR_KERNEL_NOT_FOUND, UDAL_ERROR_INVALID_MODULE (the kernel uses what
 * the driver does not model), UDAL_ERROR_OUT_OF_HOST_MEMORY. */
UDAL_API udal_result_t udal_kernel_create(udal_module_t module, const char* name,
                                          udal_kernel_t* out_kernel);

/* Destroys a kernel. Launches already enqueued complete normally.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE. */
UDAL_API udal_result_t udal_kernel_destroy(udal_kernel_t kernel);

/* Kernel argument count when the format does not say it. */
#define UDAL_ARGUMENT_COUNT_UNKNOWN UINT32_MAX

typedef uint64_t udal_kernel_flags_t;
/* udal_kernel_get_argument_info describes every argument of this kernel. */
#define UDAL_KERNEL_FLAG_ARGUMENT_INFO ((udal_kernel_flags_t)1u << 0)
/* The kernel uses dynamic local memory: a launch with local_memory_bytes 0 is refused. */
#define UDAL_KERNEL_FLAG_USES_LOCAL_MEMORY ((udal_kernel_flags_t)1u << 1)
/* The kernel fixes its group size (SPIR-V LocalSize): required_group_size holds it and a
 * launch at another group size is refused. */
#define UDAL_KERNEL_FLAG_REQUIRED_GROUP_SIZE ((udal_kernel_flags_t)1u << 2)

typedef struct udal_kernel_info_t {
  udal_structure_type_t type; /* UDAL_STRUCTURE_TYPE_KERNEL_INFO */
  uint32_t struct_size;
  void* next;
  udal_kernel_flags_t flags;      /* UDAL_KERNEL_FLAG_* */
  uint32_t argument_count;        /* or UDAL_ARGUMENT_COUNT_UNKNOWN */
  uint32_t max_group_invocations; /* for this kernel; ≤ the device's limit */
  uint32_t required_group_size[3]; /* with UDAL_KERNEL_FLAG_REQUIRED_GROUP_SIZE; else 0 */
  uint32_t reserved0;
} udal_kernel_info_t;

#define UDAL_KERNEL_INFO_INIT                                                                  \
  {UDAL_STRUCT_HEADER_INIT(udal_kernel_info_t, UDAL_STRUCTURE_TYPE_KERNEL_INFO), 0, 0, 0,      \
   {0, 0, 0}, 0}

/* Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT. */
UDAL_API udal_result_t udal_kernel_get_info(udal_kernel_t kernel, udal_kernel_info_t* out_info);

/* ==========================================================================================
 * Launch arguments
 * ======================================================================================= */

typedef enum udal_arg_kind_t {
  UDAL_ARG_KIND_UNKNOWN = 0, /* reflection only: the format does not say; never at launch */
  UDAL_ARG_KIND_BUFFER = 1,  /* a buffer and a byte offset into it */
  UDAL_ARG_KIND_VALUE = 2,   /* bytes copied at enqueue time */
  UDAL_ARG_KIND_FORCE_32BIT = 0x7fffffff
} udal_arg_kind_t;

/* How a kernel uses a buffer argument. Drivers order work and place barriers by it, the
 * remote driver moves back only what a kernel writes, and the validation layer checks it.
 * A kernel that writes an argument passed as READ is undefined behaviour. */
typedef enum udal_arg_access_t {
  UDAL_ARG_ACCESS_NONE = 0,       /* value arguments */
  UDAL_ARG_ACCESS_READ = 1,
  UDAL_ARG_ACCESS_WRITE = 2,      /* the kernel may not read what was there before */
  UDAL_ARG_ACCESS_READ_WRITE = 3,
  UDAL_ARG_ACCESS_FORCE_32BIT = 0x7fffffff
} udal_arg_access_t;

/* One launch argument. An element of an array, so it has no struct header and its 64-byte
 * layout is frozen for major version 1: extensions go on udal_launch_desc_t::next.
 * reserved* must be zero. */
typedef struct udal_kernel_arg_t {
  udal_arg_kind_t kind;
  uint32_t value_size;      /* VALUE: bytes at |value| (> 0); BUFFER: 0 */
  const void* value;        /* VALUE: the bytes; BUFFER: NULL */
  udal_buffer_t buffer;     /* BUFFER: the buffer; VALUE: NULL */
  uint64_t offset;          /* BUFFER: byte offset (< the buffer's size, a multiple of the
                               device's buffer_argument_offset_alignment); VALUE: 0 */
  udal_arg_access_t access; /* BUFFER: READ, WRITE or READ_WRITE; VALUE: NONE */
  uint32_t reserved0;
  uint64_t reserved1[3];
} udal_kernel_arg_t;

static inline udal_kernel_arg_t udal_arg_buffer_access(udal_buffer_t buffer, uint64_t offset,
                                                       udal_arg_access_t access) {
  udal_kernel_arg_t arg;
  arg.kind = UDAL_ARG_KIND_BUFFER;
  arg.value_size = 0;
  arg.value = NULL;
  arg.buffer = buffer;
  arg.offset = offset;
  arg.access = access;
  arg.reserved0 = 0;
  arg.reserved1[0] = arg.reserved1[1] = arg.reserved1[2] = 0;
  return arg;
}

/* A buffer argument the kernel may read and write. */
static inline udal_kernel_arg_t udal_arg_buffer(udal_buffer_t buffer, uint64_t offset) {
  return udal_arg_buffer_access(buffer, offset, UDAL_ARG_ACCESS_READ_WRITE);
}

static inline udal_kernel_arg_t udal_arg_value(const void* value, uint32_t size) {
  udal_kernel_arg_t arg;
  arg.kind = UDAL_ARG_KIND_VALUE;
  arg.value_size = size;
  arg.value = value;
  arg.buffer = NULL;
  arg.offset = 0;
  arg.access = UDAL_ARG_ACCESS_NONE;
  arg.reserved0 = 0;
  arg.reserved1[0] = arg.reserved1[1] = arg.reserved1[2] = 0;
  return arg;
}

typedef struct udal_kernel_arg_info_t {
  udal_structure_type_t type; /* UDAL_STRUCTURE_TYPE_KERNEL_ARG_INFO */
  uint32_t struct_size;
  void* next;
  udal_arg_kind_t kind;     /* UNKNOWN when the format does not say */
  uint32_t value_size;      /* VALUE: its size in bytes; else 0 */
  udal_arg_access_t access; /* BUFFER: what the kernel declares (READ_WRITE when it does
                               not say); VALUE: NONE */
  uint32_t reserved0;
} udal_kernel_arg_info_t;

#define UDAL_KERNEL_ARG_INFO_INIT                                                              \
  {UDAL_STRUCT_HEADER_INIT(udal_kernel_arg_info_t, UDAL_STRUCTURE_TYPE_KERNEL_ARG_INFO),       \
   UDAL_ARG_KIND_UNKNOWN, 0, UDAL_ARG_ACCESS_NONE, 0}

/* What argument |index| of |kernel| is: its kind, value size and access where the format
 * says them. Drivers check every launch against the same information.
 * Optional: UDAL_DEVICE_FEATURE_KERNEL_ARGUMENT_INFO.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT,
 * UDAL_ERROR_NOT_FOUND (index ≥ the argument count), UDAL_ERROR_UNSUPPORTED (the driver,
 * or this kernel's format, does not describe arguments). */
UDAL_API udal_result_t udal_kernel_get_argument_info(udal_kernel_t kernel, uint32_t index,
                                                     udal_kernel_arg_info_t* out_info);

typedef struct udal_launch_desc_t {
  udal_structure_type_t type; /* UDAL_STRUCTURE_TYPE_LAUNCH_DESC */
  uint32_t struct_size;
  const void* next;
  uint32_t group_count[3];     /* work-groups per axis; each ≥ 1 */
  uint32_t group_size[3];      /* work-items per group per axis; each ≥ 1 */
  uint64_t local_memory_bytes; /* dynamic local memory per group; 0 for none */
  const udal_kernel_arg_t* args; /* [optional when arg_count is 0] */
  uint32_t arg_count;
  uint32_t reserved0;
} udal_launch_desc_t;

#define UDAL_LAUNCH_DESC_INIT                                                                  \
  {UDAL_STRUCT_HEADER_INIT(udal_launch_desc_t, UDAL_STRUCTURE_TYPE_LAUNCH_DESC), {1, 1, 1},    \
   {1, 1, 1}, 0, NULL, 0, 0}

/* ==========================================================================================
 * Streams
 * ======================================================================================= */

typedef struct udal_stream_desc_t {
  udal_structure_type_t type; /* UDAL_STRUCTURE_TYPE_STREAM_DESC */
  uint32_t struct_size;
  const void* next;
  uint64_t flags; /* none defined yet: must be 0 */
} udal_stream_desc_t;

#define UDAL_STREAM_DESC_INIT                                                                  \
  {UDAL_STRUCT_HEADER_INIT(udal_stream_desc_t, UDAL_STRUCTURE_TYPE_STREAM_DESC), 0}

/* Creates an in-order stream: each operation starts after the previous one on the same
 * stream has completed, and its effects are visible to the next. Streams run
 * independently of each other except through events. Every enqueue returns before its
 * work runs (it may run at once on an idle device, but never makes the caller wait for
 * earlier work).
 *   desc  [in][optional] NULL for defaults.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT,
 * UDAL_ERROR_OUT_OF_HOST_MEMORY. */
UDAL_API udal_result_t udal_stream_create(udal_device_t device, const udal_stream_desc_t* desc,
                                          udal_stream_t* out_stream);

/* Waits for the stream's work to complete, then destroys it. Work that waits on a
 * HOST_SIGNAL event keeps the call waiting until the event is signalled or destroyed.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_DEVICE_LOST. */
UDAL_API udal_result_t udal_stream_destroy(udal_stream_t stream);

/* Every enqueue below takes buffers, kernels and events of the stream's device only: an
 * object of another device is UDAL_ERROR_INVALID_HANDLE. */

/* Enqueues a copy of |size| bytes from |src| at |src_offset| to |dst| at |dst_offset|.
 * The ranges may be in the same buffer but must not overlap.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT (size 0,
 * overlapping ranges), UDAL_ERROR_OUT_OF_RANGE. */
UDAL_API udal_result_t udal_stream_copy_buffer(udal_stream_t stream, udal_buffer_t src,
                                               uint64_t src_offset, udal_buffer_t dst,
                                               uint64_t dst_offset, uint64_t size);

/* Enqueues a fill of [offset, offset + size) with the |pattern_size|-byte pattern at
 * |pattern| (1, 2, 4, 8 or 16 bytes, copied at enqueue time), repeated from |offset|; a
 * last partial repetition is truncated. |offset| need not be aligned.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT (size 0,
 * NULL pattern, pattern size), UDAL_ERROR_OUT_OF_RANGE. */
UDAL_API udal_result_t udal_stream_fill_buffer(udal_stream_t stream, udal_buffer_t dst,
                                               uint64_t offset, uint64_t size,
                                               const void* pattern, uint32_t pattern_size);

/* Enqueues a copy of |size| bytes from host memory |src| into |dst| at |dst_offset|. The
 * host memory is read when the operation runs: it must stay valid and unchanged until the
 * operation has completed.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT (NULL src,
 * size 0), UDAL_ERROR_OUT_OF_RANGE. */
UDAL_API udal_result_t udal_stream_write_buffer(udal_stream_t stream, udal_buffer_t dst,
                                                uint64_t dst_offset, const void* src,
                                                uint64_t size);

/* Enqueues a copy of |size| bytes of |src| at |src_offset| into host memory |dst|, written
 * when the operation runs: read it only after the operation has completed.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT (NULL dst,
 * size 0), UDAL_ERROR_OUT_OF_RANGE. */
UDAL_API udal_result_t udal_stream_read_buffer(udal_stream_t stream, udal_buffer_t src,
                                               uint64_t src_offset, void* dst, uint64_t size);

/* Enqueues a launch of |kernel|: group_count[0]·[1]·[2] work-groups of group_size
 * work-items (the product may exceed 2^32). Arguments are captured at enqueue time (value
 * bytes copied), so |desc| and its arrays may be reused at once, and one kernel may be
 * launched from several threads. Where the driver knows the kernel's arguments
 * (UDAL_KERNEL_FLAG_ARGUMENT_INFO) it refuses a launch whose arguments do not match them.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE (NULL kernel or argument buffer, objects
 * of another driver or device), UDAL_ERROR_INVALID_ARGUMENT (zero group count or size,
 * argument count, kinds, value sizes or access that do not match the kernel, group size
 * over the limits or not the kernel's required one, local memory over the limit or missing
 * for a kernel that uses it, a buffer offset not a multiple of the device's
 * buffer_argument_offset_alignment, non-zero reserved fields), UDAL_ERROR_OUT_OF_RANGE (a
 * buffer argument's offset past its end), UDAL_ERROR_UNSUPPORTED. */
UDAL_API udal_result_t udal_stream_launch(udal_stream_t stream, udal_kernel_t kernel,
                                          const udal_launch_desc_t* desc);

/* Enqueues a record of |event|: it completes when all work enqueued on |stream| before it
 * has completed, and takes a timestamp then when the event has UDAL_EVENT_FLAG_TIMING.
 * Re-recording replaces the previous record.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT (a
 * HOST_SIGNAL event). */
UDAL_API udal_result_t udal_stream_record_event(udal_stream_t stream, udal_event_t event);

/* Makes work enqueued on |stream| after this call wait until the record of |event| that
 * was latest at the time of this call has completed (a HOST_SIGNAL event: until it is
 * signalled). An event never recorded is complete.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE. */
UDAL_API udal_result_t udal_stream_wait_event(udal_stream_t stream, udal_event_t event);

/* Blocks until all work enqueued on |stream| has completed or |timeout_ns| passes.
 * Returns UDAL_SUCCESS, UDAL_TIMEOUT, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_DEVICE_LOST. */
UDAL_API udal_result_t udal_stream_synchronize(udal_stream_t stream, uint64_t timeout_ns);

/* A function the host runs in stream order. */
typedef void (*udal_host_function_t)(void* user_data);

/* Enqueues a call of |fn|(|user_data|) on a driver thread after all earlier work of
 * |stream| has completed and before any later work starts (what CUDA's cuLaunchHostFunc and
 * PJRT's OnReady give frameworks). |fn| may call udal_* functions, except those that wait
 * for work of |stream| enqueued after it (synchronize or destroy of |stream|, waits on
 * events recorded on it later): that work waits for |fn|, so such a call never returns.
 * Required of every driver.
 * Returns UDAL_SUCCESS, UDAL_ERROR_INVALID_HANDLE, UDAL_ERROR_INVALID_ARGUMENT (NULL fn),
 * UDAL_ERROR_OUT_OF_HOST_MEMORY. */
UDAL_API udal_result_t udal_stream_enqueue_host_function(udal_stream_t stream,
                                                         udal_host_function_t fn,
                                                         void* user_data);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* UDAL_UDAL_H_ */
