#include "discovery.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <dlfcn.h>
#include <filesystem>
#include <set>
#include <system_error>

namespace udal::hal {
namespace {

namespace fs = std::filesystem;

// A driver directory holds a few manifests; a huge one is a mistake, not a reason to read
// for ever.
constexpr size_t kMaxManifestsPerDirectory = 1024;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The directory libudal itself was loaded from, found through one of its own symbols.
std::string libudal_directory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<const void*>(&libudal_directory), &info) == 0 ||
      info.dli_fname == nullptr)
    return {};
  char resolved[PATH_MAX];
  if (realpath(info.dli_fname, resolved) == nullptr)
    return {};
  return fs::path(resolved).parent_path().string();
}

class Collector {
public:
  explicit Collector(const Logger& logger) : logger_(logger) {}

  // An entry of a list: a directory (its *.json, sorted by name) or a file. |named| says
  // the user named it, so that a missing one is reported instead of skipped. Whatever is
  // not a directory is listed as a file: reading it says what is wrong (a FIFO, a device,
  // a symlink loop), and nothing is opened here.
  void add_entry(const std::string& entry, bool named, const char* origin) {
    std::error_code ec;
    fs::file_status status = fs::status(entry, ec);
    bool absent = ec ? ec == std::errc::no_such_file_or_directory ||
                           ec == std::errc::not_a_directory
                     : !fs::exists(status);
    if (absent) {
      if (named) {
        logger_.log(UDAL_LOG_LEVEL_WARNING, "{} names '{}', which does not exist", origin, entry);
        add_file(entry, Candidate::Kind::missing);
      } else {
        logger_.log(UDAL_LOG_LEVEL_DEBUG, "no driver directory '{}'", entry);
      }
      return;
    }
    if (!ec && fs::is_directory(status)) {
      add_directory(entry, origin);
      return;
    }
    if (ec)
      logger_.log(UDAL_LOG_LEVEL_WARNING, "{} names '{}': {}", origin, entry, ec.message());
    if (!named) {
      logger_.log(UDAL_LOG_LEVEL_DEBUG, "'{}' ({}) is not a directory; skipped", entry, origin);
      return;
    }
    if (ends_with(entry, ".json")) {
      add_file(entry, Candidate::Kind::manifest);
    } else {
      // dlopen searches the library path for a name without a '/': "./" makes it load the
      // file that was found (and checked) here.
      add_file(entry.find('/') == std::string::npos ? "./" + entry : entry,
               Candidate::Kind::library);
    }
  }

  // A library named without a '/': left to dlopen's own search, so it cannot be resolved
  // or deduplicated here.
  void add_bare_library(const std::string& name) {
    candidates_.push_back({Candidate::Kind::library, name});
  }

  // Every *.json entry but subdirectories, sorted by name, at most kMaxManifestsPerDirectory.
  // Entries that are not regular files are listed too: reading them says what is wrong.
  void add_directory(const std::string& directory, const char* origin) {
    std::vector<std::string> files;
    std::error_code ec;
    bool capped = false;
    for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
      const fs::path& p = it->path();
      if (p.extension() != ".json")
        continue;
      std::error_code type_ec;
      if (fs::is_directory(it->status(type_ec)) && !type_ec)
        continue;
      if (files.size() == kMaxManifestsPerDirectory) {
        capped = true;
        break;
      }
      files.push_back(p.string());
    }
    if (ec)
      logger_.log(UDAL_LOG_LEVEL_WARNING, "cannot list driver directory '{}' ({}): {}", directory,
                  origin, ec.message());
    std::sort(files.begin(), files.end());
    if (capped)
      logger_.log(UDAL_LOG_LEVEL_WARNING,
                  "driver directory '{}' ({}) holds more than {} manifests; only the first {} "
                  "listed are read",
                  directory, origin, kMaxManifestsPerDirectory, kMaxManifestsPerDirectory);
    for (const std::string& f : files)
      add_file(f, Candidate::Kind::manifest);
  }

  std::vector<Candidate> take() { return std::move(candidates_); }

