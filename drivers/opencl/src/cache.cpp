// The program cache's files.
#include "cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#ifdef UDAL_OPENCL_HAVE_OPENSSL
#include <openssl/evp.h>
#endif

#include <fmt/format.h>

namespace udal::opencl {

namespace {

constexpr char kMagic[8] = {'U', 'D', 'A', 'L', 'O', 'C', 'L', '2'};
// magic, u32 json bytes, u32 zero, u64 binary bytes, sha256 of the binary
constexpr size_t kDigestBytes = 32;
constexpr size_t kHeaderBytes = 24 + kDigestBytes;

void put_u32(std::vector<unsigned char>* out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out->push_back(static_cast<unsigned char>(v >> (8 * i)));
}
void put_u64(std::vector<unsigned char>* out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out->push_back(static_cast<unsigned char>(v >> (8 * i)));
}
uint64_t get_le(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = v << 8 | p[i];
  return v;
}

// The sha256 of |size| bytes at |data|: the cache's check that a binary is the one written
// (platforms parse their binaries trustingly; PoCL asserts on a damaged one).
bool digest(const void* data, size_t size, unsigned char out[kDigestBytes]) {
#ifdef UDAL_OPENCL_HAVE_OPENSSL
  unsigned int n = 0;
  return EVP_Digest(data, size, out, &n, EVP_sha256(), nullptr) == 1 && n == kDigestBytes;
#else
  (void)data, (void)size, (void)out;
  return false;
#endif
}

bool is_hex_key(const std::string& key) {
  if (key.size() != 64)
    return false;
  for (char c : key) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  }
  return true;
}

} // namespace

std::string cache_directory() {
  const char* off = secure_getenv("UDAL_OPENCL_CACHE");
  if (off != nullptr && (std::strcmp(off, "0") == 0 || std::strcmp(off, "off") == 0))
    return {};
  if (const char* dir = secure_getenv("UDAL_OPENCL_CACHE_DIR"); dir != nullptr && dir[0] == '/') {
    return dir;
  }
  if (const char* xdg = secure_getenv("XDG_CACHE_HOME"); xdg != nullptr && xdg[0] == '/') {
    return std::string(xdg) + "/udal/opencl";
  }
  if (const char* home = secure_getenv("HOME"); home != nullptr && home[0] == '/') {
    return std::string(home) + "/.cache/udal/opencl";
  }
  return {};
}

std::string cache_key(const CompilerIdentity& compiler, uint32_t format, const std::string& options,
                      const void* image, size_t image_size, const std::string& specialization) {
#ifdef UDAL_OPENCL_HAVE_OPENSSL
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr)
    return {};
  bool ok = EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1;
  // Each field is preceded by its length, so no two different builds hash alike.
  const auto field = [&](const void* data, size_t size) {
    const uint64_t n = size;
    ok = ok && EVP_DigestUpdate(ctx, &n, sizeof(n)) == 1;
    ok = ok && (size == 0 || EVP_DigestUpdate(ctx, data, size) == 1);
  };
  const auto text = [&](const std::string& s) { field(s.data(), s.size()); };
  text("udal-opencl-program-cache-1");
  text(compiler.platform_name);
  text(compiler.platform_version);
  text(compiler.device_name);
  text(compiler.device_version);
  text(compiler.driver_version);
  field(&format, sizeof(format));
  text(options);
  field(image, image_size);
  text(specialization);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  ok = ok && EVP_DigestFinal_ex(ctx, digest, &digest_size) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok)
    return {};
  std::string hex;
  for (unsigned int i = 0; i < digest_size; ++i)
    hex += fmt::format("{:02x}", digest[i]);
  return hex;
#else
  (void)compiler, (void)format, (void)options, (void)image, (void)image_size, (void)specialization;
  return {};
#endif
}

bool cache_load(const std::string& dir, const std::string& key, CacheEntry* out, std::string* why) {
  if (dir.empty() || !is_hex_key(key)) {
    *why = "no cache";
    return false;
  }
  const std::string path = dir + "/" + key + ".bin";
  // O_NONBLOCK: a FIFO planted under the name must not block the open.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    *why = fmt::format("{}: {}", path, std::strerror(errno));
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    *why = fmt::format("{} is not a regular file", path);
    return false;
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size < kHeaderBytes || size > kMaxCacheEntryBytes) {
    ::close(fd);
    *why = fmt::format("{} has {} bytes, outside {}..{}", path, size, kHeaderBytes,
                       kMaxCacheEntryBytes);
    return false;
  }
  std::vector<unsigned char> bytes(size);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (done != bytes.size()) {
    *why = fmt::format("{}: read {} of {} bytes", path, done, bytes.size());
    return false;
  }
  return cache_parse(bytes.data(), bytes.size(), out, why, path);
}

