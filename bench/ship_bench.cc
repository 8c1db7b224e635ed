// bench/ship: the agent end to end, file -> buffer.db -> HTTPS -> receiver.
//
// Writes a realistic log file (nginx-like and syslog lines of about --line-bytes bytes,
// varied), makes a throwaway CA (scripts/make-test-ca.sh), starts the development
// receiver (scripts/dev-receiver.py) on 127.0.0.1 over HTTPS, writes a config with one
// [[source.file]] (start_at = "beginning") and a native [output] to the receiver, and
// runs the real binary, `outpost run --once`, as a child process. Its CPU time and peak
// RSS come from wait4(). Then it checks from the receiver's requests.log that every
// record arrived, and prints the figures. A program, not a test: it asserts nothing
// about speed; it exits 1 when records are missing or the agent failed.
//
// By default the receiver runs with --discard (bodies are counted, not decompressed or
// stored; its record count is the sum of the X-Outpost-Records headers of the accepted
// requests), so a Python receiver does not set the pace. --store-bodies makes it decode
// and store every body instead, and the records are counted from the stored NDJSON.
//
// Usage: outpost_bench_ship [--bytes N] [--line-bytes N] [--binary PATH]
//                           [--receiver PATH] [--dir DIR] [--keep] [--reuse]
//                           [--store-bodies] [--max-in-flight N] [--level L] [--json]
// (--reuse: keep the log file of the last --keep run in DIR and only run the agent;
// --level: buffer.compression_level, default the agent's;
// --json: the figures as one JSON object on stdout, for scripts/bench.sh)
// Linux only (posix_spawn, wait4); not built for Windows.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
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
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

// --- the log file ------------------------------------------------------------------------

struct LogFile {
  uint64_t bytes = 0;
  uint64_t lines = 0;
};

// Realistic, varied lines: two thirds nginx access log, one third syslog, each with a
// random request id and key=value words appended until the line is within +-25% of
// line_bytes (lines whose fixed part is already longer keep that length).
LogFile WriteLog(const fs::path& path, uint64_t target_bytes, uint64_t line_bytes) {
  static const char* kPaths[] = {"/",        "/index.html",     "/api/v1/users",
                                 "/login",   "/static/app.js",  "/api/v1/orders?page=",
                                 "/healthz", "/images/logo.png"};
  static const char* kAgents[] = {
      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0",
      "curl/7.88.1", "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101",
      "Prometheus/2.48.0"};
  static const char* kProcs[] = {"sshd", "systemd", "kernel", "cron", "dockerd", "nginx"};
  static const char* kMsgs[] = {
      "Accepted publickey for deploy from 10.0.%u.%u port %u ssh2: ED25519 SHA256:q3Xk9",
      "Started Session %u of User deploy; unit session-%u.scope finished starting up %u",
      "audit: type=1400 apparmor=\"DENIED\" operation=\"open\" pid=%u comm=\"app\" id=%u:%u",
      "(root) CMD (run-parts --report /etc/cron.hourly) job %u took %u ms, exit %u",
      "time=\"2026-01-01\" level=info msg=\"container %u started\" restarts=%u pid=%u"};
  static const char* kWords[] = {"user=alice",
                                 "user=bob",
                                 "tenant=acme",
                                 "region=eu-west-1",
                                 "cache=miss",
                                 "cache=hit",
                                 "upstream=10.1.0.7:8080",
                                 "tls=TLSv1.3",
                                 "retry=0",
                                 "gzip=on",
                                 "bytes_in=512",
                                 "trace=enabled",
                                 "pool=default",
                                 "lang=en-US"};
  constexpr size_t kWordCount = sizeof kWords / sizeof kWords[0];

  LogFile out;
  std::FILE* f = std::fopen(path.string().c_str(), "wb");
  if (f == nullptr) return out;
  std::vector<char> buf(1 << 20);
  std::setvbuf(f, buf.data(), _IOFBF, buf.size());
  std::mt19937_64 rng(42);
  const uint64_t low = line_bytes - line_bytes / 4;
  const uint64_t span = line_bytes / 2 + 1;
  std::string line;
  line.reserve(static_cast<size_t>(line_bytes) * 2 + 512);
  char head[512];
  char msg[256];
  uint64_t next_report = 0;
  while (out.bytes < target_bytes) {
    const unsigned r = static_cast<unsigned>(rng());
    int n;
    if (out.lines % 3 != 0) {
      n = std::snprintf(head, sizeof head,
                        "10.%u.%u.%u - - [01/Jan/2026:00:%02u:%02u +0000] \"GET %s%u HTTP/1.1\" "
                        "%u %u \"-\" \"%s\" rt=%u.%03u",
                        r & 0xff, (r >> 8) & 0xff, (r >> 16) & 0xff, (r >> 3) % 60, (r >> 9) % 60,
                        kPaths[r % 8], r % 1000, (r % 17 == 0) ? 404 : 200, (r >> 5) % 50000,
                        kAgents[(r >> 4) % 4], r % 3, r % 1000);
    } else {
      std::snprintf(msg, sizeof msg, kMsgs[r % 5], (r >> 3) % 256, (r >> 11) % 256,
                    (r >> 7) % 65536);
      n = std::snprintf(head, sizeof head, "Jan  1 00:%02u:%02u host-%02u %s[%u]: %s",
                        (r >> 3) % 60, (r >> 9) % 60, r % 16, kProcs[r % 6], (r >> 4) % 32768, msg);
    }
    line.assign(head, static_cast<size_t>(n));
    char id[32];
    std::snprintf(id, sizeof id, " req=%016llx", static_cast<unsigned long long>(rng()));
    line += id;
    const uint64_t want = low + rng() % span;
    while (line.size() + 1 < want) {
      line += ' ';
      line += kWords[rng() % kWordCount];
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), f);
    out.bytes += line.size();
    ++out.lines;
    if (out.bytes >= next_report) {
      std::fprintf(stderr, "\rwriting the log: %llu of %llu MiB",
                   static_cast<unsigned long long>(out.bytes >> 20),
                   static_cast<unsigned long long>(target_bytes >> 20));
      next_report += 64ULL << 20;
    }
  }
  std::fprintf(stderr, "\rwriting the log: %llu of %llu MiB, %llu lines\n",
               static_cast<unsigned long long>(out.bytes >> 20),
               static_cast<unsigned long long>(target_bytes >> 20),
               static_cast<unsigned long long>(out.lines));
  if (std::fclose(f) != 0) return LogFile{};
  return out;
}

