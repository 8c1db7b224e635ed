// The journal source; see journal_source.h and docs/journal.md.
#include "collect/journal_source.h"

#include <algorithm>
#include <array>
#include <charconv>

#include <nlohmann/json.hpp>

#include "collect/child_end.h"
#include "collect/text_encoding.h"
#include "outpost/platform/system.h"
#include "util/json_text.h"

namespace outpost {

namespace {

// Bytes read from journalctl per call.
constexpr size_t kJournalReadBlock = 64 << 10;
// run --once: how long to wait for journalctl's next output before giving up.
constexpr auto kOnceWait = std::chrono::seconds(30);

int64_t WallMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now().time_since_epoch())
      .count();
}

RecordContext WithoutJournalFields(RecordContext ctx, ComponentLogger& log) {
  for (auto it = ctx.fields.begin(); it != ctx.fields.end();) {
    if (IsJournalRecordField(it->first)) {
      log.Warn("field '" + it->first + "' is left out: journal records have a field of that name");
      it = ctx.fields.erase(it);
    } else {
      ++it;
    }
  }
  return ctx;
}

// A decimal number of at most 19 digits (no sign), or nullopt.
std::optional<uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

void AppendStringField(std::string& out, std::string_view key, const JournalField* f) {
  if (!f) return;
  out += ",\"";
  out += key;
  out += "\":";
  AppendJsonString(out, f->value);
}

void AppendNumberField(std::string& out, std::string_view key, const JournalField* f,
                       uint64_t max) {
  if (!f) return;
  const std::optional<uint64_t> v = ParseDecimal(f->value);
  if (!v || *v > max) return;
  out += ",\"";
  out += key;
  out += "\":";
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, *v);
  out.append(digits, r.ptr);
}

}  // namespace

bool IsJournalRecordField(std::string_view name) {
  static constexpr std::array<std::string_view, 7> kFields = {
      "priority", "unit", "identifier", "pid", "boot_id", "journal_cursor", "truncated"};
  return std::find(kFields.begin(), kFields.end(), name) != kFields.end();
}

std::vector<std::string> JournalctlArgs(const JournalSourceConfig& config,
                                        const std::string& cursor, bool follow) {
  std::vector<std::string> argv = {config.journalctl, "--output=export", "--no-pager"};
  if (follow) argv.push_back("--follow");
  if (!cursor.empty())
    argv.push_back("--after-cursor=" + cursor);
  else if (config.read_from == JournalReadFrom::kHead)
    argv.push_back("--no-tail");
  else
    argv.push_back("--since=now");
  for (const std::string& u : config.units) argv.push_back("--unit=" + u);
  if (config.priority >= 0) argv.push_back("--priority=" + std::to_string(config.priority));
  for (const std::string& i : config.identifiers) argv.push_back("--identifier=" + i);
  return argv;
}

std::optional<std::string> AppendJournalRecord(RecordEncoder& encoder, std::string& out,
                                               const JournalEntry& entry,
                                               uint64_t max_message_bytes, WallTime now) {
  const JournalField* cursor = entry.Find("__CURSOR");
  if (!cursor || cursor->value.empty()) return std::nullopt;
  WallTime time = now;
  if (const JournalField* ts = entry.Find("__REALTIME_TIMESTAMP")) {
    // Microseconds since the epoch; anything past the year 2200 is not a time.
    if (std::optional<uint64_t> us = ParseDecimal(ts->value); us && *us < 7258118400000000ULL)
      time = WallTime(std::chrono::duration_cast<WallTime::duration>(
          std::chrono::microseconds(static_cast<int64_t>(*us))));
  }
  std::string own;
  own.reserve(256);
  const JournalField* message = entry.Find("MESSAGE");
  bool truncated = message && message->truncated;
  own += ",\"message\":";
  if (!message) {
    own += "\"\"";
  } else if (message->value.size() > max_message_bytes) {
    std::string cut = message->value;
    TruncateUtf8(cut, static_cast<size_t>(max_message_bytes));
    AppendJsonString(own, cut);
    truncated = true;
  } else {
    AppendJsonString(own, message->value);
  }
  if (truncated) own += ",\"truncated\":true";
  AppendNumberField(own, "priority", entry.Find("PRIORITY"), 7);
  AppendStringField(own, "unit", entry.Find("_SYSTEMD_UNIT"));
  AppendStringField(own, "identifier", entry.Find("SYSLOG_IDENTIFIER"));
  AppendNumberField(own, "pid", entry.Find("_PID"), UINT32_MAX);
  AppendStringField(own, "boot_id", entry.Find("_BOOT_ID"));
  AppendStringField(own, "journal_cursor", cursor);
  encoder.AppendRecord(out, time, own);
  return cursor->value;
}

