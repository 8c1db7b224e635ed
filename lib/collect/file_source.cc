// The file tail source; the rules are in file_source.h.
#include "collect/file_source.h"

#include <algorithm>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "buffer/delivered_positions.h"
#include "collect/glob.h"
#include "collect/text_encoding.h"
#include "util/json_text.h"
#include "util/text.h"
#include "util/units.h"

namespace outpost {

namespace fs = std::filesystem;
using platform::FileError;
using platform::FileInfo;
using platform::FileKind;

struct FileSource::Tailed {
  fs::path path;
  std::string path_json;
  platform::FileIdentity id;
  uint64_t fingerprint = 0;
  uint64_t fingerprint_len = 0;
  std::unique_ptr<platform::ReadableFile> handle;
  uint64_t size = 0;       // last size seen
  uint64_t read = 0;       // next byte to read
  uint64_t emitted = 0;    // end of the last record in the open chunk
  uint64_t committed = 0;  // end of the last record in buffer.db
  uint64_t inflight = 0;   // offset in the batch being committed
  bool has_inflight = false;
  bool dirty = true;        // checkpoint row differs from what is stored
  std::string carry;        // bytes [read - carry.size(), read) not yet turned into records
  MonoTime carry_since{};   // when the partial line last grew
  bool skipping = false;    // inside an over-long line: its rest is dropped
  uint64_t skip_start = 0;  // file offset of that line
  std::string skip_head;    // its first bytes (raw)
  std::unique_ptr<MultilineJoiner> joiner;
  bool rotated = false;  // no glob path leads to it any more: read to its end, retire
  bool seen = false;     // found by the current scan
  bool changed = true;   // there may be data to read
  bool binary = false;   // refused: looks binary
  bool bom_checked = false;
  // A partial line was sent after kPartialLineWait and ended at partial_end: when the
  // next bytes there are just its line end, they close that line (no empty record).
  bool partial_sent = false;
  uint64_t partial_end = 0;
  MonoTime last_data{};
};

uint64_t FingerprintOf(std::string_view data) { return Fnv1a64(data); }

namespace {

bool IsCompressedName(const std::string& name) {
  for (std::string_view ext : {".gz", ".bz2", ".xz", ".zst", ".zip", ".lz4"}) {
    if (name.size() >= ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0)
      return true;
  }
  return false;
}

std::string KindName(FileKind kind) {
  switch (kind) {
    case FileKind::kDirectory:
      return "is a directory";
    case FileKind::kFifo:
      return "is a FIFO";
    default:
      return "is not a regular file";
  }
}

bool IsCarriageReturn(TextEncoding enc, std::string_view unit) {
  switch (enc) {
    case TextEncoding::kUtf16Le:
      return unit.size() == 2 && unit[0] == '\r' && unit[1] == '\0';
    case TextEncoding::kUtf16Be:
      return unit.size() == 2 && unit[0] == '\0' && unit[1] == '\r';
    default:
      return unit.size() == 1 && unit[0] == '\r';
  }
}

std::string FileErrorCause(FileError e) {
  switch (e) {
    case FileError::kNotFound:
      return "vanished";
    case FileError::kPermissionDenied:
      return "permission denied";
    case FileError::kNotRegular:
      return "is not a regular file";
    default:
      return "cannot be read";
  }
}

}  // namespace

FileSource::FileSource(const FileSourceConfig& config, const RecordContext& context,
                       const BufferConfig& buffer, const Clock& clock, const Logger& logger)
    : config_(config),
      buffer_config_(buffer),
      clock_(clock),
      log_(logger, "source." + config.name),
      encoder_(context),
      builder_(config.name, buffer.chunk_max_bytes, buffer.chunk_max_age,
               buffer.compression_level) {
  for (const std::string& key : encoder_.reserved())
    log_.Warn("field '" + key + "' is left out: it would replace a field every record has");
}

FileSource::~FileSource() = default;

Status FileSource::Start(BufferStore& store, platform::ChangeWatcher& watcher) {
  watcher_ = &watcher;
  polling_ = !watcher.native();
  Result<std::vector<Checkpoint>> cps = store.LoadCheckpoints(config_.name);
  if (!cps.ok()) return cps.status().WithContext("loading checkpoints of " + config_.name);
  const std::string started_key = "source." + config_.name + ".started";
  Result<std::optional<std::string>> started = store.GetState(started_key);
  if (!started.ok()) return started.status();
  first_run_ = cps->empty() && !started->has_value();
  Result<DeliveredPositions> delivered =
      LoadDeliveredPositions(DeliveredPositionsPath(store.file()));
  if (!delivered.ok()) {
    log_.Warn(delivered.status().message());
  } else if (auto it = delivered->find(config_.name); it != delivered->end()) {
    for (Checkpoint& d : it->second) delivered_[{d.device, d.inode}] = std::move(d);
  }
  for (const Checkpoint& cp : *cps) {
    if (!cp.cursor.empty()) continue;  // not a file position
    if (!ResumeFromCheckpoint(cp)) {
      log_.Info("checkpoint for " + cp.path + " dropped: the file is gone");
      pending_deletes_.push_back({cp.source, cp.device, cp.inode});
    }
  }
  ScanGlobs(/*initial=*/true);
  delivered_.clear();
  return Status::Ok();
}

Status FileSource::MarkStarted(BufferStore& store) {
  if (!first_run_ || marked_started_) return Status::Ok();
  Status s = store.SetState("source." + config_.name + ".started", "1");
  if (s.ok()) marked_started_ = true;
  return s;
}

void FileSource::ScanGlobs(bool initial) {
  rescan_needed_ = false;
  const MonoTime now = clock_.Monotonic();
  std::map<std::pair<uint64_t, uint64_t>, Tailed*> by_id;
  for (auto& f : files_) {
    f->seen = false;
    if (f->handle) by_id[{f->id.device, f->id.inode}] = f.get();  // not the retired
  }
  std::unordered_set<std::string> matched;
  std::unordered_set<std::string> scan_problems;  // directory-level problems seen now
  for (const std::string& pattern : config_.paths) {
    GlobExpansion exp = ExpandGlob(pattern, config_.exclude);
    for (const std::string& e : exp.errors) {
      const std::string key = GlobRoot(pattern).string();
      scan_problems.insert(key);
      Problem(key, "unreadable", e);
    }
    if (exp.limited) {
      scan_problems.insert(pattern);
      Problem(pattern, "too many matches",
              "'" + pattern + "' matches too many files; some are left out");
    }
    for (const fs::path& dir : exp.directories) {
      if (polling_ || watched_dirs_.count(dir)) continue;
      std::string msg;
      if (watcher_ && watcher_->WatchDirectory(dir, &msg)) {
        watched_dirs_.insert(dir);
      } else {
        polling_ = true;
        log_.Warn("cannot watch " + dir.string() + " (" + msg + "); polling every " +
                  FormatDuration(config_.poll_interval) + " instead");
      }
    }
    const bool wants_compressed = IsCompressedName(pattern);
    for (const fs::path& m : exp.matches) {
      const std::string ms = m.string();
      if (!wants_compressed && IsCompressedName(ms)) continue;
      matched.insert(ms);
      FileInfo info;
      std::string msg;
      const FileError err = platform::StatPath(m, info, &msg);
      if (err != FileError::kNone) {
        if (err != FileError::kNotFound) Problem(ms, FileErrorCause(err), ms + ": " + msg);
        continue;
      }
      if (info.kind != FileKind::kRegular) {
        // A directory that a wildcard happens to match ("/var/log/*") is not a
        // problem; one named outright, a FIFO or a device is.
        if (info.kind != FileKind::kDirectory || !HasGlobMeta(pattern))
          Problem(ms, KindName(info.kind), ms + " " + KindName(info.kind) + "; not tailed");
        continue;
      }
      auto known_it = by_id.find({info.id.device, info.id.inode});
      Tailed* known = known_it == by_id.end() ? nullptr : known_it->second;
      if (known != nullptr) {
        if (known->seen) continue;  // a second name (hard link) for a file already read
        known->seen = true;
        if (known->path != m) {
          log_.Info(known->path.string() + " is now " + ms);
          known->path = m;
          known->path_json = JsonQuote(ms);
          known->dirty = true;
          ++status_version_;
        }
        if (known->rotated) known->rotated = false;
        continue;
      }
      const bool skip_old = initial && first_run_ && config_.start_at == StartAt::kEnd;
      // No checkpoint for a file that delivered.json knows (buffer.db was replaced, or
      // the checkpoint was damaged): what was delivered is not read again.
      const std::optional<uint64_t> delivered =
          initial ? DeliveredOffset(m, info) : std::optional<uint64_t>();
      if (delivered)
        log_.Info(ms + " has no usable checkpoint; its lines up to byte " +
                  std::to_string(*delivered) +
                  " were delivered (delivered.json): reading on from there");
      const uint64_t start = delivered ? *delivered : skip_old ? info.size : 0;
      if (Tailed* t = Track(m, info, start, false)) {
        if (delivered) t->dirty = true;
        t->seen = true;
        by_id[{t->id.device, t->id.inode}] = t;
        if (!initial) log_.Info("new file " + ms);
      }
    }
  }
  for (auto& f : files_) {
    if (!f->seen && !f->rotated) {
      f->rotated = true;
      f->changed = true;
      f->last_data = now;
      log_.Info(f->path.string() + " was rotated or removed; reading it to its end");
      ++status_version_;
    }
  }
  // Problems of paths that no longer match are history; the log has them.
  // Directory-level problems last as long as scans report them.
  for (auto it = problems_.begin(); it != problems_.end();) {
    const bool dir_level =
        it->second.cause == "unreadable" || it->second.cause == "too many matches";
    if ((dir_level && !scan_problems.count(it->first)) ||
        (!dir_level && !matched.count(it->first))) {
      if (dir_level) log_.Info(it->first + " can be read again");
      it = problems_.erase(it);
      ++status_version_;
    } else {
      ++it;
    }
  }
}

FileSource::Tailed* FileSource::Track(const fs::path& path, const FileInfo& stat_info,
                                      uint64_t offset, bool rotated) {
  FileError err = FileError::kNone;
  std::string msg;
  std::unique_ptr<platform::ReadableFile> handle = platform::OpenReadable(path, err, msg);
  const std::string ps = path.string();
  if (!handle) {
    if (err == FileError::kNotFound) {
      log_.Debug(ps + " vanished before it could be opened");
    } else {
      Problem(ps, FileErrorCause(err), "cannot open " + ps + ": " + msg);
    }
    return nullptr;
  }
  FileInfo info;
  if (!handle->Stat(info, &msg)) {
    Problem(ps, "cannot be read", "cannot stat " + ps + ": " + msg);
    return nullptr;
  }
  // Replaced between the scan and the open: the open file is the one we read, from 0.
  if (!(info.id == stat_info.id)) offset = 0;
  auto t = std::make_unique<Tailed>();
  t->path = path;
  t->path_json = JsonQuote(ps);
  t->id = info.id;
  t->handle = std::move(handle);
  t->size = info.size;
  t->read = t->emitted = t->committed = std::min(offset, info.size);
  t->rotated = rotated;
  t->last_data = clock_.Monotonic();
  if (config_.multiline)
    t->joiner = std::make_unique<MultilineJoiner>(*config_.multiline, config_.max_line_bytes);
  ClearProblem(ps);
  Tailed* raw = t.get();
  files_.push_back(std::move(t));
  ++status_version_;
  UpdateFingerprint(*raw);
  return raw;
}

bool FileSource::HeadMatches(const fs::path& p, uint64_t fingerprint, uint64_t length) const {
  if (length == 0) return true;
  std::string msg;
  FileError err;
  auto h = platform::OpenReadable(p, err, msg);
  if (!h) return false;
  std::string head(length, '\0');
  const int64_t n = h->ReadAt(0, head.data(), head.size(), &msg);
  return n == static_cast<int64_t>(head.size()) && FingerprintOf(head) == fingerprint;
}

std::optional<uint64_t> FileSource::DeliveredOffset(const fs::path& p, const FileInfo& info) const {
  const auto it = delivered_.find({info.id.device, info.id.inode});
  if (it == delivered_.end()) return std::nullopt;
  const Checkpoint& d = it->second;
  if (d.offset == 0 || d.offset > info.size || d.fingerprint_len > kFingerprintBytes ||
      !HeadMatches(p, d.fingerprint, d.fingerprint_len))
    return std::nullopt;
  return d.offset;
}

bool FileSource::ResumeFromCheckpoint(const Checkpoint& cp) {
  auto verify = [&](const fs::path& p, FileInfo& info) {
    std::string msg;
    if (platform::StatPath(p, info, &msg) != FileError::kNone) return false;
    if (info.kind != FileKind::kRegular || info.id.device != cp.device || info.id.inode != cp.inode)
      return false;
    return cp.fingerprint_len <= kFingerprintBytes &&
           HeadMatches(p, cp.fingerprint, cp.fingerprint_len);
  };
  auto resume = [&](const fs::path& p, const FileInfo& info, bool moved) {
    // Shorter than the checkpoint: truncated in place while the agent was down, or a
    // damaged checkpoint; delivered.json may still know how far it was delivered.
    const bool shrank = cp.offset > info.size;
    const std::optional<uint64_t> delivered =
        shrank ? DeliveredOffset(p, info) : std::optional<uint64_t>();
    if (shrank && delivered)
      log_.Info(p.string() + " is shorter than its checkpoint; its first bytes are unchanged and " +
                "its lines up to byte " + std::to_string(*delivered) +
                " were delivered (delivered.json): reading on from there");
    else if (shrank)
      log_.Info(p.string() +
                " is shorter than when the agent stopped (truncated in place); "
                "reading it from the start");
    const uint64_t start = !shrank ? cp.offset : delivered ? *delivered : 0;
    Tailed* t = Track(p, info, start, /*rotated=*/moved);
    if (t == nullptr) return false;
    t->committed = start;
    t->dirty = moved || shrank;
    t->fingerprint = cp.fingerprint;
    t->fingerprint_len = cp.fingerprint_len;
    UpdateFingerprint(*t);
    return true;
  };
  FileInfo info;
  const fs::path path(cp.path);
  if (verify(path, info)) return resume(path, info, false);
  // Rotated while the agent was down: look for the same file in its directory.
  std::error_code ec;
  for (fs::directory_iterator it(path.parent_path(), ec), end; !ec && it != end; it.increment(ec)) {
    if (verify(it->path(), info)) {
      log_.Info(cp.path + " was rotated while the agent was stopped; reading " +
                it->path().string() + " to its end first");
      return resume(it->path(), info, true);
    }
  }
  return false;
}

void FileSource::UpdateFingerprint(Tailed& f) {
  if (f.fingerprint_len >= kFingerprintBytes || f.size <= f.fingerprint_len) return;
  std::string head(std::min<uint64_t>(f.size, kFingerprintBytes), '\0');
  std::string msg;
  const int64_t n = f.handle->ReadAt(0, head.data(), head.size(), &msg);
  if (n <= 0) return;
  head.resize(static_cast<size_t>(n));
  f.fingerprint = FingerprintOf(head);
  f.fingerprint_len = head.size();
  f.dirty = true;
}

void FileSource::OnEvents(const platform::WatchEvents& events) {
  if (events.overflow) {
    rescan_needed_ = true;
    for (auto& f : files_) f->changed = true;
  }
  if (events.changed.empty()) return;
  std::unordered_map<std::string, Tailed*> by_path;
  for (auto& f : files_) by_path[f->path.string()] = f.get();
  for (const fs::path& p : events.changed) {
    // A watched directory deleted or moved: its watch is gone; the rescan watches
    // whatever directory has that name by then.
    if (watched_dirs_.erase(p) > 0) {
      rescan_needed_ = true;
      for (auto& f : files_) f->changed = true;
      continue;
    }
    bool tracked = false;
    if (auto it = by_path.find(p.string()); it != by_path.end()) {
      Tailed* f = it->second;
      tracked = true;
      f->changed = true;
      FileInfo info;
      std::string msg;
      if (platform::StatPath(p, info, &msg) != FileError::kNone || !(info.id == f->id))
        rescan_needed_ = true;  // renamed or deleted under its name
    }
    if (tracked || rescan_needed_) continue;
    const std::string ps = p.string();
    for (const std::string& pattern : config_.paths) {
      const std::string root = GlobRoot(pattern).string();
      if (GlobMatch(pattern, ps) ||
          (pattern.find("**") != std::string::npos && ps.rfind(root, 0) == 0)) {
        rescan_needed_ = true;
        break;
      }
    }
  }
}

void FileSource::Rescan() { ScanGlobs(/*initial=*/false); }

FileSource::ReadOutcome FileSource::Read(bool flush_all) {
  if (rescan_needed_) ScanGlobs(false);
  // Rotated files first: a file is read to its end before its successor.
  for (int pass = 0; pass < 2; ++pass) {
    for (auto& f : files_) {
      if (f->rotated != (pass == 0)) continue;
      if (!f->changed && !polling_ && !f->rotated && !flush_all) continue;
      if (ReadFile(*f, flush_all) == ReadOutcome::kChunkFull) return ReadOutcome::kChunkFull;
      f->changed = false;
      // End of input (--once): a rotated file read to its end is done with now; the
      // next run may be hours away, so there is no point in waiting kRotateWait.
      if (flush_all && f->rotated && f->handle && f->read >= f->size && f->carry.empty() &&
          !f->skipping && !(f->joiner && f->joiner->pending()))
        Retire(*f);
    }
  }
  return ReadOutcome::kIdle;
}

void FileSource::Stamp() {
  now_wall_ = clock_.Now();
  now_mono_ = clock_.Monotonic();
}

FileSource::ReadOutcome FileSource::ReadFile(Tailed& f, bool flush_all) {
  if (!f.handle || f.binary) return ReadOutcome::kIdle;
  Stamp();
  const std::string ps = f.path.string();
  for (;;) {
    // Lines left over from a chunk that filled up come first.
    if (!f.carry.empty() && FindNewline(config_.encoding, f.carry) != std::string_view::npos) {
      scratch_.swap(f.carry);
      f.carry.clear();
      if (ProcessLines(f, scratch_, f.read - scratch_.size())) return ReadOutcome::kChunkFull;
    }
    FileInfo info;
    std::string msg;
    if (!f.handle->Stat(info, &msg)) {
      Problem(ps, "cannot be read", "cannot stat " + ps + ": " + msg);
      return ReadOutcome::kIdle;
    }
    f.size = info.size;
    if (info.size < f.read) {
      log_.Info(ps +
                " shrank below the read offset (truncated in place); reading it from the "
                "start");
      FlushPending(f, /*partial_too=*/true);
      f.read = f.emitted = 0;
      f.carry.clear();
      f.skipping = false;
      f.fingerprint = f.fingerprint_len = 0;
      f.bom_checked = false;
      f.partial_sent = false;
      f.dirty = true;
      if (builder_.Full()) return ReadOutcome::kChunkFull;
    }
    if (f.read >= info.size) break;
    // Read one block. Only a partial line carried over from the block before is
    // copied; whole lines are encoded straight from the read buffer.
    if (!read_buf_) read_buf_ = std::make_unique<char[]>(kReadBlock);
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kReadBlock, info.size - f.read));
    const int64_t n = f.handle->ReadAt(f.read, read_buf_.get(), want, &msg);
    if (n < 0) {
      Problem(ps, "cannot be read", "cannot read " + ps + ": " + msg);
      return ReadOutcome::kIdle;
    }
    if (n == 0) break;
    std::string_view block(read_buf_.get(), static_cast<size_t>(n));
    if (f.read == 0 && LooksBinary(config_.encoding, block.substr(0, 8192))) {
      f.binary = true;
      Problem(ps, "binary file", ps + " looks binary (NUL bytes in its first block); not tailed");
      return ReadOutcome::kIdle;
    }
    uint64_t base = f.read - f.carry.size();
    f.read += static_cast<uint64_t>(n);
    ++status_version_;
    Stamp();
    f.last_data = now_mono_;
    f.carry_since = f.last_data;
    if (f.fingerprint_len < kFingerprintBytes) UpdateFingerprint(f);
    if (!f.carry.empty() && CodeUnitBytes(config_.encoding) == 1) {
      const size_t nl = block.find('\n');
      if (nl != std::string_view::npos) {
        // Complete the carried line with the head of this block, then go on in place.
        scratch_.swap(f.carry);
        f.carry.clear();
        scratch_.append(block.data(), nl + 1);
        const bool full = ProcessLines(f, scratch_, base);
        block.remove_prefix(nl + 1);
        if (full) {
          f.carry.append(block);
          return ReadOutcome::kChunkFull;
        }
        base += scratch_.size();
      }
    }
    if (!f.carry.empty()) {
      scratch_.swap(f.carry);
      f.carry.clear();
      scratch_.append(block);
      block = scratch_;
    }
    if (ProcessLines(f, block, base)) return ReadOutcome::kChunkFull;
  }
  ClearProblem(ps);
  if (flush_all && f.joiner) {
    if (std::optional<LogLine> rec = f.joiner->Flush(now_mono_, /*force=*/true))
      AppendRecord(f, *rec);
  }
  return builder_.Full() ? ReadOutcome::kChunkFull : ReadOutcome::kIdle;
}

