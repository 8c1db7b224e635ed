// executable.h on Windows: GetModuleFileNameW, FlushFileBuffers, MoveFileExW,
// CreateProcessW with a pipe. Replacing the running process (exec) has no Windows
// counterpart: a restart there goes through the service manager.
#include "outpost/platform/executable.h"

#include <algorithm>

#include "windows/windows_error.h"

namespace outpost::platform {
namespace {

bool Fail(std::string* error, const std::string& what) {
  if (error) *error = what + ": " + WindowsErrorMessage(GetLastError());
  return false;
}

std::wstring Widen(const std::string& s) {
  if (s.empty()) return {};
  const int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  std::wstring out(static_cast<size_t>(n > 0 ? n : 0), L'\0');
  if (n > 0) MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), out.data(), n);
  return out;
}

// One argument as CommandLineToArgvW and the C runtime read it back: quoted when it
// has blanks or quotes; a quote is escaped with a backslash, and backslashes double
// only before a quote (an escaped one, or the closing one).
void AppendQuoted(std::wstring& line, const std::wstring& arg) {
  if (!line.empty()) line.push_back(L' ');
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) {
    line += arg;
    return;
  }
  line.push_back(L'"');
  size_t backslashes = 0;
  for (const wchar_t c : arg) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    line.append(c == L'"' ? backslashes * 2 + 1 : backslashes, L'\\');
    backslashes = 0;
    line.push_back(c);
  }
  line.append(backslashes * 2, L'\\');
  line.push_back(L'"');
}

class Handle {
 public:
  explicit Handle(HANDLE h = nullptr) : h_(h) {}
  ~Handle() { reset(); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  HANDLE get() const { return h_; }
  HANDLE* out() { return &h_; }
  void reset() {
    if (h_ != nullptr && h_ != INVALID_HANDLE_VALUE) CloseHandle(h_);
    h_ = nullptr;
  }

 private:
  HANDLE h_;
};

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

bool RunProgram(const std::filesystem::path& program, const std::vector<std::string>& args,
                std::chrono::milliseconds timeout, size_t max_output, ProgramResult& out,
                std::string* error) {
  out = ProgramResult{};
  SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
  Handle read_end, write_end;
  if (!CreatePipe(read_end.out(), write_end.out(), &inherit, 0))
    return Fail(error, "cannot create a pipe");
  SetHandleInformation(read_end.get(), HANDLE_FLAG_INHERIT, 0);
  Handle null_in(CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherit,
                             OPEN_EXISTING, 0, nullptr));
  std::wstring line;
  AppendQuoted(line, program.wstring());
  for (const std::string& a : args) AppendQuoted(line, Widen(a));
  STARTUPINFOW si{};
  si.cb = sizeof(si);
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = null_in.get() == INVALID_HANDLE_VALUE ? nullptr : null_in.get();
  si.hStdOutput = write_end.get();
  si.hStdError = write_end.get();
  PROCESS_INFORMATION pi{};
  if (!CreateProcessW(program.c_str(), line.data(), nullptr, nullptr, TRUE, CREATE_NO_WINDOW,
                      nullptr, nullptr, &si, &pi))
    return Fail(error, "cannot start " + program.string());
  Handle process(pi.hProcess), thread(pi.hThread);
  write_end.reset();  // the child holds the only write end: its exit ends the pipe
  const ULONGLONG deadline = GetTickCount64() + static_cast<ULONGLONG>(timeout.count());
  char buf[4096];
  bool exited = false;
  for (;;) {
    DWORD avail = 0;
    if (!PeekNamedPipe(read_end.get(), nullptr, 0, nullptr, &avail, nullptr)) break;  // closed
    if (avail > 0) {
      DWORD n = 0;
      if (!ReadFile(read_end.get(), buf, std::min<DWORD>(avail, sizeof(buf)), &n, nullptr) ||
          n == 0)
        break;
      if (out.output.size() < max_output)
        out.output.append(buf, std::min<size_t>(n, max_output - out.output.size()));
      continue;
    }
    if (exited) break;  // exited and its output is drained
    if (GetTickCount64() >= deadline) {
      out.timed_out = true;
      TerminateProcess(process.get(), 1);
      break;
    }
    exited = WaitForSingleObject(process.get(), 20) == WAIT_OBJECT_0;
  }
  WaitForSingleObject(process.get(), 5000);
  DWORD code = 0;
  if (!out.timed_out && GetExitCodeProcess(process.get(), &code) && code != STILL_ACTIVE)
    out.exit_code = static_cast<int>(code);
  return true;
}

bool CanReplaceProcess() { return false; }

bool ExecWatched(const std::filesystem::path& program, const std::vector<std::string>&,
                 const StartWatch&, std::string* error) {
  if (error)
    *error = "restarting into " + program.string() +
             " is not available on Windows yet: the new binary runs at the next start of the "
             "agent";
  return false;
}

bool ExecProgram(const std::filesystem::path& program, const std::vector<std::string>&,
                 std::string* error) {
  if (error)
    *error = "restarting into " + program.string() +
             " is not available on Windows yet: it runs at the next start of the agent";
  return false;
}

void AdoptStartWatch() {}
void ConfirmStarted() {}

}  // namespace outpost::platform
