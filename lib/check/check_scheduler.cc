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
                               std::string os)
    : config_(config),
      identity_(std::move(identity)),
      store_(store),
      clock_(clock),
      log_(logger, "checks"),
      runner_(engine, clock, RunOptions(config, os)) {
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
  for (size_t i = 0; i < checks_.size(); ++i) {
    if (!(all || snapshot || next_run_[i] <= mono)) continue;
    const Check& check = checks_[i];
    next_run_[i] = mono + IntervalOf(check, config_);
    const CheckResult r = runner_.Run(check);
    if (r.status == CheckStatus::kSkipped) continue;
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
    if (pending_.empty()) pending_created_at_ms_ = ToMs(at);
    pending_.push_back(Record(r, at, snapshot));
    pending_bytes_ += pending_.back().size();
  }
  if (snapshot) {
    snapshot_at_ms_ = now_ms;
    state_dirty_ = true;
  }
  if (pending_.size() > kMaxPendingRecords || pending_bytes_ > kMaxPendingBytes) {
    size_t drop = 0;
    while (pending_.size() - drop > 1 &&
           (pending_.size() - drop > kMaxPendingRecords || pending_bytes_ > kMaxPendingBytes)) {
      pending_bytes_ -= pending_[drop].size();
      ++drop;
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(drop));
    log_.Warn("buffer.db has refused check results for a while; dropped the " +
              std::to_string(drop) + " oldest");
  }
  return Flush();
}

std::string CheckScheduler::Record(const CheckResult& r, WallTime at, bool snapshot) const {
  std::string out;
  out.reserve(256);
  out += "{\"@timestamp\":";
  AppendJsonString(out, FormatRfc3339Millis(at));
  out += ",\"host\":";
  AppendJsonString(out, identity_.host);
  out += ",\"agent_id\":";
  AppendJsonString(out, identity_.agent_id);
  out += ",\"stream\":\"checks\",\"source\":\"check\",\"check_id\":";
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
  if (!pending_.empty()) {
    std::string body;
    body.reserve(pending_bytes_ + pending_.size());
    for (const std::string& line : pending_) {
      body += line;
      body += '\n';
    }
    Result<std::string> z = ZstdCompress(body, 3);
    if (!z.ok()) {
      log_.Warn("cannot compress check results: " + z.status().message());
      return z.status();
    }
    CommitBatch batch;
    SealedChunk& chunk = batch.chunk.emplace();
    chunk.stream = "checks";
    chunk.created_at_ms = pending_created_at_ms_;
    chunk.records = pending_.size();
    chunk.raw_bytes = body.size();
    chunk.codec = "zstd";
    chunk.format = "ndjson";
    chunk.body = std::move(z).value();
    Result<int64_t> id = store_.Commit(batch);
    if (!id.ok()) {
      log_.Warn(
          "cannot commit " + std::to_string(pending_.size()) +
          " check result(s) to buffer.db (retried at the next run): " + id.status().message());
      return id.status();
    }
    records_committed_ += pending_.size();
    pending_.clear();
    pending_bytes_ = 0;
    if (on_commit_) on_commit_();
  }
  if (state_dirty_) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [id, l] : last_)
      j[id] = {{"status", l.status}, {"changed_at_ms", l.changed_at_ms}};
    Status st = store_.SetState(kLastKey, j.dump());
    if (st.ok()) st = store_.SetState(kSnapshotKey, std::to_string(*snapshot_at_ms_));
    if (!st.ok()) {
      log_.Warn("cannot save the last check results in buffer.db: " + st.message());
      return st;
    }
    state_dirty_ = false;
  }
  return Status::Ok();
}

Duration CheckScheduler::NextWait() const {
  const MonoTime mono = clock_.Monotonic();
  Duration wait = std::chrono::hours(24);
  for (const MonoTime t : next_run_)
    wait = std::min(wait, std::chrono::duration_cast<Duration>(t - mono));
  if (loaded_ && snapshot_at_ms_ && !checks_.empty()) {
    const int64_t now_ms = ToMs(clock_.Now());
    wait = std::min(wait, Duration(*snapshot_at_ms_ + config_.snapshot_interval.count() - now_ms));
  }
  if (!pending_.empty() || state_dirty_) wait = std::min(wait, kRetryWait);
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