bool FileSource::ProcessLines(Tailed& f, std::string_view data, uint64_t base) {
  const TextEncoding enc = config_.encoding;
  const size_t unit = CodeUnitBytes(enc);
  size_t pos = 0;
  if (base == 0 && !f.bom_checked) {
    f.bom_checked = true;
    pos = ByteOrderMarkLength(enc, data);
    if (pos > 0 && f.emitted == 0) f.emitted = pos;
  }
  const std::string_view all(data);
  if (f.partial_sent && base + pos == f.partial_end && data.size() - pos >= unit) {
    f.partial_sent = false;
    const size_t nl = FindNewline(enc, all.substr(pos));
    if (nl == 0 || (nl == unit && IsCarriageReturn(enc, all.substr(pos, unit)))) {
      pos += nl + unit;
      if (f.emitted == f.partial_end) {
        f.emitted = base + pos;
        f.dirty = true;
      }
    }
  } else if (f.partial_sent && base + pos != f.partial_end) {
    f.partial_sent = false;
  }
  for (;;) {
    if (builder_.Full()) {
      f.carry.assign(data.substr(pos));
      return true;
    }
    const size_t nl = FindNewline(enc, all.substr(pos));
    if (nl == std::string_view::npos) break;
    const size_t end = pos + nl + unit;
    if (f.skipping) {
      f.skipping = false;
      EmitLine(f, f.skip_head, f.skip_start, base + end, /*cut=*/true);
    } else {
      EmitLine(f, all.substr(pos, nl), base + pos, base + end, false);
    }
    pos = end;
  }
  const size_t rest = data.size() - pos;
  const size_t max_raw = static_cast<size_t>(config_.max_line_bytes) * unit + unit;
  if (f.skipping) {
    // Still inside an over-long line: its bytes are dropped as they arrive.
  } else if (rest > max_raw) {
    f.skipping = true;
    f.skip_start = base + pos;
    f.skip_head.assign(data.substr(pos, max_raw));
  } else {
    f.carry.assign(data.substr(pos));
  }
  return false;
}