bool cache_parse(const unsigned char* bytes, size_t size, CacheEntry* out, std::string* why,
                 const std::string& name) {
  if (size < kHeaderBytes || size > kMaxCacheEntryBytes) {
    *why = fmt::format("{} has {} bytes, outside {}..{}", name, size, kHeaderBytes,
                       kMaxCacheEntryBytes);
    return false;
  }
  const uint64_t json_bytes = get_le(bytes + 8, 4);
  const uint64_t binary_bytes = get_le(bytes + 16, 8);
  // Each size alone is at most the file's, so the sum below cannot wrap.
  if (std::memcmp(bytes, kMagic, sizeof(kMagic)) != 0 || binary_bytes > size ||
      json_bytes > size || json_bytes + binary_bytes + kHeaderBytes != size ||
      binary_bytes == 0) {
    *why = fmt::format("{} is not a program cache entry", name);
    return false;
  }
  unsigned char sum[kDigestBytes];
  const unsigned char* binary = bytes + kHeaderBytes + json_bytes;
  if (!digest(binary, binary_bytes, sum) || std::memcmp(sum, bytes + 24, kDigestBytes) != 0) {
    *why = fmt::format("{}: the binary does not match its checksum", name);
    return false;
  }
  auto reflection = reflection_from_json(
      std::string(reinterpret_cast<const char*>(bytes) + kHeaderBytes, json_bytes));
  if (!reflection) {
    *why = fmt::format("{} holds no valid kernel reflection", name);
    return false;
  }
  out->reflection = std::move(*reflection);
  out->binary.assign(binary, binary + binary_bytes);
  return true;
}

bool cache_encode(const std::string& json, const std::vector<unsigned char>& binary,
                  std::vector<unsigned char>* out, std::string* why) {
  if (json.size() > UINT32_MAX) {
    *why = "the kernel reflection is larger than a cache entry holds";
    return false;
  }
  std::vector<unsigned char> bytes(kMagic, kMagic + sizeof(kMagic));
  put_u32(&bytes, static_cast<uint32_t>(json.size()));
  put_u32(&bytes, 0);
  put_u64(&bytes, binary.size());
  unsigned char sum[kDigestBytes];
  if (!digest(binary.data(), binary.size(), sum)) {
    *why = "hashing the binary failed";
    return false;
  }
  bytes.insert(bytes.end(), sum, sum + kDigestBytes);
  bytes.insert(bytes.end(), json.begin(), json.end());
  bytes.insert(bytes.end(), binary.begin(), binary.end());
  if (bytes.size() > kMaxCacheEntryBytes) {
    *why = fmt::format("the program's binary ({} bytes) is larger than the cache takes",
                       binary.size());
    return false;
  }
  *out = std::move(bytes);
  return true;
}

bool cache_store(const std::string& dir, const std::string& key,
                 const std::vector<unsigned char>& binary, const ProgramReflection& reflection,
                 std::string* why) {
  if (dir.empty() || !is_hex_key(key) || binary.empty()) {
    *why = "no cache";
    return false;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    *why = fmt::format("cannot create {}: {}", dir, ec.message());
    return false;
  }
  std::vector<unsigned char> bytes;
  if (!cache_encode(reflection_to_json(reflection), binary, &bytes, why))
    return false;
  std::string temp = dir + "/." + key + ".XXXXXX";
  std::vector<char> name(temp.begin(), temp.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) {
    *why = fmt::format("cannot create a file in {}: {}", dir, std::strerror(errno));
    return false;
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    done += static_cast<size_t>(n);
  }
  const bool written = done == bytes.size() && ::close(fd) == 0;
  if (done != bytes.size())
    ::close(fd);
  const std::string path = dir + "/" + key + ".bin";
  if (!written || ::rename(name.data(), path.c_str()) != 0) {
    *why = fmt::format("cannot write {}: {}", path, std::strerror(errno));
    ::unlink(name.data());
    return false;
  }
  return true;
}

} // namespace udal::opencl
