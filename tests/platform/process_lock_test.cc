// The process lock: one holder at a time, a refusal that names the holder's pid, and
// a lock that is free again once its holder lets go.
#include <catch.hpp>

#include <string>

#include "outpost/platform/process_lock.h"
#include "test_files.h"

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#include <unistd.h>
#endif

namespace outpost {
namespace {

unsigned long OwnPid() {
#ifdef _WIN32
  return GetCurrentProcessId();
#else
  return static_cast<unsigned long>(getpid());
#endif
}

}  // namespace

// flock() locks belong to an open file description and LockFileEx() locks to a
// handle, so a second attempt from this same process conflicts like another
// process's would.
TEST_CASE("a second lock on the same file is refused and names the holder's pid") {
  testing::TempDir dir;
  const auto path = dir.path() / "outpost.lock";
  std::string message;
  auto first = platform::TryLockFile(path, &message);
  INFO(message);
  REQUIRE(first != nullptr);

  auto second = platform::TryLockFile(path, &message);
  CHECK(second == nullptr);
  CHECK(message == "held by pid " + std::to_string(OwnPid()));
  CHECK(platform::TryLockFile(path, nullptr) == nullptr);  // no message wanted: fine

  first.reset();
  message.clear();
  auto third = platform::TryLockFile(path, &message);
  INFO(message);
  CHECK(third != nullptr);
}

TEST_CASE("a lock file that cannot be created is an error with a reason") {
  testing::TempDir dir;
  std::string message;
  CHECK(platform::TryLockFile(dir.path() / "missing-dir" / "outpost.lock", &message) == nullptr);
  CHECK(message.rfind("cannot open the lock file: ", 0) == 0);
}

}  // namespace outpost
