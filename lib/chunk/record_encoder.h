// RecordEncoder: one record as one NDJSON line (DESIGN.md "Records and wire format").
//
// The fields every record of a stream shares (host, agent_id, stream, source and the
// static `fields`) are escaped once, when the encoder is built; per record only the
// timestamp, path, offset and message are written. Field order is fixed:
//   {"@timestamp":…,"host":…,"agent_id":…,"stream":…,"source":…,"path":…,"offset":…,
//    "message":…[,"truncated":true][,<static fields>…]}
// Static fields never replace a common field: such keys are skipped (reserved()).
// Not thread-safe (it caches the last formatted timestamp); one per stream.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/clock.h"

namespace outpost {

struct RecordContext {
  std::string host;
  std::string agent_id;
  std::string stream;
  std::string source;                         // "file", "journal", "check", ...
  std::map<std::string, std::string> fields;  // agent fields merged with the source's
};

class RecordEncoder {
 public:
  explicit RecordEncoder(const RecordContext& context);

  // Appends one log-line record, newline included. `path_json` is the file's path
  // already quoted with JsonQuote (it is the same for every line of a file). Neither
  // `path_json` nor `message` may point into `out`.
  void AppendLogLine(std::string& out, WallTime time, std::string_view path_json, uint64_t offset,
                     std::string_view message, bool truncated);

  // Appends one record of another kind (journal entries): the common fields, then
  // `own_fields_json` (",\"message\":…" pairs, already encoded), then the static
  // fields, newline included.
  void AppendRecord(std::string& out, WallTime time, std::string_view own_fields_json);

  // Static field keys left out because they would replace a common field.
  const std::vector<std::string>& reserved() const { return reserved_; }

 private:
  std::string_view Timestamp(WallTime time);

  std::string prefix_;  // ,"host":…,"source":… (after the timestamp)
  std::string suffix_;  // ,"k":"v"… static fields
  std::string tail_;    // suffix_ and the record's end, "}\n"
  std::vector<std::string> reserved_;
  // No sentinel value: every millisecond, -1 (1969-12-31T23:59:59.999Z) included, is a
  // valid time (found by tests/fuzz/ndjson_fuzz.cc).
  std::optional<int64_t> cached_ms_;
  std::string cached_ts_;
};

// True for the field names every record carries (a static field may not use them).
bool IsCommonRecordField(std::string_view name);

}  // namespace outpost
