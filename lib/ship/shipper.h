// Shipper: sends buffered chunks to the output, oldest first per stream, and applies
// the delivery rules (DESIGN.md "Data flow", docs/shipping.md):
//   2xx                    the chunk is deleted (acknowledged);
//   network error, 408,
//   429, 5xx               retried with exponential backoff and full jitter
//                          (retry.initial .. retry.max), never sooner than Retry-After;
//   401, 403               every chunk is kept and deferred by retry.max: a wrong token
//                          never turns into data loss; status says "authentication rejected";
//   413                    the chunk is split in two (by records) and both are retried;
//   other 4xx              the chunk moves to dead_chunks with the status and the first
//                          bytes of the response; the rest flows.
// Between buffer and server delivery is at least once; every request carries
// Idempotency-Key: <agent_id>-<chunk_id> so a server can make it exactly once.
//
// The shipper owns its own BufferStore connection and runs on its own thread; Wake()
// and stats() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "buffer/buffer_store.h"
#include "buffer/delivered_positions.h"
#include "config/config.h"
#include "ship/http_client.h"
#include "ship/output.h"
#include "util/clock.h"
#include "util/logger.h"
#include "util/status.h"

namespace outpost {

inline constexpr const char* kShipStatusKey = "ship.status";

struct ShipStats {
  uint64_t chunks_sent = 0;
  uint64_t records_sent = 0;
  uint64_t bytes_sent = 0;  // request bodies acknowledged
  uint64_t retries = 0;
  uint64_t dead = 0;
  uint64_t splits = 0;
  uint64_t partial = 0;          // 2xx answers that refused some records (_bulk)
  uint64_t records_refused = 0;  // records of those answers dead-lettered
  int64_t last_success_ms = 0;
  int last_status = 0;  // HTTP status of the last answer, 0 for a network error
  std::string last_error;
  int last_error_status = 0;  // HTTP status of last_error, 0 for a network error
  int64_t last_error_ms = 0;
  bool auth_rejected = false;
  int64_t next_attempt_ms = 0;  // earliest retry scheduled, 0 for none
  std::string endpoint;
};

class Shipper {
 public:
  Shipper(const OutputConfig& config, BufferStore& store, HttpTransport& transport, Output& output,
          const Clock& clock, const Logger& logger, uint64_t seed);

  // Submits due chunks and handles answers, waiting up to `max_wait` for progress.
  void Step(Duration max_wait);

  // Ships until `should_stop` is true (checked after every wakeup). In-flight requests
  // are abandoned at the stop: their chunks stay and are sent again (same key).
  void Run(const std::function<bool()>& should_stop);

  // --once / flush: ships until the buffer holds no live chunk. Fails when the
  // endpoint rejects the token, when what remains waits longer than `patience` for its
  // next attempt, when nothing was delivered, split or dead-lettered for `patience`
  // while nothing is in flight (an endpoint that keeps failing: a run --once from cron
  // must end), or when `should_stop` turns true. `progress` (may be null) is called
  // after every answer.
  Status Drain(Duration patience, const std::function<bool()>& should_stop,
               const std::function<void(const ShipStats&, uint64_t left)>& progress);

  // New chunks were committed (another thread); makes a waiting Step return.
  void Wake();

  // Counters since the buffer was created (they go on across restarts, kept in
  // buffer.db's state), and the same counters for this process only.
  ShipStats stats() const;
  ShipStats this_run() const;

 private:
  struct InFlight {
    StoredChunk chunk;
    size_t body_bytes = 0;
  };
  void Resume();
  void SubmitDue();
  void Handle(const HttpResponse& r);
  void Retry(const InFlight& f, const HttpResponse& r, const std::string& why);
  void Partial(const InFlight& f, const HttpResponse& r, const RecordFailures& failures);
  void SplitChunk(const StoredChunk& c, const std::string& why);
  void Dead(const StoredChunk& c, const std::string& reason);
  void Error(const std::string& message, int status);
  void SaveStats(bool force);
  void SaveDelivered(bool force);
  void FollowClockJumps();
  void HoldAfterStoreFailure(const Status& st);
  int64_t NowMs() const;

  OutputConfig config_;
  BufferStore& store_;
  HttpTransport& transport_;
  Output& output_;
  const Clock& clock_;
  ComponentLogger log_;
  std::mt19937_64 rng_;
  std::map<int64_t, InFlight> in_flight_;
  int64_t auth_failures_ = 0;
  bool resumed_ = false;
  // The wall clock as last seen, with the monotonic time then: a wall clock that moved
  // less than the monotonic one went back (retry times are wall time, in buffer.db).
  std::optional<int64_t> last_wall_ms_;
  MonoTime last_mono_{};
  // After buffer.db refused a write (disk full): nothing is submitted before this, so a
  // chunk whose retry or deletion could not be stored is not sent again at once.
  MonoTime hold_until_{};
  MonoTime next_save_{};
  bool stats_dirty_ = false;
  // delivered.json (buffer/delivered_positions.h): what it holds, as written, and the
  // wall time this shipper started: checkpoint rows written since are trusted as they
  // are, older ones only where they equal what the file already held.
  DeliveredPositions delivered_;
  std::string delivered_text_;
  int64_t started_ms_ = 0;
  bool delivered_dirty_ = false;  // answers handled since the last write
  MonoTime next_delivered_{};
  mutable std::mutex stats_mu_;
  ShipStats stats_;
  ShipStats baseline_;  // the counters loaded at Resume()
};

}  // namespace outpost
