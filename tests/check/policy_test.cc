// Policy files: strict parsing, errors with file, line, check and a fix.
#include <catch.hpp>
#include "source_dir.h"

#include <string>
#include <vector>

#include "check/policy.h"
#include "test_files.h"

namespace outpost {
namespace {

constexpr const char* kTwoChecks = R"([[check]]
id = "root-exists"
title = "root exists"
description = "an account named root"
severity = "low"
query = "SELECT 1 FROM users WHERE username = 'root'"
remediation = "create it"

[[check]]
id = "ssh.hardened_1"
title = "ssh hardened"
severity = "critical"
platforms = ["linux", "posix"]
interval = "15m"
query = "SELECT 1"
remediation = "harden it"
)";

PolicyParseResult Parse(const std::string& text, PolicyOptions options = {}) {
  return ParsePolicy(text, "p.toml", options);
}

// The one error of `r`, as text.
std::string OnlyError(const PolicyParseResult& r) {
  REQUIRE(r.errors.size() == 1);
  CHECK(r.checks.empty());
  return r.errors[0].ToString();
}

TEST_CASE("a valid policy gives its checks with defaults filled in", "[check]") {
  PolicyOptions options;
  options.default_interval = std::chrono::minutes(30);
  PolicyParseResult r = Parse(kTwoChecks, options);
  REQUIRE(r.ok());
  REQUIRE(r.checks.size() == 2);
  const Check& a = r.checks[0];
  CHECK(a.id == "root-exists");
  CHECK(a.title == "root exists");
  CHECK(a.description == "an account named root");
  CHECK(a.severity == CheckSeverity::kLow);
  CHECK(a.platforms == std::vector<std::string>{"all"});
  CHECK(a.interval == std::chrono::minutes(30));
  CHECK(a.remediation == "create it");
  CHECK(a.policy_file == "p.toml");
  CHECK(a.line == 1);
  const Check& b = r.checks[1];
  CHECK(b.id == "ssh.hardened_1");
  CHECK(b.severity == CheckSeverity::kCritical);
  CHECK(b.platforms == std::vector<std::string>{"linux", "posix"});
  CHECK(b.interval == std::chrono::minutes(15));
  CHECK(b.line == 9);
  CHECK(CheckSeverityName(b.severity) == "critical");
}

TEST_CASE("platforms decide where a check applies", "[check]") {
  Check c;
  c.platforms = {"all"};
  CHECK(CheckAppliesTo(c, "windows"));
  c.platforms = {"posix"};
  CHECK(CheckAppliesTo(c, "linux"));
  CHECK(CheckAppliesTo(c, "macos"));
  CHECK_FALSE(CheckAppliesTo(c, "windows"));
  c.platforms = {"windows", "macos"};
  CHECK_FALSE(CheckAppliesTo(c, "linux"));
  CHECK(CheckAppliesTo(c, "macos"));
}

TEST_CASE("a missing id is an error at the check's line, with a fix", "[check]") {
  const std::string e = OnlyError(Parse(R"(
[[check]]
title = "t"
severity = "low"
query = "SELECT 1"
remediation = "r"
)"));
  CHECK(e ==
        "p.toml:2: check '#1': missing required key 'id' (add id = \"ssh-root-login-disabled\")");
}

TEST_CASE("a bad severity names the line, the check and the nearest choice", "[check]") {
  const std::string e = OnlyError(Parse(R"([[check]]
id = "a"
title = "t"
severity = "hihg"
query = "SELECT 1"
remediation = "r"
)"));
  CHECK(e.rfind("p.toml:4: check 'a': 'severity' is \"hihg\", expected", 0) == 0);
  CHECK(e.find("did you mean severity = \"high\"?") != std::string::npos);
}

TEST_CASE("an unknown key is an error, never silently ignored", "[check]") {
  PolicyParseResult r = Parse(R"([[check]]
id = "a"
title = "t"
severity = "low"
querry = "SELECT 1"
remediation = "r"
)");
  REQUIRE(r.errors.size() == 2);  // the typo, and the query it leaves missing
  CHECK(r.errors[0].ToString() ==
        "p.toml:1: check 'a': missing required key 'query' (add query = \"SELECT 1 FROM users "
        "WHERE username = 'root'\")");
  CHECK(r.errors[1].ToString() ==
        "p.toml:5: check 'a': unknown key 'querry' in [[check]] (did you mean 'query'?)");
  CHECK(r.checks.empty());

  const std::string top = OnlyError(Parse(std::string(kTwoChecks) + "[checks]\nx = 1\n"));
  CHECK(top.rfind("p.toml:17: unknown top-level key 'checks'", 0) == 0);
  CHECK(top.find("did you mean [[check]]?") != std::string::npos);
}

TEST_CASE("remediation, title and query are required and not blank", "[check]") {
  PolicyParseResult r = Parse(R"([[check]]
id = "a"
title = "  "
severity = "low"
query = "SELECT 1"
)");
  REQUIRE(r.errors.size() == 2);
  CHECK(r.errors[0].ToString().find("missing required key 'remediation'") != std::string::npos);
  CHECK(r.errors[1].ToString().rfind("p.toml:3: check 'a': 'title' must not be empty", 0) == 0);
}

TEST_CASE("wrong types, bad ids, platforms and intervals are errors", "[check]") {
  PolicyParseResult r = Parse(R"([[check]]
id = "has space"
title = 7
severity = "low"
platforms = "linux"
interval = 60
query = "SELECT 1"
remediation = "r"

[[check]]
id = "b"
title = "t"
severity = "low"
platforms = ["linx"]
interval = "soon"
query = "SELECT 1"
remediation = "r"
)");
  std::vector<std::string> got;
  for (const auto& e : r.errors) got.push_back(e.ToString());
  REQUIRE(got.size() == 6);
  CHECK(got[0].rfind("p.toml:2: check '#1': id \"has space\" may only use letters", 0) == 0);
  CHECK(got[1].rfind("p.toml:3: check '#1': 'title' must be a string, found an integer", 0) == 0);
  CHECK(got[2] ==
        "p.toml:5: check '#1': 'platforms' must be an array of strings, found a string (write "
        "platforms = [\"linux\"])");
  CHECK(got[3].rfind("p.toml:6: check '#1': 'interval' must be a duration string", 0) == 0);
  CHECK(got[4].rfind("p.toml:14: check 'b': 'platforms' has \"linx\"", 0) == 0);
  CHECK(got[4].find("did you mean \"linux\"?") != std::string::npos);
  CHECK(got[5].rfind("p.toml:15: check 'b': 'interval': ", 0) == 0);
  CHECK(r.checks.empty());
}

TEST_CASE("a file that is not TOML gives toml++'s position", "[check]") {
  const std::string e = OnlyError(Parse("[[check]]\nid = \"a\"\ntitle = = \"x\"\n"));
  CHECK(e.rfind("p.toml:3: not valid TOML: ", 0) == 0);
}

TEST_CASE("a policy without checks, or [check] with one bracket, is an error", "[check]") {
  CHECK(OnlyError(Parse("# nothing\n")).find("the policy has no [[check]] entries") !=
        std::string::npos);
  const std::string e = OnlyError(Parse("[check]\nid = \"a\"\n"));
  CHECK(e.find("'check' must be an array of tables, found a table") != std::string::npos);
  CHECK(e.find("write [[check]] (two brackets)") != std::string::npos);
}

TEST_CASE("an id used twice in one file is an error naming the first", "[check]") {
  const std::string text = std::string(kTwoChecks) + R"(
[[check]]
id = "root-exists"
title = "again"
severity = "low"
query = "SELECT 1"
remediation = "r"
)";
  CHECK(OnlyError(Parse(text)) ==
        "p.toml:19: check 'root-exists': id is already used by the check at line 1 (ids must be "
        "unique across all policies: rename one of them)");
}

TEST_CASE("an id used in two policy files is an error naming both", "[check]") {
  testing::TempDir dir;
  const auto a = dir.Write("a.toml", kTwoChecks);
  const auto b = dir.Write("b.toml", R"(# second policy
[[check]]
id = "other"
title = "t"
severity = "info"
query = "SELECT 1"
remediation = "r"

[[check]]
id = "ssh.hardened_1"
title = "t"
severity = "info"
query = "SELECT 1"
remediation = "r"
)");
  PolicyParseResult r = LoadPolicies({a, b}, {});
  REQUIRE(r.errors.size() == 1);
  CHECK(r.checks.empty());
  CHECK(r.errors[0].ToString() == b.string() +
                                      ":9: check 'ssh.hardened_1': id is already used by the "
                                      "check at " +
                                      a.string() +
                                      ":9 (ids must be unique across all policies: rename one "
                                      "of them)");

  PolicyParseResult ok = LoadPolicies({a}, {});
  REQUIRE(ok.ok());
  CHECK(ok.checks.size() == 2);
  CHECK(ok.checks[0].policy_file == a.string());
}

TEST_CASE("a missing policy file is an error with a hint", "[check]") {
  testing::TempDir dir;
  const std::string e = OnlyError(LoadPolicyFile(dir.path() / "nope.toml", {}));
  CHECK(e.find("cannot read policy file: no such file") != std::string::npos);
  CHECK(e.find("--policy") != std::string::npos);
}

TEST_CASE("the shipped Linux baseline policy parses", "[check]") {
  PolicyParseResult r = LoadPolicyFile(
      std::filesystem::path(OUTPOST_SOURCE_DIR) / "installer/policies/linux-baseline.toml", {});
  if (!r.ok()) FAIL(r.errors[0].ToString());
  CHECK(r.checks.size() >= 25);
  for (const auto& c : r.checks) CHECK_FALSE(c.remediation.empty());
}

}  // namespace
}  // namespace outpost
