#include "manifest.h"

#include "udal/sdk/file_check.h"

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <vector>

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
  // A NUL would cut the string where C reads it: "cpu\u0000x" would be a second "cpu", a
  // library path would name another file.
  if (size_t nul = out.find('\0'); nul != std::string::npos) {
    error = fmt::format("manifest field \"{}\" contains a NUL character (\\u0000) at byte {}",
                        display, nul);
    return false;
  }
  return true;
}

// A driver name is shown in every message and device info (UDAL_MAX_DRIVER_NAME bytes with
// its NUL) and matched by UDAL_DRIVERS_SELECT/DISABLE: printable, and short enough that two
// names never print alike.
bool check_name(const std::string& name, std::string& error) {
  if (name.size() >= UDAL_MAX_DRIVER_NAME) {
    error = fmt::format("driver.name is {} bytes long; a driver name has at most {}", name.size(),
                        UDAL_MAX_DRIVER_NAME - 1);
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (c < 0x20 || c == 0x7f) {
      error = fmt::format("driver.name contains the control character U+{:04X} at byte {}", c, i);
      return false;
    }
  }
  return true;
}

// |text| for a message: control characters as \uXXXX, at most 64 bytes.
std::string printable(const std::string& text) {
  std::string out;
  size_t i = 0;
  for (; i < text.size() && out.size() < 64; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\u{:04x}", c);
    else
      out += static_cast<char>(c);
  }
  return i < text.size() ? out + "..." : out;
}

// Thrown by the parser callback to stop at a duplicate key or too deep a nesting.
struct Refusal {
  std::string reason;
};

// Manifests are flat; anything deeper than this is not one.
constexpr size_t kMaxDepth = 32;

// Parses |text| as JSON, refusing duplicate keys in any object (the JSON RFC leaves them
// undefined; nlohmann keeps the last, another reader the first) and nesting past kMaxDepth.
json parse_strict(const std::string& text) {
  std::vector<std::set<std::string>> keys; // per open object (arrays: an empty entry)
  auto callback = [&keys](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
    case json::parse_event_t::object_start:
    case json::parse_event_t::array_start:
      if (static_cast<size_t>(depth) >= kMaxDepth)
        throw Refusal{fmt::format("manifest nests objects and arrays deeper than {} levels",
                                  kMaxDepth)};
      keys.emplace_back();
      break;
    case json::parse_event_t::object_end:
    case json::parse_event_t::array_end:
      if (!keys.empty())
        keys.pop_back();
      break;
    case json::parse_event_t::key: {
      if (keys.empty())
        break;
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!keys.back().insert(key).second)
        throw Refusal{fmt::format("manifest has the key \"{}\" twice in one object (at "
                                  "depth {})",
                                  printable(key), depth)};
      break;
    }
    case json::parse_event_t::value:
      break;
    }
    return true;
  };
  return json::parse(text, callback);
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
    std::string text;
    if (file_check::Problem p =
            file_check::read_regular_file(path.c_str(), file_check::kMaxManifestBytes, text))
      return refuse(p.kind == file_check::Problem::Kind::missing ? UDAL_ERROR_NOT_FOUND
                                                                  : UDAL_ERROR_INVALID_ARGUMENT,
                    fmt::format("cannot read the manifest: {}", p.text));
    return parse_manifest(path, text);
  } catch (const std::bad_alloc&) {
    return refuse(UDAL_ERROR_OUT_OF_HOST_MEMORY, "out of host memory reading the manifest");
  } catch (const std::exception& e) {
    return refuse(UDAL_ERROR_INTERNAL, fmt::format("reading the manifest failed: {}", e.what()));
  }
}

ManifestResult parse_manifest(const std::string& path, const std::string& text) noexcept {
  try {
    if (text.size() > file_check::kMaxManifestBytes)
      return refuse(UDAL_ERROR_INVALID_ARGUMENT,
                    fmt::format("manifest is {} bytes; a manifest has at most {}", text.size(),
                                file_check::kMaxManifestBytes));
    // The JSON parser takes a NUL byte for the end of the input: "{...}\0anything" would
    // parse as its first part. A JSON text has no raw NUL, so any is refused.
    if (size_t nul = text.find('\0'); nul != std::string::npos)
      return refuse(UDAL_ERROR_INVALID_ARGUMENT,
                    fmt::format("manifest is not valid JSON: it holds a NUL byte at offset {}", nul));
    json doc;
    try {
      doc = parse_strict(text);
    } catch (const json::parse_error& e) {
      return refuse(UDAL_ERROR_INVALID_ARGUMENT,
                    fmt::format("manifest is not valid JSON: {}", e.what()));
    } catch (const Refusal& r) {
      return refuse(UDAL_ERROR_INVALID_ARGUMENT, r.reason);
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
        !string_field(*driver, "abi_version", "driver.abi_version", abi_text, error) ||
        !check_name(r.manifest.name, error))
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
