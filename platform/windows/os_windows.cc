// Windows: OS name, host name, console, default paths, TLS trust, file privacy.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
// After windows.h: GetProcessMemoryInfo (kernel32's K32 entry point on Windows 7+).
#include <psapi.h>

#include <cstdlib>
#include <fstream>

#include "outpost/platform/file_security.h"
#include "outpost/platform/paths.h"
#include "outpost/platform/system.h"
#include "outpost/platform/tls.h"

namespace outpost::platform {

std::string_view OsName() { return "windows"; }

std::string HostName() {
  char buf[MAX_COMPUTERNAME_LENGTH + 1] = {};
  DWORD n = sizeof buf;
  if (!GetComputerNameA(buf, &n) || n == 0) return "unknown";
  return std::string(buf, n);
}

bool IsTerminal(StdStream stream) {
  HANDLE h = GetStdHandle(stream == StdStream::kStdout ? STD_OUTPUT_HANDLE : STD_ERROR_HANDLE);
  DWORD mode = 0;
  if (h == INVALID_HANDLE_VALUE || h == nullptr || !GetConsoleMode(h, &mode)) return false;
  SetConsoleMode(h, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING);
  return true;
}

int TerminalColumns() {
  HANDLE h = GetStdHandle(STD_OUTPUT_HANDLE);
  CONSOLE_SCREEN_BUFFER_INFO info{};
  if (h == INVALID_HANDLE_VALUE || h == nullptr || !GetConsoleScreenBufferInfo(h, &info)) return 0;
  const int cols = info.srWindow.Right - info.srWindow.Left + 1;
  return cols > 0 ? cols : 80;
}

DefaultPaths GetDefaultPaths() {
  char buf[MAX_PATH] = {};
  const DWORD n = GetEnvironmentVariableA("ProgramData", buf, sizeof buf);
  const std::filesystem::path base = (n > 0 && n < sizeof buf)
                                         ? std::filesystem::path(buf)
                                         : std::filesystem::path("C:\\ProgramData");
  return {base / "outpost" / "outpost.toml", base / "outpost" / "state",
          (base / "outpost" / "logs" / "*.log").string()};
}

bool UsesSystemCertStore() { return true; }
std::vector<std::filesystem::path> CaBundleCandidates() { return {}; }
std::optional<std::filesystem::path> FindCaBundle() { return std::nullopt; }

FilePrivacy CheckFilePrivacy(const std::filesystem::path&) {
  FilePrivacy r;
  r.supported = false;
  r.detail = "the ACL check for secret-holding files is not available on Windows yet";
  return r;
}

std::string WritePrivateFile(const std::filesystem::path& path, std::string_view contents) {
  // ACLs restricting the file to Administrators and SYSTEM come with the Windows
  // service work; until then the file inherits its directory's ACL.
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return "cannot open for writing";
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) return "write failed";
  return {};
}

// Windows has no per-process descriptor limit of this kind.
unsigned long RaiseOpenFileLimit() { return 0; }

long ProcessId() { return static_cast<long>(GetCurrentProcessId()); }

std::chrono::nanoseconds ProcessCpuTime() {
  FILETIME created{}, exited{}, kernel{}, user{};
  if (!GetProcessTimes(GetCurrentProcess(), &created, &exited, &kernel, &user))
    return std::chrono::nanoseconds(0);
  auto ticks = [](const FILETIME& ft) {  // 100 ns units
    return (static_cast<uint64_t>(ft.dwHighDateTime) << 32) | ft.dwLowDateTime;
  };
  return std::chrono::nanoseconds((ticks(kernel) + ticks(user)) * 100);
}

uint64_t ProcessResidentBytes() {
  PROCESS_MEMORY_COUNTERS pmc{};
  pmc.cb = sizeof pmc;
  if (!GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc)) return 0;
  return static_cast<uint64_t>(pmc.WorkingSetSize);
}

// The Windows heap gives whole free segments back on its own.
void ReleaseFreeMemory() {}

bool SetProcessPriority(int nice, int io, std::string* error) {
  if (nice != 0 && !SetPriorityClass(GetCurrentProcess(), nice > 0 ? BELOW_NORMAL_PRIORITY_CLASS
                                                                   : ABOVE_NORMAL_PRIORITY_CLASS)) {
    if (error)
      *error =
          "cannot set the process priority class (error " + std::to_string(GetLastError()) + ")";
    return false;
  }
  if (io != 0) {
    if (error) *error = "an I/O priority is not available on Windows yet";
    return false;
  }
  return true;
}

}  // namespace outpost::platform
