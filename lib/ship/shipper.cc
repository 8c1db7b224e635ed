// The delivery rules; see shipper.h.
#include "ship/shipper.h"

#include <algorithm>
#include <vector>

#include <nlohmann/json.hpp>

#include "chunk/zstd_codec.h"
#include "ship/outputs/reencode.h"
#include "util/backoff.h"
#include "util/units.h"

namespace outpost {
namespace {

constexpr Duration kStatsInterval = std::chrono::seconds(2);
// delivered.json is written at most this often while chunks flow (and on stop): a
// copy a few seconds old only re-sends those seconds after a lost buffer.db, and an
// agent tailing thousands of files does not rewrite a large file every 2 s.
constexpr Duration kDeliveredInterval = std::chrono::seconds(10);
// Longest sleep with nothing due: new chunks wake the shipper anyway.
constexpr Duration kIdleWait = std::chrono::seconds(60);
// Longest sleep with requests in flight (the transport returns as soon as one ends).
constexpr Duration kBusyWait = std::chrono::seconds(1);

bool Retryable(int status) {
  return status == 0 || status == 408 || status == 429 || status >= 500;
}

std::string Printable(std::string_view s, size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7F ? c : ' ');
  }
  return out;
}

}  // namespace

Shipper::Shipper(const OutputConfig& config, BufferStore& store, HttpTransport& transport,
                 Output& output, const Clock& clock, const Logger& logger, uint64_t seed)
    : config_(config),
      store_(store),
      transport_(transport),
      output_(output),
      clock_(clock),
      log_(logger, "ship"),
      rng_(seed) {
  stats_.endpoint = config.endpoint;
  started_ms_ = NowMs();
  if (!store_.file().empty()) {
    Result<DeliveredPositions> loaded =
        LoadDeliveredPositions(DeliveredPositionsPath(store_.file()));
    if (loaded.ok()) {
      delivered_ = std::move(loaded).value();
      delivered_text_ = RenderDeliveredPositions(delivered_);
    } else {
      log_.Warn(loaded.status().message() + "; it is written again from buffer.db");
    }
  }
}

namespace {
// A wall clock that fell behind the monotonic one by more than this went back.
constexpr int64_t kClockJumpSlackMs = 2000;
// How long nothing is submitted after buffer.db refused a write.
constexpr Duration kStoreFailurePause = std::chrono::seconds(1);
}  // namespace

int64_t Shipper::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
      .count();
}

void Shipper::Wake() { transport_.Wake(); }

ShipStats Shipper::stats() const {
  std::lock_guard<std::mutex> lk(stats_mu_);
  return stats_;
}

ShipStats Shipper::this_run() const {
  std::lock_guard<std::mutex> lk(stats_mu_);
  ShipStats s = stats_;
  s.chunks_sent -= baseline_.chunks_sent;
  s.records_sent -= baseline_.records_sent;
  s.bytes_sent -= baseline_.bytes_sent;
  s.retries -= baseline_.retries;
  s.dead -= baseline_.dead;
  s.splits -= baseline_.splits;
  s.partial -= baseline_.partial;
  s.records_refused -= baseline_.records_refused;
  return s;
}

void Shipper::SubmitDue() {
  while (transport_.CanSubmit()) {
    std::vector<int64_t> busy;
    for (const auto& [id, f] : in_flight_) busy.push_back(id);
    const size_t room = config_.max_in_flight > 0
                            ? static_cast<size_t>(config_.max_in_flight) - in_flight_.size()
                            : 1;
    Result<std::vector<StoredChunk>> due = store_.DueChunks(NowMs(), room, busy);
    if (!due.ok()) {
      Error("cannot read buffer.db: " + due.status().message(), 0);
      return;
    }
    if (due->empty()) return;
    // A stream whose chunk was just split or dead-lettered sends nothing more from this
    // batch: the halves come first, at the next look.
    std::vector<std::string> held;
    auto is_held = [&](const std::string& stream) {
      return std::find(held.begin(), held.end(), stream) != held.end();
    };
    bool changed = false;
    for (StoredChunk& c : *due) {
      if (is_held(c.chunk.stream)) continue;
      if (c.chunk.body.size() > config_.max_request_bytes && c.chunk.records > 1) {
        SplitChunk(c, "larger than output.max_request_bytes (" +
                          FormatSize(config_.max_request_bytes) + ")");
        held.push_back(c.chunk.stream);
        changed = true;
        continue;
      }
      Result<HttpRequest> req = output_.Encode(c);
      if (!req.ok()) {
        Dead(c, "cannot be encoded for the " + std::string(output_.name()) +
                    " output: " + req.status().message());
        held.push_back(c.chunk.stream);
        changed = true;
        continue;
      }
      const size_t bytes = req->body.size();
      const int64_t id = c.id;
      transport_.Submit(std::move(req).value());
      in_flight_[id] = InFlight{std::move(c), bytes};
      if (!transport_.CanSubmit()) return;
    }
    if (!changed) return;  // nothing new can be due before the next answer
  }
}

