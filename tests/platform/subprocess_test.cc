// The streaming subprocess: output read without blocking and woken by on_output, the
// exit status, stderr's tail, a program that cannot be started, Kill; on Windows the
// honest refusal.
#include <catch.hpp>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "outpost/platform/subprocess.h"

namespace outpost {
namespace {

using platform::Subprocess;

#ifndef _WIN32
// Reads stdout to its end (waiting with WaitReadable) and returns it.
std::string ReadAll(Subprocess& p) {
  std::string out;
  char buf[7];  // small on purpose: many reads
  for (int guard = 0; guard < 100000; ++guard) {
    size_t got = 0;
    std::string error;
    const Subprocess::ReadResult r = p.Read(buf, sizeof buf, &got, &error);
    if (r == Subprocess::ReadResult::kData) {
      out.append(buf, got);
    } else if (r == Subprocess::ReadResult::kWouldBlock) {
      p.WaitReadable(std::chrono::milliseconds(5000));
    } else {
      REQUIRE(r == Subprocess::ReadResult::kEnd);
      return out;
    }
  }
  FAIL("no end of output");
  return out;
}

std::optional<std::string> WaitExited(Subprocess& p) {
  for (int i = 0; i < 500; ++i) {
    if (auto how = p.Exited()) return how;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}
#endif

}  // namespace

#ifndef _WIN32
TEST_CASE("a subprocess's stdout is read to its end, with its exit status and stderr") {
  std::atomic<int> woken{0};
  std::string error;
  auto p = platform::StartSubprocess(
      // The output comes late, so the first Read finds nothing and arms the wake-up
      // (output that is there already is read without one).
      {"/bin/sh", "-c", "sleep 0.3; printf 'line one\\nline two\\n'; echo oops >&2; exit 3"},
      [&] { ++woken; }, &error);
  REQUIRE(p);
  CHECK(p->pid() > 0);
  CHECK(ReadAll(*p) == "line one\nline two\n");
  CHECK(WaitExited(*p) == std::optional<std::string>("exited with status 3"));
  // The helper thread reads stderr and calls on_output on its own time: under load it
  // may come after the last Read, so wait for both (bounded).
  for (int i = 0; i < 500 && (woken.load() == 0 || p->StderrTail() != "oops\n"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(p->StderrTail() == "oops\n");
  CHECK(woken.load() >= 1);
}

TEST_CASE("a program found in PATH gets its arguments unchanged, without a shell") {
  std::string error;
  auto p = platform::StartSubprocess({"echo", "a b", "$HOME", "*"}, nullptr, &error);
  REQUIRE(p);
  CHECK(ReadAll(*p) == "a b $HOME *\n");
  CHECK(WaitExited(*p) == std::optional<std::string>("exited with status 0"));
}

TEST_CASE("a missing program is an error naming it and the reason") {
  std::string error;
  auto p = platform::StartSubprocess({"/nonexistent/journalctl", "-o", "export"}, nullptr, &error);
  CHECK_FALSE(p);
  CHECK(error == "cannot run /nonexistent/journalctl: No such file or directory");
}

TEST_CASE("Kill ends a child that would run forever, and the status says so") {
  std::string error;
  auto p = platform::StartSubprocess({"/bin/sh", "-c", "sleep 600"}, nullptr, &error);
  REQUIRE(p);
  size_t got = 0;
  char buf[16];
  CHECK(p->Read(buf, sizeof buf, &got, &error) == Subprocess::ReadResult::kWouldBlock);
  CHECK_FALSE(p->Exited());
  p->Kill();
  CHECK(WaitExited(*p) == std::optional<std::string>("killed by signal 9"));
}
#else
TEST_CASE("running a program is refused honestly on Windows") {
  std::string error;
  auto p = platform::StartSubprocess({"journalctl"}, nullptr, &error);
  CHECK_FALSE(p);
  CHECK(error == "running a program is not supported on this platform");
}
#endif

}  // namespace outpost
