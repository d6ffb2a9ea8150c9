// libFuzzer target: the ELF checks libudal makes before dlopen (udal/sdk/file_check.h), on
// images in memory and through a file descriptor, for this host's target and for a 32-bit
// one (so both header layouts are parsed). The two readers must agree on every input.
#include "udal/sdk/file_check.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace fc = udal::file_check;

#define CHECK(condition)                                                                           \
  do {                                                                                             \
    if (!(condition))                                                                              \
      __builtin_trap();                                                                            \
  } while (0)

namespace {

int MemoryFile() {
  static const int fd = [] {
    int made = memfd_create("udal-fuzz-elf", MFD_CLOEXEC);
    if (made < 0)
      std::abort();
    return made;
  }();
  return fd;
}

void CheckProblem(const fc::Problem& p) {
  CHECK((p.kind == fc::Problem::Kind::none) == p.text.empty());
  CHECK(p.kind != fc::Problem::Kind::missing); // nothing is looked up by name here
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fc::ElfTarget host = fc::host_elf_target();
  const fc::ElfTarget targets[] = {
      host,
      {ELFCLASS32, host.data, EM_386},
      {host.elf_class, host.data, 0}, // any machine
  };
  fc::Problem in_memory[3];
  for (int i = 0; i < 3; ++i) {
    in_memory[i] = fc::check_elf_bytes(data, size, targets[i]);
    CheckProblem(in_memory[i]);
  }

  int fd = MemoryFile();
  CHECK(ftruncate(fd, 0) == 0);
  size_t written = 0;
  while (written < size) {
    ssize_t n = pwrite(fd, data + written, size - written, static_cast<off_t>(written));
    CHECK(n > 0);
    written += static_cast<size_t>(n);
  }
  fc::Problem through_fd = fc::check_elf_fd(fd, size, targets[0]);
  CHECK(through_fd.kind == in_memory[0].kind && through_fd.text == in_memory[0].text);
  return 0;
}
