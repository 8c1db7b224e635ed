// The event and bookmark XML reader on recorded fixtures (tests/fixtures/eventlog/:
// System 7036, Security 4624, Sysmon 1, an Application event with RenderingInfo, one
// with UserData, and malformed or hostile ones), and the records events become.
#include "collect/eventlog_xml.h"
#include "source_dir.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "chunk/record_encoder.h"
#include "util/clock.h"

namespace outpost {
namespace {

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(OUTPOST_SOURCE_DIR) + "/tests/fixtures/eventlog/" + name,
                   std::ios::binary);
  REQUIRE(in.good());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

EventLogEvent Parse(const std::string& xml) {
  Result<EventLogEvent> r = ParseEventXml(xml);
  INFO(r.status().message());
  REQUIRE(r.ok());
  return std::move(r).value();
}

std::string Error(const std::string& xml) {
  Result<EventLogEvent> r = ParseEventXml(xml);
  REQUIRE_FALSE(r.ok());
  return r.status().message();
}

std::string Data(const std::vector<EventDataField>& fs, const std::string& name) {
  for (const EventDataField& f : fs)
    if (f.name == name) return f.value;
  return "<absent>";
}

nlohmann::json Record(const EventLogEvent& e, uint64_t max_message_bytes = 64 << 10,
                      RecordContext ctx = {"host", "id", "sys", "eventlog", {}}) {
  RecordEncoder enc(ctx);
  std::string line;
  AppendEventLogRecord(enc, line, e, max_message_bytes, WallTime{});
  REQUIRE(!line.empty());
  REQUIRE(line.back() == '\n');
  REQUIRE(line.find('\n') == line.size() - 1);
  return nlohmann::json::parse(line);
}

}  // namespace

TEST_CASE("eventlog xml: System 7036 (service state) with every System field", "[collect]") {
  const EventLogEvent e = Parse(Fixture("system_7036.xml"));
  CHECK(e.provider == "Service Control Manager");
  CHECK(e.provider_guid == "{555908d1-a6d7-4695-8e1e-26931d2012f4}");
  CHECK(e.event_id == 7036u);
  CHECK(e.qualifiers == 16384u);
  CHECK(e.level == 4u);
  CHECK(e.task == 0u);
  CHECK(e.opcode == 0u);
  CHECK(e.keywords == "0x8080000000000000");
  CHECK(e.time_text == "2026-11-30T10:15:32.1234567Z");
  REQUIRE(e.time);
  CHECK(FormatRfc3339Millis(*e.time) == "2026-11-30T10:15:32.123Z");
  CHECK(e.record_id == 48213u);
  CHECK(e.process_id == 712u);
  CHECK(e.thread_id == 5880u);
  CHECK(e.channel == "System");
  CHECK(e.computer == "WIN-BUILD01.corp.example.com");
  CHECK(e.user_id.empty());
  REQUIRE(e.event_data.size() == 3);
  CHECK(Data(e.event_data, "param1") == "Windows Update");
  CHECK(Data(e.event_data, "param2") == "running");
  CHECK(Data(e.event_data, "binary") == "770075006100750073006500720076002F0034000000");
  CHECK_FALSE(e.message);

  const nlohmann::json j = Record(e);
  CHECK(j["@timestamp"] == "2026-11-30T10:15:32.123Z");
  CHECK(j["source"] == "eventlog");
  CHECK(j["message"] == "");
  CHECK(j["provider"] == "Service Control Manager");
  CHECK(j["event_id"] == 7036);
  CHECK(j["qualifiers"] == 16384);
  CHECK(j["level"] == "information");
  CHECK(j["channel"] == "System");
  CHECK(j["computer"] == "WIN-BUILD01.corp.example.com");
  CHECK(j["record_id"] == 48213);
  CHECK(j["keywords"] == "0x8080000000000000");
  CHECK(j["event_data"]["param2"] == "running");
  CHECK_FALSE(j.contains("truncated"));
  CHECK_FALSE(j.contains("user_data"));
  CHECK_FALSE(j.contains("user_id"));
}

