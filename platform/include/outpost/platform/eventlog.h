// The Windows Event Log (wevtapi.dll): events of one channel (or an XPath query over
// it) as rendered XML, each with the bookmark XML that resumes after it. The event
// log source (lib/collect/eventlog_source.h) reads and checkpoints them; the XML is
// read by lib/collect/eventlog_xml.h. See docs/eventlog.md.
//
// Two ways to read: `follow` subscribes (EvtSubscribe, pull mode with a signal event)
// and keeps delivering new events; without it the events present now are queried
// (EvtQuery) and the reader ends (`outpost run --once`). Each event is rendered with
// EvtFormatMessage(EvtFormatMessageXml) when its publisher's metadata is installed (the
// XML then carries RenderingInfo with the message text), else with EvtRender.
//
// Next() never blocks. So that an idle caller can sleep, `on_signal` is called from a
// helper thread when the subscription signals new events (and once after the start);
// the caller typically wakes its ChangeWatcher from it. The object is used from one
// thread; on_signal runs on another.
//
// On any OS but Windows OpenEventLogReader fails with kNotAvailable ("the Windows Event Log
// is only available on Windows").
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace outpost::platform {

struct EventLogOpenOptions {
  std::string channel;       // "System", "Microsoft-Windows-Sysmon/Operational"
  std::string query = "*";   // XPath over the channel, or a <QueryList> document
  std::string bookmark_xml;  // resume after this event; empty: see from_oldest
  bool from_oldest = false;  // without a bookmark: every stored event, else only new ones
  bool follow = true;        // subscribe; false: read what is there now, then end
  std::function<void()> on_signal;
};

// Why opening or reading failed; the source shows it as its problem's cause.
enum class EventLogErrorKind {
  kNotAvailable,     // not on this OS
  kNotImplemented,   // the OS has the API but not the function (Wine)
  kChannelNotFound,  // no such channel (or no such log)
  kAccessDenied,     // e.g. Security without the privilege
  kBadQuery,         // the XPath or QueryList is invalid
  kBadBookmark,      // the OS refused the stored bookmark
  kOther,
};

struct EventLogError {
  EventLogErrorKind kind = EventLogErrorKind::kOther;
  uint32_t code = 0;    // the OS's error code (GetLastError), 0 when none
  std::string message;  // "The specified channel could not be found (error 15007)"
};

// One event: its XML (UTF-8) and the bookmark XML of the reader's position just after
// it (the checkpoint once the event is committed). With kError, `out` may already hold
// the events read before the failure; they are valid.
struct EventLogEntry {
  std::string xml;
  std::string bookmark_xml;
  std::string render_error;  // non-empty: the event could not be rendered (xml is empty)
};

class EventLogReader {
 public:
  virtual ~EventLogReader() = default;

  enum class NextResult { kEvents, kNone, kEnd, kError };
  // Appends up to `max` events to `out` without blocking. kNone: nothing now (a
  // subscription: wait for on_signal); kEnd: a query (follow = false) has delivered
  // everything; kError: *error says why (the reader is then done).
  virtual NextResult Next(size_t max, std::vector<EventLogEntry>& out, EventLogError* error) = 0;
};

// Opens a reader, or returns null with *error filled in.
std::unique_ptr<EventLogReader> OpenEventLogReader(const EventLogOpenOptions& options,
                                                   EventLogError* error);

// A name for an error kind ("channel not found"), the problem cause in status.
inline const char* EventLogErrorKindName(EventLogErrorKind kind) {
  switch (kind) {
    case EventLogErrorKind::kNotAvailable:
      return "not available";
    case EventLogErrorKind::kNotImplemented:
      return "not implemented";
    case EventLogErrorKind::kChannelNotFound:
      return "channel not found";
    case EventLogErrorKind::kAccessDenied:
      return "access denied";
    case EventLogErrorKind::kBadQuery:
      return "invalid query";
    case EventLogErrorKind::kBadBookmark:
      return "bookmark refused";
    case EventLogErrorKind::kOther:
      break;
  }
  return "event log error";
}

}  // namespace outpost::platform