// The size and line count of an existing log file (--reuse).
LogFile CountLines(const fs::path& path) {
  LogFile out;
  std::FILE* f = std::fopen(path.string().c_str(), "rb");
  if (f == nullptr) return out;
  std::vector<char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
    out.bytes += n;
    for (size_t i = 0; i < n; ++i) out.lines += buf[i] == '\n';
  }
  std::fclose(f);
  return out;
}

// --- child processes ---------------------------------------------------------------------

// Starts argv[0] (searched in PATH) with stdin from /dev/null and stdout/stderr to the
// given files. Returns the pid, or -1 with a message on stderr.
pid_t Spawn(const std::vector<std::string>& argv, const fs::path& out, const fs::path& err) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    std::fprintf(stderr, "cannot start %s: %s\n", argv[0].c_str(), std::strerror(rc));
    return -1;
  }
  return pid;
}

struct Exit {
  int status = -1;  // exit status, or 128 + signal
  struct rusage usage {};
};

// Waits for the child (looking every 2 ms); with `poll`, also calls it about every 20 ms
// while waiting.
template <typename Poll>
Exit Wait(pid_t pid, Poll poll) {
  Exit e;
  int ws = 0;
  auto next = SteadyClock::now();
  for (;;) {
    const pid_t r = wait4(pid, &ws, WNOHANG, &e.usage);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return e;
    if (SteadyClock::now() >= next) {
      poll();
      next += std::chrono::milliseconds(20);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  e.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
  return e;
}

Exit Wait(pid_t pid) {
  return Wait(pid, [] {});
}

// CPU seconds (user + system) of a running process so far, from /proc; -1 if unknown.
double ProcCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // state is field 3
    if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double CpuSeconds(const struct rusage& ru) {
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
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

// --- the receiver's requests.log ---------------------------------------------------------

// The value after "key": in one JSON line as written by dev-receiver.py (json.dumps with
// its default separators), or "" when absent.
std::string_view Field(std::string_view line, std::string_view key) {
  std::string pat = "\"" + std::string(key) + "\": ";
  const size_t at = line.find(pat);
  if (at == std::string_view::npos) return {};
  std::string_view v = line.substr(at + pat.size());
  size_t end = 0;
  if (!v.empty() && v[0] == '"') {
    end = v.find('"', 1);
    return end == std::string_view::npos ? v : v.substr(0, end + 1);
  }
  while (end < v.size() && v[end] != ',' && v[end] != '}') ++end;
  return v.substr(0, end);
}

double Number(std::string_view v) {
  if (v.empty() || v == "null") return -1;
  return std::strtod(std::string(v).c_str(), nullptr);
}

struct Received {
  uint64_t requests = 0;
  uint64_t accepted = 0;    // 2xx, not duplicates
  uint64_t duplicates = 0;  // 2xx for a key already accepted
  uint64_t failed = 0;      // anything else (faults, errors, lost answers)
  uint64_t body_bytes = 0;  // as received, every request
  uint64_t records = 0;     // X-Outpost-Records of the accepted requests (--discard)
  bool records_known = true;
  double first_arrival = 0;  // epoch seconds
  double last_done = 0;
  double busy = 0;  // sum of (answer sent - headers read) over the requests
};

Received ReadRequestsLog(const fs::path& path) {
  Received r;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ++r.requests;
    const double status = Number(Field(line, "status"));
    const bool duplicate = Field(line, "duplicate") == "true";
    r.body_bytes += static_cast<uint64_t>(std::max(0.0, Number(Field(line, "bytes"))));
    const double t = Number(Field(line, "time"));
    const double done = Number(Field(line, "time_done"));
    if (t > 0 && (r.first_arrival == 0 || t < r.first_arrival)) r.first_arrival = t;
    if (done > r.last_done) r.last_done = done;
    if (t > 0 && done >= t) r.busy += done - t;
    if (status < 200 || status >= 300) {
      ++r.failed;
    } else if (duplicate) {
      ++r.duplicates;
    } else {
      ++r.accepted;
      const double records = Number(Field(line, "records"));
      if (records < 0)
        r.records_known = false;
      else
        r.records += static_cast<uint64_t>(records);
    }
  }
  return r;
}

// Records stored by a receiver without --discard: lines of its *.ndjson files.
std::optional<uint64_t> StoredRecords(const fs::path& store) {
  uint64_t lines = 0;
  std::error_code ec;
  std::vector<char> buf(1 << 20);
  for (const auto& e : fs::directory_iterator(store, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".zst") == 0)
      return std::nullopt;  // the receiver had no zstd decoder: stored raw
    if (name.size() < 7 || name.compare(name.size() - 7, 7, ".ndjson") != 0) continue;
    std::FILE* f = std::fopen(e.path().string().c_str(), "rb");
    if (f == nullptr) return std::nullopt;
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0)
      for (size_t i = 0; i < n; ++i) lines += buf[i] == '\n';
    std::fclose(f);
  }
  return lines;
}

