// The change watcher: Wait() sleeps until its timeout or a Wake(), and on Linux the
// inotify watcher names what changed in a watched directory. Every wait here is
// bounded (at most 2 s) and expected to end early.
#include <catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "outpost/platform/change_watcher.h"
#include "test_files.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kLongWait(2000);  // "never": a passing test returns far sooner

void Append(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << text;
}

// Waits (at most kLongWait in all) until every path in `wanted` was reported.
// Returns the paths still missing.
std::set<fs::path> WaitForPaths(platform::ChangeWatcher& watcher, std::set<fs::path> wanted) {
  const auto deadline = Clock::now() + kLongWait;
  while (!wanted.empty()) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    for (const auto& p : watcher.Wait(left).changed) wanted.erase(p);
  }
  return wanted;
}

std::unique_ptr<platform::ChangeWatcher> NativeWatcherOrSkip() {
  auto watcher = platform::CreateChangeWatcher(true);
  if (!watcher->native()) WARN("no native change notification here: skipped");
  return watcher;
}

}  // namespace

TEST_CASE("Wait times out when nothing happens") {
  const bool native = GENERATE(true, false);
  INFO("native requested: " << native);
  auto watcher = platform::CreateChangeWatcher(native);
  testing::TempDir dir;
  std::string message;
  REQUIRE(watcher->WatchDirectory(dir.path(), &message));

  const auto start = Clock::now();
  const auto events = watcher->Wait(milliseconds(60));
  const auto elapsed = Clock::now() - start;
  CHECK_FALSE(events.woken);
  CHECK_FALSE(events.overflow);
  CHECK(events.changed.empty());
  CHECK(elapsed >= milliseconds(50));
  CHECK(elapsed < milliseconds(1500));
}

TEST_CASE("Wake from another thread ends a Wait early") {
  const bool native = GENERATE(true, false);
  INFO("native requested: " << native);
  auto watcher = platform::CreateChangeWatcher(native);
  const auto start = Clock::now();
  std::thread waker([&] {
    std::this_thread::sleep_for(milliseconds(30));
    watcher->Wake();
  });
  const auto events = watcher->Wait(kLongWait);
  const auto elapsed = Clock::now() - start;
  waker.join();
  CHECK(events.woken);
  CHECK(elapsed < milliseconds(1500));
}

TEST_CASE("Wake before Wait is kept for the next Wait, and wake-ups coalesce") {
  const bool native = GENERATE(true, false);
  INFO("native requested: " << native);
  auto watcher = platform::CreateChangeWatcher(native);
  watcher->Wake();
  watcher->Wake();
  watcher->Wake();
  const auto start = Clock::now();
  CHECK(watcher->Wait(kLongWait).woken);
  CHECK(Clock::now() - start < milliseconds(1500));
  CHECK_FALSE(watcher->Wait(milliseconds(30)).woken);
  CHECK_FALSE(watcher->Wait(milliseconds(0)).woken);  // a zero timeout only looks
}

TEST_CASE("the polling watcher is not native and watches anything without complaint") {
  auto watcher = platform::CreateChangeWatcher(false);
  CHECK_FALSE(watcher->native());
  std::string message;
  CHECK(watcher->WatchDirectory("/no/such/directory", &message));
  watcher->UnwatchDirectory("/no/such/directory");
  const auto events = watcher->Wait(milliseconds(10));
  CHECK_FALSE(events.woken);
  CHECK(events.changed.empty());
}

TEST_CASE("the native watcher reports created, written and renamed files by path") {
  auto watcher = NativeWatcherOrSkip();
  if (!watcher->native()) return;
  testing::TempDir dir;
  std::string message;
  REQUIRE(watcher->WatchDirectory(dir.path(), &message));
  REQUIRE(watcher->WatchDirectory(dir.path(), &message));  // twice is harmless

  const auto log = dir.Write("app.log", "one\n");
  CHECK(WaitForPaths(*watcher, {log}).empty());

  Append(log, "two\n");
  CHECK(WaitForPaths(*watcher, {log}).empty());

  const auto rotated = dir.path() / "app.log.1";
  fs::rename(log, rotated);
  CHECK(WaitForPaths(*watcher, {log, rotated}).empty());

  fs::remove(rotated);
  CHECK(WaitForPaths(*watcher, {rotated}).empty());

  // Nothing more happened: the next Wait times out.
  CHECK(watcher->Wait(milliseconds(30)).changed.empty());
}

TEST_CASE("the native watcher reports a path once per Wait however often it changed") {
  auto watcher = NativeWatcherOrSkip();
  if (!watcher->native()) return;
  testing::TempDir dir;
  const auto log = dir.Write("busy.log", "");
  std::string message;
  REQUIRE(watcher->WatchDirectory(dir.path(), &message));
  for (int i = 0; i < 50; ++i) Append(log, "line " + std::to_string(i) + "\n");

  const auto events = watcher->Wait(kLongWait);
  CHECK(std::count(events.changed.begin(), events.changed.end(), log) == 1);
  CHECK_FALSE(events.overflow);
}

TEST_CASE("the native watcher reports a watched directory that is deleted") {
  auto watcher = NativeWatcherOrSkip();
  if (!watcher->native()) return;
  testing::TempDir dir;
  const auto sub = dir.path() / "sub";
  fs::create_directory(sub);
  std::string message;
  REQUIRE(watcher->WatchDirectory(sub, &message));
  fs::remove(sub);
  CHECK(WaitForPaths(*watcher, {sub}).empty());

  // The same path can be watched again once it is back.
  fs::create_directory(sub);
  REQUIRE(watcher->WatchDirectory(sub, &message));
  const auto log = sub / "new.log";
  Append(log, "x");
  CHECK(WaitForPaths(*watcher, {log}).empty());
}

TEST_CASE("the native watcher reports a watched directory that is moved away") {
  auto watcher = NativeWatcherOrSkip();
  if (!watcher->native()) return;
  testing::TempDir dir;
  const auto sub = dir.path() / "sub";
  fs::create_directory(sub);
  std::string message;
  REQUIRE(watcher->WatchDirectory(sub, &message));
  fs::rename(sub, dir.path() / "elsewhere");
  CHECK(WaitForPaths(*watcher, {sub}).empty());
  // Its entries no longer live under the watched path: nothing is reported for them.
  Append(dir.path() / "elsewhere" / "moved.log", "x");
  const auto events = watcher->Wait(milliseconds(50));
  CHECK(std::count(events.changed.begin(), events.changed.end(), sub / "moved.log") == 0);
}

TEST_CASE("the native watcher stays quiet about a directory no longer watched") {
  auto watcher = NativeWatcherOrSkip();
  if (!watcher->native()) return;
  testing::TempDir dir;
  std::string message;
  REQUIRE(watcher->WatchDirectory(dir.path(), &message));
  watcher->UnwatchDirectory(dir.path());
  watcher->UnwatchDirectory(dir.path());  // twice is harmless
  dir.Write("ignored.log", "x");
  CHECK(watcher->Wait(milliseconds(50)).changed.empty());
}

TEST_CASE("the native watcher refuses what is not a directory, with a reason") {
  auto watcher = NativeWatcherOrSkip();
  if (!watcher->native()) return;
  testing::TempDir dir;
  std::string message;
  CHECK_FALSE(watcher->WatchDirectory(dir.path() / "missing", &message));
  CHECK_FALSE(message.empty());
  message.clear();
  const auto file = dir.Write("file.log", "x");
  CHECK_FALSE(watcher->WatchDirectory(file, &message));
  CHECK_FALSE(message.empty());
}

}  // namespace outpost
