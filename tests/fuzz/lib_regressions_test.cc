// Regressions found by the fuzz targets (docs/fuzzing.md) in lib/: each input that
// made a target fail, through the public API. The same inputs are in
// tests/fuzz/corpus/<target>/crash-*, which the fuzz_corpus_<target> tests replay.
#include <catch.hpp>
#include <nlohmann/json.hpp>

#include "check/policy.h"
#include "chunk/record_encoder.h"
#include "config/config_loader.h"
#include "config/test_options.h"
#include "util/json_text.h"

namespace outpost {
namespace {

TEST_CASE("fuzz ndjson: a record at -1 ms carries its timestamp, not an empty one", "[fuzz]") {
  RecordEncoder enc(RecordContext{"h", "a", "s", "file", {}});
  const WallTime t{std::chrono::milliseconds(-1)};
  std::string out;
  enc.AppendLogLine(out, t, JsonQuote("/p"), 0, "m", false);
  enc.AppendLogLine(out, t, JsonQuote("/p"), 1, "m", false);
  const std::string first = out.substr(0, out.find('\n'));
  CHECK(nlohmann::json::parse(first)["@timestamp"] == "1969-12-31T23:59:59.999Z");
  CHECK(nlohmann::json::parse(out.substr(first.size() + 1))["@timestamp"] ==
        "1969-12-31T23:59:59.999Z");
}

TEST_CASE("fuzz config: non-ASCII where TOML expects whitespace is a syntax error", "[fuzz]") {
  // toml++ 3.3 reached __builtin_unreachable() on U+0367 after a value.
  const ConfigParseResult r = ParseConfig("a = 1\xcd\xa7\n", "t.toml", testing::LinuxDefaults());
  REQUIRE(r.diagnostics.size() == 1);
  INFO(r.diagnostics[0].ToString());
  CHECK(r.diagnostics[0].message.starts_with("invalid TOML"));
  CHECK(r.diagnostics[0].message.find("\xe4\xb8\x80") == std::string::npos);  // the stand-in
  CHECK(r.diagnostics[0].line == 1);
  CHECK(r.diagnostics[0].column == 6);
}

TEST_CASE("fuzz config: non-ASCII after a line-ending backslash is a syntax error", "[fuzz]") {
  const ConfigParseResult r =
      ParseConfig("s = \"\"\"\\\n\xc2\xa7\"\"\"\n", "t.toml", testing::LinuxDefaults());
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].line == 2);
  CHECK(r.diagnostics[0].column == 1);
}

TEST_CASE("fuzz config: non-ASCII in strings, comments and after a BOM still parses", "[fuzz]") {
  const ConfigParseResult r = ParseConfig(
      "\xEF\xBB\xBF# caf\xc3\xa9\n[agent]\nfields = { \"\xc3\xa9t\xc3\xa9\" = \"\xc2\xa7\", "
      "b = '''\xc2\xa7''' }  # \xc2\xa7\n",
      "t.toml", testing::LinuxDefaults());
  for (const auto& d : r.diagnostics) UNSCOPED_INFO(d.ToString());
  CHECK(r.ok());
  CHECK(r.config.agent.fields.at("\xc3\xa9t\xc3\xa9") == "\xc2\xa7");
}

TEST_CASE("fuzz policy: non-ASCII where TOML expects whitespace is a policy error", "[fuzz]") {
  const PolicyParseResult r =
      ParsePolicy("[[check]]\nid = \"x\"\ninterval \xcd\xa7{E\n", "p.toml", PolicyOptions{});
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].line == 3);
  CHECK(r.checks.empty());
}

}  // namespace
}  // namespace outpost
