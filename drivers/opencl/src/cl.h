// cl.h — the OpenCL headers at the version the driver is written against, owners of OpenCL
// objects, info queries, and OpenCL error codes turned into UDAL results with messages.
#ifndef UDAL_OPENCL_CL_H_
#define UDAL_OPENCL_CL_H_

// The driver calls 2.x entries only on devices whose version has them (device.h).
#define CL_TARGET_OPENCL_VERSION 300
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <CL/cl_ext.h>

#include <string>
#include <utility>
#include <vector>

#include "udal/sdk/sdk.h"

namespace udal::opencl {

// OpenCL's name of |code| ("CL_OUT_OF_RESOURCES"); "CL_<unknown error>" for others.
const char* cl_error_name(cl_int code) noexcept;

// The UDAL code for a failed OpenCL call: allocation failures map to the two OUT_OF_*
// codes, an unavailable device or failed work to DEVICE_LOST, anything else to INTERNAL
// (the driver passed OpenCL something it should not have).
udal_result_t udal_code_of(cl_int code) noexcept;

// Fails with the code of |code| and "<function>: <call> failed with CL_... (<n>)".
udal_result_t fail_cl(const char* function, const char* call, cl_int code) noexcept;

// Owns one reference to an OpenCL object. Copying retains, so a copy may outlive the
// original (an event record read by a waiter while the stream replaces it).
template <typename T, cl_int (*Retain)(T), cl_int (*Release)(T)> class ClRef {
public:
  ClRef() noexcept = default;
  // Adopts |handle| (a reference the caller owned, e.g. fresh from clCreate*).
  explicit ClRef(T handle) noexcept : handle_(handle) {}
  ClRef(const ClRef& other) noexcept : handle_(other.handle_) {
    if (handle_ != nullptr)
      Retain(handle_);
  }
  ClRef& operator=(const ClRef& other) noexcept {
    if (this != &other) {
      ClRef copy(other);
      std::swap(handle_, copy.handle_);
    }
    return *this;
  }
  ClRef(ClRef&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  ClRef& operator=(ClRef&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  ~ClRef() { reset(); }

  void reset() noexcept {
    if (handle_ != nullptr)
      Release(handle_);
    handle_ = nullptr;
  }
  T get() const noexcept { return handle_; }
  T release() noexcept { return std::exchange(handle_, nullptr); }
  // For an out-parameter of clCreate*-style calls: drops what is held first.
  T* out() noexcept {
    reset();
    return &handle_;
  }
  explicit operator bool() const noexcept { return handle_ != nullptr; }

private:
  T handle_ = nullptr;
};

using ClContext = ClRef<cl_context, clRetainContext, clReleaseContext>;
using ClQueue = ClRef<cl_command_queue, clRetainCommandQueue, clReleaseCommandQueue>;
using ClMem = ClRef<cl_mem, clRetainMemObject, clReleaseMemObject>;
using ClEvent = ClRef<cl_event, clRetainEvent, clReleaseEvent>;
using ClProgram = ClRef<cl_program, clRetainProgram, clReleaseProgram>;
using ClKernel = ClRef<cl_kernel, clRetainKernel, clReleaseKernel>;

// Info queries. Each returns the OpenCL code; the value is left as it was on failure.
template <typename T>
cl_int device_info(cl_device_id device, cl_device_info what, T* out) noexcept {
  return clGetDeviceInfo(device, what, sizeof(T), out, nullptr);
}

// A string property of a device or platform, "" when the query fails. Throws bad_alloc.
std::string device_string(cl_device_id device, cl_device_info what);
std::string platform_string(cl_platform_id platform, cl_platform_info what);

// A program's build log on |device| (trimmed), "" when there is none.
std::string build_log(cl_program program, cl_device_id device);

// The execution status of |event|: CL_COMPLETE (0), a positive pending state, or a negative
// error (from the query, or the event's own failure).
cl_int event_status(cl_event event) noexcept;

} // namespace udal::opencl

#endif // UDAL_OPENCL_CL_H_