// At the first step: when the previous run stopped with the endpoint refusing the
// credentials, every chunk is still deferred by up to retry.max (minutes). A restart is
// how a fixed token, token_file or client certificate takes effect, so try again now
// rather than make `run --once` fail on the old deferral.
void Shipper::Resume() {
  resumed_ = true;
  Result<std::optional<std::string>> saved = store_.GetState(kShipStatusKey);
  if (!saved.ok() || !saved->has_value()) return;
  const nlohmann::json j = nlohmann::json::parse(**saved, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return;
  {
    // The counters are the buffer's, not this process's: they go on from the last run.
    std::lock_guard<std::mutex> lk(stats_mu_);
    auto count = [&](const char* key) {
      const auto it = j.find(key);
      return it != j.end() && it->is_number_unsigned() ? it->get<uint64_t>() : uint64_t{0};
    };
    stats_.chunks_sent = count("chunks_sent");
    stats_.records_sent = count("records_sent");
    stats_.bytes_sent = count("bytes_sent");
    stats_.retries = count("retries");
    stats_.dead = count("dead");
    stats_.splits = count("splits");
    stats_.partial = count("partial");
    stats_.records_refused = count("records_refused");
    const auto ms = j.find("last_success_ms");
    if (ms != j.end() && ms->is_number_integer()) stats_.last_success_ms = ms->get<int64_t>();
    baseline_ = stats_;
  }
  if (!j.value("auth_rejected", false)) return;
  Status st = store_.DeferAll(NowMs(), j.value("last_error", std::string()));
  if (!st.ok()) {
    log_.Warn("cannot reschedule the chunks deferred by the last authentication failure: " +
              st.message());
    return;
  }
  log_.Info("the endpoint rejected the credentials before this start; trying again now");
}

// Retry times are wall time (they outlive the process in buffer.db), so a wall clock
// set back would hold chunks for as long as it went back. While running, a jump back is
// seen against the monotonic clock and every pending retry moves back with it. At the
// first step, a jump while the agent was stopped cannot be told apart, so no retry is
// left further ahead than the longest wait this shipper sets (2 x retry.max).
void Shipper::FollowClockJumps() {
  const int64_t now = NowMs();
  const MonoTime mono = clock_.Monotonic();
  const bool first = !last_wall_ms_;
  int64_t back = 0;
  if (!first) {
    const int64_t expected =
        *last_wall_ms_ +
        std::chrono::duration_cast<std::chrono::milliseconds>(mono - last_mono_).count();
    if (now < expected - kClockJumpSlackMs) back = expected - now;
  }
  last_wall_ms_ = now;
  last_mono_ = mono;
  if (!first && back == 0) return;
  const int64_t latest =
      now + 2 * std::chrono::duration_cast<std::chrono::milliseconds>(config_.retry.max).count();
  Status st = store_.RescheduleAfterClockJump(now, back, latest);
  if (!st.ok()) {
    log_.Warn("cannot reschedule retries after a clock change: " + st.message());
    last_wall_ms_.reset();  // try again at the next step
    return;
  }
  if (back > 0)
    log_.Warn("the wall clock went back by " + FormatDuration(Duration(back)) +
              "; pending retries moved back with it");
}

void Shipper::HoldAfterStoreFailure(const Status& st) {
  if (!st.ok()) hold_until_ = clock_.Monotonic() + kStoreFailurePause;
}

void Shipper::Step(Duration max_wait) {
  if (!resumed_) Resume();
  FollowClockJumps();
  if (clock_.Monotonic() >= hold_until_) SubmitDue();
  Duration wait = max_wait;
  if (clock_.Monotonic() < hold_until_) {
    wait = std::min(wait, std::chrono::duration_cast<Duration>(hold_until_ - clock_.Monotonic()));
  } else if (in_flight_.empty()) {
    Result<std::optional<int64_t>> next = store_.NextAttemptAt();
    if (next.ok() && next->has_value()) {
      const int64_t until = **next - NowMs();
      wait = std::min(wait, Duration(std::max<int64_t>(until, 0)));
    }
  } else {
    wait = std::min(wait, kBusyWait);
  }
  if (delivered_dirty_) {  // the last deliveries reach delivered.json without a new event
    const MonoTime now = clock_.Monotonic();
    wait = std::min(wait, next_delivered_ > now
                              ? std::chrono::duration_cast<Duration>(next_delivered_ - now)
                              : Duration(0));
  }
  for (const HttpResponse& r : transport_.Poll(wait)) Handle(r);
  SaveStats(false);
}

void Shipper::Handle(const HttpResponse& r) {
  auto it = in_flight_.find(static_cast<int64_t>(r.tag));
  if (it == in_flight_.end()) return;
  InFlight f = std::move(it->second);
  in_flight_.erase(it);
  delivered_dirty_ = true;
  const StoredChunk& c = f.chunk;
  {
    std::lock_guard<std::mutex> lk(stats_mu_);
    stats_.last_status = r.status;
  }
  stats_dirty_ = true;
  if (r.status >= 200 && r.status < 300) {
    Result<RecordFailures> failures = output_.ReadAnswer(r, c);
    if (!failures.ok()) {
      Retry(f, r,
            "HTTP " + std::to_string(r.status) + " with an answer that cannot be read (" +
                failures.status().message() + ")");
      return;
    }
    if (!failures->empty()) {
      Partial(f, r, *failures);
      return;
    }
    Status st = store_.Acknowledge(c.id);
    HoldAfterStoreFailure(st);
    if (!st.ok())
      log_.Warn("chunk " + std::to_string(c.id) +
                " was delivered but could not be "
                "deleted (" +
                st.message() + "); it will be sent again");
    std::lock_guard<std::mutex> lk(stats_mu_);
    ++stats_.chunks_sent;
    stats_.records_sent += c.chunk.records;
    stats_.bytes_sent += f.body_bytes;
    stats_.last_success_ms = NowMs();
    if (stats_.auth_rejected) log_.Info("the endpoint accepts the credentials again");
    stats_.auth_rejected = false;
    auth_failures_ = 0;
    return;
  }
  const std::string answer =
      r.status == 0 ? r.error
                    : "HTTP " + std::to_string(r.status) +
                          (r.body_head.empty() ? "" : ": " + Printable(r.body_head, 200));
  if (r.status == 401 || r.status == 403) {
    // Keep everything and wait long: a wrong token must never become data loss.
    const Duration wait =
        FullJitterBackoff(auth_failures_++, config_.retry.max / 2, config_.retry.max, rng_) +
        config_.retry.max / 2;
    Status st = store_.DeferAll(NowMs() + wait.count(), answer);
    HoldAfterStoreFailure(st);
    if (!st.ok()) log_.Warn("cannot defer chunks: " + st.message());
    {
      std::lock_guard<std::mutex> lk(stats_mu_);
      stats_.auth_rejected = true;
      stats_.next_attempt_ms = NowMs() + wait.count();
    }
    Error("authentication rejected by " + config_.endpoint + " (" + answer +
              "): every chunk is kept; next attempt in " + FormatDuration(wait),
          r.status);
    return;
  }
  if (r.status == 413) {
    SplitChunk(c, "the endpoint refused it as too large (HTTP 413)");
    return;
  }
  if (Retryable(r.status)) {
    Retry(f, r, answer);
    return;
  }
  Dead(c, answer);
}

void Shipper::Retry(const InFlight& f, const HttpResponse& r, const std::string& why) {
  Duration wait =
      FullJitterBackoff(f.chunk.attempts, config_.retry.initial, config_.retry.max, rng_);
  if (!r.retry_after.empty()) {
    if (std::optional<Duration> ra = ParseRetryAfter(r.retry_after, clock_.Now()))
      wait = std::max(wait, *ra);
  }
  const int64_t at = NowMs() + wait.count();
  Status st = store_.ScheduleRetry(f.chunk.id, at, why);
  HoldAfterStoreFailure(st);
  if (!st.ok()) log_.Warn("cannot schedule a retry: " + st.message());
  {
    std::lock_guard<std::mutex> lk(stats_mu_);
    ++stats_.retries;
    if (stats_.next_attempt_ms == 0 || at < stats_.next_attempt_ms) stats_.next_attempt_ms = at;
  }
  Error("chunk " + std::to_string(f.chunk.id) + " not delivered (" + why + "); retry in " +
            FormatDuration(wait),
        r.status);
}

namespace {

// A part of a chunk: the records at `indices` (ascending), recompressed.
Result<SealedChunk> PartOf(const StoredChunk& c, const ChunkRecords& records,
                           const std::vector<uint32_t>& indices, ZstdCompressor& z) {
  std::string raw;
  for (uint32_t i : indices) {
    if (i >= records.lines.size())
      return InvalidArgument("record " + std::to_string(i) + " is not in chunk " +
                             std::to_string(c.id));
    raw.append(records.lines[i]);
    raw.push_back('\n');
  }
  Result<std::string> body = z.Compress(raw);
  if (!body.ok()) return body.status();
  SealedChunk s = c.chunk;
  s.records = indices.size();
  s.raw_bytes = raw.size();
  s.body = std::move(body).value();
  return s;
}

}  // namespace

// A 2xx whose answer refused some records (Elasticsearch _bulk): the delivered ones
// are dropped, the refused-for-now ones replace the chunk (and are retried with
// backoff), the refused-for-good ones go to dead_chunks — the replacement in one
// transaction, so a delivered record is never sent again.
void Shipper::Partial(const InFlight& f, const HttpResponse& r, const RecordFailures& failures) {
  const StoredChunk& c = f.chunk;
  const uint64_t refused = failures.retry.size() + failures.dead.size();
  const uint64_t delivered = c.chunk.records > refused ? c.chunk.records - refused : 0;
  {
    std::lock_guard<std::mutex> lk(stats_mu_);
    ++stats_.partial;
    stats_.records_sent += delivered;
    stats_.records_refused += failures.dead.size();
    stats_.bytes_sent += f.body_bytes;
    if (delivered > 0) stats_.last_success_ms = NowMs();
  }
  const std::string dead_why = "refused by the endpoint: " + failures.dead_reason;
  const std::string retry_why = "refused for now by the endpoint: " + failures.retry_reason;
  if (failures.retry.empty() && delivered == 0) {
    Dead(c, dead_why);
    return;
  }
  if (failures.dead.empty() && delivered == 0) {
    Retry(f, r, retry_why);
    return;
  }
  Result<ChunkRecords> records = ReadChunkRecords(c);
  ZstdCompressor z(3);
  std::vector<SealedChunk> parts;
  Status st = records.status();
  for (const auto* indices : {&failures.retry, &failures.dead}) {
    if (!st.ok() || indices->empty()) continue;
    Result<SealedChunk> part = PartOf(c, *records, *indices, z);
    if (part.ok())
      parts.push_back(std::move(part).value());
    else
      st = part.status();
  }
  Result<std::vector<int64_t>> ids = st.ok() ? store_.Replace(c.id, std::move(parts)) : st;
  if (!ids.ok()) {
    // The chunk stays whole: sent again, its delivered records with it (the
    // endpoint's de-duplication by document id makes that harmless).
    Retry(f, r,
          retry_why + "; the refused records could not be set apart (" + ids.status().message() +
              ")");
    return;
  }
  size_t next = 0;
  if (!failures.retry.empty()) {
    InFlight rest = f;
    rest.chunk.id = (*ids)[next++];
    Retry(rest, r, retry_why);
  }
  if (!failures.dead.empty()) {
    StoredChunk dead = c;
    dead.id = (*ids)[next];
    dead.chunk.records = failures.dead.size();
    Dead(dead, dead_why);
  }
  log_.Info("chunk " + std::to_string(c.id) + ": " + std::to_string(delivered) + " of " +
            std::to_string(c.chunk.records) + " records delivered, " +
            std::to_string(failures.retry.size()) + " to retry, " +
            std::to_string(failures.dead.size()) + " dead-lettered");
}

void Shipper::SplitChunk(const StoredChunk& c, const std::string& why) {
  if (c.chunk.records < 2) {
    Dead(c, why + "; a single record cannot be split");
    return;
  }
  Result<std::string> raw = ZstdDecompress(c.chunk.body, c.chunk.raw_bytes + 1024);
  if (!raw.ok()) {
    Dead(c, "cannot be split: " + raw.status().message());
    return;
  }
  // The middle line boundary by record count.
  const uint64_t half = c.chunk.records / 2;
  size_t cut = 0;
  for (uint64_t n = 0; n < half; ++n) {
    const size_t nl = raw->find('\n', cut);
    if (nl == std::string::npos) break;
    cut = nl + 1;
  }
  if (cut == 0 || cut >= raw->size()) {
    Dead(c, why + "; its records could not be told apart");
    return;
  }
  ZstdCompressor z(3);
  auto make = [&](std::string_view part, uint64_t records) -> Result<SealedChunk> {
    Result<std::string> body = z.Compress(part);
    if (!body.ok()) return body.status();
    SealedChunk s = c.chunk;
    s.records = records;
    s.raw_bytes = part.size();
    s.body = std::move(body).value();
    return s;
  };
  Result<SealedChunk> a = make(std::string_view(*raw).substr(0, cut), half);
  Result<SealedChunk> b = make(std::string_view(*raw).substr(cut), c.chunk.records - half);
  if (!a.ok() || !b.ok()) {
    log_.Warn("cannot split chunk " + std::to_string(c.id) + "; it will be retried as is");
    return;
  }
  Result<std::pair<int64_t, int64_t>> ids = store_.Split(c.id, std::move(*a), std::move(*b));
  if (!ids.ok()) {
    log_.Warn("cannot split chunk " + std::to_string(c.id) + ": " + ids.status().message());
    return;
  }
  log_.Info("chunk " + std::to_string(c.id) + " (" + std::to_string(c.chunk.records) +
            " records) split into " + std::to_string(ids->first) + " and " +
            std::to_string(ids->second) + ": " + why);
  std::lock_guard<std::mutex> lk(stats_mu_);
  ++stats_.splits;
}

void Shipper::Dead(const StoredChunk& c, const std::string& reason) {
  Status st = store_.MoveToDead(c.id, reason);
  if (!st.ok()) {
    log_.Warn("cannot move chunk " + std::to_string(c.id) + " to dead_chunks: " + st.message());
    return;
  }
  log_.Error("chunk " + std::to_string(c.id) + " (" + c.chunk.stream + ", " +
             std::to_string(c.chunk.records) + " records) refused for good: " + reason +
             "; kept in dead_chunks (outpost buffer export --dead)");
  std::lock_guard<std::mutex> lk(stats_mu_);
  ++stats_.dead;
}

void Shipper::Error(const std::string& message, int status) {
  bool changed = false;
  {
    std::lock_guard<std::mutex> lk(stats_mu_);
    changed = stats_.last_error != message;
    stats_.last_error = message;
    stats_.last_error_ms = NowMs();
    stats_.last_status = status;
    stats_.last_error_status = status;
  }
  stats_dirty_ = true;
  if (changed) log_.Warn(message);
}

void Shipper::SaveStats(bool force) {
  SaveDelivered(force);
  const MonoTime now = clock_.Monotonic();
  if (!force && (!stats_dirty_ || now < next_save_)) return;
  const ShipStats s = stats();
  nlohmann::json j = {{"endpoint", s.endpoint},
                      {"chunks_sent", s.chunks_sent},
                      {"records_sent", s.records_sent},
                      {"bytes_sent", s.bytes_sent},
                      {"retries", s.retries},
                      {"dead", s.dead},
                      {"splits", s.splits},
                      {"partial", s.partial},
                      {"records_refused", s.records_refused},
                      {"last_success_ms", s.last_success_ms},
                      {"last_status", s.last_status},
                      {"last_error", s.last_error},
                      {"last_error_ms", s.last_error_ms},
                      {"last_error_status", s.last_error_status},
                      {"auth_rejected", s.auth_rejected},
                      {"next_attempt_ms", s.next_attempt_ms},
                      {"updated_at_ms", NowMs()}};
  Status st = store_.SetState(kShipStatusKey,
                              j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (!st.ok()) log_.Debug("cannot save shipping status: " + st.message());
  stats_dirty_ = false;
  next_save_ = now + kStatsInterval;
}

void Shipper::SaveDelivered(bool force) {
  const MonoTime now = clock_.Monotonic();
  if (store_.file().empty() || (!force && (!delivered_dirty_ || now < next_delivered_))) return;
  delivered_dirty_ = false;
  next_delivered_ = now + kDeliveredInterval;
  Result<std::vector<Checkpoint>> rows = store_.DeliveredCheckpoints();
  if (!rows.ok()) {
    log_.Debug("cannot read delivered checkpoints: " + rows.status().message());
    return;
  }
  DeliveredPositions next = MergeDelivered(delivered_, std::move(rows).value(), started_ms_);
  std::string text = RenderDeliveredPositions(next);
  if (text == delivered_text_) return;
  Status st = SaveDeliveredPositions(DeliveredPositionsPath(store_.file()), next);
  if (!st.ok()) {
    log_.Debug("cannot save delivered positions: " + st.message());
    return;
  }
  delivered_ = std::move(next);
  delivered_text_ = std::move(text);
}

void Shipper::Run(const std::function<bool()>& should_stop) {
  while (!should_stop()) Step(kIdleWait);
  SaveStats(true);
}

Status Shipper::Drain(Duration patience, const std::function<bool()>& should_stop,
                      const std::function<void(const ShipStats&, uint64_t left)>& progress) {
  // Progress: a chunk delivered, dead-lettered or split. Without it for `patience` (an
  // endpoint down, a certificate refused, 5xx for good) --once gives up instead of
  // retrying forever: backoff capped by a small retry.max never exceeds `patience`.
  if (!resumed_) Resume();
  auto done = [](const ShipStats& s) { return s.chunks_sent + s.dead + s.splits + s.partial; };
  uint64_t done_before = done(stats());
  MonoTime last_progress = clock_.Monotonic();
  for (;;) {
    if (should_stop()) {
      SaveStats(true);
      return Unavailable("stopped before the buffer was empty");
    }
    Step(kBusyWait);
    Result<uint64_t> live = store_.CountLive();
    const uint64_t left = live.ok() ? *live : 0;
    if (progress) progress(stats(), left);
    if (live.ok() && left == 0 && in_flight_.empty()) {
      SaveStats(true);
      return Status::Ok();
    }
    const ShipStats s = stats();
    if (done(s) != done_before) {
      done_before = done(s);
      last_progress = clock_.Monotonic();
    }
    if (!in_flight_.empty()) continue;
    if (s.auth_rejected) {
      SaveStats(true);
      return PermissionDenied(s.last_error);
    }
    if (clock_.Monotonic() - last_progress > patience) {
      SaveStats(true);
      return Unavailable(std::to_string(left) + " chunks still buffered; nothing delivered for " +
                         FormatDuration(patience) + " (last error: " + s.last_error + ")");
    }
    Result<std::optional<int64_t>> next = store_.NextAttemptAt();
    if (next.ok() && next->has_value() && **next - NowMs() > patience.count()) {
      SaveStats(true);
      return Unavailable(std::to_string(left) + " chunks still buffered; next attempt in " +
                         FormatDuration(Duration(**next - NowMs())) +
                         " (last error: " + s.last_error + ")");
    }
  }
}

}  // namespace outpost
