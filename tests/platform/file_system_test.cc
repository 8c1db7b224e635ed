// The platform file system as the tailer relies on it: identity across renames,
// reading at offsets, an open file followed through rename and deletion, refusal of
// what is not a regular file (without blocking), and the error kinds.
#include <catch.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include "outpost/platform/file_system.h"
#include "test_files.h"

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace Catch {
template <>
struct StringMaker<outpost::platform::FileIdentity> {
  static std::string convert(const outpost::platform::FileIdentity& id) {
    return "{device " + std::to_string(id.device) + ", inode " + std::to_string(id.inode) + "}";
  }
};
}  // namespace Catch

namespace outpost {
namespace {

namespace fs = std::filesystem;
using platform::FileError;
using platform::FileInfo;
using platform::FileKind;

void Append(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << text;
}

FileInfo StatOrFail(const fs::path& path) {
  FileInfo info;
  std::string message;
  const FileError error = platform::StatPath(path, info, &message);
  INFO(path.string() << ": " << message);
  REQUIRE(error == FileError::kNone);
  return info;
}

std::unique_ptr<platform::ReadableFile> OpenOrFail(const fs::path& path) {
  FileError error = FileError::kIo;
  std::string message;
  auto file = platform::OpenReadable(path, error, message);
  INFO(path.string() << ": " << message);
  REQUIRE(file != nullptr);
  CHECK(error == FileError::kNone);
  return file;
}

std::string ReadString(platform::ReadableFile& file, uint64_t offset, size_t n) {
  std::string buf(n, '\0');
  std::string message;
  const int64_t got = file.ReadAt(offset, buf.data(), n, &message);
  INFO(message);
  REQUIRE(got >= 0);
  buf.resize(static_cast<size_t>(got));
  return buf;
}

}  // namespace

TEST_CASE("a file keeps its identity across a rename and a new file gets another") {
  testing::TempDir dir;
  const auto a = dir.Write("app.log", "first\n");
  const FileInfo before = StatOrFail(a);
  CHECK(before.kind == FileKind::kRegular);
  CHECK(before.size == 6);

  const auto rotated = dir.path() / "app.log.1";
  fs::rename(a, rotated);
  const FileInfo after = StatOrFail(rotated);
  CHECK(after.id == before.id);

  // The rotated file still exists, so the new one cannot reuse its inode.
  dir.Write("app.log", "second\n");
  const FileInfo fresh = StatOrFail(a);
  CHECK_FALSE(fresh.id == before.id);
  CHECK(fresh.id.device == before.id.device);
}

TEST_CASE("ReadAt reads at any offset and returns 0 at and past the end") {
  testing::TempDir dir;
  const auto path = dir.Write("f.log", "hello world");
  auto file = OpenOrFail(path);
  CHECK(ReadString(*file, 6, 5) == "world");
  CHECK(ReadString(*file, 0, 5) == "hello");
  CHECK(ReadString(*file, 0, 100) == "hello world");  // short count at the end only
  CHECK(ReadString(*file, 11, 10).empty());
  CHECK(ReadString(*file, 1'000'000, 10).empty());

  Append(path, "!\n");
  CHECK(ReadString(*file, 11, 10) == "!\n");  // what a writer adds is seen at once
}

TEST_CASE("an open file is followed through rename and shows its growth") {
  testing::TempDir dir;
  const auto path = dir.Write("app.log", "12345");
  auto file = OpenOrFail(path);
  FileInfo info;
  std::string message;
  REQUIRE(file->Stat(info, &message));
  CHECK(info.size == 5);
  CHECK(info.kind == FileKind::kRegular);
  const auto id = info.id;
  CHECK(StatOrFail(path).id == id);

  const auto rotated = dir.path() / "app.log.1";
  fs::rename(path, rotated);
  Append(rotated, "678");
  REQUIRE(file->Stat(info, &message));
  CHECK(info.id == id);
  CHECK(info.size == 8);
  CHECK(ReadString(*file, 5, 10) == "678");
}

#ifndef _WIN32
TEST_CASE("an open file is still read after it was deleted (POSIX)") {
  testing::TempDir dir;
  const auto path = dir.Write("app.log", "abc");
  auto file = OpenOrFail(path);
  {
    std::ofstream writer(path, std::ios::binary | std::ios::app);
    fs::remove(path);
    writer << "def";
  }
  CHECK_FALSE(fs::exists(path));
  FileInfo info;
  std::string message;
  REQUIRE(file->Stat(info, &message));
  CHECK(info.size == 6);
  CHECK(ReadString(*file, 0, 10) == "abcdef");
}
#endif

TEST_CASE("a directory is stat'ed but not opened") {
  testing::TempDir dir;
  FileInfo info;
  CHECK(platform::StatPath(dir.path(), info, nullptr) == FileError::kNone);
  CHECK(info.kind == FileKind::kDirectory);

  FileError error = FileError::kNone;
  std::string message;
  CHECK(platform::OpenReadable(dir.path(), error, message) == nullptr);
  CHECK(error == FileError::kNotRegular);
  CHECK(message == "is a directory");
}

#ifndef _WIN32
TEST_CASE("a FIFO is refused without blocking (POSIX)") {
  testing::TempDir dir;
  const auto fifo = dir.path() / "pipe";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);

