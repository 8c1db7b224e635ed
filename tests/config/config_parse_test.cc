// ParseConfig: every class of error, with its exact position and hint.
#include <catch.hpp>

#include <algorithm>

#include "config/config_loader.h"
#include "config/test_options.h"
#include "config/toml_reader.h"
#include "test_files.h"

namespace outpost {
namespace {

ConfigParseOptions Opts() { return testing::LinuxDefaults(); }

ConfigParseResult Parse(std::string_view text) { return ParseConfig(text, "t.toml", Opts()); }

// The diagnostics as "line:col: message (hint)", for compact assertions.
std::vector<std::string> Lines(const ConfigParseResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.diagnostics) out.push_back(d.ToString());
  return out;
}

bool Has(const ConfigParseResult& r, const std::string& text) {
  const auto lines = Lines(r);
  const bool found =
      std::any_of(lines.begin(), lines.end(), [&](const auto& l) { return l == text; });
  if (!found) {
    for (const auto& l : lines) UNSCOPED_INFO("got: " << l);
  }
  return found;
}

}  // namespace

TEST_CASE("an empty config is valid and yields every default") {
  auto r = Parse("");
  REQUIRE(r.ok());
  CHECK(r.diagnostics.empty());
  CHECK(r.config.buffer.max_bytes == (256ULL << 20));
  CHECK(r.config.buffer.chunk_max_age == std::chrono::seconds(1));
  CHECK(r.config.buffer.compression_level == 1);
  CHECK(r.config.agent.state_dir == "/var/lib/outpost");
  CHECK(r.config.agent.log_level == LogLevel::kInfo);
  CHECK_FALSE(r.config.output.has_value());
  CHECK(r.config.file_sources.empty());
  CHECK_FALSE(r.holds_secret);
}

TEST_CASE("a full config is read into typed fields") {
  auto r = Parse(R"(
[agent]
id = "host-42"
log_level = "debug"
fields = { env = "prod", team = "sre" }

[buffer]
max_bytes = "1GiB"
durability = "power"
chunk_max_bytes = 65536
chunk_max_age = "250ms"

[[source.file]]
name = "nginx"
paths = ["/var/log/nginx/*.log"]
exclude = ["*.gz"]
start_at = "beginning"
encoding = "utf-16le"
[source.file.multiline]
start = '^\d{4}-'
max_lines = 50

[[source.file]]
paths = ["/var/log/syslog"]

[output]
endpoint = "https://ingest.example.com/v1/records"
token = "abc"
max_in_flight = 4
[output.retry]
initial = "2s"
max = "10m"

[update]
enabled = true
url = "https://updates.example.com/outpost"
)");
  CHECK(r.diagnostics.empty());
  CHECK(r.holds_secret);
  const Config& c = r.config;
  CHECK(c.agent.id == "host-42");
  CHECK(c.agent.log_level == LogLevel::kDebug);
  CHECK(c.agent.fields.at("team") == "sre");
  CHECK(c.buffer.max_bytes == (1ULL << 30));
  CHECK(c.buffer.durability == Durability::kPower);
  CHECK(c.buffer.chunk_max_bytes == 65536);
  CHECK(c.buffer.chunk_max_age == std::chrono::milliseconds(250));
  REQUIRE(c.file_sources.size() == 2);
  CHECK(c.file_sources[0].name == "nginx");
  CHECK(c.file_sources[0].start_at == StartAt::kBeginning);
  CHECK(c.file_sources[0].encoding == TextEncoding::kUtf16Le);
  REQUIRE(c.file_sources[0].multiline.has_value());
  CHECK(c.file_sources[0].multiline->start == "^\\d{4}-");
  CHECK(c.file_sources[0].multiline->max_lines == 50);
  CHECK(c.file_sources[1].name == "file.1");
  CHECK_FALSE(c.file_sources[1].multiline.has_value());
  REQUIRE(c.output.has_value());
  CHECK(c.output->max_in_flight == 4);
  CHECK(c.output->retry.max == std::chrono::minutes(10));
  CHECK(c.update.enabled);
}

TEST_CASE("an unknown key names its position and the nearest known key") {
  auto r = Parse("[buffer]\nmax_byte = \"1GiB\"\n");
  CHECK(r.error_count() == 1);
  CHECK(
      Has(r, "t.toml:2:1: error: unknown key 'max_byte' in [buffer] (did you mean 'max_bytes'?)"));
  CHECK(r.diagnostics[0].key == "buffer.max_byte");
  CHECK(r.diagnostics[0].hint == "did you mean 'max_bytes'?");
}

