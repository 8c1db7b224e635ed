// Windows change watcher: for now the polling watcher only (native() is false; a
// ReadDirectoryChangesW watcher comes later). Wait() sleeps in WaitForSingleObject on
// an auto-reset event with its timeout; Wake() sets the event, so a wake-up before
// Wait() is kept until the next Wait() consumes it.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <algorithm>
#include <atomic>

#include "outpost/platform/change_watcher.h"

namespace outpost::platform {
namespace {

class PollingWatcher final : public ChangeWatcher {
 public:
  PollingWatcher() : event_(CreateEventW(nullptr, FALSE, FALSE, nullptr)) {}
  ~PollingWatcher() override {
    if (event_ != nullptr) CloseHandle(event_);
  }
  PollingWatcher(const PollingWatcher&) = delete;
  PollingWatcher& operator=(const PollingWatcher&) = delete;

  bool native() const override { return false; }

  // Nothing to register: the caller rescans every directory when Wait() returns.
  bool WatchDirectory(const std::filesystem::path&, std::string*) override { return true; }
  void UnwatchDirectory(const std::filesystem::path&) override {}

  WatchEvents Wait(std::chrono::milliseconds timeout) override {
    WatchEvents events;
    // INFINITE is 0xFFFFFFFF ms; anything longer than ~49 days is cut just short of it,
    // which callers see as an early return with nothing to report.
    const DWORD ms = timeout.count() < 0
                         ? INFINITE
                         : static_cast<DWORD>(std::min<int64_t>(timeout.count(), INFINITE - 1));
    if (event_ == nullptr) {
      // No event (the system refused one): sleep in short slices, checking the flag.
      const ULONGLONG end = GetTickCount64() + ms;
      while (!(events.woken = woken_.exchange(false))) {
        const ULONGLONG now = GetTickCount64();
        if (ms != INFINITE && now >= end) break;
        Sleep(static_cast<DWORD>(ms == INFINITE ? 50 : std::min<ULONGLONG>(end - now, 50)));
      }
      return events;
    }
    events.woken = WaitForSingleObject(event_, ms) == WAIT_OBJECT_0;
    return events;
  }

  void Wake() override {
    if (event_ != nullptr) {
      SetEvent(event_);
    } else {
      woken_.store(true);
    }
  }

 private:
  HANDLE event_;
  std::atomic<bool> woken_{false};
};

}  // namespace

std::unique_ptr<ChangeWatcher> CreateChangeWatcher(bool /*native*/) {
  return std::make_unique<PollingWatcher>();
}

}  // namespace outpost::platform
