// The unified log source; see unified_log_source.h and docs/macos.md.
#include "collect/unified_log_source.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "collect/child_end.h"
#include "outpost/platform/system.h"

namespace outpost {

namespace {

constexpr size_t kReadBlock = 64 << 10;
// run --once: how long to wait for `log show`'s next output before giving up.
constexpr auto kOnceWait = std::chrono::seconds(30);
constexpr std::string_view kDefaultLog = "/usr/bin/log";

int64_t WallMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now().time_since_epoch())
      .count();
}

RecordContext WithoutUnifiedLogFields(RecordContext ctx, ComponentLogger& log) {
  for (auto it = ctx.fields.begin(); it != ctx.fields.end();) {
    if (IsUnifiedLogRecordField(it->first)) {
      log.Warn("field '" + it->first +
               "' is left out: unified log records have a field of that name");
      it = ctx.fields.erase(it);
    } else {
      ++it;
    }
  }
  return ctx;
}

// "YYYY-MM-DD HH:MM:SS+0000" for `t` in UTC, whole seconds (rounded down).
std::string FormatStart(WallTime t) {
  using namespace std::chrono;
  const sys_seconds secs = floor<seconds>(t);
  const sys_days day = floor<days>(secs);
  const year_month_day ymd(day);
  const hh_mm_ss<seconds> hms(secs - day);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d+0000", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string Seconds(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count());
}

}  // namespace

std::string FormatUnifiedLogPosition(const UnifiedLogPosition& p) {
  return std::to_string(p.count) + " " + p.timestamp;
}

std::optional<UnifiedLogPosition> ParseUnifiedLogPosition(std::string_view cursor) {
  const size_t space = cursor.find(' ');
  if (space == 0 || space == std::string_view::npos || space > 19) return std::nullopt;
  UnifiedLogPosition p;
  const auto r = std::from_chars(cursor.data(), cursor.data() + space, p.count);
  if (r.ec != std::errc() || r.ptr != cursor.data() + space || p.count == 0) return std::nullopt;
  p.timestamp = std::string(cursor.substr(space + 1));
  const std::optional<WallTime> t = ParseUnifiedLogTimestamp(p.timestamp);
  if (!t) return std::nullopt;
  p.time = *t;
  return p;
}

std::vector<std::string> UnifiedLogArgs(const UnifiedLogSourceConfig& config, bool stream,
                                        std::optional<WallTime> start) {
  std::vector<std::string> argv = {config.log, stream ? "stream" : "show", "--style", "ndjson"};
  // `log stream` takes --level; `log show` takes --info and --debug.
  if (stream) {
    if (config.level == UnifiedLogLevel::kInfo) argv.insert(argv.end(), {"--level", "info"});
    if (config.level == UnifiedLogLevel::kDebug) argv.insert(argv.end(), {"--level", "debug"});
  } else {
    if (config.level != UnifiedLogLevel::kDefault) argv.push_back("--info");
    if (config.level == UnifiedLogLevel::kDebug) argv.push_back("--debug");
  }
  if (!config.predicate.empty()) argv.insert(argv.end(), {"--predicate", config.predicate});
  if (start && !stream) argv.insert(argv.end(), {"--start", FormatStart(*start)});
  return argv;
}

UnifiedLogSource::UnifiedLogSource(const UnifiedLogSourceConfig& config,
                                   const RecordContext& context, const BufferConfig& buffer,
                                   const Clock& clock, const Logger& logger)
    : config_(config),
      clock_(clock),
      log_(logger, "source." + config.name),
      encoder_(WithoutUnifiedLogFields(context, log_)),
      builder_(config.name, buffer.chunk_max_bytes, buffer.chunk_max_age, buffer.compression_level),
      read_buf_(new char[kReadBlock]) {}

UnifiedLogSource::~UnifiedLogSource() = default;

void UnifiedLogSource::SetProblem(const std::string& cause, const std::string& message) {
  if (problem_cause_ && *problem_cause_ == cause && problem_message_ == message) return;
  if (!problem_cause_ || *problem_cause_ != cause) log_.Warn(message);
  if (!problem_cause_) problem_since_ms_ = WallMs(clock_);
  problem_cause_ = cause;
  problem_message_ = message;
  ++status_version_;
}

void UnifiedLogSource::ClearProblem() {
  if (!problem_cause_) return;
  log_.Info(config_.log + " runs and delivers entries again");
  problem_cause_.reset();
  problem_message_.clear();
  ++status_version_;
}

void UnifiedLogSource::RetryLater(const std::string& cause, const std::string& message) {
  SetProblem(cause,
             message + "; source " + config_.name + " retries in " + Seconds(backoff_) + " s");
  next_spawn_ = clock_.Monotonic() + backoff_;
  backoff_ = std::min<Duration>(backoff_ * 2, kUnifiedLogRetryMax);
}

