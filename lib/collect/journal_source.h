// JournalSource: one [[source.journal]]: the systemd journal, read without linking
// libsystemd by running `journalctl -o export` and parsing its output
// (journal_export.h). See docs/journal.md.
//
// Position: the __CURSOR of the last entry in a chunk is the source's checkpoint
// (Checkpoint::cursor), committed in the same buffer.db transaction as the chunk, like
// a file offset. journalctl is started with --after-cursor=<committed cursor>, so after
// a crash the entries of the chunk that was open are read again, once. Without a
// cursor, `read_from` decides: "tail" (--since=now) or "head" (--no-tail).
//
// journalctl runs with --follow under `outpost run` (restarted with backoff, from the
// last entry read, when it exits or cannot be started; the problem is shown in
// status), and without it under `run --once` (read to its end). On any OS but Linux the
// source only reports that the journal is not available. Not thread-safe: the
// pipeline's thread owns it.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chunk/record_encoder.h"
#include "collect/journal_export.h"
#include "collect/source.h"
#include "config/config.h"
#include "outpost/platform/subprocess.h"
#include "util/logger.h"

namespace outpost {

// Backoff between attempts to (re)start journalctl.
inline constexpr Duration kJournalRetryMin = std::chrono::seconds(1);
inline constexpr Duration kJournalRetryMax = std::chrono::seconds(60);

// The record fields a journal entry adds after `source` (static fields may not use them).
bool IsJournalRecordField(std::string_view name);

// journalctl's arguments for a source: filters, --follow, and where to start (the
// cursor if any, else read_from). Exposed for tests.
std::vector<std::string> JournalctlArgs(const JournalSourceConfig& config,
                                        const std::string& cursor, bool follow);

// Appends the record for one entry to `out` (the whole NDJSON line). Returns its
// cursor, or nullopt (and appends nothing) for an entry without __CURSOR.
std::optional<std::string> AppendJournalRecord(RecordEncoder& encoder, std::string& out,
                                               const JournalEntry& entry,
                                               uint64_t max_message_bytes, WallTime now);

class JournalSource final : public Source {
 public:
  JournalSource(const JournalSourceConfig& config, const RecordContext& context,
                const BufferConfig& buffer, const Clock& clock, const Logger& logger);
  ~JournalSource() override;

  const std::string& name() const override { return config_.name; }
  std::string_view type() const override { return "journal"; }
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

  const std::string& committed_cursor() const { return checkpoint_.committed(); }

 private:
  bool Spawn(bool follow);
  void Ended();
  bool EmitPending();
  void SetProblem(const std::string& cause, const std::string& message);
  void ClearProblem();

  JournalSourceConfig config_;
  const Clock& clock_;
  ComponentLogger log_;
  RecordEncoder encoder_;
  ChunkBuilder builder_;
  platform::ChangeWatcher* watcher_ = nullptr;
  std::unique_ptr<platform::Subprocess> proc_;
  JournalExportParser parser_;
  std::deque<JournalEntry> pending_;  // parsed, not yet in the chunk (it was full)
  std::unique_ptr<char[]> read_buf_;
  bool available_ = true;  // false: not on this platform
  bool once_done_ = false;
  bool follow_ = false;
  CursorCheckpoint checkpoint_;  // the cursor stored, emitted, in flight
  std::string parsed_;           // cursor of the last entry parsed (a restart resumes after it)
  MonoTime next_spawn_{};
  Duration backoff_ = kJournalRetryMin;
  uint64_t entries_read_ = 0;
  uint64_t starts_ = 0;
  uint64_t status_version_ = 0;
  std::optional<std::string> problem_cause_;
  std::string problem_message_;
  int64_t problem_since_ms_ = 0;
};

}  // namespace outpost
