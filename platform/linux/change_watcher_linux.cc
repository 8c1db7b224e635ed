// Linux change watcher: one inotify instance with a watch per directory, and an
// eventfd that Wake() writes (async-signal-safe). Wait() sleeps in poll() on both, so
// an idle agent stays blocked in the kernel. CreateChangeWatcher falls back to the
// polling watcher when inotify is unavailable.
//
// Map: InotifyWatcher (Watch/Unwatch keep the wd <-> directory maps; Wait polls,
// reads every queued event and turns them into paths); CreateChangeWatcher.
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "outpost/platform/change_watcher.h"
#include "posix/polling_watcher.h"

namespace outpost::platform {
namespace {

constexpr uint32_t kWatchMask = IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM |
                                IN_MOVED_TO | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB;

// Reads per Wait(): 16 x 64 KiB is far more than a burst of real events; a directory
// that keeps producing more is read again by the next Wait(), which returns at once.
constexpr int kMaxReadsPerWait = 16;

class InotifyWatcher final : public ChangeWatcher {
 public:
  InotifyWatcher(int inotify_fd, int wake_fd) : inotify_fd_(inotify_fd), wake_fd_(wake_fd) {}
  ~InotifyWatcher() override {
    close(inotify_fd_);
    close(wake_fd_);
  }
  InotifyWatcher(const InotifyWatcher&) = delete;
  InotifyWatcher& operator=(const InotifyWatcher&) = delete;

  bool native() const override { return true; }

  bool WatchDirectory(const std::filesystem::path& dir, std::string* message) override {
    // IN_ONLYDIR: a file or a symlink to one is refused instead of watched.
    const int wd = inotify_add_watch(inotify_fd_, dir.c_str(), kWatchMask | IN_ONLYDIR);
    if (wd < 0) {
      const int err = errno;
      if (message) {
        if (err == ENOSPC) {
          *message =
              "the inotify watch limit is reached; raise /proc/sys/fs/inotify/max_user_watches";
        } else {
          *message = std::strerror(err);
        }
      }
      return false;
    }
    // The same directory (or another path to it) gives the same wd: events are
    // then reported under the path watched last.
    std::lock_guard<std::mutex> lock(mu_);
    dir_by_wd_[wd] = dir;
    wd_by_dir_[dir] = wd;
    return true;
  }

  void UnwatchDirectory(const std::filesystem::path& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = wd_by_dir_.find(dir);
    if (it == wd_by_dir_.end()) return;
    const int wd = it->second;
    wd_by_dir_.erase(it);
    // Another watched path may lead to the same directory: keep the watch for it.
    for (const auto& [other, other_wd] : wd_by_dir_) {
      if (other_wd == wd) {
        dir_by_wd_[wd] = other;
        return;
      }
    }
    dir_by_wd_.erase(wd);
    inotify_rm_watch(inotify_fd_, wd);  // its IN_IGNORED finds no mapping
  }

  WatchEvents Wait(std::chrono::milliseconds timeout) override {
    WatchEvents events;
    const auto deadline = WaitDeadline(timeout);
    // Loop only when the events read named nothing the caller cares about (say the
    // IN_IGNORED of a directory just unwatched); every pass blocks in poll().
    for (;;) {
      struct pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      const int n = PollUntil(fds, 2, deadline);
      if (n == 0) return events;  // timed out
      if (n < 0) {
        // Cannot happen with valid descriptors; say "rescan" rather than spin.
        events.overflow = true;
        return events;
      }
      if ((fds[1].revents & POLLIN) != 0) {
        uint64_t count;
        // Resets the counter to zero: any number of Wake() calls is one wake-up.
        [[maybe_unused]] const ssize_t got = read(wake_fd_, &count, sizeof count);
        events.woken = true;
      }
      if ((fds[0].revents & POLLIN) != 0) ReadEvents(events);
      // Not expected from inotify or eventfd; say "rescan" rather than spin.
      if (((fds[0].revents | fds[1].revents) & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
        events.overflow = true;
      }
      if (events.woken || events.overflow || !events.changed.empty()) return events;
    }
  }

  void Wake() override {
    const uint64_t one = 1;
    // EAGAIN only when the counter is at its maximum: a wake-up is pending anyway.
    [[maybe_unused]] const ssize_t put = write(wake_fd_, &one, sizeof one);
  }

 private:
  // Reads every queued event (bounded by kMaxReadsPerWait) and adds their paths to
  // `events`, each path once.
  void ReadEvents(WatchEvents& events) {
    std::unordered_set<std::string> seen;
    for (const auto& p : events.changed) seen.insert(p.native());
    const auto add = [&](std::filesystem::path p) {
      if (seen.insert(p.native()).second) events.changed.push_back(std::move(p));
    };
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 0; i < kMaxReadsPerWait; ++i) {
      const ssize_t n = read(inotify_fd_, buf_, sizeof buf_);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n <= 0) {
        events.overflow = true;  // unexpected: let the caller rescan
        return;
      }
      for (ssize_t at = 0; at + static_cast<ssize_t>(sizeof(inotify_event)) <= n;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(buf_ + at);
        at += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
        Handle(*ev, events, add);
      }
    }
  }

  template <typename Add>
  void Handle(const inotify_event& ev, WatchEvents& events, const Add& add) {
    if ((ev.mask & IN_Q_OVERFLOW) != 0) {
      events.overflow = true;
      return;
    }
    const auto it = dir_by_wd_.find(ev.wd);
    if (it == dir_by_wd_.end()) return;  // unwatched already
    const std::filesystem::path dir = it->second;
    if (ev.len > 0) {
      add(dir / std::string(ev.name, strnlen(ev.name, ev.len)));
    } else if ((ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) != 0) {
      add(dir);
    }
    if ((ev.mask & IN_IGNORED) != 0) {
      Forget(ev.wd);  // the kernel dropped the watch (directory deleted or unmounted)
    } else if ((ev.mask & IN_MOVE_SELF) != 0) {
      // The directory lives elsewhere now, and its old path would name the wrong
      // entries. Drop the watch; the caller watches the path again if it comes back.
      inotify_rm_watch(inotify_fd_, ev.wd);
      Forget(ev.wd);
    }
  }

  void Forget(int wd) {
    dir_by_wd_.erase(wd);
    for (auto it = wd_by_dir_.begin(); it != wd_by_dir_.end();) {
      it = it->second == wd ? wd_by_dir_.erase(it) : std::next(it);
    }
  }

  const int inotify_fd_;
  const int wake_fd_;
  std::mutex mu_;  // guards the maps: Watch/Unwatch may run on another thread than Wait
  std::unordered_map<int, std::filesystem::path> dir_by_wd_;
  std::map<std::filesystem::path, int> wd_by_dir_;
  // Room for hundreds of events; one event is at most sizeof(inotify_event)+NAME_MAX+1.
  alignas(inotify_event) char buf_[64 * 1024];
};

}  // namespace

std::unique_ptr<ChangeWatcher> CreateChangeWatcher(bool native) {
  if (!native) return CreatePollingWatcher();
  const int inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd < 0) return CreatePollingWatcher();  // no inotify, or EMFILE
  const int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    close(inotify_fd);
    return CreatePollingWatcher();
  }
  return std::make_unique<InotifyWatcher>(inotify_fd, wake_fd);
}

}  // namespace outpost::platform
