// executable.h on Windows: GetModuleFileNameW, FlushFileBuffers, MoveFileExW.
// Running another program and reading its output is not written for Windows yet.
#include "outpost/platform/executable.h"

#include "windows/windows_error.h"

namespace outpost::platform {
namespace {

bool Fail(std::string* error, const std::string& what) {
  if (error) *error = what + ": " + WindowsErrorMessage(GetLastError());
  return false;
}

}  // namespace

bool SelfExecutablePath(std::filesystem::path& out, std::string* error) {
  std::wstring buf(32768, L'\0');
  const DWORD n = GetModuleFileNameW(nullptr, buf.data(), static_cast<DWORD>(buf.size()));
  if (n == 0 || n >= buf.size()) return Fail(error, "cannot find the running executable");
  buf.resize(n);
  out = std::filesystem::path(buf);
  return true;
}

bool SyncPath(const std::filesystem::path& path, bool directory, std::string* error) {
  if (directory) return true;
  HANDLE h = CreateFileW(path.c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                         OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) return Fail(error, "cannot open " + path.string() + " to sync it");
  const BOOL ok = FlushFileBuffers(h);
  CloseHandle(h);
  if (!ok) return Fail(error, "cannot sync " + path.string());
  return true;
}

bool MakeExecutable(const std::filesystem::path&, std::string*) { return true; }

bool KeepPrevious(const std::filesystem::path& target, const std::filesystem::path& previous,
                  std::string* error) {
  if (!MoveFileExW(target.c_str(), previous.c_str(),
                   MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
    return Fail(error, "cannot move " + target.string() + " aside to " + previous.string());
  return true;
}

bool InstallStaged(const std::filesystem::path& staged, const std::filesystem::path& target,
                   std::string* error) {
  if (!MoveFileExW(staged.c_str(), target.c_str(), MOVEFILE_WRITE_THROUGH))
    return Fail(error, "cannot move " + staged.string() + " to " + target.string());
  return true;
}

bool RunProgram(const std::filesystem::path& program, const std::vector<std::string>&,
                std::chrono::milliseconds, size_t, ProgramResult& out, std::string* error) {
  out = ProgramResult{};
  if (error)
    *error = "running " + program.string() +
             " to check it is not available on Windows yet (self-update preflight)";
  return false;
}

}  // namespace outpost::platform
