// The journal export format parser; see journal_export.h.
#include "collect/journal_export.h"

#include <algorithm>
#include <cstring>

namespace outpost {

namespace {

// A binary field longer than this is taken for garbage rather than read past (journald
// itself refuses entries over 768 MiB; a length beyond 4 GiB is a corrupt stream).
constexpr uint64_t kMaxBinaryLength = uint64_t{1} << 32;

bool NameChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

}  // namespace

const JournalField* JournalEntry::Find(std::string_view name) const {
  for (const JournalField& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

JournalExportParser::JournalExportParser(size_t max_field_bytes)
    : max_field_bytes_(std::max<size_t>(max_field_bytes, 1)) {}

void JournalExportParser::Garbage() {
  ++errors_;
  entry_ = JournalEntry();
  entry_bytes_ = 0;
  name_.clear();
  field_ = JournalField();
  state_ = State::kSkip;
}

void JournalExportParser::StartField() {
  field_ = JournalField();
  field_.name = std::move(name_);
  name_.clear();
  keep_field_ = entry_.fields.size() < kJournalMaxFields;
  if (!keep_field_) entry_.truncated = true;
}

void JournalExportParser::Append(std::string_view bytes) {
  if (!keep_field_ || bytes.empty()) return;
  size_t room = max_field_bytes_ - std::min(max_field_bytes_, field_.value.size());
  const size_t entry_room = kJournalMaxEntryBytes - std::min(kJournalMaxEntryBytes, entry_bytes_);
  if (entry_room < room) room = entry_room;
  const size_t take = std::min(room, bytes.size());
  field_.value.append(bytes.data(), take);
  entry_bytes_ += take;
  if (take < bytes.size()) field_.truncated = true;
}

void JournalExportParser::EndField() {
  if (keep_field_) entry_.fields.push_back(std::move(field_));
  field_ = JournalField();
  state_ = State::kLineStart;
}

void JournalExportParser::Feed(std::string_view data, std::vector<JournalEntry>& out) {
  size_t i = 0;
  const size_t n = data.size();
  while (i < n) {
    switch (state_) {
      case State::kLineStart:
        if (data[i] == '\n') {  // an empty line: the entry is complete
          ++i;
          if (!entry_.fields.empty()) out.push_back(std::move(entry_));
          entry_ = JournalEntry();
          entry_bytes_ = 0;
          break;
        }
        state_ = State::kName;
        break;
      case State::kName: {
        const char c = data[i];
        if (c == '=') {
          ++i;
          if (name_.empty()) {
            Garbage();
            break;
          }
          StartField();
          state_ = State::kText;
        } else if (c == '\n') {
          ++i;
          StartField();
          len_have_ = 0;
          state_ = State::kLength;
        } else if (NameChar(c) && name_.size() < kJournalMaxNameBytes) {
          name_ += c;
          ++i;
        } else {
          Garbage();  // the offending byte is skipped with the rest of its line
        }
        break;
      }
      case State::kText: {
        const char* nl = static_cast<const char*>(std::memchr(data.data() + i, '\n', n - i));
        const size_t end = nl ? static_cast<size_t>(nl - data.data()) : n;
        Append(data.substr(i, end - i));
        i = end;
        if (nl) {
          ++i;
          EndField();
        }
        break;
      }
      case State::kLength:
        len_bytes_[len_have_++] = static_cast<unsigned char>(data[i++]);
        if (len_have_ == 8) {
          uint64_t len = 0;
          for (int b = 7; b >= 0; --b) len = (len << 8) | len_bytes_[b];
          if (len > kMaxBinaryLength) {
            Garbage();
            break;
          }
          remaining_ = len;
          state_ = remaining_ == 0 ? State::kBinaryEnd : State::kBinary;
        }
        break;
      case State::kBinary: {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, n - i));
        Append(data.substr(i, take));
        i += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::kBinaryEnd;
        break;
      }
      case State::kBinaryEnd:
        if (data[i] != '\n') {
          Garbage();
          break;
        }
        ++i;
        EndField();
        break;
      case State::kSkip: {
        const char* nl = static_cast<const char*>(std::memchr(data.data() + i, '\n', n - i));
        if (!nl) {
          i = n;
          break;
        }
        i = static_cast<size_t>(nl - data.data()) + 1;
        state_ = State::kSkipNewline;
        break;
      }
      case State::kSkipNewline:
        if (data[i] == '\n') {
          ++i;
          state_ = State::kLineStart;
        } else {
          state_ = State::kSkip;
        }
        break;
    }
  }
}

bool JournalExportParser::Finish() {
  const bool pending = !idle() && state_ != State::kSkipNewline && state_ != State::kSkip;
  entry_ = JournalEntry();
  entry_bytes_ = 0;
  name_.clear();
  field_ = JournalField();
  state_ = State::kLineStart;
  return pending;
}

}  // namespace outpost
