#include "manifest.h"

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace udal::hal {
namespace {

using json = nlohmann::json;

ManifestResult refuse(udal_result_t result, std::string reason) {
  ManifestResult r;
  r.result = result;
  r.reason = std::move(reason);
  return r;
}

// Reads |key| of |object| as a non-empty string, or says what is wrong with it.
bool string_field(const json& object, const char* key, const char* display, std::string& out,
                  std::string& error) {
  auto it = object.find(key);
  if (it == object.end()) {
    error = fmt::format("manifest has no \"{}\"", display);
    return false;
  }
  if (!it->is_string()) {
    error = fmt::format("manifest field \"{}\" is a {}, not a string", display, it->type_name());
    return false;
  }
  out = it->get<std::string>();
  if (out.empty()) {
    error = fmt::format("manifest field \"{}\" is empty", display);
    return false;
  }
  return true;
}

} // namespace

bool parse_version(const std::string& text, uint32_t& out_version) {
  unsigned long parts[3] = {0, 0, 0};
  size_t count = 0;
  size_t pos = 0;
  while (count < 3) {
    size_t start = pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
      ++pos;
    if (pos == start || pos - start > 5)
      return false;
    parts[count++] = std::stoul(text.substr(start, pos - start));
    if (pos == text.size())
      break;
    if (text[pos] != '.')
      return false;
    ++pos;
  }
  if (pos != text.size() || count < 2 || parts[0] > 0xffff || parts[1] > 0xffff)
    return false;
  out_version = UDAL_MAKE_VERSION(parts[0], parts[1]);
  return true;
}

std::string resolve_library_path(const std::string& manifest_path,
                                 const std::string& library_path) {
  if (library_path.find('/') == std::string::npos || library_path.front() == '/')
    return library_path;
  std::filesystem::path dir = std::filesystem::path(manifest_path).parent_path();
  if (dir.empty())
    return library_path;
  std::filesystem::path joined = dir / library_path;
  // Show "/usr/lib/udal/libx.so", not ".../drivers.d/../../lib/udal/libx.so": resolve the
  // directories as the kernel would (realpath, so ".." after a symlink stays right) but
  // keep the file name, which is often itself a versioned symlink worth seeing.
  char resolved[PATH_MAX];
  if (realpath(joined.parent_path().c_str(), resolved) != nullptr)
    return (std::filesystem::path(resolved) / joined.filename()).string();
  return joined.string();
}

ManifestResult read_manifest(const std::string& path) noexcept {
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in)
      return refuse(UDAL_ERROR_NOT_FOUND,
                    fmt::format("cannot open manifest: {}", std::strerror(errno)));
    std::stringstream text;
    text << in.rdbuf();

    json doc;
    try {
      doc = json::parse(text.str());
    } catch (const json::parse_error& e) {
      return refuse(UDAL_ERROR_INVALID_ARGUMENT,
                    fmt::format("manifest is not valid JSON: {}", e.what()));
    }
    if (!doc.is_object())
      return refuse(UDAL_ERROR_INVALID_ARGUMENT,
                    fmt::format("manifest is a JSON {}, not an object", doc.type_name()));

    std::string error;
    std::string format_text;
    if (!string_field(doc, "file_format_version", "file_format_version", format_text, error))
      return refuse(UDAL_ERROR_INVALID_ARGUMENT, error);
    uint32_t format_version = 0;
    if (!parse_version(format_text, format_version))
      return refuse(
          UDAL_ERROR_INVALID_ARGUMENT,
          fmt::format("file_format_version \"{}\" is not a version (\"1.0.0\")", format_text));
    if (UDAL_VERSION_MAJOR(format_version) != 1)
      return refuse(UDAL_ERROR_INCOMPATIBLE_DRIVER,
                    fmt::format("file_format_version {} is not supported; this libudal reads "
                                "manifest format 1.x",
                                format_text));

    auto driver = doc.find("driver");
    if (driver == doc.end())
      return refuse(UDAL_ERROR_INVALID_ARGUMENT, "manifest has no \"driver\" object");
    if (!driver->is_object())
      return refuse(
          UDAL_ERROR_INVALID_ARGUMENT,
          fmt::format("manifest field \"driver\" is a {}, not an object", driver->type_name()));

    ManifestResult r;
    std::string library;
    std::string abi_text;
    if (!string_field(*driver, "name", "driver.name", r.manifest.name, error) ||
        !string_field(*driver, "library_path", "driver.library_path", library, error) ||
        !string_field(*driver, "abi_version", "driver.abi_version", abi_text, error))
      return refuse(UDAL_ERROR_INVALID_ARGUMENT, error);
    if (!parse_version(abi_text, r.manifest.abi_version))
      return refuse(UDAL_ERROR_INVALID_ARGUMENT,
                    fmt::format("driver.abi_version \"{}\" is not a version (\"1.0\")", abi_text));
    if (UDAL_VERSION_MAJOR(r.manifest.abi_version) != UDAL_VERSION_MAJOR(UDAL_ABI_VERSION)) {
      r.result = UDAL_ERROR_INCOMPATIBLE_DRIVER;
      r.reason =
          fmt::format("manifest states UDAL ABI {}; this libudal implements {}.{}", abi_text,
                      UDAL_VERSION_MAJOR(UDAL_ABI_VERSION), UDAL_VERSION_MINOR(UDAL_ABI_VERSION));
      // The name and library are still worth showing in the status.
      r.manifest.library_path = resolve_library_path(path, library);
      return r;
    }
    r.manifest.library_path = resolve_library_path(path, library);
    r.ok = true;
    return r;
  } catch (const std::bad_alloc&) {
    return refuse(UDAL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory reading the manifest");
  } catch (const std::exception& e) {
    return refuse(UDAL_ERROR_INTERNAL, fmt::format("reading the manifest failed: {}", e.what()));
  }
}

} // namespace udal::hal
