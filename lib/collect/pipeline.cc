// The collection loop; see pipeline.h.
#include "collect/pipeline.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "buffer/sqlite_db.h"
#include "collect/eventlog_source.h"
#include "collect/journal_source.h"
#include "collect/unified_log_source.h"
#include "outpost/platform/system.h"
#include "util/units.h"

namespace outpost {

namespace {

// With kernel notification, the globs are still re-expanded now and then: a safety
// net for events the kernel could not deliver (e.g. a directory created and filled
// between two events). Rare enough to keep an idle agent asleep.
constexpr Duration kRescanInterval = std::chrono::seconds(30);
// While paused on a full buffer, how often to look whether space returned.
constexpr Duration kPausedCheck = std::chrono::seconds(1);
// At most this often the status JSON is rewritten while the agent is busy.
constexpr Duration kStatusInterval = std::chrono::seconds(2);

int64_t WallMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now().time_since_epoch())
      .count();
}

// Threads that compress chunks: two where there are two cores or more (zstd is most of
// the CPU under load; one thread for it was the bottleneck of bench/ship), else one.
size_t SealerWorkers() { return std::thread::hardware_concurrency() > 1 ? 2 : 1; }

// Batches queued for the sealing threads: one per worker being compressed or committed,
// plus one waiting while the next one fills. Each holds up to chunk_max_bytes of raw
// records.
size_t SealerCapacity(size_t workers) { return workers + 1; }

}  // namespace

// --once waits this long for room in the sealer before giving up on a failing disk.
constexpr auto kOnceRoomWait = std::chrono::seconds(30);
// At shutdown, how long queued batches get to commit (the 2 s stop budget).
constexpr auto kShutdownDrain = std::chrono::milliseconds(1500);

struct Pipeline::Stream {
  size_t index = 0;
  std::unique_ptr<Source> source;
  std::optional<CommitBatch> stuck;  // a sealed batch whose commit failed; retried as is
  bool started = false;
};

Result<std::string> LoadOrCreateAgentId(BufferStore& store, const std::string& configured) {
  if (!configured.empty()) return configured;
  Result<std::optional<std::string>> stored = store.GetState(kAgentIdKey);
  if (!stored.ok()) return stored.status();
  if (stored->has_value() && !(*stored)->empty()) return **stored;
  std::random_device rd;
  std::string id;
  for (int i = 0; i < 4; ++i) {
    char part[9];
    std::snprintf(part, sizeof part, "%08x", static_cast<unsigned>(rd()));
    id += part;
  }
  Status s = store.SetState(kAgentIdKey, id);
  if (!s.ok()) return s;
  return id;
}

Pipeline::Pipeline(const Config& config, const PipelineIdentity& identity, BufferStore& store,
                   platform::ChangeWatcher& watcher, const Clock& clock, const Logger& logger)
    : config_(config),
      identity_(identity),
      store_(store),
      watcher_(watcher),
      clock_(clock),
      log_(logger, "pipeline"),
      governor_(config.limits, clock, [this] {
        ResourceGovernor::Probes p = ResourceGovernor::ProcessProbes();
        p.release_memory = [this] {
          {
            std::lock_guard<std::mutex> lk(store_mu_);
            store_.ReleaseMemory();
          }
          platform::ReleaseFreeMemory();
        };
        return p;
      }()) {
  // SQLite's caches are the agent's largest; a quarter of the limit keeps them in line.
  if (config.limits.max_memory > 0) SetSqliteSoftHeapLimit(config.limits.max_memory / 4);
  // A source's records: this agent, its stream, agent.fields overlaid with its own.
  auto context = [&](const std::string& stream, const char* source,
                     const std::map<std::string, std::string>& fields) {
    RecordContext ctx;
    ctx.host = identity.host;
    ctx.agent_id = identity.agent_id;
    ctx.stream = stream;
    ctx.source = source;
    ctx.fields = config.agent.fields;
    for (const auto& [k, v] : fields) ctx.fields[k] = v;
    return ctx;
  };
  auto add = [&](std::unique_ptr<Source> source) {
    auto s = std::make_unique<Stream>();
    s->index = streams_.size();
    s->source = std::move(source);
    streams_.push_back(std::move(s));
  };
  for (const FileSourceConfig& fc : config.file_sources)
    add(std::make_unique<FileSource>(fc, context(fc.name, "file", fc.fields), config.buffer, clock,
                                     logger));
  for (const JournalSourceConfig& jc : config.journal_sources)
    add(std::make_unique<JournalSource>(jc, context(jc.name, "journal", jc.fields), config.buffer,
                                        clock, logger));
  for (const EventLogSourceConfig& ec : config.eventlog_sources)
    add(std::make_unique<EventLogSource>(ec, context(ec.name, "eventlog", ec.fields), config.buffer,
                                         clock, logger));
  for (const UnifiedLogSourceConfig& uc : config.unifiedlog_sources)
    add(std::make_unique<UnifiedLogSource>(uc, context(uc.name, "unifiedlog", uc.fields),
                                           config.buffer, clock, logger));
}

