// Internal to the platform layer (POSIX): the polling ChangeWatcher, and the poll()
// loop that the inotify watcher shares with it.
//
// The polling watcher has no kernel notification: Wait() sleeps in poll() on a
// self-pipe until its timeout or a Wake(), and the caller rescans on its own
// schedule. It serves macOS, and Linux when inotify is unavailable or not wanted.
#pragma once

#include <poll.h>

#include <chrono>
#include <memory>

#include "outpost/platform/change_watcher.h"

namespace outpost::platform {

// Never null. If the OS refuses the wake pipe (out of descriptors), Wait() still
// sleeps until its timeout but notices Wake() only every 50 ms.
std::unique_ptr<ChangeWatcher> CreatePollingWatcher();

// The end of a Wait(timeout) that starts now: time_point::max() for a negative
// (unlimited) timeout. Very long timeouts are cut to about 24 days, which callers
// see as an early return with nothing to report.
std::chrono::steady_clock::time_point WaitDeadline(std::chrono::milliseconds timeout);

// poll() until `deadline` (max(): without limit), retrying EINTR with the time left.
// Returns poll()'s result: 0 when the deadline passed, -1 with errno on error.
int PollUntil(struct pollfd* fds, nfds_t count, std::chrono::steady_clock::time_point deadline);

}  // namespace outpost::platform
