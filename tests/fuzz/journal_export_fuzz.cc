// Fuzzes the journal export parser (`journalctl -o export` output, collect/
// journal_export.h) and the records its entries become. Checked: feeding the input in
// fuzz-chosen pieces gives exactly the entries of feeding it whole; no field exceeds
// the field cap, no entry the field-count cap; every entry with a cursor becomes one
// NDJSON line that parses as JSON and carries that cursor back.
//
// Input: 1 byte field cap (in units of 16 bytes, 0 -> 1 byte), 1 byte piece size
// (0 -> 1), then the export text.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chunk/record_encoder.h"
#include "collect/journal_export.h"
#include "collect/journal_source.h"
#include "fuzz/fuzz_input.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "journal_export: %s\n", what);
  std::abort();
}

std::string Describe(const std::vector<outpost::JournalEntry>& entries) {
  std::string d;
  for (const outpost::JournalEntry& e : entries) {
    d += e.truncated ? "E!" : "E";
    for (const outpost::JournalField& f : e.fields)
      d += "|" + f.name + (f.truncated ? "!" : "") + std::to_string(f.value.size()) + ":" + f.value;
    d += '\n';
  }
  return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  outpost::fuzz::InputBytes in(std::string_view(reinterpret_cast<const char*>(data), size));
  const size_t cap = std::max<size_t>(size_t{in.Byte()} * 16, 1);
  const size_t piece = std::max<size_t>(in.Byte(), 1);
  const std::string_view text = in.rest();

  outpost::JournalExportParser whole(cap);
  std::vector<outpost::JournalEntry> a;
  whole.Feed(text, a);
  outpost::JournalExportParser pieces(cap);
  std::vector<outpost::JournalEntry> b;
  for (size_t i = 0; i < text.size(); i += piece) pieces.Feed(text.substr(i, piece), b);
  if (Describe(a) != Describe(b)) Fail("pieces parse differently from the whole");
  if (whole.errors() != pieces.errors()) Fail("error counts differ");
  if (whole.Finish() != pieces.Finish()) Fail("Finish differs");

  outpost::RecordContext ctx{"h", "a", "j", "journal", {{"env", "x"}}};
  outpost::RecordEncoder enc(ctx);
  for (const outpost::JournalEntry& e : a) {
    if (e.fields.size() > outpost::kJournalMaxFields) Fail("too many fields");
    for (const outpost::JournalField& f : e.fields)
      if (f.value.size() > cap) Fail("a field over the cap");
    std::string line;
    const std::optional<std::string> cursor =
        outpost::AppendJournalRecord(enc, line, e, 300, outpost::WallTime{});
    if (!cursor) {
      if (!line.empty()) Fail("text for an entry without cursor");
      continue;
    }
    if (line.empty() || line.back() != '\n' || line.find('\n') != line.size() - 1)
      Fail("not one NDJSON line");
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) Fail("the record is not JSON");
    if (!j.contains("journal_cursor") || !j.contains("message")) Fail("fields missing");
    if (outpost::fuzz::IsValidUtf8(*cursor) && j["journal_cursor"] != *cursor)
      Fail("the cursor did not come back");
    if (j["message"].get<std::string>().size() > 300 * 4) Fail("message over its cap");
  }
  return 0;
}
