// macOS change watcher: kqueue with EVFILT_VNODE, and a self-pipe that Wake() writes
// (write() is async-signal-safe) registered in the same kqueue. Wait() sleeps in
// kevent(), so an idle agent stays blocked in the kernel. CreateChangeWatcher falls back
// to the polling watcher when kqueue or the pipe cannot be made.
//
// kqueue watches vnodes, not names, and a directory's vnode only reports that its list
// of entries changed (NOTE_WRITE, NOTE_LINK), never that a file in it was appended to.
// The tailer needs both (inotify on a directory gives both), so a watched directory is
// watched itself AND every regular file in it is watched too, each through a descriptor
// opened with O_EVTONLY (an event-only descriptor: it does not keep a volume from being
// unmounted). When the directory's entries change it is listed again: new names (and
// names now leading to another file) are reported and watched, vanished names reported
// and their watches closed. A file's own event reports its path.
//
// Files that cannot be watched (the descriptor limit; launchd's plist raises it to 8192)
// are polled instead: every 2 s their size and modification time are compared, and a
// change reports the path, so no append is missed, only noticed later.
// Not compiled here (no macOS toolchain on the build machines); see docs/macos.md.
//
// Map: KqueueWatcher (WatchDirectory/UnwatchDirectory keep the descriptor maps; Wait
// runs kevent and turns events into paths; Scan lists a directory and updates its file
// watches; PollUnwatched); CreateChangeWatcher.
#include <dirent.h>
#include <fcntl.h>
#include <sys/event.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "outpost/platform/change_watcher.h"
#include "posix/polling_watcher.h"

namespace outpost::platform {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr unsigned kVnodeEvents =
    NOTE_DELETE | NOTE_WRITE | NOTE_EXTEND | NOTE_ATTRIB | NOTE_LINK | NOTE_RENAME | NOTE_REVOKE;
constexpr unsigned kGone = NOTE_DELETE | NOTE_RENAME | NOTE_REVOKE;
// Descriptors for file watches in all; past it, files are polled.
constexpr size_t kMaxFileWatches = 4096;
constexpr std::chrono::seconds kPollUnwatched(2);
constexpr int kEventsPerCall = 64;

struct Stamp {
  uint64_t dev = 0, ino = 0;
  int64_t size = -1;
  int64_t mtime_ns = 0;
  bool operator==(const Stamp&) const = default;
};

// stat() following symlinks; nullopt when it fails.
std::optional<Stamp> StatPath(const fs::path& p, bool* regular) {
  struct stat st {};
  if (stat(p.c_str(), &st) != 0) return std::nullopt;
  if (regular) *regular = S_ISREG(st.st_mode);
  Stamp s;
  s.dev = static_cast<uint64_t>(st.st_dev);
  s.ino = static_cast<uint64_t>(st.st_ino);
  s.size = static_cast<int64_t>(st.st_size);
  s.mtime_ns = static_cast<int64_t>(st.st_mtimespec.tv_sec) * 1000000000 + st.st_mtimespec.tv_nsec;
  return s;
}

class KqueueWatcher final : public ChangeWatcher {
 public:
  KqueueWatcher(int kq, int wake_read, int wake_write)
      : kq_(kq), wake_read_(wake_read), wake_write_(wake_write) {}
  ~KqueueWatcher() override {
    for (const auto& [fd, node] : nodes_) close(fd);
    close(kq_);
    close(wake_read_);
    close(wake_write_);
  }
  KqueueWatcher(const KqueueWatcher&) = delete;
  KqueueWatcher& operator=(const KqueueWatcher&) = delete;

  bool native() const override { return true; }

  bool WatchDirectory(const fs::path& dir, std::string* message) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (dirs_.count(dir)) return true;
    const int fd = open(dir.c_str(), O_EVTONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      if (message) *message = std::strerror(errno);
      return false;
    }
    if (!Register(fd)) {
      const int err = errno;
      close(fd);
      if (message) *message = std::string("kevent: ") + std::strerror(err);
      return false;
    }
    nodes_[fd] = Node{dir, dir, "", true};
    Dir& d = dirs_[dir];
    d.fd = fd;
    Scan(dir, d, nullptr);
    return true;
  }

  void UnwatchDirectory(const fs::path& dir) override {
    std::lock_guard<std::mutex> lock(mu_);
    Drop(dir);
  }

