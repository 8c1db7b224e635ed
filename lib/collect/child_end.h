// How a child program whose output a source reads (journalctl, log) ended, once it
// closed its output: shared by the journal and unified-log sources.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "outpost/platform/subprocess.h"

namespace outpost {

struct ChildEnd {
  std::string how;          // "exited with status 0", "killed by signal 9", or "ended"
  std::string stderr_line;  // the last line the child wrote to stderr ("" when none)
};

// Closing its output means the child is exiting: it gets a moment (100 ms) to be reaped
// with its status before it is killed and reaped.
inline ChildEnd ReapChild(platform::Subprocess& proc) {
  auto wait = [&proc](std::optional<std::string>& how) {
    for (int i = 0; i < 50 && !how; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      how = proc.Exited();
    }
  };
  std::optional<std::string> how = proc.Exited();
  wait(how);
  if (!how) {
    proc.Kill();
    wait(how);
  }
  std::string tail = proc.StderrTail();
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
  if (const size_t nl = tail.rfind('\n'); nl != std::string::npos) tail.erase(0, nl + 1);
  return {how.value_or("ended"), std::move(tail)};
}

}  // namespace outpost