TEST_CASE("an unknown table and an unknown key without a near match are reported") {
  auto r = Parse("[bufer]\nx = 1\n\n[agent]\ncompletely_different = 1\n");
  CHECK(Has(r, "t.toml:1:2: error: unknown key 'bufer' at the top level (did you mean 'buffer'?)"));
  CHECK(Has(r, "t.toml:5:1: error: unknown key 'completely_different' in [agent]"));
}

TEST_CASE("several errors are reported at once, in file order") {
  auto r = Parse(R"([buffer]
max_byte = "1GiB"
chunk_max_age = "5 parsecs"
compression_level = 40
durability = "crsh"
max_bytes = -5

[agent]
log_level = 3
)");
  CHECK(r.error_count() == 6);
  CHECK(
      Has(r, "t.toml:2:1: error: unknown key 'max_byte' in [buffer] (did you mean 'max_bytes'?)"));
  CHECK(Has(r,
            "t.toml:3:17: error: 'buffer.chunk_max_age': unknown unit 'parsecs' in duration \"5 "
            "parsecs\" (use ms, s, m, h or d)"));
  CHECK(Has(
      r,
      "t.toml:4:21: error: 'buffer.compression_level' is 40, outside the allowed range 1 to 22"));
  CHECK(Has(r,
            "t.toml:5:14: error: 'buffer.durability' is \"crsh\", expected \"crash\" or \"power\" "
            "(did you mean \"crash\"?)"));
  CHECK(Has(r, "t.toml:6:13: error: 'buffer.max_bytes': negative size -5 is not allowed"));
  CHECK(Has(r,
            "t.toml:9:13: error: 'agent.log_level' must be \"trace\", \"debug\", \"info\", "
            "\"warn\", \"error\" or \"off\", found an integer"));
  // Sorted by position.
  for (size_t i = 1; i < r.diagnostics.size(); ++i)
    CHECK(r.diagnostics[i - 1].line <= r.diagnostics[i].line);
}

TEST_CASE("a TOML syntax error gives its position") {
  auto r = Parse("[buffer]\nmax_bytes = \"1GiB\n");
  REQUIRE(r.error_count() == 1);
  CHECK(r.diagnostics[0].line == 2);
  CHECK(r.diagnostics[0].column > 1);
  CHECK(r.diagnostics[0].message.rfind("invalid TOML: ", 0) == 0);
}

TEST_CASE("durations must be strings with a unit") {
  auto r = Parse("[buffer]\nchunk_max_age = 5\n");
  CHECK(Has(r,
            "t.toml:2:17: error: 'buffer.chunk_max_age' must be a duration string, found an "
            "integer (write it with a unit, e.g. \"30s\" or \"5m\")"));
}

TEST_CASE("durations and sizes below their minimum or overflowing are refused") {
  auto r = Parse(R"([buffer]
chunk_max_age = "1ms"
max_bytes = "1KiB"
chunk_max_bytes = "99999999999999999999TiB"
)");
  CHECK(Has(r, "t.toml:2:17: error: 'buffer.chunk_max_age' must be at least 10ms"));
  CHECK(Has(r, "t.toml:3:13: error: 'buffer.max_bytes' must be at least 1MiB"));
  CHECK(Has(r,
            "t.toml:4:19: error: 'buffer.chunk_max_bytes': size \"99999999999999999999TiB\" is too "
            "large (at most 16 EiB)"));
}

TEST_CASE("keys that depend on each other are checked together") {
  auto r = Parse(R"([buffer]
max_bytes = "2MiB"
chunk_max_bytes = "4MiB"

[output]
endpoint = "https://x.example"
token = "t"
token_file = "/tmp/t"
client_cert = "/c.pem"
[output.retry]
initial = "10m"
max = "1m"
)");
  CHECK(Has(r,
            "t.toml:3:19: error: 'buffer.chunk_max_bytes' (4MiB) is larger than 'buffer.max_bytes' "
            "(2MiB)"));
  CHECK(Has(r, "t.toml:8:14: error: set either 'output.token' or 'output.token_file', not both"));
  CHECK(Has(r,
            "t.toml:9:15: error: 'output.client_cert' and 'output.client_key' go together; set "
            "both or neither"));
  CHECK(Has(
      r,
      "t.toml:11:11: error: 'output.retry.initial' (10m) is longer than 'output.retry.max' (1m)"));
}