TEST_CASE("eventlog xml: Security 4624 keeps every Data field in order", "[collect]") {
  const EventLogEvent e = Parse(Fixture("security_4624.xml"));
  CHECK(e.provider == "Microsoft-Windows-Security-Auditing");
  CHECK(e.event_id == 4624u);
  CHECK_FALSE(e.qualifiers);
  CHECK(e.level == 0u);
  CHECK(e.task == 12544u);
  CHECK(e.record_id == 1193402u);
  CHECK(e.channel == "Security");
  REQUIRE(e.event_data.size() == 27);
  CHECK(e.event_data.front().name == "SubjectUserSid");
  CHECK(e.event_data.back().name == "ElevatedToken");
  CHECK(Data(e.event_data, "TargetUserName") == "alice");
  CHECK(Data(e.event_data, "LogonType") == "10");
  CHECK(Data(e.event_data, "LogonProcessName") == "User32 ");  // data is not trimmed
  CHECK(Data(e.event_data, "ProcessName") == "C:\\Windows\\System32\\svchost.exe");
  CHECK(Data(e.event_data, "IpAddress") == "192.0.2.44");
  const nlohmann::json j = Record(e);
  CHECK(j["level"] == "information");  // level 0: LogAlways
  CHECK(j["event_data"].size() == 27);
  CHECK(j["event_data"]["TargetDomainName"] == "CORP");
  CHECK(j["@timestamp"] == "2026-11-30T08:01:02.500Z");
}

TEST_CASE("eventlog xml: Sysmon 1 with entities in the command line", "[collect]") {
  const EventLogEvent e = Parse(Fixture("sysmon_1.xml"));
  CHECK(e.channel == "Microsoft-Windows-Sysmon/Operational");
  CHECK(e.user_id == "S-1-5-18");
  CHECK(e.event_id == 1u);
  CHECK(Data(e.event_data, "Image") == "C:\\Windows\\System32\\cmd.exe");
  CHECK(Data(e.event_data, "CommandLine") ==
        "cmd.exe /c \"echo a && dir > C:\\temp\\out.txt\" <nul");
  CHECK(Data(e.event_data, "Product") ==
        "Microsoft\xc2\xae Windows\xc2\xae Operating System");  // &#xae;
  CHECK(Data(e.event_data, "ParentImage") == "C:\\Windows\\explorer.exe");
  CHECK(e.event_data.size() == 23);
  const nlohmann::json j = Record(e);
  CHECK(j["user_id"] == "S-1-5-18");
  CHECK(j["event_data"]["Hashes"].get<std::string>().starts_with("SHA256="));
}

TEST_CASE("eventlog xml: RenderingInfo gives a multi-line message; unnamed Data are params",
          "[collect]") {
  const EventLogEvent e = Parse(Fixture("application_1000_rendered.xml"));
  REQUIRE(e.message);
  // CR LF in the document becomes LF (XML line-end normalization); entities decoded.
  CHECK(*e.message ==
        "Faulting application name: report.exe, version: 1.2.3.4, time stamp: 0x65a1b2c3\n"
        "Faulting module name: ntdll.dll, version: 10.0.22621.2506\n"
        "Exception code: 0xc0000005\n"
        "Fault & offset: <unknown>");
  CHECK(e.level_text == "Error");
  CHECK(e.task_text == "Application Crashing Events");
  CHECK(e.qualifiers == 0u);
  REQUIRE(e.event_data.size() == 6);
  CHECK(e.event_data[0].name == "param1");
  CHECK(e.event_data[0].value == "report.exe");
  CHECK(e.event_data[5].name == "param6");
  CHECK(e.event_data[5].value == "c0000005");
  const nlohmann::json j = Record(e);
  CHECK(j["level"] == "error");
  CHECK(j["task_name"] == "Application Crashing Events");
  CHECK(j["message"].get<std::string>().find("\nException code: 0xc0000005\n") !=
        std::string::npos);

  SECTION("a message over max_message_bytes is cut and marked") {
    const nlohmann::json cut = Record(e, 20);
    CHECK(cut["message"] == "Faulting application");
    CHECK(cut["truncated"] == true);
  }
}