void FileSource::EmitLine(Tailed& f, std::string_view raw, uint64_t offset, uint64_t end,
                          bool cut) {
  std::string_view text;
  if (config_.encoding == TextEncoding::kUtf8) {
    text = raw;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  } else {
    decoded_.clear();
    DecodeLine(config_.encoding, raw, decoded_);
    text = decoded_;
  }
  bool truncated = cut;
  std::string cut_text;
  if (text.size() > config_.max_line_bytes) {
    cut_text.assign(text);
    TruncateUtf8(cut_text, static_cast<size_t>(config_.max_line_bytes));
    text = cut_text;
    truncated = true;
  }
  if (f.joiner) {
    LogLine line{std::string(text), offset, end, truncated};
    if (std::optional<LogLine> rec = f.joiner->Push(std::move(line), now_mono_))
      AppendRecord(f, *rec);
    return;
  }
  encoder_.AppendLogLine(builder_.body(), now_wall_, f.path_json, offset, text, truncated);
  builder_.Added(now_wall_, now_mono_);
  f.emitted = end;
  f.dirty = true;
}

void FileSource::AppendRecord(Tailed& f, const LogLine& line) {
  encoder_.AppendLogLine(builder_.body(), now_wall_, f.path_json, line.offset, line.text,
                         line.truncated);
  builder_.Added(now_wall_, now_mono_);
  f.emitted = line.end_offset;
  f.dirty = true;
}

