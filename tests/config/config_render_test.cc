// What `config show`, `config schema` and docs/config.md are made from.
#include <catch.hpp>
#include "source_dir.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "config/config_loader.h"
#include "config/test_options.h"

namespace outpost {
namespace {

ConfigParseOptions Opts() { return testing::LinuxDefaults(); }

}  // namespace

TEST_CASE("the effective config shows defaults and hides secrets") {
  auto r = ParseConfig(R"([output]
endpoint = "https://ingest.example"
token = "s3cret-token"
proxy = "http://proxy:3128"
proxy_password = "hunter2"

[[source.file]]
paths = ["/var/log/a.log"]
fields = { "dotted.key" = "v" }
[source.file.multiline]
start = "^x"
)",
                       "t.toml", Opts());
  REQUIRE(r.ok());
  const std::string toml = RenderConfigToml(r.effective);
  CHECK(toml.find("s3cret-token") == std::string::npos);
  CHECK(toml.find("hunter2") == std::string::npos);
  CHECK(toml.find("token = \"***\"") != std::string::npos);
  CHECK(toml.find("proxy_password = \"***\"") != std::string::npos);
  CHECK(toml.find("client_key_passphrase = \"\"") != std::string::npos);  // unset: shown empty
  CHECK(toml.find("[buffer]\nmax_bytes = \"256MiB\"") != std::string::npos);
  CHECK(toml.find("[[source.file]]\nname = \"file.0\"") != std::string::npos);
  CHECK(toml.find("[source.file.multiline]\nstart = \"^x\"") != std::string::npos);
  CHECK(toml.find("fields = { \"dotted.key\" = \"v\" }") != std::string::npos);
  CHECK(toml.find("[output.retry]\ninitial = \"1s\"") != std::string::npos);
}

TEST_CASE("the rendered effective config parses back to the same effective config") {
  auto first = ParseConfig(R"([agent]
fields = { env = "prod" }
[buffer]
chunk_max_age = "1500ms"
[[source.file]]
paths = ["/a", "/b"]
[[source.file]]
name = "second"
paths = ['C:\logs\*.log']
[source.file.multiline]
start = "^\\S"
[output]
endpoint = "https://x"
)",
                           "t.toml", Opts());
  REQUIRE(first.ok());
  const std::string rendered = RenderConfigToml(first.effective);
  auto second = ParseConfig(rendered, "rendered.toml", Opts());
  for (const auto& d : second.diagnostics) UNSCOPED_INFO(d.ToString());
  REQUIRE(second.ok());
  CHECK(RenderConfigToml(second.effective) == rendered);
  CHECK(second.config.file_sources[1].paths[0] == "C:\\logs\\*.log");
}

TEST_CASE("the schema documents every key with a type, a default and a description") {
  const auto docs = DescribeConfig();
  size_t keys = 0;
  for (const auto& d : docs) {
    if (d.key.empty()) continue;
    ++keys;
    INFO(d.table << "." << d.key);
    CHECK_FALSE(d.type.empty());
    CHECK_FALSE(d.doc.empty());
  }
  CHECK(keys > 50);
  auto find = [&](const std::string& table, const std::string& key) {
    for (const auto& d : docs)
      if (d.table == table && d.key == key) return d;
    return ConfigKeyDoc{};
  };
  CHECK(find("buffer", "max_bytes").default_text == "\"256MiB\"");
  CHECK(find("output", "token").secret);
  CHECK(find("output", "endpoint").required);
  CHECK(find("source.file", "paths").required);
  CHECK(find("source.file", "paths").array_of_tables);
}

TEST_CASE("docs/config.md carries the generated key reference unchanged") {
  std::ifstream in(std::string(OUTPOST_SOURCE_DIR) + "/docs/config.md", std::ios::binary);
  REQUIRE(in);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string doc = buf.str();
  doc.erase(std::remove(doc.begin(), doc.end(), '\r'), doc.end());
  const std::string begin = "<!-- BEGIN GENERATED: outpost config schema --markdown -->\n";
  const std::string end = "<!-- END GENERATED -->";
  const auto b = doc.find(begin);
  const auto e = doc.find(end);
  REQUIRE(b != std::string::npos);
  REQUIRE(e != std::string::npos);
  std::string section = doc.substr(b + begin.size(), e - b - begin.size());
  auto trim = [](std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    while (!s.empty() && s.front() == '\n') s.erase(s.begin());
    return s;
  };
  INFO("regenerate with scripts/gen-docs.sh");
  CHECK(trim(section) == trim(ConfigReferenceMarkdown()));
}

}  // namespace outpost

namespace outpost {

TEST_CASE("installer/outpost.example.toml is the current config init output") {
  std::ifstream in(std::string(OUTPOST_SOURCE_DIR) + "/installer/outpost.example.toml",
                   std::ios::binary);
  REQUIRE(in);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string file = buf.str();
  file.erase(std::remove(file.begin(), file.end(), '\r'), file.end());
  const ConfigParseOptions o = testing::LinuxDefaults();
  INFO("regenerate with scripts/gen-docs.sh");
  CHECK(file == ExampleConfig(o));
}

}  // namespace outpost
