// The macOS unified log as `log stream --style ndjson` (and `log show --style ndjson`)
// writes it: one JSON object per line, e.g.
//
//   {"traceID":5073052195487748,"eventMessage":"Volume update ...","eventType":"logEvent",
//    "subsystem":"com.apple.bluetooth","category":"BTAudio","threadID":46308219,
//    "processImagePath":"\/usr\/sbin\/coreaudiod","senderImagePath":"\/System\/...",
//    "timestamp":"2026-10-07 10:19:55.713745+0800","messageType":"Default","processID":342,...}
//
// parsed into entries and turned into records, for the unified-log source that will run
// `log` as a child process the way the journal source runs journalctl (docs/macos.md
// says how it is to be wired; the source itself is not written yet). Pure parsing: it
// builds and is tested on every OS.
//
// Lines that are not entries are told apart: a banner `log` prints before the stream
// ("Filtering the log data using ..."), blank lines and `log show`'s closing
// {"count":N,"finished":1} are ignored; a line that starts like JSON but does not parse
// (cut, binary, nested deeper than kUnifiedLogMaxDepth, not an object) is garbage and
// counted. Lines longer than kUnifiedLogMaxLineBytes are never buffered whole: the
// reader skips to the next newline and counts them, so a hostile or broken producer
// cannot exhaust memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chunk/record_encoder.h"
#include "util/clock.h"

namespace outpost {

inline constexpr size_t kUnifiedLogMaxLineBytes = 4 << 20;
inline constexpr size_t kUnifiedLogMaxDepth = 32;

struct UnifiedLogEntry {
  std::optional<WallTime> time;  // "timestamp" parsed; nullopt when absent or malformed
  std::string timestamp;         // as written (microseconds and the zone offset)
  std::string message;           // eventMessage
  std::string message_type;      // messageType: Default, Info, Debug, Error, Fault
  std::string event_type;        // eventType: logEvent, signpostEvent, activityCreateEvent, ...
  std::string subsystem;
  std::string category;
  std::string process_path;           // processImagePath
  std::string sender_path;            // senderImagePath
  std::optional<int64_t> pid;         // processID
  std::optional<uint64_t> thread_id;  // threadID
  std::optional<uint64_t> trace_id;   // traceID
};

enum class UnifiedLogLine { kEntry, kIgnored, kGarbage };

// One line (without its newline; a trailing '\r' is allowed). kEntry fills `out`.
// kGarbage sets *error to a short reason ("not JSON", "not an object", ...).
UnifiedLogLine ParseUnifiedLogLine(std::string_view line, UnifiedLogEntry& out, std::string* error);

// "2026-10-07 10:19:55.713745+0800" (what `log` writes; 'T' and "+08:00" accepted too)
// -> the time, microseconds kept. nullopt when the text is not such a time.
std::optional<WallTime> ParseUnifiedLogTimestamp(std::string_view text);

// The record fields an entry adds after `source` (static fields may not use them).
bool IsUnifiedLogRecordField(std::string_view name);

// Appends the record for one entry to `out` (the whole NDJSON line): @timestamp from
// the entry (else `now`), then
//   message, [truncated], level (messageType in lower case), event_type, subsystem,
//   category, process (the file name of processImagePath), process_path, pid, sender
//   (the file name of senderImagePath), thread_id, trace_id
// each only when the entry has it (message always). A message longer than
// `max_message_bytes` is cut without splitting a character, with truncated: true.
void AppendUnifiedLogRecord(RecordEncoder& encoder, std::string& out, const UnifiedLogEntry& entry,
                            uint64_t max_message_bytes, WallTime now);

// Splits the child's output into lines, however it arrives in pieces, and parses them.
// Not thread-safe; one per stream.
class UnifiedLogReader {
 public:
  explicit UnifiedLogReader(size_t max_line_bytes = kUnifiedLogMaxLineBytes);

  // Parses every line `data` completes; entries are appended to `out`.
  void Feed(std::string_view data, std::vector<UnifiedLogEntry>& out);
  // End of input: a last line without a newline is parsed too.
  void Finish(std::vector<UnifiedLogEntry>& out);

  uint64_t entries() const { return entries_; }
  uint64_t ignored() const { return ignored_; }
  uint64_t garbage() const { return garbage_; }      // not parsable (includes oversized)
  uint64_t oversized() const { return oversized_; }  // longer than max_line_bytes
  // The reason for the last garbage line, for a status message.
  const std::string& last_error() const { return last_error_; }

 private:
  void Line(std::string_view line, std::vector<UnifiedLogEntry>& out);

  size_t max_line_bytes_;
  std::string pending_;    // an unfinished line
  bool skipping_ = false;  // inside an oversized line: drop up to the next newline
  uint64_t entries_ = 0;
  uint64_t ignored_ = 0;
  uint64_t garbage_ = 0;
  uint64_t oversized_ = 0;
  std::string last_error_;
};

}  // namespace outpost
