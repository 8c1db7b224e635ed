// CheckScheduler: runs policy checks on their intervals inside `outpost run` and puts
// their results in buffer.db as stream "checks" (docs/checks.md, "Checks in outpost run").
//
// Each check first runs at start + a random jitter in [0, min(interval/10, 60s)) (so a
// fleet does not run in lockstep), then every interval (monotonic clock). A result is
// written when its status differs from the last one written for that check; the last
// statuses are kept in buffer.db (state key "checks.last") so a restart does not resend
// everything. Every checks.snapshot_interval (wall clock, state key
// "checks.snapshot_at_ms") every check is run and all results are written, marked
// "snapshot":true. The records of one RunDue/RunAll are committed as one chunk; when
// the commit fails they are kept (bounded) and committed with the next run's.
//
// Not thread-safe, except Stop(), which any thread may call while Run() runs.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "buffer/buffer_store.h"
#include "check/check_runner.h"
#include "check/policy.h"
#include "config/config.h"
#include "query/query_engine.h"
#include "util/clock.h"
#include "util/logger.h"
#include "util/status.h"
#include "util/units.h"

namespace outpost {

struct CheckIdentity {
  std::string agent_id;
  std::string host;
};

class CheckScheduler {
 public:
  // Records kept in memory while commits fail; the oldest are dropped beyond this.
  static constexpr size_t kMaxPendingRecords = 10000;
  static constexpr size_t kMaxPendingBytes = 16u << 20;

  // `store`, `engine`, `clock` and `logger` must outlive the scheduler. `os` is this OS
  // (platform::DeviceTablesOs()): checks not meant for it are left out.
  CheckScheduler(std::vector<Check> checks, const ChecksConfig& config, CheckIdentity identity,
                 BufferStore& store, QueryEngine& engine, const Clock& clock, const Logger& logger,
                 uint64_t seed, std::string os);

  // Runs every check whose time has come (and all of them when a snapshot is due),
  // writes the records that are due and commits them as one chunk. A failing commit is
  // returned (and logged); its records are retried by the next call.
  Status RunDue();
  // Runs every check now (`run --once`), then as RunDue.
  Status RunAll();
  // How long until RunDue has something to do (0 when it has now).
  Duration NextWait() const;

  // Runs RunDue in a loop, waiting NextWait() between calls, until Stop().
  void Run();
  void Stop();

  // Called after each successful commit (to wake the shipper).
  void set_on_commit(std::function<void()> fn) { on_commit_ = std::move(fn); }

  size_t checks() const { return checks_.size(); }
  size_t pending_records() const { return pending_.size(); }
  uint64_t records_committed() const { return records_committed_; }

 private:
  struct Last {
    std::string status;
    int64_t changed_at_ms = 0;
  };

  void Load();
  Status Execute(bool all);
  std::string Record(const CheckResult& r, WallTime at, bool snapshot) const;
  Status Flush();

  std::vector<Check> checks_;
  ChecksConfig config_;
  CheckIdentity identity_;
  BufferStore& store_;
  const Clock& clock_;
  ComponentLogger log_;
  CheckRunner runner_;
  std::vector<MonoTime> next_run_;  // per check
  bool loaded_ = false;
  std::map<std::string, Last> last_;       // last status written, per check id
  std::optional<int64_t> snapshot_at_ms_;  // last snapshot (or first start)
  bool state_dirty_ = false;
  std::vector<std::string> pending_;  // NDJSON lines not yet committed
  size_t pending_bytes_ = 0;
  int64_t pending_created_at_ms_ = 0;
  uint64_t records_committed_ = 0;
  std::function<void()> on_commit_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace outpost
