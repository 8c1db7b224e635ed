// The portable half of the systemd notify protocol: reading NOTIFY_SOCKET,
// WATCHDOG_USEC and WATCHDOG_PID, and composing the messages. Sending is per OS
// (service_notify_linux.cc, no_service_notify.cc).
#include <algorithm>
#include <charconv>
#include <cstdint>

#include "outpost/platform/service_notify.h"

namespace outpost::platform {
namespace {

// A decimal number with nothing around it; nullopt for anything else.
std::optional<uint64_t> ParseDecimal(const std::string& text) {
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [p, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || p != end) return std::nullopt;
  return v;
}

}  // namespace

ServiceNotifier::ServiceNotifier(const ServiceNotifyEnvironment& env) {
  if (!env.notify_socket || env.notify_socket->empty()) return;
  socket_ = *env.notify_socket;
  problem_ = CheckNotifySocket(socket_);
  if (!problem_.empty()) return;
  enabled_ = true;
  if (!env.watchdog_usec) return;
  if (env.watchdog_pid) {
    const std::optional<uint64_t> pid = ParseDecimal(*env.watchdog_pid);
    if (!pid) {
      problem_ = "WATCHDOG_PID '" + *env.watchdog_pid + "' is not a process id; not pinging";
      return;
    }
    // Set for another process (a parent that forked us): that one pings, not we.
    if (*pid != static_cast<uint64_t>(env.pid)) return;
  }
  const std::optional<uint64_t> usec = ParseDecimal(*env.watchdog_usec);
  // Up to 2^62 us (146,000 years): keeps microseconds arithmetic far from overflow.
  if (!usec || *usec == 0 || *usec > (uint64_t{1} << 62)) {
    problem_ = "WATCHDOG_USEC '" + *env.watchdog_usec +
               "' is not a positive number of microseconds; not pinging";
    return;
  }
  watchdog_ = std::chrono::microseconds(static_cast<int64_t>(*usec));
}

ServiceNotifier ServiceNotifier::FromEnvironment() {
  return ServiceNotifier(ReadNotifyEnvironment());
}

std::optional<std::chrono::microseconds> ServiceNotifier::watchdog_ping_period() const {
  if (!watchdog_) return std::nullopt;
  // At least 1 us, so a caller's timer never spins on a zero period.
  return std::max(*watchdog_ / 2, std::chrono::microseconds(1));
}

std::string ServiceNotifier::Message(std::string_view state, std::string_view status) {
  std::string m(state);
  if (!status.empty()) {
    m += "\nSTATUS=";
    for (const char c : status) m += (c == '\n' || c == '\r' || c == '\0') ? ' ' : c;
  }
  return m;
}

bool ServiceNotifier::Notify(std::string_view message, std::string* error) const {
  if (!enabled_) return true;
  return SendNotifyDatagram(socket_, message, error);
}

bool ServiceNotifier::Ready(std::string_view status, std::string* error) const {
  return Notify(Message("READY=1", status), error);
}

bool ServiceNotifier::Stopping(std::string_view status, std::string* error) const {
  return Notify(Message("STOPPING=1", status), error);
}

bool ServiceNotifier::Reloading(std::string_view status, std::string* error) const {
  if (!enabled_) return true;
  return Notify(Message("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(MonotonicMicros()), status),
                error);
}

bool ServiceNotifier::Watchdog(std::string* error) const {
  if (!watchdog_) return true;
  return Notify("WATCHDOG=1", error);
}

bool ServiceNotifier::Status(std::string_view status, std::string* error) const {
  // Message() with an empty state would start with a newline; build it directly.
  std::string m = Message("", status);
  if (m.empty()) return true;
  return Notify(std::string_view(m).substr(1), error);
}

}  // namespace outpost::platform
