// Measures how long parsing a config takes (it happens at every start and reload)
// and zstd chunk compression throughput at the default level.
// Usage: outpost_bench_config [iterations]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "chunk/zstd_codec.h"
#include "config/config_loader.h"

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 2000;
  outpost::ConfigParseOptions opts;
  opts.default_state_dir = "/var/lib/outpost";
  const std::string text = outpost::ExampleConfig(opts);

  auto t0 = Clock::now();
  size_t keys = 0;
  for (int i = 0; i < iterations; ++i)
    keys += outpost::ParseConfig(text, "bench.toml", opts).effective.size();
  const double parse_us =
      std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / iterations;
  std::printf("config parse: %.1f us per parse of the %zu-byte example config (%zu keys)\n",
              parse_us, text.size(), keys / static_cast<size_t>(iterations));

  std::string records;
  for (int i = 0; records.size() < (8u << 20); ++i)
    records += "{\"@timestamp\":\"2026-01-01T00:00:00.000Z\",\"message\":\"GET /index.html 200 " +
               std::to_string(i) + "\",\"path\":\"/var/log/nginx/access.log\"}\n";
  t0 = Clock::now();
  auto compressed = outpost::ZstdCompress(records, 3);
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!compressed.ok()) return 1;
  std::printf("zstd level 3: %.0f MB/s, ratio %.1f on %zu bytes of NDJSON\n",
              static_cast<double>(records.size()) / 1e6 / secs,
              static_cast<double>(records.size()) / static_cast<double>(compressed->size()),
              records.size());
  return 0;
}
