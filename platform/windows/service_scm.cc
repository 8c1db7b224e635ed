// Windows: outpost as a service of the Service Control Manager (SCM). Changes go
// through %SystemRoot%\System32\sc.exe, so that `--dry-run` prints commands an
// administrator can read and type; questions go to the SCM's API directly
// (QueryServiceStatusEx, QueryServiceConfigW), whose answers need no parsing. The
// service runs this binary as `outpost.exe [--config FILE] run --service`
// (windows_service.h).
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <memory>
#include <vector>

#include "outpost/platform/service.h"
#include "windows/service_scm.h"
#include "windows/windows_error.h"

namespace outpost::platform {
namespace {

namespace fs = std::filesystem;

constexpr char kServiceName[] = "outpost";
constexpr wchar_t kServiceNameW[] = L"outpost";
constexpr char kDisplayName[] = "outpost agent";
constexpr char kDescription[] =
    "outpost endpoint agent: collects logs and device checks into a local buffer and ships "
    "them over HTTPS";
// Restart after 5 s, 5 s, then 60 s; the count of failures resets after a day.
constexpr char kFailureReset[] = "86400";
constexpr char kFailureActions[] = "restart/5000/restart/5000/restart/60000";

fs::path ScExe(const ServiceSettings& settings) {
  if (!settings.manager_program.empty()) return settings.manager_program;
  wchar_t dir[MAX_PATH];
  const UINT n = GetSystemDirectoryW(dir, MAX_PATH);
  fs::path system =
      n > 0 && n < MAX_PATH ? fs::path(std::wstring(dir, n)) : fs::path(L"C:\\Windows\\System32");
  return system / L"sc.exe";
}

ServiceStep Sc(const ServiceSettings& settings, std::vector<std::string> args,
               bool ignore_failure = false) {
  ServiceStep s;
  s.kind = ServiceStep::Kind::kRun;
  s.path = ScExe(settings);
  s.args = std::move(args);
  s.ignore_failure = ignore_failure;
  return s;
}

bool QuotePath(const fs::path& p, const char* what, std::string& out, std::string* error) {
  const std::string s = p.string();
  if (!p.is_absolute()) {
    if (error) *error = std::string(what) + " must be an absolute path: " + s;
    return false;
  }
  if (s.find('"') != std::string::npos) {
    if (error) *error = std::string(what) + " holds a double quote: " + s;
    return false;
  }
  // Always quoted: an unquoted path with a space is the classic service hijack
  // (C:\Program.exe runs instead of C:\Program Files\...).
  out = "\"" + s + "\"";
  return true;
}

std::string ConfigWord(const ServiceSettings& settings, std::string* error, bool& ok) {
  ok = true;
  if (settings.config.empty()) return "";
  std::string q;
  ok = QuotePath(settings.config, "the config file", q, error);
  return " --config " + q;
}

struct ScHandle {
  SC_HANDLE h = nullptr;
  explicit ScHandle(SC_HANDLE handle) : h(handle) {}
  ~ScHandle() {
    if (h != nullptr) CloseServiceHandle(h);
  }
  ScHandle(const ScHandle&) = delete;
  ScHandle& operator=(const ScHandle&) = delete;
};

// nullopt-like: -1 when the SCM cannot be asked, 0 not registered, 1 registered.
int Registered(std::string* error) {
  ScHandle manager(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (manager.h == nullptr) {
    if (error)
      *error = "cannot open the Service Control Manager: " + WindowsErrorMessage(GetLastError());
    return -1;
  }
  ScHandle service(OpenServiceW(manager.h, kServiceNameW, SERVICE_QUERY_STATUS));
  if (service.h != nullptr) return 1;
  const DWORD code = GetLastError();
  if (code == ERROR_SERVICE_DOES_NOT_EXIST) return 0;
  if (error) *error = "cannot open the service outpost: " + WindowsErrorMessage(code);
  return -1;
}

std::string Narrow(const wchar_t* w) {
  if (w == nullptr || *w == L'\0') return "";
  const int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, nullptr, 0, nullptr, nullptr);
  if (n <= 1) return "";
  std::string out(static_cast<size_t>(n - 1), '\0');
  WideCharToMultiByte(CP_UTF8, 0, w, -1, out.data(), n, nullptr, nullptr);
  return out;
}

class ScmControl final : public ServiceControl {
 public:
  explicit ScmControl(const ServiceSettings& s) : settings_(s) {}

  std::string_view manager() const override { return "scm"; }
  std::string_view service_name() const override { return kServiceName; }
  // The SCM keeps the registration in the registry, not in a file.
  fs::path unit_file() const override {
    return "HKLM\\SYSTEM\\CurrentControlSet\\Services\\outpost";
  }

  bool Plan(ServiceAction action, std::vector<ServiceStep>& steps,
            std::string* error) const override {
    if (!settings_.root.empty()) {
      if (error) *error = "--root (an offline image) is for systemd; the Windows SCM has none";
      return false;
    }
    const int registered = Registered(error);
    if (registered < 0) return false;
    return PlanScm(action, settings_, registered == 1, steps, error);
  }

