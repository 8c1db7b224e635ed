// Facts about the machine and process that the build or the OS decides.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace outpost::platform {

// "linux", "windows" or "macos": the OS this binary was built for.
std::string_view OsName();
// "x86_64", "aarch64", ...: the CPU architecture this binary was built for.
std::string_view ArchName();
// The machine's host name, or "unknown" if the OS does not say.
std::string HostName();

enum class StdStream { kStdout, kStderr };
// True when the stream is an interactive terminal (colours, progress bars). On
// Windows this also switches the console to interpret ANSI escape sequences.
bool IsTerminal(StdStream stream);

// The width in columns of the terminal on stdout, or 0 when stdout is not one.
int TerminalColumns();

// Raises the soft limit on open files to the hard limit (a tailer may hold thousands
// of files open). Returns the limit now in force, or 0 where there is none to raise.
unsigned long RaiseOpenFileLimit();

// This process's id.
long ProcessId();

// Lowers (or raises, with privileges) this process's CPU and disk priority: `nice` as
// POSIX nice (-20..19), `io` 0 normal, 1 low (Linux: best-effort class, level 7), 2 idle.
// Call it before starting threads (Linux applies both per thread; new threads inherit
// them). Windows: nice > 0 is BELOW_NORMAL_PRIORITY_CLASS, < 0 ABOVE_NORMAL, io > 0
// background I/O is not set. False with `error` when the OS refused.
bool SetProcessPriority(int nice, int io, std::string* error);

// CPU time (user + system, all threads) this process has used since it started.
std::chrono::nanoseconds ProcessCpuTime();

// This process's resident memory in bytes; 0 when the OS does not say.
uint64_t ProcessResidentBytes();

// Gives memory the allocator holds free back to the OS where it keeps it (glibc's
// malloc_trim); nothing elsewhere.
void ReleaseFreeMemory();

}  // namespace outpost::platform
