#include "pipeline_cache.h"

#include <fcntl.h>
#include <unistd.h>

// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, and used on purpose:
// they are plain functions of their context, while EVP fetches the digest from the library's
// global state, which OpenSSL's own atexit handler frees. A device torn down from another
// library's exit-time destructor (libze_udal releases its instance so) saves its cache after
// that handler has run, and EVP_Digest crashed there (udal-cts under scripts/main.sh).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "udal/sdk/file_check.h"

namespace udal::vulkan {
namespace {

using Digest = std::array<uint8_t, 32>;

// The driver's header before the Vulkan data (host byte order: the file never leaves the
// machine that wrote it, and a file of another byte order fails the magic or the digest).
struct FileHeader {
  char magic[8];
  uint32_t format_version;
  uint32_t header_bytes;
  uint64_t payload_bytes;
  uint8_t payload_sha256[32];
};
static_assert(sizeof(FileHeader) == 56);
constexpr char kMagic[8] = {'U', 'D', 'A', 'L', 'V', 'K', 'P', 'C'};
constexpr uint32_t kFormatVersion = 1;

// VkPipelineCacheHeaderVersionOne, read field by field (it has no padding, but its size is
// the spec's 32 bytes, not necessarily the struct's).
constexpr size_t kVulkanHeaderBytes = 16 + VK_UUID_SIZE;

bool sha256(const void* data, size_t size, Digest* out) noexcept {
  static_assert(std::tuple_size_v<Digest> == SHA256_DIGEST_LENGTH);
  SHA256_CTX context;
  return SHA256_Init(&context) == 1 && SHA256_Update(&context, data, size) == 1 &&
         SHA256_Final(out->data(), &context) == 1;
}

uint32_t read_u32(const uint8_t* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// "" when |file| (a whole cache file) can be loaded into a cache of |properties|' device,
// with the Vulkan data in |*payload|; else what is wrong with it.
std::string check_file(const std::string& file, const VkPhysicalDeviceProperties& properties,
                       std::vector<uint8_t>* payload, Digest* digest) {
  if (file.size() < sizeof(FileHeader)) {
    return fmt::format("{} bytes, shorter than the driver's {}-byte header (truncated?)",
                       file.size(), sizeof(FileHeader));
  }
  FileHeader header;
  std::memcpy(&header, file.data(), sizeof header);
  if (std::memcmp(header.magic, kMagic, sizeof kMagic) != 0) {
    return "it does not begin with the driver's magic 'UDALVKPC' (not a UDAL pipeline cache)";
  }
  if (header.format_version != kFormatVersion || header.header_bytes != sizeof(FileHeader)) {
    return fmt::format("format version {} with a {}-byte header; this driver writes version {} "
                       "with {}", header.format_version, header.header_bytes, kFormatVersion,
                       sizeof(FileHeader));
  }
  if (header.payload_bytes != file.size() - sizeof(FileHeader)) {
    return fmt::format("its header announces {} bytes of data and the file has {} (truncated?)",
                       header.payload_bytes, file.size() - sizeof(FileHeader));
  }
  const auto* data = reinterpret_cast<const uint8_t*>(file.data()) + sizeof(FileHeader);
  const size_t size = file.size() - sizeof(FileHeader);
  if (!sha256(data, size, digest)) return "SHA-256 is not available (libcrypto)";
  if (std::memcmp(digest->data(), header.payload_sha256, digest->size()) != 0) {
    return "the SHA-256 of its data does not match its header (corrupted)";
  }
  if (size < kVulkanHeaderBytes) {
    return fmt::format("its {} bytes of data are too few for a Vulkan pipeline cache header", size);
  }
  const uint32_t header_size = read_u32(data);
  const uint32_t header_version = read_u32(data + 4);
  const uint32_t vendor = read_u32(data + 8);
  const uint32_t device = read_u32(data + 12);
  if (header_size < kVulkanHeaderBytes || header_size > size ||
      header_version != VK_PIPELINE_CACHE_HEADER_VERSION_ONE) {
    return fmt::format("its Vulkan header (size {}, version {}) is not a version-one header",
                       header_size, header_version);
  }
  if (vendor != properties.vendorID || device != properties.deviceID ||
      std::memcmp(data + 16, properties.pipelineCacheUUID, VK_UUID_SIZE) != 0) {
    return fmt::format("it was written for another device or implementation (vendor {:#x}, "
                       "device {:#x}, or its pipelineCacheUUID, differ from this device's "
                       "{:#x}, {:#x})", vendor, device, properties.vendorID, properties.deviceID);
  }
  payload->assign(data, data + size);
  return {};
}

// Whether UDAL_VULKAN_PIPELINE_CACHE turns the cache off.
bool cache_disabled() {
  const char* setting = secure_getenv("UDAL_VULKAN_PIPELINE_CACHE");
  return setting != nullptr && (std::strcmp(setting, "off") == 0 || std::strcmp(setting, "0") == 0);
}

// The directory of cache files, or empty (with |*why|) when the cache stays in memory.
std::filesystem::path cache_directory(std::string* why) {
  if (const char* setting = secure_getenv("UDAL_VULKAN_PIPELINE_CACHE");
      setting != nullptr && setting[0] != '\0') {
    if (setting[0] != '/') {
      *why = fmt::format("UDAL_VULKAN_PIPELINE_CACHE='{}' is neither 'off' nor an absolute "
                         "directory", setting);
      return {};
    }
    return setting;
  }
  if (const char* xdg = secure_getenv("XDG_CACHE_HOME"); xdg != nullptr && xdg[0] == '/') {
    return std::filesystem::path(xdg) / "udal" / "vulkan";
  }
  if (const char* home = secure_getenv("HOME"); home != nullptr && home[0] == '/') {
    return std::filesystem::path(home) / ".cache" / "udal" / "vulkan";
  }
  *why = "no absolute XDG_CACHE_HOME or HOME (or a set-uid process)";
  return {};
}

std::string file_name(const VkPhysicalDeviceProperties& properties,
                      const uint8_t (&device_uuid)[VK_UUID_SIZE]) {
  std::string name;
  for (uint8_t byte : device_uuid) name += fmt::format("{:02x}", byte);
  return fmt::format("{}-{:08x}.pipelines", name, properties.driverVersion);
}

// Writes |bytes| to |path| through a temporary file in its directory and a rename.
std::string write_atomically(const std::filesystem::path& path, const std::string& bytes) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message());
  std::string temp = path.string() + ".XXXXXX";
  const int fd = mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return fmt::format("cannot create a file in {}: {}", path.parent_path().string(),
                                 std::strerror(errno));
  udal::file_check::FileDescriptor owned(fd);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(n < 0 ? errno : ENOSPC);
      ::unlink(temp.c_str());
      return fmt::format("cannot write {}: {}", temp, why);
    }
    done += static_cast<size_t>(n);
  }
  owned.reset();
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(temp.c_str());
    return fmt::format("cannot rename {} to {}: {}", temp, path.string(), why);
  }
  return {};
}

}  // namespace

