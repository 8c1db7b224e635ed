// CheckScheduler: runs policy checks and [[inventory]] queries on their intervals inside
// `outpost run` and puts their results in buffer.db as streams "checks" and "inventory"
// (docs/checks.md, "Checks in outpost run" and "Inventory").
//
// Each check first runs at start + a random jitter in [0, min(interval/10, 60s)) (so a
// fleet does not run in lockstep), then every interval (monotonic clock). A result is
// written when its status differs from the last one written for that check; the last
// statuses are kept in buffer.db (state key "checks.last") so a restart does not resend
// everything. Every checks.snapshot_interval (wall clock, state key
// "checks.snapshot_at_ms") every check is run and all results are written, marked
// "snapshot":true. Inventory queries send the rows added and removed since their last
// run (check/inventory.h). The records of one RunDue/RunAll are committed as one chunk
// per stream, in the same transaction as the state that remembers them; when the commit
// fails they are kept (bounded) and committed with the next run's.
//
// Not thread-safe, except Stop(), which any thread may call while Run() runs.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "buffer/buffer_store.h"
#include "check/check_runner.h"
#include "check/inventory.h"
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
  // (platform::DeviceTablesOs()): checks and inventory queries not meant for it are left
  // out.
  CheckScheduler(std::vector<Check> checks, const ChecksConfig& config, CheckIdentity identity,
                 BufferStore& store, QueryEngine& engine, const Clock& clock, const Logger& logger,
                 uint64_t seed, std::string os, std::vector<InventoryQueryConfig> inventory = {});

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
  size_t inventory_queries() const { return inventory_.size(); }
  size_t pending_records() const { return checks_out_.lines.size() + inventory_out_.lines.size(); }
  uint64_t records_committed() const { return records_committed_; }
  // Runs that ran at least one check or inventory query and committed their records
  // (read from any thread: the self-update health check).
  uint64_t cycles_completed() const { return cycles_completed_.load(); }

 private:
  struct Last {
    std::string status;
    int64_t changed_at_ms = 0;
  };

  // Records of one stream waiting for their commit, and the state keys written with them.
  struct Pending {
    std::string stream;
    std::vector<std::string> lines;
    size_t bytes = 0;
    int64_t created_at_ms = 0;
    std::map<std::string, std::optional<std::string>> state;
    void Add(std::string line, int64_t now_ms);
    bool TooBig() const;
  };
  struct InventoryJob {
    InventoryQueryConfig config;
    MonoTime next_run;
    std::optional<std::vector<std::string>> last_rows;  // none: the next run is a snapshot
    std::string last_error;                             // the error last sent, if any
  };

  void Load();
  Status Execute(bool all);
  void RunInventory(InventoryJob& job, int64_t now_ms);
  void AppendRecordHead(std::string& out, WallTime at, std::string_view stream,
                        std::string_view source) const;
  std::string Record(const CheckResult& r, WallTime at, bool snapshot) const;
  std::string InventoryRecord(const InventoryJob& job, WallTime at, std::string_view action,
                              std::string_view columns_or_error) const;
  void Bound();
  Status Flush();
  Status Commit(Pending& p);

  std::vector<Check> checks_;
  ChecksConfig config_;
  CheckIdentity identity_;
  BufferStore& store_;
  const Clock& clock_;
  ComponentLogger log_;
  QueryEngine& engine_;
  CheckRunner runner_;
  std::vector<MonoTime> next_run_;  // per check
  std::vector<InventoryJob> inventory_;
  bool loaded_ = false;
  std::map<std::string, Last> last_;       // last status written, per check id
  std::optional<int64_t> snapshot_at_ms_;  // last snapshot (or first start)
  bool state_dirty_ = false;               // last_/snapshot_at_ms_ not yet in checks_out_.state
  Pending checks_out_;                     // stream "checks"
  Pending inventory_out_;                  // stream "inventory"
  uint64_t records_committed_ = 0;
  std::atomic<uint64_t> cycles_completed_{0};
  std::function<void()> on_commit_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

}  // namespace outpost
