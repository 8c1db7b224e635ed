// bench/ingest: the log pipeline from file to committed chunks, on one core.
//
// Writes a realistic log file (syslog and nginx-like lines of 150-250 bytes, varied),
// then runs the real pipeline over it (FileSource -> NDJSON -> zstd -> buffer.db, one
// transaction per chunk with its checkpoints) exactly as `outpost run --once` does, and
// prints lines/s, input MB/s, CPU seconds per GB of input, peak RSS and buffer bytes
// per input byte. Then, as a floor for the CPU figure, the CPU time zstd alone takes at
// the same level: over the NDJSON the pipeline produced (the stored chunks, decompressed
// first, untimed) and over the log text itself in 1 MiB pieces, both per GB of input.
// A program, not a test: it asserts nothing.
//
// Usage: outpost_bench_ingest [--lines N] [--dir DIR] [--keep] [--reuse] [--level L] [--json]
// (--reuse: keep the log file of the last --keep run and only run the pipeline;
// --json: the figures as one JSON object on stdout, for scripts/bench.sh)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <system_error>

#include "buffer/buffer_store.h"
#include "chunk/zstd_codec.h"
#include "collect/pipeline.h"
#include "outpost/platform/change_watcher.h"
#include "util/clock.h"
#include "util/logger.h"

#if defined(__linux__)
#include <sys/resource.h>
#endif

