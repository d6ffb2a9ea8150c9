// Checks on the files UDAL reads before it reads or maps them: a regular file of bounded
// size (never a FIFO, a device, a directory or a symlink loop, so nothing blocks or reads
// for ever), opened without blocking and re-checked on the opened descriptor; and, for
// shared objects about to be dlopen'ed, an ELF header of this process's class, byte order
// and machine whose program and section headers and segments all lie inside the file
// (dlopen maps what the headers name: a segment past the end of a truncated file is a
// SIGBUS at first touch instead of an error).
//
// Part of the SDK (header-only, free of libudal's own types) because libudal and drivers
// make the same checks: libudal on manifests and driver libraries, the CPU driver on its
// HOST_NATIVE images (check_elf_bytes for an image in memory, check_shared_object_file for
// one given by path), udal-cts on package files. A vendor driver that loads code from files
// should use it too. It depends on nothing but the C and C++ libraries and <elf.h>.
#pragma once

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

namespace udal::file_check {

// A manifest is a few hundred bytes; 1 MiB leaves room for comments and vendor fields.
inline constexpr uint64_t kMaxManifestBytes = uint64_t{1} << 20;
// The largest driver library or host module UDAL maps (real ones are well under 1 GiB).
inline constexpr uint64_t kMaxLibraryBytes = uint64_t{1} << 30;

// What is wrong with a file, and how a caller should classify it.
struct Problem {
  enum class Kind {
    none,     // the file passed
    missing,  // it does not exist (ENOENT/ENOTDIR)
    unusable, // not a regular file, too large, unreadable, or a corrupt ELF
    foreign,  // an ELF of another class, byte order or machine
  };
  Kind kind = Kind::none;
  std::string text; // "<check>: <what was found>", e.g. "ELF machine: AArch64 (183), ..."

