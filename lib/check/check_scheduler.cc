#include "check/check_scheduler.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "chunk/zstd_codec.h"
#include "util/json_text.h"

namespace outpost {
namespace {

constexpr char kLastKey[] = "checks.last";
constexpr char kSnapshotKey[] = "checks.snapshot_at_ms";
constexpr Duration kRetryWait = std::chrono::seconds(30);
constexpr Duration kMaxJitter = std::chrono::seconds(60);
constexpr Duration kMinInterval = std::chrono::seconds(1);

int64_t ToMs(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Duration IntervalOf(const Check& check, const ChecksConfig& config) {
  Duration d = check.interval.count() > 0 ? check.interval : config.interval;
  return std::max(d, kMinInterval);
}

CheckRunOptions RunOptions(const ChecksConfig& config, std::string os) {
  CheckRunOptions o;
  o.limits.timeout = config.query_timeout;
  o.limits.max_rows = config.max_rows;
  o.max_reported_rows = 20;
  o.os = std::move(os);
  return o;
}

}  // namespace

CheckScheduler::CheckScheduler(std::vector<Check> checks, const ChecksConfig& config,
                               CheckIdentity identity, BufferStore& store, QueryEngine& engine,
                               const Clock& clock, const Logger& logger, uint64_t seed,
                               std::string os, std::vector<InventoryQueryConfig> inventory)
    : config_(config),
      identity_(std::move(identity)),
      store_(store),
      clock_(clock),
      log_(logger, "checks"),
      engine_(engine),
      runner_(engine, clock, RunOptions(config, os)) {
  checks_out_.stream = "checks";
  inventory_out_.stream = "inventory";
  for (Check& c : checks) {
    if (!CheckAppliesTo(c, os)) {
      log_.Debug("check '" + c.id + "' is not meant for " + os + "; left out");
      continue;
    }
    checks_.push_back(std::move(c));
  }
  // First runs spread over [0, min(interval/10, 60s)) so a fleet does not run in lockstep.
  std::mt19937_64 gen(seed);
  const MonoTime start = clock_.Monotonic();
  for (const Check& c : checks_) {
    const int64_t range = std::min(IntervalOf(c, config_) / 10, kMaxJitter).count();
    int64_t jitter = 0;
    if (range > 0) jitter = std::uniform_int_distribution<int64_t>(0, range - 1)(gen);
    next_run_.push_back(start + std::chrono::milliseconds(jitter));
  }
  for (InventoryQueryConfig& q : inventory) {
    if (!PlatformsInclude(q.platforms, os)) {
      log_.Debug("inventory query '" + q.name + "' is not meant for " + os + "; left out");
      continue;
    }
    const int64_t range = std::min(std::max(q.interval, kMinInterval) / 10, kMaxJitter).count();
    int64_t jitter = 0;
    if (range > 0) jitter = std::uniform_int_distribution<int64_t>(0, range - 1)(gen);
    inventory_.push_back(
        InventoryJob{std::move(q), start + std::chrono::milliseconds(jitter), std::nullopt, ""});
  }
}

void CheckScheduler::Pending::Add(std::string line, int64_t now_ms) {
  if (lines.empty()) created_at_ms = now_ms;
  bytes += line.size();
  lines.push_back(std::move(line));
}

bool CheckScheduler::Pending::TooBig() const {
  return lines.size() > kMaxPendingRecords || bytes > kMaxPendingBytes;
}

void CheckScheduler::Load() {
  if (loaded_) return;
  loaded_ = true;
  std::set<std::string> ids;
  for (const Check& c : checks_) ids.insert(c.id);
  Result<std::optional<std::string>> last = store_.GetState(kLastKey);
  if (!last.ok()) {
    log_.Warn("cannot read the last check results (" + last.status().message() +
              "); every result will be sent again");
  } else if (*last) {
    try {
      const nlohmann::json j = nlohmann::json::parse(**last);
      for (const auto& [id, v] : j.items()) {
        if (!ids.count(id)) {
          state_dirty_ = true;  // a check that is gone: forget it
          continue;
        }
        last_[id] = Last{v.at("status").get<std::string>(), v.at("changed_at_ms").get<int64_t>()};
      }
    } catch (const std::exception& e) {
      log_.Warn(std::string("the last check results in buffer.db are unreadable (") + e.what() +
                "); every result will be sent again");
      last_.clear();
    }
  }
  Result<std::optional<std::string>> snap = store_.GetState(kSnapshotKey);
  if (snap.ok() && *snap) {
    try {
      snapshot_at_ms_ = std::stoll(**snap);
    } catch (const std::exception&) {
      snapshot_at_ms_.reset();
    }
  }
  if (!snapshot_at_ms_) {
    // First start: the first results are all new; the first snapshot is one interval away.
    snapshot_at_ms_ = ToMs(clock_.Now());
    state_dirty_ = true;
  }
  // The rows of each inventory query's last run; a query that is gone is forgotten.
  std::set<std::string> keys;
  for (InventoryJob& job : inventory_) {
    const std::string key = InventoryStateKey(job.config.name);
    keys.insert(key);
    Result<std::optional<std::string>> v = store_.GetState(key);
    if (!v.ok() || !*v) {
      if (!v.ok())
        log_.Warn("cannot read the last rows of inventory query '" + job.config.name + "' (" +
                  v.status().message() + "); its next run sends every row");
      continue;
    }
    Result<InventoryRows> rows = DecodeInventoryRows(**v);
    if (!rows.ok()) {
      log_.Warn("the last rows of inventory query '" + job.config.name +
                "' in buffer.db are unreadable (" + rows.status().message() +
                "); its next run sends every row");
    } else if (rows->query != job.config.query) {
      log_.Info("inventory query '" + job.config.name +
                "' has changed; its next run sends every row");
    } else {
      job.last_rows = std::move(rows->rows);
    }
  }
  Result<std::vector<std::string>> stored = store_.StateKeys(kInventoryStatePrefix);
  if (stored.ok()) {
    for (const std::string& key : *stored)
      if (!keys.count(key)) inventory_out_.state[key] = std::nullopt;
  }
}

Status CheckScheduler::RunDue() { return Execute(false); }
Status CheckScheduler::RunAll() { return Execute(true); }

Status CheckScheduler::Execute(bool all) {
  Load();
  const MonoTime mono = clock_.Monotonic();
  const int64_t now_ms = ToMs(clock_.Now());
  if (now_ms < *snapshot_at_ms_) {  // the wall clock went back: start the interval again
    snapshot_at_ms_ = now_ms;
    state_dirty_ = true;
  }
  const bool snapshot = now_ms - *snapshot_at_ms_ >= config_.snapshot_interval.count();
  bool ran = false;
  for (size_t i = 0; i < checks_.size(); ++i) {
    if (!(all || snapshot || next_run_[i] <= mono)) continue;
    const Check& check = checks_[i];
    next_run_[i] = mono + IntervalOf(check, config_);
    const CheckResult r = runner_.Run(check);
    if (r.status == CheckStatus::kSkipped) continue;
    ran = true;
    const std::string status(CheckStatusName(r.status));
    auto it = last_.find(check.id);
    const bool changed = it == last_.end() || it->second.status != status;
    if (!changed && !snapshot) continue;
    if (changed) {
      const std::string was = it == last_.end() ? "" : it->second.status;
      std::string msg = "check '" + check.id + "': " + status;
      if (!was.empty()) msg += " (was " + was + ")";
      if (r.status == CheckStatus::kError) msg += ": " + r.error;
      if (r.status == CheckStatus::kError)
        log_.Warn(msg);
      else
        log_.Info(msg);
      last_[check.id] = Last{status, now_ms};
      state_dirty_ = true;
    }
    const WallTime at = clock_.Now();
    checks_out_.Add(Record(r, at, snapshot), ToMs(at));
  }
  if (snapshot) {
    snapshot_at_ms_ = now_ms;
    state_dirty_ = true;
  }
  for (InventoryJob& job : inventory_) {
    if (!(all || job.next_run <= mono)) continue;
    job.next_run = mono + std::max(job.config.interval, kMinInterval);
    RunInventory(job, now_ms);
    ran = true;
  }
  Bound();
  Status st = Flush();
  if (st.ok() && ran) ++cycles_completed_;
  return st;
}

void CheckScheduler::RunInventory(InventoryJob& job, int64_t now_ms) {
  QueryLimits limits;
  limits.timeout = config_.query_timeout;
  limits.max_rows = config_.max_rows;
  Result<QueryResult> r = [&]() -> Result<QueryResult> {
    try {  // fault barrier: one query never stops the others
      return engine_.Run(job.config.query, limits);
    } catch (const std::exception& e) {
      return Internal(std::string("the query threw: ") + e.what());
    }
  }();
  const WallTime at = clock_.Now();
  if (!r.ok()) {
    // The last rows stay: the next run that works is compared with them.
    const std::string error = r.status().message();
    if (error != job.last_error) {
      log_.Warn("inventory query '" + job.config.name + "': " + error);
      inventory_out_.Add(InventoryRecord(job, at, "error", error), ToMs(at));
      job.last_error = error;
    }
    return;
  }
  if (!job.last_error.empty()) {
    log_.Info("inventory query '" + job.config.name + "' runs again");
    job.last_error.clear();
  }
  std::vector<std::string> rows = CanonicalRows(*r);
  size_t added = 0, removed = 0;
  if (!job.last_rows) {
    for (const std::string& row : rows)
      inventory_out_.Add(InventoryRecord(job, at, "snapshot", row), now_ms);
    added = rows.size();
    log_.Info("inventory query '" + job.config.name + "': snapshot of " +
              std::to_string(rows.size()) + " row(s)");
  } else {
    const RowDiff d = DiffRows(*job.last_rows, rows);
    for (const std::string& row : d.removed)
      inventory_out_.Add(InventoryRecord(job, at, "removed", row), now_ms);
    for (const std::string& row : d.added)
      inventory_out_.Add(InventoryRecord(job, at, "added", row), now_ms);
    added = d.added.size();
    removed = d.removed.size();
    if (added == 0 && removed == 0) return;  // nothing to send, nothing to remember
    log_.Debug("inventory query '" + job.config.name + "': " + std::to_string(added) + " added, " +
               std::to_string(removed) + " removed");
  }
  inventory_out_.state[InventoryStateKey(job.config.name)] =
      EncodeInventoryRows(InventoryRows{job.config.query, rows});
  job.last_rows = std::move(rows);
}

// `{"@timestamp":..,"host":..,"agent_id":..,"stream":..,"source":..` (no closing brace).
void CheckScheduler::AppendRecordHead(std::string& out, WallTime at, std::string_view stream,
                                      std::string_view source) const {
  out += "{\"@timestamp\":";
  AppendJsonString(out, FormatRfc3339Millis(at));
  out += ",\"host\":";
  AppendJsonString(out, identity_.host);
  out += ",\"agent_id\":";
  AppendJsonString(out, identity_.agent_id);
  out += ",\"stream\":";
  AppendJsonString(out, stream);
  out += ",\"source\":";
  AppendJsonString(out, source);
}

std::string CheckScheduler::InventoryRecord(const InventoryJob& job, WallTime at,
                                            std::string_view action,
                                            std::string_view columns_or_error) const {
  std::string out;
  out.reserve(160 + columns_or_error.size());
  AppendRecordHead(out, at, "inventory", "inventory");
  out += ",\"name\":";
  AppendJsonString(out, job.config.name);
  out += ",\"action\":";
  AppendJsonString(out, action);
  if (action == "error") {
    out += ",\"error\":";
    AppendJsonString(out, columns_or_error);
  } else {
    out += ",\"columns\":";
    out += columns_or_error;  // a canonical row: a JSON object already
  }
  out += '}';
  return out;
}

// Memory stays bounded while buffer.db refuses commits. Check results: the oldest go.
// Inventory differences cannot be thinned without breaking the chain of differences, so
// they all go, and every query's next run sends a snapshot instead.
void CheckScheduler::Bound() {
  if (checks_out_.TooBig()) {
    std::vector<std::string>& lines = checks_out_.lines;
    size_t drop = 0;
    while (lines.size() - drop > 1 &&
           (lines.size() - drop > kMaxPendingRecords || checks_out_.bytes > kMaxPendingBytes)) {
      checks_out_.bytes -= lines[drop].size();
      ++drop;
    }
    lines.erase(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(drop));
    log_.Warn("buffer.db has refused check results for a while; dropped the " +
              std::to_string(drop) + " oldest");
  }
  if (inventory_out_.TooBig()) {
    log_.Warn("buffer.db has refused inventory results for a while; dropped " +
              std::to_string(inventory_out_.lines.size()) +
              " record(s): the next run of each inventory query sends every row");
    inventory_out_.lines.clear();
    inventory_out_.bytes = 0;
    for (InventoryJob& job : inventory_) {
      job.last_rows.reset();
      inventory_out_.state[InventoryStateKey(job.config.name)] = std::nullopt;
    }
  }
}

std::string CheckScheduler::Record(const CheckResult& r, WallTime at, bool snapshot) const {
  std::string out;
  out.reserve(256);
  AppendRecordHead(out, at, "checks", "check");
  out += ",\"check_id\":";
  AppendJsonString(out, r.check.id);
  out += ",\"title\":";
  AppendJsonString(out, r.check.title);
  out += ",\"severity\":";
  AppendJsonString(out, CheckSeverityName(r.check.severity));
  out += ",\"status\":";
  AppendJsonString(out, CheckStatusName(r.status));
  // Column names made unique (keys are unique within a record): "x", "x_2", ...
  std::vector<std::string> keys;
  std::set<std::string> seen;
  for (const std::string& c : r.columns) {
    std::string k = c;
    for (int n = 2; seen.count(k); ++n) k = c + "_" + std::to_string(n);
    seen.insert(k);
    keys.push_back(std::move(k));
  }
  out += ",\"rows\":[";
  for (size_t i = 0; i < r.rows.size() && i < 20; ++i) {
    if (i) out += ',';
    out += '{';
    for (size_t c = 0; c < r.rows[i].size() && c < keys.size(); ++c) {
      if (c) out += ',';
      AppendJsonString(out, keys[c]);
      out += ':';
      AppendJsonString(out, r.rows[i][c]);
    }
    out += '}';
  }
  out += ']';
  if (r.status == CheckStatus::kError) {
    out += ",\"error\":";
    AppendJsonString(out, r.error);
  }
  if (r.status == CheckStatus::kFail && !r.check.remediation.empty()) {
    out += ",\"remediation\":";
    AppendJsonString(out, r.check.remediation);
  }
  if (snapshot) out += ",\"snapshot\":true";
  out += '}';
  return out;
}

Status CheckScheduler::Flush() {
  if (state_dirty_) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [id, l] : last_)
      j[id] = {{"status", l.status}, {"changed_at_ms", l.changed_at_ms}};
    checks_out_.state[kLastKey] = j.dump();
    checks_out_.state[kSnapshotKey] = std::to_string(*snapshot_at_ms_);
    state_dirty_ = false;
  }
  Status checks = Commit(checks_out_);
  Status inventory = Commit(inventory_out_);  // even when the checks' commit failed
  return checks.ok() ? inventory : checks;
}

