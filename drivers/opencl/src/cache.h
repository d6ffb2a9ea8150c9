// cache.h — the program cache: a program built once (from OpenCL C or SPIR-V) is kept as the
// platform's binary plus the driver's reflection of its kernels, so the next run loads it
// instead of compiling. One file per program in $XDG_CACHE_HOME/udal/opencl (or
// ~/.cache/udal/opencl), named by the sha256 of everything that went into the build.
#ifndef UDAL_OPENCL_CACHE_H_
#define UDAL_OPENCL_CACHE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "reflection.h"

namespace udal::opencl {

// The directory the cache uses: UDAL_OPENCL_CACHE_DIR, else $XDG_CACHE_HOME/udal/opencl,
// else $HOME/.cache/udal/opencl; "" when UDAL_OPENCL_CACHE=0, or when the process runs
// setuid/setgid (secure_getenv gives nothing) and no directory is known.
std::string cache_directory();

// Who compiles: the platform's name and version, the device's name and version and the
// driver version, as OpenCL reports them.
struct CompilerIdentity {
  std::string platform_name, platform_version, device_name, device_version, driver_version;
};

// The key of one build: sha256 (hex) over the compiler stack's identity, the format, the
// build options, the image and the specialization constants. "" when hashing failed.
std::string cache_key(const CompilerIdentity& compiler, uint32_t format, const std::string& options,
                      const void* image, size_t image_size, const std::string& specialization);

struct CacheEntry {
  std::vector<unsigned char> binary;
  ProgramReflection reflection;
};

// Loads the entry |key| of |dir|. False (with |*why|) when there is none, or when the file
// is not a regular file, is larger than the cache takes, or is not a cache entry.
bool cache_load(const std::string& dir, const std::string& key, CacheEntry* out, std::string* why);

// Parses the |size| bytes of a cache file (read from outside: anything may be in them) into
// |*out|. False with |*why| (naming the file as |name|) when they are not a cache entry: a
// wrong header, sizes that do not add up, a binary that does not match its checksum, or
// reflection that is not what cache_store writes.
bool cache_parse(const unsigned char* bytes, size_t size, CacheEntry* out, std::string* why,
                 const std::string& name);

// Stores an entry (write to a temporary file, then rename: readers never see half a file).
// False with |*why| on failure; the cache is an optimisation, so callers go on.
bool cache_store(const std::string& dir, const std::string& key,
                 const std::vector<unsigned char>& binary, const ProgramReflection& reflection,
                 std::string* why);

// The bytes of a cache file holding |binary| and the reflection text |json| (what
// cache_store writes; also how tests and the fuzz target frame their inputs). False with
// |*why| when hashing fails or the entry would be larger than the cache takes.
bool cache_encode(const std::string& json, const std::vector<unsigned char>& binary,
                  std::vector<unsigned char>* out, std::string* why);

// The largest cache file read back.
inline constexpr size_t kMaxCacheEntryBytes = size_t{256} << 20;

} // namespace udal::opencl

#endif // UDAL_OPENCL_CACHE_H_
