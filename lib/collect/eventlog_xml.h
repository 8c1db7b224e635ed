// The XML of the Windows Event Log, read without an XML library: the event XML that
// EvtRender(EvtRenderEventXml) or EvtFormatMessage(EvtFormatMessageXml) produces, and
// the bookmark XML that is the event log source's checkpoint. Portable (tested on
// Linux on recorded fixtures, tests/fixtures/eventlog/); see docs/eventlog.md.
//
// The reader handles the subset Windows writes: elements, attributes, text, the five
// named entities and character references, comments, CDATA and an <?xml?> declaration.
// A document type declaration (<!DOCTYPE, which could declare entities) is refused, as
// is anything malformed: unbalanced tags, an unknown entity, a '<' in an attribute.
// Every size is capped (input bytes, depth, elements, attributes, fields), so hostile
// input costs bounded time and memory and gives an error, never a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chunk/record_encoder.h"
#include "util/clock.h"
#include "util/status.h"

namespace outpost {

// Caps on what the reader accepts (an event is at most 64 KiB of data on Windows; its
// XML, with RenderingInfo, a few times that).
inline constexpr size_t kEventXmlMaxBytes = 1 << 20;
inline constexpr size_t kEventXmlMaxDepth = 32;
inline constexpr size_t kEventXmlMaxElements = 8192;
inline constexpr size_t kEventXmlMaxAttributes = 32;  // per element
// EventData / UserData values kept per event; more are counted in dropped_fields.
inline constexpr size_t kEventMaxDataFields = 256;
inline constexpr size_t kBookmarkXmlMaxBytes = 64 << 10;

// One name=value of EventData (Data Name=...) or UserData (leaf elements).
struct EventDataField {
  std::string name;
  std::string value;
};

// What the record of an event is made of. Numbers that the XML did not hold (or held
// in a form that is not a number) are nullopt and left out of the record.
struct EventLogEvent {
  std::string provider;       // System/Provider@Name
  std::string provider_guid;  // System/Provider@Guid
  std::optional<uint32_t> event_id;
  std::optional<uint32_t> qualifiers;  // System/EventID@Qualifiers (classic sources)
  std::optional<uint32_t> level;       // 0..255
  std::optional<uint32_t> task;
  std::optional<uint32_t> opcode;
  std::string keywords;  // "0x8020000000000000" as written
  std::optional<WallTime> time;
  std::string time_text;  // TimeCreated@SystemTime as written
  std::optional<uint64_t> record_id;
  std::string channel;
  std::string computer;
  std::string user_id;  // Security@UserID (a SID)
  std::optional<uint32_t> process_id;
  std::optional<uint32_t> thread_id;
  std::vector<EventDataField> event_data;
  std::string user_data_name;  // the element under UserData (e.g. "EventXML")
  std::vector<EventDataField> user_data;
  size_t dropped_fields = 0;  // over kEventMaxDataFields
  // RenderingInfo (EvtFormatMessage's XML): the text the Event Viewer shows.
  std::optional<std::string> message;
  std::string level_text;  // RenderingInfo/Level, e.g. "Information"
  std::string task_text;
};

// Reads one event's XML. Errors name what is wrong ("unknown entity &foo; at byte 120").
Result<EventLogEvent> ParseEventXml(std::string_view xml);

// "critical", "error", "warning", "information", "verbose" for levels 1..5; 0 (the
// "LogAlways" level that audit events use) is "information"; other values (a
// provider's own levels) are their decimal number.
std::string EventLevelName(uint32_t level);

// The record fields an event adds after `source` (static fields may not use them).
bool IsEventLogRecordField(std::string_view name);

// Appends the record of `event` to `out` (the whole NDJSON line): @timestamp is
// TimeCreated (else `now`); message is RenderingInfo's Message cut to
// `max_message_bytes` (truncated: true); event_data and user_data are JSON objects
// (values cut to max_message_bytes too).
void AppendEventLogRecord(RecordEncoder& encoder, std::string& out, const EventLogEvent& event,
                          uint64_t max_message_bytes, WallTime now);

// Appends the record of an event whose XML could not be read: the XML itself (cut to
// `max_message_bytes`) as the message and `xml_error`, so that no event is lost.
void AppendUnreadableEventRecord(RecordEncoder& encoder, std::string& out, std::string_view xml,
                                 std::string_view error, uint64_t max_message_bytes, WallTime now);

// One <Bookmark> of a bookmark's XML.
struct EventLogBookmark {
  std::string channel;
  uint64_t record_id = 0;
  bool is_current = false;
};

// Validates a stored bookmark: <BookmarkList> holding one or more
// <Bookmark Channel=".." RecordId="<decimal>" [IsCurrent="true|false"]/>, nothing else.
Result<std::vector<EventLogBookmark>> ParseBookmarkXml(std::string_view xml);

}  // namespace outpost
