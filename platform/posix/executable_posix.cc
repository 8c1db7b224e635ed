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
#include <cstdlib>
#include <cstring>
#include <string>
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

// The watcher's channel: a pipe whose write end the started program holds. One byte
// says how its start went; the end of the pipe without one says it died first.
constexpr const char* kWatchEnv = "OUTPOST_START_WATCH_FD";
constexpr char kStarted = 'k';
constexpr char kNotStarted = 'x';  // exec failed: the caller deals with it
int g_watch_fd = -1;

std::vector<char*> ArgvOf(std::vector<std::string>& text) {
  std::vector<char*> argv;
  for (std::string& a : text) argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

// The watcher's side, in the forked copy of the old process; never returns.
[[noreturn]] void Watch(int fd, pid_t agent, const std::filesystem::path& program,
                        std::vector<std::string> argv_text, const StartWatch& watch) {
  sigset_t stops;
  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGTERM);
  sigaddset(&stops, SIGHUP);
  ::sigprocmask(SIG_BLOCK, &stops, nullptr);
  const auto start = std::chrono::steady_clock::now();
  std::string why;
  for (;;) {
    const int64_t left = watch.timeout.count() - MillisSince(start);
    if (left <= 0) {
      ::kill(agent, SIGKILL);
      why = "it did not start within " + std::to_string(watch.timeout.count() / 1000) +
            " s and was stopped";
      // Its end of the pipe closes when it is gone: only then is the binary touched.
      pollfd p{fd, POLLIN, 0};
      char c = 0;
      for (int i = 0; i < 100 && ::poll(&p, 1, 100) >= 0; ++i)
        if ((p.revents & (POLLIN | POLLHUP)) != 0 && ::read(fd, &c, 1) <= 0) break;
      break;
    }
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char c = 0;
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n == 1 && (c == kStarted || c == kNotStarted)) ::_exit(0);
    why = "it exited before it started";
    break;
  }
  ::close(fd);
  bool restart = false;
  try {
    restart = watch.on_failure && watch.on_failure(why);
  } catch (...) {
    restart = false;
  }
  if (restart) {
    ::sigprocmask(SIG_UNBLOCK, &stops, nullptr);
    std::vector<char*> argv = ArgvOf(argv_text);
    ::execv(program.c_str(), argv.data());
  }
  ::_exit(restart ? 127 : 0);
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

bool CanReplaceProcess() { return true; }

bool ExecWatched(const std::filesystem::path& program, const std::vector<std::string>& args,
                 const StartWatch& watch, std::string* error) {
  std::vector<std::string> argv_text{program.string()};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  int fds[2];
  if (::pipe(fds) != 0) return Fail(error, "cannot create a pipe", errno);
  const pid_t agent = ::getpid();
  const pid_t middle = ::fork();
  if (middle < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return Fail(error, "cannot start a watcher", err);
  }
  if (middle == 0) {  // detaches the watcher: its parent is init (or a subreaper), not us
    const pid_t w = ::fork();
    if (w != 0) ::_exit(w < 0 ? 1 : 0);
    ::close(fds[1]);
    Watch(fds[0], agent, program, argv_text, watch);
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(middle, &status, 0) < 0 && errno == EINTR) {
  }
  const int flags = ::fcntl(fds[1], F_GETFD);
  if (flags >= 0) ::fcntl(fds[1], F_SETFD, flags & ~FD_CLOEXEC);
  ::setenv(kWatchEnv, std::to_string(fds[1]).c_str(), 1);
  std::vector<char*> argv = ArgvOf(argv_text);
  ::execv(argv[0], argv.data());
  const int err = errno;
  ::unsetenv(kWatchEnv);
  const char c = kNotStarted;
  (void)!::write(fds[1], &c, 1);
  ::close(fds[1]);
  return Fail(error, "cannot start " + program.string(), err);
}

bool ExecProgram(const std::filesystem::path& program, const std::vector<std::string>& args,
                 std::string* error) {
  std::vector<std::string> argv_text{program.string()};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv = ArgvOf(argv_text);
  ::execv(argv[0], argv.data());
  return Fail(error, "cannot start " + program.string(), errno);
}

void AdoptStartWatch() {
  const char* v = std::getenv(kWatchEnv);
  if (v == nullptr) return;
  char* end = nullptr;
  const long fd = std::strtol(v, &end, 10);
  ::unsetenv(kWatchEnv);
  if (end == v || *end != '\0' || fd < 3 || fd > 1 << 20) return;
  const int flags = ::fcntl(static_cast<int>(fd), F_GETFD);
  if (flags < 0) return;  // not open: there is no watcher
  ::fcntl(static_cast<int>(fd), F_SETFD, flags | FD_CLOEXEC);
  g_watch_fd = static_cast<int>(fd);
}

void ConfirmStarted() {
  if (g_watch_fd < 0) return;
  const char c = kStarted;
  (void)!::write(g_watch_fd, &c, 1);
  ::close(g_watch_fd);
  g_watch_fd = -1;
}

}  // namespace outpost::platform