TEST_CASE("eventlog xml: UserData leaves become fields named by their path", "[collect]") {
  const EventLogEvent e = Parse(Fixture("system_104_userdata.xml"));
  CHECK(e.event_id == 104u);
  CHECK(e.event_data.empty());
  CHECK(e.user_data_name == "LogFileCleared");
  REQUIRE(e.user_data.size() == 5);
  CHECK(Data(e.user_data, "SubjectUserName") == "admin");
  CHECK(Data(e.user_data, "Channel") == "Windows PowerShell");
  CHECK(Data(e.user_data, "BackupPath").empty());
  CHECK(Data(e.user_data, "Details.Reason") == "manual");
  REQUIRE(e.time);
  CHECK(FormatRfc3339Millis(*e.time) == "2026-11-29T23:59:59.999Z");
  const nlohmann::json j = Record(e);
  CHECK(j["user_data_element"] == "LogFileCleared");
  CHECK(j["user_data"]["Details.Reason"] == "manual");
  CHECK_FALSE(j.contains("event_data"));
}

TEST_CASE("eventlog xml: invalid UTF-8 and control bytes are kept and escaped in the record",
          "[collect]") {
  const EventLogEvent e = Parse(Fixture("invalid_utf8.xml"));
  REQUIRE(e.event_data.size() == 3);
  CHECK(e.event_data[0].name == "raw");
  CHECK(e.event_data[0].value ==
        "ok \xff\xfe\x80 bytes\x01\x02\x07"
        "end");
  CHECK(e.event_data[1].name == "raw_2");  // a repeated name is not lost
  CHECK(e.event_data[2].value == "a\tb");
  RecordEncoder enc({"h", "a", "s", "eventlog", {}});
  std::string line;
  AppendEventLogRecord(enc, line, e, 1024, WallTime{});
  const nlohmann::json j = nlohmann::json::parse(line);  // still valid JSON
  CHECK(j["event_data"]["raw"] ==
        "ok \\xff\\xfe\\x80 bytes\x01\x02\x07"
        "end");
  CHECK(j["event_data"]["raw_2"] == "second");
  CHECK(j["level"] == "warning");
  CHECK(j["@timestamp"] == "2026-11-30T12:00:00.000Z");
}

TEST_CASE("eventlog xml: malformed and hostile documents are errors, not crashes", "[collect]") {
  CHECK(Error(Fixture("truncated.xml")).starts_with("truncated"));
  CHECK(Error(Fixture("doctype_entities.xml")).find("<!DOCTYPE) is refused") != std::string::npos);
  CHECK(Error(Fixture("unknown_entity.xml")).starts_with("unknown entity &nbsp;"));
  CHECK(Error(Fixture("mismatched_tags.xml")).starts_with("end tag </EventData> does not match"));
  CHECK(Error(Fixture("two_roots.xml")).starts_with("a second root element"));
  CHECK(Error(Fixture("unquoted_attribute.xml")).find("is not quoted") != std::string::npos);
  CHECK(Error("").starts_with("no element"));
  CHECK(Error("   \n").starts_with("no element"));
  CHECK(Error("text").starts_with("text outside the root element"));
  CHECK(Error("<Event>").starts_with("truncated: <Event> is not closed"));
  CHECK(Error("<Event/>").starts_with("not an event: <System> is missing"));
  CHECK(Error("<BookmarkList/>").starts_with("not an event"));
  CHECK(Error("<Event><System/><!ENTITY x 'y'></Event>").starts_with("markup declarations"));
  CHECK(Error("<Event a='1' a='2'><System/></Event>").starts_with("duplicate attribute"));
  CHECK(Error("<Event a='<'><System/></Event>").starts_with("'<' in the value"));
  CHECK(Error("<Event><System/>&#0;</Event>").find("is not a character") != std::string::npos);
  CHECK(Error("<Event><System/>&#xD800;</Event>").find("is not a character") != std::string::npos);
  CHECK(Error("<Event><System/>&#x110000;</Event>").find("is not a character") !=
        std::string::npos);
  CHECK(Error("<Event><System/>a & b</Event>").starts_with("'&' that starts no entity"));
  CHECK(Error("<Event><System/><!-- open</Event>").starts_with("unterminated comment"));
  CHECK(Error("<Event><System/><![CDATA[x</Event>").starts_with("unterminated CDATA"));
  CHECK(Error("<Event><System/></Event>junk").starts_with("text outside the root element"));
  CHECK(Error("<Event><System/></event>").starts_with("end tag </event> does not match"));
  CHECK(Error("<Event><System/></>").starts_with("malformed end tag"));
  CHECK(Error("< Event/>").starts_with("'<' without an element name"));
  // Every proper prefix of a real event is refused as truncated.
  for (const char* name : {"security_4624.xml", "sysmon_1.xml", "application_1000_rendered.xml"}) {
    const std::string full = Fixture(name);
    for (size_t n = 1; n <= full.rfind('>'); ++n) {
      const Result<EventLogEvent> r = ParseEventXml(full.substr(0, n));
      INFO(name << " cut at " << n);
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().message().starts_with("truncated"));
    }
  }
}

