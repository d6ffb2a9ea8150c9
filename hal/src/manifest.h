// A driver manifest: the JSON file that names a driver and where its library is.
//   {"file_format_version": "1.0.0",
//    "driver": {"name": "cpu", "library_path": "libudal_driver_cpu.so", "abi_version": "1.0"}}
#pragma once

#include <udal/udal.h>

#include <cstdint>
#include <string>

namespace udal::hal {

struct Manifest {
  std::string name;
  // Resolved: relative paths joined to the manifest's directory; a bare file name (no '/')
  // is kept as is for dlopen's own search.
  std::string library_path;
  uint32_t abi_version = 0; // UDAL_MAKE_VERSION of driver.abi_version
};

struct ManifestResult {
  bool ok = false;
  Manifest manifest;
  udal_result_t result = UDAL_SUCCESS; // the code the driver status carries when !ok
  std::string reason;                  // why it was refused, when !ok
};

// Reads and checks the manifest at |path|: a regular file of at most
// file_check::kMaxManifestBytes (1 MiB), checked before it is opened and opened without
// blocking, so a FIFO, a device or a directory is refused at once. Never throws.
ManifestResult read_manifest(const std::string& path) noexcept;

// Checks the manifest text |text| read from |path| (which only resolves a relative
// library_path): strict JSON (no duplicate keys, nesting at most 32 deep), the fields of
// format 1.x, no NUL in any string, a printable driver name shorter than
// UDAL_MAX_DRIVER_NAME. Never throws.
ManifestResult parse_manifest(const std::string& path, const std::string& text) noexcept;

// "1.2" or "1.2.3" into UDAL_MAKE_VERSION(1, 2); false when it is not such a string.
bool parse_version(const std::string& text, uint32_t& out_version);

// The library path as dlopen should see it: |library_path| relative to |manifest_path|'s
// directory when it contains a '/' and is not absolute.
std::string resolve_library_path(const std::string& manifest_path, const std::string& library_path);

} // namespace udal::hal
