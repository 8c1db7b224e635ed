// The Windows Event Log source; see eventlog_source.h and docs/eventlog.md.
#include "collect/eventlog_source.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "collect/eventlog_xml.h"

namespace outpost {

namespace {

int64_t WallMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now().time_since_epoch())
      .count();
}

RecordContext WithoutEventLogFields(RecordContext ctx, ComponentLogger& log) {
  for (auto it = ctx.fields.begin(); it != ctx.fields.end();) {
    if (IsEventLogRecordField(it->first)) {
      log.Warn("field '" + it->first +
               "' is left out: event log records have a field of that name");
      it = ctx.fields.erase(it);
    } else {
      ++it;
    }
  }
  return ctx;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

std::string Seconds(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + " s";
}

}  // namespace

std::string CheckStoredBookmark(const std::string& bookmark_xml, const std::string& channel,
                                const std::string& query) {
  Result<std::vector<EventLogBookmark>> bms = ParseBookmarkXml(bookmark_xml);
  if (!bms.ok()) return "the stored bookmark is corrupt: " + bms.status().message();
  if (query.find('<') != std::string::npos) return "";  // a QueryList names its own channels
  for (const EventLogBookmark& b : *bms)
    if (EqualsIgnoreCase(b.channel, channel)) return "";
  return "the stored bookmark is for channel '" + bms->front().channel + "', not '" + channel + "'";
}

EventLogSource::EventLogSource(const EventLogSourceConfig& config, const RecordContext& context,
                               const BufferConfig& buffer, const Clock& clock, const Logger& logger,
                               EventLogOpener opener)
    : config_(config),
      clock_(clock),
      log_(logger, "source." + config.name),
      encoder_(WithoutEventLogFields(context, log_)),
      builder_(config.name, buffer.chunk_max_bytes, buffer.chunk_max_age, buffer.compression_level),
      opener_(opener ? std::move(opener) : EventLogOpener(platform::OpenEventLogReader)) {}

EventLogSource::~EventLogSource() = default;

void EventLogSource::SetProblem(const std::string& cause, const std::string& message) {
  if (problem_cause_ && *problem_cause_ == cause && problem_message_ == message) return;
  if (!problem_cause_ || *problem_cause_ != cause) log_.Warn(message);
  if (!problem_cause_) problem_since_ms_ = WallMs(clock_);
  problem_cause_ = cause;
  problem_message_ = message;
  ++status_version_;
}

void EventLogSource::ClearProblem() {
  if (!problem_cause_) return;
  log_.Info("channel " + config_.channel + " delivers events again");
  problem_cause_.reset();
  problem_message_.clear();
  ++status_version_;
}

Status EventLogSource::Start(BufferStore& store, platform::ChangeWatcher& watcher) {
  watcher_ = &watcher;
  Result<std::vector<Checkpoint>> cps = store.LoadCheckpoints(config_.name);
  if (!cps.ok()) return cps.status();
  std::string stored;
  for (const Checkpoint& cp : *cps)
    if (!cp.cursor.empty()) stored = cp.cursor;
  if (!stored.empty()) {
    const std::string why = CheckStoredBookmark(stored, config_.channel, config_.query);
    if (!why.empty()) {
      stored.clear();
      // Not passed to the OS: start as if there were none; the next commit replaces it.
      SetProblem(
          "bookmark not usable",
          why + "; source " + config_.name + " starts from the " +
              (config_.read_from == EventLogReadFrom::kHead ? "oldest event" : "next new event"));
    }
  }
  read_ = stored;
  checkpoint_.Reset(std::move(stored));
  next_open_ = clock_.Monotonic();
  return Status::Ok();
}

bool EventLogSource::Open(bool follow) {
  platform::EventLogOpenOptions o;
  o.channel = config_.channel;
  o.query = config_.query;
  o.bookmark_xml = read_;
  o.from_oldest = config_.read_from == EventLogReadFrom::kHead;
  o.follow = follow;
  platform::ChangeWatcher* w = watcher_;
  o.on_signal = [w] {
    if (w) w->Wake();
  };
  platform::EventLogError error;
  reader_ = opener_(o, &error);
  ++status_version_;
  if (!reader_) {
    Failed(error, follow);
    return false;
  }
  ++opens_;
  log_.Debug("reading channel " + config_.channel +
             (read_.empty() ? "" : " after the stored bookmark"));
  // A bookmark problem from Start stays until an event replaces the bookmark.
  if (problem_cause_ && *problem_cause_ != "bookmark not usable") ClearProblem();
  return true;
}

// Opening or reading failed: show why and plan the next attempt.
void EventLogSource::Failed(const platform::EventLogError& error, bool retry) {
  reader_.reset();
  ++status_version_;
  const std::string cause = platform::EventLogErrorKindName(error.kind);
  if (error.kind == platform::EventLogErrorKind::kNotAvailable) {
    available_ = false;
    SetProblem(cause, error.message + "; source " + config_.name + " stays idle");
    return;
  }
  if (error.kind == platform::EventLogErrorKind::kBadBookmark && !read_.empty()) {
    // The OS refused what it wrote itself: start over per read_from rather than never.
    SetProblem(cause, error.message + "; source " + config_.name + " starts from the " +
                          (config_.read_from == EventLogReadFrom::kHead ? "oldest event"
                                                                        : "next new event"));
    read_.clear();
    next_open_ = clock_.Monotonic();
    return;
  }
  if (!retry) {
    once_done_ = true;
    SetProblem(cause, error.message);
    return;
  }
  SetProblem(cause,
             error.message + "; source " + config_.name + " retries in " + Seconds(backoff_));
  next_open_ = clock_.Monotonic() + backoff_;
  backoff_ = std::min<Duration>(backoff_ * 2, kEventLogRetryMax);
}