TEST_CASE("output needs an endpoint, and a plain-http or unverified one is warned about") {
  auto missing = Parse("[output]\ntype = \"native\"\n");
  CHECK(Has(missing, "t.toml:1:1: error: missing required key 'output.endpoint'"));

  auto bad = Parse("[output]\nendpoint = \"ftp://x\"\n");
  CHECK(Has(bad,
            "t.toml:2:12: error: 'output.endpoint' must start with https:// (or http://), found "
            "\"ftp://x\""));

  auto plain =
      Parse("[output]\nendpoint = \"http://127.0.0.1:8080\"\ninsecure_skip_verify = true\n");
  CHECK(plain.ok());
  CHECK(Has(plain,
            "t.toml:2:12: warning: 'output.endpoint' is plain http://: records travel unencrypted "
            "(use https:// unless the receiver is a relay on this host)"));
  CHECK(Has(plain,
            "t.toml:3:24: warning: 'output.insecure_skip_verify' is true: the server's identity is "
            "not checked"));
}

TEST_CASE("file sources need paths, valid regexes and distinct names") {
  auto r = Parse(R"([[source.file]]
name = "a"

[[source.file]]
name = "a"
paths = []

[[source.file]]
paths = "/var/log/x.log"
[source.file.multiline]
start = "(unclosed"
)");
  CHECK(Has(r, "t.toml:1:1: error: missing required key 'source.file[0].paths'"));
  CHECK(Has(r, "t.toml:6:9: error: 'source.file[1].paths' must not be empty"));
  CHECK(Has(r,
            "t.toml:9:9: error: 'source.file[2].paths' must be an array of strings, found a string "
            "(write [\"/var/log/x.log\"])"));
  CHECK(Has(r,
            "t.toml:5:8: error: two file sources are named \"a\" (give each [[source.file]] its "
            "own name)"));
  bool regex_error = false;
  for (const auto& d : r.diagnostics)
    regex_error |=
        d.line == 11 && d.message.find("not a valid regular expression") != std::string::npos;
  CHECK(regex_error);
}

TEST_CASE("a single [source.file] table is refused with the double-bracket fix") {
  auto r = Parse("[source.file]\npaths = [\"/x\"]\n");
  REQUIRE(r.error_count() == 1);
  CHECK(r.diagnostics[0].hint == "write [[source.file]] (two brackets), one per entry");
}

TEST_CASE("unknown keys inside array-of-tables entries and sub-tables are found") {
  auto r = Parse(R"([[source.file]]
paths = ["/x"]
exlude = ["/y"]
[source.file.multiline]
start = "^a"
max_line = 5
)");
  CHECK(Has(
      r, "t.toml:3:1: error: unknown key 'exlude' in [[source.file]] (did you mean 'exclude'?)"));
  CHECK(Has(r,
            "t.toml:6:1: error: unknown key 'max_line' in [source.file.multiline] (did you mean "
            "'max_lines'?)"));
}

TEST_CASE("inline secrets are noticed so the file's permissions can be checked") {
  CHECK(Parse("[output]\nendpoint = \"https://x\"\ntoken = \"s3cret\"\n").holds_secret);
  CHECK(Parse("[output]\nendpoint = \"https://x\"\nproxy_password = \"p\"\n").holds_secret);
  CHECK_FALSE(Parse("[output]\nendpoint = \"https://x\"\ntoken = \"\"\n").holds_secret);
}

TEST_CASE("update needs a feed when enabled and a valid channel") {
  auto r = Parse("[update]\nenabled = true\nchannel = \"beta channel\"\n");
  CHECK(Has(r, "t.toml:2:11: error: 'update.enabled' is true but 'update.url' is not set"));
  CHECK(Has(
      r, "t.toml:3:11: error: 'update.channel' may hold only letters, digits, '.', '_' and '-'"));
}

TEST_CASE("relative paths resolve against the config file's directory") {
  testing::TempDir dir;
  dir.Write("p.toml", "");
  const auto abs = dir.Write("abs/q.toml", "");
  ConfigParseOptions o = Opts();
  o.base_dir = dir.path();
  auto r = ParseConfig("[agent]\nstate_dir = \"state\"\n[checks]\npolicies = [\"p.toml\", " +
                           config_internal::TomlQuote(abs.string()) + "]\n",
                       "t.toml", o);
  for (const auto& d : r.diagnostics) UNSCOPED_INFO(d.ToString());
  REQUIRE(r.ok());
  CHECK(r.config.agent.state_dir == dir.path() / "state");
  REQUIRE(r.config.checks.policies.size() == 2);
  CHECK(r.config.checks.policies[0] == dir.path() / "p.toml");
  CHECK(r.config.checks.policies[1] == abs);
  // `config show` prints the resolved paths, as the agent will use them.
  const std::string shown = RenderConfigToml(r.effective);
  CHECK(shown.find(config_internal::TomlQuote((dir.path() / "p.toml").string())) !=
        std::string::npos);
}

