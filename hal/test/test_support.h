// Shared helpers of libudal's tests: an environment that is clean for each test and put
// back afterwards, a scratch directory for manifests, and ways to make instances.
#pragma once

#include <udal/udal.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace udal_test {

namespace fs = std::filesystem;

// The one vendor extension struct type the fake driver knows (fake_driver.cpp); it refuses
// every other chained vendor type with a message naming it.
inline constexpr udal_structure_type_t kFakeExtension =
    static_cast<udal_structure_type_t>(UDAL_STRUCTURE_TYPE_VENDOR_BEGIN + 0x42);

inline std::string stub(const std::string& name) {
  return std::string(UDAL_TEST_STUB_DIR) + "/lib" + name + ".so";
}

// Every variable libudal reads. Each test starts with none of them set (XDG_* point at
// an empty directory so that the machine's own drivers stay out) and ends with the
// process environment as it was.
class Environment {
public:
  static constexpr const char* kVariables[] = {
      "UDAL_DRIVER_FILES", "UDAL_ADD_DRIVER_FILES", "UDAL_DRIVERS_SELECT", "UDAL_DRIVERS_DISABLE",
      "UDAL_LOG",          "XDG_CONFIG_DIRS",       "XDG_DATA_DIRS"};

  Environment() {
    for (const char* name : kVariables) {
      const char* v = std::getenv(name);
      saved_[name] = v ? std::optional<std::string>(v) : std::nullopt;
      unsetenv(name);
    }
    setenv("UDAL_LOG", "none", 1);
  }
  ~Environment() {
    for (auto& [name, value] : saved_) {
      if (value)
        setenv(name.c_str(), value->c_str(), 1);
      else
        unsetenv(name.c_str());
    }
  }
  void set(const char* name, const std::string& value) { setenv(name, value.c_str(), 1); }
  void unset(const char* name) { unsetenv(name); }

private:
  std::map<std::string, std::optional<std::string>> saved_;
};

class TempDir {
public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "udal-hal-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data()) ? pattern : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

  std::string write(const std::string& relative, const std::string& content) const {
    fs::path p = fs::path(path_) / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
    return p.string();
  }

  // A manifest for |library| named |name|.
  std::string manifest(const std::string& relative, const std::string& name,
                       const std::string& library, const std::string& abi = "1.0") const {
    return write(relative, "{\"file_format_version\": \"1.0.0\", \"driver\": {\"name\": \"" + name +
                               "\", \"library_path\": \"" + library + "\", \"abi_version\": \"" +
                               abi + "\"}}");
  }

private:
  std::string path_;
};

// One driver's status, copied out so that it outlives nothing.
struct Status {
  udal_driver_state_t state;
  udal_result_t result;
  std::string name, manifest_path, library_path, reason;
  uint32_t abi_version, driver_version, device_count;
};

inline std::vector<Status> statuses(udal_instance_t instance) {
  std::vector<Status> out;
  uint32_t count = 0;
  EXPECT_EQ(udal_instance_get_driver_count(instance, &count), UDAL_SUCCESS);
  for (uint32_t i = 0; i < count; ++i) {
    udal_driver_status_t s = UDAL_DRIVER_STATUS_INIT;
    EXPECT_EQ(udal_instance_get_driver_status(instance, i, &s), UDAL_SUCCESS);
    out.push_back({s.state, s.result, s.name, s.manifest_path, s.library_path, s.reason,
                   s.abi_version, s.driver_version, s.device_count});
  }
  return out;
}

inline uint32_t device_count(udal_instance_t instance) {
  uint32_t count = 0;
  EXPECT_EQ(udal_instance_get_device_count(instance, &count), UDAL_SUCCESS);
  return count;
}

inline std::string device_name(udal_device_t device) {
  udal_device_info_t info = UDAL_DEVICE_INFO_INIT;
  EXPECT_EQ(udal_device_get_info(device, &info), UDAL_SUCCESS) << udal_last_error_message();
  return info.name;
}

// No driver_paths: the normal search.
inline const std::vector<std::string> kSearch;

// An instance released at the end of the scope.
class Instance {
public:
  Instance() = default;
  explicit Instance(const std::vector<std::string>& paths, udal_instance_flags_t flags = 0) {
    create(paths, flags);
  }
  ~Instance() {
    if (handle_)
      udal_instance_release(handle_);
  }
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  // |paths| empty: the normal search.
  void create(const std::vector<std::string>& paths, udal_instance_flags_t flags = 0) {
    std::vector<const char*> raw;
    for (const std::string& p : paths)
      raw.push_back(p.c_str());
    udal_instance_desc_t desc = UDAL_INSTANCE_DESC_INIT;
    desc.flags = flags;
    desc.driver_paths = raw.empty() ? nullptr : raw.data();
    desc.driver_path_count = static_cast<uint32_t>(raw.size());
    ASSERT_EQ(udal_instance_create(&desc, &handle_), UDAL_SUCCESS) << udal_last_error_message();
    ASSERT_NE(handle_, nullptr);
  }
  udal_instance_t get() const { return handle_; }
  udal_device_t device(uint32_t index) const {
    udal_device_t d = nullptr;
    EXPECT_EQ(udal_instance_get_device(handle_, index, &d), UDAL_SUCCESS)
        << udal_last_error_message();
    return d;
  }

private:
  udal_instance_t handle_ = nullptr;
};

// Asserts |call| returned |expected| and left a message that mentions |needle|.
#define EXPECT_FAILS_WITH(call, expected, needle)                                                  \
  do {                                                                                             \
    udal_result_t udal_test_r = (call);                                                            \
    EXPECT_EQ(udal_test_r, (expected))                                                             \
        << udal_result_name(udal_test_r) << ": " << udal_last_error_message();                     \
    EXPECT_NE(std::string(udal_last_error_message()), "");                                         \
    EXPECT_NE(std::string(udal_last_error_message()).find(needle), std::string::npos)              \
        << "message '" << udal_last_error_message() << "' does not mention '" << (needle) << "'";  \
  } while (0)

} // namespace udal_test
