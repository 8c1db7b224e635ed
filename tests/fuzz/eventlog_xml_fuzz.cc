// Fuzzes the Windows Event Log XML reader (collect/eventlog_xml.h) and the records
// events become. Checked: the input is read or refused with a message, never a crash;
// a read event stays within the field cap; its record is one NDJSON line that parses
// as JSON, whose message is within its cap; the same input is read the same way twice;
// a bookmark that validates names a channel, and CheckStoredBookmark agrees with it.
//
// Input: 1 byte message cap (in units of 16 bytes, 0 -> 1 byte), then the XML.
#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "chunk/record_encoder.h"
#include "collect/eventlog_source.h"
#include "collect/eventlog_xml.h"
#include "fuzz/fuzz_input.h"

namespace {

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "eventlog_xml: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  outpost::fuzz::InputBytes in(std::string_view(reinterpret_cast<const char*>(data), size));
  const size_t cap = std::max<size_t>(size_t{in.Byte()} * 16, 1);
  const std::string_view xml = in.rest();

  const outpost::Result<outpost::EventLogEvent> a = outpost::ParseEventXml(xml);
  const outpost::Result<outpost::EventLogEvent> b = outpost::ParseEventXml(xml);
  if (a.ok() != b.ok()) Fail("two reads of the same input differ");
  if (!a.ok()) {
    if (a.status().message().empty()) Fail("an error without a message");
  } else {
    const outpost::EventLogEvent& e = *a;
    if (e.event_data.size() + e.user_data.size() > outpost::kEventMaxDataFields)
      Fail("more fields than the cap");
    outpost::RecordContext ctx{"h", "a", "w", "eventlog", {{"env", "x"}}};
    outpost::RecordEncoder enc(ctx);
    std::string line;
    outpost::AppendEventLogRecord(enc, line, e, cap, outpost::WallTime{});
    if (line.empty() || line.back() != '\n' || line.find('\n') != line.size() - 1)
      Fail("not one NDJSON line");
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) Fail("the record is not JSON");
    if (!j.contains("message") || !j["message"].is_string()) Fail("no message");
    // Escaping may grow a byte to \u00XX or \\xNN text: at most 6 characters each.
    if (j["message"].get<std::string>().size() > cap * 6) Fail("message over its cap");
    if (e.event_id && j["event_id"] != *e.event_id) Fail("event_id did not come back");
    if (e.record_id && j["record_id"] != *e.record_id) Fail("record_id did not come back");
    if (j.value("env", "") != "x") Fail("static field lost");
  }
  std::string unreadable;
  outpost::RecordEncoder enc2({"h", "a", "w", "eventlog", {}});
  outpost::AppendUnreadableEventRecord(enc2, unreadable, xml, "e", cap, outpost::WallTime{});
  if (nlohmann::json::parse(unreadable, nullptr, false).is_discarded())
    Fail("the unreadable-event record is not JSON");

  const auto bm = outpost::ParseBookmarkXml(xml);
  if (bm.ok()) {
    if (bm->empty()) Fail("a valid bookmark without entries");
    for (const outpost::EventLogBookmark& x : *bm)
      if (x.channel.empty()) Fail("a bookmark entry without a channel");
    if (!outpost::CheckStoredBookmark(std::string(xml), bm->front().channel, "*").empty())
      Fail("a valid bookmark for its own channel was refused");
  } else if (outpost::CheckStoredBookmark(std::string(xml), "System", "*").empty()) {
    Fail("an invalid bookmark was accepted");
  }
  return 0;
}
