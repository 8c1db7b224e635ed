// Stop requests on Windows: Ctrl+C, Ctrl+Break, closing the console window, logoff
// and shutdown reach a console control handler, which Windows runs on a thread of
// its own. The handler sets a flag and wakes the agent's ChangeWatcher; the agent
// then seals, commits and exits on its own thread.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <atomic>
#include <thread>

#include "outpost/platform/change_watcher.h"
#include "outpost/platform/signals.h"
#include "outpost/platform/windows_service.h"

namespace outpost::platform {
namespace {

std::atomic<bool> g_stop_requested{false};
std::atomic<ChangeWatcher*> g_watcher{nullptr};
// Handlers currently running, so that RemoveStopHandlers can wait for one that has
// already loaded the watcher pointer before its caller destroys the watcher.
std::atomic<int> g_handlers_running{0};
// SetConsoleCtrlHandler keeps a list: register once however often Install is called.
std::atomic<bool> g_installed{false};
// A stop from the Service Control Manager (RequestStop): kept even when it arrives
// before InstallStopHandlers, which clears the console flag; the process then ends.
std::atomic<bool> g_service_stop{false};

BOOL WINAPI OnConsoleControl(DWORD type) {
  switch (type) {
    case CTRL_C_EVENT:
    case CTRL_BREAK_EVENT:
    case CTRL_CLOSE_EVENT:
    case CTRL_LOGOFF_EVENT:
    case CTRL_SHUTDOWN_EVENT:
      break;
    default:
      return FALSE;  // not ours: the next handler (or the default) decides
  }
  g_handlers_running.fetch_add(1);
  g_stop_requested.store(true);
  if (ChangeWatcher* watcher = g_watcher.load()) watcher->Wake();
  g_handlers_running.fetch_sub(1);
  if (type == CTRL_CLOSE_EVENT || type == CTRL_LOGOFF_EVENT || type == CTRL_SHUTDOWN_EVENT) {
    // Windows ends the process as soon as this handler returns. Give the agent the
    // few seconds Windows allows to commit and exit; its exit ends this wait early.
    Sleep(4000);
  }
  return TRUE;
}

}  // namespace

void InstallStopHandlers(ChangeWatcher* watcher) {
  g_stop_requested.store(false);
  g_watcher.store(watcher);
  if (!g_installed.exchange(true)) SetConsoleCtrlHandler(OnConsoleControl, TRUE);
}

void RemoveStopHandlers() {
  if (g_installed.exchange(false)) SetConsoleCtrlHandler(OnConsoleControl, FALSE);
  g_watcher.store(nullptr);
  while (g_handlers_running.load() != 0) std::this_thread::yield();
}

bool StopRequested() { return g_stop_requested.load() || g_service_stop.load(); }

void RequestStop() {
  g_handlers_running.fetch_add(1);
  g_service_stop.store(true);
  if (ChangeWatcher* watcher = g_watcher.load()) watcher->Wake();
  g_handlers_running.fetch_sub(1);
}

// Windows has no signal numbers for these requests.
int StopSignal() { return 0; }

void InstallReloadHandler() {}  // Windows has no SIGHUP; the service brings its own reload
bool TakeReloadRequest() { return false; }

}  // namespace outpost::platform
