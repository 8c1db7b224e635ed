// bench/idle: what the agent costs when there is nothing to do, and how fast it is ready.
//
// Writes a small log file and a config with one [[source.file]] on it (start_at =
// "beginning"; with --output also a native [output] to scripts/dev-receiver.py over
// HTTPS on 127.0.0.1), then runs the real binary, `outpost run`, as a child process:
//  - startup: NOTIFY_SOCKET names an abstract unix datagram socket bound here, and the
//    time from spawn to the agent's READY=1 (sent once its sources started, see
//    app/cmd_run.cc) is the startup time. --starts runs: the first on a fresh state
//    directory (buffer.db created), the others on the existing one; each is stopped
//    with SIGTERM and the time to its exit is the stop time;
//  - idle: one more start, --settle seconds to read the file and commit, then over
//    --seconds it samples the process: VmRSS every second (peak and mean), CPU time
//    (the sum of the threads' run time from /proc/PID/task/*/schedstat) and context
//    switches (voluntary + nonvoluntary of every thread, /proc/PID/task/*/status), whose
//    delta over the window per second is the wakeup rate. Per-thread figures show which
//    thread wakes.
// A program, not a test: it asserts nothing about speed; it exits 1 when the agent does
// not start or dies.
//
// Usage: outpost_bench_idle [--seconds N (60)] [--starts N (5)] [--settle N (2)]
//                           [--output] [--limits] [--binary PATH] [--receiver PATH]
//                           [--dir DIR] [--keep] [--json]
// (--limits: also [limits] max_cpu_percent = 50 and max_memory = "64MiB", to see that the
// governor costs nothing while idle)
// Linux only (posix_spawn, /proc, abstract unix sockets); not built for Windows.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

double MsSince(SteadyClock::time_point t0) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void ShowFile(const char* what, const fs::path& path) {
  std::string text = ReadFile(path);
  if (text.size() > 4000) text = "..." + text.substr(text.size() - 4000);
  std::fprintf(stderr, "--- %s (%s) ---\n%s\n", what, path.string().c_str(), text.c_str());
}

std::string TomlString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// --- child processes ---------------------------------------------------------------------

// Starts argv[0] (searched in PATH) with stdin from /dev/null, stdout/stderr to the given
// files and `env` as its environment. Returns the pid, or -1 with a message on stderr.
pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env,
            const fs::path& out, const fs::path& err) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    std::fprintf(stderr, "cannot start %s: %s\n", argv[0].c_str(), std::strerror(rc));
    return -1;
  }
  return pid;
}

// This process's environment without what a service manager would set, plus `extra`.
std::vector<std::string> ChildEnvironment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view v(*e);
    if (v.rfind("NOTIFY_SOCKET=", 0) == 0 || v.rfind("WATCHDOG_", 0) == 0 ||
        v.rfind("INVOCATION_ID=", 0) == 0 || v.rfind("LISTEN_", 0) == 0)
      continue;
    env.emplace_back(v);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// Exit status (or 128 + signal) of a child, waiting at most `timeout`; SIGKILL after it.
