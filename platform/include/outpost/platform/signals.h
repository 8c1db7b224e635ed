// Stop requests from the outside world: SIGINT and SIGTERM on POSIX, Ctrl+C, Ctrl+Break
// and console close on Windows. The handler only sets a flag and wakes the agent's
// ChangeWatcher; the agent then seals, commits and exits on its own thread.
#pragma once

namespace outpost::platform {

class ChangeWatcher;

// Installs the handlers; `watcher` (not owned, may be null) is woken on a request and
// must outlive the handlers (call RemoveStopHandlers before destroying it). Also
// ignores SIGPIPE on POSIX.
void InstallStopHandlers(ChangeWatcher* watcher);
void RemoveStopHandlers();

// True once a stop was requested.
bool StopRequested();
// The signal number that asked (POSIX), or 0.
int StopSignal();

// SIGHUP (POSIX; nothing on Windows, which has no such signal): after
// InstallReloadHandler a SIGHUP sets a flag and wakes the watcher given to
// InstallStopHandlers (call that first) instead of ending the process;
// RemoveStopHandlers puts the default back. TakeReloadRequest returns the flag and
// clears it.
void InstallReloadHandler();
bool TakeReloadRequest();

}  // namespace outpost::platform