// Commits one stream's records and the state that goes with them in one transaction.
Status CheckScheduler::Commit(Pending& p) {
  if (p.lines.empty() && p.state.empty()) return Status::Ok();
  CommitBatch batch;
  if (!p.lines.empty()) {
    std::string body;
    body.reserve(p.bytes + p.lines.size());
    for (const std::string& line : p.lines) {
      body += line;
      body += '\n';
    }
    Result<std::string> z = ZstdCompress(body, 3);
    if (!z.ok()) {
      log_.Warn("cannot compress " + p.stream + " results: " + z.status().message());
      return z.status();
    }
    SealedChunk& chunk = batch.chunk.emplace();
    chunk.stream = p.stream;
    chunk.created_at_ms = p.created_at_ms;
    chunk.records = p.lines.size();
    chunk.raw_bytes = body.size();
    chunk.codec = "zstd";
    chunk.format = "ndjson";
    chunk.body = std::move(z).value();
  }
  for (const auto& [key, value] : p.state) batch.state.emplace_back(key, value);
  Result<int64_t> id = store_.Commit(batch);
  if (!id.ok()) {
    log_.Warn("cannot commit " + std::to_string(p.lines.size()) + " " + p.stream +
              " record(s) to buffer.db (retried at the next run): " + id.status().message());
    return id.status();
  }
  records_committed_ += p.lines.size();
  const bool wrote = !p.lines.empty();
  p.lines.clear();
  p.bytes = 0;
  p.state.clear();
  if (wrote && on_commit_) on_commit_();
  return Status::Ok();
}

Duration CheckScheduler::NextWait() const {
  const MonoTime mono = clock_.Monotonic();
  Duration wait = std::chrono::hours(24);
  for (const MonoTime t : next_run_)
    wait = std::min(wait, std::chrono::duration_cast<Duration>(t - mono));
  for (const InventoryJob& job : inventory_)
    wait = std::min(wait, std::chrono::duration_cast<Duration>(job.next_run - mono));
  if (loaded_ && snapshot_at_ms_ && !checks_.empty()) {
    const int64_t now_ms = ToMs(clock_.Now());
    wait = std::min(wait, Duration(*snapshot_at_ms_ + config_.snapshot_interval.count() - now_ms));
  }
  if (pending_records() > 0 || state_dirty_ || !checks_out_.state.empty() ||
      !inventory_out_.state.empty())
    wait = std::min(wait, kRetryWait);
  return std::max(wait, Duration(0));
}

void CheckScheduler::Run() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    (void)RunDue();  // failures are logged and retried
    const Duration wait = NextWait();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, wait, [this] { return stop_; });
  }
}

void CheckScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

}  // namespace outpost
