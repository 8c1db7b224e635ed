// FileSource: one [[source.file]]: finds files by glob, follows them through every kind
// of rotation, and turns their lines into records in its stream's open chunk.
//
// Exactly once between file and buffer rests on three offsets per file:
//   read      how far the file has been read (bytes after `emitted` are a partial
//             line, a pending multiline record or an over-long line being skipped);
//   emitted   end of the last record appended to the open chunk;
//   committed end of the last record in buffer.db (the stored checkpoint).
// CollectCheckpoints() puts every file whose `emitted` moved into the commit batch of
// the chunk that holds those records; Committed() makes them `committed`. After a
// crash the agent resumes at `committed`, so nothing is lost or doubled.
//
// A file is known by identity (device + inode, plus a fingerprint of its first bytes
// so a new file on a reused inode is not taken for the old one), not by name:
//   rename-and-create   the old file keeps being read to its end (then retired once it
//                       has been idle for kRotateWait); the new one is read from 0;
//   copytruncate        size below the read offset -> restart at 0;
//   delete-and-recreate the open handle is read to its end; the new file from 0;
//   across restarts     a checkpoint whose path now holds another file is looked for
//                       by identity in its directory and read to its end first.
// `start_at` applies only on a source's very first run; files found later (or at a
// restart) without a checkpoint are new and are read from the beginning.
//
// Problems with one file (unreadable, vanished, a directory, a FIFO, binary) are
// logged once per cause and listed in status(); the other files go on.
// Not thread-safe: the pipeline's thread owns it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "buffer/buffer_store.h"
#include "chunk/chunk_builder.h"
#include "chunk/record_encoder.h"
#include "collect/multiline.h"
#include "collect/source.h"
#include "config/config.h"
#include "outpost/platform/change_watcher.h"
#include "outpost/platform/file_system.h"
#include "util/clock.h"
#include "util/logger.h"
#include "util/status.h"

namespace outpost {

// How long a rotated-away file is kept open after its last data.
inline constexpr Duration kRotateWait = std::chrono::seconds(5);
// How long a partial last line (no newline yet) is held before it is sent as is. Its
// line end, when it arrives later on its own, closes that record (no empty record).
inline constexpr Duration kPartialLineWait = std::chrono::seconds(1);
// Bytes read per call; also bounds the memory held per read.
inline constexpr size_t kReadBlock = 256 << 10;
// Bytes of a file's start that make up its fingerprint.
inline constexpr uint64_t kFingerprintBytes = 256;

struct FileProblem {
  std::string path;
  std::string cause;    // "permission denied", "is a directory", "binary file", ...
  std::string message;  // the full line that was logged
  int64_t since_ms = 0;
};

struct TailedFileStatus {
  std::string path;
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t size = 0;
  uint64_t read = 0;
  uint64_t committed = 0;
  bool rotated = false;
};

struct FileSourceStatus {
  std::string name;
  std::vector<TailedFileStatus> files;
  std::vector<FileProblem> problems;
  bool polling = false;
};

class FileSource final : public Source {
 public:
  FileSource(const FileSourceConfig& config, const RecordContext& context,
             const BufferConfig& buffer, const Clock& clock, const Logger& logger);
  ~FileSource() override;

  const std::string& name() const override { return config_.name; }
  std::string_view type() const override { return "file"; }
  ChunkBuilder& builder() override { return builder_; }

  // Loads the source's checkpoints, finds rotated files by identity, scans the globs
  // and starts watching. Checkpoint changes are left for the next commit.
  Status Start(BufferStore& store, platform::ChangeWatcher& watcher) override;
  // Records that the source has run (start_at applies only to its very first run).
  // Called once the checkpoints Start set up are committed: were it stored before
  // them, a crash in between would make the next run treat every file with
  // start_at = "end" as new and read it from the beginning.
  Status MarkStarted(BufferStore& store) override;