// --- options -----------------------------------------------------------------------------

// "1073741824", "1GiB", "512MiB", "64K", "1G" (K, M, G binary; KB, MB, GB decimal).
std::optional<uint64_t> ParseSize(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || v < 0) return std::nullopt;
  const std::string unit = end;
  double mul = 1;
  if (unit.empty() || unit == "B")
    mul = 1;
  else if (unit == "K" || unit == "KiB")
    mul = 1024.0;
  else if (unit == "M" || unit == "MiB")
    mul = 1024.0 * 1024;
  else if (unit == "G" || unit == "GiB")
    mul = 1024.0 * 1024 * 1024;
  else if (unit == "KB")
    mul = 1e3;
  else if (unit == "MB")
    mul = 1e6;
  else if (unit == "GB")
    mul = 1e9;
  else
    return std::nullopt;
  return static_cast<uint64_t>(v * mul);
}

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

std::string TomlString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

int Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--bytes N (default 1GiB)] [--line-bytes N (default 200)]\n"
               "       [--binary PATH (default: ../app/outpost next to this program)]\n"
               "       [--receiver PATH (default: scripts/dev-receiver.py of the source tree)]\n"
               "       [--dir DIR] [--keep] [--reuse] [--store-bodies] [--max-in-flight N]\n"
               "       [--level L (buffer.compression_level)] [--json]\n",
               argv0);
  return 2;
}