Pipeline::~Pipeline() {
  sealer_.reset();  // joins the thread before the streams go
}

Status Pipeline::Start() {
  started_at_ms_ = WallMs(clock_);
  for (auto& s : streams_) {
    Status st = s->source->Start(store_, watcher_);
    if (!st.ok()) {
      last_error_ = st.message();
      log_.Error("source " + s->source->name() + " did not start: " + st.message());
      continue;
    }
    s->started = true;
    if (Commit(*s, /*seal=*/false)) {
      st = s->source->MarkStarted(store_);
      if (!st.ok())
        log_.Warn("cannot record that " + s->source->name() + " started: " + st.message());
    }
  }
  const MonoTime now = clock_.Monotonic();
  next_rescan_ = now + kRescanInterval;
  next_poll_ = now;
  CheckPause();
  WriteStatus(true);
  // From here on the store is shared with the sealing threads.
  const size_t workers = SealerWorkers();
  sealer_ = std::make_unique<Sealer>(store_, store_mu_, config_.buffer.compression_level,
                                     SealerCapacity(workers), &watcher_, workers);
  return Status::Ok();
}

void Pipeline::CollectDone() {
  if (!sealer_) return;
  bool new_chunks = false;
  for (const Sealer::Done& d : sealer_->TakeDone()) {
    streams_[d.stream]->source->Committed();
    if (d.records > 0) {
      records_committed_ += d.records;
      ++chunks_committed_;
      new_chunks = true;
    }
    status_dirty_ = true;
  }
  if (new_chunks && on_commit_) on_commit_();
  const std::string err = sealer_->error();
  if (!err.empty()) {
    const std::string msg =
        "cannot commit to buffer.db (" + err + "); sources wait and the commit is retried";
    if (msg != last_error_) log_.Error(msg);
    last_error_ = msg;
    status_dirty_ = true;
  } else if (last_error_.rfind("cannot commit to buffer.db", 0) == 0) {
    log_.Info("buffer.db takes commits again; sources go on");
    last_error_.clear();
    status_dirty_ = true;
  }
}

bool Pipeline::Commit(Stream& s, bool seal) {
  if (sealer_) {
    if (sealer_->Full() && !(blocking_ && sealer_->WaitForRoom(kOnceRoomWait))) return false;
    if (s.stuck) {  // a batch from Start() that did not commit goes first
      Sealer::Job first;
      first.stream = s.index;
      first.batch = std::move(*s.stuck);
      s.stuck.reset();
      sealer_->Submit(std::move(first));
      if (sealer_->Full() && !(blocking_ && sealer_->WaitForRoom(kOnceRoomWait))) return false;
    }
    Sealer::Job job;
    job.stream = s.index;
    ChunkBuilder& builder = s.source->builder();
    if (seal && !builder.empty()) job.batch.chunk = builder.TakeRaw(job.raw);
    s.source->CollectCheckpoints(job.batch);
    if (!job.batch.chunk && job.batch.upserts.empty() && job.batch.deletes.empty()) return true;
    // Only this thread submits, and there was room.
    return sealer_->Submit(std::move(job));
  }
  if (s.stuck) {
    Result<int64_t> r = store_.Commit(*s.stuck);
    if (!r.ok()) return false;
    if (s.stuck->chunk) {
      records_committed_ += s.stuck->chunk->records;
      ++chunks_committed_;
    }
    s.stuck.reset();
    s.source->Committed();
    log_.Info("buffer.db takes commits again; " + s.source->name() + " goes on");
    last_error_.clear();  // the failure is over; the log keeps it
    status_dirty_ = true;
  }
  CommitBatch batch;
  ChunkBuilder& b = s.source->builder();
  if (seal && !b.empty()) {
    Result<SealedChunk> chunk = b.Seal();
    if (!chunk.ok()) {
      last_error_ = chunk.status().message();
      log_.Error(last_error_);
      return false;
    }
    batch.chunk = std::move(chunk).value();
  }
  s.source->CollectCheckpoints(batch);
  if (!batch.chunk && batch.upserts.empty() && batch.deletes.empty()) return true;
  Result<int64_t> r = store_.Commit(batch);
  if (!r.ok()) {
    const std::string msg = "cannot commit to buffer.db (" + r.status().message() + "); " +
                            s.source->name() + " waits and retries";
    if (msg != last_error_) log_.Error(msg);
    last_error_ = msg;
    s.stuck = std::move(batch);
    status_dirty_ = true;
    return false;
  }
  if (batch.chunk) {
    records_committed_ += batch.chunk->records;
    ++chunks_committed_;
  }
  s.source->Committed();
  status_dirty_ = true;
  return true;
}