int Reap(pid_t pid, std::chrono::milliseconds timeout, struct rusage* usage = nullptr) {
  const auto deadline = SteadyClock::now() + timeout;
  int ws = 0;
  struct rusage ru {};
  for (;;) {
    const pid_t r = wait4(pid, &ws, WNOHANG, &ru);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return -1;
    if (SteadyClock::now() > deadline) {
      kill(pid, SIGKILL);
      if (wait4(pid, &ws, 0, &ru) != pid) return -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (usage) *usage = ru;
  return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
}

// --- the notify socket -------------------------------------------------------------------

class NotifySocket {
 public:
  NotifySocket() = default;
  ~NotifySocket() {
    if (fd_ >= 0) close(fd_);
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // Binds the abstract socket @name; false with a message on stderr.
  bool Bind(const std::string& name) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return Fail("socket");
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (name.size() + 1 > sizeof addr.sun_path) return Fail("name too long");
    std::memcpy(addr.sun_path + 1, name.data(), name.size());
    const socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    if (bind(fd_, reinterpret_cast<const sockaddr*>(&addr), len) != 0) return Fail("bind");
    name_ = "@" + name;
    return true;
  }
  const std::string& name() const { return name_; }

  // Waits until a datagram with the line `state` (e.g. "READY=1") arrives, the child
  // exits or `timeout` passes; true when it arrived.
  bool WaitFor(const std::string& state, pid_t child, std::chrono::milliseconds timeout) {
    const auto deadline = SteadyClock::now() + timeout;
    char buf[4096];
    while (SteadyClock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      const int r = poll(&p, 1, 50);
      if (r > 0) {
        const ssize_t n = recv(fd_, buf, sizeof buf - 1, 0);
        if (n <= 0) continue;
        std::istringstream lines(std::string(buf, static_cast<size_t>(n)));
        std::string line;
        while (std::getline(lines, line))
          if (line == state) return true;
        continue;
      }
      if (r < 0 && errno != EINTR) return false;
      siginfo_t info{};  // an exit is looked at, not reaped (the caller reaps)
      if (waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          info.si_pid == child)
        return false;
    }
    return false;
  }

 private:
  bool Fail(const char* what) {
    std::fprintf(stderr, "notify socket: %s: %s\n", what, std::strerror(errno));
    return false;
  }
  int fd_ = -1;
  std::string name_;
};

// --- /proc sampling ----------------------------------------------------------------------

struct ThreadSample {
  std::string name;
  uint64_t voluntary = 0;
  uint64_t nonvoluntary = 0;
  uint64_t run_ns = 0;  // time on a CPU (schedstat)
};

// Per thread id: name, context switches and run time of every thread of `pid`.
std::map<int, ThreadSample> SampleThreads(pid_t pid) {
  std::map<int, ThreadSample> out;
  const std::string base = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(base.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const int tid = std::atoi(e->d_name);
    ThreadSample s;
    std::ifstream status(base + "/" + e->d_name + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("Name:", 0) == 0) {
        s.name = line.substr(5);
        s.name.erase(0, s.name.find_first_not_of(" \t"));
      } else if (line.rfind("voluntary_ctxt_switches:", 0) == 0) {
        s.voluntary = std::strtoull(line.c_str() + 24, nullptr, 10);
      } else if (line.rfind("nonvoluntary_ctxt_switches:", 0) == 0) {
        s.nonvoluntary = std::strtoull(line.c_str() + 27, nullptr, 10);
      }
    }
    std::ifstream sched(base + "/" + e->d_name + "/schedstat");
    unsigned long long ns = 0;
    if (sched >> ns) s.run_ns = ns;
    out[tid] = s;
  }
  closedir(d);
  return out;
}

// A field of /proc/PID/status in KiB ("VmRSS", "RssAnon", ...), or -1.
long StatusKib(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + key.size());
  return -1;
}

// --- options -----------------------------------------------------------------------------

fs::path SelfDir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : exe.parent_path();
}

fs::path DefaultBinary() {
  std::error_code ec;
  const fs::path next_to_us = SelfDir() / ".." / "app" / "outpost";
  if (fs::exists(next_to_us, ec)) return fs::weakly_canonical(next_to_us, ec);
#ifdef OUTPOST_BINARY
  return OUTPOST_BINARY;
#else
  return next_to_us;
#endif
}

fs::path DefaultReceiver() {
#ifdef OUTPOST_SOURCE_DIR
  return fs::path(OUTPOST_SOURCE_DIR) / "scripts" / "dev-receiver.py";
#else
  return SelfDir() / ".." / ".." / ".." / "scripts" / "dev-receiver.py";
#endif
}

int Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--seconds N (default 60)] [--starts N (default 5)]\n"
               "       [--settle N (default 2)] [--output] [--limits] [--binary PATH]\n"
               "       [--receiver PATH] [--dir DIR] [--keep] [--json]\n",
               argv0);
  return 2;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Receiver {
  pid_t pid = -1;
  ~Receiver() { Stop(); }
  void Stop() {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    (void)Reap(pid, std::chrono::seconds(10));
    pid = -1;
  }
};

