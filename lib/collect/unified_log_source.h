// UnifiedLogSource: one [[source.unifiedlog]]: the macOS unified log, read by running
// `log stream --style ndjson` (and `log show --style ndjson`) as a child process and
// parsing its output (unified_log_ndjson.h), the way the journal source runs
// journalctl. See docs/macos.md.
//
// Position: the unified log has no cursor. The checkpoint (Checkpoint::cursor) is
// "<n> <timestamp>": the `timestamp` text of the newest entry taken and how many
// entries with exactly that timestamp were taken, committed in the same buffer.db
// transaction as the chunk. A restart runs `log show --start <that second>` and skips
// what the position covers (every entry older than the timestamp, and the first n with
// it), then `log stream` takes over from where `log show` ended. So after a crash the
// entries of the chunk that was open are read again, once. The position is the newest
// timestamp taken, never an older one, so an entry that arrives out of time order
// cannot make a restart read others twice.
//
// Gaps and limits: between the end of `log show` and the start of `log stream` there
// is a moment in which new entries are not seen; entries without a timestamp are taken
// but cannot move the position.
//
// Under `outpost run` the child is restarted with a doubling backoff (1 s to 60 s) when
// it exits or cannot be started, the problem shown in status. Under `run --once` only
// `log show` runs, from the position (or, on a first run, from now for read_from
// "tail" and from the start for "head"), and is read to its end. The source is
// available on macOS, and anywhere `log` names another program (one that speaks
// `log`'s stream and show --style ndjson); elsewhere it only reports that the unified
// log is not available. Not thread-safe: the pipeline's thread owns it.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chunk/record_encoder.h"
#include "collect/source.h"
#include "collect/unified_log_ndjson.h"
#include "config/config.h"
#include "outpost/platform/subprocess.h"
#include "util/logger.h"

namespace outpost {

inline constexpr Duration kUnifiedLogRetryMin = std::chrono::seconds(1);
inline constexpr Duration kUnifiedLogRetryMax = std::chrono::seconds(60);

// A position: the newest timestamp taken (as `log` wrote it, and parsed) and how many
// entries with that timestamp were taken.
struct UnifiedLogPosition {
  std::string timestamp;
  WallTime time{};
  uint64_t count = 0;
};
std::string FormatUnifiedLogPosition(const UnifiedLogPosition& p);
std::optional<UnifiedLogPosition> ParseUnifiedLogPosition(std::string_view cursor);

// `log`'s arguments: `stream` (follow) or `show`; `start` (when set) becomes
// --start "YYYY-MM-DD HH:MM:SS+0000" (UTC, whole seconds: what `log show` accepts).
// Exposed for tests.
std::vector<std::string> UnifiedLogArgs(const UnifiedLogSourceConfig& config, bool stream,
                                        std::optional<WallTime> start);

class UnifiedLogSource final : public Source {
 public:
  UnifiedLogSource(const UnifiedLogSourceConfig& config, const RecordContext& context,
                   const BufferConfig& buffer, const Clock& clock, const Logger& logger);
  ~UnifiedLogSource() override;

  const std::string& name() const override { return config_.name; }
  std::string_view type() const override { return "unifiedlog"; }
  ChunkBuilder& builder() override { return builder_; }

  Status Start(BufferStore& store, platform::ChangeWatcher& watcher) override;
  Status MarkStarted(BufferStore&) override { return Status::Ok(); }
  void OnEvents(const platform::WatchEvents&) override {}
  void Rescan() override {}
  ReadOutcome Read(bool flush_all) override;
  ReadOutcome Tick() override;
  std::optional<MonoTime> Deadline() const override;
  bool needs_polling() const override { return false; }
  Duration poll_interval() const override { return std::chrono::hours(1); }
  void CollectCheckpoints(CommitBatch& batch) override;
  void Committed() override;
  bool HasCheckpointChanges() const override { return checkpoint_.HasChanges(); }
  uint64_t status_version() const override { return status_version_; }
  std::string StatusJson() const override;

 private:
  bool Spawn(bool flush_all);
  void Ended();
  bool Take(const UnifiedLogEntry& entry);
  bool EmitPending();
  void RetryLater(const std::string& cause, const std::string& message);
  void SetProblem(const std::string& cause, const std::string& message);
  void ClearProblem();

  UnifiedLogSourceConfig config_;
  const Clock& clock_;
  ComponentLogger log_;
  RecordEncoder encoder_;
  ChunkBuilder builder_;
  platform::ChangeWatcher* watcher_ = nullptr;
  std::unique_ptr<platform::Subprocess> proc_;
  std::unique_ptr<UnifiedLogReader> reader_;
  std::deque<UnifiedLogEntry> pending_;  // parsed, not yet in the chunk (it was full)
  std::unique_ptr<char[]> read_buf_;
  bool available_ = true;
  bool once_done_ = false;
  bool streaming_ = false;  // the child is `log stream` (else `log show`)
  bool caught_up_ = false;  // a `log show` from the position ran to its end
  CursorCheckpoint checkpoint_;
  std::optional<UnifiedLogPosition> position_;  // of the newest entry taken
  // While a `log show` replays from a stored position: what it covers is skipped.
  std::optional<WallTime> replay_time_;
  uint64_t replay_skip_ = 0;
  MonoTime next_spawn_{};
  Duration backoff_ = kUnifiedLogRetryMin;
  uint64_t entries_read_ = 0;
  uint64_t replayed_skipped_ = 0;
  uint64_t garbage_ = 0;
  uint64_t oversized_ = 0;
  uint64_t starts_ = 0;
  uint64_t status_version_ = 0;
  std::optional<std::string> problem_cause_;
  std::string problem_message_;
  int64_t problem_since_ms_ = 0;
};

}  // namespace outpost
