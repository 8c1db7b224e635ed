// The Windows Event Log through wevtapi.dll (a system DLL): EvtSubscribe in pull mode
// with a signal event, or EvtQuery + EvtSeek for a one-off read; EvtNext in batches;
// EvtFormatMessage(EvtFormatMessageXml) with the publisher's metadata, else
// EvtRender(EvtRenderEventXml); a bookmark (EvtCreateBookmark/EvtUpdateBookmark)
// rendered after every event. See outpost/platform/eventlog.h.
#include "outpost/platform/eventlog.h"

#include <algorithm>
#include <map>
#include <thread>

#include "windows/windows_error.h"
// After windows.h (windows_error.h).
#include <winevt.h>

namespace outpost::platform {

namespace {

// Publisher metadata handles kept open (one per provider seen); past this the cache is
// emptied and refilled, so a channel with thousands of providers costs bounded handles.
constexpr size_t kMaxPublishers = 128;
// Rendered XML larger than this is not an event the reader accepts (wide characters).
constexpr DWORD kMaxRenderChars = 2u << 20;

std::wstring Wide(const std::string& s) {
  if (s.empty()) return std::wstring();
  const int n = MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), nullptr, 0);
  if (n <= 0) return std::wstring();
  std::wstring w(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), w.data(), n);
  return w;
}

std::string Narrow(const wchar_t* w, size_t len) {
  if (len == 0) return std::string();
  const int n =
      WideCharToMultiByte(CP_UTF8, 0, w, static_cast<int>(len), nullptr, 0, nullptr, nullptr);
  if (n <= 0) return std::string();
  std::string s(static_cast<size_t>(n), '\0');
  WideCharToMultiByte(CP_UTF8, 0, w, static_cast<int>(len), s.data(), n, nullptr, nullptr);
  return s;
}

// A wide buffer as returned by EvtRender/EvtFormatMessage: `used` counts characters
// with the terminating NUL.
std::string NarrowUsed(const std::vector<wchar_t>& buf, DWORD used) {
  size_t len = used;
  while (len > 0 && buf[len - 1] == L'\0') --len;
  return Narrow(buf.data(), len);
}

EventLogError MakeError(DWORD code, const std::string& what) {
  EventLogError e;
  e.code = code;
  switch (code) {
    case ERROR_CALL_NOT_IMPLEMENTED:
    case ERROR_NOT_SUPPORTED:
      e.kind = EventLogErrorKind::kNotImplemented;
      break;
    case ERROR_EVT_CHANNEL_NOT_FOUND:
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      e.kind = EventLogErrorKind::kChannelNotFound;
      break;
    case ERROR_ACCESS_DENIED:
    case ERROR_PRIVILEGE_NOT_HELD:
      e.kind = EventLogErrorKind::kAccessDenied;
      break;
    case ERROR_EVT_INVALID_QUERY:
      e.kind = EventLogErrorKind::kBadQuery;
      break;
    default:
      e.kind = EventLogErrorKind::kOther;
  }
  e.message = what + ": " + WindowsErrorMessage(code);
  return e;
}

// A call that returned no handle. Wine's wevtapi stubs return null without setting an
// error code (GetLastError() is 0): that is reported as not implemented.
EventLogError CallFailed(DWORD code, const std::string& what) {
  if (code != 0) return MakeError(code, what);
  EventLogError e;
  e.kind = EventLogErrorKind::kNotImplemented;
  e.message = what +
              ": the call returned no handle and no error code (error 0); this "
              "system's wevtapi.dll does not implement it (Wine's does not)";
  return e;
}

class EvtHandle {
 public:
  EvtHandle() = default;
  explicit EvtHandle(EVT_HANDLE h) : h_(h) {}
  ~EvtHandle() { reset(); }
  EvtHandle(const EvtHandle&) = delete;
  EvtHandle& operator=(const EvtHandle&) = delete;
  EvtHandle(EvtHandle&& o) noexcept : h_(o.h_) { o.h_ = nullptr; }
  EvtHandle& operator=(EvtHandle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = o.h_;
      o.h_ = nullptr;
    }
    return *this;
  }
  void reset() {
    if (h_) EvtClose(h_);
    h_ = nullptr;
  }
  EVT_HANDLE get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }

 private:
  EVT_HANDLE h_ = nullptr;
};

class WindowsEventLogReader final : public EventLogReader {
 public:
  ~WindowsEventLogReader() override {
    if (stop_) SetEvent(stop_);
    if (waiter_.joinable()) waiter_.join();
    results_.reset();  // the subscription first: it signals `signal_`
    if (signal_) CloseHandle(signal_);
    if (stop_) CloseHandle(stop_);
  }

