// The translator as a tool: `llvm-spirv -r in.spv -o out.bc`, in a private temporary
// directory, its diagnostics captured for the message.
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "translate.h"

extern char** environ;

namespace udal::opencl {

namespace {

// A temporary directory and the files in it, removed when it goes.
class TempDir {
public:
  TempDir() {
    const char* base = secure_getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && base[0] != '\0' ? base : "/tmp") + "/udal-opencl-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (mkdtemp(buffer.data()) != nullptr)
      path_ = buffer.data();
  }
  ~TempDir() {
    if (path_.empty())
      return;
    for (const char* name : {"in.spv", "out.bc", "stderr.txt"}) {
      ::unlink((path_ + "/" + name).c_str());
    }
    ::rmdir(path_.c_str());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

bool write_file(const std::string& path, const void* data, size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return false;
  const auto* p = static_cast<const char*>(data);
  size_t left = size;
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return ::close(fd) == 0;
}

// Reads a regular file of at most |limit| bytes.
bool read_file(const std::string& path, size_t limit, std::vector<unsigned char>* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || static_cast<size_t>(st.st_size) > limit) {
    ::close(fd);
    return false;
  }
  out->resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out->size()) {
    const ssize_t n = ::read(fd, out->data() + done, out->size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  out->resize(done);
  return true;
}

} // namespace

std::string find_executable(const std::string& name) {
  if (name.empty())
    return {};
  if (name.find('/') != std::string::npos) {
    return ::access(name.c_str(), X_OK) == 0 ? name : std::string();
  }
  const char* path = secure_getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos)
      end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    start = end + 1;
    if (dir.empty())
      continue;
    std::string candidate = dir + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return {};
}

std::string translate_with_tool(const std::string& tool, const void* data, size_t size,
                                const std::vector<SpecValue>& specs,
                                std::vector<unsigned char>* out) {
  TempDir dir;
  if (dir.path().empty()) {
    return fmt::format("could not make a temporary directory for the translator: {}",
                       std::strerror(errno));
  }
  const std::string input = dir.path() + "/in.spv";
  const std::string output = dir.path() + "/out.bc";
  const std::string errors = dir.path() + "/stderr.txt";
  if (!write_file(input, data, size)) {
    return fmt::format("could not write {} for the translator: {}", input, std::strerror(errno));
  }
  std::vector<std::string> args = {tool, "-r"};
  if (!specs.empty()) {
    std::string list;
    for (const SpecValue& s : specs) {
      if (!list.empty())
        list += ' ';
      const uint32_t bits = s.constant.is_bool ? 1 : s.constant.size * 8;
      list += fmt::format("{}:i{}:{}", s.constant.id, bits,
                          s.constant.is_bool ? (s.bits != 0 ? 1 : 0) : s.bits);
    }
    args.push_back("--spec-const=" + list);
  }
  args.insert(args.end(), {"-o", output, input});
  std::vector<char*> argv;
  for (std::string& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, errors.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, tool.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return fmt::format("could not run the translator {}: {}", tool, std::strerror(spawned));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::vector<unsigned char> text;
    read_file(errors, 4096, &text);
    std::string message(text.begin(), text.end());
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    return fmt::format("{} -r {} ({}): {}", tool,
                       WIFEXITED(status) ? fmt::format("exited with {}", WEXITSTATUS(status))
                                         : std::string("was killed by a signal"),
                       input, message.empty() ? std::string("no diagnostics") : message);
  }
  if (!read_file(output, size_t{1} << 30, out) || out->empty()) {
    return fmt::format("{} -r wrote no bitcode", tool);
  }
  return {};
}

} // namespace udal::opencl