TEST_CASE("eventlog xml: what is accepted around the root element", "[collect]") {
  const EventLogEvent e = Parse(
      "\xEF\xBB\xBF<?xml version='1.0' encoding='UTF-8'?>\n<!-- c -->\n"
      "<e:Event xmlns:e='x'><e:System><e:EventID>5</e:EventID></e:System>"
      "<e:EventData><e:Data Name='c'><![CDATA[<raw & text>]]></e:Data></e:EventData>"
      "</e:Event>\n<!-- after -->\n");
  CHECK(e.event_id == 5u);
  CHECK(Data(e.event_data, "c") == "<raw & text>");
  // Numbers that are not numbers are left out rather than guessed.
  const EventLogEvent odd = Parse(
      "<Event><System><EventID>-1</EventID><Level>999</Level><EventRecordID>12a</EventRecordID>"
      "<TimeCreated SystemTime='yesterday'/></System></Event>");
  CHECK_FALSE(odd.event_id);
  CHECK_FALSE(odd.level);
  CHECK_FALSE(odd.record_id);
  CHECK_FALSE(odd.time);
  const nlohmann::json j = Record(odd);
  CHECK(j["event_time"] == "yesterday");
  CHECK_FALSE(j.contains("event_id"));
}

TEST_CASE("eventlog xml: size caps", "[collect]") {
  SECTION("input over the cap") {
    std::string big = "<Event><System/><EventData><Data Name='a'>";
    big.append(kEventXmlMaxBytes, 'x');
    big += "</Data></EventData></Event>";
    CHECK(Error(big).find("over the cap") != std::string::npos);
  }
  SECTION("nesting deeper than the cap") {
    std::string deep;
    for (size_t i = 0; i < kEventXmlMaxDepth + 1; ++i) deep += "<a>";
    CHECK(Error(deep).starts_with("elements nested deeper"));
  }
  SECTION("too many elements") {
    std::string many = "<Event><System/><UserData><x>";
    for (size_t i = 0; i < kEventXmlMaxElements; ++i) many += "<y/>";
    many += "</x></UserData></Event>";
    CHECK(Error(many).starts_with("more than"));
  }
  SECTION("too many attributes") {
    std::string tag = "<Event";
    for (size_t i = 0; i <= kEventXmlMaxAttributes; ++i) tag += " a" + std::to_string(i) + "='1'";
    CHECK(Error(tag + "><System/></Event>").starts_with("more than"));
  }
  SECTION("data fields past the cap are counted, not kept") {
    std::string xml = "<Event><System/><EventData>";
    for (size_t i = 0; i < kEventMaxDataFields + 10; ++i)
      xml += "<Data Name='f" + std::to_string(i) + "'>v</Data>";
    xml += "</EventData></Event>";
    const EventLogEvent e = Parse(xml);
    CHECK(e.event_data.size() == kEventMaxDataFields);
    CHECK(e.dropped_fields == 10);
    CHECK(Record(e)["dropped_fields"] == 10);
  }
  SECTION("data values are cut like the message") {
    const EventLogEvent e =
        Parse("<Event><System/><EventData><Data Name='a'>0123456789</Data></EventData></Event>");
    const nlohmann::json j = Record(e, 4);
    CHECK(j["event_data"]["a"] == "0123");
    CHECK(j["truncated"] == true);
  }
}