  bool Open(const EventLogOpenOptions& o, EventLogError* error) {
    follow_ = o.follow;
    const std::wstring channel = Wide(o.channel);
    const std::wstring query = Wide(o.query.empty() ? std::string("*") : o.query);
    // A query that is a <QueryList> names its own channels.
    const bool query_list = o.query.find('<') != std::string::npos;
    const wchar_t* path = query_list ? nullptr : channel.c_str();
    const DWORD query_flags = (query_list ? 0 : EvtQueryChannelPath) | EvtQueryForwardDirection;
    if (!o.bookmark_xml.empty()) {
      // Wine's wevtapi has EvtCreateBookmark only as a stub that raises an exception
      // (the process dies), while EvtQuery there fails cleanly: so a query is tried
      // first, and the bookmark is made only where the event log answers at all.
      SetLastError(0);  // stubs leave it as it was
      EvtHandle probe(EvtQuery(nullptr, path, query.c_str(), query_flags));
      if (!probe) {
        *error = CallFailed(GetLastError(), "cannot query " + o.channel);
        return false;
      }
      bookmark_ = EvtHandle(EvtCreateBookmark(Wide(o.bookmark_xml).c_str()));
      if (!bookmark_) {
        *error = MakeError(GetLastError(), "the stored bookmark was refused");
        if (error->kind == EventLogErrorKind::kOther) error->kind = EventLogErrorKind::kBadBookmark;
        return false;
      }
    }
    if (follow_) {
      signal_ = CreateEventW(nullptr, TRUE, TRUE, nullptr);
      stop_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
      if (!signal_ || !stop_) {
        *error = MakeError(GetLastError(), "cannot create an event object");
        return false;
      }
      DWORD flags = EvtSubscribeToFutureEvents;
      if (!o.bookmark_xml.empty())
        flags = EvtSubscribeStartAfterBookmark;
      else if (o.from_oldest)
        flags = EvtSubscribeStartAtOldestRecord;
      SetLastError(0);  // stubs leave it as it was
      results_ = EvtHandle(EvtSubscribe(nullptr, signal_, path, query.c_str(),
                                        o.bookmark_xml.empty() ? nullptr : bookmark_.get(), nullptr,
                                        nullptr, flags));
      if (!results_) {
        *error = CallFailed(GetLastError(), "cannot subscribe to " + o.channel);
        return false;
      }
      if (!Prepare(error)) return false;
      std::function<void()> cb = o.on_signal;
      HANDLE handles[2] = {signal_, stop_};
      waiter_ = std::thread([cb, handles] {
        for (;;) {
          const DWORD w = WaitForMultipleObjects(2, handles, FALSE, INFINITE);
          if (w != WAIT_OBJECT_0) return;  // stop, or the handles went away
          // Reset before the reader drains, so that a signal during the drain is kept.
          ResetEvent(handles[0]);
          if (cb) cb();
        }
      });
      return true;
    }
    if (!o.bookmark_xml.empty() || o.from_oldest) {
      SetLastError(0);  // stubs leave it as it was
      results_ = EvtHandle(EvtQuery(nullptr, path, query.c_str(), query_flags));
      if (!results_) {
        *error = CallFailed(GetLastError(), "cannot query " + o.channel);
        return false;
      }
      if (!Prepare(error)) return false;
      if (!o.bookmark_xml.empty() &&
          !EvtSeek(results_.get(), 1, bookmark_.get(), 0, EvtSeekRelativeToBookmark)) {
        // The bookmarked event is gone (the log wrapped or was cleared): read from the
        // oldest event there is, which is where the subscription would start too.
        const DWORD code = GetLastError();
        if (code == ERROR_CALL_NOT_IMPLEMENTED) {
          *error = MakeError(code, "cannot seek in " + o.channel);
          return false;
        }
      }
    } else {
      ended_ = true;  // only new events, and nothing waits for them: nothing to read
    }
    return true;
  }

  NextResult Next(size_t max, std::vector<EventLogEntry>& out, EventLogError* error) override {
    if (ended_) return NextResult::kEnd;
    if (max == 0) return NextResult::kNone;
    EVT_HANDLE events[64];
    const DWORD want = static_cast<DWORD>(std::min<size_t>(max, 64));
    DWORD got = 0;
    if (!EvtNext(results_.get(), want, events, 0, 0, &got)) {
      const DWORD code = GetLastError();
      if (code == ERROR_NO_MORE_ITEMS || code == ERROR_TIMEOUT) {
        if (follow_) return NextResult::kNone;
        ended_ = true;
        return NextResult::kEnd;
      }
      *error = MakeError(code, "cannot read the next events");
      return NextResult::kError;
    }
    NextResult result = NextResult::kEvents;
    for (DWORD i = 0; i < got; ++i) {
      EvtHandle ev(events[i]);
      if (result == NextResult::kError) continue;  // close the rest
      EventLogEntry entry;
      if (!UpdateBookmark(ev.get(), entry, error)) {
        result = NextResult::kError;
        continue;
      }
      // An event that cannot be rendered still moves the bookmark; the source records
      // the error in its place.
      EventLogError render_error;
      if (!RenderEvent(ev.get(), entry.xml, &render_error))
        entry.render_error = render_error.message;
      out.push_back(std::move(entry));
    }
    return result;
  }

