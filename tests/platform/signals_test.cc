// Stop requests: on POSIX, SIGTERM and SIGINT set the flag, name the signal and wake
// the watcher; removing the handlers restores the default actions. On Windows only
// installing and removing are checked: a console control event would reach every
// process on the console, the test runner's too.
#include <catch.hpp>

#include <chrono>

#include "outpost/platform/change_watcher.h"
#include "outpost/platform/signals.h"

#ifndef _WIN32
#include <signal.h>
#endif

namespace outpost {

#ifndef _WIN32
namespace {

void (*CurrentHandler(int sig))(int) {
  struct sigaction sa {};
  sigaction(sig, nullptr, &sa);
  return sa.sa_handler;
}

}  // namespace

TEST_CASE("SIGTERM requests a stop and wakes the watcher (POSIX)") {
  const bool native = GENERATE(true, false);
  INFO("native requested: " << native);
  auto watcher = platform::CreateChangeWatcher(native);
  platform::InstallStopHandlers(watcher.get());
  CHECK_FALSE(platform::StopRequested());
  CHECK(platform::StopSignal() == 0);
  CHECK(CurrentHandler(SIGPIPE) == SIG_IGN);

  REQUIRE(raise(SIGTERM) == 0);
  CHECK(platform::StopRequested());
  CHECK(platform::StopSignal() == SIGTERM);
  const auto start = std::chrono::steady_clock::now();
  CHECK(watcher->Wait(std::chrono::milliseconds(2000)).woken);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500));

  platform::RemoveStopHandlers();
  CHECK(CurrentHandler(SIGTERM) == SIG_DFL);
  CHECK(CurrentHandler(SIGINT) == SIG_DFL);
}

TEST_CASE("the first of several stop signals is the one reported (POSIX)") {
  platform::InstallStopHandlers(nullptr);  // no watcher: the flag alone
  CHECK_FALSE(platform::StopRequested());  // a new installation starts clear
  REQUIRE(raise(SIGINT) == 0);
  REQUIRE(raise(SIGTERM) == 0);
  CHECK(platform::StopRequested());
  CHECK(platform::StopSignal() == SIGINT);
  platform::RemoveStopHandlers();
}
#else
TEST_CASE("stop handlers install and remove cleanly (Windows)") {
  auto watcher = platform::CreateChangeWatcher();
  platform::InstallStopHandlers(watcher.get());
  platform::InstallStopHandlers(watcher.get());  // twice is harmless
  CHECK_FALSE(platform::StopRequested());
  CHECK(platform::StopSignal() == 0);
  platform::RemoveStopHandlers();
  platform::RemoveStopHandlers();
  CHECK_FALSE(watcher->Wait(std::chrono::milliseconds(0)).woken);
}
#endif

}  // namespace outpost