private:
  void add_file(const std::string& path, Candidate::Kind kind) {
    char resolved[PATH_MAX];
    std::string key = realpath(path.c_str(), resolved) ? std::string(resolved) : path;
    if (!seen_.insert(key).second) {
      logger_.log(UDAL_LOG_LEVEL_DEBUG, "'{}' was already found; skipped", path);
      return;
    }
    candidates_.push_back({kind, path});
  }

  const Logger& logger_;
  std::set<std::string> seen_;
  std::vector<Candidate> candidates_;
};

} // namespace

std::vector<std::string> split_list(const std::string& text, char separator) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(separator, start);
    if (end == std::string::npos)
      end = text.size();
    if (end > start)
      out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string driver_name_from_library(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  size_t so = name.find(".so");
  if (so != std::string::npos)
    name.resize(so);
  for (const char* prefix : {"libudal_driver_", "udal_driver_", "lib"}) {
    std::string p(prefix);
    if (name.size() > p.size() && name.compare(0, p.size(), p) == 0) {
      name.erase(0, p.size());
      break;
    }
  }
  return name.empty() ? path : name;
}

std::vector<std::string> absolute_entries(const std::string& list, const char* variable,
                                          const Logger* logger) {
  std::vector<std::string> out;
  for (const std::string& d : split_list(list, ':')) {
    if (d.front() == '/') {
      out.push_back(d);
    } else if (logger != nullptr) {
      logger->log(UDAL_LOG_LEVEL_WARNING,
                  "{} entry '{}' is ignored: the XDG Base Directory spec allows only absolute "
                  "paths",
                  variable, d);
    }
  }
  return out;
}

std::vector<std::string> standard_directories(const Environment& environment,
                                              const Logger* logger) {
  // XDG: unset or empty means the default, and a relative entry is invalid and ignored; a
  // variable with no absolute entry at all counts as unset.
  auto xdg = [&](const char* variable, const char* fallback) {
    std::vector<std::string> dirs;
    if (auto value = environment.plain_variable(variable))
      dirs = absolute_entries(*value, variable, logger);
    return dirs.empty() ? split_list(fallback, ':') : dirs;
  };
  std::vector<std::string> dirs;
  const std::string suffix = "/udal/drivers.d";
  for (const std::string& d : xdg("XDG_CONFIG_DIRS", "/etc/xdg"))
    dirs.push_back(d + suffix);
  dirs.push_back("/etc" + suffix);
  for (const std::string& d : xdg("XDG_DATA_DIRS", "/usr/local/share:/usr/share"))
    dirs.push_back(d + suffix);
  std::string own = libudal_directory();
  if (!own.empty())
    dirs.push_back((fs::path(own) / UDAL_RELATIVE_MANIFEST_DIR).lexically_normal().string());
  dirs.push_back(UDAL_INSTALL_MANIFEST_DIR_FULL);
  return dirs;
}

std::vector<Candidate> find_drivers(const std::vector<std::string>& explicit_paths,
                                    const Environment& environment, const Logger& logger) {
  Collector collector(logger);
  if (!explicit_paths.empty()) {
    for (const std::string& p : explicit_paths) {
      if (p.find('/') == std::string::npos && !ends_with(p, ".json"))
        collector.add_bare_library(p);
      else
        collector.add_entry(p, /*named=*/true, "driver_paths");
    }
    return collector.take();
  }
  if (auto files = environment.override_variable("UDAL_DRIVER_FILES", logger)) {
    logger.log(UDAL_LOG_LEVEL_INFO, "UDAL_DRIVER_FILES='{}' replaces the driver search", *files);
    for (const std::string& p : split_list(*files, ':'))
      collector.add_entry(p, /*named=*/true, "UDAL_DRIVER_FILES");
    return collector.take();
  }
  if (auto added = environment.override_variable("UDAL_ADD_DRIVER_FILES", logger)) {
    for (const std::string& p : split_list(*added, ':'))
      collector.add_entry(p, /*named=*/true, "UDAL_ADD_DRIVER_FILES");
  }
  for (const std::string& d : standard_directories(environment, &logger))
    collector.add_entry(d, /*named=*/false, "standard search");
  return collector.take();
}

} // namespace udal::hal