JournalSource::JournalSource(const JournalSourceConfig& config, const RecordContext& context,
                             const BufferConfig& buffer, const Clock& clock, const Logger& logger)
    : config_(config),
      clock_(clock),
      log_(logger, "source." + config.name),
      encoder_(WithoutJournalFields(context, log_)),
      builder_(config.name, buffer.chunk_max_bytes, buffer.chunk_max_age, buffer.compression_level),
      read_buf_(new char[kJournalReadBlock]) {}

JournalSource::~JournalSource() = default;

void JournalSource::SetProblem(const std::string& cause, const std::string& message) {
  if (problem_cause_ && *problem_cause_ == cause && problem_message_ == message) return;
  if (!problem_cause_ || *problem_cause_ != cause) log_.Warn(message);
  if (!problem_cause_) problem_since_ms_ = WallMs(clock_);
  problem_cause_ = cause;
  problem_message_ = message;
  ++status_version_;
}

void JournalSource::ClearProblem() {
  if (!problem_cause_) return;
  log_.Info(config_.journalctl + " runs and delivers entries again");
  problem_cause_.reset();
  problem_message_.clear();
  ++status_version_;
}

Status JournalSource::Start(BufferStore& store, platform::ChangeWatcher& watcher) {
  watcher_ = &watcher;
  if (platform::OsName() != "linux") {
    available_ = false;
    SetProblem("not available", "the systemd journal is not available on this platform (" +
                                    std::string(platform::OsName()) + "); source " + config_.name +
                                    " stays idle");
    return Status::Ok();
  }
  Result<std::vector<Checkpoint>> cps = store.LoadCheckpoints(config_.name);
  if (!cps.ok()) return cps.status();
  std::string stored;
  for (const Checkpoint& cp : *cps)
    if (!cp.cursor.empty()) stored = cp.cursor;
  parsed_ = stored;
  checkpoint_.Reset(std::move(stored));
  next_spawn_ = clock_.Monotonic();
  return Status::Ok();
}

bool JournalSource::Spawn(bool follow) {
  follow_ = follow;
  parser_ = JournalExportParser();
  const std::vector<std::string> argv = JournalctlArgs(config_, parsed_, follow);
  std::string error;
  platform::ChangeWatcher* w = watcher_;
  proc_ = platform::StartSubprocess(
      argv,
      [w] {
        if (w) w->Wake();
      },
      &error);
  ++status_version_;
  if (!proc_) {
    SetProblem(
        "cannot run journalctl",
        error + "; source " + config_.name + " retries in " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(backoff_).count()) +
            " s");
    next_spawn_ = clock_.Monotonic() + backoff_;
    backoff_ = std::min<Duration>(backoff_ * 2, kJournalRetryMax);
    return false;
  }
  ++starts_;
  log_.Debug("started " + config_.journalctl + " (pid " + std::to_string(proc_->pid()) + ")" +
             (parsed_.empty() ? "" : " after the stored cursor"));
  return true;
}

// journalctl closed its output: note how it ended and plan the next start.
void JournalSource::Ended() {
  if (parser_.Finish())
    log_.Warn(config_.journalctl + " ended in the middle of an entry; it is read again");
  const ChildEnd end = ReapChild(*proc_);
  const std::string& how_text = end.how;
  const std::string& tail = end.stderr_line;
  proc_.reset();
  ++status_version_;
  if (!follow_) {
    once_done_ = true;
    if (how_text != "exited with status 0")
      SetProblem("journalctl exited",
                 config_.journalctl + " " + how_text + (tail.empty() ? "" : ": " + tail));
    return;
  }
  SetProblem(
      "journalctl exited",
      config_.journalctl + " " + how_text + (tail.empty() ? "" : ": " + tail) + "; source " +
          config_.name + " restarts it in " +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(backoff_).count()) +
          " s");
  next_spawn_ = clock_.Monotonic() + backoff_;
  backoff_ = std::min<Duration>(backoff_ * 2, kJournalRetryMax);
}

