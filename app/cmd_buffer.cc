// `outpost buffer stats | export | purge`: look into buffer.db and clean it out.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "buffer/buffer_store.h"
#include "chunk/zstd_codec.h"
#include "cli.h"
#include "outpost/platform/system.h"
#include "util/units.h"

namespace outpost::app {
namespace {

struct BufferOptions {
  bool json = false;
  std::string stream;
  std::string since;
  std::string format = "ndjson";
  bool dead = false;
  bool yes = false;
};

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// --since: a duration ("2h": that long ago) or an RFC 3339 UTC time
// ("2026-01-01T00:00:00Z", fraction and offset allowed). Returns ms since the epoch.
std::optional<int64_t> ParseSince(const std::string& text, int64_t now_ms) {
  if (auto d = ParseDuration(text); d.ok()) return now_ms - d->count();
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, n = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 &&
      std::sscanf(text.c_str(), "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6)
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  int64_t ms = (DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                h * 3600 + mi * 60 + s) *
               1000;
  const char* rest = text.c_str() + n;
  if (*rest == '.') {
    ++rest;
    int64_t frac = 0, scale = 100;
    while (*rest >= '0' && *rest <= '9') {
      frac += (*rest - '0') * scale;
      scale /= 10;
      ++rest;
    }
    ms += frac;
  }
  if (*rest == 'Z' || *rest == 'z') {
    ++rest;
  } else if (*rest == '+' || *rest == '-') {
    int oh = 0, om = 0;
    if (std::sscanf(rest + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    const int64_t off = (oh * 60 + om) * 60000;
    ms += *rest == '+' ? -off : off;
    rest += 6;
  } else {
    return std::nullopt;
  }
  if (*rest != '\0') return std::nullopt;
  return ms;
}

Result<std::unique_ptr<BufferStore>> OpenStore(Cli& cli, const Config& config, bool read_only) {
  return BufferStore::Open(BufferStoreOptions(config, read_only), cli.clock(), cli.logger());
}

int Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "outpost: %s: %s\n", what.c_str(), s.message().c_str());
  return s.code() == Code::kNotFound ? kExitProblem : kExitRuntime;
}

int RunStats(Cli& cli, const BufferOptions& opts) {
  ConfigParseResult r;
  if (!cli.LoadConfig(r)) return kExitUsage;
  auto store = OpenStore(cli, r.config, true);
  if (!store.ok()) return Fail("cannot read " + BufferFile(r.config).string(), store.status());
  Result<BufferStats> st = (*store)->Stats();
  if (!st.ok()) return Fail("cannot read " + BufferFile(r.config).string(), st.status());
  const BufferStats& b = *st;
  if (opts.json) {
    nlohmann::json streams = nlohmann::json::array();
    for (const StreamStats& s : b.streams)
      streams.push_back({{"stream", s.stream},
                         {"chunks", s.chunks},
                         {"records", s.records},
                         {"raw_bytes", s.raw_bytes},
                         {"stored_bytes", s.stored_bytes},
                         {"oldest_created_at_ms", s.oldest_created_at_ms}});
    PrintJson({{"file", b.file.string()},
               {"file_bytes", b.file_bytes},
               {"stored_bytes", b.stored_bytes},
               {"max_bytes", r.config.buffer.max_bytes},
               {"chunks", b.chunks},
               {"records", b.records},
               {"dead_chunks", b.dead_chunks},
               {"oldest_created_at_ms", b.oldest_created_at_ms},
               {"schema_version", b.schema_version},
               {"streams", streams}});
    return kExitOk;
  }
  std::printf("%s (schema %d): %s on disk, %s of %s stored\n", b.file.string().c_str(),
              b.schema_version, FormatSize(b.file_bytes).c_str(),
              FormatSize(b.stored_bytes).c_str(), FormatSize(r.config.buffer.max_bytes).c_str());
  std::printf("%-24s %8s %10s %12s %12s %7s\n", "STREAM", "CHUNKS", "RECORDS", "RAW", "STORED",
              "RATIO");
  for (const StreamStats& s : b.streams) {
    const double ratio =
        s.stored_bytes ? static_cast<double>(s.raw_bytes) / static_cast<double>(s.stored_bytes)
                       : 0.0;
    std::printf("%-24s %8llu %10llu %12s %12s %6.1fx\n", s.stream.c_str(),
                static_cast<unsigned long long>(s.chunks),
                static_cast<unsigned long long>(s.records), FormatSize(s.raw_bytes).c_str(),
                FormatSize(s.stored_bytes).c_str(), ratio);
  }
  std::printf("%llu chunks, %llu records pending; %llu dead\n",
              static_cast<unsigned long long>(b.chunks), static_cast<unsigned long long>(b.records),
              static_cast<unsigned long long>(b.dead_chunks));
  return kExitOk;
}

int RunExport(Cli& cli, const BufferOptions& opts) {
  ConfigParseResult r;
  if (!cli.LoadConfig(r)) return kExitUsage;
  if (opts.format != "ndjson") {
    std::fprintf(stderr, "outpost: --format '%s' is not supported (ndjson)\n", opts.format.c_str());
    return kExitUsage;
  }
  ChunkFilter filter;
  if (!opts.stream.empty()) filter.stream = opts.stream;
  filter.include_dead = opts.dead;
  if (!opts.since.empty()) {
    const int64_t now_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(cli.clock().Now().time_since_epoch())
            .count();
    std::optional<int64_t> since = ParseSince(opts.since, now_ms);
    if (!since) {
      std::fprintf(stderr,
                   "outpost: --since '%s' is neither a duration (\"2h\") nor an RFC 3339 time "
                   "(\"2026-01-01T00:00:00Z\")\n",
                   opts.since.c_str());
      return kExitUsage;
    }
    filter.since_ms = since;
  }
  auto store = OpenStore(cli, r.config, true);
  if (!store.ok()) return Fail("cannot read " + BufferFile(r.config).string(), store.status());
  uint64_t bad = 0;
  Status st = (*store)->ForEachChunk(filter, [&](const StoredChunk& c) {
    // raw_bytes says how big it should be; a little slack, and never unbounded.
    const uint64_t cap = std::min<uint64_t>(c.chunk.raw_bytes + 1024, 1ULL << 30);
    Result<std::string> body = ZstdDecompress(c.chunk.body, cap);
    if (!body.ok()) {
      ++bad;
      std::fprintf(stderr, "outpost: chunk %lld (%s) cannot be decompressed: %s\n",
                   static_cast<long long>(c.id), c.chunk.stream.c_str(),
                   body.status().message().c_str());
      return true;
    }
    std::fwrite(body->data(), 1, body->size(), stdout);
    return !std::ferror(stdout);
  });
  std::fflush(stdout);
  if (!st.ok()) return Fail("export failed", st);
  return bad ? kExitRuntime : kExitOk;
}

int RunPurge(Cli& cli, const BufferOptions& opts) {
  ConfigParseResult r;
  if (!cli.LoadConfig(r)) return kExitUsage;
  // Read-only first: a missing buffer is reported, never created by a purge.
  uint64_t chunks = 0;
  {
    auto reader = OpenStore(cli, r.config, true);
    if (!reader.ok()) return Fail("cannot read " + BufferFile(r.config).string(), reader.status());
    ChunkFilter all;
    if (!opts.stream.empty()) all.stream = opts.stream;
    all.include_dead = true;
    Status counted = (*reader)->ForEachChunk(all, [&](const StoredChunk&) {
      ++chunks;
      return true;
    });
    if (!counted.ok()) return Fail("cannot read the buffer", counted);
  }
  auto store = OpenStore(cli, r.config, false);
  if (!store.ok()) return Fail("cannot open " + BufferFile(r.config).string(), store.status());
  if (!opts.yes) {
    if (!platform::IsTerminal(platform::StdStream::kStdout)) {
      std::fprintf(stderr,
                   "outpost: buffer purge deletes %llu chunks that were never sent; add --yes to "
                   "confirm\n",
                   static_cast<unsigned long long>(chunks));
      return kExitUsage;
    }
    std::printf("Delete %llu chunks%s that were never sent? [y/N] ",
                static_cast<unsigned long long>(chunks),
                opts.stream.empty() ? "" : (" of " + opts.stream).c_str());
    std::fflush(stdout);
    std::string answer;
    std::getline(std::cin, answer);
    if (answer != "y" && answer != "Y" && answer != "yes") {
      std::printf("nothing deleted\n");
      return kExitOk;
    }
  }
  std::optional<std::string> stream;
  if (!opts.stream.empty()) stream = opts.stream;
  Result<uint64_t> n = (*store)->Purge(stream);
  if (!n.ok()) return Fail("purge failed", n.status());
  if (opts.json) {
    PrintJson({{"deleted_chunks", *n}});
  } else {
    std::printf("deleted %llu chunks\n", static_cast<unsigned long long>(*n));
  }
  return kExitOk;
}

}  // namespace

void AddBufferCommand(CLI::App& app, Cli& cli, Action& action) {
  CLI::App* buffer = app.add_subcommand(
      "buffer", "Look into buffer.db: statistics, the records waiting to be sent, purge.");
  buffer->require_subcommand(1);

  auto stats = std::make_shared<BufferOptions>();
  CLI::App* s = buffer->add_subcommand("stats", "Chunks, records and bytes per stream.");
  s->add_flag("--json", stats->json, "Print one JSON object instead of a table.");
  s->footer("EXAMPLES\n  outpost buffer stats\n\nEXIT STATUS\n  0 ok, 1 no buffer yet, 3 error");
  s->callback([stats, &cli, &action] { action = [stats, &cli] { return RunStats(cli, *stats); }; });

  auto exp = std::make_shared<BufferOptions>();
  CLI::App* e = buffer->add_subcommand(
      "export",
      "Decompress the stored chunks and print their records (NDJSON), oldest first: exactly "
      "what would be sent.");
  e->add_option("--stream", exp->stream, "Only this stream (a source's name).");
  e->add_option("--since", exp->since,
                "Only chunks created since: a duration (\"2h\") or an RFC 3339 time.");
  e->add_option("--format", exp->format, "Output format: ndjson (the only one so far).");
  e->add_flag("--dead", exp->dead, "Include dead chunks (refused by the server for good).");
  e->footer(
      "EXAMPLES\n"
      "  outpost buffer export | jq -r .message\n"
      "  outpost buffer export --stream nginx --since 1h > last-hour.ndjson\n\n"
      "EXIT STATUS\n  0 ok, 1 no buffer yet, 2 usage error, 3 a chunk could not be read");
  e->callback([exp, &cli, &action] { action = [exp, &cli] { return RunExport(cli, *exp); }; });

  auto purge = std::make_shared<BufferOptions>();
  CLI::App* p = buffer->add_subcommand(
      "purge", "Delete stored chunks (all, or one stream's) without sending them.");
  p->add_option("--stream", purge->stream, "Only this stream.");
  p->add_flag("-y,--yes", purge->yes, "Do not ask; required when not on a terminal.");
  p->add_flag("--json", purge->json, "Print the result as JSON.");
  p->footer(
      "Checkpoints are kept: purged records are not read again.\n\n"
      "EXAMPLES\n  outpost buffer purge --yes\n\n"
      "EXIT STATUS\n  0 ok, 1 no buffer yet, 2 not confirmed, 3 error");
  p->callback([purge, &cli, &action] { action = [purge, &cli] { return RunPurge(cli, *purge); }; });
}

}  // namespace outpost::app