void Pipeline::CheckPause() {
  uint64_t used = 0;
  if (sealer_ && !paused_) {
    used = sealer_->used_bytes();  // no waiting for a commit in progress
  } else {
    std::lock_guard<std::mutex> lk(store_mu_);
    used = store_.used_bytes();
  }
  const uint64_t cap = config_.buffer.max_bytes;
  const bool full = used >= cap;
  if (full && !paused_) {
    log_.Warn("buffer.db is full (" + FormatSize(used) + " of " + FormatSize(cap) +
              "): file and journal sources pause; their data waits in the files and the journal");
    status_dirty_ = true;
  } else if (!full && paused_) {
    log_.Info("buffer.db has room again (" + FormatSize(used) + " of " + FormatSize(cap) +
              "): sources resume");
    status_dirty_ = true;
  }
  paused_ = full;
}

bool Pipeline::GovernorHolds() {
  if (!governor_.enabled()) return false;
  for (;;) {
    const bool wait = governor_.MustWait();
    if (std::string notice = governor_.TakeMemoryNotice(); !notice.empty()) log_.Warn(notice);
    if (governor_.status_version() != governor_version_) {
      governor_version_ = governor_.status_version();
      status_dirty_ = true;
    }
    // --once cannot come back later: it waits for the CPU budget here. Memory above the
    // limit does not stop a one-shot run (it ends and gives everything back anyway).
    if (!wait || !blocking_) return wait;
    if (!governor_.cpu_throttled()) return false;
    const std::optional<MonoTime> at = governor_.ResumeAt();
    if (at) std::this_thread::sleep_until(*at);  // the CPU clock, not the fake one, runs
  }
}

void Pipeline::SetReloadError(const std::string& summary, const std::vector<std::string>& errors) {
  reload_error_ = summary;
  reload_errors_ = errors;
  reload_error_at_ms_ = WallMs(clock_);
  status_dirty_ = true;
  WriteStatus(true);
}

void Pipeline::DrainSource(Stream& s, bool flush_all) {
  Source& src = *s.source;
  for (int guard = 0; guard < 1 << 20; ++guard) {
    if (s.stuck && !Commit(s, false)) return;
    if (paused_) return;
    if (GovernorHolds()) return;
    Source::ReadOutcome o = src.Read(flush_all);
    if (o == Source::ReadOutcome::kIdle) o = src.Tick();
    if (o == Source::ReadOutcome::kIdle) return;
    if (!Commit(s, /*seal=*/true)) return;
    CollectDone();  // a long drain (run --once, a backlog) wakes the shipper as it goes
    CheckPause();
  }
}

void Pipeline::Step() {
  const MonoTime now = clock_.Monotonic();
  CollectDone();
  if (paused_ && now >= next_usage_check_) {
    Status st = Status::Ok();
    {
      std::lock_guard<std::mutex> lk(store_mu_);
      st = store_.RefreshUsage();
      if (sealer_) sealer_->NoteUsage(store_.used_bytes());
    }
    if (!st.ok()) log_.Warn("cannot read buffer usage: " + st.message());
    CheckPause();
    next_usage_check_ = now + kPausedCheck;
  }
  const bool poll_now = now >= next_poll_;
  const bool rescan_now = now >= next_rescan_;
  for (auto& s : streams_) {
    if (!s->started) continue;
    ChunkBuilder& b = s->source->builder();
    const uint64_t version_before = s->source->status_version();
    const uint64_t records_before = b.records();
    if (rescan_now || (poll_now && s->source->needs_polling())) s->source->Rescan();
    DrainSource(*s, false);
    // `status` also shows what was read but not yet committed, and file problems
    // (rewritten at most every kStatusInterval, not per block read).
    if (s->source->status_version() != version_before || b.records() != records_before)
      status_dirty_ = true;
    if (b.Due(clock_.Monotonic()) || (b.empty() && s->source->HasCheckpointChanges())) {
      Commit(*s, /*seal=*/true);
      CheckPause();
    }
  }
  if (rescan_now) next_rescan_ = now + kRescanInterval;
  if (poll_now) {
    Duration every = std::chrono::hours(1);
    for (auto& s : streams_)
      if (s->source->needs_polling()) every = std::min(every, s->source->poll_interval());
    next_poll_ = now + every;
  }
  WriteStatus(false);
}