  FileInfo info;
  CHECK(platform::StatPath(fifo, info, nullptr) == FileError::kNone);
  CHECK(info.kind == FileKind::kFifo);

  auto opened = std::async(std::launch::async, [&] {
    FileError error = FileError::kNone;
    std::string message;
    auto file = platform::OpenReadable(fifo, error, message);
    return std::make_pair(error, file == nullptr ? message : std::string("opened"));
  });
  if (opened.wait_for(std::chrono::seconds(2)) != std::future_status::ready) {
    // A writer releases a reader blocked in open(), so the test ends either way.
    const int fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    opened.wait();
    if (fd >= 0) close(fd);
    FAIL("OpenReadable blocked on a FIFO");
  }
  const auto [error, message] = opened.get();
  CHECK(error == FileError::kNotRegular);
  CHECK(message == "is a FIFO");
}
#endif

TEST_CASE("a missing file or directory is kNotFound") {
  testing::TempDir dir;
  [[maybe_unused]] const auto regular = dir.Write("file", "x");
  for (const auto& path : {dir.path() / "missing.log", dir.path() / "no-dir" / "f.log"}) {
    INFO(path.string());
    FileInfo info;
    std::string message;
    CHECK(platform::StatPath(path, info, &message) == FileError::kNotFound);
    CHECK_FALSE(message.empty());

    FileError error = FileError::kNone;
    message.clear();
    CHECK(platform::OpenReadable(path, error, message) == nullptr);
    CHECK(error == FileError::kNotFound);
    CHECK_FALSE(message.empty());
  }
#ifndef _WIN32
  // A regular file used as a directory (ENOTDIR) is "not found" too.
  FileInfo info;
  CHECK(platform::StatPath(regular / "x", info, nullptr) == FileError::kNotFound);
#endif
}

#ifndef _WIN32
TEST_CASE("a file the OS will not let us read is kPermissionDenied (POSIX)") {
  if (geteuid() == 0) {
    WARN("skipped: root reads every file");
    return;
  }
  testing::TempDir dir;
  const auto path = dir.Write("secret.log", "x");
  fs::permissions(path, fs::perms::none, fs::perm_options::replace);
  FileError error = FileError::kNone;
  std::string message;
  CHECK(platform::OpenReadable(path, error, message) == nullptr);
  CHECK(error == FileError::kPermissionDenied);
  CHECK(message == std::strerror(EACCES));

  // A directory without search permission hides its entries from stat() too.
  const auto locked = dir.path() / "locked";
  fs::create_directory(locked);
  dir.Write("locked/app.log", "x");
  fs::permissions(locked, fs::perms::owner_read, fs::perm_options::replace);
  FileInfo info;
  CHECK(platform::StatPath(locked / "app.log", info, nullptr) == FileError::kPermissionDenied);
  fs::permissions(locked, fs::perms::owner_all, fs::perm_options::replace);
}
#endif

#ifdef _WIN32
TEST_CASE("a file opened without sharing is kPermissionDenied (Windows)") {
  testing::TempDir dir;
  const auto path = dir.Write("exclusive.log", "x");
  HANDLE h = CreateFileW(path.c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  REQUIRE(h != INVALID_HANDLE_VALUE);
  FileError error = FileError::kNone;
  std::string message;
  CHECK(platform::OpenReadable(path, error, message) == nullptr);
  CHECK(error == FileError::kPermissionDenied);
  CHECK(message.find("(error 32)") != std::string::npos);  // ERROR_SHARING_VIOLATION
  CloseHandle(h);
}

TEST_CASE("an open file does not stop a writer from deleting it (Windows)") {
  testing::TempDir dir;
  const auto path = dir.Write("app.log", "abc");
  auto file = OpenOrFail(path);
  std::error_code ec;
  fs::remove(path, ec);
  CHECK_FALSE(ec);
  CHECK(ReadString(*file, 0, 10) == "abc");
}
#endif

}  // namespace outpost
