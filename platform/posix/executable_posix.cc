// executable.h on POSIX: /proc/self/exe (Linux) or _NSGetExecutablePath (macOS),
// fsync, link + rename, fork/exec with a pipe.
#include "outpost/platform/executable.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#ifdef __APPLE__
#include <mach-o/dyld.h>
#endif

namespace outpost::platform {
namespace {

bool Fail(std::string* error, const std::string& what, int err) {
  if (error) *error = what + ": " + std::strerror(err);
  return false;
}

int64_t MillisSince(const std::chrono::steady_clock::time_point& t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t)
      .count();
}

}  // namespace

bool SelfExecutablePath(std::filesystem::path& out, std::string* error) {
  std::error_code ec;
#ifdef __APPLE__
  char buf[4096];
  uint32_t size = sizeof(buf);
  if (_NSGetExecutablePath(buf, &size) != 0) {
    if (error) *error = "the executable path is longer than 4096 bytes";
    return false;
  }
  out = std::filesystem::canonical(buf, ec);
#else
  out = std::filesystem::read_symlink("/proc/self/exe", ec);
#endif
  if (ec) {
    if (error) *error = "cannot find the running executable: " + ec.message();
    return false;
  }
  return true;
}

bool SyncPath(const std::filesystem::path& path, bool directory, std::string* error) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return Fail(error, "cannot open " + path.string() + " to sync it", errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Fail(error, "cannot sync " + path.string(), err);
  return true;
}

bool MakeExecutable(const std::filesystem::path& path, std::string* error) {
  if (::chmod(path.c_str(), 0755) != 0)
    return Fail(error, "cannot make " + path.string() + " executable", errno);
  return true;
}

bool KeepPrevious(const std::filesystem::path& target, const std::filesystem::path& previous,
                  std::string* error) {
  if (::unlink(previous.c_str()) != 0 && errno != ENOENT)
    return Fail(error, "cannot remove the old " + previous.string(), errno);
  if (::link(target.c_str(), previous.c_str()) != 0)
    return Fail(error, "cannot keep " + target.string() + " as " + previous.string(), errno);
  return true;
}

bool InstallStaged(const std::filesystem::path& staged, const std::filesystem::path& target,
                   std::string* error) {
  if (::rename(staged.c_str(), target.c_str()) != 0)
    return Fail(error, "cannot move " + staged.string() + " to " + target.string(), errno);
  return SyncPath(target.parent_path().empty() ? "." : target.parent_path(), true, error);
}

bool RunProgram(const std::filesystem::path& program, const std::vector<std::string>& args,
                std::chrono::milliseconds timeout, size_t max_output, ProgramResult& out,
                std::string* error) {
  out = ProgramResult{};
  int fds[2];
  if (::pipe(fds) != 0) return Fail(error, "cannot create a pipe", errno);
  std::vector<std::string> argv_text;
  argv_text.push_back(program.string());
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return Fail(error, "cannot start " + program.string(), err);
  }
  if (pid == 0) {  // the child: only async-signal-safe calls from here on
    const int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    ::execv(argv[0], argv.data());
    static const char kMsg[] = "exec failed\n";
    (void)!::write(2, kMsg, sizeof(kMsg) - 1);
    ::_exit(127);
  }
  ::close(fds[1]);
  const auto start = std::chrono::steady_clock::now();
  char buf[4096];
  for (;;) {
    const int64_t left = timeout.count() - MillisSince(start);
    if (left <= 0) {
      out.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    const ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of output (or an error): the child is done or closing
    if (out.output.size() < max_output)
      out.output.append(buf, std::min(static_cast<size_t>(n), max_output - out.output.size()));
  }
  ::close(fds[0]);
  int status = 0;
  for (;;) {
    const pid_t w = ::waitpid(pid, &status, 0);
    if (w >= 0 || errno != EINTR) break;
  }
  if (!out.timed_out && WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
  return true;
}

}  // namespace outpost::platform
