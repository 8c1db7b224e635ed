#include "update/feed.h"

#include <catch.hpp>
#include <nlohmann/json.hpp>

#include "update/minisign_test_signer.h"

namespace outpost::update {
namespace {

using nlohmann::json;
using testing::UpdateFixture;

constexpr std::string_view kFeedUrl = "https://updates.example.com/outpost/stable.json";

json BaseFeed() { return json::parse(UpdateFixture("stable.json")); }

std::string RejectionOf(const json& doc) {
  Checked<Feed> f = ParseFeed(doc.dump(), kFeedUrl);
  if (f.ok()) return "ok";
  CHECK_FALSE(f.rejection().message.empty());
  return f.rejection().code;
}

TEST_CASE("the fixture feed parses into its fields", "[update][feed]") {
  Checked<Feed> f = ParseFeed(UpdateFixture("stable.json"), kFeedUrl);
  REQUIRE(f.ok());
  CHECK(f->schema == 1);
  CHECK(f->channel == "stable");
  CHECK(f->seq == 5);
  CHECK(f->keyset_epoch == 1);
  CHECK(f->issued_at == "2026-01-01T00:00:00Z");
  CHECK(f->expires == "2030-01-01T00:00:00Z");
  CHECK(f->expires_time.time_since_epoch() == std::chrono::seconds(1893456000));
  CHECK(f->release.version.ToString() == "1.4.0");
  CHECK(f->release.min_version.ToString() == "1.0.0");
  CHECK_FALSE(f->release.critical);
  CHECK(f->release.rollout.percent == 100);
  CHECK(f->release.rollout.salt == "1.4.0-stable");
  REQUIRE(f->release.targets.size() == 2);
  const Target& linux_target = f->release.targets[0];
  CHECK(linux_target.os == "linux");
  CHECK(linux_target.arch == "x86_64");
  CHECK(linux_target.url == "https://updates.example.com/outpost/outpost-1.4.0-linux-x86_64");
  CHECK(linux_target.size == 8123456);
  CHECK(linux_target.sha256 == "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  CHECK(f->release.targets[1].url == "https://downloads.example.com/outpost/1.4.0/outpost.exe");
  REQUIRE(f->blocked_versions.size() == 1);
  CHECK(f->blocked_versions[0].ToString() == "1.3.1");
  CHECK_FALSE(f->rollback_to.has_value());
}

TEST_CASE("optional rollback_to parses as a version", "[update][feed]") {
  json doc = BaseFeed();
  doc["rollback_to"] = "1.3.0";
  Checked<Feed> f = ParseFeed(doc.dump(), kFeedUrl);
  REQUIRE(f.ok());
  REQUIRE(f->rollback_to.has_value());
  CHECK(f->rollback_to->ToString() == "1.3.0");
  doc.erase("blocked_versions");
  CHECK(RejectionOf(doc) == "ok");
}

TEST_CASE("a feed that is not schema 1 is unsupported", "[update][feed]") {
  json doc = BaseFeed();
  doc["schema"] = 2;
  CHECK(RejectionOf(doc) == reason::kSchemaUnsupported);
  doc["schema"] = "1";
  CHECK(RejectionOf(doc) == reason::kSchemaUnsupported);
  doc.erase("schema");
  CHECK(RejectionOf(doc) == reason::kFeedMalformed);
}

TEST_CASE("an oversize feed is rejected before parsing", "[update][feed]") {
  std::string text(kMaxFeedBytes + 1, ' ');
  Checked<Feed> f = ParseFeed(text, kFeedUrl);
  REQUIRE_FALSE(f.ok());
  CHECK(f.rejection().code == reason::kFeedTooLarge);
  // At the cap exactly it is parsed (and here is not JSON).
  CHECK(ParseFeed(std::string(kMaxFeedBytes, ' '), kFeedUrl).rejection().code ==
        reason::kFeedMalformed);
}

TEST_CASE("malformed feeds are rejected with a message naming the field", "[update][feed]") {
  struct Case {
    const char* name;
    void (*edit)(json&);
    const char* mentions;
  };
  const Case cases[] = {
      {"unknown top-level key", [](json& d) { d["blocked_version"] = json::array(); },
       "blocked_version"},
      {"missing seq", [](json& d) { d.erase("seq"); }, "seq"},
      {"negative seq", [](json& d) { d["seq"] = -1; }, "seq"},
      {"fractional seq", [](json& d) { d["seq"] = 5.5; }, "seq"},
      {"string seq", [](json& d) { d["seq"] = "5"; }, "seq"},
      {"channel with a space", [](json& d) { d["channel"] = "sta ble"; }, "channel"},
      {"empty channel", [](json& d) { d["channel"] = ""; }, "channel"},
      {"keyset_epoch not a number", [](json& d) { d["keyset_epoch"] = "1"; }, "keyset_epoch"},
      {"expires not UTC", [](json& d) { d["expires"] = "2030-01-01T00:00:00+01:00"; }, "expires"},
      {"expires no time", [](json& d) { d["expires"] = "2030-01-01"; }, "expires"},
      {"expires 30 February", [](json& d) { d["expires"] = "2030-02-30T00:00:00Z"; }, "expires"},
      {"issued_at after expires", [](json& d) { d["issued_at"] = "2031-01-01T00:00:00Z"; },
       "issued_at"},
      {"release missing", [](json& d) { d.erase("release"); }, "release"},
      {"unknown release key", [](json& d) { d["release"]["notes"] = "x"; }, "notes"},
      {"bad version", [](json& d) { d["release"]["version"] = "1.4"; }, "release.version"},
      {"bad min_version", [](json& d) { d["release"]["min_version"] = 1; }, "min_version"},
      {"critical not bool", [](json& d) { d["release"]["critical"] = "false"; }, "critical"},
      {"percent over 100", [](json& d) { d["release"]["rollout"]["percent"] = 100.5; }, "percent"},
      {"percent negative", [](json& d) { d["release"]["rollout"]["percent"] = -1; }, "percent"},
      {"salt missing", [](json& d) { d["release"]["rollout"].erase("salt"); }, "salt"},
      {"targets not array", [](json& d) { d["release"]["targets"] = json::object(); }, "targets"},
      {"target size 0", [](json& d) { d["release"]["targets"][0]["size"] = 0; }, "size"},
      {"target sha256 upper",
       [](json& d) {
         d["release"]["targets"][0]["sha256"] =
             "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
       },
       "sha256"},
      {"target sha256 short", [](json& d) { d["release"]["targets"][0]["sha256"] = "abcd"; },
       "sha256"},
      {"target url scheme", [](json& d) { d["release"]["targets"][1]["url"] = "file:///etc/x"; },
       "url"},
      {"target url empty", [](json& d) { d["release"]["targets"][0]["url"] = ""; }, "url"},
      {"target os missing", [](json& d) { d["release"]["targets"][0].erase("os"); }, "os"},
      {"target extra key", [](json& d) { d["release"]["targets"][0]["md5"] = "x"; }, "md5"},
      {"blocked not list", [](json& d) { d["blocked_versions"] = "1.3.1"; }, "blocked_versions"},
      {"blocked bad version", [](json& d) { d["blocked_versions"] = {"1.3"}; }, "blocked"},
      {"rollback_to bad", [](json& d) { d["rollback_to"] = "latest"; }, "rollback_to"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    json doc = BaseFeed();
    c.edit(doc);
    Checked<Feed> f = ParseFeed(doc.dump(), kFeedUrl);
    REQUIRE_FALSE(f.ok());
    CHECK(f.rejection().code == reason::kFeedMalformed);
    CHECK(f.rejection().message.find(c.mentions) != std::string::npos);
  }
}

TEST_CASE("not JSON, invalid UTF-8 and duplicate keys are malformed", "[update][feed]") {
  for (std::string text : {std::string("{"), std::string("[]"), std::string("null"),
                           std::string("{\"schema\":1,\"channel\":\"st\xff\"}"),
                           std::string("{\"schema\":1,\"schema\":1}")}) {
    INFO(text);
    Checked<Feed> f = ParseFeed(text, kFeedUrl);
    REQUIRE_FALSE(f.ok());
    CHECK(f.rejection().code == reason::kFeedMalformed);
  }
  // A duplicate that would change the meaning: seq given twice.
  std::string text = UpdateFixture("stable.json");
  text.replace(text.find("\"seq\": 5"), 8, "\"seq\": 5, \"seq\": 9");
  CHECK(ParseFeed(text, kFeedUrl).rejection().message.find("duplicate") != std::string::npos);
}

TEST_CASE("the trusted comment parses exactly", "[update][feed]") {
  Result<TrustedComment> tc = ParseTrustedComment(
      "outpost-feed schema=1 channel=stable seq=5 expires=2030-01-01T00:00:00Z");
  REQUIRE(tc.ok());
  CHECK(tc->schema == 1);
  CHECK(tc->channel == "stable");
  CHECK(tc->seq == 5);
  CHECK(tc->expires == "2030-01-01T00:00:00Z");
  for (std::string_view bad : {
           "",
           "timestamp:1767225600\tfile:stable.json",  // minisign's default comment
           "outpost-feed schema=1 channel=stable seq=5",
           "outpost-feed schema=1 channel=stable seq=5 expires=2030-01-01T00:00:00Z extra=1",
           "outpost-feed  schema=1 channel=stable seq=5 expires=2030-01-01T00:00:00Z",
           "outpost-feed schema=1 seq=5 channel=stable expires=2030-01-01T00:00:00Z",
           "outpost-feed schema=1 channel= seq=5 expires=2030-01-01T00:00:00Z",
           "outpost-feed schema=1 channel=stable seq=05 expires=2030-01-01T00:00:00Z",
           "outpost-feed schema=1 channel=stable seq=-5 expires=2030-01-01T00:00:00Z",
           "outpost-feed schema=one channel=stable seq=5 expires=2030-01-01T00:00:00Z",
           "outpost-feed schema=1 channel=stable seq=5 expires=2030-01-01T00:00:00Z ",
           "other-feed schema=1 channel=stable seq=5 expires=2030-01-01T00:00:00Z",
       }) {
    INFO(bad);
    CHECK_FALSE(ParseTrustedComment(bad).ok());
  }
}

TEST_CASE("relative target urls resolve against the feed url", "[update][feed]") {
  const std::string base = "https://updates.example.com/outpost/stable.json?x=1";
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"outpost.exe", "https://updates.example.com/outpost/outpost.exe"},
      {"bin/1.4.0/outpost", "https://updates.example.com/outpost/bin/1.4.0/outpost"},
      {"../other/outpost", "https://updates.example.com/other/outpost"},
      {"../../../x", "https://updates.example.com/x"},
      {"./a/./b/../c", "https://updates.example.com/outpost/a/c"},
      {"/root/file", "https://updates.example.com/root/file"},
      {"a?token=1", "https://updates.example.com/outpost/a?token=1"},
      {"//cdn.example.net/o", "https://cdn.example.net/o"},
      {"http://mirror.example.org/o", "http://mirror.example.org/o"},
      {"HTTPS://Mirror.example.org/o", "HTTPS://Mirror.example.org/o"},
  };
  for (auto [ref, want] : cases) {
    INFO(ref);
    Result<std::string> got = ResolveUrl(base, ref);
    REQUIRE(got.ok());
    CHECK(*got == want);
  }
  CHECK(ResolveUrl("https://h.example", "x").value_or("") == "https://h.example/x");
  for (std::string_view bad :
       {"", "file:///etc/passwd", "ftp://h/x", "a b", "a\\b", "javascript:x"}) {
    INFO(bad);
    CHECK_FALSE(ResolveUrl(base, bad).ok());
  }
  CHECK_FALSE(ResolveUrl("", "relative").ok());
  CHECK_FALSE(ResolveUrl("/local/stable.json", "relative").ok());
  CHECK(ResolveUrl("", "https://h/x").ok());  // absolute needs no base
  // Found by the feed fuzzer: year 7234 overflowed the nanosecond clock.
  CHECK_FALSE(ParseUtcTimestamp("7234-01-01T00:00:00Z").ok());
  CHECK_FALSE(ParseUtcTimestamp("1969-12-31T23:59:59Z").ok());
  CHECK(ParseUtcTimestamp("2200-12-31T23:59:59Z").ok());
  // A feed read from a directory (--from DIR): relative targets stay in it.
  CHECK(ResolveUrl("file:///srv/feed/stable.json", "outpost-1.2.3").value_or("") ==
        "file:///srv/feed/outpost-1.2.3");
  CHECK_FALSE(ResolveUrl("file:///srv/feed/stable.json", "../outpost").ok());
  CHECK_FALSE(ResolveUrl("file:///srv/feed/stable.json", "/etc/passwd").ok());
  CHECK_FALSE(ResolveUrl("https://h/stable.json", "file:///etc/passwd").ok());
}

TEST_CASE("the channel's feed url is <base>/<channel>.json", "[update][feed]") {
  CHECK(ChannelFeedUrl("https://u.example.com/outpost", "stable") ==
        "https://u.example.com/outpost/stable.json");
  CHECK(ChannelFeedUrl("https://u.example.com/outpost//", "beta") ==
        "https://u.example.com/outpost/beta.json");
}

TEST_CASE("timestamps are RFC 3339 UTC", "[update][feed]") {
  using std::chrono::seconds;
  CHECK(ParseUtcTimestamp("1970-01-01T00:00:00Z")->time_since_epoch() == seconds(0));
  CHECK(ParseUtcTimestamp("2026-01-01T00:00:00Z")->time_since_epoch() == seconds(1767225600));
  CHECK(ParseUtcTimestamp("2024-02-29T12:30:15.5Z")->time_since_epoch() ==
        std::chrono::milliseconds(1709209815500));
  for (std::string_view bad :
       {"2026-01-01", "2026-01-01T00:00:00", "2026-01-01T00:00:00z", "2026-01-01 00:00:00Z",
        "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2026-01-01T24:00:00Z",
        "2026-01-01T00:00:60Z", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.1234567890Z",
        "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00ZZ"}) {
    INFO(bad);
    CHECK_FALSE(ParseUtcTimestamp(bad).ok());
  }
}

}  // namespace
}  // namespace outpost::update
