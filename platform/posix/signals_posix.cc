// SIGINT and SIGTERM (stop) and SIGHUP (reload) on POSIX: the handler records the
// request in lock-free atomics and wakes the agent's ChangeWatcher (Wake is
// async-signal-safe); everything else happens on the agent's own thread. SIGPIPE is
// ignored so that a peer closing a socket or pipe is an error return, not the death of
// the agent.
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <thread>

#include "outpost/platform/change_watcher.h"
#include "outpost/platform/signals.h"

namespace outpost::platform {
namespace {

std::atomic<bool> g_stop_requested{false};
std::atomic<bool> g_reload_requested{false};
std::atomic<int> g_stop_signal{0};
std::atomic<ChangeWatcher*> g_watcher{nullptr};
// Handlers currently running, so that RemoveStopHandlers can wait for one that has
// already loaded the watcher pointer before its caller destroys the watcher.
std::atomic<int> g_handlers_running{0};

// Only lock-free atomics may be touched from a signal handler.
static_assert(std::atomic<bool>::is_always_lock_free);
static_assert(std::atomic<int>::is_always_lock_free);
static_assert(std::atomic<ChangeWatcher*>::is_always_lock_free);

extern "C" void OnStopSignal(int sig) {
  const int saved_errno = errno;
  g_handlers_running.fetch_add(1);
  int expected = 0;
  g_stop_signal.compare_exchange_strong(expected, sig);  // the first request names it
  g_stop_requested.store(true);
  if (ChangeWatcher* watcher = g_watcher.load()) watcher->Wake();
  g_handlers_running.fetch_sub(1);
  errno = saved_errno;
}

extern "C" void OnReloadSignal(int) {
  const int saved_errno = errno;
  g_handlers_running.fetch_add(1);
  g_reload_requested.store(true);
  if (ChangeWatcher* watcher = g_watcher.load()) watcher->Wake();
  g_handlers_running.fetch_sub(1);
  errno = saved_errno;
}

void SetDisposition(int sig, void (*handler)(int)) {
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  // One stop handler at a time: a second signal waits until the first returns.
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGTERM);
  sigaddset(&sa.sa_mask, SIGHUP);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking call returns EINTR and is retried
  sigaction(sig, &sa, nullptr);
}

}  // namespace

void InstallStopHandlers(ChangeWatcher* watcher) {
  g_stop_requested.store(false);
  g_stop_signal.store(0);
  g_watcher.store(watcher);
  SetDisposition(SIGPIPE, SIG_IGN);
  SetDisposition(SIGINT, OnStopSignal);
  SetDisposition(SIGTERM, OnStopSignal);
}

void InstallReloadHandler() {
  g_reload_requested.store(false);
  SetDisposition(SIGHUP, OnReloadSignal);
}

void RemoveStopHandlers() {
  SetDisposition(SIGINT, SIG_DFL);
  SetDisposition(SIGTERM, SIG_DFL);
  SetDisposition(SIGHUP, SIG_DFL);
  // SIGPIPE stays ignored: sockets and pipes may still be written during shutdown.
  g_watcher.store(nullptr);
  // A handler on another thread may still hold the old pointer; it runs for
  // microseconds. A handler interrupting this thread finishes before we get here.
  while (g_handlers_running.load() != 0) std::this_thread::yield();
}

bool StopRequested() { return g_stop_requested.load(); }

int StopSignal() { return g_stop_signal.load(); }

bool TakeReloadRequest() { return g_reload_requested.exchange(false); }

}  // namespace outpost::platform