 private:
  // Once the channel answered: the bookmark (when none was stored) and the context
  // that reads an event's provider name.
  bool Prepare(EventLogError* error) {
    if (!bookmark_) {
      bookmark_ = EvtHandle(EvtCreateBookmark(nullptr));
      if (!bookmark_) {
        *error = MakeError(GetLastError(), "cannot create a bookmark");
        return false;
      }
    }
    render_context_ = EvtHandle(EvtCreateRenderContext(0, nullptr, EvtRenderContextSystem));
    return true;
  }

  bool RenderEvent(EVT_HANDLE ev, std::string& xml, EventLogError* error) {
    if (EVT_HANDLE pub = Publisher(ev)) {
      DWORD used = 0;
      if (!EvtFormatMessage(pub, ev, 0, 0, nullptr, EvtFormatMessageXml, 0, nullptr, &used) &&
          GetLastError() == ERROR_INSUFFICIENT_BUFFER && used > 0 && used < kMaxRenderChars) {
        buf_.assign(used, L'\0');
        if (EvtFormatMessage(pub, ev, 0, 0, nullptr, EvtFormatMessageXml, used, buf_.data(),
                             &used)) {
          xml = NarrowUsed(buf_, used);
          return true;
        }
      }
      // No message for this event (or an insert that does not resolve): the plain XML.
    }
    DWORD used = 0, props = 0;
    if (!EvtRender(nullptr, ev, EvtRenderEventXml, 0, nullptr, &used, &props)) {
      const DWORD code = GetLastError();
      if (code != ERROR_INSUFFICIENT_BUFFER || used == 0 || used / 2 >= kMaxRenderChars) {
        *error = MakeError(code, "cannot render an event");
        return false;
      }
    }
    buf_.assign(used / sizeof(wchar_t) + 1, L'\0');
    if (!EvtRender(nullptr, ev, EvtRenderEventXml, used, buf_.data(), &used, &props)) {
      *error = MakeError(GetLastError(), "cannot render an event");
      return false;
    }
    xml = NarrowUsed(buf_, used / sizeof(wchar_t));
    return true;
  }

  bool UpdateBookmark(EVT_HANDLE ev, EventLogEntry& entry, EventLogError* error) {
    if (!EvtUpdateBookmark(bookmark_.get(), ev)) {
      *error = MakeError(GetLastError(), "cannot update the bookmark");
      return false;
    }
    DWORD used = 0, props = 0;
    if (!EvtRender(nullptr, bookmark_.get(), EvtRenderBookmark, 0, nullptr, &used, &props)) {
      const DWORD code = GetLastError();
      if (code != ERROR_INSUFFICIENT_BUFFER || used == 0 || used / 2 >= kMaxRenderChars) {
        *error = MakeError(code, "cannot render the bookmark");
        return false;
      }
    }
    buf_.assign(used / sizeof(wchar_t) + 1, L'\0');
    if (!EvtRender(nullptr, bookmark_.get(), EvtRenderBookmark, used, buf_.data(), &used, &props)) {
      *error = MakeError(GetLastError(), "cannot render the bookmark");
      return false;
    }
    entry.bookmark_xml = NarrowUsed(buf_, used / sizeof(wchar_t));
    return true;
  }

  // The publisher metadata for the event's provider (cached), or null when its
  // provider has none installed.
  EVT_HANDLE Publisher(EVT_HANDLE ev) {
    if (!render_context_) return nullptr;
    DWORD used = 0, props = 0;
    EvtRender(render_context_.get(), ev, EvtRenderEventValues, 0, nullptr, &used, &props);
    if (used == 0 || used > (1u << 20)) return nullptr;
    std::vector<unsigned char> values(used);
    if (!EvtRender(render_context_.get(), ev, EvtRenderEventValues, used, values.data(), &used,
                   &props) ||
        props == 0)
      return nullptr;
    const auto* v = reinterpret_cast<const EVT_VARIANT*>(values.data());
    if (v[EvtSystemProviderName].Type != EvtVarTypeString || !v[EvtSystemProviderName].StringVal)
      return nullptr;
    const std::wstring provider = v[EvtSystemProviderName].StringVal;
    auto it = publishers_.find(provider);
    if (it != publishers_.end()) return it->second.get();
    if (publishers_.size() >= kMaxPublishers) publishers_.clear();
    EvtHandle h(EvtOpenPublisherMetadata(nullptr, provider.c_str(), nullptr, 0, 0));
    EVT_HANDLE raw = h.get();
    publishers_.emplace(provider, std::move(h));  // null too: not looked up again
    return raw;
  }

  bool follow_ = true;
  bool ended_ = false;
  EvtHandle results_;
  EvtHandle bookmark_;
  EvtHandle render_context_;
  std::map<std::wstring, EvtHandle> publishers_;
  std::vector<wchar_t> buf_;
  HANDLE signal_ = nullptr;
  HANDLE stop_ = nullptr;
  std::thread waiter_;
};

}  // namespace

std::unique_ptr<EventLogReader> OpenEventLogReader(const EventLogOpenOptions& options,
                                                   EventLogError* error) {
  auto reader = std::make_unique<WindowsEventLogReader>();
  EventLogError local;
  if (!reader->Open(options, error ? error : &local)) return nullptr;
  return reader;
}

}  // namespace outpost::platform
