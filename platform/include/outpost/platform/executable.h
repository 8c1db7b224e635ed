// The running binary and its replacement (self-update): where it is, making a new one
// durable, swapping it in, and running a program to ask it something.
//
// Errors are strings (this layer depends on nothing above it); every function returns
// false and says why in `error`.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace outpost::platform {

// The path of the running program, symlinks resolved.
bool SelfExecutablePath(std::filesystem::path& out, std::string* error);

// Flushes a file's data (fsync / FlushFileBuffers) or, with `directory`, a directory's
// entries (POSIX; a no-op on Windows, where renames are journaled by NTFS).
bool SyncPath(const std::filesystem::path& path, bool directory, std::string* error);

// Marks a file executable by everyone who can read it (0755; nothing on Windows).
bool MakeExecutable(const std::filesystem::path& path, std::string* error);

// Replacing the binary, in two calls (the updater journals between them). All paths
// are in one directory.
//  - KeepPrevious: POSIX: `previous` becomes a hard link to `target` (an old `previous`
//    is replaced); `target` is untouched. Windows: a running .exe cannot be replaced but
//    can be renamed: `target` is renamed to `previous`, and until InstallStaged there is
//    no `target` (the update journal puts `previous` back if InstallStaged never ran).
//  - InstallStaged: `staged` is renamed to `target` (over it, on POSIX) and the
//    directory fsynced. On POSIX `target` names a complete binary, old or new, at every
//    moment.
bool KeepPrevious(const std::filesystem::path& target, const std::filesystem::path& previous,
                  std::string* error);
bool InstallStaged(const std::filesystem::path& staged, const std::filesystem::path& target,
                   std::string* error);

struct ProgramResult {
  int exit_code = -1;      // -1 when killed or not started
  bool timed_out = false;  // killed after the timeout
  std::string output;      // stdout and stderr together, at most max_output bytes
};

// Runs `program` with `args` (no shell), stdin closed, waiting at most `timeout`
// (then killed). False only when it could not be started.
bool RunProgram(const std::filesystem::path& program, const std::vector<std::string>& args,
                std::chrono::milliseconds timeout, size_t max_output, ProgramResult& out,
                std::string* error);

// Restarting into a new binary while the old code watches its first start (self-update:
// a new binary that dies before its own code runs is put back by the old one).
//
// ExecWatched forks a detached watcher (a copy of this process: the old code), then
// replaces this process with `program` `args` (execv: the same pid, so a service
// manager keeps tracking it). The new program tells the watcher that it is up with
// ConfirmStarted. When it exits first, or has not confirmed within `timeout` (it is
// then killed), the watcher calls `on_failure(why)` and, if that returns true, replaces
// itself with `program` `args` again (by then the old binary is back), else exits.
// The watcher ignores SIGINT, SIGTERM and SIGHUP until it is done, so the stop a service
// manager sends after the main process died cannot cut a rollback short.
//
// Call it with no other thread running. Returns only on failure (the program could not
// be started; the watcher then exits without calling on_failure). POSIX; on Windows it
// fails with "not supported".
// True where ExecWatched and ExecProgram work (POSIX).
bool CanReplaceProcess();

struct StartWatch {
  std::chrono::milliseconds timeout{120000};
  std::function<bool(const std::string& why)> on_failure;
};
bool ExecWatched(const std::filesystem::path& program, const std::vector<std::string>& args,
                 const StartWatch& watch, std::string* error);

// Replaces this process with `program` `args` (execv), no watcher. Returns only on
// failure. POSIX; on Windows it fails with "not supported".
bool ExecProgram(const std::filesystem::path& program, const std::vector<std::string>& args,
                 std::string* error);

// In the started program: AdoptStartWatch (first thing in main) takes the watcher's
// channel from the environment so that no child process inherits it; ConfirmStarted
// (once the agent is up) tells the watcher and closes it. Both do nothing without a
// watcher.
void AdoptStartWatch();
void ConfirmStarted();

}  // namespace outpost::platform