  explicit operator bool() const { return kind != Kind::none; }
};

inline Problem problem(Problem::Kind kind, std::string text) { return Problem{kind, std::move(text)}; }

// "a FIFO", "a directory", ... for a stat mode.
inline const char* file_type_name(mode_t mode) {
  switch (mode & S_IFMT) {
  case S_IFREG: return "a regular file";
  case S_IFDIR: return "a directory";
  case S_IFIFO: return "a FIFO";
  case S_IFCHR: return "a character device";
  case S_IFBLK: return "a block device";
  case S_IFSOCK: return "a socket";
  case S_IFLNK: return "a symbolic link";
  default: return "not a regular file";
  }
}

// strerror, with the cases a user misreads spelled out.
inline std::string errno_text(int error) {
  if (error == ELOOP)
    return "too many levels of symbolic links (a symlink loop?)";
  return std::strerror(error);
}

// An owned file descriptor.
class FileDescriptor {
public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() { reset(); }
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

private:
  int fd_ = -1;
};

struct OpenedFile {
  FileDescriptor fd;
  uint64_t size = 0;
};

namespace detail {

inline Problem stat_problem(int error, const char* what) {
  Problem::Kind kind =
      error == ENOENT || error == ENOTDIR ? Problem::Kind::missing : Problem::Kind::unusable;
  return problem(kind, std::string(what) + ": " + errno_text(error));
}

inline Problem type_and_size(const struct stat& st, uint64_t max_bytes) {
  if (!S_ISREG(st.st_mode))
    return problem(Problem::Kind::unusable,
                   std::string("file type: ") + file_type_name(st.st_mode) + ", not a regular file");
  if (st.st_size < 0 || static_cast<uint64_t>(st.st_size) > max_bytes)
    return problem(Problem::Kind::unusable, "size: " + std::to_string(st.st_size) +
                                                " bytes, more than the " +
                                                std::to_string(max_bytes) + " allowed");
  return {};
}

} // namespace detail

// Opens |path| (relative to |dirfd| when not absolute) for reading when it is a regular file
// of at most |max_bytes|. The type and size are checked with stat before the open (opening a
// FIFO or a device can block or have effects), the open does not block (O_NONBLOCK) nor
// follow a final symlink when |no_follow|, and the opened descriptor is checked again with
// fstat: it must be the same regular file.
inline Problem open_regular_file(const char* path, uint64_t max_bytes, OpenedFile& out,
                                 bool no_follow = false, int dirfd = AT_FDCWD) {
  out = OpenedFile{};
  struct stat before {};
  if (::fstatat(dirfd, path, &before, no_follow ? AT_SYMLINK_NOFOLLOW : 0) != 0)
    return detail::stat_problem(errno, "stat");
  if (Problem p = detail::type_and_size(before, max_bytes))
    return p;
  int flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | (no_follow ? O_NOFOLLOW : 0);
  int fd;
  do {
    fd = ::openat(dirfd, path, flags);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return detail::stat_problem(errno, "open");
  FileDescriptor owned(fd);
  struct stat after {};
  if (::fstat(fd, &after) != 0)
    return detail::stat_problem(errno, "fstat");
  if (Problem p = detail::type_and_size(after, max_bytes))
    return p;
  if (after.st_dev != before.st_dev || after.st_ino != before.st_ino)
    return problem(Problem::Kind::unusable, "regular file: it was replaced while being opened");
  out.fd = std::move(owned);
  out.size = static_cast<uint64_t>(after.st_size);
  return {};
}

// Reads all of an opened file (at most its fstat size; a file that grows meanwhile is
// refused rather than read without end).
inline Problem read_opened(const OpenedFile& file, std::string& out) {
  out.assign(static_cast<size_t>(file.size) + 1, '\0');
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(file.fd.get(), out.data() + done, out.size() - done,
                        static_cast<off_t>(done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return problem(Problem::Kind::unusable, std::string("read: ") + errno_text(errno));
    if (n == 0)
      break;
    done += static_cast<size_t>(n);
  }
  if (done > file.size)
    return problem(Problem::Kind::unusable, "size: the file grew while it was read");
  out.resize(done);
  return {};
}

// open_regular_file + read_opened.
inline Problem read_regular_file(const char* path, uint64_t max_bytes, std::string& out,
                                 bool no_follow = false, int dirfd = AT_FDCWD) {
  out.clear();
  OpenedFile file;
  if (Problem p = open_regular_file(path, max_bytes, file, no_follow, dirfd))
    return p;
  return read_opened(file, out);
}

// ------------------------------------------------------------------------------------------
// ELF
// ------------------------------------------------------------------------------------------

// The class, byte order and machine of the ELF objects this process can load.
struct ElfTarget {
  unsigned char elf_class;
  unsigned char data;
  uint16_t machine; // 0: not checked (a machine this file does not know)
};

inline constexpr ElfTarget host_elf_target() {
  return ElfTarget{
      sizeof(void*) == 8 ? static_cast<unsigned char>(ELFCLASS64)
                         : static_cast<unsigned char>(ELFCLASS32),
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
      ELFDATA2MSB,
#else
      ELFDATA2LSB,
#endif
#if defined(__x86_64__)
      EM_X86_64,
#elif defined(__i386__)
      EM_386,
#elif defined(__aarch64__)
      EM_AARCH64,
#elif defined(__arm__)
      EM_ARM,
#elif defined(__riscv)
      EM_RISCV,
#elif defined(__powerpc64__)
      EM_PPC64,
#elif defined(__s390x__)
      EM_S390,
#elif defined(__loongarch__)
      258, // EM_LOONGARCH
#else
      0,
#endif
  };
}

inline std::string elf_machine_name(uint16_t machine) {
  const char* name = nullptr;
  switch (machine) {
  case EM_386: name = "i386"; break;
  case EM_X86_64: name = "x86-64"; break;
  case EM_AARCH64: name = "AArch64"; break;
  case EM_ARM: name = "ARM"; break;
  case EM_RISCV: name = "RISC-V"; break;
  case EM_PPC: name = "PowerPC"; break;
  case EM_PPC64: name = "PowerPC64"; break;
  case EM_S390: name = "s390"; break;
  case EM_MIPS: name = "MIPS"; break;
  case EM_SPARCV9: name = "SPARC V9"; break;
  case EM_IA_64: name = "IA-64"; break;
  case 258: name = "LoongArch"; break;
  case EM_NONE: name = "none"; break;
  default: break;
  }
  return (name ? std::string(name) + " " : std::string("unknown machine ")) + "(" +
         std::to_string(machine) + ")";
}

namespace detail {

inline std::string class_name(unsigned char elf_class) {
  switch (elf_class) {
  case ELFCLASS32: return "32-bit (ELFCLASS32)";
  case ELFCLASS64: return "64-bit (ELFCLASS64)";
  default: return "invalid (" + std::to_string(elf_class) + ")";
  }
}

inline std::string data_name(unsigned char data) {
  switch (data) {
  case ELFDATA2LSB: return "little-endian (ELFDATA2LSB)";
  case ELFDATA2MSB: return "big-endian (ELFDATA2MSB)";
  default: return "invalid (" + std::to_string(data) + ")";
  }
}

inline std::string segment_type_name(uint32_t type) {
  switch (type) {
  case PT_LOAD: return "PT_LOAD";
  case PT_DYNAMIC: return "PT_DYNAMIC";
  case PT_INTERP: return "PT_INTERP";
  case PT_NOTE: return "PT_NOTE";
  case PT_PHDR: return "PT_PHDR";
  case PT_TLS: return "PT_TLS";
  case PT_GNU_EH_FRAME: return "PT_GNU_EH_FRAME";
  case PT_GNU_RELRO: return "PT_GNU_RELRO";
  case PT_GNU_PROPERTY: return "PT_GNU_PROPERTY";
  default: return "type " + std::to_string(type);
  }
}

inline std::string truncated(uint64_t end, uint64_t file_size) {
  return "ends at byte " + std::to_string(end) + ", past the end of the " +
         std::to_string(file_size) + "-byte file (truncated?)";
}

// Whether [offset, offset + count * entry) lies inside [0, file_size); |end| is where it
// ends (UINT64_MAX when that overflows).
inline bool table_fits(uint64_t offset, uint64_t count, uint64_t entry, uint64_t file_size,
                       uint64_t& end) {
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(count, entry, &bytes) || __builtin_add_overflow(offset, bytes, &end)) {
    end = UINT64_MAX;
    return false;
  }
  return end <= file_size;
}

// More section headers than any real library has; a count past it is refused instead of
// read one by one.
inline constexpr uint64_t kMaxSections = uint64_t{1} << 20;

template <class Ehdr, class Phdr, class Shdr, class Reader>
Problem check_elf_tables(Reader& read, uint64_t file_size) {
  using Kind = Problem::Kind;
  if (file_size < sizeof(Ehdr))
    return problem(Kind::unusable, "ELF header: the file has " + std::to_string(file_size) +
                                       " bytes, fewer than the header's " +
                                       std::to_string(sizeof(Ehdr)));
  Ehdr header;
  if (!read(0, sizeof(header), &header))
    return problem(Kind::unusable, "read: cannot read the ELF header");
  if (header.e_type != ET_DYN)
    return problem(Kind::unusable,
                   "ELF type: " + std::string(header.e_type == ET_EXEC  ? "ET_EXEC (an executable)"
                                              : header.e_type == ET_REL ? "ET_REL (an object file)"
                                              : header.e_type == ET_CORE ? "ET_CORE (a core dump)"
                                                                         : "type " + std::to_string(header.e_type)) +
                       ", not a shared object (ET_DYN)");
  if (header.e_version != EV_CURRENT)
    return problem(Kind::unusable,
                   "ELF version: " + std::to_string(header.e_version) + ", not EV_CURRENT (1)");

  // Section headers first: their count may live in section 0 (more than 0xff00 sections or
  // program headers), and a table past the end is the plainest sign of a truncated file.
  uint64_t section_count = header.e_shnum;
  uint64_t segment_count = header.e_phnum;
  uint64_t end = 0;
  if (header.e_shoff != 0) {
    if (header.e_shentsize != sizeof(Shdr))
      return problem(Kind::unusable, "section headers: entries of " +
                                         std::to_string(header.e_shentsize) + " bytes, not " +
                                         std::to_string(sizeof(Shdr)));
    if (section_count == 0 || segment_count == PN_XNUM) {
      if (!table_fits(header.e_shoff, 1, sizeof(Shdr), file_size, end))
        return problem(Kind::unusable, "section headers: the table " + truncated(end, file_size));
      Shdr first;
      if (!read(header.e_shoff, sizeof(first), &first))
        return problem(Kind::unusable, "read: cannot read section header 0");
      if (section_count == 0)
        section_count = first.sh_size;
      if (segment_count == PN_XNUM)
        segment_count = first.sh_info;
    }
    if (section_count > kMaxSections)
      return problem(Kind::unusable, "section headers: " + std::to_string(section_count) +
                                         " entries, more than " + std::to_string(kMaxSections));
    if (!table_fits(header.e_shoff, section_count, sizeof(Shdr), file_size, end))
      return problem(Kind::unusable, "section headers: the table of " +
                                         std::to_string(section_count) + " entries " +
                                         truncated(end, file_size));
  } else if (segment_count == PN_XNUM) {
    return problem(Kind::unusable,
                   "program headers: e_phnum is PN_XNUM but there is no section header 0");
  }

  if (segment_count == 0)
    return problem(Kind::unusable, "program headers: none (nothing to load)");
  if (header.e_phentsize != sizeof(Phdr))
    return problem(Kind::unusable, "program headers: entries of " +
                                       std::to_string(header.e_phentsize) + " bytes, not " +
                                       std::to_string(sizeof(Phdr)));
  if (!table_fits(header.e_phoff, segment_count, sizeof(Phdr), file_size, end))
    return problem(Kind::unusable, "program headers: the table of " +
                                       std::to_string(segment_count) + " entries " +
                                       truncated(end, file_size));
  bool any_load = false;
  for (uint64_t i = 0; i < segment_count; ++i) {
    Phdr segment;
    if (!read(header.e_phoff + i * sizeof(Phdr), sizeof(segment), &segment))
      return problem(Kind::unusable, "read: cannot read program header " + std::to_string(i));
    if (segment.p_type == PT_NULL)
      continue;
    any_load = any_load || segment.p_type == PT_LOAD;
    if (!table_fits(segment.p_offset, 1, segment.p_filesz, file_size, end))
      return problem(Kind::unusable, "segment " + std::to_string(i) + " (" +
                                         segment_type_name(segment.p_type) + "): it " +
                                         truncated(end, file_size));
    if (segment.p_type == PT_LOAD && segment.p_filesz > segment.p_memsz)
      return problem(Kind::unusable, "segment " + std::to_string(i) +
                                         " (PT_LOAD): p_filesz " + std::to_string(segment.p_filesz) +
                                         " is larger than p_memsz " +
                                         std::to_string(segment.p_memsz));
  }
  if (!any_load)
    return problem(Kind::unusable, "program headers: no PT_LOAD segment");

  for (uint64_t i = 0; header.e_shoff != 0 && i < section_count; ++i) {
    Shdr section;
    if (!read(header.e_shoff + i * sizeof(Shdr), sizeof(section), &section))
      return problem(Kind::unusable, "read: cannot read section header " + std::to_string(i));
    if (section.sh_type == SHT_NOBITS || section.sh_type == SHT_NULL)
      continue;
    if (!table_fits(section.sh_offset, 1, section.sh_size, file_size, end))
      return problem(Kind::unusable,
                     "section " + std::to_string(i) + ": it " + truncated(end, file_size));
  }
  return {};
}

} // namespace detail

// Checks an ELF shared object of |file_size| bytes read through
// |read(uint64_t offset, size_t size, void* out) -> bool| (false: could not read).
// Returns the first check that fails: identification (magic, class, byte order, machine),
// type (ET_DYN), then every header table, segment and section inside the file.
template <class Reader>
Problem check_elf_shared_object(Reader&& read, uint64_t file_size,
                                const ElfTarget& target = host_elf_target()) {
  using Kind = Problem::Kind;
  unsigned char ident[EI_NIDENT + 4] = {}; // e_ident, e_type, e_machine: same in both classes
  if (file_size < sizeof(ident))
    return problem(Kind::unusable, "ELF header: the file has " + std::to_string(file_size) +
                                       " bytes, too few for an ELF header");
  if (!read(0, sizeof(ident), ident))
    return problem(Kind::unusable, "read: cannot read the ELF identification");
  if (std::memcmp(ident, ELFMAG, SELFMAG) != 0) {
    char hex[16];
    std::snprintf(hex, sizeof hex, "%02x %02x %02x %02x", ident[0], ident[1], ident[2], ident[3]);
    return problem(Kind::unusable,
                   std::string("ELF magic: the file starts with ") + hex + ", not 7f 45 4c 46");
  }
  bool big = ident[EI_DATA] == ELFDATA2MSB;
  uint16_t machine = big ? static_cast<uint16_t>(ident[EI_NIDENT + 2] << 8 | ident[EI_NIDENT + 3])
                         : static_cast<uint16_t>(ident[EI_NIDENT + 3] << 8 | ident[EI_NIDENT + 2]);
  std::string found = ", ELF machine " + elf_machine_name(machine);
  if (ident[EI_CLASS] != target.elf_class)
    return problem(Kind::foreign, "ELF class: " + detail::class_name(ident[EI_CLASS]) + found +
                                      "; this process loads " +
                                      detail::class_name(target.elf_class) + " objects");
  if (ident[EI_DATA] != target.data)
    return problem(Kind::foreign, "ELF byte order: " + detail::data_name(ident[EI_DATA]) + found +
                                      "; this process is " + detail::data_name(target.data));
  if (target.machine != 0 && machine != target.machine)
    return problem(Kind::foreign, "ELF machine: " + elf_machine_name(machine) +
                                      "; this process runs on " +
                                      elf_machine_name(target.machine));
  if (ident[EI_VERSION] != EV_CURRENT)
    return problem(Kind::unusable, "ELF version: e_ident[EI_VERSION] is " +
                                       std::to_string(ident[EI_VERSION]) + ", not 1");
  // Only the host's own class is parsed further (the structs are read in host byte order).
  if (target.elf_class == ELFCLASS64 && target.data == host_elf_target().data)
    return detail::check_elf_tables<Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr>(read, file_size);
  if (target.elf_class == ELFCLASS32 && target.data == host_elf_target().data)
    return detail::check_elf_tables<Elf32_Ehdr, Elf32_Phdr, Elf32_Shdr>(read, file_size);
  return {};
}

// An ELF image in memory (a HOST_NATIVE module image).
inline Problem check_elf_bytes(const void* data, size_t size,
                               const ElfTarget& target = host_elf_target()) {
  auto read = [data, size](uint64_t offset, size_t length, void* out) {
    if (offset > size || length > size - offset)
      return false;
    std::memcpy(out, static_cast<const unsigned char*>(data) + offset, length);
    return true;
  };
  return check_elf_shared_object(read, size, target);
}

// An opened file of |size| bytes (from open_regular_file).
inline Problem check_elf_fd(int fd, uint64_t size, const ElfTarget& target = host_elf_target()) {
  auto read = [fd, size](uint64_t offset, size_t length, void* out) {
    if (offset > size || length > size - offset)
      return false;
    size_t done = 0;
    while (done < length) {
      ssize_t n = ::pread(fd, static_cast<char*>(out) + done, length - done,
                          static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return false;
      done += static_cast<size_t>(n);
    }
    return true;
  };
  return check_elf_shared_object(read, size, target);
}

// Everything a driver library or host module file must pass before dlopen: a regular file
// (symlinks followed) of at most |max_bytes| whose ELF headers check out.
inline Problem check_shared_object_file(const char* path, uint64_t max_bytes = kMaxLibraryBytes,
                                        const ElfTarget& target = host_elf_target()) {
  OpenedFile file;
  if (Problem p = open_regular_file(path, max_bytes, file))
    return p;
  return check_elf_fd(file.fd.get(), file.size, target);
}

} // namespace udal::file_check