struct Receiver {
  pid_t pid = -1;
  ~Receiver() { Stop(); }
  // SIGTERM (SIGKILL after 10 s), then its exit; returns its CPU seconds (0 if it was not
  // running).
  double Stop() {
    if (pid <= 0) return 0;
    kill(pid, SIGTERM);
    const auto deadline = SteadyClock::now() + std::chrono::seconds(10);
    bool killed = false;
    const Exit e = Wait(pid, [&] {
      if (!killed && SteadyClock::now() > deadline) killed = kill(pid, SIGKILL) == 0;
    });
    pid = -1;
    return CpuSeconds(e.usage);
  }
};

}  // namespace

int main(int argc, char** argv) {
  uint64_t bytes = 1ULL << 30;
  uint64_t line_bytes = 200;
  fs::path binary = DefaultBinary();
  fs::path receiver_script = DefaultReceiver();
  fs::path dir = fs::temp_directory_path() / "outpost-bench-ship";
  bool keep = false;
  bool reuse = false;
  bool store_bodies = false;
  bool json = false;
  int max_in_flight = 0;  // 0: the agent's default
  int level = 0;          // 0: the agent's default
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--bytes") && has_value) {
      auto v = ParseSize(argv[++i]);
      if (!v || *v == 0) return Usage(argv[0]);
      bytes = *v;
    } else if (!std::strcmp(argv[i], "--line-bytes") && has_value) {
      line_bytes = std::strtoull(argv[++i], nullptr, 10);
      if (line_bytes < 8 || line_bytes > (1 << 20)) return Usage(argv[0]);
    } else if (!std::strcmp(argv[i], "--binary") && has_value) {
      binary = argv[++i];
    } else if (!std::strcmp(argv[i], "--receiver") && has_value) {
      receiver_script = argv[++i];
    } else if (!std::strcmp(argv[i], "--dir") && has_value) {
      dir = argv[++i];
    } else if (!std::strcmp(argv[i], "--max-in-flight") && has_value) {
      max_in_flight = std::atoi(argv[++i]);
      if (max_in_flight < 1 || max_in_flight > 64) return Usage(argv[0]);
    } else if (!std::strcmp(argv[i], "--level") && has_value) {
      level = std::atoi(argv[++i]);
      if (level < 1 || level > 22) return Usage(argv[0]);
    } else if (!std::strcmp(argv[i], "--keep")) {
      keep = true;
    } else if (!std::strcmp(argv[i], "--reuse")) {
      reuse = keep = true;
    } else if (!std::strcmp(argv[i], "--store-bodies")) {
      store_bodies = true;
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
  if (!fs::exists(receiver_script, ec)) {
    std::fprintf(stderr, "no receiver at %s (use --receiver)\n", receiver_script.string().c_str());
    return 1;
  }
  binary = fs::absolute(binary);
  receiver_script = fs::absolute(receiver_script);
  dir = fs::absolute(dir);
  const fs::path log = dir / "app.log";
  LogFile input;
  if (reuse && fs::exists(log, ec)) {
    // Same file as last time: only the agent runs again (e.g. under perf).
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path() != log) fs::remove_all(e.path(), ec);
    input = CountLines(log);
  } else {
    fs::remove_all(dir, ec);
    fs::create_directories(dir, ec);
    if (ec) {
      std::fprintf(stderr, "cannot make %s: %s\n", dir.string().c_str(), ec.message().c_str());
      return 1;
    }
    // 1. The log file.
    input = WriteLog(log, bytes, line_bytes);
  }
  if (input.lines == 0) {
    std::fprintf(stderr, "cannot write %s\n", log.string().c_str());
    return 1;
  }

  // 2. A throwaway CA and the receiver.
  const fs::path ca = dir / "ca";
  std::fprintf(stderr, "making a throwaway CA in %s\n", ca.string().c_str());
  const fs::path ca_script = receiver_script.parent_path() / "make-test-ca.sh";
  const pid_t ca_pid =
      Spawn({ca_script.string(), ca.string()}, dir / "make-test-ca.out", dir / "make-test-ca.err");
  if (ca_pid < 0 || Wait(ca_pid).status != 0) {
    ShowFile("make-test-ca.sh stderr", dir / "make-test-ca.err");
    return 1;
  }
  const fs::path store = dir / "received";
  const fs::path port_file = dir / "receiver.port";
  std::vector<std::string> rargv = {
      "python3",     receiver_script.string(), "--tls-dir", ca.string(),   "--port", "0",
      "--port-file", port_file.string(),       "--store",   store.string()};
  if (!store_bodies) rargv.push_back("--discard");
  Receiver receiver;
  receiver.pid = Spawn(rargv, dir / "receiver.out", dir / "receiver.err");
  if (receiver.pid < 0) return 1;
  int port = 0;
  for (auto deadline = SteadyClock::now() + std::chrono::seconds(20);
       port == 0 && SteadyClock::now() < deadline;) {
    port = std::atoi(ReadFile(port_file).c_str());
    int ws = 0;
    if (port == 0 && waitpid(receiver.pid, &ws, WNOHANG) == receiver.pid) {
      receiver.pid = -1;
      break;
    }
    if (port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (port == 0) {
    std::fprintf(stderr, "the receiver did not start\n");
    ShowFile("receiver stderr", dir / "receiver.err");
    return 1;
  }
  std::fprintf(stderr, "receiver on https://127.0.0.1:%d/ (%s)\n", port,
               store_bodies ? "decoding and storing bodies" : "--discard");

  // 3. The config and the agent.
  const fs::path config = dir / "outpost.toml";
  {
    std::ofstream c(config);
    c << "[agent]\n"
      << "state_dir = " << TomlString((dir / "state").string()) << "\n\n"
      << "[buffer]\n"
      << "# room for everything: run --once reads all, then uploads\n"
      << "max_bytes = \"" << std::max<uint64_t>(256ULL << 20, input.bytes * 2) << "B\"\n"
      << (level > 0 ? "compression_level = " + std::to_string(level) + "\n" : std::string())
      << "\n[[source.file]]\n"
      << "name = \"bench\"\n"
      << "paths = [" << TomlString(log.string()) << "]\n"
      << "start_at = \"beginning\"\n\n"
      << "[output]\n"
      << "type = \"native\"\n"
      << "endpoint = \"https://127.0.0.1:" << port << "/ingest\"\n"
      << "ca_file = " << TomlString((ca / "ca.pem").string()) << "\n";
    if (max_in_flight > 0) c << "max_in_flight = " << max_in_flight << "\n";
    if (!c) {
      std::fprintf(stderr, "cannot write %s\n", config.string().c_str());
      return 1;
    }
  }
  std::fprintf(stderr, "running %s --config %s run --once\n", binary.string().c_str(),
               config.string().c_str());
  const fs::path requests_log = store / "requests.log";
  const auto wall0 = std::chrono::system_clock::now();
  const auto t0 = SteadyClock::now();
  const pid_t agent = Spawn({binary.string(), "--config", config.string(), "run", "--once"},
                            dir / "agent.out", dir / "agent.err");
  if (agent < 0) return 1;
  // The agent's CPU time when the first request arrives: run --once reads everything
  // before it uploads, so this splits its CPU time between the two.
  double cpu_at_first_request = -1;
  auto next_report = t0 + std::chrono::seconds(5);
  const Exit run = Wait(agent, [&] {
    std::error_code e2;
    const auto size = fs::file_size(requests_log, e2);
    if (cpu_at_first_request < 0 && !e2 && size > 0) cpu_at_first_request = ProcCpuSeconds(agent);
    if (SteadyClock::now() < next_report) return;
    next_report += std::chrono::seconds(5);
    std::fprintf(stderr, "  %.0f s: %s\n",
                 std::chrono::duration<double>(SteadyClock::now() - t0).count(),
                 e2 || size == 0
                     ? "reading (no request yet)"
                     : ("uploading (requests.log " + std::to_string(size >> 10) + " KiB)").c_str());
  });
  const double wall = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  const double start_epoch = std::chrono::duration<double>(wall0.time_since_epoch()).count();

  // 4. What arrived.
  const double receiver_cpu = receiver.Stop();
  const Received got = ReadRequestsLog(requests_log);
  std::optional<uint64_t> records;
  if (store_bodies)
    records = StoredRecords(store);
  else if (got.records_known)
    records = got.records;

  const double cpu = CpuSeconds(run.usage);
  const double mb = static_cast<double>(input.bytes) / 1e6;
  const bool ok = run.status == 0 && records && *records == input.lines;
  if (json) {
    const double first = got.requests > 0 ? got.first_arrival - start_epoch : -1;
    std::printf(
        "{\"ok\": %s, \"input_mb\": %.1f, \"lines\": %llu, \"wall_s\": %.3f, "
        "\"first_request_s\": %.3f, \"records_per_s\": %.0f, \"mb_per_s\": %.1f, "
        "\"cpu_s\": %.3f, \"cpu_s_before_upload\": %.3f, \"cpu_s_per_gb\": %.3f, "
        "\"peak_rss_mib\": %.1f, \"wire_mb\": %.1f, \"requests\": %llu, "
        "\"records_received\": %lld}\n",
        ok ? "true" : "false", mb, static_cast<unsigned long long>(input.lines), wall, first,
        static_cast<double>(input.lines) / wall, mb / wall, cpu, cpu_at_first_request,
        cpu / (mb / 1000.0), static_cast<double>(run.usage.ru_maxrss) / 1024.0,
        static_cast<double>(got.body_bytes) / 1e6, static_cast<unsigned long long>(got.requests),
        records ? static_cast<long long>(*records) : -1LL);
  } else {
    std::printf("input            %.1f MB, %llu lines (%.0f bytes/line)\n", mb,
                static_cast<unsigned long long>(input.lines),
                static_cast<double>(input.bytes) / static_cast<double>(input.lines));
    std::printf("agent            exit %d, %s\n", run.status, binary.string().c_str());
    std::printf("wall             %.2f s (run --once, start to exit)\n", wall);
    if (got.requests > 0)
      std::printf(
          "  phases         %.2f s to the first request, %.2f s of requests, %.2f s to exit\n",
          got.first_arrival - start_epoch, got.last_done - got.first_arrival,
          start_epoch + wall - got.last_done);
    std::printf("records/s        %.0f\n", static_cast<double>(input.lines) / wall);
    std::printf("input MB/s       %.1f\n", mb / wall);
    std::printf("agent CPU        %.2f s (user %.2f, sys %.2f)\n", cpu,
                static_cast<double>(run.usage.ru_utime.tv_sec) + run.usage.ru_utime.tv_usec / 1e6,
                static_cast<double>(run.usage.ru_stime.tv_sec) + run.usage.ru_stime.tv_usec / 1e6);
    if (cpu_at_first_request >= 0)
      std::printf("  split          %.2f s until the first request, %.2f s after it\n",
                  cpu_at_first_request, cpu - cpu_at_first_request);
    std::printf("CPU s per GB     %.2f\n", cpu / (mb / 1000.0));
    std::printf("peak RSS         %.1f MiB\n", static_cast<double>(run.usage.ru_maxrss) / 1024.0);
    std::printf(
        "bytes on wire    %.1f MB of request bodies (%.3f per input byte; TLS and HTTP "
        "headers not counted)\n",
        static_cast<double>(got.body_bytes) / 1e6,
        static_cast<double>(got.body_bytes) / static_cast<double>(input.bytes));
    std::printf(
        "receiver         %llu requests: %llu accepted, %llu duplicates, %llu failed; "
        "%.2f CPU s; %.1f ms per request on average (%s)\n",
        static_cast<unsigned long long>(got.requests),
        static_cast<unsigned long long>(got.accepted),
        static_cast<unsigned long long>(got.duplicates),
        static_cast<unsigned long long>(got.failed), receiver_cpu,
        got.requests ? 1000.0 * got.busy / static_cast<double>(got.requests) : 0.0,
        store_bodies ? "decoding and storing" : "--discard");
    if (records)
      std::printf("records received %llu of %llu%s\n", static_cast<unsigned long long>(*records),
                  static_cast<unsigned long long>(input.lines),
                  store_bodies ? " (lines of the stored NDJSON)"
                               : " (X-Outpost-Records of the accepted requests)");
    else
      std::printf("records received unknown (%s)\n",
                  store_bodies ? "the receiver stored raw .zst bodies: no zstd decoder"
                               : "no \"records\" in requests.log: does the receiver know "
                                 "--discard?");
  }

  if (!ok) {
    ShowFile("agent stderr", dir / "agent.err");
    ShowFile("receiver stderr", dir / "receiver.err");
    std::fprintf(stderr, "FAILED: %s (work dir kept: %s)\n",
                 run.status != 0 ? "the agent failed" : "not every record arrived",
                 dir.string().c_str());
    return 1;
  }
  if (!keep) fs::remove_all(dir, ec);
  return 0;
}
