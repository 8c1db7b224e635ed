// JournalExportParser: the systemd journal export format
// (https://systemd.io/JOURNAL_EXPORT_FORMATS/), as `journalctl -o export` writes it,
// parsed incrementally: bytes may arrive in pieces of any size, split anywhere.
//
//   entry   := field* "\n"                      (an empty line ends an entry)
//   field   := NAME "=" text "\n"               (text holds no "\n")
//            | NAME "\n" len:uint64le bytes[len] "\n"   (binary-safe form)
//
// Hostile input cannot exhaust memory: a field value longer than max_field_bytes is
// cut (JournalField::truncated); an entry keeps at most kJournalMaxFields fields and
// kJournalMaxEntryBytes of values (later fields are dropped, JournalEntry::truncated).
// A line that is not a field (a name with characters other than A-Z, 0-9 and '_', or
// longer than 256 bytes), or a binary field not followed by "\n", is garbage: the
// entry it belongs to is dropped, the parser skips to the next empty line and counts
// the error. Not thread-safe; one per input stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace outpost {

inline constexpr size_t kJournalMaxFieldBytes = 1 << 20;
inline constexpr size_t kJournalMaxFields = 512;
inline constexpr size_t kJournalMaxEntryBytes = 4 << 20;
inline constexpr size_t kJournalMaxNameBytes = 256;

struct JournalField {
  std::string name;
  std::string value;  // raw bytes; may hold NUL, "\n" and invalid UTF-8
  bool truncated = false;
};

struct JournalEntry {
  std::vector<JournalField> fields;
  bool truncated = false;  // fields were dropped by the entry limits
  // The first field of that name, or null.
  const JournalField* Find(std::string_view name) const;
};

class JournalExportParser {
 public:
  explicit JournalExportParser(size_t max_field_bytes = kJournalMaxFieldBytes);

  // Parses `data`; every entry it completes is appended to `out`.
  void Feed(std::string_view data, std::vector<JournalEntry>& out);
  // End of input: an entry whose empty line never came is dropped. True when bytes of
  // an unfinished entry (or field) were pending.
  bool Finish();
  // Garbage lines or fields skipped so far.
  uint64_t errors() const { return errors_; }
  // True between entries (no bytes of an unfinished entry held).
  bool idle() const { return state_ == State::kLineStart && entry_.fields.empty(); }

 private:
  enum class State { kLineStart, kName, kText, kLength, kBinary, kBinaryEnd, kSkip, kSkipNewline };
  void StartField();
  void EndField();
  void Append(std::string_view bytes);
  void Garbage();

  size_t max_field_bytes_;
  State state_ = State::kLineStart;
  JournalEntry entry_;
  std::string name_;
  JournalField field_;
  bool keep_field_ = true;
  size_t entry_bytes_ = 0;
  unsigned char len_bytes_[8] = {};
  size_t len_have_ = 0;
  uint64_t remaining_ = 0;
  uint64_t errors_ = 0;
};

}  // namespace outpost
