// pipeline_cache.h — the device's VkPipelineCache, kept across processes in a file of the
// user's cache directory so that a kernel compiled once is not compiled again by the next
// program (on a GPU, compilation costs milliseconds per pipeline).
//
// Where: $UDAL_VULKAN_PIPELINE_CACHE when it is an absolute directory, else
// $XDG_CACHE_HOME/udal/vulkan (an absolute XDG_CACHE_HOME only, as the XDG spec says), else
// $HOME/.cache/udal/vulkan; one file per physical device and implementation version,
// "<deviceUUID>-<driverVersion>.pipelines". UDAL_VULKAN_PIPELINE_CACHE=off (or 0) turns the
// cache off (pipelines are created with no VkPipelineCache). A set-uid process, or one
// without an absolute HOME, keeps the cache in memory only (secure_getenv hides all three
// variables there).
//
// The file is read from outside the driver's control, so before Vulkan sees a byte of it:
// it must be a regular file of at most kMaxFileBytes (udal/sdk/file_check.h: no FIFO, device
// or directory is opened for reading), begin with this driver's header (magic, format
// version, payload size equal to the rest of the file, SHA-256 of the payload: a truncated or
// corrupted file is caught), and the payload's Vulkan pipeline-cache header must name this
// device (headerVersion ONE, vendorID, deviceID, pipelineCacheUUID). A file that fails is
// ignored, said in the log, and replaced when the device goes.
//
// Written when the device is torn down, only when the cache holds something the file does
// not: to a temporary file in the same directory, renamed over the old one (atomic: a reader
// sees the old file or the new one, never half of one).
#ifndef UDAL_VULKAN_PIPELINE_CACHE_H_
#define UDAL_VULKAN_PIPELINE_CACHE_H_

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "vk_util.h"

namespace udal::vulkan {

// Where the driver writes diagnostics (the log callback libudal gave driver_create).
using LogFunction = std::function<void(udal_log_level_t, const std::string&)>;

class PipelineCache {
 public:
  // A file over this size is not read (nor written): a pipeline cache of all the CTS's
  // kernels is well under 1 MiB on lavapipe.
  static constexpr uint64_t kMaxFileBytes = uint64_t{64} << 20;

  // The cache of |device| (of |properties| and |device_uuid|), loaded from its file when
  // the file passes every check. Fails only when vkCreatePipelineCache fails with no
  // initial data, with that VkResult in |*error|. Throws std::bad_alloc.
  static std::unique_ptr<PipelineCache> open(VkDevice device,
                                             const VkPhysicalDeviceProperties& properties,
                                             const uint8_t (&device_uuid)[VK_UUID_SIZE],
                                             LogFunction log, VkResult* error);
  ~PipelineCache();
  PipelineCache(const PipelineCache&) = delete;
  PipelineCache& operator=(const PipelineCache&) = delete;

  // VK_NULL_HANDLE when the cache is off.
  VkPipelineCache get() const noexcept { return cache_; }

  // Writes the file when the cache holds more than it had when loaded. Never throws; a
  // failure is logged (the next process compiles again, nothing else is lost).
  void save() noexcept;

  // The file this cache is kept in; empty when it lives in memory only.
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  PipelineCache(VkDevice device, VkPipelineCache cache, std::filesystem::path path,
                std::array<uint8_t, 32> loaded_digest, LogFunction log) noexcept;

  VkDevice device_;
  VkPipelineCache cache_;
  std::filesystem::path path_;
  std::array<uint8_t, 32> loaded_digest_;  // of the payload read (zero when none)
  LogFunction log_;
};

}  // namespace udal::vulkan

#endif  // UDAL_VULKAN_PIPELINE_CACHE_H_
