// sd_notify without libsystemd: datagrams to a path and to an abstract socket, the
// watchdog settings from WATCHDOG_USEC and WATCHDOG_PID.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch.hpp>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "outpost/platform/service_notify.h"
#include "test_files.h"

namespace outpost {
namespace {

using platform::ServiceNotifier;
using platform::ServiceNotifyEnvironment;
using std::chrono::microseconds;

// A datagram socket bound like systemd's notify socket: at a path, or at "@name".
class NotifyReceiver {
 public:
  explicit NotifyReceiver(const std::string& address) : address_(address) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(address.size() < sizeof(addr.sun_path));
    std::memcpy(addr.sun_path, address.data(), address.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address.size());
    if (address[0] == '@') {
      addr.sun_path[0] = '\0';
    } else {
      len += 1;
    }
    REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), len) == 0);
    timeval tv{2, 0};  // a missing datagram fails the test instead of hanging it
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifyReceiver() {
    ::close(fd_);
    if (address_[0] == '/') ::unlink(address_.c_str());
  }
  std::string Receive() {
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n < 0 ? "<nothing: " + std::string(std::strerror(errno)) + ">" : std::string(buf, n);
  }
  // True when no datagram waits.
  bool Empty() {
    char buf[16];
    return ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) < 0;
  }

 private:
  std::string address_;
  int fd_ = -1;
};

ServiceNotifyEnvironment Env(const std::string& socket) {
  ServiceNotifyEnvironment env;
  env.notify_socket = socket;
  env.pid = static_cast<long>(::getpid());
  return env;
}

}  // namespace

TEST_CASE("READY, STATUS, STOPPING and WATCHDOG reach a notify socket at a path") {
  testing::TempDir dir;
  const std::string path = (dir.path() / "notify").string();
  NotifyReceiver rx(path);
  ServiceNotifyEnvironment env = Env(path);
  env.watchdog_usec = "60000000";
  const ServiceNotifier n(env);
  REQUIRE(n.enabled());
  CHECK(n.problem().empty());
  CHECK(n.socket() == path);
  std::string error;
  REQUIRE(n.Ready("tailing 2 files", &error));
  CHECK(rx.Receive() == "READY=1\nSTATUS=tailing 2 files");
  REQUIRE(n.Watchdog(&error));
  CHECK(rx.Receive() == "WATCHDOG=1");
  REQUIRE(n.Status("uploading", &error));
  CHECK(rx.Receive() == "STATUS=uploading");
  REQUIRE(n.Stopping({}, &error));
  CHECK(rx.Receive() == "STOPPING=1");
  CHECK(error.empty());
}

