// Subprocess on POSIX: fork + execv with pipes; a helper thread poll()s stdout (and
// drains stderr into a small tail) and calls on_output when stdout becomes readable
// after the consumer drained it.
#include "outpost/platform/subprocess.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#endif

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

namespace outpost::platform {
namespace {

constexpr size_t kStderrTail = 4096;

std::string ErrnoText(int err) { return std::strerror(err); }

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// The program to exec: argv[0] itself when it names a path, else the first PATH entry
// where it is an executable file (resolved before fork: the child only execs).
std::string Resolve(const std::string& prog) {
  if (prog.find('/') != std::string::npos) return prog;
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    if (dir.empty()) dir = ".";
    const std::string full = dir + "/" + prog;
    if (::access(full.c_str(), X_OK) == 0) return full;
    start = end + 1;
  }
  return prog;  // execv fails with ENOENT, reported as such
}

class PosixSubprocess final : public Subprocess {
 public:
  PosixSubprocess(pid_t pid, int out, int err, int stop_w, int stop_r,
                  std::function<void()> on_output)
      : pid_(pid),
        out_(out),
        err_(err),
        stop_w_(stop_w),
        stop_r_(stop_r),
        on_output_(std::move(on_output)) {
    thread_ = std::thread([this] { Loop(); });
  }

  ~PosixSubprocess() override {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    const char c = 's';
    ssize_t ignored = ::write(stop_w_, &c, 1);
    (void)ignored;
    thread_.join();
    Kill();
    if (!reaped_) {
      int st = 0;
      while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
      }
    }
    CloseFd(out_);
    CloseFd(err_);
    CloseFd(stop_w_);
    CloseFd(stop_r_);
  }

  ReadResult Read(char* buf, size_t size, size_t* got, std::string* error) override {
    *got = 0;
    for (;;) {
      const ssize_t n = ::read(out_, buf, size);
      if (n > 0) {
        *got = static_cast<size_t>(n);
        return ReadResult::kData;
      }
      if (n == 0) return ReadResult::kEnd;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        Arm();
        return ReadResult::kWouldBlock;
      }
      if (error)
        *error = "cannot read the output of pid " + std::to_string(pid_) + ": " + ErrnoText(errno);
      return ReadResult::kError;
    }
  }

  bool WaitReadable(std::chrono::milliseconds timeout) override {
    pollfd p{out_, POLLIN, 0};
    const int ms = static_cast<int>(std::min<int64_t>(timeout.count(), 1 << 30));
    const int r = ::poll(&p, 1, ms);
    return r > 0;
  }

  void Kill() override {
    if (!reaped_) ::kill(pid_, SIGKILL);
  }

  std::optional<std::string> Exited() override {
    if (!reaped_) {
      int st = 0;
      pid_t r;
      do {
        r = ::waitpid(pid_, &st, WNOHANG);
      } while (r < 0 && errno == EINTR);
      if (r == 0) return std::nullopt;
      reaped_ = true;
      if (r < 0)
        how_ = "ended (" + ErrnoText(errno) + ")";
      else if (WIFEXITED(st))
        how_ = "exited with status " + std::to_string(WEXITSTATUS(st));
      else if (WIFSIGNALED(st))
        how_ = "killed by signal " + std::to_string(WTERMSIG(st));
      else
        how_ = "ended";
    }
    return how_;
  }

  std::string StderrTail() override {
    DrainStderr();
    std::lock_guard<std::mutex> lk(mu_);
    return stderr_;
  }

  long pid() const override { return static_cast<long>(pid_); }

 private:
  void Arm() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      armed_ = true;
    }
    cv_.notify_all();
  }

  void DrainStderr() {
    char buf[1024];
    for (;;) {
      const ssize_t n = ::read(err_, buf, sizeof buf);
      if (n <= 0) {
        if (n < 0 && errno == EINTR) continue;
        return;
      }
      std::lock_guard<std::mutex> lk(mu_);
      stderr_.append(buf, static_cast<size_t>(n));
      if (stderr_.size() > kStderrTail) stderr_.erase(0, stderr_.size() - kStderrTail);
    }
  }

  // Waits until armed, then until stdout is readable (or ends), calls on_output and
  // disarms: the consumer re-arms when it has drained the pipe.
  void Loop() {
    bool stderr_open = true;
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(mu_);
        if (stop_) return;
        if (!armed_) {
          // Still drain stderr now and then so the child never blocks on it.
          cv_.wait_for(lk, std::chrono::milliseconds(200), [this] { return armed_ || stop_; });
          if (stop_) return;
        }
      }
      bool armed;
      {
        std::lock_guard<std::mutex> lk(mu_);
        armed = armed_;
      }
      pollfd p[3] = {{stop_r_, POLLIN, 0}, {err_, POLLIN, 0}, {armed ? out_ : -1, POLLIN, 0}};
      if (!stderr_open) p[1].fd = -1;
      const int r = ::poll(p, 3, armed ? -1 : 0);
      if (r < 0 && errno != EINTR) return;
      if (r <= 0) continue;
      if (p[0].revents) return;
      if (p[1].revents) {
        char buf[1024];
        const ssize_t n = ::read(err_, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
          stderr_open = false;
        } else if (n > 0) {
          std::lock_guard<std::mutex> lk(mu_);
          stderr_.append(buf, static_cast<size_t>(n));
          if (stderr_.size() > kStderrTail) stderr_.erase(0, stderr_.size() - kStderrTail);
        }
      }
      if (p[2].revents) {
        {
          std::lock_guard<std::mutex> lk(mu_);
          armed_ = false;
        }
        if (on_output_) on_output_();
      }
    }
  }

  pid_t pid_;
  int out_;
  int err_;
  int stop_w_;
  int stop_r_;
  std::function<void()> on_output_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = true;  // the first readiness is reported
  bool stop_ = false;
  std::string stderr_;
  bool reaped_ = false;
  std::string how_;
  std::thread thread_;
};