  // Reacts to change notification: marks changed files, rescans when a path that may
  // match appeared or a tracked file moved.
  void OnEvents(const platform::WatchEvents& events) override;
  // Re-expands the globs (new files, renames, deletions).
  void Rescan() override;

  // Reads what is available into the open chunk. Stops at kChunkFull (seal, commit,
  // call again) or when every file is at its end (kIdle). `flush_all`: end of
  // input (--once, shutdown): pending multiline records are completed now.
  ReadOutcome Read(bool flush_all = false) override;

  // Handles the timers: partial lines and multiline records that waited long enough,
  // rotated files to retire. Returns kChunkFull like Read.
  ReadOutcome Tick() override;
  // The earliest moment Tick() has something to do; nullopt when none.
  std::optional<MonoTime> Deadline() const override;
  // True when the source must be polled (no kernel notification for some path).
  bool needs_polling() const override { return polling_; }
  Duration poll_interval() const override { return config_.poll_interval; }

  // Adds checkpoint upserts/deletes for everything emitted since the last commit.
  void CollectCheckpoints(CommitBatch& batch) override;
  // The batch from CollectCheckpoints was committed.
  void Committed() override;
  bool HasCheckpointChanges() const override;

  FileSourceStatus status() const;
  // Changes whenever something status() shows changed (bytes read, files tracked or
  // let go, problems), so the agent knows when to rewrite its status.
  uint64_t status_version() const override { return status_version_; }
  std::string StatusJson() const override;

 private:
  struct Tailed;

  void ScanGlobs(bool initial);
  Tailed* Track(const std::filesystem::path& path, const platform::FileInfo& info, uint64_t offset,
                bool rotated);
  bool ResumeFromCheckpoint(const Checkpoint& cp);
  bool HeadMatches(const std::filesystem::path& p, uint64_t fingerprint, uint64_t length) const;
  std::optional<uint64_t> DeliveredOffset(const std::filesystem::path& p,
                                          const platform::FileInfo& info) const;
  ReadOutcome ReadFile(Tailed& f, bool flush_all);
  bool ProcessLines(Tailed& f, std::string_view data, uint64_t base);
  void EmitLine(Tailed& f, std::string_view raw, uint64_t offset, uint64_t end, bool cut);
  void AppendRecord(Tailed& f, const LogLine& line);
  void FlushPending(Tailed& f, bool partial_too);
  void Retire(Tailed& f);
  void Stamp();
  void UpdateFingerprint(Tailed& f);
  void Problem(const std::string& path, const std::string& cause, const std::string& message);
  void ClearProblem(const std::string& path);

  FileSourceConfig config_;
  BufferConfig buffer_config_;
  const Clock& clock_;
  ComponentLogger log_;
  RecordEncoder encoder_;
  ChunkBuilder builder_;
  platform::ChangeWatcher* watcher_ = nullptr;
  std::vector<std::unique_ptr<Tailed>> files_;
  std::vector<CheckpointId> pending_deletes_;
  // This source's entries of delivered.json (buffer/delivered_positions.h), read by
  // Start() for files without a usable checkpoint and dropped after the first scan.
  std::map<std::pair<uint64_t, uint64_t>, Checkpoint> delivered_;  // by (device, inode)
  std::set<std::filesystem::path> watched_dirs_;
  std::map<std::string, FileProblem> problems_;
  std::string scratch_;
  std::unique_ptr<char[]> read_buf_;  // kReadBlock bytes
  std::string decoded_;
  uint64_t status_version_ = 0;
  WallTime now_wall_{};  // read once per block, stamped on its records
  MonoTime now_mono_{};
  bool first_run_ = false;
  bool marked_started_ = false;
  bool polling_ = false;
  bool rescan_needed_ = false;
};

// FNV-1a 64 of `data`: the fingerprint of a file's first bytes.
uint64_t FingerprintOf(std::string_view data);

}  // namespace outpost
