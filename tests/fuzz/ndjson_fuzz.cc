// Fuzzes the NDJSON record encoder with a round trip: records built from the input
// (context, static fields, path, message, offset, time) are encoded, each line is
// parsed back with nlohmann-json, and every field must come back as written, escaping
// included: valid UTF-8 unchanged, each byte of invalid UTF-8 as the text "\xNN"
// (json_text.h). Anything else aborts.
//
// Input: 8 bytes time (ms, signed), 8 bytes offset, 1 flags byte, then parts
// (fuzz_input.h): host, agent_id, stream, source, path, message, second message, and
// pairs of static field key and value.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chunk/record_encoder.h"
#include "fuzz/fuzz_input.h"
#include "util/json_text.h"

namespace {

[[noreturn]] void Fail(const std::string& what, const std::string& ndjson) {
  std::fprintf(stderr, "ndjson round trip: %s\nline: %s\n", what.c_str(), ndjson.c_str());
  std::abort();
}

// What a JSON parser reads back for `raw`: valid UTF-8 sequences as they are, every
// other byte as the four characters "\xNN" (lower-case hex).
std::string Expected(std::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  size_t i = 0;
  while (i < raw.size()) {
    size_t len = 0;
    for (size_t n = 1; n <= 4 && i + n <= raw.size(); ++n)
      if (outpost::fuzz::IsValidUtf8(raw.substr(i, n))) {
        len = n;
        break;
      }
    if (len > 0) {
      out.append(raw.substr(i, len));
      i += len;
    } else {
      const auto c = static_cast<uint8_t>(raw[i]);
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
      ++i;
    }
  }
  return out;
}

void CheckText(const nlohmann::json& j, const char* key, std::string_view raw,
               const std::string& line) {
  if (!j.contains(key) || !j[key].is_string()) Fail(std::string("no string '") + key + "'", line);
  if (j[key].get<std::string>() != Expected(raw))
    Fail(std::string("'") + key + "' changed in the round trip", line);
}

void CheckLine(const std::string& line, const outpost::RecordContext& ctx, outpost::WallTime time,
               std::string_view path, uint64_t offset, std::string_view message, bool truncated) {
  if (line.empty() || line.back() != '\n' || line.find('\n') != line.size() - 1)
    Fail("not exactly one line", line);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const std::exception& e) {
    Fail(std::string("not JSON: ") + e.what(), line);
  }
  if (!j.is_object()) Fail("not an object", line);
  if (j.value("@timestamp", std::string()) != outpost::FormatRfc3339Millis(time))
    Fail("wrong @timestamp", line);
  CheckText(j, "host", ctx.host, line);
  CheckText(j, "agent_id", ctx.agent_id, line);
  CheckText(j, "stream", ctx.stream, line);
  CheckText(j, "source", ctx.source, line);
  CheckText(j, "path", path, line);
  CheckText(j, "message", message, line);
  if (!j["offset"].is_number_unsigned() || j["offset"].get<uint64_t>() != offset)
    Fail("wrong offset", line);
  if (truncated != j.contains("truncated")) Fail("wrong truncated", line);
  if (truncated && j["truncated"] != true) Fail("truncated is not true", line);
  // Static fields: each one not named like a common field, under its escaped name.
  // Two keys may escape to the same text ("\xff" and the byte 0xFF, by design); then
  // the object holds fewer keys and their values are not compared.
  std::map<std::string, std::string> fields;
  bool collided = false;
  for (const auto& [k, v] : ctx.fields)
    if (!outpost::IsCommonRecordField(k))
      collided |= !fields.emplace(Expected(k), Expected(v)).second;
  const size_t common = 8 + (truncated ? 1 : 0);
  if (collided) return;
  if (j.size() != common + fields.size()) Fail("wrong number of keys", line);
  for (const auto& [k, v] : fields)
    if (!j.contains(k) || j[k] != v) Fail("static field '" + k + "' changed", line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  outpost::fuzz::InputBytes in(std::string_view(reinterpret_cast<const char*>(data), size));
  // Milliseconds kept within what a system_clock time point (nanoseconds) can hold.
  const auto ms = static_cast<int64_t>(in.U64()) % 9'000'000'000'000;
  const uint64_t offset = in.U64();
  const uint8_t flags = in.Byte();
  const std::vector<std::string_view> parts = outpost::fuzz::SplitParts(in.rest(), 64);
  auto part = [&](size_t i) { return i < parts.size() ? parts[i] : std::string_view(); };
  outpost::RecordContext ctx;
  ctx.host = part(0);
  ctx.agent_id = part(1);
  ctx.stream = part(2);
  ctx.source = part(3);
  for (size_t i = 7; i + 1 < parts.size(); i += 2)
    ctx.fields[std::string(parts[i])] = std::string(parts[i + 1]);
  const outpost::WallTime time{std::chrono::milliseconds(ms)};
  const std::string path_json = outpost::JsonQuote(part(4));
  outpost::RecordEncoder encoder(ctx);
  for (const auto& key : encoder.reserved())
    if (!outpost::IsCommonRecordField(key)) Fail("reserved a field that is not common", key);
  // Two records, the second one either at the same millisecond (the cached timestamp)
  // or at another.
  std::string first;
  encoder.AppendLogLine(first, time, path_json, offset, part(5), (flags & 1) != 0);
  CheckLine(first, ctx, time, part(4), offset, part(5), (flags & 1) != 0);
  const outpost::WallTime later = (flags & 2) ? time : time + std::chrono::milliseconds(flags);
  std::string second;
  encoder.AppendLogLine(second, later, path_json, offset + 1, part(6), (flags & 4) != 0);
  CheckLine(second, ctx, later, part(4), offset + 1, part(6), (flags & 4) != 0);
  return 0;
}