std::unique_ptr<PipelineCache> PipelineCache::open(VkDevice device,
                                                   const VkPhysicalDeviceProperties& properties,
                                                   const uint8_t (&device_uuid)[VK_UUID_SIZE],
                                                   LogFunction log, VkResult* error) {
  if (cache_disabled()) {
    log(UDAL_LOG_LEVEL_INFO, "pipeline cache off (UDAL_VULKAN_PIPELINE_CACHE)");
    return std::unique_ptr<PipelineCache>(
        new PipelineCache(device, VK_NULL_HANDLE, {}, Digest{}, std::move(log)));
  }
  std::string why_memory;
  std::filesystem::path path = cache_directory(&why_memory);
  if (!path.empty()) path /= file_name(properties, device_uuid);
  std::vector<uint8_t> payload;
  Digest digest{};
  if (!path.empty()) {
    std::string file;
    const udal::file_check::Problem problem =
        udal::file_check::read_regular_file(path.c_str(), kMaxFileBytes, file);
    if (problem.kind == udal::file_check::Problem::Kind::none) {
      const std::string why = check_file(file, properties, &payload, &digest);
      if (!why.empty()) {
        log(UDAL_LOG_LEVEL_WARNING, fmt::format("pipeline cache {} is ignored (and replaced when "
                                                "the device goes): {}", path.string(), why));
        digest = {};
      }
    } else if (problem.kind != udal::file_check::Problem::Kind::missing) {
      log(UDAL_LOG_LEVEL_WARNING, fmt::format("pipeline cache {} is ignored (and replaced when "
                                              "the device goes): {}", path.string(), problem.text));
    }
  } else {
    log(UDAL_LOG_LEVEL_INFO, fmt::format("pipeline cache in memory only: {}", why_memory));
  }

  VkPipelineCacheCreateInfo info{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
  info.initialDataSize = payload.size();
  info.pInitialData = payload.empty() ? nullptr : payload.data();
  VkPipelineCache cache = VK_NULL_HANDLE;
  VkResult r = vkCreatePipelineCache(device, &info, nullptr, &cache);
  if (r != VK_SUCCESS && !payload.empty()) {
    // The implementation refused data that passed every check: start empty.
    log(UDAL_LOG_LEVEL_WARNING, fmt::format("pipeline cache {}: vkCreatePipelineCache refused "
                                            "its data ({}); starting empty", path.string(),
                                            vk_result_name(r)));
    payload.clear();
    digest = {};
    info.initialDataSize = 0;
    info.pInitialData = nullptr;
    r = vkCreatePipelineCache(device, &info, nullptr, &cache);
  }
  if (r != VK_SUCCESS) {
    *error = r;
    return nullptr;
  }
  // Owned before anything more may throw (the object's allocation, the log's message): a
  // failure destroys the VkPipelineCache with it, before the device goes.
  std::unique_ptr<PipelineCache> owned;
  try {
    owned.reset(new PipelineCache(device, cache, path, digest, log));
  } catch (...) {
    vkDestroyPipelineCache(device, cache, nullptr);
    throw;
  }
  if (!payload.empty()) {
    log(UDAL_LOG_LEVEL_INFO, fmt::format("pipeline cache {}: loaded {} bytes", path.string(),
                                         payload.size()));
  }
  return owned;
}

PipelineCache::PipelineCache(VkDevice device, VkPipelineCache cache, std::filesystem::path path,
                             std::array<uint8_t, 32> loaded_digest, LogFunction log) noexcept
    : device_(device), cache_(cache), path_(std::move(path)), loaded_digest_(loaded_digest),
      log_(std::move(log)) {}

PipelineCache::~PipelineCache() {
  if (cache_ != VK_NULL_HANDLE) vkDestroyPipelineCache(device_, cache_, nullptr);
}

void PipelineCache::save() noexcept {
  if (path_.empty() || cache_ == VK_NULL_HANDLE) return;
  try {
    size_t size = 0;
    if (vkGetPipelineCacheData(device_, cache_, &size, nullptr) != VK_SUCCESS || size == 0) return;
    std::string file(sizeof(FileHeader) + size, '\0');
    auto* data = reinterpret_cast<uint8_t*>(file.data()) + sizeof(FileHeader);
    // VK_INCOMPLETE: the cache grew since the size query (another thread compiled); what fits
    // is a valid cache too.
    const VkResult r = vkGetPipelineCacheData(device_, cache_, &size, data);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) return;
    file.resize(sizeof(FileHeader) + size);
    if (file.size() > kMaxFileBytes) {
      log_(UDAL_LOG_LEVEL_INFO, fmt::format("pipeline cache {}: {} bytes is over the {} a cache "
                                            "file may have; not written", path_.string(),
                                            file.size(), kMaxFileBytes));
      return;
    }
    FileHeader header{};
    std::memcpy(header.magic, kMagic, sizeof kMagic);
    header.format_version = kFormatVersion;
    header.header_bytes = sizeof(FileHeader);
    header.payload_bytes = size;
    Digest digest{};
    if (!sha256(data, size, &digest)) return;
    if (digest == loaded_digest_) return;  // nothing new since the file was read
    std::memcpy(header.payload_sha256, digest.data(), digest.size());
    std::memcpy(file.data(), &header, sizeof header);
    if (const std::string why = write_atomically(path_, file); !why.empty()) {
      log_(UDAL_LOG_LEVEL_WARNING, fmt::format("pipeline cache not saved: {}", why));
      return;
    }
    loaded_digest_ = digest;
    log_(UDAL_LOG_LEVEL_INFO, fmt::format("pipeline cache {}: saved {} bytes", path_.string(),
                                          size));
  } catch (const std::exception&) {
    // Out of memory while saving: the next process compiles again.
  }
}

}  // namespace udal::vulkan
