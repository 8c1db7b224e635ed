// Property list parsing (platform/common/plist_xml.h): the XML and binary forms on the
// macOS fixture tree (tests/fixtures/macos/root: files as macOS writes them; the binary
// ones made with Python's plistlib), every kind of value, and malformed input, which
// must give an error and never a crash (the sanitizer build checks every truncation and
// many byte changes of the fixtures). On macOS (the CI job) the tables that read plists
// run on the same fixture tree.
#include <catch.hpp>
#include "source_dir.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/plist_xml.h"
#if defined(__APPLE__)
#include "platform/table_rows.h"
#endif

namespace outpost::test {
namespace {

namespace plist = platform::plist;

std::string Fixture(const std::string& relative) {
  std::ifstream in(std::string(OUTPOST_SOURCE_DIR) + "/tests/fixtures/macos/root/" + relative,
                   std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

plist::Value MustParse(std::string_view bytes) {
  plist::Value v;
  std::string error;
  const bool ok = plist::Parse(bytes, v, &error);
  INFO(error);
  REQUIRE(ok);
  return v;
}

std::string ParseError(std::string_view bytes, const plist::Limits& limits = {}) {
  plist::Value v;
  std::string error;
  if (plist::Parse(bytes, v, &error, limits)) return "(parsed)";
  CHECK(!error.empty());
  return error;
}

std::string Wrap(const std::string& body) {
  return "<?xml version=\"1.0\"?>\n<plist version=\"1.0\">\n" + body + "\n</plist>\n";
}

// A binary plist from already encoded objects: offsets and the trailer are computed.
// Object references are one byte wide.
std::string Bplist(const std::vector<std::string>& objects, uint8_t top = 0) {
  std::string out = "bplist00";
  std::vector<uint16_t> offsets;
  for (const std::string& o : objects) {
    offsets.push_back(static_cast<uint16_t>(out.size()));
    out += o;
  }
  const uint64_t table = out.size();
  for (const uint16_t off : offsets) {
    out += static_cast<char>(off >> 8);
    out += static_cast<char>(off & 0xFF);
  }
  std::string trailer(32, '\0');
  trailer[6] = 2;  // offset size
  trailer[7] = 1;  // reference size
  trailer[15] = static_cast<char>(objects.size());
  trailer[23] = static_cast<char>(top);
  for (int i = 0; i < 8; ++i) trailer[24 + i] = static_cast<char>((table >> (56 - 8 * i)) & 0xFF);
  return out + trailer;
}

TEST_CASE("plist: SystemVersion.plist (XML, with DOCTYPE)", "[plist]") {
  const plist::Value v = MustParse(Fixture("System/Library/CoreServices/SystemVersion.plist"));
  REQUIRE(v.type == plist::Type::kDict);
  CHECK(v.Text("ProductName") == "macOS");
  CHECK(v.Text("ProductVersion") == "14.2.1");
  CHECK(v.Text("ProductBuildVersion") == "23C71");
  CHECK(!v.Text("NoSuchKey"));
  const plist::VersionParts p = plist::SplitVersion(*v.Text("ProductVersion"));
  CHECK(p.major == 14);
  CHECK(p.minor == 2);
  CHECK(p.patch == 1);
}

TEST_CASE("plist: an XML Info.plist with entities, CDATA and nested values", "[plist]") {
  const plist::Value v = MustParse(Fixture("Applications/Notes Plus.app/Contents/Info.plist"));
  REQUIRE(v.type == plist::Type::kDict);
  CHECK(v.Text("CFBundleDisplayName") == "Notes & More \xE2\x80\x94 <Plus>");
  CHECK(v.Text("CFBundleGetInfoString") == "Notes Plus 2.4.1 <beta> & friends");
  CHECK(v.Text("NSHumanReadableCopyright") ==
        "Copyright \xC2\xA9 2024 Example Ltd. All rights reserved.");
  CHECK(v.Text("CFBundleExecutable") == "Notes Plus");
  CHECK(v.Text("NSAppleScriptEnabled") == "1");
  CHECK(v.Text("DTPlatformBuild") == "");
  CHECK(v.Text("EmptyString") == "");
  CHECK(v.Text("SUScheduledCheckInterval") == "86400");
  CHECK(v.Find("SomeNegative")->integer == -42);
  CHECK(v.Find("SomeHex")->integer == 31);
  CHECK(v.Find("SomeReal")->real == 2.5);
  CHECK(v.Text("SomeReal") == "2.5");
  const plist::Value* date = v.Find("SomeDate");
  REQUIRE(date);
  CHECK(date->type == plist::Type::kDate);
  CHECK(date->text == "2024-02-29T12:34:56Z");
  CHECK(date->real == 1709210096.0);
  CHECK(!v.Text("SomeDate"));  // not text
  CHECK(v.Find("SomeData")->type == plist::Type::kData);
  CHECK(v.Find("SomeData")->text == "hello world");
  CHECK(v.Find("EmptyArray")->type == plist::Type::kArray);
  CHECK(v.Find("EmptyArray")->array.empty());
  const plist::Value* types = v.Find("CFBundleDocumentTypes");
  REQUIRE(types);
  REQUIRE(types->array.size() == 1);
  const plist::Value& doc = types->array[0];
  CHECK(doc.Text("CFBundleTypeRole") == "Editor");
  CHECK(doc.Text("LSIsAppleDefaultForType") == "0");
  REQUIRE(doc.Find("CFBundleTypeExtensions")->array.size() == 2);
  CHECK(doc.Find("CFBundleTypeExtensions")->array[1].text == "txt");
  CHECK(v.Find("LSEnvironment")->Text("MallocNanoZone") == "0");
  CHECK(!v.Text("LSEnvironment"));  // a dict has no text
}

TEST_CASE("plist: a binary Info.plist (bplist00)", "[plist]") {
  const std::string bytes = Fixture("Applications/Calculator.app/Contents/Info.plist");
  REQUIRE(plist::IsBinary(bytes));
  const plist::Value v = MustParse(bytes);
  REQUIRE(v.type == plist::Type::kDict);
  CHECK(v.dict.size() == 21);  // more than 14 entries: the count is an integer object
  CHECK(v.Text("CFBundleIdentifier") == "com.apple.calculator");
  CHECK(v.Text("CFBundleShortVersionString") == "11.0");
  CHECK(v.Text("NSAppleScriptEnabled") == "0");
  // Non-ASCII text is stored as UTF-16BE, with a surrogate pair for U+1F9EE.
  CHECK(v.Text("NSHumanReadableCopyright") ==
        "Copyright \xC2\xA9 2000\xE2\x80\x93"
        "2023 Apple Inc. All rights reserved.");
  CHECK(v.Text("Emoji") == "calc \xF0\x9F\xA7\xAE");
  CHECK(v.Find("BigInt")->integer == (int64_t{1} << 40));
  CHECK(v.Find("Negative")->integer == -5);
  CHECK(v.Find("Real")->real == 0.25);
  CHECK(v.Find("Date")->type == plist::Type::kDate);
  CHECK(v.Find("Date")->text == "2023-11-07T08:09:10Z");
  CHECK(v.Find("Data")->text == std::string("\x00\x01"
                                            "binary\xff",
                                            9));
  CHECK(v.Find("LSEnvironment")->Text("LANG") == "C");
  const plist::Value* uti = v.Find("UTExportedTypeDeclarations");
  REQUIRE(uti);
  REQUIRE(uti->array.size() == 1);
  REQUIRE(uti->array[0].Find("UTTypeConformsTo"));
  CHECK(uti->array[0].Find("UTTypeConformsTo")->array.size() == 2);
  CHECK(uti->array[0].Find("UTTypeConformsTo")->array[1].text == "public.content");
}

TEST_CASE("plist: directory user records and system preferences", "[plist]") {
  const plist::Value alice = MustParse(Fixture("var/db/dslocal/nodes/Default/users/alice.plist"));
  const plist::Value* name = alice.Find("name");
  REQUIRE(name);
  REQUIRE(name->type == plist::Type::kArray);
  CHECK(name->array.at(0).text == "alice");
  CHECK(alice.Find("generateduid")->array.at(0).text == "5A1C1D2E-3F40-4A5B-9C6D-7E8F90A1B2C3");
  const plist::Value prefs =
      MustParse(Fixture("Library/Preferences/SystemConfiguration/preferences.plist"));
  const plist::Value* system = prefs.Find("System");
  REQUIRE(system);
  CHECK(system->Find("System")->Text("ComputerName") == "Alice\xE2\x80\x99s MacBook Pro");
  CHECK(system->Find("Network")->Find("HostNames")->Text("LocalHostName") == "Alices-MacBook-Pro");
}

TEST_CASE("plist: XML details", "[plist]") {
  SECTION("a bare value without <plist>, comments anywhere, a BOM") {
    const plist::Value v = MustParse(
        "\xEF\xBB\xBF<!-- c --><dict><!-- c --><key>a</key><!-- c --><string>x<!-- "
        "c -->y</string></dict>");
    CHECK(v.Text("a") == "xy");
  }
  SECTION("character references") {
    const plist::Value v = MustParse(Wrap("<string>&#65;&#x42;&#x1F600;&quot;&apos;</string>"));
    CHECK(v.text == "AB\xF0\x9F\x98\x80\"'");
  }
  SECTION("a repeated key: the first wins") {
    const plist::Value v =
        MustParse(Wrap("<dict><key>k</key><string>1</string><key>k</key>"
                       "<string>2</string></dict>"));
    CHECK(v.Text("k") == "1");
    CHECK(v.dict.size() == 2);
  }
  SECTION("integers at the limits") {
    CHECK(MustParse(Wrap("<integer>9223372036854775807</integer>")).integer == INT64_MAX);
    CHECK(MustParse(Wrap("<integer>-9223372036854775808</integer>")).integer == INT64_MIN);
  }
  SECTION("a DOCTYPE with an internal subset") {
    const plist::Value v =
        MustParse("<!DOCTYPE plist [ <!ENTITY x \"y\"> ]><plist><true/></plist>");
    CHECK(v.type == plist::Type::kBool);
    CHECK(v.integer == 1);
  }
  SECTION("nesting up to the limit") {
    std::string deep;
    for (int i = 0; i < 60; ++i) deep += "<array>";
    deep += "<string>bottom</string>";
    for (int i = 0; i < 60; ++i) deep += "</array>";
    const plist::Value v = MustParse(Wrap(deep));
    const plist::Value* p = &v;
    for (int i = 0; i < 60; ++i) {
      REQUIRE(p->array.size() == 1);
      p = &p->array[0];
    }
    CHECK(p->text == "bottom");
  }
}

TEST_CASE("plist: malformed XML gives an error", "[plist]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "unexpected end"},
      {"<?xml version=\"1.0\"?>", "unexpected end"},
      {"just text", "found text"},
      {Wrap("<string>open"), "</plist> inside <string>"},
      {"<string>open", "<string> is not closed"},
      {Wrap("<dict><key>a</key></dict>"), "has no value"},
      {Wrap("<dict><key>a</key><key>b</key><string/></dict>"), "has no value"},
      {Wrap("<dict><string>x</string></dict>"), "where a <key> belongs"},
      {Wrap("<array><string>x</string></dict>"), "closes <array>"},
      {Wrap("<string>a & b</string>"), "bare '&'"},
      {Wrap("<string>&nbsp;</string>"), "unknown entity"},
      {Wrap("<string>&#0;</string>"), "bad character reference"},
      {Wrap("<string>&#xD800;</string>"), "bad character reference"},
      {Wrap("<string>&#x110000;</string>"), "bad character reference"},
      {Wrap("<string>a<b/>c</string>"), "inside <string>"},
      {Wrap("<integer>12a</integer>"), "bad <integer>"},
      {Wrap("<integer>99999999999999999999</integer>"), "bad <integer>"},
      {Wrap("<integer></integer>"), "bad <integer>"},
      {Wrap("<real>1.5x</real>"), "bad <real>"},
      {Wrap("<date>2024-13-01T00:00:00Z</date>"), "bad <date>"},
      {Wrap("<date>yesterday</date>"), "bad <date>"},
      {Wrap("<data>!!!</data>"), "bad base64"},
      {Wrap("<true>yes</true>"), "holds text"},
      {Wrap("<key>k</key>"), "outside a <dict>"},
      {Wrap("<foo>1</foo>"), "unknown element"},
      {"<plist version=\"1.0\"/>", "holds no value"},
      {"<plist></plist>", "holds no value"},
      {Wrap("<string>a</string><string>b</string>"), "expected </plist>"},
      {"<string>a</string> trailing", "after the end"},
      {"<plist><string>a</string>", "unexpected end"},
      {"<!-- never closed", "not closed"},
      {Wrap("<string attr=\"open>x</string>"), "attribute value is not closed"},
      {Wrap("<string"), "not closed with '>'"},
      {Wrap("</>"), "without a name"},
  };
  for (const auto& [text, expected] : cases) {
    INFO(text);
    const std::string error = ParseError(text);
    CHECK(error.find(expected) != std::string::npos);
  }
  // Errors say where.
  CHECK(ParseError("<plist>\n<dict>\n<key>a</key>\n</dict>\n</plist>").find("line 4:") == 0);
}

TEST_CASE("plist: limits on nesting, values and size", "[plist]") {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<array>";
  CHECK(ParseError(deep).find("nested deeper than the limit") != std::string::npos);
  plist::Limits small;
  small.max_values = 10;
  std::string many = "<array>";
  for (int i = 0; i < 20; ++i) many += "<true/>";
  many += "</array>";
  CHECK(ParseError(many, small).find("more values than the limit") != std::string::npos);
  small = plist::Limits{};
  small.max_bytes = 16;
  CHECK(ParseError(Wrap("<string>long enough</string>"), small).find("larger than the limit") !=
        std::string::npos);
}

TEST_CASE("plist: binary objects built by hand", "[plist]") {
  SECTION("an array of an int, a string and true") {
    const plist::Value v = MustParse(
        Bplist({"\xA3\x01\x02\x03", std::string("\x10\x07", 2), "\x52hi", std::string("\x09", 1)}));
    REQUIRE(v.array.size() == 3);
    CHECK(v.array[0].integer == 7);
    CHECK(v.array[1].text == "hi");
    CHECK(v.array[2].type == plist::Type::kBool);
  }
  SECTION("an unpaired surrogate becomes U+FFFD") {
    const plist::Value v = MustParse(Bplist({std::string("\x62\xD8\x00\x00\x41", 5)}));
    CHECK(v.text ==
          "\xEF\xBF\xBD"
          "A");
  }
  SECTION("a UID is an integer") {
    CHECK(MustParse(Bplist({std::string("\x81\x01\x02", 3)})).integer == 258);
  }
}

TEST_CASE("plist: malformed binary gives an error", "[plist]") {
  CHECK(ParseError("bplist00").find("too short") != std::string::npos);
  CHECK(ParseError("bplist00" + std::string(40, '\0')).find("trailer") != std::string::npos);
  // A reference to an object that does not exist.
  CHECK(ParseError(Bplist({"\xA1\x05"})).find("past the object count") != std::string::npos);
  // A string longer than the file.
  CHECK(ParseError(Bplist({"\x5Fhi"})).find("length") != std::string::npos);
  CHECK(ParseError(Bplist({"\x5E"
                           "abc"}))
            .find("past the end") != std::string::npos);
  // The top object index past the count.
  CHECK(ParseError(Bplist({"\x09"}, 3)).find("object count") != std::string::npos);
  // A dict key that is not a string.
  CHECK(ParseError(Bplist({"\xD1\x01\x01", std::string("\x10\x01", 2)})).find("not a string") !=
        std::string::npos);
  // A null object, an unknown marker, a 3-byte real.
  CHECK(ParseError(Bplist({std::string("\x00", 1)})).find("null") != std::string::npos);
  CHECK(ParseError(Bplist({"\xF0"})).find("unknown object marker") != std::string::npos);
  CHECK(ParseError(Bplist({std::string("\x21\x00\x00", 3)})).find("not 4 or 8") !=
        std::string::npos);
  // An array that contains itself: stopped by the depth limit.
  CHECK(ParseError(Bplist({std::string("\xA1\x00", 2)})).find("nested deeper") !=
        std::string::npos);
  // Forty arrays each holding the next one twice: 2^40 values if expanded.
  std::vector<std::string> objects;
  for (int i = 0; i < 40; ++i)
    objects.push_back(std::string("\xA2") + static_cast<char>(i + 1) + static_cast<char>(i + 1));
  objects.push_back("\x51x");
  CHECK(ParseError(Bplist(objects)).find("more values than the limit") != std::string::npos);
}

// Every prefix and many single-byte changes of the fixtures either parse or fail with a
// message; under the sanitizers this is where an out-of-bounds read would show.
TEST_CASE("plist: truncated and corrupted fixtures never crash", "[plist]") {
  const std::vector<std::string> files = {
      Fixture("Applications/Calculator.app/Contents/Info.plist"),
      Fixture("var/db/dslocal/nodes/Default/users/alice.plist"),
      Fixture("Applications/Notes Plus.app/Contents/Info.plist"),
  };
  size_t failures = 0;
  for (const std::string& f : files) {
    for (size_t n = 0; n < f.size(); ++n) {
      plist::Value v;
      std::string error;
      if (!plist::Parse(std::string_view(f).substr(0, n), v, &error)) {
        ++failures;
        CHECK(!error.empty());
      }
    }
    for (size_t i = 0; i < f.size(); i += (plist::IsBinary(f) ? 1 : 7)) {
      for (const int b : {0x00, 0x0F, 0x7F, 0xAF, 0xDF, 0xFF, int{'<'}, int{'&'}}) {
        std::string copy = f;
        copy[i] = static_cast<char>(b);
        plist::Value v;
        std::string error;
        if (!plist::Parse(copy, v, &error)) CHECK(!error.empty());
      }
    }
  }
  CHECK(failures > 0);
}

TEST_CASE("plist: the launchd job installers ship", "[plist]") {
  std::ifstream in(std::string(OUTPOST_SOURCE_DIR) + "/installer/macos/com.outpost.agent.plist",
                   std::ios::binary);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  const plist::Value v = MustParse(text.str());
  CHECK(v.Text("Label") == "com.outpost.agent");
  const plist::Value* args = v.Find("ProgramArguments");
  REQUIRE(args);
  REQUIRE(args->array.size() == 2);
  // service_launchd.cc replaces exactly this element with the binary's path.
  CHECK(text.str().find("<string>/usr/local/bin/outpost</string>") != std::string::npos);
  CHECK(args->array[1].text == "run");
  CHECK(v.Text("RunAtLoad") == "1");
  CHECK(v.Find("KeepAlive")->Text("SuccessfulExit") == "0");
  CHECK(v.Text("ProcessType") == "Background");
  CHECK(v.Text("Umask") == "63");
}

TEST_CASE("plist: escaping text for XML", "[plist]") {
  CHECK(plist::EscapeXmlText("/Applications/A & B/<outpost>") ==
        "/Applications/A &amp; B/&lt;outpost&gt;");
  CHECK(plist::EscapeXmlText("it's \"q\"") == "it&apos;s &quot;q&quot;");
  CHECK(!plist::EscapeXmlText(std::string("a\x01b")));
  CHECK(!plist::EscapeXmlText(std::string("a\0b", 3)));
  // Escaped text parses back to itself.
  const std::string odd = "/opt/o&p <x> \"y\" 'z' \xC3\xA9";
  CHECK(MustParse("<string>" + *plist::EscapeXmlText(odd) + "</string>").text == odd);
}

TEST_CASE("plist: dates and versions", "[plist]") {
  CHECK(plist::FormatDate(0) == "1970-01-01T00:00:00Z");
  CHECK(plist::FormatDate(-1) == "1969-12-31T23:59:59Z");
  CHECK(plist::FormatDate(978307200) == "2001-01-01T00:00:00Z");
  CHECK(plist::ParseDate("2001-01-01T00:00:00Z") == 978307200.0);
  CHECK(plist::ParseDate("1960-03-01T00:00:00Z") == -310435200.0);
  CHECK(!plist::ParseDate("2001-01-01 00:00:00Z"));
  CHECK(!plist::ParseDate("2001-01-01T25:00:00Z"));
  CHECK(plist::FormatDate(1e300) == "9999-12-31T23:59:59Z");
  const plist::VersionParts two = plist::SplitVersion("13.6");
  CHECK(two.major == 13);
  CHECK(two.minor == 6);
  CHECK(!two.patch);
  const plist::VersionParts odd = plist::SplitVersion("10.x.3");
  CHECK(odd.major == 10);
  CHECK(!odd.minor);
  CHECK(odd.patch == 3);
  CHECK(!plist::SplitVersion("").major);
}

#if defined(__APPLE__)
// The macOS tables that read files below TableEnv::root, on the fixture tree.
std::string MacFixture() { return std::string(OUTPOST_SOURCE_DIR) + "/tests/fixtures/macos/root"; }

TEST_CASE("macOS os_version on the fixture tree", "[tables][macos]") {
  const platform::TableDef& t = FindTable("os_version");
  const TableRun r = RunTable(t, MacFixture());
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 1);
  CHECK(Cell(t, r.rows[0], "name") == "macOS");
  CHECK(Cell(t, r.rows[0], "version") == "14.2.1");
  CHECK(Cell(t, r.rows[0], "major") == "14");
  CHECK(Cell(t, r.rows[0], "patch") == "1");
  CHECK(Cell(t, r.rows[0], "build") == "23C71");
  CHECK(Cell(t, r.rows[0], "platform") == "darwin");
}

TEST_CASE("macOS apps on the fixture tree", "[tables][macos]") {
  const platform::TableDef& t = FindTable("apps");
  const TableRun r = RunTable(t, MacFixture());
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 2);  // sorted by path
  CHECK(Cell(t, r.rows[0], "name") == "Calculator.app");
  CHECK(Cell(t, r.rows[0], "path") == "/Applications/Calculator.app");
  CHECK(Cell(t, r.rows[0], "bundle_identifier") == "com.apple.calculator");
  CHECK(Cell(t, r.rows[0], "applescript_enabled") == "0");
  CHECK(Cell(t, r.rows[0], "environment") == "");
  CHECK(Cell(t, r.rows[1], "display_name") == "Notes & More \xE2\x80\x94 <Plus>");
  CHECK(Cell(t, r.rows[1], "element") == "1");
  CHECK(Cell(t, r.rows[1], "minimum_system_version") == "12.0");
  const TableRun one = RunTable(t, MacFixture(), {{"path", "/Applications/Notes Plus.app"}});
  REQUIRE(one.rows.size() == 1);
  CHECK(Cell(t, one.rows[0], "bundle_version") == "2041");
}

TEST_CASE("macOS users on the fixture tree", "[tables][macos]") {
  const platform::TableDef& t = FindTable("users");
  const TableRun r = RunTable(t, MacFixture());
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 2);  // sorted by uid
  CHECK(Cell(t, r.rows[0], "username") == "_www");
  CHECK(Cell(t, r.rows[0], "uid") == "70");
  CHECK(Cell(t, r.rows[1], "username") == "alice");
  CHECK(Cell(t, r.rows[1], "directory") == "/Users/alice");
  CHECK(Cell(t, r.rows[1], "uuid") == "5A1C1D2E-3F40-4A5B-9C6D-7E8F90A1B2C3");
}

TEST_CASE("macOS system_info names from the fixture tree", "[tables][macos]") {
  const platform::TableDef& t = FindTable("system_info");
  const TableRun r = RunTable(t, MacFixture());
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 1);
  CHECK(Cell(t, r.rows[0], "computer_name") == "Alice\xE2\x80\x99s MacBook Pro");
  CHECK(Cell(t, r.rows[0], "local_hostname") == "Alices-MacBook-Pro");
  CHECK(Cell(t, r.rows[0], "hardware_vendor") == "Apple Inc.");
}
#endif

}  // namespace
}  // namespace outpost::test