  bool Query(ServiceState& out, std::string* error) const override {
    out = ServiceState{};
    out.unit_file = unit_file();
    ScHandle manager(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
    if (manager.h == nullptr) {
      if (error)
        *error = "cannot open the Service Control Manager: " + WindowsErrorMessage(GetLastError());
      return false;
    }
    ScHandle service(
        OpenServiceW(manager.h, kServiceNameW, SERVICE_QUERY_STATUS | SERVICE_QUERY_CONFIG));
    if (service.h == nullptr) {
      const DWORD code = GetLastError();
      if (code != ERROR_SERVICE_DOES_NOT_EXIST) {
        if (error) *error = "cannot open the service outpost: " + WindowsErrorMessage(code);
        return false;
      }
      out.queried = true;
      out.load_state = "not-found";
      out.active_state = "inactive";
      out.sub_state = "dead";
      return true;
    }
    out.installed = true;
    out.queried = true;
    out.load_state = "loaded";
    SERVICE_STATUS_PROCESS sp{};
    DWORD needed = 0;
    if (!QueryServiceStatusEx(service.h, SC_STATUS_PROCESS_INFO, reinterpret_cast<BYTE*>(&sp),
                              sizeof sp, &needed)) {
      if (error)
        *error =
            "cannot ask the SCM for the service's state: " + WindowsErrorMessage(GetLastError());
      return false;
    }
    // active_state in systemd's words (what ServiceState::running() and scripts know);
    // sub_state in the SCM's.
    switch (sp.dwCurrentState) {
      case SERVICE_RUNNING:
        out.active_state = "active", out.sub_state = "running";
        break;
      case SERVICE_START_PENDING:
        out.active_state = "activating", out.sub_state = "start-pending";
        break;
      case SERVICE_STOP_PENDING:
        out.active_state = "deactivating", out.sub_state = "stop-pending";
        break;
      case SERVICE_PAUSED:
      case SERVICE_PAUSE_PENDING:
      case SERVICE_CONTINUE_PENDING:
        out.active_state = "active", out.sub_state = "paused";
        break;
      default:
        // Stopped: "failed" when the agent exited with an error.
        out.active_state = sp.dwWin32ExitCode == NO_ERROR ? "inactive" : "failed";
        out.sub_state = "stopped";
        break;
    }
    if (sp.dwCurrentState != SERVICE_STOPPED) out.main_pid = static_cast<long>(sp.dwProcessId);
    needed = 0;
    QueryServiceConfigW(service.h, nullptr, 0, &needed);
    if (needed > 0) {
      std::vector<BYTE> buf(needed);
      auto* config = reinterpret_cast<QUERY_SERVICE_CONFIGW*>(buf.data());
      if (QueryServiceConfigW(service.h, config, needed, &needed)) {
        switch (config->dwStartType) {
          case SERVICE_AUTO_START:
          case SERVICE_BOOT_START:
          case SERVICE_SYSTEM_START:
            out.unit_file_state = "auto";
            break;
          case SERVICE_DEMAND_START:
            out.unit_file_state = "demand";
            break;
          case SERVICE_DISABLED:
            out.unit_file_state = "disabled";
            break;
          default:
            break;
        }
        const std::string command = Narrow(config->lpBinaryPathName);
        if (!command.empty()) out.unit_file = unit_file().string() + " (" + command + ")";
      }
    }
    return true;
  }

 private:
  ServiceSettings settings_;
};

}  // namespace

bool ScmCommandLine(const ServiceSettings& settings, std::string& out, std::string* error) {
  std::string binary;
  if (!QuotePath(settings.binary, "the binary", binary, error)) return false;
  bool ok = true;
  const std::string config = ConfigWord(settings, error, ok);
  if (!ok) return false;
  out = binary + config + " run --service";
  return true;
}

bool PlanScm(ServiceAction action, const ServiceSettings& settings, bool installed,
             std::vector<ServiceStep>& steps, std::string* error) {
  steps.clear();
  const std::string name = kServiceName;
  switch (action) {
    case ServiceAction::kInstall: {
      std::string command;
      if (!ScmCommandLine(settings, command, error)) return false;
      // A registered service gets the new command line (`sc config`): it takes effect
      // at its next start, and a running one keeps running (the start is then ignored).
      steps.push_back(Sc(settings, {installed ? "config" : "create", name, "binPath=", command,
                                    "start=", "auto", "DisplayName=", kDisplayName}));
      steps.push_back(Sc(settings, {"description", name, kDescription}));
      steps.push_back(
          Sc(settings, {"failure", name, "reset=", kFailureReset, "actions=", kFailureActions}));
      steps.push_back(Sc(settings, {"start", name}, installed));
      return true;
    }
    case ServiceAction::kUninstall:
      if (!installed) return true;  // nothing registered: nothing to do
      steps.push_back(Sc(settings, {"stop", name}, true));
      steps.push_back(Sc(settings, {"delete", name}));
      return true;
    case ServiceAction::kStart:
      steps.push_back(Sc(settings, {"start", name}));
      return true;
    case ServiceAction::kStop:
      steps.push_back(Sc(settings, {"stop", name}));
      return true;
  }
  return false;
}

std::unique_ptr<ServiceControl> CreateServiceControl(const ServiceSettings& settings,
                                                     std::string*) {
  return std::make_unique<ScmControl>(settings);
}

}  // namespace outpost::platform