// Moves read events into the open chunk; false when the chunk is full.
bool EventLogSource::EmitPending() {
  const WallTime now = clock_.Now();
  const MonoTime mono = clock_.Monotonic();
  while (!pending_.empty()) {
    if (builder_.Full()) return false;
    platform::EventLogEntry& entry = pending_.front();
    if (!entry.render_error.empty()) {
      AppendUnreadableEventRecord(encoder_, builder_.body(), entry.xml, entry.render_error,
                                  config_.max_message_bytes, now);
      ++unreadable_events_;
    } else if (Result<EventLogEvent> ev = ParseEventXml(entry.xml); ev.ok()) {
      AppendEventLogRecord(encoder_, builder_.body(), *ev, config_.max_message_bytes, now);
      if (ev->record_id) last_record_id_ = ev->record_id;
    } else {
      // Kept as it came, with the reason, rather than lost.
      AppendUnreadableEventRecord(encoder_, builder_.body(), entry.xml, ev.status().message(),
                                  config_.max_message_bytes, now);
      ++unreadable_events_;
    }
    builder_.Added(now, mono);
    if (!entry.bookmark_xml.empty()) checkpoint_.Emit(std::move(entry.bookmark_xml));
    pending_.pop_front();
    ++events_read_;
    ++status_version_;
  }
  return !builder_.Full();
}

Source::ReadOutcome EventLogSource::Read(bool flush_all) {
  if (!available_ || once_done_) return ReadOutcome::kIdle;
  if (!EmitPending()) return ReadOutcome::kChunkFull;
  if (!reader_) {
    if (flush_all) {
      if (!Open(/*follow=*/false)) {
        // A refused bookmark was dropped: one more try from read_from.
        if (!available_ || once_done_ || !Open(false)) {
          once_done_ = true;
          return ReadOutcome::kIdle;
        }
      }
    } else if (clock_.Monotonic() < next_open_ || !Open(/*follow=*/true)) {
      return ReadOutcome::kIdle;
    }
  }
  std::vector<platform::EventLogEntry> batch;
  for (;;) {
    batch.clear();
    platform::EventLogError error;
    const platform::EventLogReader::NextResult r = reader_->Next(kEventLogBatch, batch, &error);
    for (platform::EventLogEntry& e : batch) {
      if (!e.bookmark_xml.empty()) read_ = e.bookmark_xml;
      pending_.push_back(std::move(e));
    }
    if (!batch.empty()) {
      backoff_ = kEventLogRetryMin;
      if (problem_cause_ && *problem_cause_ != "not available") ClearProblem();
    }
    switch (r) {
      case platform::EventLogReader::NextResult::kEvents:
        if (!EmitPending()) return ReadOutcome::kChunkFull;
        continue;
      case platform::EventLogReader::NextResult::kNone:
        return EmitPending() ? ReadOutcome::kIdle : ReadOutcome::kChunkFull;
      case platform::EventLogReader::NextResult::kEnd:
        reader_.reset();
        once_done_ = true;
        ++status_version_;
        return EmitPending() ? ReadOutcome::kIdle : ReadOutcome::kChunkFull;
      case platform::EventLogReader::NextResult::kError:
        Failed(error, !flush_all);
        return EmitPending() ? ReadOutcome::kIdle : ReadOutcome::kChunkFull;
    }
  }
}

Source::ReadOutcome EventLogSource::Tick() {
  if (!available_ || once_done_ || reader_) return ReadOutcome::kIdle;
  if (clock_.Monotonic() < next_open_) return ReadOutcome::kIdle;
  return Read(false);
}

std::optional<MonoTime> EventLogSource::Deadline() const {
  if (!available_ || once_done_ || reader_) return std::nullopt;
  return next_open_;
}

void EventLogSource::CollectCheckpoints(CommitBatch& batch) {
  checkpoint_.Collect(batch, config_.name, "eventlog:" + config_.channel);
}

void EventLogSource::Committed() {
  if (!checkpoint_.Committed()) return;
  if (problem_cause_ && *problem_cause_ == "bookmark not usable") ClearProblem();
  ++status_version_;
}

std::string EventLogSource::StatusJson() const {
  nlohmann::json js;
  js["files"] = nlohmann::json::array();
  nlohmann::json problems = nlohmann::json::array();
  if (problem_cause_)
    problems.push_back({{"path", config_.channel},
                        {"cause", *problem_cause_},
                        {"message", problem_message_},
                        {"since_ms", problem_since_ms_}});
  js["problems"] = std::move(problems);
  nlohmann::json el = {{"channel", config_.channel},
                       {"query", config_.query},
                       {"open", reader_ != nullptr},
                       {"events_read", events_read_},
                       {"unreadable_events", unreadable_events_},
                       {"opens", opens_},
                       {"bookmark", checkpoint_.committed()}};
  if (last_record_id_)
    el["last_record_id"] = *last_record_id_;
  else
    el["last_record_id"] = nullptr;
  js["eventlog"] = std::move(el);
  return js.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace outpost
