// EventLogSource: one [[source.eventlog]]: a Windows Event Log channel (with an XPath
// query), read through the platform's event log reader (outpost/platform/eventlog.h)
// and rendered to records by eventlog_xml.h. See docs/eventlog.md.
//
// Position: the bookmark XML of the last event in a chunk is the source's checkpoint
// (Checkpoint::cursor), committed in the same buffer.db transaction as the chunk, like
// the journal source's cursor. The reader is opened after the committed bookmark, so
// after a crash the events of the chunk that was open are read again, once. A stored
// bookmark that is not valid bookmark XML (or names another channel) is reported as a
// problem and not used: the source starts per `read_from` instead, and the next commit
// replaces it. Without a bookmark `read_from` decides: "tail" (new events) or "head".
//
// Under `outpost run` the reader subscribes and its signal wakes the pipeline; when it
// cannot be opened (channel not found, access denied, not implemented under Wine) or
// fails, the problem is shown in status and the source retries with a doubling backoff
// (1 s to 60 s) from the last event read. Under `run --once` it reads the events there
// are and stops. On any OS but Windows the source only reports that the Event Log is
// not available there. Not thread-safe: the pipeline's thread owns it.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "chunk/record_encoder.h"
#include "collect/source.h"
#include "config/config.h"
#include "outpost/platform/eventlog.h"
#include "util/logger.h"

namespace outpost {

// Backoff between attempts to (re)open the channel.
inline constexpr Duration kEventLogRetryMin = std::chrono::seconds(1);
inline constexpr Duration kEventLogRetryMax = std::chrono::seconds(60);
// Events asked for per EvtNext.
inline constexpr size_t kEventLogBatch = 64;

// How the source opens its reader; tests substitute a fake. Default:
// platform::OpenEventLogReader.
using EventLogOpener = std::function<std::unique_ptr<platform::EventLogReader>(
    const platform::EventLogOpenOptions&, platform::EventLogError*)>;

// Checks a stored bookmark before it is used: valid bookmark XML that names `channel`
// (any channel when `query` is a <QueryList>). Returns an empty string when usable,
// else why not.
std::string CheckStoredBookmark(const std::string& bookmark_xml, const std::string& channel,
                                const std::string& query);

class EventLogSource final : public Source {
 public:
  EventLogSource(const EventLogSourceConfig& config, const RecordContext& context,
                 const BufferConfig& buffer, const Clock& clock, const Logger& logger,
                 EventLogOpener opener = nullptr);
  ~EventLogSource() override;

  const std::string& name() const override { return config_.name; }
  std::string_view type() const override { return "eventlog"; }
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

  const std::string& committed_bookmark() const { return checkpoint_.committed(); }

 private:
  bool Open(bool follow);
  void Failed(const platform::EventLogError& error, bool retry);
  bool EmitPending();
  void SetProblem(const std::string& cause, const std::string& message);
  void ClearProblem();

  EventLogSourceConfig config_;
  const Clock& clock_;
  ComponentLogger log_;
  RecordEncoder encoder_;
  ChunkBuilder builder_;
  EventLogOpener opener_;
  platform::ChangeWatcher* watcher_ = nullptr;
  std::unique_ptr<platform::EventLogReader> reader_;
  std::deque<platform::EventLogEntry> pending_;  // read, not yet in the chunk (it was full)
  bool available_ = true;                        // false: not on this platform
  bool once_done_ = false;
  CursorCheckpoint checkpoint_;  // the bookmark stored, emitted, in flight
  std::string read_;             // bookmark of the last event read (a reopen resumes after it)
  MonoTime next_open_{};
  Duration backoff_ = kEventLogRetryMin;
  uint64_t events_read_ = 0;
  uint64_t unreadable_events_ = 0;
  uint64_t opens_ = 0;
  std::optional<uint64_t> last_record_id_;
  uint64_t status_version_ = 0;
  std::optional<std::string> problem_cause_;
  std::string problem_message_;
  int64_t problem_since_ms_ = 0;
};

}  // namespace outpost
