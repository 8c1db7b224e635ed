#include "update/version.h"

#include <catch.hpp>

namespace outpost::update {
namespace {

Version V(std::string_view text) {
  Result<Version> v = ParseVersion(text);
  REQUIRE(v.ok());
  return *v;
}

TEST_CASE("versions parse MAJOR.MINOR.PATCH with an optional pre-release", "[update][version]") {
  const Version v = V("1.22.333-rc.1");
  CHECK(v.major == 1);
  CHECK(v.minor == 22);
  CHECK(v.patch == 333);
  CHECK(v.prerelease == "rc.1");
  CHECK(v.ToString() == "1.22.333-rc.1");
  CHECK(V("0.0.0").ToString() == "0.0.0");
  CHECK(V("18446744073709551615.0.0").major == 18446744073709551615ull);
}

TEST_CASE("malformed versions are rejected with a message naming the text", "[update][version]") {
  for (std::string_view bad :
       {"", "1", "1.2", "1.2.3.4", "v1.2.3", "01.2.3", "1.02.3", "1.2.03", "1.2.3-", "1.2.3-rc..1",
        "1.2.3-rc.01", "1.2.3+build", "1.2.3 ", " 1.2.3", "1.-2.3", "1.2.x", "1.2.3-rc_1",
        "99999999999999999999.0.0", "1..3"}) {
    INFO(bad);
    Result<Version> v = ParseVersion(bad);
    CHECK_FALSE(v.ok());
    CHECK(v.status().code() == Code::kInvalidArgument);
  }
  CHECK(ParseVersion("1.2.x").status().message().find("'1.2.x'") != std::string::npos);
}

TEST_CASE("versions compare numerically, a pre-release below its release", "[update][version]") {
  CHECK(V("1.10.0") > V("1.9.0"));
  CHECK(V("2.0.0") > V("1.99.99"));
  CHECK(V("1.2.10") > V("1.2.9"));
  CHECK(V("1.2.0-rc.1") < V("1.2.0"));
  CHECK(V("1.2.0") == V("1.2.0"));
  CHECK_FALSE(V("1.2.0-rc.1") == V("1.2.0"));
  // Semver's own precedence example.
  const char* ordered[] = {"1.0.0-alpha",  "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
                           "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",       "1.0.0"};
  for (size_t i = 0; i + 1 < std::size(ordered); ++i) {
    INFO(ordered[i] << " < " << ordered[i + 1]);
    CHECK(CompareVersions(V(ordered[i]), V(ordered[i + 1])) < 0);
    CHECK(CompareVersions(V(ordered[i + 1]), V(ordered[i])) > 0);
  }
}

}  // namespace
}  // namespace outpost::update