Status UnifiedLogSource::Start(BufferStore& store, platform::ChangeWatcher& watcher) {
  watcher_ = &watcher;
  if (platform::OsName() != "macos" && config_.log == kDefaultLog) {
    available_ = false;
    SetProblem("not available", "the unified log is macOS's (this is " +
                                    std::string(platform::OsName()) + "); source " + config_.name +
                                    " stays idle");
    return Status::Ok();
  }
  Result<std::vector<Checkpoint>> cps = store.LoadCheckpoints(config_.name);
  if (!cps.ok()) return cps.status();
  std::string stored;
  for (const Checkpoint& cp : *cps)
    if (!cp.cursor.empty()) stored = cp.cursor;
  if (!stored.empty()) {
    position_ = ParseUnifiedLogPosition(stored);
    if (!position_)
      SetProblem("stored position unreadable", "the stored position \"" + stored.substr(0, 80) +
                                                   "\" is not \"<count> <timestamp>\"; source " +
                                                   config_.name + " starts as on its first run");
  }
  checkpoint_.Reset(std::move(stored));
  next_spawn_ = clock_.Monotonic();
  return Status::Ok();
}

// Starts `log show` (replaying from the position, or the first run's `log show`) or,
// once caught up, `log stream`. false: it could not be started (retried later).
bool UnifiedLogSource::Spawn(bool flush_all) {
  if (flush_all && caught_up_) {
    once_done_ = true;
    return false;
  }
  std::optional<WallTime> start;
  bool stream = false;
  replay_time_.reset();
  replay_skip_ = 0;
  if (position_ && !caught_up_) {
    start = position_->time;
    replay_time_ = position_->time;
    replay_skip_ = position_->count;
  } else if (!caught_up_ && (flush_all || config_.read_from == UnifiedLogReadFrom::kHead)) {
    // First run: --once shows from now ("tail": nothing old) or everything ("head");
    // `run` with "head" shows everything, then streams.
    if (config_.read_from == UnifiedLogReadFrom::kTail) start = clock_.Now();
  } else {
    stream = true;
  }
  streaming_ = stream;
  reader_ = std::make_unique<UnifiedLogReader>();
  std::string error;
  platform::ChangeWatcher* w = watcher_;
  proc_ = platform::StartSubprocess(
      UnifiedLogArgs(config_, stream, start),
      [w] {
        if (w) w->Wake();
      },
      &error);
  ++status_version_;
  if (!proc_) {
    RetryLater("cannot run log", error);
    return false;
  }
  ++starts_;
  log_.Debug("started " + config_.log + (stream ? " stream" : " show") + " (pid " +
             std::to_string(proc_->pid()) + ")" +
             (replay_time_ ? " from the stored position" : ""));
  return true;
}

// The child closed its output: note how it ended and plan what runs next.
void UnifiedLogSource::Ended() {
  if (reader_) {
    std::vector<UnifiedLogEntry> last;
    reader_->Finish(last);
    for (UnifiedLogEntry& e : last) pending_.push_back(std::move(e));
    garbage_ += reader_->garbage();
    oversized_ += reader_->oversized();
    reader_.reset();
  }
  const ChildEnd end = ReapChild(*proc_);
  const std::string& how_text = end.how;
  const std::string& tail = end.stderr_line;
  proc_.reset();
  ++status_version_;
  const bool ok = how_text == "exited with status 0";
  const std::string what = config_.log + (streaming_ ? " stream " : " show ") + how_text +
                           (tail.empty() ? "" : ": " + tail);
  if (!streaming_ && ok) {
    // `log show` reached its end: what follows comes from `log stream`.
    caught_up_ = true;
    replay_time_.reset();
    next_spawn_ = clock_.Monotonic();
    return;
  }
  if (streaming_) caught_up_ = false;  // the restart replays the gap from the position
  RetryLater("log exited", what);
}

// Puts one entry into the open chunk unless a replay covers it. True when taken.
bool UnifiedLogSource::Take(const UnifiedLogEntry& entry) {
  if (replay_time_ && entry.time) {
    if (*entry.time < *replay_time_) {
      ++replayed_skipped_;
      return false;
    }
    if (*entry.time == *replay_time_ && replay_skip_ > 0) {
      --replay_skip_;
      ++replayed_skipped_;
      return false;
    }
  }
  const WallTime now = clock_.Now();
  AppendUnifiedLogRecord(encoder_, builder_.body(), entry, config_.max_message_bytes, now);
  builder_.Added(now, clock_.Monotonic());
  ++entries_read_;
  ++status_version_;
  if (entry.time) {
    if (position_ && *entry.time == position_->time) {
      ++position_->count;
    } else if (!position_ || *entry.time > position_->time) {
      position_ = UnifiedLogPosition{entry.timestamp, *entry.time, 1};
    }
    checkpoint_.Emit(FormatUnifiedLogPosition(*position_));
  }
  return true;
}