TEST_CASE("RELOADING carries MONOTONIC_USEC, as systemd 253+ requires") {
  testing::TempDir dir;
  const std::string path = (dir.path() / "notify").string();
  NotifyReceiver rx(path);
  const ServiceNotifier n(Env(path));
  const long long before = platform::MonotonicMicros();
  REQUIRE(n.Reloading());
  const std::string m = rx.Receive();
  REQUIRE(m.rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
  const long long usec = std::stoll(m.substr(std::strlen("RELOADING=1\nMONOTONIC_USEC=")));
  CHECK(usec >= before);
  CHECK(usec <= platform::MonotonicMicros());
  REQUIRE(n.Ready());
  CHECK(rx.Receive() == "READY=1");
}

TEST_CASE("an abstract NOTIFY_SOCKET (@name) is reached without a file") {
  const std::string name = "@outpost-test-notify-" + std::to_string(::getpid());
  NotifyReceiver rx(name);
  const ServiceNotifier n(Env(name));
  REQUIRE(n.enabled());
  std::string error;
  REQUIRE(n.Ready({}, &error));
  CHECK(rx.Receive() == "READY=1");
  REQUIRE(n.Stopping("bye", &error));
  CHECK(rx.Receive() == "STOPPING=1\nSTATUS=bye");
}

TEST_CASE("a notify socket nobody listens on is an error, not a crash") {
  testing::TempDir dir;
  const ServiceNotifier n(Env((dir.path() / "nobody").string()));
  REQUIRE(n.enabled());
  std::string error;
  CHECK_FALSE(n.Ready({}, &error));
  CHECK(error.find("cannot notify") != std::string::npos);
}

TEST_CASE("a NOTIFY_SOCKET that is no address disables notification with a reason") {
  const std::vector<std::string> bads = {"relative/path", "@", "vsock:2:1234",
                                         "/" + std::string(200, 'x')};
  for (const std::string& bad : bads) {
    const ServiceNotifier n(Env(bad));
    INFO(bad);
    CHECK_FALSE(n.enabled());
    CHECK(n.problem().find("NOTIFY_SOCKET") != std::string::npos);
    CHECK(n.Ready());  // disabled: a no-op
  }
}

TEST_CASE("WATCHDOG_USEC gives the interval, and pings come at half of it") {
  ServiceNotifyEnvironment env = Env("/run/outpost-test/notify");
  env.watchdog_usec = "60000000";
  const ServiceNotifier n(env);
  REQUIRE(n.watchdog_interval().has_value());
  CHECK(*n.watchdog_interval() == microseconds(60000000));
  CHECK(*n.watchdog_ping_period() == microseconds(30000000));

  env.watchdog_usec = "1";
  CHECK(*ServiceNotifier(env).watchdog_ping_period() == microseconds(1));  // never zero

  env.watchdog_usec.reset();
  CHECK_FALSE(ServiceNotifier(env).watchdog_interval().has_value());
  CHECK_FALSE(ServiceNotifier(env).watchdog_ping_period().has_value());
}

TEST_CASE("a malformed WATCHDOG_USEC means no watchdog, with a reason") {
  for (const char* bad : {"", "0", "-5", "60s", " 60", "1e6", "99999999999999999999999"}) {
    ServiceNotifyEnvironment env = Env("/run/outpost-test/notify");
    env.watchdog_usec = bad;
    const ServiceNotifier n(env);
    INFO(bad);
    CHECK(n.enabled());  // READY and STOPPING still work
    CHECK_FALSE(n.watchdog_interval().has_value());
    CHECK(n.problem().find("WATCHDOG_USEC") != std::string::npos);
  }
}

TEST_CASE("WATCHDOG_PID: only the named process pings") {
  testing::TempDir dir;
  const std::string path = (dir.path() / "notify").string();
  NotifyReceiver rx(path);
  ServiceNotifyEnvironment env = Env(path);
  env.watchdog_usec = "10000000";

  env.watchdog_pid = std::to_string(::getpid());
  const ServiceNotifier mine(env);
  CHECK(*mine.watchdog_interval() == microseconds(10000000));
  REQUIRE(mine.Watchdog());
  CHECK(rx.Receive() == "WATCHDOG=1");

  env.watchdog_pid = std::to_string(::getpid() + 1);
  const ServiceNotifier other(env);
  CHECK(other.enabled());
  CHECK_FALSE(other.watchdog_interval().has_value());
  CHECK(other.problem().empty());
  REQUIRE(other.Watchdog());  // a no-op: nothing is sent
  CHECK(rx.Empty());

  env.watchdog_pid = "init";
  const ServiceNotifier bad(env);
  CHECK_FALSE(bad.watchdog_interval().has_value());
  CHECK(bad.problem().find("WATCHDOG_PID") != std::string::npos);
}

TEST_CASE("FromEnvironment reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID") {
  testing::TempDir dir;
  const std::string path = (dir.path() / "notify").string();
  NotifyReceiver rx(path);
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  ::setenv("WATCHDOG_USEC", "4000000", 1);
  ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
  const ServiceNotifier n = ServiceNotifier::FromEnvironment();
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  ::unsetenv("WATCHDOG_PID");
  REQUIRE(n.enabled());
  CHECK(*n.watchdog_ping_period() == microseconds(2000000));
  REQUIRE(n.Ready());
  CHECK(rx.Receive() == "READY=1");
  // The environment is left alone: a re-exec after a self-update still finds it.
  CHECK_FALSE(ServiceNotifier::FromEnvironment().enabled());
}

}  // namespace outpost