// pipe2 is not on macOS; the window between pipe and FD_CLOEXEC only matters for
// other threads that fork, which this agent does not do.
bool MakePipe(int fds[2]) {
  if (::pipe(fds) != 0) return false;
  ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  ::fcntl(fds[1], F_SETFD, FD_CLOEXEC);
  return true;
}

}  // namespace

std::unique_ptr<Subprocess> StartSubprocess(const std::vector<std::string>& argv,
                                            std::function<void()> on_output, std::string* error) {
  if (argv.empty()) {
    if (error) *error = "no program to run";
    return nullptr;
  }
  const std::string prog = Resolve(argv[0]);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int out[2] = {-1, -1}, err[2] = {-1, -1}, exec_err[2] = {-1, -1}, stop[2] = {-1, -1};
  auto close_all = [&] {
    for (int* p : {out, err, exec_err, stop}) {
      CloseFd(p[0]);
      CloseFd(p[1]);
    }
  };
  if (!MakePipe(out) || !MakePipe(err) || !MakePipe(exec_err) || !MakePipe(stop)) {
    if (error) *error = "cannot create a pipe: " + ErrnoText(errno);
    close_all();
    return nullptr;
  }
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  // A blocked signal stays blocked across exec: the child starts with none blocked.
  sigset_t no_signals;
  sigemptyset(&no_signals);
#if defined(__linux__)
  const pid_t parent = ::getpid();
#endif
  const pid_t pid = ::fork();
  if (pid < 0) {
    if (error) *error = "cannot start " + argv[0] + ": " + ErrnoText(errno);
    if (devnull >= 0) ::close(devnull);
    close_all();
    return nullptr;
  }
  if (pid == 0) {
    // The child: only async-signal-safe calls from here on.
#if defined(__linux__)
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
#endif
    // An ignored signal stays ignored across exec; journalctl must die of SIGPIPE
    // when the agent is gone.
    ::signal(SIGPIPE, SIG_DFL);
    ::sigprocmask(SIG_SETMASK, &no_signals, nullptr);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execv(prog.c_str(), args.data());
    const int e = errno;
    ssize_t ignored = ::write(exec_err[1], &e, sizeof e);
    (void)ignored;
    ::_exit(127);
  }
  if (devnull >= 0) ::close(devnull);
  CloseFd(out[1]);
  CloseFd(err[1]);
  CloseFd(exec_err[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_err[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  CloseFd(exec_err[0]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (error) *error = "cannot run " + argv[0] + ": " + ErrnoText(child_errno);
    close_all();
    return nullptr;
  }
  ::fcntl(out[0], F_SETFL, ::fcntl(out[0], F_GETFL) | O_NONBLOCK);
  ::fcntl(err[0], F_SETFL, ::fcntl(err[0], F_GETFL) | O_NONBLOCK);
  auto p = std::make_unique<PosixSubprocess>(pid, out[0], err[0], stop[1], stop[0],
                                             std::move(on_output));
  return p;
}

}  // namespace outpost::platform
