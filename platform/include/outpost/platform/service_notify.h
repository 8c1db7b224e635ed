// Telling the service manager how the agent is doing: systemd's notify protocol
// (sd_notify(3)), written without libsystemd. A Type=notify service finds a datagram
// socket in NOTIFY_SOCKET (a path, or "@name" for Linux's abstract namespace) and sends
// it newline-separated assignments: READY=1 once started, STOPPING=1 on the way out,
// RELOADING=1 while re-reading its config, STATUS=... for `systemctl status`, and
// WATCHDOG=1 at least once per WATCHDOG_USEC when the unit sets WatchdogSec=.
//
// When NOTIFY_SOCKET is not set (run by hand, by cron, by another manager) every call
// is a successful no-op, so the agent calls them unconditionally. On Windows and macOS
// the notifier is never enabled (their managers have their own protocols).
//
// Every method is const and opens its own socket: safe to call from any thread. The
// environment is read once and not modified (a re-exec after a self-update still finds
// it). Errors are strings: this layer depends on nothing above it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace outpost::platform {

// What the service manager put into the process environment (absent = not set).
struct ServiceNotifyEnvironment {
  std::optional<std::string> notify_socket;  // NOTIFY_SOCKET
  std::optional<std::string> watchdog_usec;  // WATCHDOG_USEC
  std::optional<std::string> watchdog_pid;   // WATCHDOG_PID
  long pid = 0;                              // this process's id
};

class ServiceNotifier {
 public:
  // Disabled: every call is a no-op.
  ServiceNotifier() = default;
  // From explicit values (tests, or a caller that read the environment itself).
  explicit ServiceNotifier(const ServiceNotifyEnvironment& env);
  // From this process's environment.
  static ServiceNotifier FromEnvironment();

  // True when NOTIFY_SOCKET names a usable socket address on this OS.
  bool enabled() const { return enabled_; }
  // NOTIFY_SOCKET as given ("" when unset).
  const std::string& socket() const { return socket_; }
  // Why the environment was not usable (a malformed NOTIFY_SOCKET or WATCHDOG_USEC), for
  // one log line at start-up; "" when all is well or nothing was set.
  const std::string& problem() const { return problem_; }

  // The watchdog timeout from WATCHDOG_USEC, when notification is enabled, the value is
  // a positive integer and WATCHDOG_PID is unset or names this process. nullopt: no
  // watchdog, do not ping.
  std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_; }
  // How often to call Watchdog(): half the interval (what sd_watchdog_enabled(3)
  // recommends), so one late ping does not get the service killed.
  std::optional<std::chrono::microseconds> watchdog_ping_period() const;

  // "READY=1" plus "STATUS=<status>" when `status` is not empty. Also after a reload.
  bool Ready(std::string_view status = {}, std::string* error = nullptr) const;
  // "STOPPING=1": the agent is shutting down.
  bool Stopping(std::string_view status = {}, std::string* error = nullptr) const;
  // "RELOADING=1" with "MONOTONIC_USEC=<CLOCK_MONOTONIC now>" (systemd 253+ needs the
  // timestamp); call Ready() when the reload is done.
  bool Reloading(std::string_view status = {}, std::string* error = nullptr) const;
  // "WATCHDOG=1". A no-op unless watchdog_interval() has a value.
  bool Watchdog(std::string* error = nullptr) const;
  // "STATUS=<status>": one line of free text shown by `systemctl status`.
  bool Status(std::string_view status, std::string* error = nullptr) const;

  // Sends `message` (newline-separated assignments) as one datagram. True when sent or
  // when notification is disabled; false with *error when the socket refused it.
  bool Notify(std::string_view message, std::string* error = nullptr) const;

  // The datagram for a state plus an optional STATUS (newlines in `status` become
  // spaces so it cannot add assignments). Exposed for tests.
  static std::string Message(std::string_view state, std::string_view status);

 private:
  bool enabled_ = false;
  std::string socket_;
  std::string problem_;
  std::optional<std::chrono::microseconds> watchdog_;
};

// Platform part (service_notify_<os>.cc): whether this OS can address `socket`
// ("" when it can, else why not), and sending one datagram to it.
std::string CheckNotifySocket(const std::string& socket);
bool SendNotifyDatagram(const std::string& socket, std::string_view message, std::string* error);
// CLOCK_MONOTONIC in microseconds (what MONOTONIC_USEC means), 0 where there is none.
long long MonotonicMicros();
// The environment of this process.
ServiceNotifyEnvironment ReadNotifyEnvironment();

}  // namespace outpost::platform
