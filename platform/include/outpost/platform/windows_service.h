// `outpost run --service` on Windows: the same binary runs as the service that
// `outpost service install` registers with the Service Control Manager (SCM). The
// SCM starts the process, which must connect back to it (StartServiceCtrlDispatcherW)
// within 30 seconds; the service's ServiceMain then runs the agent and reports its
// state: START_PENDING while it starts, RUNNING once the agent says it is ready,
// STOP_PENDING after a stop, shutdown or preshutdown control (which sets the same stop
// flag as Ctrl+C, see signals.h), STOPPED with the agent's exit code.
//
// Other OSes have no SCM: RunWindowsService says so, and the Report functions are
// no-ops, so the agent calls them unconditionally (like ServiceNotifier on systemd).
#pragma once

#include <functional>
#include <string>

namespace outpost::platform {

// What RunWindowsService did.
enum class WindowsServiceOutcome {
  kRan,             // the agent ran as the service; exit_code is what it returned
  kNotUnderScm,     // started by hand, not by the SCM (ERROR_FAILED_SERVICE_CONTROLLER_CONNECT)
  kNotAvailable,    // not Windows
  kDispatchFailed,  // the dispatcher failed otherwise (*error says why)
};

#ifdef _WIN32
// Connects to the SCM and runs `agent` on the service's thread, returning when the
// service has stopped. `agent` returns the process exit code (0: a clean stop; any
// other value is reported to the SCM as a service-specific error).
WindowsServiceOutcome RunWindowsService(const std::function<int()>& agent, int& exit_code,
                                        std::string* error);

// The agent is up: SERVICE_RUNNING, accepting stop and shutdown. A no-op when not
// running as a service, or when a stop was already requested.
void ReportServiceRunning();
// The agent is on its way out: SERVICE_STOP_PENDING with a wait hint. A no-op when not
// running as a service.
void ReportServiceStopping();

// Sets the stop flag that StopRequested() reads and wakes the watcher given to
// InstallStopHandlers, as Ctrl+C does (signals_windows.cc). Safe from any thread, and
// before InstallStopHandlers: a stop asked for while the agent starts is kept.
void RequestStop();
#else
inline WindowsServiceOutcome RunWindowsService(const std::function<int()>&, int& exit_code,
                                               std::string* error) {
  exit_code = 2;
  if (error) *error = "run --service is for the Windows Service Control Manager";
  return WindowsServiceOutcome::kNotAvailable;
}
inline void ReportServiceRunning() {}
inline void ReportServiceStopping() {}
#endif

}  // namespace outpost::platform