void FileSource::FlushPending(Tailed& f, bool partial_too) {
  if (partial_too) {
    if (f.skipping) {
      f.skipping = false;
      EmitLine(f, f.skip_head, f.skip_start, f.read, /*cut=*/true);
    } else if (!f.carry.empty() &&
               FindNewline(config_.encoding, f.carry) == std::string_view::npos) {
      EmitLine(f, f.carry, f.read - f.carry.size(), f.read, false);
      f.carry.clear();
    }
  }
  if (f.joiner) {
    if (std::optional<LogLine> rec = f.joiner->Flush(now_mono_, /*force=*/true))
      AppendRecord(f, *rec);
  }
}

FileSource::ReadOutcome FileSource::Tick() {
  Stamp();
  const MonoTime now = now_mono_;
  for (auto& fp : files_) {
    Tailed& f = *fp;
    if (builder_.Full()) return ReadOutcome::kChunkFull;
    if (f.joiner) {
      if (std::optional<LogLine> rec = f.joiner->Flush(now, /*force=*/false)) AppendRecord(f, *rec);
    }
    const bool partial =
        f.skipping ||
        (!f.carry.empty() && FindNewline(config_.encoding, f.carry) == std::string_view::npos);
    if (partial && now - f.carry_since >= kPartialLineWait) {
      if (f.skipping) {
        f.skipping = false;
        EmitLine(f, f.skip_head, f.skip_start, f.read, true);
      } else {
        EmitLine(f, f.carry, f.read - f.carry.size(), f.read, false);
        f.carry.clear();
        f.partial_sent = true;
        f.partial_end = f.read;
      }
    }
    if (f.rotated && f.read >= f.size && f.carry.empty() && !f.skipping &&
        !(f.joiner && f.joiner->pending()) && now - f.last_data >= kRotateWait) {
      f.changed = true;  // one last look before letting go
      if (ReadFile(f, false) == ReadOutcome::kChunkFull) return ReadOutcome::kChunkFull;
      if (f.read >= f.size && f.carry.empty() && !f.skipping) Retire(f);
    }
  }
  files_.erase(
      std::remove_if(files_.begin(), files_.end(), [](const auto& f) { return !f->handle; }),
      files_.end());
  return builder_.Full() ? ReadOutcome::kChunkFull : ReadOutcome::kIdle;
}

