// Property lists (Apple's .plist files) parsed into a small value tree, for the macOS
// device tables: SystemVersion.plist (os_version), the Info.plist of every app bundle
// (apps), the local directory's user records and the system preferences.
//
// Both encodings are read, chosen by the first bytes: the XML form
// (<?xml ...?><plist version="1.0"><dict>...) and the binary form ("bplist00"), which
// Apple's own apps and the directory service use. The file is named for the XML form,
// which came first; the binary reader is the second half of plist_xml.cc.
//
// Pure C++ with no OS header, so it is compiled on every OS and unit tested on Linux
// (tests/platform/plist_xml_test.cc, fixtures in tests/fixtures/macos/): the macOS
// tables that use it cannot be built here, this part can. Input is untrusted (any app
// can ship any Info.plist): every read is bounds-checked, nesting is limited, the
// number of values is limited (a binary plist can reference one array from many places,
// which would otherwise expand exponentially), and bad input gives an error, never a
// crash or an exception.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::platform::plist {

enum class Type { kString, kInteger, kReal, kBool, kDate, kData, kArray, kDict };

struct DictEntry;  // a key and its value (below: it holds a Value)

struct Value {
  Type type = Type::kString;
  // kString: UTF-8 text (entities decoded; UTF-16 converted). kData: the decoded bytes.
  // kDate: "YYYY-MM-DDTHH:MM:SSZ" (UTC).
  std::string text;
  int64_t integer = 0;          // kInteger; kBool: 0 or 1
  double real = 0;              // kReal; kDate: seconds since 1970-01-01 UTC
  std::vector<Value> array;     // kArray
  std::vector<DictEntry> dict;  // kDict, in document order

  // kDict: the value of the first entry named `key`, or null (also for other types).
  const Value* Find(std::string_view key) const;
  // A dict entry's text: a string as is, an integer in decimal, a bool as "1"/"0" (how
  // osquery shows Info.plist booleans), a real in shortest form. nullopt when the key
  // is absent or holds a date, data, an array or a dict.
  std::optional<std::string> Text(std::string_view key) const;
  // The same for this value itself.
  std::optional<std::string> AsText() const;
};

struct DictEntry {
  std::string key;
  Value value;
};

struct Limits {
  size_t max_depth = 64;         // nested arrays and dicts
  size_t max_values = 1u << 20;  // values produced in all
  size_t max_bytes = 16u << 20;  // input size
};

// The whole plist, XML or binary. False with *error ("line 12: <string> is not closed")
// when it is neither or is malformed; `out` is then unspecified.
bool Parse(std::string_view bytes, Value& out, std::string* error, const Limits& limits = {});

// One encoding only.
bool ParseXml(std::string_view text, Value& out, std::string* error, const Limits& limits = {});
bool ParseBinary(std::string_view bytes, Value& out, std::string* error, const Limits& limits = {});

// True when `bytes` starts like a binary plist ("bplist0").
bool IsBinary(std::string_view bytes);

// Seconds since 1970 as "YYYY-MM-DDTHH:MM:SSZ" (whole seconds, UTC); and back,
// nullopt when the text is not that form.
std::string FormatDate(double unix_seconds);
std::optional<double> ParseDate(std::string_view text);

// `text` escaped for an XML element's content (& < > " '); nullopt when it holds a
// character XML 1.0 cannot carry (a control character other than tab, LF, CR). For
// writing a path into the launchd plist.
std::optional<std::string> EscapeXmlText(std::string_view text);

// "14.2.1" -> {14, 2, 1}; a missing or non-numeric part is nullopt. For os_version's
// major/minor/patch columns.
struct VersionParts {
  std::optional<int64_t> major, minor, patch;
};
VersionParts SplitVersion(std::string_view version);

}  // namespace outpost::platform::plist
