// Pipeline: the agent's collection loop. Sources -> open chunks -> sealed chunks
// committed to buffer.db together with the checkpoints of the lines they hold.
//
// One thread reads: sources read when the ChangeWatcher reports a change (or on their
// poll interval where there is no notification), chunks are due at chunk_max_bytes or
// chunk_max_age, and between events the thread sleeps in the kernel until the next
// deadline, so an idle agent uses no CPU. A second thread, the Sealer, compresses
// due chunks and commits them in order, so zstd overlaps with reading. When buffer.db reaches
// max_bytes the sources pause (their data waits in the files) and resume once space
// returns; a failed commit (disk full) is retried with the same batch, so nothing is
// lost or doubled. Stop() (or the stop predicate) makes Run() seal and commit every open
// chunk and return.
//
// The agent's own view of itself (sources, files, offsets, problems, pause) is written
// to buffer.db's state as JSON under kStatusKey, which `outpost status` reads.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "buffer/buffer_store.h"
#include "collect/file_source.h"
#include "collect/governor.h"
#include "collect/sealer.h"
#include "collect/source.h"
#include "config/config.h"
#include "outpost/platform/change_watcher.h"
#include "util/clock.h"
#include "util/logger.h"
#include "util/status.h"

namespace outpost {

inline constexpr const char* kStatusKey = "agent.status";
inline constexpr const char* kAgentIdKey = "agent_id";

// The agent id: `configured` if set, else the one stored in state, else a new random
// 128-bit id (32 hex digits) stored now.
Result<std::string> LoadOrCreateAgentId(BufferStore& store, const std::string& configured);

struct PipelineIdentity {
  std::string agent_id;
  std::string host;
  std::string version;
  long pid = 0;
};

class Pipeline {
 public:
  Pipeline(const Config& config, const PipelineIdentity& identity, BufferStore& store,
           platform::ChangeWatcher& watcher, const Clock& clock, const Logger& logger);
  ~Pipeline();

  // Starts every source (checkpoints, first scan, watches) and commits their initial
  // checkpoints. A source that fails to start is reported; the others go on.
  Status Start();

  // Runs until `should_stop` returns true (checked after every wakeup), then seals and
  // commits the open chunks.
  Status Run(const std::function<bool()>& should_stop);

  // --once: reads every source to its current end, seals and commits, returns.
  Status RunOnce();

  // Seals and commits every open chunk (shutdown).
  Status Flush();

  // Called (on the agent's thread) after chunks were committed: the shipper's wake-up.
  void set_on_commit(std::function<void()> fn) { on_commit_ = std::move(fn); }

  // A SIGHUP reload that was refused: shown in the status (`outpost status`) until the
  // agent restarts. Call from the thread that runs Run() (its stop predicate).
  void SetReloadError(const std::string& summary, const std::vector<std::string>& errors);

  // Records read and chunks committed since Start (for --once summaries and tests).
  uint64_t records_committed() const { return records_committed_; }
  uint64_t chunks_committed() const { return chunks_committed_; }
  // Turns of Run's loop so far (any thread): a watchdog that wakes the loop and sees this
  // move knows the loop is not stuck.
  uint64_t loops() const { return loops_.load(std::memory_order_relaxed); }

 private:
  struct Stream;
  void Step();
  bool Commit(Stream& s, bool seal);
  void DrainSource(Stream& s, bool flush_all);
  void CheckPause();
  // [limits]: true when reading must wait now (in --once, waits for CPU budget itself).
  bool GovernorHolds();
  void WriteStatus(bool force);
  void CollectDone();
  std::optional<MonoTime> NextDeadline() const;

  const Config& config_;
  PipelineIdentity identity_;
  BufferStore& store_;
  platform::ChangeWatcher& watcher_;
  const Clock& clock_;
  ComponentLogger log_;
  std::vector<std::unique_ptr<Stream>> streams_;
  // Guards store_ once the sealer runs (it commits from its own thread).
  std::mutex store_mu_;
  std::unique_ptr<Sealer> sealer_;
  bool blocking_ = false;
  std::function<void()> on_commit_;  // --once: wait for room in the sealer instead of returning
  bool paused_ = false;
  ResourceGovernor governor_;
  uint64_t governor_version_ = 0;
  std::string reload_error_;
  std::vector<std::string> reload_errors_;
  int64_t reload_error_at_ms_ = 0;
  MonoTime next_usage_check_{};
  MonoTime next_rescan_{};
  MonoTime next_poll_{};
  MonoTime next_status_{};
  bool status_dirty_ = true;
  std::string last_status_;
  std::string last_error_;
  uint64_t records_committed_ = 0;
  uint64_t chunks_committed_ = 0;
  std::atomic<uint64_t> loops_{0};
  int64_t started_at_ms_ = 0;
};

}  // namespace outpost
