// What fuzz_package and its seed generator share: the profile and key the fuzzer verifies
// against, the library it "finds", and the text form of a package (one input = one
// package): every file as a line "@@@ <name>" followed by its bytes.
#pragma once

#include "report.h"

#include <map>
#include <string>

namespace udal_fuzz {

inline const cts::Profile& Profile() {
  static const cts::Profile profile{
      "1.0.0",
      {"Devices/BufferTest.Create/DEVICE", "Devices/BufferTest.Map/DEVICE",
       "Devices/LaunchTest.Saxpy/DEVICE", "Standalone.Once"}};
  return profile;
}

inline const cts::Ed25519Key& Key() {
  static const cts::Ed25519Key key = [] {
    std::string error;
    return *cts::Ed25519Key::FromRawPrivate(std::string(32, '\x5a'), &error);
  }();
  return key;
}

inline constexpr const char* kLibraryPath = "/fuzz/libudal_driver_fuzz.so";
inline const std::string& LibraryBytes() {
  static const std::string bytes = "the fuzzed driver library";
  return bytes;
}

inline cts::LibraryHash FindLibrary(const std::string& path) {
  cts::LibraryHash h;
  h.where = path;
  if (path == kLibraryPath) {
    h.present = true;
    h.sha256 = cts::Sha256(LibraryBytes());
  } else {
    h.why = "no such file";
  }
  return h;
}

inline const std::string kSeparator = "@@@ ";

inline std::map<std::string, std::string> Split(const std::string& text) {
  std::map<std::string, std::string> files;
  size_t at = text.rfind(kSeparator, 0) == 0 ? 0 : text.find("\n" + kSeparator);
  if (at == std::string::npos) return files;
  if (at != 0) ++at;
  while (at < text.size()) {
    size_t name_start = at + kSeparator.size();
    size_t name_end = text.find('\n', name_start);
    if (name_end == std::string::npos) break;
    size_t next = text.find("\n" + kSeparator, name_end);
    size_t content_end = next == std::string::npos ? text.size() : next + 1;
    files[text.substr(name_start, name_end - name_start)] =
        text.substr(name_end + 1, content_end - name_end - 1);
    if (next == std::string::npos) break;
    at = next + 1;
  }
  return files;
}

inline std::string Join(const std::map<std::string, std::string>& files) {
  std::string text;
  for (const auto& [name, bytes] : files) text += kSeparator + name + "\n" + bytes;
  return text;
}

}  // namespace udal_fuzz