// Starts make-test-ca.sh and dev-receiver.py (--discard) in `dir`; the port, or 0.
int StartReceiver(const fs::path& script, const fs::path& dir, Receiver& receiver) {
  const fs::path ca = dir / "ca";
  const std::vector<std::string> env = ChildEnvironment({});
  const pid_t ca_pid = Spawn({(script.parent_path() / "make-test-ca.sh").string(), ca.string()},
                             env, dir / "make-test-ca.out", dir / "make-test-ca.err");
  if (ca_pid < 0 || Reap(ca_pid, std::chrono::seconds(60)) != 0) {
    ShowFile("make-test-ca.sh stderr", dir / "make-test-ca.err");
    return 0;
  }
  const fs::path port_file = dir / "receiver.port";
  receiver.pid =
      Spawn({"python3", script.string(), "--tls-dir", ca.string(), "--port", "0", "--port-file",
             port_file.string(), "--store", (dir / "received").string(), "--discard"},
            env, dir / "receiver.out", dir / "receiver.err");
  if (receiver.pid < 0) return 0;
  for (auto deadline = SteadyClock::now() + std::chrono::seconds(20);
       SteadyClock::now() < deadline;) {
    const int port = std::atoi(ReadFile(port_file).c_str());
    if (port > 0) return port;
    int ws = 0;
    if (waitpid(receiver.pid, &ws, WNOHANG) == receiver.pid) {
      receiver.pid = -1;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ShowFile("receiver stderr", dir / "receiver.err");
  return 0;
}

// A few hundred varied lines for the agent to read at start.
bool WriteLog(const fs::path& path) {
  std::ofstream out(path, std::ios::binary);
  for (int i = 0; i < 500; ++i)
    out << "Jan  1 00:00:" << (i % 60 < 10 ? "0" : "") << i % 60 << " host-" << i % 16 << " sshd["
        << 1000 + i << "]: Accepted publickey for deploy from 10.0." << i % 256 << "."
        << (i * 7) % 256 << " port " << 40000 + i << " ssh2\n";
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 60;
  int starts = 5;
  int settle = 2;
  bool with_output = false;
  bool with_limits = false;
  bool keep = false;
  bool json = false;
  fs::path binary = DefaultBinary();
  fs::path receiver_script = DefaultReceiver();
  fs::path dir = fs::temp_directory_path() / "outpost-bench-idle";
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--seconds") && has_value) {
      seconds = std::atoi(argv[++i]);
      if (seconds < 1) return Usage(argv[0]);
    } else if (!std::strcmp(argv[i], "--starts") && has_value) {
      starts = std::atoi(argv[++i]);
      if (starts < 1) return Usage(argv[0]);
    } else if (!std::strcmp(argv[i], "--settle") && has_value) {
      settle = std::atoi(argv[++i]);
      if (settle < 0) return Usage(argv[0]);
    } else if (!std::strcmp(argv[i], "--binary") && has_value) {
      binary = argv[++i];
    } else if (!std::strcmp(argv[i], "--receiver") && has_value) {
      receiver_script = argv[++i];
    } else if (!std::strcmp(argv[i], "--dir") && has_value) {
      dir = argv[++i];
    } else if (!std::strcmp(argv[i], "--output")) {
      with_output = true;
    } else if (!std::strcmp(argv[i], "--limits")) {
      with_limits = true;
    } else if (!std::strcmp(argv[i], "--keep")) {
      keep = true;
    } else if (!std::strcmp(argv[i], "--json")) {
      json = true;
    } else {
      return Usage(argv[0]);
    }
  }
  std::error_code ec;
  if (!fs::exists(binary, ec)) {
    std::fprintf(stderr, "no outpost binary at %s (build the outpost target or use --binary)\n",
                 binary.string().c_str());
    return 1;
  }
  binary = fs::absolute(binary);
  receiver_script = fs::absolute(receiver_script);
  dir = fs::absolute(dir);
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  const fs::path log = dir / "app.log";
  if (ec || !WriteLog(log)) {
    std::fprintf(stderr, "cannot write %s\n", log.string().c_str());
    return 1;
  }

  Receiver receiver;
  int port = 0;
  if (with_output) {
    port = StartReceiver(receiver_script, dir, receiver);
    if (port == 0) {
      std::fprintf(stderr, "the receiver did not start\n");
      return 1;
    }
  }
  const fs::path config = dir / "outpost.toml";
  {
    std::ofstream c(config);
    c << "[agent]\n"
      << "state_dir = " << TomlString((dir / "state").string()) << "\n\n"
      << "[[source.file]]\n"
      << "name = \"idle\"\n"
      << "paths = [" << TomlString(log.string()) << "]\n"
      << "start_at = \"beginning\"\n";
    if (with_limits) c << "\n[limits]\nmax_cpu_percent = 50\nmax_memory = \"64MiB\"\n";
    if (with_output)
      c << "\n[output]\n"
        << "type = \"native\"\n"
        << "endpoint = \"https://127.0.0.1:" << port << "/ingest\"\n"
        << "ca_file = " << TomlString((dir / "ca" / "ca.pem").string()) << "\n";
    if (!c) {
      std::fprintf(stderr, "cannot write %s\n", config.string().c_str());
      return 1;
    }
  }

  NotifySocket notify;
  if (!notify.Bind("outpost-bench-idle-" + std::to_string(getpid()))) return 1;
  const std::vector<std::string> env = ChildEnvironment({"NOTIFY_SOCKET=" + notify.name()});
  const std::vector<std::string> agent_argv = {binary.string(), "--config", config.string(), "run"};
  const fs::path agent_out = dir / "agent.out";
  const fs::path agent_err = dir / "agent.err";
  auto fail = [&](const char* what) {
    ShowFile("agent stderr", agent_err);
    std::fprintf(stderr, "FAILED: %s (work dir kept: %s)\n", what, dir.string().c_str());
    return 1;
  };

  // 1. Startup and stop, --starts times (the last start stays up for the idle window).
  std::vector<double> ready_ms;
  std::vector<double> stop_ms;
  pid_t agent = -1;
  for (int i = 0; i < starts + 1; ++i) {
    const auto t0 = SteadyClock::now();
    agent = Spawn(agent_argv, env, agent_out, agent_err);
    if (agent < 0) return 1;
    if (!notify.WaitFor("READY=1", agent, std::chrono::seconds(30))) {
      kill(agent, SIGKILL);
      (void)Reap(agent, std::chrono::seconds(5));
      return fail("no READY=1 from the agent");
    }
    const double ms = MsSince(t0);
    if (i == starts) break;  // the idle run
    ready_ms.push_back(ms);
    const auto t1 = SteadyClock::now();
    kill(agent, SIGTERM);
    const int rc = Reap(agent, std::chrono::seconds(10));
    stop_ms.push_back(MsSince(t1));
    if (rc != 0) return fail("the agent did not exit 0 after SIGTERM");
  }

  // 2. Idle: settle, then the window.
  std::this_thread::sleep_for(std::chrono::seconds(settle));
  const std::map<int, ThreadSample> before = SampleThreads(agent);
  const auto w0 = SteadyClock::now();
  long rss_peak = 0;
  double rss_sum = 0;
  int rss_n = 0;
  for (int s = 0; s < seconds; ++s) {
    const long rss = StatusKib(agent, "VmRSS");
    if (rss < 0) break;  // gone
    rss_peak = std::max(rss_peak, rss);
    rss_sum += static_cast<double>(rss);
    ++rss_n;
    std::this_thread::sleep_until(w0 + std::chrono::seconds(s + 1));
  }
  const std::map<int, ThreadSample> after = SampleThreads(agent);
  const double window = MsSince(w0) / 1000.0;
  const long rss_anon = StatusKib(agent, "RssAnon");
  const long rss_file = StatusKib(agent, "RssFile");
  const long rss_end = StatusKib(agent, "VmRSS");
  if (after.empty() || rss_end < 0) {
    (void)Reap(agent, std::chrono::seconds(1));
    return fail("the agent died during the idle window");
  }
  rss_peak = std::max(rss_peak, rss_end);

  struct ThreadDelta {
    std::string name;
    int tid = 0;
    uint64_t voluntary = 0;
    uint64_t nonvoluntary = 0;
    uint64_t run_ns = 0;
  };
  std::vector<ThreadDelta> threads;
  uint64_t switches = 0;
  uint64_t run_ns = 0;
  for (const auto& [tid, a] : after) {
    ThreadDelta d{a.name, tid, a.voluntary, a.nonvoluntary, a.run_ns};
    if (auto b = before.find(tid); b != before.end()) {
      d.voluntary -= b->second.voluntary;
      d.nonvoluntary -= b->second.nonvoluntary;
      d.run_ns -= b->second.run_ns;
    }
    switches += d.voluntary + d.nonvoluntary;
    run_ns += d.run_ns;
    threads.push_back(d);
  }
  int gone = 0;
  for (const auto& [tid, b] : before) gone += after.count(tid) == 0;

  // 3. Stop the idle run.
  const auto t1 = SteadyClock::now();
  kill(agent, SIGTERM);
  struct rusage usage {};
  const int rc = Reap(agent, std::chrono::seconds(10), &usage);
  stop_ms.push_back(MsSince(t1));
  receiver.Stop();
  if (rc != 0) return fail("the agent did not exit 0 after SIGTERM");

  const double cpu_s = static_cast<double>(run_ns) / 1e9;
  const double wakeups = static_cast<double>(switches) / window;
  std::vector<double> warm(ready_ms.begin() + (ready_ms.size() > 1 ? 1 : 0), ready_ms.end());
  if (json) {
    std::printf("{\"startup_ms_first\": %.2f, \"startup_ms_median\": %.2f, ", ready_ms.front(),
                Median(warm));
    std::printf("\"startup_ms_worst\": %.2f, \"stop_ms_median\": %.2f, ",
                *std::max_element(ready_ms.begin(), ready_ms.end()), Median(stop_ms));
    std::printf("\"starts\": %d, \"output\": %s, \"limits\": %s, \"idle_seconds\": %.2f, ", starts,
                with_output ? "true" : "false", with_limits ? "true" : "false", window);
    std::printf("\"idle_rss_mib_peak\": %.2f, \"idle_rss_mib_mean\": %.2f, ",
                static_cast<double>(rss_peak) / 1024.0, rss_n ? rss_sum / rss_n / 1024.0 : 0.0);
    std::printf("\"idle_rss_anon_mib\": %.2f, \"idle_rss_file_mib\": %.2f, ",
                static_cast<double>(rss_anon) / 1024.0, static_cast<double>(rss_file) / 1024.0);
    std::printf("\"idle_cpu_seconds\": %.4f, \"idle_cpu_percent\": %.4f, ", cpu_s,
                100.0 * cpu_s / window);
    std::printf("\"idle_wakeups_per_second\": %.3f, \"threads\": [", wakeups);
    for (size_t i = 0; i < threads.size(); ++i)
      std::printf("%s{\"name\": \"%s\", \"voluntary\": %llu, \"nonvoluntary\": %llu}",
                  i ? ", " : "", threads[i].name.c_str(),
                  static_cast<unsigned long long>(threads[i].voluntary),
                  static_cast<unsigned long long>(threads[i].nonvoluntary));
    std::printf("]}\n");
  } else {
    std::printf("agent            %s run (%s%s)\n", binary.string().c_str(),
                with_output ? "one file source, [output] to the local receiver"
                            : "one file source, no [output]",
                with_limits ? ", [limits]" : "");
    std::printf(
        "startup          %.1f ms to READY=1 on a fresh state dir; %.1f ms median of %zu "
        "later starts (worst %.1f)\n",
        ready_ms.front(), Median(warm), warm.size(),
        *std::max_element(ready_ms.begin(), ready_ms.end()));
    std::printf("stop             %.1f ms median from SIGTERM to exit\n", Median(stop_ms));
    std::printf("idle window      %.1f s after %d s to settle\n", window, settle);
    std::printf("idle RSS         %.2f MiB peak, %.2f MiB mean (anon %.2f, file %.2f)\n",
                static_cast<double>(rss_peak) / 1024.0, rss_n ? rss_sum / rss_n / 1024.0 : 0.0,
                static_cast<double>(rss_anon) / 1024.0, static_cast<double>(rss_file) / 1024.0);
    std::printf("idle CPU         %.4f s (%.4f%% of one core)\n", cpu_s, 100.0 * cpu_s / window);
    std::printf("wakeups          %.3f per second (%llu context switches in %.1f s)\n", wakeups,
                static_cast<unsigned long long>(switches), window);
    for (const ThreadDelta& t : threads)
      std::printf("  thread %-8d %-16s %llu voluntary, %llu nonvoluntary, %.4f CPU s\n", t.tid,
                  t.name.c_str(), static_cast<unsigned long long>(t.voluntary),
                  static_cast<unsigned long long>(t.nonvoluntary),
                  static_cast<double>(t.run_ns) / 1e9);
    if (gone > 0) std::printf("  (%d thread(s) ended during the window, not counted)\n", gone);
    std::printf("whole run        %.3f CPU s, peak RSS %.2f MiB (wait4, start to exit)\n",
                static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                    static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6,
                static_cast<double>(usage.ru_maxrss) / 1024.0);
  }
  if (!keep) fs::remove_all(dir, ec);
  return 0;
}
