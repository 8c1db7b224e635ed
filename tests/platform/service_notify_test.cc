// The systemd notify protocol's portable half: when it is off, what the messages say.
#include <catch.hpp>

#include "outpost/platform/service_notify.h"
#include "outpost/platform/system.h"

namespace outpost {

using platform::ServiceNotifier;
using platform::ServiceNotifyEnvironment;

TEST_CASE("without NOTIFY_SOCKET every notification is a successful no-op") {
  ServiceNotifyEnvironment env;
  env.watchdog_usec = "60000000";  // a watchdog without a socket: nobody to ping
  env.pid = 42;
  const ServiceNotifier n(env);
  CHECK_FALSE(n.enabled());
  CHECK(n.problem().empty());
  CHECK_FALSE(n.watchdog_interval().has_value());
  std::string error;
  CHECK(n.Ready("up", &error));
  CHECK(n.Stopping({}, &error));
  CHECK(n.Reloading({}, &error));
  CHECK(n.Watchdog(&error));
  CHECK(n.Status("x", &error));
  CHECK(error.empty());
  CHECK_FALSE(ServiceNotifier().enabled());
}

TEST_CASE("an empty NOTIFY_SOCKET is the same as none") {
  ServiceNotifyEnvironment env;
  env.notify_socket = "";
  CHECK_FALSE(ServiceNotifier(env).enabled());
  CHECK(ServiceNotifier(env).problem().empty());
}

TEST_CASE("notify messages: a state, then STATUS with newlines flattened") {
  CHECK(ServiceNotifier::Message("READY=1", "") == "READY=1");
  CHECK(ServiceNotifier::Message("READY=1", "tailing 3 files") ==
        "READY=1\nSTATUS=tailing 3 files");
  // A newline in the status must not smuggle in another assignment.
  CHECK(ServiceNotifier::Message("STOPPING=1", "a\nREADY=1\r") == "STOPPING=1\nSTATUS=a READY=1 ");
}

TEST_CASE("systemd notification is honestly unavailable where there is no systemd") {
  if (platform::OsName() == "linux") return;
  ServiceNotifyEnvironment env;
  env.notify_socket = "/run/systemd/notify";
  const ServiceNotifier n(env);
  CHECK_FALSE(n.enabled());
  CHECK(n.problem().find("not available") != std::string::npos);
  CHECK(n.Ready());  // disabled: a no-op, so the agent's calls never fail
}

}  // namespace outpost