std::optional<MonoTime> Pipeline::NextDeadline() const {
  std::optional<MonoTime> d = next_rescan_;
  auto consider = [&](std::optional<MonoTime> t) {
    if (t && (!d || *t < *d)) d = t;
  };
  bool polling = false;
  // A failing commit is retried by the sealer, which wakes the loop when it is through.
  const bool sealer_full = sealer_ && sealer_->Full();  // then its wake-up is the deadline
  for (const auto& s : streams_) {
    if (!s->started) continue;
    if (!sealer_full) consider(s->source->builder().Deadline());
    consider(s->source->Deadline());
    if (s->source->needs_polling()) polling = true;
    if (s->stuck) consider(clock_.Monotonic() + kPausedCheck);
  }
  if (polling) consider(next_poll_);
  if (paused_) consider(next_usage_check_);
  consider(governor_.ResumeAt());
  if (status_dirty_) consider(next_status_);
  return d;
}

Status Pipeline::Run(const std::function<bool()>& should_stop) {
  while (!should_stop()) {
    loops_.fetch_add(1, std::memory_order_relaxed);
    Step();
    if (should_stop()) break;
    std::chrono::milliseconds timeout(-1);
    if (std::optional<MonoTime> d = NextDeadline()) {
      const auto left = *d - clock_.Monotonic();
      timeout = std::max(std::chrono::milliseconds(0),
                         std::chrono::ceil<std::chrono::milliseconds>(left));
    }
    platform::WatchEvents events = watcher_.Wait(timeout);
    for (auto& s : streams_)
      if (s->started) s->source->OnEvents(events);
  }
  return Flush();
}

Status Pipeline::RunOnce() {
  blocking_ = true;
  for (auto& s : streams_) {
    if (!s->started) continue;
    s->source->Rescan();
    DrainSource(*s, /*flush_all=*/true);
  }
  return Flush();
}

Status Pipeline::Flush() {
  Status result;
  for (auto& s : streams_) {
    if (!s->started) continue;
    if (sealer_ && sealer_->Full()) sealer_->WaitForRoom(kShutdownDrain);
    if (!Commit(*s, /*seal=*/true) || s->stuck)
      result = Unavailable("could not commit " + s->source->name() + ": " + last_error_);
  }
  if (sealer_) {
    // --once may wait for a slow disk; a stop has its 2 s budget.
    const bool drained =
        sealer_->Drain(blocking_ ? std::chrono::milliseconds(kOnceRoomWait) : kShutdownDrain);
    CollectDone();
    if (!drained)
      result = Unavailable("not every chunk could be committed (" + last_error_ +
                           "); the lines they hold are read again at the next start");
  }
  WriteStatus(true);
  return result;
}

void Pipeline::WriteStatus(bool force) {
  const MonoTime now = clock_.Monotonic();
  if (!force && (!status_dirty_ || now < next_status_)) return;
  nlohmann::json j;
  j["pid"] = identity_.pid;
  j["version"] = identity_.version;
  j["agent_id"] = identity_.agent_id;
  j["started_at_ms"] = started_at_ms_;
  j["updated_at_ms"] = WallMs(clock_);
  j["paused"] = paused_;
  j["records_committed"] = records_committed_;
  j["chunks_committed"] = chunks_committed_;
  j["last_error"] = last_error_;
  if (governor_.enabled()) j["limits"] = nlohmann::json::parse(governor_.StatusJson());
  if (!reload_error_.empty())
    j["reload_error"] = {
        {"message", reload_error_}, {"errors", reload_errors_}, {"at_ms", reload_error_at_ms_}};
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& s : streams_) {
    nlohmann::json js;
    js["name"] = s->source->name();
    js["type"] = s->source->type();
    js["started"] = s->started;
    js["polling"] = s->source->needs_polling();
    js["stuck"] = s->stuck.has_value();
    js["open_chunk_records"] = s->source->builder().records();
    const nlohmann::json own = nlohmann::json::parse(s->source->StatusJson(), nullptr, false);
    if (own.is_object())
      for (const auto& [key, value] : own.items()) js[key] = value;
    sources.push_back(std::move(js));
  }
  j["sources"] = std::move(sources);
  std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  status_dirty_ = false;
  next_status_ = now + kStatusInterval;
  if (text == last_status_) return;
  Status st = Status::Ok();
  {
    std::lock_guard<std::mutex> lk(store_mu_);
    st = store_.SetState(kStatusKey, text);
  }
  if (!st.ok()) {
    log_.Warn("cannot write status: " + st.message());
    return;
  }
  last_status_ = std::move(text);
}

}  // namespace outpost
