// `outpost status`: what the agent is doing and what is waiting in the buffer. Reads
// buffer.db read-only (WAL readers never block the running agent's writes).
#include <cstdio>
#include <map>

#include "buffer/buffer_store.h"
#include "cli.h"
#include "collect/pipeline.h"
#include "outpost/platform/file_system.h"
#include "outpost/platform/process_lock.h"
#include "ship/shipper.h"
#include "util/units.h"

namespace outpost::app {
namespace {

struct StatusOptions {
  bool json = false;
};

std::string Ago(int64_t then_ms, int64_t now_ms) {
  if (then_ms <= 0) return "-";
  const int64_t d = now_ms - then_ms;
  if (d < 0) return "in the future (clock jumped?)";
  return FormatDuration(std::chrono::milliseconds(d)) + " ago";
}

int RunStatus(Cli& cli, const StatusOptions& opts) {
  ConfigParseResult r;
  if (!cli.LoadConfig(r)) return kExitUsage;
  const Config& config = r.config;
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(cli.clock().Now().time_since_epoch())
          .count();
  nlohmann::json out;
  bool attention = false;

  // Running? The agent holds agent.lock for as long as it lives.
  bool running = false;
  std::string holder;
  {
    std::error_code ec;
    if (std::filesystem::exists(AgentLockFile(config), ec)) {
      std::string msg;
      auto lock = platform::TryLockFile(AgentLockFile(config), &msg);
      // Only "held by" means an agent: a lock file we may not open says nothing.
      running = lock == nullptr && msg.find("held by") != std::string::npos;
      holder = lock == nullptr ? msg : "";
    }
  }
  out["agent"] = {
      {"running", running}, {"lock", holder}, {"state_dir", config.agent.state_dir.string()}};

  const BufferStore::Options bo = BufferStoreOptions(config, /*read_only=*/true);
  Result<std::unique_ptr<BufferStore>> store = BufferStore::Open(bo, cli.clock(), cli.logger());
  if (!store.ok()) {
    if (store.status().code() != Code::kNotFound) {
      std::fprintf(stderr, "outpost: cannot read %s: %s\n", bo.file.string().c_str(),
                   store.status().message().c_str());
      return kExitRuntime;
    }
    out["buffer"] = nullptr;
    out["note"] = store.status().message();
    if (opts.json) {
      PrintJson(out);
    } else {
      std::printf("agent    %s\nbuffer   none yet: %s\n", running ? "running" : "not running",
                  store.status().message().c_str());
    }
    return kExitOk;
  }
  BufferStore& db = **store;
  Result<BufferStats> stats = db.Stats();
  Result<std::vector<Checkpoint>> cps = db.LoadCheckpoints();
  Result<std::optional<std::string>> agent_state = db.GetState(kStatusKey);
  if (!stats.ok() || !cps.ok() || !agent_state.ok()) {
    const Status& s = !stats.ok() ? stats.status()
                      : !cps.ok() ? cps.status()
                                  : agent_state.status();
    std::fprintf(stderr, "outpost: cannot read %s: %s\n", bo.file.string().c_str(),
                 s.message().c_str());
    return kExitRuntime;
  }
  nlohmann::json agent = nlohmann::json::object();
  if (agent_state->has_value()) {
    agent = nlohmann::json::parse(**agent_state, nullptr, /*allow_exceptions=*/false);
    if (agent.is_discarded()) agent = nlohmann::json::object();
  }
  const BufferStats& b = *stats;
  // A running agent says whether it paused; otherwise the last agent's word may be
  // stale (a purge since), and a full buffer is what would pause the next one.
  const bool paused =
      running ? agent.value("paused", false) : b.stored_bytes >= config.buffer.max_bytes;
  out["buffer"] = {{"file", b.file.string()},
                   {"file_bytes", b.file_bytes},
                   {"stored_bytes", b.stored_bytes},
                   {"max_bytes", config.buffer.max_bytes},
                   {"chunks_pending", b.chunks},
                   {"records_pending", b.records},
                   {"dead_chunks", b.dead_chunks},
                   {"oldest_pending_ms", b.oldest_created_at_ms},
                   {"paused", paused},
                   {"dropped_chunks", 0}};
  if (paused) attention = true;

  // Sources: configured ones, with their checkpoints and what the agent last said.
  std::map<std::string, nlohmann::json> agent_sources;
  if (agent.contains("sources") && agent["sources"].is_array())
    for (const auto& s : agent["sources"])
      if (s.is_object()) agent_sources[s.value("name", "")] = s;
  // While the agent runs, its own view adds what it has read but not yet committed
  // (in its open chunk, a held partial line or a pending multiline record).
  auto agent_file = [&](const std::string& source, const Checkpoint& cp) -> const nlohmann::json* {
    if (!running) return nullptr;
    const auto it = agent_sources.find(source);
    if (it == agent_sources.end() || !it->second.contains("files") ||
        !it->second["files"].is_array())
      return nullptr;
    for (const auto& f : it->second["files"])
      if (f.is_object() && f.value("device", uint64_t{0}) == cp.device &&
          f.value("inode", uint64_t{0}) == cp.inode)
        return &f;
    return nullptr;
  };
  nlohmann::json sources = nlohmann::json::array();
  for (const FileSourceConfig& fc : config.file_sources) {
    nlohmann::json js = {{"name", fc.name}, {"type", "file"}};
    nlohmann::json files = nlohmann::json::array();
    uint64_t lag_total = 0;
    for (const Checkpoint& cp : *cps) {
      if (cp.source != fc.name || !cp.cursor.empty()) continue;
      platform::FileInfo info;
      std::string msg;
      nlohmann::json jf = {
          {"path", cp.path}, {"offset", cp.offset}, {"updated_at_ms", cp.updated_at_ms}};
      if (const nlohmann::json* af = agent_file(fc.name, cp)) {
        jf["read"] = af->value("read", uint64_t{0});
        jf["rotated"] = af->value("rotated", false);
      }
      if (platform::StatPath(cp.path, info, &msg) == platform::FileError::kNone &&
          info.id.device == cp.device && info.id.inode == cp.inode) {
        const uint64_t lag = info.size > cp.offset ? info.size - cp.offset : 0;
        jf["size"] = info.size;
        jf["lag_bytes"] = lag;
        lag_total += lag;
      } else {
        jf["size"] = nullptr;
        jf["lag_bytes"] = nullptr;
        jf["note"] = "rotated: no longer at this path";
      }
      files.push_back(std::move(jf));
    }
    js["files"] = std::move(files);
    js["lag_bytes"] = lag_total;
    const auto it = agent_sources.find(fc.name);
    js["problems"] = it != agent_sources.end() && it->second.contains("problems")
                         ? it->second["problems"]
                         : nlohmann::json::array();
    js["polling"] = it != agent_sources.end() ? it->second.value("polling", false) : false;
    if (running && it != agent_sources.end())
      js["open_chunk_records"] = it->second.value("open_chunk_records", uint64_t{0});
    if (!js["problems"].empty()) attention = true;
    sources.push_back(std::move(js));
  }
  // Journal and Event Log sources: a cursor (the journal's __CURSOR, the Event Log's
  // bookmark XML) instead of files.
  std::vector<std::pair<std::string, std::string>> cursor_sources;  // name, type
  for (const JournalSourceConfig& jc : config.journal_sources)
    cursor_sources.emplace_back(jc.name, "journal");
  for (const EventLogSourceConfig& ec : config.eventlog_sources)
    cursor_sources.emplace_back(ec.name, "eventlog");
  for (const UnifiedLogSourceConfig& uc : config.unifiedlog_sources)
    cursor_sources.emplace_back(uc.name, "unifiedlog");
  for (const auto& [name, type] : cursor_sources) {
    nlohmann::json js = {{"name", name}, {"type", type}, {"files", nlohmann::json::array()}};
    std::string cursor;
    int64_t updated_at_ms = 0;
    for (const Checkpoint& cp : *cps)
      if (cp.source == name && !cp.cursor.empty()) {
        cursor = cp.cursor;
        updated_at_ms = cp.updated_at_ms;
      }
    js["cursor"] = cursor;
    js["cursor_updated_at_ms"] = updated_at_ms;
    const auto it = agent_sources.find(name);
    const bool known = running && it != agent_sources.end();
    js["problems"] = it != agent_sources.end() && it->second.contains("problems")
                         ? it->second["problems"]
                         : nlohmann::json::array();
    js["polling"] = false;
    js["lag_bytes"] = 0;
    if (known) {
      js["open_chunk_records"] = it->second.value("open_chunk_records", uint64_t{0});
      if (it->second.contains(type)) js[type] = it->second[type];
    }
    if (!js["problems"].empty()) attention = true;
    sources.push_back(std::move(js));
  }
  out["sources"] = std::move(sources);
  out["last_error"] = agent.value("last_error", "");
  if (!out["last_error"].get<std::string>().empty()) attention = true;
  // Typed defaults: value(key, 0) would read these as int and cut the milliseconds.
  out["agent"]["pid"] = agent.value("pid", int64_t{0});
  out["agent"]["version"] = agent.value("version", "");
  out["agent"]["agent_id"] = agent.value("agent_id", "");
  out["agent"]["started_at_ms"] = agent.value("started_at_ms", int64_t{0});
  out["agent"]["status_updated_at_ms"] = agent.value("updated_at_ms", int64_t{0});
  // [limits] as the running agent last saw them; a SIGHUP reload that was refused.
  out["limits"] = running && agent.contains("limits") ? agent["limits"] : nlohmann::json();
  out["reload_error"] =
      running && agent.contains("reload_error") ? agent["reload_error"] : nlohmann::json();
  if (!out["reload_error"].is_null()) attention = true;
  // The uploader's own report (ship.status), when there is an [output].
  if (config.output) {
    nlohmann::json ship = nlohmann::json::object();
    if (Result<std::optional<std::string>> st = db.GetState(kShipStatusKey);
        st.ok() && st->has_value()) {
      ship = nlohmann::json::parse(**st, nullptr, /*allow_exceptions=*/false);
      if (ship.is_discarded()) ship = nlohmann::json::object();
    }
    ship["endpoint"] = config.output->endpoint;
    if (ship.value("auth_rejected", false)) attention = true;
    out["output"] = ship;
  } else {
    out["output"] = nullptr;
  }
  out["attention"] = attention;
  if (opts.json) {
    PrintJson(out);
    return attention ? kExitProblem : kExitOk;
  }

  std::printf("agent    %s", running ? "running" : "not running");
  const int64_t pid = agent.value("pid", int64_t{0});
  const int64_t started_at_ms = agent.value("started_at_ms", int64_t{0});
  if (running && pid != 0) std::printf(" (pid %lld)", static_cast<long long>(pid));
  if (started_at_ms > 0)
    std::printf(", %s %s", running ? "started" : "last started",
                Ago(started_at_ms, now_ms).c_str());
  std::printf("\n");
  const double pct = config.buffer.max_bytes ? 100.0 * static_cast<double>(b.stored_bytes) /
                                                   static_cast<double>(config.buffer.max_bytes)
                                             : 0.0;
  std::printf("buffer   %s: %s of %s (%.1f%%), file %s\n", b.file.string().c_str(),
              FormatSize(b.stored_bytes).c_str(), FormatSize(config.buffer.max_bytes).c_str(), pct,
              FormatSize(b.file_bytes).c_str());
  std::printf("pending  %llu chunks, %llu records, oldest %s; %llu dead chunks\n",
              static_cast<unsigned long long>(b.chunks), static_cast<unsigned long long>(b.records),
              Ago(b.oldest_created_at_ms, now_ms).c_str(),
              static_cast<unsigned long long>(b.dead_chunks));
  if (paused)
    std::printf(
        "PAUSED   buffer.db is full: file sources wait (nothing is lost) until space "
        "returns\n");
  if (const nlohmann::json& l = out["limits"]; l.is_object()) {
    std::printf("limits  ");
    if (l.value("max_cpu_percent", int64_t{0}) > 0)
      std::printf(
          " cpu %lld%%%s (waited %llu times, %s in all)",
          static_cast<long long>(l.value("max_cpu_percent", int64_t{0})),
          l.value("cpu_throttled", false) ? ", reading slowed now" : "",
          static_cast<unsigned long long>(l.value("cpu_waits", uint64_t{0})),
          FormatDuration(std::chrono::milliseconds(l.value("cpu_wait_ms", int64_t{0}))).c_str());
    if (l.value("max_memory", uint64_t{0}) > 0)
      std::printf(" memory %s of %s%s", FormatBytes(l.value("rss_bytes", uint64_t{0})).c_str(),
                  FormatSize(l.value("max_memory", uint64_t{0})).c_str(),
                  l.value("memory_over", false) ? ", OVER: sources paused" : "");
    std::printf("\n");
  }
  if (const nlohmann::json& re = out["reload_error"]; re.is_object()) {
    std::printf("RELOAD   refused %s: %s\n", Ago(re.value("at_ms", int64_t{0}), now_ms).c_str(),
                re.value("message", "").c_str());
    if (re.contains("errors") && re["errors"].is_array())
      for (const auto& e : re["errors"])
        if (e.is_string()) std::printf("  ! %s\n", e.get<std::string>().c_str());
  }
  for (const auto& js : out["sources"]) {
    std::printf("source   %s (%s)%s\n", js["name"].get<std::string>().c_str(),
                js["type"].get<std::string>().c_str(), js["polling"].get<bool>() ? " polling" : "");
    for (const auto& f : js["files"]) {
      if (f["lag_bytes"].is_null()) {
        std::printf("  %-50s offset %llu (%s)\n", f["path"].get<std::string>().c_str(),
                    f["offset"].get<unsigned long long>(), f["note"].get<std::string>().c_str());
      } else {
        std::printf("  %-50s offset %llu of %llu, lag %s", f["path"].get<std::string>().c_str(),
                    f["offset"].get<unsigned long long>(), f["size"].get<unsigned long long>(),
                    FormatSize(f["lag_bytes"].get<uint64_t>()).c_str());
        if (f.contains("read") && f["read"].get<uint64_t>() > f["offset"].get<uint64_t>())
          std::printf(" (read to %llu, not yet committed)", f["read"].get<unsigned long long>());
        std::printf("\n");
      }
    }
    if (js.contains("eventlog") && js["eventlog"].is_object()) {
      const nlohmann::json& el = js["eventlog"];
      std::printf("  channel %s, %s, %llu events read, last record id %s\n",
                  el.value("channel", "").c_str(), el.value("open", false) ? "open" : "not open",
                  static_cast<unsigned long long>(el.value("events_read", uint64_t{0})),
                  el.contains("last_record_id") && el["last_record_id"].is_number()
                      ? std::to_string(el["last_record_id"].get<uint64_t>()).c_str()
                      : "(none yet)");
    } else if (js.contains("cursor")) {
      const std::string cursor = js["cursor"].get<std::string>();
      std::printf("  cursor %s\n", cursor.empty() ? "(none yet)" : cursor.c_str());
      if (js.contains("journal") && js["journal"].is_object())
        std::printf(
            "  journalctl %s, %llu entries read\n",
            js["journal"].value("running", false) ? "running" : "not running",
            static_cast<unsigned long long>(js["journal"].value("entries_read", uint64_t{0})));
      if (js.contains("unifiedlog") && js["unifiedlog"].is_object()) {
        const nlohmann::json& ul = js["unifiedlog"];
        std::printf("  log %s, %llu entries read, %llu garbage lines\n",
                    ul.value("running", false) ? ("running (" + ul.value("mode", "") + ")").c_str()
                                               : "not running",
                    static_cast<unsigned long long>(ul.value("entries_read", uint64_t{0})),
                    static_cast<unsigned long long>(ul.value("garbage_lines", uint64_t{0})));
      }
    }
    for (const auto& p : js["problems"])
      if (p.is_object()) std::printf("  ! %s\n", p.value("message", "").c_str());
  }
  if (out["output"].is_null()) {
    std::printf("output   none: records stay in buffer.db ([output] not configured)\n");
  } else {
    const nlohmann::json& o = out["output"];
    std::printf("output   %s: %llu chunks, %llu records, %s sent; %llu retries, %llu dead\n",
                o.value("endpoint", "").c_str(),
                static_cast<unsigned long long>(o.value("chunks_sent", uint64_t{0})),
                static_cast<unsigned long long>(o.value("records_sent", uint64_t{0})),
                FormatBytes(o.value("bytes_sent", uint64_t{0})).c_str(),
                static_cast<unsigned long long>(o.value("retries", uint64_t{0})),
                static_cast<unsigned long long>(o.value("dead", uint64_t{0})));
    std::printf("         last success %s",
                Ago(o.value("last_success_ms", int64_t{0}), now_ms).c_str());
    const int64_t next = o.value("next_attempt_ms", int64_t{0});
    if (next > now_ms)
      std::printf(", next attempt in %s",
                  FormatDuration(std::chrono::milliseconds(next - now_ms)).c_str());
    std::printf("\n");
    if (o.value("auth_rejected", false))
      std::printf(
          "AUTH     authentication rejected by the endpoint: chunks are kept; fix "
          "output.token / token_file / client_cert\n");
    if (o.value("partial", uint64_t{0}) > 0)
      std::printf("         %llu answers refused single records; %llu records dead-lettered\n",
                  static_cast<unsigned long long>(o.value("partial", uint64_t{0})),
                  static_cast<unsigned long long>(o.value("records_refused", uint64_t{0})));
    if (!o.value("last_error", "").empty()) {
      const int http = o.value("last_error_status", 0);
      std::printf("         last upload error (%s%s): %s\n",
                  http > 0 ? ("HTTP " + std::to_string(http) + ", ").c_str() : "",
                  Ago(o.value("last_error_ms", int64_t{0}), now_ms).c_str(),
                  o.value("last_error", "").c_str());
    }
  }
  const std::string last_error = out["last_error"].get<std::string>();
  if (!last_error.empty()) std::printf("last error: %s\n", last_error.c_str());
  return attention ? kExitProblem : kExitOk;
}

}  // namespace

void AddStatusCommand(CLI::App& app, Cli& cli, Action& action) {
  auto opts = std::make_shared<StatusOptions>();
  CLI::App* cmd = app.add_subcommand(
      "status",
      "Show whether the agent runs, every source's files with their offsets and lag, the "
      "buffer's size and cap, pending chunks, the oldest pending age, and recent problems. "
      "Safe while the agent runs.");
  cmd->add_flag("--json", opts->json, "Print one JSON object instead of text.");
  cmd->footer(
      "EXAMPLES\n"
      "  outpost status\n"
      "  outpost status --json | jq '.sources[].files[] | {path, lag_bytes}'\n\n"
      "EXIT STATUS\n"
      "  0  nothing needs attention\n"
      "  1  something needs attention: a file problem, the buffer is full, or buffer.db\n"
      "     refuses commits (last error)\n"
      "  2  config error\n"
      "  3  buffer.db cannot be read");
  cmd->callback([opts, &cli, &action] { action = [opts, &cli] { return RunStatus(cli, *opts); }; });
}

}  // namespace outpost::app
