// The polling ChangeWatcher for POSIX systems (see polling_watcher.h): a self-pipe
// that Wake() writes one byte into (write() is async-signal-safe) and Wait() polls
// with its timeout, then drains.
#include "posix/polling_watcher.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>

namespace outpost::platform {
namespace {

using Clock = std::chrono::steady_clock;

// Both ends non-blocking (a full pipe already means "woken"; a drain stops when
// empty) and close-on-exec (child processes must not inherit them).
bool MakeWakePipe(int fds[2]) {
#if defined(__APPLE__)
  if (pipe(fds) != 0) return false;
  for (int i = 0; i < 2; ++i) {
    if (fcntl(fds[i], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK) != 0) {
      close(fds[0]);
      close(fds[1]);
      return false;
    }
  }
  return true;
#else
  return pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0;
#endif
}

class PollingWatcher final : public ChangeWatcher {
 public:
  PollingWatcher() {
    int fds[2];
    if (MakeWakePipe(fds)) {
      read_fd_ = fds[0];
      write_fd_ = fds[1];
    }
  }
  ~PollingWatcher() override {
    if (read_fd_ >= 0) close(read_fd_);
    if (write_fd_ >= 0) close(write_fd_);
  }
  PollingWatcher(const PollingWatcher&) = delete;
  PollingWatcher& operator=(const PollingWatcher&) = delete;

  bool native() const override { return false; }

  // Nothing to register: the caller rescans every directory when Wait() returns.
  bool WatchDirectory(const std::filesystem::path&, std::string*) override { return true; }
  void UnwatchDirectory(const std::filesystem::path&) override {}

  WatchEvents Wait(std::chrono::milliseconds timeout) override {
    WatchEvents events;
    const Clock::time_point deadline = WaitDeadline(timeout);
    if (read_fd_ < 0) {
      events.woken = SleepWithoutPipe(deadline);
      return events;
    }
    struct pollfd pfd = {read_fd_, POLLIN, 0};
    if (PollUntil(&pfd, 1, deadline) > 0 && (pfd.revents & POLLIN) != 0) {
      // Bounded: bytes left over only make the next Wait() return woken at once.
      char buf[256];
      for (int i = 0; i < 16 && read(read_fd_, buf, sizeof buf) == sizeof buf; ++i) {
      }
      events.woken = true;
    }
    return events;
  }

  void Wake() override {
    if (write_fd_ < 0) {
      woken_.store(true);
      return;
    }
    const char byte = 1;
    // EAGAIN: the pipe is full, so a wake-up is already pending.
    [[maybe_unused]] const ssize_t put = write(write_fd_, &byte, 1);
  }

 private:
  // Without a pipe: sleep in short slices, checking the flag Wake() sets.
  bool SleepWithoutPipe(Clock::time_point deadline) {
    for (;;) {
      if (woken_.exchange(false)) return true;
      const Clock::time_point now = Clock::now();
      if (now >= deadline) return false;
      const auto slice = std::min<Clock::duration>(deadline - now, std::chrono::milliseconds(50));
      PollUntil(nullptr, 0, now + slice);
    }
  }

  int read_fd_ = -1;
  int write_fd_ = -1;
  std::atomic<bool> woken_{false};
  static_assert(std::atomic<bool>::is_always_lock_free);  // set from signal handlers
};

}  // namespace

std::unique_ptr<ChangeWatcher> CreatePollingWatcher() { return std::make_unique<PollingWatcher>(); }

Clock::time_point WaitDeadline(std::chrono::milliseconds timeout) {
  if (timeout.count() < 0) return Clock::time_point::max();
  const std::chrono::milliseconds longest(INT_MAX);
  return Clock::now() + std::min(timeout, longest);
}

int PollUntil(struct pollfd* fds, nfds_t count, Clock::time_point deadline) {
  for (;;) {
    int ms = -1;
    if (deadline != Clock::time_point::max()) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      ms = static_cast<int>(std::clamp<int64_t>(left.count(), 0, INT_MAX));
    }
    const int n = poll(fds, count, ms);
    if (n >= 0 || errno != EINTR) return n;
  }
}

}  // namespace outpost::platform
