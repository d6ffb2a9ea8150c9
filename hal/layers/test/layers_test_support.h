// What the layer tests share: the layer variables set for one test and put back after it,
// stderr captured to read the findings libudal logs, the fake driver's pieces, and the
// CPU driver with a module of host kernels.
#pragma once

#include "test_support.h" // hal/test: Environment, Instance, stub(), EXPECT_FAILS_WITH

#include <udal/udal.h>
#include <udal/udal_driver.h> // the table, to show which entries dispatch reaches

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace layers_test {

using udal_test::stub;
using udal_test::TempDir;

// The variables of the layers, which udal_test::Environment does not know, cleared for the
// test; UDAL_LOG at |log| so that findings reach stderr.
class LayerEnvironment {
public:
  explicit LayerEnvironment(const char* log = "warning") {
    for (const char* name : {"UDAL_VALIDATION", "UDAL_TRACE"}) {
      const char* v = std::getenv(name);
      saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
      unsetenv(name);
    }
    base_.set("UDAL_LOG", log);
  }
  ~LayerEnvironment() {
    for (auto& [name, value] : saved_) {
      if (value)
        setenv(name.c_str(), value->c_str(), 1);
      else
        unsetenv(name.c_str());
    }
  }
  void set(const char* name, const std::string& value) { base_.set(name, value); }

private:
  udal_test::Environment base_;
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// stderr, from construction to text().
class StderrCapture {
public:
  StderrCapture() {
    std::fflush(stderr);
    saved_ = dup(2);
    std::string pattern = (udal_test::fs::temp_directory_path() / "udal-layers-stderr-XXXXXX").string();
    int fd = mkstemp(pattern.data());
    path_ = pattern;
    dup2(fd, 2);
    close(fd);
  }
  ~StderrCapture() {
    restore();
    std::remove(path_.c_str());
  }
  std::string text() {
    restore();
    std::ifstream in(path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

private:
  void restore() {
    if (saved_ < 0)
      return;
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
  }
  int saved_ = -1;
  std::string path_;
};

// Objects a test leaks on purpose (to see them reported) are the fake driver's; LeakSanitizer
// is told so.
#if defined(__SANITIZE_ADDRESS__)
} // namespace layers_test
#include <sanitizer/lsan_interface.h>
namespace layers_test {
struct LeaksOnPurpose {
  LeaksOnPurpose() { __lsan_disable(); }
  ~LeaksOnPurpose() { __lsan_enable(); }
  LeaksOnPurpose(const LeaksOnPurpose&) = delete;
  LeaksOnPurpose& operator=(const LeaksOnPurpose&) = delete;
};
#else
struct LeaksOnPurpose {};
#endif

inline bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

inline udal_buffer_t make_buffer(udal_device_t device, uint64_t size,
                                 udal_buffer_kind_t kind = UDAL_BUFFER_KIND_DEVICE) {
  udal_buffer_desc_t desc = UDAL_BUFFER_DESC_INIT;
  desc.size = size;
  desc.kind = kind;
  udal_buffer_t b = nullptr;
  EXPECT_EQ(udal_buffer_create(device, &desc, &b), UDAL_SUCCESS) << udal_last_error_message();
  return b;
}

inline udal_stream_t make_stream(udal_device_t device) {
  udal_stream_t s = nullptr;
  EXPECT_EQ(udal_stream_create(device, nullptr, &s), UDAL_SUCCESS) << udal_last_error_message();
  return s;
}

inline udal_event_t make_event(udal_device_t device, udal_event_flags_t flags = 0) {
  udal_event_desc_t desc = UDAL_EVENT_DESC_INIT;
  desc.flags = flags;
  udal_event_t e = nullptr;
  EXPECT_EQ(udal_event_create(device, &desc, &e), UDAL_SUCCESS) << udal_last_error_message();
  return e;
}

// A module of |path| (HOST_NATIVE); the fake driver takes any bytes.
inline udal_module_t make_module(udal_device_t device, const std::string& path) {
  udal_module_image_t image = UDAL_MODULE_IMAGE_INIT;
  image.format = UDAL_MODULE_FORMAT_HOST_NATIVE;
  image.path = path.c_str();
  udal_module_desc_t desc = UDAL_MODULE_DESC_INIT;
  desc.images = &image;
  desc.image_count = 1;
  udal_module_t m = nullptr;
  EXPECT_EQ(udal_module_create(device, &desc, &m), UDAL_SUCCESS) << udal_last_error_message();
  return m;
}

inline udal_kernel_t make_kernel(udal_module_t module, const char* name) {
  udal_kernel_t k = nullptr;
  EXPECT_EQ(udal_kernel_create(module, name, &k), UDAL_SUCCESS) << udal_last_error_message();
  return k;
}

} // namespace layers_test
