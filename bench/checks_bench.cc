// bench/checks: how long `outpost check` takes with the Linux baseline policy, and
// `outpost query "SELECT * FROM processes"`, on this machine: the real binary as a
// child process, timed from spawn to exit (startup included), with its CPU time and
// peak RSS from wait4(). Prints the median and the worst of --runs runs. A program,
// not a test: it asserts nothing about speed; it exits 1 when a command fails to run.
//
// Usage: outpost_bench_checks [--runs N] [--binary PATH] [--policy FILE] [--json]
// (--json: the figures as one JSON object on stdout, for scripts/bench.sh)
// Linux only (posix_spawn, wait4); not built for Windows.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

extern char** environ;

namespace {

struct Run {
  double wall_ms = 0;
  double cpu_ms = 0;
  double rss_mib = 0;
  int exit_code = -1;
};

// Runs argv with stdout and stderr to /dev/null; returns its figures.
Run Spawn(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = 0;
  Run r;
  if (posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ) != 0) {
    posix_spawn_file_actions_destroy(&fa);
    return r;
  }
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  struct rusage usage {};
  if (wait4(pid, &status, 0, &usage) != pid) return r;
  r.wall_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  r.cpu_ms = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000.0 +
             (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000.0;
  r.rss_mib = usage.ru_maxrss / 1024.0;  // KiB on Linux
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// One line of text, or with `json` one "key": {...} member (after a comma unless first).
void Report(const char* what, const char* key, std::vector<Run> runs, bool json, bool first) {
  auto median = [&](auto field) {
    std::vector<double> v;
    for (const Run& r : runs) v.push_back(r.*field);
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  auto worst = [&](auto field) {
    double m = 0;
    for (const Run& r : runs) m = std::max(m, r.*field);
    return m;
  };
  if (json) {
    std::printf(
        "%s\"%s\": {\"wall_ms_median\": %.2f, \"wall_ms_worst\": %.2f, \"cpu_ms_median\": "
        "%.2f, \"rss_mib_median\": %.2f, \"rss_mib_worst\": %.2f, \"exit\": %d}",
        first ? "" : ", ", key, median(&Run::wall_ms), worst(&Run::wall_ms), median(&Run::cpu_ms),
        median(&Run::rss_mib), worst(&Run::rss_mib), runs.back().exit_code);
    return;
  }
  std::printf(
      "%-34s wall %7.1f ms (worst %7.1f)  cpu %7.1f ms  peak RSS %5.1f MiB (worst %5.1f)  exit "
      "%d\n",
      what, median(&Run::wall_ms), worst(&Run::wall_ms), median(&Run::cpu_ms),
      median(&Run::rss_mib), worst(&Run::rss_mib), runs.back().exit_code);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 11;
  std::string binary =
      (std::filesystem::path(argv[0]).parent_path() / ".." / "app" / "outpost").string();
  std::string policy = std::string(OUTPOST_SOURCE_DIR) + "/installer/policies/linux-baseline.toml";
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc)
      runs = std::max(1, std::atoi(argv[++i]));
    else if (a == "--binary" && i + 1 < argc)
      binary = argv[++i];
    else if (a == "--policy" && i + 1 < argc)
      policy = argv[++i];
    else if (a == "--json")
      json = true;
    else {
      std::fprintf(stderr,
                   "usage: outpost_bench_checks [--runs N] [--binary PATH] [--policy FILE] "
                   "[--json]\n");
      return 2;
    }
  }
  if (!std::filesystem::exists(binary)) {
    std::fprintf(stderr, "outpost_bench_checks: no binary at %s (--binary)\n", binary.c_str());
    return 1;
  }
  struct Case {
    const char* name;
    const char* key;
    std::vector<std::string> argv;
  };
  const std::vector<Case> cases = {
      {"outpost version (startup)", "version", {binary, "version"}},
      {"outpost check (baseline policy)",
       "check",
       {binary, "--config", "/nonexistent/outpost.toml", "check", "--policy", policy, "--format",
        "json"}},
      {"outpost query processes",
       "query_processes",
       {binary, "query", "SELECT * FROM processes", "--format", "json"}},
  };
  if (json)
    std::printf("{\"runs\": %d, ", runs);
  else
    std::printf("outpost_bench_checks: %s, %d runs each (median, worst)\n", binary.c_str(), runs);
  bool first = true;
  int failed = 0;
  for (const Case& c : cases) {
    std::vector<Run> results;
    for (int i = 0; i < runs; ++i) results.push_back(Spawn(c.argv));
    Report(c.name, c.key, results, json, first);
    first = false;
    // check exits 1 when a check fails on this machine: that is a result, not a failure.
    if (results.back().exit_code < 0 || results.back().exit_code > 1) ++failed;
  }
  if (json) std::printf("}\n");
  return failed == 0 ? 0 : 1;
}