TEST_CASE("eventlog xml: level names", "[collect]") {
  CHECK(EventLevelName(0) == "information");
  CHECK(EventLevelName(1) == "critical");
  CHECK(EventLevelName(2) == "error");
  CHECK(EventLevelName(3) == "warning");
  CHECK(EventLevelName(4) == "information");
  CHECK(EventLevelName(5) == "verbose");
  CHECK(EventLevelName(16) == "16");
}

TEST_CASE("eventlog xml: static fields never replace an event's fields", "[collect]") {
  CHECK(IsEventLogRecordField("event_id"));
  CHECK(IsEventLogRecordField("event_data"));
  CHECK_FALSE(IsEventLogRecordField("env"));
}

TEST_CASE("eventlog xml: an unreadable event is kept with its error", "[collect]") {
  RecordEncoder enc({"h", "a", "s", "eventlog", {}});
  std::string line;
  AppendUnreadableEventRecord(enc, line, "<Event><Sys", "truncated", 5, WallTime{});
  const nlohmann::json j = nlohmann::json::parse(line);
  CHECK(j["message"] == "<Even");
  CHECK(j["truncated"] == true);
  CHECK(j["xml_error"] == "truncated");
}

TEST_CASE("eventlog bookmark xml: valid, corrupt and hostile", "[collect]") {
  Result<std::vector<EventLogBookmark>> ok = ParseBookmarkXml(Fixture("bookmark.xml"));
  REQUIRE(ok.ok());
  REQUIRE(ok->size() == 1);
  CHECK((*ok)[0].channel == "System");
  CHECK((*ok)[0].record_id == 48213u);
  CHECK((*ok)[0].is_current);

  Result<std::vector<EventLogBookmark>> two =
      ParseBookmarkXml(Fixture("bookmark_two_channels.xml"));
  REQUIRE(two.ok());
  REQUIRE(two->size() == 2);
  CHECK((*two)[0].channel == "Application");
  CHECK_FALSE((*two)[0].is_current);

  auto error = [](std::string_view xml) {
    Result<std::vector<EventLogBookmark>> r = ParseBookmarkXml(xml);
    REQUIRE_FALSE(r.ok());
    return r.status().message();
  };
  CHECK(error(Fixture("bookmark_corrupt.xml")).find("not a decimal number") != std::string::npos);
  CHECK(error("").starts_with("no element"));
  CHECK(error("<BookmarkList/>").starts_with("a <BookmarkList> without any <Bookmark>"));
  CHECK(error("<BookmarkList><Bookmark RecordId='1'/></BookmarkList>").find("without Channel") !=
        std::string::npos);
  CHECK(error("<BookmarkList><Bookmark Channel='S'/></BookmarkList>").find("without RecordId") !=
        std::string::npos);
  CHECK(error("<BookmarkList><Bookmark Channel='S' RecordId='0x10'/></BookmarkList>")
            .find("not a decimal") != std::string::npos);
  CHECK(error("<BookmarkList><Bookmark Channel='S' RecordId='99999999999999999999999'/>"
              "</BookmarkList>")
            .find("not a decimal") != std::string::npos);
  CHECK(error("<BookmarkList><Bookmark Channel='S' RecordId='1' IsCurrent='yes'/></BookmarkList>")
            .find("IsCurrent") != std::string::npos);
  CHECK(error("<BookmarkList><Bookmark Channel='S' RecordId='1' X='1'/></BookmarkList>")
            .find("unknown attribute") != std::string::npos);
  CHECK(error("<BookmarkList><Other/></BookmarkList>").find("only <Bookmark>") !=
        std::string::npos);
  CHECK(error("<BookmarkList>junk<Bookmark Channel='S' RecordId='1'/></BookmarkList>")
            .find("text inside") != std::string::npos);
  CHECK(error(Fixture("system_7036.xml")).starts_with("not a bookmark"));
  CHECK(error("<!DOCTYPE x><BookmarkList/>").find("refused") != std::string::npos);
  CHECK(error(std::string(kBookmarkXmlMaxBytes + 1, ' ')).find("over the cap") !=
        std::string::npos);
}

}  // namespace outpost