// Moves parsed entries into the open chunk; false when the chunk is full.
bool JournalSource::EmitPending() {
  const WallTime now = clock_.Now();
  const MonoTime mono = clock_.Monotonic();
  while (!pending_.empty()) {
    if (builder_.Full()) return false;
    std::optional<std::string> cursor = AppendJournalRecord(
        encoder_, builder_.body(), pending_.front(), config_.max_message_bytes, now);
    pending_.pop_front();
    if (!cursor) continue;  // no cursor: it could not be checkpointed, so it is not taken
    builder_.Added(now, mono);
    checkpoint_.Emit(std::move(*cursor));
    ++entries_read_;
    ++status_version_;
  }
  return !builder_.Full();
}

Source::ReadOutcome JournalSource::Read(bool flush_all) {
  if (!available_ || once_done_) return ReadOutcome::kIdle;
  if (!EmitPending()) return ReadOutcome::kChunkFull;
  if (!proc_) {
    if (flush_all) {
      if (!Spawn(/*follow=*/false)) {
        once_done_ = true;
        return ReadOutcome::kIdle;
      }
    } else if (clock_.Monotonic() < next_spawn_ || !Spawn(/*follow=*/true)) {
      return ReadOutcome::kIdle;
    }
  }
  std::vector<JournalEntry> parsed;
  for (;;) {
    size_t got = 0;
    std::string error;
    const platform::Subprocess::ReadResult r =
        proc_->Read(read_buf_.get(), kJournalReadBlock, &got, &error);
    if (r == platform::Subprocess::ReadResult::kData) {
      parsed.clear();
      parser_.Feed(std::string_view(read_buf_.get(), got), parsed);
      for (JournalEntry& e : parsed) {
        if (const JournalField* c = e.Find("__CURSOR"); c && !c->value.empty()) parsed_ = c->value;
        pending_.push_back(std::move(e));
      }
      if (!parsed.empty()) {
        ClearProblem();
        backoff_ = kJournalRetryMin;
      }
      if (!EmitPending()) return ReadOutcome::kChunkFull;
      continue;
    }
    if (r == platform::Subprocess::ReadResult::kWouldBlock) {
      if (flush_all && !follow_) {
        if (!proc_->WaitReadable(kOnceWait)) {
          SetProblem("journalctl exited",
                     config_.journalctl + " sent nothing for 30 s; --once stops reading it");
          proc_->Kill();
          Ended();
          return ReadOutcome::kIdle;
        }
        continue;
      }
      return ReadOutcome::kIdle;
    }
    if (r == platform::Subprocess::ReadResult::kError) log_.Warn(error);
    Ended();
    return EmitPending() ? ReadOutcome::kIdle : ReadOutcome::kChunkFull;
  }
}

Source::ReadOutcome JournalSource::Tick() {
  if (!available_ || once_done_ || proc_) return ReadOutcome::kIdle;
  if (clock_.Monotonic() < next_spawn_) return ReadOutcome::kIdle;
  return Read(false);
}

std::optional<MonoTime> JournalSource::Deadline() const {
  if (!available_ || once_done_ || proc_) return std::nullopt;
  return next_spawn_;
}

void JournalSource::CollectCheckpoints(CommitBatch& batch) {
  checkpoint_.Collect(batch, config_.name, "journal");
}

void JournalSource::Committed() {
  if (!checkpoint_.Committed()) return;
  ++status_version_;
}

std::string JournalSource::StatusJson() const {
  nlohmann::json js;
  js["files"] = nlohmann::json::array();
  nlohmann::json problems = nlohmann::json::array();
  if (problem_cause_)
    problems.push_back({{"path", config_.journalctl},
                        {"cause", *problem_cause_},
                        {"message", problem_message_},
                        {"since_ms", problem_since_ms_}});
  js["problems"] = std::move(problems);
  js["journal"] = {{"running", proc_ != nullptr},
                   {"pid", proc_ ? proc_->pid() : 0L},
                   {"cursor", checkpoint_.committed()},
                   {"entries_read", entries_read_},
                   {"starts", starts_}};
  return js.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace outpost