  WatchEvents Wait(std::chrono::milliseconds timeout) override {
    WatchEvents events;
    const Clock::time_point deadline = WaitDeadline(timeout);
    for (;;) {
      const Clock::time_point now = Clock::now();
      Clock::time_point until = deadline;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (HasUnwatched()) until = std::min(until, next_poll_);
      }
      struct timespec ts {};
      const struct timespec* tsp = nullptr;
      if (until != Clock::time_point::max()) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - now);
        const int64_t ms = std::max<int64_t>(0, std::min<int64_t>(left.count(), INT_MAX));
        ts.tv_sec = static_cast<time_t>(ms / 1000);
        ts.tv_nsec = static_cast<long>((ms % 1000) * 1000000);
        tsp = &ts;
      }
      struct kevent got[kEventsPerCall];
      const int n = kevent(kq_, nullptr, 0, got, kEventsPerCall, tsp);
      if (n < 0) {
        if (errno == EINTR) continue;
        events.overflow = true;  // cannot happen with a valid kqueue; say "rescan"
        return events;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        Seen seen(events);
        for (int i = 0; i < n; ++i) Handle(got[i], events, seen);
        if (HasUnwatched() && Clock::now() >= next_poll_) PollUnwatched(seen);
      }
      if (events.woken || events.overflow || !events.changed.empty()) return events;
      if (n == 0 && Clock::now() >= deadline) return events;  // timed out
    }
  }

  void Wake() override {
    const char byte = 1;
    // EAGAIN: the pipe is full, so a wake-up is pending anyway.
    [[maybe_unused]] const ssize_t put = write(wake_write_, &byte, 1);
  }

 private:
  struct Node {
    fs::path path;     // the directory, or the file (dir / name)
    fs::path dir;      // the watched directory it belongs to
    std::string name;  // the file's name in it ("" for the directory)
    bool is_dir = false;
  };
  struct Dir {
    int fd = -1;
    std::set<std::string> names;                         // every entry at the last listing
    std::map<std::string, std::pair<int, Stamp>> files;  // watched: name -> fd, identity
    std::map<std::string, Stamp> unwatched;              // regular files polled instead
  };

  // Paths reported once per Wait.
  class Seen {
   public:
    explicit Seen(WatchEvents& events) : events_(events) {
      for (const fs::path& p : events.changed) seen_.insert(p.native());
    }
    void Add(const fs::path& p) {
      if (seen_.insert(p.native()).second) events_.changed.push_back(p);
    }

   private:
    WatchEvents& events_;
    std::unordered_set<std::string> seen_;
  };

  bool Register(int fd) {
    struct kevent change;
    EV_SET(&change, static_cast<uintptr_t>(fd), EVFILT_VNODE, EV_ADD | EV_CLEAR, kVnodeEvents, 0,
           nullptr);
    return kevent(kq_, &change, 1, nullptr, 0, nullptr) == 0;
  }

  size_t FileWatches() const { return nodes_.size() - dirs_.size(); }

  bool HasUnwatched() const {
    for (const auto& [path, d] : dirs_)
      if (!d.unwatched.empty()) return true;
    return false;
  }

  void CloseFile(Dir& d, const std::string& name) {
    const auto it = d.files.find(name);
    if (it == d.files.end()) return;
    nodes_.erase(it->second.first);
    close(it->second.first);  // closing removes its kevent
    d.files.erase(it);
  }

  // Watches the regular file `name` of `dir`; polls it when no descriptor is left.
  void WatchFile(const fs::path& dir, Dir& d, const std::string& name, const Stamp& stamp) {
    d.unwatched.erase(name);
    const fs::path path = dir / name;
    int fd = -1;
    if (FileWatches() < kMaxFileWatches)
      fd = open(path.c_str(), O_EVTONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0 && Register(fd)) {
      nodes_[fd] = Node{path, dir, name, false};
      d.files[name] = {fd, stamp};
      return;
    }
    if (fd >= 0) close(fd);
    d.unwatched[name] = stamp;
    if (next_poll_ == Clock::time_point::max()) next_poll_ = Clock::now() + kPollUnwatched;
  }

  // Lists `dir` and brings its file watches up to date. With `seen`, new and vanished
  // names, and names that now lead to another file, are reported.
  void Scan(const fs::path& dir, Dir& d, Seen* seen) {
    DIR* h = opendir(dir.c_str());
    if (!h) return;  // gone: its own NOTE_DELETE reports it
    std::set<std::string> now;
    while (const struct dirent* e = readdir(h)) {
      const std::string name(e->d_name);
      if (name == "." || name == "..") continue;
      now.insert(name);
    }
    closedir(h);
    for (const std::string& name : now) {
      const bool is_new = d.names.count(name) == 0;
      if (is_new && seen) seen->Add(dir / name);
      bool regular = false;
      const std::optional<Stamp> stamp = StatPath(dir / name, &regular);
      const auto watched = d.files.find(name);
      if (!stamp || !regular) {
        CloseFile(d, name);  // a directory, FIFO or dangling link is not watched
        d.unwatched.erase(name);
        continue;
      }
      if (watched != d.files.end()) {
        const Stamp& old = watched->second.second;
        if (old.dev == stamp->dev && old.ino == stamp->ino) continue;
        if (seen) seen->Add(dir / name);  // replaced (renamed over)
        CloseFile(d, name);
      } else if (d.unwatched.count(name)) {
        continue;  // polled already
      }
      WatchFile(dir, d, name, *stamp);
    }
    for (const std::string& name : d.names) {
      if (now.count(name)) continue;
      if (seen) seen->Add(dir / name);
      CloseFile(d, name);
      d.unwatched.erase(name);
    }
    d.names = std::move(now);
  }

  // Closes every watch of `dir`.
  void Drop(const fs::path& dir) {
    const auto it = dirs_.find(dir);
    if (it == dirs_.end()) return;
    Dir& d = it->second;
    while (!d.files.empty()) CloseFile(d, d.files.begin()->first);
    nodes_.erase(d.fd);
    close(d.fd);
    dirs_.erase(it);
  }

  void Handle(const struct kevent& ev, WatchEvents& events, Seen& seen) {
    const int fd = static_cast<int>(ev.ident);
    if (ev.filter == EVFILT_READ && fd == wake_read_) {
      char buf[256];
      // Bounded: bytes left over only make the next Wait() return woken at once.
      for (int i = 0; i < 16 && read(wake_read_, buf, sizeof buf) == sizeof buf; ++i) {
      }
      events.woken = true;
      return;
    }
    if ((ev.flags & EV_ERROR) != 0) {
      events.overflow = true;  // a registration failed: let the caller rescan
      return;
    }
    if (ev.filter != EVFILT_VNODE) return;
    const auto it = nodes_.find(fd);
    if (it == nodes_.end()) return;  // closed meanwhile
    const Node node = it->second;
    const auto dir_it = dirs_.find(node.dir);
    if (dir_it == dirs_.end()) return;
    if (node.is_dir) {
      if ((ev.fflags & kGone) != 0) {
        // Deleted or moved: its path would name the wrong entries now. The caller
        // watches the path again if a directory comes back there.
        seen.Add(node.path);
        Drop(node.dir);
      } else {
        Scan(node.dir, dir_it->second, &seen);
      }
      return;
    }
    seen.Add(node.path);
    if ((ev.fflags & kGone) != 0) {
      // The file left this name: stop watching it; whatever has the name now (a new
      // file after a rotation) is watched by listing the directory again.
      CloseFile(dir_it->second, node.name);
      Scan(node.dir, dir_it->second, &seen);
    }
  }

  // Compares the polled files' size and modification time with the last look.
  void PollUnwatched(Seen& seen) {
    next_poll_ = Clock::now() + kPollUnwatched;
    for (auto& [dir, d] : dirs_) {
      for (auto& [name, stamp] : d.unwatched) {
        const std::optional<Stamp> now = StatPath(dir / name, nullptr);
        if (now && *now == stamp) continue;
        seen.Add(dir / name);
        if (now) stamp = *now;
      }
    }
  }

  const int kq_;
  const int wake_read_;
  const int wake_write_;
  std::mutex mu_;  // guards the maps: Watch/Unwatch may run on another thread than Wait
  std::map<fs::path, Dir> dirs_;
  std::unordered_map<int, Node> nodes_;  // every open descriptor: directories and files
  Clock::time_point next_poll_ = Clock::time_point::max();
};

// A non-blocking, close-on-exec pipe (macOS has no pipe2).
bool MakePipe(int fds[2]) {
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
}

}  // namespace

std::unique_ptr<ChangeWatcher> CreateChangeWatcher(bool native) {
  if (!native) return CreatePollingWatcher();
  const int kq = kqueue();
  if (kq < 0) return CreatePollingWatcher();
  int fds[2];
  if (fcntl(kq, F_SETFD, FD_CLOEXEC) != 0 || !MakePipe(fds)) {
    close(kq);
    return CreatePollingWatcher();
  }
  struct kevent change;
  EV_SET(&change, static_cast<uintptr_t>(fds[0]), EVFILT_READ, EV_ADD, 0, 0, nullptr);
  if (kevent(kq, &change, 1, nullptr, 0, nullptr) != 0) {
    close(kq);
    close(fds[0]);
    close(fds[1]);
    return CreatePollingWatcher();
  }
  return std::make_unique<KqueueWatcher>(kq, fds[0], fds[1]);
}

}  // namespace outpost::platform