TEST_CASE("files the config names must exist") {
  auto r = Parse(R"([output]
endpoint = "https://x"
ca_file = "/nonexistent/ca.pem"
[checks]
policies = ["/nonexistent/policy.toml"]
)");
  CHECK(Has(r, "t.toml:3:11: error: 'output.ca_file' names /nonexistent/ca.pem: no such file"));
  CHECK(
      Has(r, "t.toml:5:12: error: 'checks.policies' names /nonexistent/policy.toml: no such file"));
}

TEST_CASE("hostile input never throws: binary garbage and deep nesting are errors") {
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 7919) & 0xFF));
  CHECK_FALSE(Parse(garbage).ok());
  std::string deep = "a = ";
  for (int i = 0; i < 5000; ++i) deep += "[";
  CHECK_FALSE(Parse(deep).ok());
  CHECK_FALSE(Parse("[agent]\nfields = { a = 1 }\n").ok());
}

TEST_CASE("journal sources are read with their defaults and filters") {
  auto r = Parse(R"([[source.journal]]
units = ["sshd.service"]
priority = "warning"
identifiers = ["sudo", "su"]
read_from = "head"
journalctl = "bin/fake-journalctl"
fields = { team = "sre" }

[[source.journal]]
priority = "3"
)");
  REQUIRE(r.ok());
  REQUIRE(r.config.journal_sources.size() == 2);
  const JournalSourceConfig& j = r.config.journal_sources[0];
  CHECK(j.name == "journal.0");
  CHECK(j.units == std::vector<std::string>{"sshd.service"});
  CHECK(j.priority == 4);
  CHECK(j.identifiers == std::vector<std::string>{"sudo", "su"});
  CHECK(j.read_from == JournalReadFrom::kHead);
  CHECK(j.journalctl == (std::filesystem::path(Opts().base_dir) / "bin/fake-journalctl").string());
  CHECK(j.fields.at("team") == "sre");
  CHECK(j.max_message_bytes == (64u << 10));
  const JournalSourceConfig& k = r.config.journal_sources[1];
  CHECK(k.name == "journal.1");
  CHECK(k.priority == 3);
  CHECK(k.journalctl == "journalctl");
  CHECK(k.read_from == JournalReadFrom::kTail);
}

TEST_CASE("journal source errors name file, line and column") {
  auto r = Parse(R"([[source.file]]
name = "sys"
paths = ["/x"]

[[source.journal]]
name = "sys"
priority = "loud"
read_from = "middle"
unit = ["sshd.service"]
journalctl = ""
)");
  CHECK(Has(r,
            "t.toml:7:12: error: 'source.journal[0].priority' must be a priority name or \"0\" "
            "to \"7\", found \"loud\" (use one of emerg, alert, crit, err, warning, notice, "
            "info, debug)"));
  CHECK(Has(r,
            "t.toml:9:1: error: unknown key 'unit' in [[source.journal]] (did you mean "
            "'units'?)"));
  CHECK(Has(r, "t.toml:10:14: error: 'source.journal[0].journalctl' may not be empty"));
  CHECK(Has(r,
            "t.toml:6:8: error: a file source and a journal source are named \"sys\" (give "
            "each source its own name)"));
  bool read_from_error = false;
  for (const auto& d : r.diagnostics)
    read_from_error |= d.line == 8 && d.message.find("read_from") != std::string::npos;
  CHECK(read_from_error);

  auto dup = Parse("[[source.journal]]\nname = \"j\"\n[[source.journal]]\nname = \"j\"\n");
  CHECK(Has(dup,
            "t.toml:4:8: error: two journal sources are named \"j\" (give each "
            "[[source.journal]] its own name)"));
}

TEST_CASE("limits: CPU share and memory, with their bounds") {
  auto ok = Parse("[limits]\nmax_cpu_percent = 25\nmax_memory = \"64MiB\"\n");
  REQUIRE(ok.ok());
  CHECK(ok.config.limits.max_cpu_percent == 25);
  CHECK(ok.config.limits.max_memory == 64ULL << 20);
  auto none = Parse("");
  CHECK(none.config.limits.max_cpu_percent == 0);
  CHECK(none.config.limits.max_memory == 0);

  auto r = Parse("[limits]\nmax_cpu_percent = -5\nmax_memory = \"4MiB\"\n");
  CHECK_FALSE(r.ok());
  bool cpu_error = false;
  for (const auto& d : r.diagnostics)
    cpu_error |= d.line == 2 && d.message.find("max_cpu_percent") != std::string::npos;
  CHECK(cpu_error);
  CHECK(Has(r,
            "t.toml:3:14: error: 'limits.max_memory' (4MiB) is below the 16 MiB the agent "
            "needs to run (set it to 16MiB or more, or 0 for no limit)"));
}

}  // namespace outpost