// Moves parsed entries into the open chunk; false when the chunk is full.
bool UnifiedLogSource::EmitPending() {
  while (!pending_.empty()) {
    if (builder_.Full()) return false;
    Take(pending_.front());
    pending_.pop_front();
  }
  return !builder_.Full();
}

Source::ReadOutcome UnifiedLogSource::Read(bool flush_all) {
  if (!available_ || once_done_) return ReadOutcome::kIdle;
  if (!EmitPending()) return ReadOutcome::kChunkFull;
  if (!proc_) {
    if (flush_all) {
      if (!Spawn(/*flush_all=*/true)) {
        once_done_ = true;
        return ReadOutcome::kIdle;
      }
    } else if (clock_.Monotonic() < next_spawn_ || !Spawn(/*flush_all=*/false)) {
      return ReadOutcome::kIdle;
    }
  }
  std::vector<UnifiedLogEntry> parsed;
  for (;;) {
    size_t got = 0;
    std::string error;
    const platform::Subprocess::ReadResult r =
        proc_->Read(read_buf_.get(), kReadBlock, &got, &error);
    if (r == platform::Subprocess::ReadResult::kData) {
      parsed.clear();
      reader_->Feed(std::string_view(read_buf_.get(), got), parsed);
      for (UnifiedLogEntry& e : parsed) pending_.push_back(std::move(e));
      if (!parsed.empty()) {
        ClearProblem();
        backoff_ = kUnifiedLogRetryMin;
      }
      if (!EmitPending()) return ReadOutcome::kChunkFull;
      continue;
    }
    if (r == platform::Subprocess::ReadResult::kWouldBlock) {
      if (flush_all && !streaming_) {
        if (!proc_->WaitReadable(kOnceWait)) {
          SetProblem("log exited",
                     config_.log + " show sent nothing for 30 s; --once stops reading it");
          proc_->Kill();
          Ended();
          once_done_ = true;
          return EmitPending() ? ReadOutcome::kIdle : ReadOutcome::kChunkFull;
        }
        continue;
      }
      return ReadOutcome::kIdle;
    }
    if (r == platform::Subprocess::ReadResult::kError) log_.Warn(error);
    Ended();
    if (flush_all) once_done_ = true;
    if (!EmitPending()) return ReadOutcome::kChunkFull;
    // `run`: a `log show` that caught up hands over to `log stream` at once.
    if (!flush_all && caught_up_ && !proc_) return Read(false);
    return ReadOutcome::kIdle;
  }
}

Source::ReadOutcome UnifiedLogSource::Tick() {
  if (!available_ || once_done_ || proc_) return ReadOutcome::kIdle;
  if (clock_.Monotonic() < next_spawn_) return ReadOutcome::kIdle;
  return Read(false);
}

std::optional<MonoTime> UnifiedLogSource::Deadline() const {
  if (!available_ || once_done_ || proc_) return std::nullopt;
  return next_spawn_;
}

void UnifiedLogSource::CollectCheckpoints(CommitBatch& batch) {
  checkpoint_.Collect(batch, config_.name, "unifiedlog");
}

void UnifiedLogSource::Committed() {
  if (!checkpoint_.Committed()) return;
  ++status_version_;
}

std::string UnifiedLogSource::StatusJson() const {
  nlohmann::json js;
  js["files"] = nlohmann::json::array();
  nlohmann::json problems = nlohmann::json::array();
  if (problem_cause_)
    problems.push_back({{"path", config_.log},
                        {"cause", *problem_cause_},
                        {"message", problem_message_},
                        {"since_ms", problem_since_ms_}});
  js["problems"] = std::move(problems);
  const uint64_t garbage = garbage_ + (reader_ ? reader_->garbage() : 0);
  const uint64_t oversized = oversized_ + (reader_ ? reader_->oversized() : 0);
  js["unifiedlog"] = {{"running", proc_ != nullptr},
                      {"mode", proc_ ? (streaming_ ? "stream" : "show") : ""},
                      {"pid", proc_ ? proc_->pid() : 0L},
                      {"position", checkpoint_.committed()},
                      {"entries_read", entries_read_},
                      {"replayed_skipped", replayed_skipped_},
                      {"garbage_lines", garbage},
                      {"oversized_lines", oversized},
                      {"starts", starts_}};
  return js.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace outpost
