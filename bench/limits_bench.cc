// bench/limits: what `limits.max_cpu_percent` does to the real agent. Writes a log file
// (--mib MiB of varied syslog/nginx-like lines), then for each limit runs
// `outpost run --once` over it with a fresh state dir and prints the wall time, the CPU
// time (wait4), the average CPU share, the highest CPU share in any one-second window
// (sampled from /proc/<pid>/stat every 100 ms) and the ingest rate. The agent's own
// count of committed records is checked against the lines written, so a limit that
// lost data would show. A program, not a test: it asserts nothing about speed.
//
// Usage: outpost_bench_limits [--mib N] [--limits 0,50,25,10] [--binary PATH] [--dir DIR]
//                             [--json]
// (--json: the figures as one JSON object on stdout, for scripts/bench.sh)
// Linux only (posix_spawn, wait4, /proc); not built for Windows.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;

// Utime + stime of a running process in seconds from /proc/<pid>/stat; < 0 when gone.
double ProcCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  // After the command: state(3) ... utime is field 14, stime 15 (1-based, whole line).
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::strtoull(f.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(f.c_str(), nullptr, 10);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct Result {
  double wall_s = 0;
  double cpu_s = 0;
  double max_window_share = 0;  // highest CPU % over any 1 s window
  double rss_mib = 0;
  int exit_code = -1;
  std::string output;
};

Result RunAgent(const std::vector<std::string>& argv, const fs::path& out_file) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  Result r;
  pid_t pid = 0;
  const auto start = std::chrono::steady_clock::now();
  if (posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) {
    posix_spawn_file_actions_destroy(&fa);
    return r;
  }
  posix_spawn_file_actions_destroy(&fa);
  // (time, cpu) samples; the window share is taken over the last second of samples.
  std::deque<std::pair<double, double>> samples;
  int status = 0;
  struct rusage usage {};
  for (;;) {
    const pid_t done = wait4(pid, &status, WNOHANG, &usage);
    if (done == pid) break;
    const double t =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu = ProcCpuSeconds(pid);
    if (cpu >= 0) {
      samples.emplace_back(t, cpu);
      while (samples.size() > 1 && t - samples.front().first > 1.0) samples.pop_front();
      if (samples.size() > 1 && t - samples.front().first >= 0.9) {
        const double share = (cpu - samples.front().second) / (t - samples.front().first) * 100.0;
        r.max_window_share = std::max(r.max_window_share, share);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.cpu_s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
            static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  r.rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(out_file);
  r.output.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return r;
}

// Writes about `mib` MiB of log lines; returns the number of lines.
uint64_t WriteLog(const fs::path& file, uint64_t mib) {
  std::ofstream out(file, std::ios::binary);
  std::mt19937_64 rng(42);
  const char* hosts[] = {"web-1", "web-2", "db-1", "cache-3"};
  const char* paths[] = {"/", "/api/v1/items", "/login", "/static/app.js", "/health"};
  const uint64_t target = mib << 20;
  uint64_t bytes = 0, lines = 0;
  char line[512];
  while (bytes < target) {
    const uint64_t n = rng();
    const int len =
        (n & 1) ? std::snprintf(line, sizeof line,
                                "Dec  1 06:%02u:%02u %s sshd[%u]: Accepted publickey for user%u "
                                "from 10.%u.%u.%u port %u ssh2: ED25519 SHA256:%016llx\n",
                                unsigned(n >> 8) % 60, unsigned(n >> 14) % 60, hosts[(n >> 20) % 4],
                                unsigned(n >> 24) % 30000, unsigned(n >> 40) % 500,
                                unsigned(n >> 16) % 256, unsigned(n >> 28) % 256,
                                unsigned(n >> 36) % 256, unsigned(n >> 44) % 60000,
                                static_cast<unsigned long long>(n))
                : std::snprintf(line, sizeof line,
                                "10.%u.%u.%u - - [01/Dec/2026:06:%02u:%02u +0000] \"GET %s "
                                "HTTP/1.1\" %u %u \"-\" \"Mozilla/5.0 (X11; Linux x86_64) "
                                "bench/%llu\"\n",
                                unsigned(n >> 8) % 256, unsigned(n >> 16) % 256,
                                unsigned(n >> 24) % 256, unsigned(n >> 32) % 60,
                                unsigned(n >> 38) % 60, paths[(n >> 44) % 5],
                                (n >> 50) % 7 == 0 ? 404u : 200u, unsigned(n >> 20) % 90000,
                                static_cast<unsigned long long>(n % 1000000));
    out.write(line, len);
    bytes += static_cast<uint64_t>(len);
    ++lines;
  }
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t mib = 64;
  std::vector<int> limits = {0, 50, 25, 10};
  std::string binary = (fs::path(argv[0]).parent_path() / ".." / "app" / "outpost").string();
  fs::path dir;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--mib" && i + 1 < argc) {
      mib = std::max(1ULL, std::strtoull(argv[++i], nullptr, 10));
    } else if (a == "--limits" && i + 1 < argc) {
      limits.clear();
      std::stringstream list(argv[++i]);
      for (std::string item; std::getline(list, item, ',');)
        limits.push_back(std::atoi(item.c_str()));
    } else if (a == "--binary" && i + 1 < argc) {
      binary = argv[++i];
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--json") {
      json = true;
    } else {
      std::fprintf(stderr,
                   "usage: outpost_bench_limits [--mib N] [--limits 0,50,25,10] [--binary PATH] "
                   "[--dir DIR] [--json]\n");
      return 2;
    }
  }
  if (!fs::exists(binary)) {
    std::fprintf(stderr, "outpost_bench_limits: no binary at %s (--binary)\n", binary.c_str());
    return 1;
  }
  const bool own_dir = dir.empty();
  if (own_dir) {
    char tmpl[] = "/tmp/outpost-bench-limits.XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 1;
    dir = tmpl;
  }
  const fs::path log = dir / "app.log";
  const uint64_t lines = WriteLog(log, mib);
  const double input_mb = static_cast<double>(fs::file_size(log)) / 1e6;
  if (json) {
    std::printf("{\"input_mb\": %.1f, \"lines\": %llu, \"runs\": [", input_mb,
                static_cast<unsigned long long>(lines));
  } else {
    std::printf("outpost_bench_limits: %s, %.1f MB, %llu lines, outpost run --once, %u CPUs\n",
                binary.c_str(), input_mb, static_cast<unsigned long long>(lines),
                std::thread::hardware_concurrency());
    std::printf("%-16s %8s %8s %9s %14s %9s %9s %s\n", "max_cpu_percent", "wall s", "cpu s",
                "avg cpu%", "max 1s-window%", "MB/s", "peak RSS", "records");
  }
  int failed = 0;
  int runs_printed = 0;
  for (int limit : limits) {
    const fs::path state = dir / ("state-" + std::to_string(limit));
    fs::remove_all(state);
    const fs::path config = dir / ("outpost-" + std::to_string(limit) + ".toml");
    {
      std::ofstream c(config);
      c << "[agent]\nstate_dir = \"" << state.string() << "\"\nlog_file = \"\"\n"
        << "[buffer]\nmax_bytes = \"4GiB\"\n"
        << "[[source.file]]\nname = \"bench\"\npaths = [\"" << log.string()
        << "\"]\nstart_at = \"beginning\"\n"
        << "[limits]\nmax_cpu_percent = " << limit << "\n";
    }
    const Result r = RunAgent({binary, "--config", config.string(), "run", "--once", "--json"},
                              dir / "out.json");
    // {"records":N,...}: the agent's own count must be every line.
    const size_t at = r.output.find("\"records\":");
    const unsigned long long records =
        at == std::string::npos ? 0 : std::strtoull(r.output.c_str() + at + 10, nullptr, 10);
    if (json)
      std::printf(
          "%s{\"max_cpu_percent\": %d, \"wall_s\": %.3f, \"cpu_s\": %.3f, \"avg_cpu_percent\": "
          "%.1f, \"max_window_cpu_percent\": %.1f, \"mb_per_s\": %.1f, \"peak_rss_mib\": %.1f, "
          "\"records\": %llu, \"ok\": %s}",
          runs_printed++ == 0 ? "" : ", ", limit, r.wall_s, r.cpu_s, r.cpu_s / r.wall_s * 100.0,
          r.max_window_share, input_mb / r.wall_s, r.rss_mib, records,
          records == lines && r.exit_code == 0 ? "true" : "false");
    else
      std::printf("%-16s %8.2f %8.2f %9.1f %14.1f %9.1f %6.1f MiB %llu%s\n",
                  limit == 0 ? "0 (no limit)" : std::to_string(limit).c_str(), r.wall_s, r.cpu_s,
                  r.cpu_s / r.wall_s * 100.0, r.max_window_share, input_mb / r.wall_s, r.rss_mib,
                  records, records == lines && r.exit_code == 0 ? "" : "  <- MISMATCH or failure");
    if (records != lines || r.exit_code != 0) ++failed;
    fs::remove_all(state);
  }
  if (json) std::printf("]}\n");
  if (own_dir) fs::remove_all(dir);
  return failed == 0 ? 0 : 1;
}
