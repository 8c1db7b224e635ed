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

// Puts `staged` at `target` and keeps the old `target` as `previous` (replaced if it
// exists). All three are in one directory.
//  - POSIX: `previous` is first made a hard link to the old binary, then `staged` is
//    renamed over `target` and the directory fsynced: at every moment `target` names a
//    complete binary, the old or the new one.
//  - Windows: a running .exe cannot be replaced but can be renamed: `target` is renamed
//    to `previous`, then `staged` to `target`. Between the two renames there is no
//    `target`; the update journal puts `previous` back if the second never happened.
bool SwapExecutable(const std::filesystem::path& staged, const std::filesystem::path& target,
                    const std::filesystem::path& previous, std::string* error);

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
