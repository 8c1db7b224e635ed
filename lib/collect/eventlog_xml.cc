// The event and bookmark XML reader; see eventlog_xml.h.
#include "collect/eventlog_xml.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <set>

#include "collect/text_encoding.h"
#include "util/json_text.h"

namespace outpost {

namespace {

// ------------------------------------------------------------------ the XML reader

struct XmlNode {
  std::string name;  // as written, prefix included
  std::vector<std::pair<std::string, std::string>> attrs;
  std::string text;  // the character data directly inside, entities decoded
  std::vector<size_t> children;
};

struct XmlDoc {
  std::vector<XmlNode> nodes;
  size_t root = 0;
};

std::string_view LocalName(std::string_view name) {
  const size_t colon = name.rfind(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool IsNameChar(char c) {
  return !IsSpace(c) && c != '<' && c != '>' && c != '/' && c != '=' && c != '"' && c != '\'' &&
         c != '&' && c != '?' && c != '!';
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class XmlReader {
 public:
  explicit XmlReader(std::string_view in) : in_(in) {}

  Status Parse(XmlDoc& doc) {
    if (in_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    std::vector<size_t> open;
    bool root_done = false;
    bool have_root = false;
    while (pos_ < in_.size()) {
      if (in_[pos_] != '<') {
        const size_t start = pos_;
        const size_t lt = in_.find('<', pos_);
        pos_ = lt == std::string_view::npos ? in_.size() : lt;
        const std::string_view raw = in_.substr(start, pos_ - start);
        if (open.empty()) {
          if (!std::all_of(raw.begin(), raw.end(), IsSpace))
            return Error(start, "text outside the root element");
          continue;
        }
        OUTPOST_RETURN_IF_ERROR(
            Decode(raw, start, /*attribute=*/false, doc.nodes[open.back()].text));
        continue;
      }
      const std::string_view rest = in_.substr(pos_);
      if (rest.starts_with("<!--")) {
        OUTPOST_RETURN_IF_ERROR(SkipPast("-->", "comment"));
      } else if (rest.starts_with("<![CDATA[")) {
        if (open.empty()) return Error(pos_, "CDATA outside the root element");
        const size_t start = pos_ + 9;
        const size_t end = in_.find("]]>", start);
        if (end == std::string_view::npos) return Error(pos_, "unterminated CDATA section");
        doc.nodes[open.back()].text.append(in_.substr(start, end - start));
        pos_ = end + 3;
      } else if (rest.starts_with("<!DOCTYPE")) {
        return Error(pos_, "a document type declaration (<!DOCTYPE) is refused");
      } else if (rest.starts_with("<!")) {
        return Error(pos_, "markup declarations (<!...>) are refused");
      } else if (rest.starts_with("<?")) {
        OUTPOST_RETURN_IF_ERROR(SkipPast("?>", "processing instruction"));
      } else if (rest.starts_with("</")) {
        const size_t at = pos_;
        pos_ += 2;
        const std::string_view name = ReadName();
        SkipSpace();
        if (pos_ >= in_.size()) return Error(at, "truncated: the document ends in an end tag");
        if (name.empty() || in_[pos_] != '>') return Error(at, "malformed end tag");
        ++pos_;
        if (open.empty() || doc.nodes[open.back()].name != name)
          return Error(at, "end tag </" + std::string(name) + "> does not match " +
                               (open.empty() ? std::string("any open element")
                                             : "<" + doc.nodes[open.back()].name + ">"));
        open.pop_back();
        if (open.empty()) root_done = true;
      } else {
        const size_t at = pos_;
        if (root_done) return Error(at, "a second root element");
        ++pos_;
        const std::string_view name = ReadName();
        if (pos_ >= in_.size()) return Error(at, "truncated: the document ends in a start tag");
        if (name.empty()) return Error(at, "'<' without an element name");
        if (doc.nodes.size() >= kEventXmlMaxElements)
          return Error(at, "more than " + std::to_string(kEventXmlMaxElements) + " elements");
        if (open.size() >= kEventXmlMaxDepth)
          return Error(at, "elements nested deeper than " + std::to_string(kEventXmlMaxDepth));
        XmlNode node;
        node.name = std::string(name);
        bool empty = false;
        for (;;) {
          SkipSpace();
          if (pos_ >= in_.size()) return Error(at, "truncated: <" + node.name + "> is not closed");
          if (in_[pos_] == '>') {
            ++pos_;
            break;
          }
          if (in_.substr(pos_).starts_with("/>")) {
            pos_ += 2;
            empty = true;
            break;
          }
          const size_t attr_at = pos_;
          const std::string_view attr = ReadName();
          if (pos_ + 1 >= in_.size())
            return Error(at, "truncated: <" + node.name + "> is not closed");
          if (attr.empty()) return Error(attr_at, "malformed attribute in <" + node.name + ">");
          SkipSpace();
          if (pos_ >= in_.size()) return Error(at, "truncated: <" + node.name + "> is not closed");
          if (in_[pos_] != '=')
            return Error(attr_at, "attribute " + std::string(attr) + " has no value");
          ++pos_;
          SkipSpace();
          if (pos_ >= in_.size()) return Error(at, "truncated: <" + node.name + "> is not closed");
          if (in_[pos_] != '"' && in_[pos_] != '\'')
            return Error(attr_at, "attribute " + std::string(attr) + " is not quoted");
          const char quote = in_[pos_++];
          const size_t end = in_.find(quote, pos_);
          if (end == std::string_view::npos)
            return Error(attr_at, "truncated: attribute " + std::string(attr) + " is not closed");
          const std::string_view raw = in_.substr(pos_, end - pos_);
          if (raw.find('<') != std::string_view::npos)
            return Error(attr_at, "'<' in the value of attribute " + std::string(attr));
          if (node.attrs.size() >= kEventXmlMaxAttributes)
            return Error(attr_at, "more than " + std::to_string(kEventXmlMaxAttributes) +
                                      " attributes in <" + node.name + ">");
          for (const auto& [n, v] : node.attrs)
            if (n == attr) return Error(attr_at, "duplicate attribute " + std::string(attr));
          std::string value;
          OUTPOST_RETURN_IF_ERROR(Decode(raw, pos_, /*attribute=*/true, value));
          node.attrs.emplace_back(std::string(attr), std::move(value));
          pos_ = end + 1;
        }
        const size_t index = doc.nodes.size();
        doc.nodes.push_back(std::move(node));
        if (open.empty()) {
          doc.root = index;
          have_root = true;
        } else {
          doc.nodes[open.back()].children.push_back(index);
        }
        if (empty) {
          if (open.empty()) root_done = true;
        } else {
          open.push_back(index);
        }
      }
    }
    if (!open.empty())
      return Error(in_.size(), "truncated: <" + doc.nodes[open.back()].name + "> is not closed");
    if (!have_root) return Error(0, "no element");
    return Status::Ok();
  }

 private:
  Status Error(size_t at, const std::string& what) const {
    return InvalidArgument(what + " at byte " + std::to_string(at));
  }

  Status SkipPast(std::string_view end, std::string_view what) {
    const size_t at = in_.find(end, pos_ + 2);
    if (at == std::string_view::npos) return Error(pos_, "unterminated " + std::string(what));
    pos_ = at + end.size();
    return Status::Ok();
  }

  void SkipSpace() {
    while (pos_ < in_.size() && IsSpace(in_[pos_])) ++pos_;
  }

  std::string_view ReadName() {
    const size_t start = pos_;
    while (pos_ < in_.size() && IsNameChar(in_[pos_])) ++pos_;
    return in_.substr(start, pos_ - start);
  }

  // Appends `raw` with its entities decoded and its line ends normalized (XML 1.0
  // 2.11; in attributes every whitespace character becomes a space, 3.3.3). Decoding
  // never makes text longer, so the input cap bounds the output.
  Status Decode(std::string_view raw, size_t base, bool attribute, std::string& out) const {
    for (size_t i = 0; i < raw.size(); ++i) {
      const char c = raw[i];
      if (c == '\r') {
        out += attribute ? ' ' : '\n';
        if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
        continue;
      }
      if (attribute && (c == '\n' || c == '\t')) {
        out += ' ';
        continue;
      }
      if (c != '&') {
        out += c;
        continue;
      }
      const size_t semi = raw.find(';', i);
      if (semi == std::string_view::npos && base + raw.size() >= in_.size())
        return Error(base + i, "truncated: the document ends in an entity");
      if (semi == std::string_view::npos || semi - i > 12)
        return Error(base + i, "'&' that starts no entity");
      const std::string_view ent = raw.substr(i + 1, semi - i - 1);
      if (ent == "amp") {
        out += '&';
      } else if (ent == "lt") {
        out += '<';
      } else if (ent == "gt") {
        out += '>';
      } else if (ent == "quot") {
        out += '"';
      } else if (ent == "apos") {
        out += '\'';
      } else if (ent.size() >= 2 && ent[0] == '#') {
        const bool hex = ent[1] == 'x';
        const std::string_view digits = ent.substr(hex ? 2 : 1);
        uint32_t cp = 0;
        const auto r =
            std::from_chars(digits.data(), digits.data() + digits.size(), cp, hex ? 16 : 10);
        if (digits.empty() || r.ec != std::errc() || r.ptr != digits.data() + digits.size() ||
            cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
          return Error(base + i,
                       "character reference &" + std::string(ent) + "; is not a character");
        AppendUtf8(out, cp);
      } else {
        return Error(base + i, "unknown entity &" + std::string(ent) + ";");
      }
      i = semi;
    }
    return Status::Ok();
  }

  std::string_view in_;
  size_t pos_ = 0;
};

Result<XmlDoc> ReadXml(std::string_view xml, size_t max_bytes) {
  if (xml.size() > max_bytes)
    return InvalidArgument("the XML is " + std::to_string(xml.size()) + " bytes, over the cap of " +
                           std::to_string(max_bytes));
  XmlDoc doc;
  doc.nodes.reserve(32);
  OUTPOST_RETURN_IF_ERROR(XmlReader(xml).Parse(doc));
  return doc;
}

const std::string* Attr(const XmlNode& n, std::string_view name) {
  for (const auto& [k, v] : n.attrs)
    if (k == name) return &v;
  return nullptr;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

template <typename T>
std::optional<T> ParseNumber(std::string_view s) {
  s = Trim(s);
  if (s.empty() || s.size() > 20) return std::nullopt;
  T v = 0;
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<uint32_t> AttrNumber(const XmlNode& n, std::string_view name) {
  const std::string* v = Attr(n, name);
  return v ? ParseNumber<uint32_t>(*v) : std::nullopt;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// "2026-11-30T10:15:32.1234567Z" (also without a fraction, or with a +hh:mm offset).
std::optional<WallTime> ParseSystemTime(std::string_view s) {
  s = Trim(s);
  auto digits = [&](size_t at, size_t n) -> std::optional<int> {
    if (at + n > s.size()) return std::nullopt;
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2), hour = digits(11, 2),
             minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || s[4] != '-' || s[7] != '-' ||
      (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  // Within what every clock's time_point holds (ns since 1970 reaches 1677..2262).
  if (*year < 1700 || *year > 2200 || *month < 1 || *month > 12 || *day < 1 || *day > 31 ||
      *hour > 23 || *minute > 59 || *second > 60)
    return std::nullopt;
  size_t pos = 19;
  int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    size_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 6) micros = micros * 10 + (s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0 || n > 9) return std::nullopt;
    for (size_t i = n; i < 6; ++i) micros *= 10;
  }
  int64_t offset_s = 0;
  if (pos < s.size() && s[pos] == 'Z') {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    const auto oh = digits(pos + 1, 2), om = digits(pos + 4, 2);
    if (!oh || !om || s[pos + 3] != ':' || *oh > 23 || *om > 59) return std::nullopt;
    offset_s = (*oh * 3600 + *om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  const int64_t days =
      DaysFromCivil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
  const int64_t secs = days * 86400 + *hour * 3600 + *minute * 60 + *second - offset_s;
  return WallTime(std::chrono::duration_cast<WallTime::duration>(
      std::chrono::microseconds(secs * 1000000 + micros)));
}

// Adds a field, renaming a repeated name to name_2, name_3, ... (a JSON object has
// each key once), and counting what passes the cap.
void AddField(EventLogEvent& e, std::vector<EventDataField>& to, std::string name,
              std::string value) {
  if (e.event_data.size() + e.user_data.size() >= kEventMaxDataFields) {
    ++e.dropped_fields;
    return;
  }
  if (name.empty()) name = "param" + std::to_string(to.size() + 1);
  auto taken = [&](const std::string& n) {
    return std::any_of(to.begin(), to.end(), [&](const EventDataField& f) { return f.name == n; });
  };
  if (taken(name)) {
    for (int i = 2;; ++i) {
      std::string alt = name + "_" + std::to_string(i);
      if (!taken(alt)) {
        name = std::move(alt);
        break;
      }
    }
  }
  to.push_back({std::move(name), std::move(value)});
}

// UserData's element: its leaf elements become fields named by their path below it
// ("Param1", "Subject.UserSid"); a <Data Name="x"> leaf is named x.
void FlattenUserData(const XmlDoc& doc, size_t node, const std::string& path, EventLogEvent& e) {
  for (size_t child : doc.nodes[node].children) {
    const XmlNode& c = doc.nodes[child];
    std::string name(LocalName(c.name));
    if (c.children.empty()) {
      const std::string* data_name = name == "Data" ? Attr(c, "Name") : nullptr;
      AddField(e, e.user_data, data_name ? *data_name : path + name, c.text);
    } else {
      FlattenUserData(doc, child, path + name + ".", e);
    }
  }
}

void ReadSystem(const XmlDoc& doc, const XmlNode& system, EventLogEvent& e) {
  for (size_t child : system.children) {
    const XmlNode& c = doc.nodes[child];
    const std::string_view name = LocalName(c.name);
    if (name == "Provider") {
      if (const std::string* v = Attr(c, "Name")) e.provider = *v;
      if (const std::string* v = Attr(c, "Guid")) e.provider_guid = *v;
      if (e.provider.empty())
        if (const std::string* v = Attr(c, "EventSourceName")) e.provider = *v;
    } else if (name == "EventID") {
      e.event_id = ParseNumber<uint32_t>(c.text);
      e.qualifiers = AttrNumber(c, "Qualifiers");
    } else if (name == "Level") {
      e.level = ParseNumber<uint32_t>(c.text);
      if (e.level && *e.level > 255) e.level.reset();
    } else if (name == "Task") {
      e.task = ParseNumber<uint32_t>(c.text);
    } else if (name == "Opcode") {
      e.opcode = ParseNumber<uint32_t>(c.text);
    } else if (name == "Keywords") {
      e.keywords = std::string(Trim(c.text));
    } else if (name == "TimeCreated") {
      if (const std::string* v = Attr(c, "SystemTime")) {
        e.time_text = *v;
        e.time = ParseSystemTime(*v);
      }
    } else if (name == "EventRecordID") {
      e.record_id = ParseNumber<uint64_t>(c.text);
    } else if (name == "Execution") {
      e.process_id = AttrNumber(c, "ProcessID");
      e.thread_id = AttrNumber(c, "ThreadID");
    } else if (name == "Channel") {
      e.channel = std::string(Trim(c.text));
    } else if (name == "Computer") {
      e.computer = std::string(Trim(c.text));
    } else if (name == "Security") {
      if (const std::string* v = Attr(c, "UserID")) e.user_id = *v;
    }
  }
}

void AppendKey(std::string& out, std::string_view key) {
  out += ",\"";
  out += key;
  out += "\":";
}

template <typename T>
void AppendNumber(std::string& out, std::string_view key, const std::optional<T>& v) {
  if (!v) return;
  AppendKey(out, key);
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, *v);
  out.append(digits, r.ptr);
}

void AppendText(std::string& out, std::string_view key, std::string_view v) {
  if (v.empty()) return;
  AppendKey(out, key);
  AppendJsonString(out, v);
}

// The value cut to `max` bytes on a UTF-8 boundary; *cut is set when it was cut.
void AppendCapped(std::string& out, const std::string& v, uint64_t max, bool* cut) {
  if (v.size() <= max) {
    AppendJsonString(out, v);
    return;
  }
  std::string c = v;
  TruncateUtf8(c, static_cast<size_t>(max));
  AppendJsonString(out, c);
  *cut = true;
}

void AppendFields(std::string& out, std::string_view key, const std::vector<EventDataField>& fs,
                  uint64_t max, bool* cut) {
  if (fs.empty()) return;
  AppendKey(out, key);
  out += '{';
  bool first = true;
  for (const EventDataField& f : fs) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, f.name);
    out += ':';
    AppendCapped(out, f.value, max, cut);
  }
  out += '}';
}

}  // namespace

Result<EventLogEvent> ParseEventXml(std::string_view xml) {
  Result<XmlDoc> read = ReadXml(xml, kEventXmlMaxBytes);
  if (!read.ok()) return read.status();
  const XmlDoc& doc = *read;
  const XmlNode& root = doc.nodes[doc.root];
  if (LocalName(root.name) != "Event")
    return InvalidArgument("not an event: the root element is <" + root.name + ">");
  EventLogEvent e;
  bool have_system = false;
  for (size_t child : root.children) {
    const XmlNode& c = doc.nodes[child];
    const std::string_view name = LocalName(c.name);
    if (name == "System") {
      have_system = true;
      ReadSystem(doc, c, e);
    } else if (name == "EventData") {
      for (size_t d : c.children) {
        const XmlNode& data = doc.nodes[d];
        const std::string_view dn = LocalName(data.name);
        const std::string* n = dn == "Data" ? Attr(data, "Name") : nullptr;
        std::string field = n ? *n : dn == "Data" ? std::string() : std::string(dn);
        if (dn == "Binary") field = "binary";
        AddField(e, e.event_data, std::move(field), data.text);
      }
    } else if (name == "UserData") {
      if (!c.children.empty()) {
        const XmlNode& top = doc.nodes[c.children.front()];
        e.user_data_name = std::string(LocalName(top.name));
        FlattenUserData(doc, c.children.front(), "", e);
      }
    } else if (name == "RenderingInfo") {
      for (size_t r : c.children) {
        const XmlNode& info = doc.nodes[r];
        const std::string_view rn = LocalName(info.name);
        if (rn == "Message")
          e.message = info.text;
        else if (rn == "Level")
          e.level_text = std::string(Trim(info.text));
        else if (rn == "Task")
          e.task_text = std::string(Trim(info.text));
      }
    }
  }
  if (!have_system) return InvalidArgument("not an event: <System> is missing");
  return e;
}

std::string EventLevelName(uint32_t level) {
  static constexpr std::array<std::string_view, 6> kNames = {
      "information", "critical", "error", "warning", "information", "verbose"};
  if (level < kNames.size()) return std::string(kNames[level]);
  return std::to_string(level);
}

bool IsEventLogRecordField(std::string_view name) {
  static constexpr std::array<std::string_view, 22> kFields = {"truncated",
                                                               "provider",
                                                               "provider_guid",
                                                               "event_id",
                                                               "qualifiers",
                                                               "level",
                                                               "task",
                                                               "task_name",
                                                               "opcode",
                                                               "keywords",
                                                               "channel",
                                                               "computer",
                                                               "record_id",
                                                               "user_id",
                                                               "process_id",
                                                               "thread_id",
                                                               "event_data",
                                                               "user_data",
                                                               "user_data_element",
                                                               "dropped_fields",
                                                               "xml_error",
                                                               "event_time"};
  return std::find(kFields.begin(), kFields.end(), name) != kFields.end();
}

void AppendEventLogRecord(RecordEncoder& encoder, std::string& out, const EventLogEvent& e,
                          uint64_t max_message_bytes, WallTime now) {
  std::string own;
  own.reserve(512);
  bool truncated = false;
  own += ",\"message\":";
  AppendCapped(own, e.message.value_or(std::string()), max_message_bytes, &truncated);
  std::string fields;
  AppendText(fields, "provider", e.provider);
  AppendText(fields, "provider_guid", e.provider_guid);
  AppendNumber(fields, "event_id", e.event_id);
  AppendNumber(fields, "qualifiers", e.qualifiers);
  if (e.level) AppendText(fields, "level", EventLevelName(*e.level));
  AppendNumber(fields, "task", e.task);
  AppendText(fields, "task_name", e.task_text);
  AppendNumber(fields, "opcode", e.opcode);
  AppendText(fields, "keywords", e.keywords);
  AppendText(fields, "channel", e.channel);
  AppendText(fields, "computer", e.computer);
  AppendNumber(fields, "record_id", e.record_id);
  AppendText(fields, "user_id", e.user_id);
  AppendNumber(fields, "process_id", e.process_id);
  AppendNumber(fields, "thread_id", e.thread_id);
  // The time as Windows wrote it (100 ns), when it could not become @timestamp.
  if (!e.time) AppendText(fields, "event_time", e.time_text);
  AppendFields(fields, "event_data", e.event_data, max_message_bytes, &truncated);
  AppendText(fields, "user_data_element", e.user_data_name);
  AppendFields(fields, "user_data", e.user_data, max_message_bytes, &truncated);
  if (e.dropped_fields > 0)
    AppendNumber(fields, "dropped_fields", std::optional<uint64_t>(e.dropped_fields));
  if (truncated) own += ",\"truncated\":true";
  own += fields;
  encoder.AppendRecord(out, e.time.value_or(now), own);
}

void AppendUnreadableEventRecord(RecordEncoder& encoder, std::string& out, std::string_view xml,
                                 std::string_view error, uint64_t max_message_bytes, WallTime now) {
  std::string own = ",\"message\":";
  bool truncated = false;
  AppendCapped(own, std::string(xml), max_message_bytes, &truncated);
  if (truncated) own += ",\"truncated\":true";
  AppendText(own, "xml_error", error);
  encoder.AppendRecord(out, now, own);
}

Result<std::vector<EventLogBookmark>> ParseBookmarkXml(std::string_view xml) {
  Result<XmlDoc> read = ReadXml(xml, kBookmarkXmlMaxBytes);
  if (!read.ok()) return read.status();
  const XmlDoc& doc = *read;
  const XmlNode& root = doc.nodes[doc.root];
  if (root.name != "BookmarkList")
    return InvalidArgument("not a bookmark: the root element is <" + root.name + ">");
  if (!Trim(root.text).empty()) return InvalidArgument("text inside <BookmarkList>");
  std::vector<EventLogBookmark> out;
  for (size_t child : root.children) {
    const XmlNode& b = doc.nodes[child];
    if (b.name != "Bookmark")
      return InvalidArgument("<" + b.name + "> inside <BookmarkList>; only <Bookmark> belongs");
    if (!b.children.empty() || !Trim(b.text).empty())
      return InvalidArgument("a <Bookmark> with content");
    EventLogBookmark bm;
    const std::string* channel = Attr(b, "Channel");
    const std::string* record = Attr(b, "RecordId");
    if (!channel || channel->empty()) return InvalidArgument("a <Bookmark> without Channel");
    if (!record) return InvalidArgument("a <Bookmark> without RecordId");
    const std::optional<uint64_t> id = ParseNumber<uint64_t>(*record);
    if (!id || record->find_first_not_of("0123456789") != std::string::npos)
      return InvalidArgument("RecordId '" + *record + "' is not a decimal number");
    bm.channel = *channel;
    bm.record_id = *id;
    if (const std::string* cur = Attr(b, "IsCurrent")) {
      if (*cur == "true")
        bm.is_current = true;
      else if (*cur != "false")
        return InvalidArgument("IsCurrent '" + *cur + "' is neither true nor false");
    }
    for (const auto& [k, v] : b.attrs)
      if (k != "Channel" && k != "RecordId" && k != "IsCurrent")
        return InvalidArgument("unknown attribute " + k + " in <Bookmark>");
    out.push_back(std::move(bm));
  }
  if (out.empty()) return InvalidArgument("a <BookmarkList> without any <Bookmark>");
  return out;
}

}  // namespace outpost