namespace {

using outpost::Config;

// Peak resident set size in KiB (Linux: VmHWM), or 0 where unknown.
long PeakRssKib() {
#if defined(__linux__)
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
#endif
  return 0;
}

// Resets the peak RSS counter so the generator's memory is not counted.
void ResetPeakRss() {
#if defined(__linux__)
  std::ofstream("/proc/self/clear_refs") << "5";
#endif
}

double CpuSeconds() {
#if defined(__linux__)
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
#else
  return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
#endif
}

// Realistic, varied lines: nginx access log and syslog, 150-250 bytes each.
uint64_t WriteLog(const std::filesystem::path& path, uint64_t lines) {
  std::mt19937_64 rng(42);
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
  std::FILE* f = std::fopen(path.string().c_str(), "wb");
  if (f == nullptr) return 0;
  std::vector<char> buf(1 << 20);
  std::setvbuf(f, buf.data(), _IOFBF, buf.size());
  char line[512];
  char pad[160];
  uint64_t bytes = 0;
  for (uint64_t i = 0; i < lines; ++i) {
    const unsigned r = static_cast<unsigned>(rng());
    int n;
    // A request id (random hex) and a few words: the varied tail real lines carry.
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
    int padlen =
        std::snprintf(pad, sizeof pad, "req=%016llx", static_cast<unsigned long long>(rng()));
    const int words = static_cast<int>(rng() % 6);
    for (int k = 0; k < words && padlen < 100; ++k)
      padlen += std::snprintf(pad + padlen, sizeof pad - static_cast<size_t>(padlen), " %s",
                              kWords[rng() % 14]);
    if (i % 3 != 0) {
      n = std::snprintf(line, sizeof line,
                        "10.%u.%u.%u - - [01/Jan/2026:00:%02u:%02u +0000] \"GET %s%u HTTP/1.1\" "
                        "%u %u \"-\" \"%s\" rt=%u.%03u %s\n",
                        r & 0xff, (r >> 8) & 0xff, (r >> 16) & 0xff, (r >> 3) % 60, (r >> 9) % 60,
                        kPaths[r % 8], r % 1000, (r % 17 == 0) ? 404 : 200, (r >> 5) % 50000,
                        kAgents[(r >> 4) % 4], r % 3, r % 1000, pad);
    } else {
      char msg[256];
      std::snprintf(msg, sizeof msg, kMsgs[r % 5], (r >> 3) % 256, (r >> 11) % 256,
                    (r >> 7) % 65536);
      n = std::snprintf(line, sizeof line, "Jan  1 00:%02u:%02u host-%02u %s[%u]: %s %s\n",
                        (r >> 3) % 60, (r >> 9) % 60, r % 16, kProcs[r % 6], (r >> 4) % 32768, msg,
                        pad);
    }
    std::fwrite(line, 1, static_cast<size_t>(n), f);
    bytes += static_cast<uint64_t>(n);
  }
  std::fclose(f);
  return bytes;
}

// CPU seconds (one thread) that zstd takes at `level` over the NDJSON of every stored
// chunk, and over the log file in pieces of the same size. -1 where it could not run.
struct ZstdFloor {
  double ndjson_cpu_s = -1;
  double log_cpu_s = -1;
};

ZstdFloor MeasureZstdFloor(outpost::BufferStore& store, const std::filesystem::path& log,
                           int level) {
  ZstdFloor floor;
  outpost::ZstdCompressor compressor(level);
  double cpu = 0;
  bool ok = true;
  outpost::Status st = store.ForEachChunk({}, [&](const outpost::StoredChunk& c) {
    outpost::Result<std::string> raw = outpost::ZstdDecompress(c.chunk.body, 64ULL << 20);
    if (!raw.ok()) {
      std::fprintf(stderr, "chunk %lld: %s\n", static_cast<long long>(c.id),
                   raw.status().ToString().c_str());
      return ok = false;
    }
    const double t = CpuSeconds();
    ok = compressor.Compress(*raw).ok();
    cpu += CpuSeconds() - t;
    return ok;
  });
  if (!st.ok()) std::fprintf(stderr, "reading the chunks: %s\n", st.ToString().c_str());
  if (st.ok() && ok) floor.ndjson_cpu_s = cpu;
  std::FILE* f = std::fopen(log.string().c_str(), "rb");
  if (f == nullptr) return floor;
  std::string piece(1 << 20, '\0');
  cpu = 0;
  ok = true;
  for (;;) {
    const size_t n = std::fread(piece.data(), 1, piece.size(), f);
    if (n == 0) break;
    const double t = CpuSeconds();
    ok = ok && compressor.Compress(std::string_view(piece.data(), n)).ok();
    cpu += CpuSeconds() - t;
  }
  std::fclose(f);
  if (ok) floor.log_cpu_s = cpu;
  return floor;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t lines = 5'000'000;
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "outpost-bench-ingest";
  bool keep = false;
  bool reuse = false;
  bool json = false;
  int level = 1;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--lines") && i + 1 < argc) {
      lines = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--dir") && i + 1 < argc) {
      dir = argv[++i];
    } else if (!std::strcmp(argv[i], "--level") && i + 1 < argc) {
      level = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--keep")) {
      keep = true;
    } else if (!std::strcmp(argv[i], "--reuse")) {
      reuse = keep = true;
    } else if (!std::strcmp(argv[i], "--json")) {
      json = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--lines N] [--dir DIR] [--level L] [--keep] [--reuse] [--json]\n",
                   argv[0]);
      return 2;
    }
  }
  std::error_code ec;
  const auto log = dir / "app.log";
  uint64_t input = 0;
  if (reuse && std::filesystem::exists(log, ec)) {
    // Same file as last time (same --lines): only the pipeline runs, e.g. under perf.
    std::filesystem::remove_all(dir / "state", ec);
    input = std::filesystem::file_size(log, ec);
  } else {
    std::filesystem::remove_all(dir, ec);
    std::filesystem::create_directories(dir, ec);
    std::fprintf(stderr, "writing %llu lines to %s ...\n", static_cast<unsigned long long>(lines),
                 log.string().c_str());
    input = WriteLog(log, lines);
  }
  std::filesystem::create_directories(dir / "state", ec);
  if (input == 0) {
    std::fprintf(stderr, "cannot write %s\n", log.string().c_str());
    return 1;
  }

  Config config;
  config.agent.state_dir = dir / "state";
  config.buffer.max_bytes = 64ULL << 30;
  config.buffer.compression_level = level;
  outpost::FileSourceConfig fc;
  fc.name = "bench";
  fc.paths = {log.string()};
  fc.start_at = outpost::StartAt::kBeginning;
  config.file_sources.push_back(fc);

  outpost::SystemClock clock;
  const outpost::Logger& logger = outpost::Logger::Discard();
  ResetPeakRss();
  const double cpu0 = CpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  outpost::BufferStore::Options bo;
  bo.file = config.agent.state_dir / "buffer.db";
  bo.max_bytes = config.buffer.max_bytes;
  auto store = outpost::BufferStore::Open(bo, clock, logger);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  auto watcher = outpost::platform::CreateChangeWatcher(false);
  outpost::PipelineIdentity id{"0123456789abcdef0123456789abcdef", "bench-host", "bench", 1};
  outpost::Pipeline pipeline(config, id, **store, *watcher, clock, logger);
  outpost::Status st = pipeline.Start();
  if (st.ok()) st = pipeline.RunOnce();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = CpuSeconds() - cpu0;
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  auto stats = (*store)->Stats();
  const uint64_t stored = stats.ok() ? stats->file_bytes : 0;
  const double mb = static_cast<double>(input) / 1e6;
  const double gb = mb / 1000.0;
  const double peak_mib = static_cast<double>(PeakRssKib()) / 1024.0;
  std::fprintf(stderr, "measuring zstd level %d alone ...\n", level);
  const ZstdFloor floor = MeasureZstdFloor(**store, log, level);
  if (json) {
    std::printf(
        "{\"lines\": %llu, \"input_mb\": %.1f, \"records\": %llu, \"chunks\": %llu, "
        "\"level\": %d, \"wall_s\": %.3f, \"lines_per_s\": %.0f, \"mb_per_s\": %.1f, "
        "\"cpu_s\": %.3f, \"cpu_s_per_gb\": %.3f, \"peak_rss_mib\": %.1f, "
        "\"buffer_per_input\": %.4f, \"zstd_ndjson_cpu_s_per_gb\": %.3f, "
        "\"zstd_log_cpu_s_per_gb\": %.3f}\n",
        static_cast<unsigned long long>(lines), mb,
        static_cast<unsigned long long>(pipeline.records_committed()),
        static_cast<unsigned long long>(pipeline.chunks_committed()), level, secs,
        static_cast<double>(lines) / secs, mb / secs, cpu, cpu / gb, peak_mib,
        static_cast<double>(stored) / static_cast<double>(input), floor.ndjson_cpu_s / gb,
        floor.log_cpu_s / gb);
  } else {
    std::printf("input          %llu lines, %.1f MB (%.0f bytes/line)\n",
                static_cast<unsigned long long>(lines), mb, static_cast<double>(input) / lines);
    std::printf("committed      %llu records in %llu chunks (zstd level %d)\n",
                static_cast<unsigned long long>(pipeline.records_committed()),
                static_cast<unsigned long long>(pipeline.chunks_committed()), level);
    std::printf("wall           %.2f s\n", secs);
    std::printf("lines/s        %.0f\n", static_cast<double>(lines) / secs);
    std::printf("input MB/s     %.1f\n", mb / secs);
    std::printf("CPU s per GB   %.2f (%.2f CPU s in all)\n", cpu / gb, cpu);
    std::printf("peak RSS       %.1f MiB\n", peak_mib);
    std::printf("buffer/input   %.3f bytes per input byte (buffer.db + wal: %.1f MB)\n",
                static_cast<double>(stored) / static_cast<double>(input),
                static_cast<double>(stored) / 1e6);
    std::printf(
        "zstd alone     %.2f CPU s per GB of input over the NDJSON, %.2f over the log text\n",
        floor.ndjson_cpu_s / gb, floor.log_cpu_s / gb);
  }
  store->reset();
  if (!keep) std::filesystem::remove_all(dir, ec);
  return pipeline.records_committed() == lines ? 0 : 1;
}
