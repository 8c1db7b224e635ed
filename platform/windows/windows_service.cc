// `outpost run --service`: the process side of a Windows service (windows_service.h).
// The main thread gives itself to StartServiceCtrlDispatcherW, which starts
// ServiceMain on a thread of its own and calls the control handler on the main thread;
// ServiceMain runs the agent and reports every state change to the SCM.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <atomic>
#include <mutex>

#include "outpost/platform/windows_service.h"
#include "windows/windows_error.h"

namespace outpost::platform {
namespace {

// The name is ignored for a SERVICE_WIN32_OWN_PROCESS service, but must be there.
wchar_t kServiceName[] = L"outpost";
// How long the SCM waits between two reports before it decides the service hangs:
// the agent opens buffer.db (a recovery can take a while) before it is ready, and
// seals and commits every open chunk before it stops.
constexpr DWORD kStartWaitHintMs = 60000;
constexpr DWORD kStopWaitHintMs = 30000;

const std::function<int()>* g_agent = nullptr;
int g_exit_code = 0;
bool g_ran = false;

std::mutex g_mutex;  // guards the status and its reports
SERVICE_STATUS_HANDLE g_handle = nullptr;
SERVICE_STATUS g_status{};
std::atomic<bool> g_stopping{false};

// Under g_mutex.
void Report(DWORD state, DWORD wait_hint_ms) {
  if (g_handle == nullptr) return;
  g_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  g_status.dwCurrentState = state;
  g_status.dwWaitHint = wait_hint_ms;
  g_status.dwControlsAccepted =
      state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
  // A pending state counts its progress: the SCM sees the agent is still working.
  if (state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING)
    ++g_status.dwCheckPoint;
  else
    g_status.dwCheckPoint = 0;
  SetServiceStatus(g_handle, &g_status);
}

DWORD WINAPI OnControl(DWORD control, DWORD, void*, void*) {
  switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
    case SERVICE_CONTROL_PRESHUTDOWN: {
      g_stopping.store(true);
      {
        std::lock_guard<std::mutex> lock(g_mutex);
        if (g_status.dwCurrentState != SERVICE_STOPPED)
          Report(SERVICE_STOP_PENDING, kStopWaitHintMs);
      }
      RequestStop();  // the agent seals, commits and returns on its own thread
      return NO_ERROR;
    }
    case SERVICE_CONTROL_INTERROGATE:
      return NO_ERROR;
    default:
      return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

void WINAPI ServiceMain(DWORD, LPWSTR*) {
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_handle = RegisterServiceCtrlHandlerExW(kServiceName, OnControl, nullptr);
    if (g_handle == nullptr) return;  // the dispatcher returns; nothing ran
    g_status = SERVICE_STATUS{};
    Report(SERVICE_START_PENDING, kStartWaitHintMs);
  }
  g_ran = true;
  int rc = 3;
  try {
    rc = (*g_agent)();
  } catch (...) {  // no exception may cross into the SCM's thread
    rc = 3;
  }
  g_exit_code = rc;
  std::lock_guard<std::mutex> lock(g_mutex);
  // 0: a clean stop. Else the SCM records ERROR_SERVICE_SPECIFIC_ERROR with the
  // agent's exit code, and the failure actions (restart) apply.
  g_status.dwWin32ExitCode = rc == 0 ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
  g_status.dwServiceSpecificExitCode = static_cast<DWORD>(rc);
  Report(SERVICE_STOPPED, 0);
  // After SERVICE_STOPPED the SCM may end the process at any time; the handle is
  // not used again.
  g_handle = nullptr;
}

}  // namespace

WindowsServiceOutcome RunWindowsService(const std::function<int()>& agent, int& exit_code,
                                        std::string* error) {
  g_agent = &agent;
  SERVICE_TABLE_ENTRYW table[] = {{kServiceName, ServiceMain}, {nullptr, nullptr}};
  if (!StartServiceCtrlDispatcherW(table)) {
    const DWORD code = GetLastError();
    g_agent = nullptr;
    exit_code = 2;
    if (code == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
      if (error)
        *error =
            "run --service is for the Service Control Manager (outpost service install); "
            "use outpost run";
      return WindowsServiceOutcome::kNotUnderScm;
    }
    exit_code = 3;
    if (error)
      *error = "cannot connect to the Service Control Manager: " + WindowsErrorMessage(code);
    return WindowsServiceOutcome::kDispatchFailed;
  }
  g_agent = nullptr;
  if (!g_ran) {
    exit_code = 3;
    if (error) *error = "the Service Control Manager did not start the service";
    return WindowsServiceOutcome::kDispatchFailed;
  }
  exit_code = g_exit_code;
  return WindowsServiceOutcome::kRan;
}

void ReportServiceRunning() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_stopping.load() || g_status.dwCurrentState != SERVICE_START_PENDING) return;
  Report(SERVICE_RUNNING, 0);
}

void ReportServiceStopping() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_status.dwCurrentState == SERVICE_STOPPED) return;
  Report(SERVICE_STOP_PENDING, kStopWaitHintMs);
}

}  // namespace outpost::platform
