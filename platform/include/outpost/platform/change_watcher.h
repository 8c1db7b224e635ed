// Change notification for the file tailer: tells the agent that something happened in
// a directory it watches, so that an idle agent sleeps in the kernel instead of
// polling. inotify on Linux; everywhere else (and when inotify is unavailable or out
// of watches) a polling watcher that only sleeps until the timeout, and the caller
// rescans on its own schedule.
//
// Wait() is called from one thread. Wake() may be called from any thread and from a
// signal handler (it is async-signal-safe).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace outpost::platform {

struct WatchEvents {
  bool woken = false;     // Wake() was called
  bool overflow = false;  // events were lost: rescan everything
  // Full paths of entries created, written, moved or deleted in watched directories,
  // and of watched directories that were themselves deleted or moved. May repeat.
  std::vector<std::filesystem::path> changed;
};

class ChangeWatcher {
 public:
  virtual ~ChangeWatcher() = default;

  // True for kernel notification; false for the polling watcher (Wait only sleeps).
  virtual bool native() const = 0;

  // Watches `dir` for entries created, deleted, moved, written or closed after
  // writing. Watching a directory twice is harmless. Returns false with *message set
  // when the OS refuses (e.g. the inotify watch limit); the caller then polls.
  virtual bool WatchDirectory(const std::filesystem::path& dir, std::string* message) = 0;
  virtual void UnwatchDirectory(const std::filesystem::path& dir) = 0;

  // Blocks until an event arrives in a watched directory, Wake() is called, or
  // `timeout` passes (a negative timeout waits without limit). Never spins: an idle
  // agent stays blocked here.
  virtual WatchEvents Wait(std::chrono::milliseconds timeout) = 0;

  // Makes a current or the next Wait() return at once with woken = true.
  virtual void Wake() = 0;
};

// inotify where the OS has it and `native` is true, else the polling watcher.
std::unique_ptr<ChangeWatcher> CreateChangeWatcher(bool native = true);

}  // namespace outpost::platform