void FileSource::Retire(Tailed& f) {
  // Its last records, if any, are in the open chunk; the delete goes into the same
  // commit as that chunk (or a later one), never an earlier one.
  log_.Info("done with " + f.path.string() + " (rotated, read to its end)");
  pending_deletes_.push_back({config_.name, f.id.device, f.id.inode});
  f.handle.reset();
  ++status_version_;
}

std::optional<MonoTime> FileSource::Deadline() const {
  std::optional<MonoTime> d;
  auto consider = [&](MonoTime t) {
    if (!d || t < *d) d = t;
  };
  for (const auto& f : files_) {
    if (f->joiner) {
      if (auto j = f->joiner->Deadline()) consider(*j);
    }
    if (f->skipping ||
        (!f->carry.empty() && FindNewline(config_.encoding, f->carry) == std::string_view::npos))
      consider(f->carry_since + kPartialLineWait);
    if (f->rotated) consider(f->last_data + kRotateWait);
  }
  return d;
}

void FileSource::CollectCheckpoints(CommitBatch& batch) {
  for (auto& f : files_) {
    if (!f->handle || !f->dirty) continue;
    Checkpoint cp;
    cp.source = config_.name;
    cp.device = f->id.device;
    cp.inode = f->id.inode;
    cp.fingerprint = f->fingerprint;
    cp.fingerprint_len = f->fingerprint_len;
    cp.path = f->path.string();
    cp.offset = f->emitted;
    batch.upserts.push_back(std::move(cp));
    f->inflight = f->emitted;
    f->has_inflight = true;
    f->dirty = false;
  }
  // A delete is for a file that is gone (retired, or a checkpoint that no longer
  // matches its file). When a file now read has the same identity (a reused inode, a
  // file rewritten in place), its row must stay: the store applies upserts before
  // deletes, so such a delete would remove the new file's checkpoint.
  for (CheckpointId& id : pending_deletes_) {
    const bool live = std::any_of(files_.begin(), files_.end(), [&](const auto& f) {
      return f->handle && f->id.device == id.device && f->id.inode == id.inode;
    });
    if (!live) batch.deletes.push_back(std::move(id));
  }
  pending_deletes_.clear();
}

