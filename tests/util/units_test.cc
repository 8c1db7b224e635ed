#include <catch.hpp>

#include "util/units.h"

namespace outpost {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST_CASE("durations parse in every unit and in compound form") {
  CHECK(*ParseDuration("250ms") == milliseconds(250));
  CHECK(*ParseDuration("30s") == seconds(30));
  CHECK(*ParseDuration("5m") == minutes(5));
  CHECK(*ParseDuration("2h") == hours(2));
  CHECK(*ParseDuration("7d") == hours(168));
  CHECK(*ParseDuration("1h30m") == minutes(90));
  CHECK(*ParseDuration("1.5h") == minutes(90));
  CHECK(*ParseDuration("0s") == milliseconds(0));
  CHECK(*ParseDuration("0.001s") == milliseconds(1));
  CHECK(*ParseDuration("10 s") == seconds(10));
}

TEST_CASE("bad durations are refused with a message that says why") {
  auto neg = ParseDuration("-5s");
  REQUIRE_FALSE(neg.ok());
  CHECK(neg.status().message().find("negative") != std::string::npos);

  auto unit = ParseDuration("5 parsecs");
  REQUIRE_FALSE(unit.ok());
  CHECK(unit.status().message() ==
        "unknown unit 'parsecs' in duration \"5 parsecs\" (use ms, s, m, h or d)");

  auto bad_unit = ParseDuration("5w");
  REQUIRE_FALSE(bad_unit.ok());
  CHECK(bad_unit.status().message() ==
        "unknown unit 'w' in duration \"5w\" (use ms, s, m, h or d)");

  CHECK_FALSE(ParseDuration("").ok());
  CHECK_FALSE(ParseDuration("30").ok());  // a bare number: which unit?
  CHECK_FALSE(ParseDuration("s").ok());
  CHECK_FALSE(ParseDuration("1.s").ok());
}

TEST_CASE("durations that overflow are refused, not wrapped") {
  auto huge = ParseDuration("99999999999999999999999s");
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.status().message().find("too large") != std::string::npos);
  CHECK_FALSE(ParseDuration("36501d").ok());  // over the 100-year cap
  CHECK_FALSE(ParseDuration("36500d1d").ok());
  CHECK(ParseDuration("36500d").ok());
}

TEST_CASE("sizes parse decimal and binary units and bare bytes") {
  CHECK(*ParseSize("512") == 512);
  CHECK(*ParseSize("512B") == 512);
  CHECK(*ParseSize("10KB") == 10000);
  CHECK(*ParseSize("10KiB") == 10240);
  CHECK(*ParseSize("256MiB") == 256ULL << 20);
  CHECK(*ParseSize("1 GiB") == 1ULL << 30);
  CHECK(*ParseSize("1.5GiB") == 3ULL << 29);
  CHECK(*ParseSize("2TB") == 2000000000000ULL);
  CHECK_FALSE(ParseSize("16383PiB").ok());
}

TEST_CASE("bad sizes are refused") {
  auto unit = ParseSize("10mb");
  REQUIRE_FALSE(unit.ok());
  CHECK(unit.status().message() ==
        "unknown unit 'mb' in size \"10mb\" (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)");
  CHECK(ParseSize("-1MiB").status().message().find("negative") != std::string::npos);
  CHECK_FALSE(ParseSize("").ok());
  CHECK_FALSE(ParseSize("MiB").ok());
  auto big = ParseSize("20000000TiB");
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().message().find("too large") != std::string::npos);
  CHECK_FALSE(ParseSize("99999999999999999999").ok());
  CHECK(*ParseSize("18446744073709551615") == 18446744073709551615ULL);
}

TEST_CASE("durations and sizes format back to their shortest exact text") {
  CHECK(FormatDuration(milliseconds(90000)) == "1m30s");
  CHECK(FormatDuration(milliseconds(1500)) == "1s500ms");
  CHECK(FormatDuration(milliseconds(0)) == "0s");
  CHECK(FormatDuration(hours(48)) == "2d");
  CHECK(FormatSize(256ULL << 20) == "256MiB");
  CHECK(FormatSize(1000) == "1000B");
  CHECK(FormatSize(0) == "0B");
  for (const char* text : {"1h30m", "250ms", "7d", "1d1h1m1s1ms"})
    CHECK(FormatDuration(*ParseDuration(text)) == text);
}

}  // namespace outpost

namespace outpost {
namespace {

TEST_CASE("FormatBytes is short and readable", "[util]") {
  CHECK(FormatBytes(0) == "0 B");
  CHECK(FormatBytes(1023) == "1023 B");
  CHECK(FormatBytes(1024) == "1.0 KiB");
  CHECK(FormatBytes(6208) == "6.1 KiB");
  CHECK(FormatBytes(3ULL << 30) == "3.0 GiB");
  CHECK(FormatBytes(uint64_t(1.5 * (1ULL << 40))) == "1.5 TiB");
  CHECK(FormatBytes(5000ULL << 40) == "5000.0 TiB");
}

}  // namespace
}  // namespace outpost
