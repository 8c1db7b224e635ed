// Subprocess: a child program whose standard output the agent reads as a stream (the
// journal source runs `journalctl -o export --follow`). The child is started from an
// argument vector, never through a shell; its stdin is /dev/null (or NUL), its stdout
// is a pipe the caller drains with Read(), and the last few KiB of its stderr are kept
// for error messages.
//
// Read() never blocks. So that an idle caller can sleep, `on_output` (given at start)
// is called from a helper thread when stdout has data or reached its end after a Read()
// returned kWouldBlock (and once after the start); the caller typically wakes its
// ChangeWatcher from it. The object is used from one thread; on_output runs on another.
// Destroying it kills the child (SIGKILL) and reaps it.
//
// Where the OS has no implementation (Windows for now), StartSubprocess returns null
// with *error = "running a program is not supported on this platform".
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace outpost::platform {

class Subprocess {
 public:
  virtual ~Subprocess() = default;

  enum class ReadResult { kData, kWouldBlock, kEnd, kError };
  // Reads up to `size` bytes of the child's stdout into `buf` without blocking;
  // *got is the count for kData. kEnd: the child closed its stdout (it exited, as a
  // rule). kError: *error says why.
  virtual ReadResult Read(char* buf, size_t size, size_t* got, std::string* error) = 0;
  // Blocks up to `timeout` until stdout has data or reached its end (for callers that
  // read to the end, like `outpost run --once`). True when a Read() will not block.
  virtual bool WaitReadable(std::chrono::milliseconds timeout) = 0;
  // Sends SIGKILL (TerminateProcess); harmless after the child exited.
  virtual void Kill() = 0;
  // Nullopt while the child runs; once it ended, how: "exited with status 1",
  // "killed by signal 9". Reaps the child.
  virtual std::optional<std::string> Exited() = 0;
  // The last bytes (up to 4 KiB) the child wrote to stderr, for error messages.
  virtual std::string StderrTail() = 0;
  virtual long pid() const = 0;
};

// Starts argv[0] (looked up in PATH when it holds no '/') with the arguments argv[1..].
// Returns null and sets *error (e.g. "cannot run journalctl: No such file or
// directory") when the program cannot be started. On Linux the child is killed when
// the thread that started it ends (PR_SET_PDEATHSIG), so a kill -9 of the agent leaves
// no orphan; elsewhere the child ends at its next write to the closed pipe.
std::unique_ptr<Subprocess> StartSubprocess(const std::vector<std::string>& argv,
                                            std::function<void()> on_output, std::string* error);

}  // namespace outpost::platform