void FileSource::Committed() {
  for (auto& f : files_) {
    if (!f->has_inflight) continue;
    f->committed = f->inflight;
    f->has_inflight = false;
  }
}

bool FileSource::HasCheckpointChanges() const {
  if (!pending_deletes_.empty()) return true;
  for (const auto& f : files_)
    if (f->handle && f->dirty) return true;
  return false;
}

std::string FileSource::StatusJson() const {
  const FileSourceStatus st = status();
  nlohmann::json js;
  nlohmann::json files = nlohmann::json::array();
  for (const TailedFileStatus& f : st.files)
    files.push_back({{"path", f.path},
                     {"device", f.device},
                     {"inode", f.inode},
                     {"size", f.size},
                     {"read", f.read},
                     {"committed", f.committed},
                     {"rotated", f.rotated}});
  js["files"] = std::move(files);
  nlohmann::json problems = nlohmann::json::array();
  for (const FileProblem& p : st.problems)
    problems.push_back(
        {{"path", p.path}, {"cause", p.cause}, {"message", p.message}, {"since_ms", p.since_ms}});
  js["problems"] = std::move(problems);
  return js.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

FileSourceStatus FileSource::status() const {
  FileSourceStatus s;
  s.name = config_.name;
  s.polling = polling_;
  for (const auto& f : files_) {
    if (!f->handle) continue;
    s.files.push_back(
        {f->path.string(), f->id.device, f->id.inode, f->size, f->read, f->committed, f->rotated});
  }
  for (const auto& [path, p] : problems_) s.problems.push_back(p);
  return s;
}

void FileSource::Problem(const std::string& path, const std::string& cause,
                         const std::string& message) {
  auto it = problems_.find(path);
  if (it != problems_.end() && it->second.cause == cause) return;
  log_.Warn(message);
  FileProblem p;
  p.path = path;
  p.cause = cause;
  p.message = message;
  p.since_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
          .count();
  problems_[path] = std::move(p);
  ++status_version_;
}

void FileSource::ClearProblem(const std::string& path) {
  auto it = problems_.find(path);
  if (it == problems_.end()) return;
  if (it->second.cause != "binary file") log_.Info(path + " is readable again");
  problems_.erase(it);
  ++status_version_;
}

}  // namespace outpost
