// The running binary and its replacement (self-update): where it is, making a new one
// durable, swapping it in, and running a program to ask it something.
//
// Errors are strings (this layer depends on nothing above it); every function returns
// false and says why in `error`.
#pragma once

#include <chrono>
#include <filesystem>
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

}  // namespace outpost::platform
