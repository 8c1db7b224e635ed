// Regressions found by the fuzz targets (docs/fuzzing.md) in the Linux device tables:
// each input that made a target fail, as a fixture tree in a temp dir. The same inputs
// are in tests/fuzz/corpus/<target>/crash-*, which the fuzz_corpus_<target> tests
// replay.
#include <catch.hpp>

#include "platform/table_rows.h"
#include "test_files.h"

namespace outpost::test {
namespace {

TEST_CASE("fuzz processes: huge tick and kB counts give NULL, not an overflow", "[fuzz]") {
  testing::TempDir root;
  root.Write("proc/1/stat",
             "1 (systemd) S 0 1 1 0 -1 4194560 53549 659507 92 1346 446744033709551615 "
             "9223372036854775807 0 0 20 0 1 0 9223372036854775807\n");
  root.Write("proc/1/status", "Uid:\t0\t0\t0\t0\nVmRSS: 9223372036854775807 kB\n");
  root.Write("proc/stat", "btime 9223372036854775807\n");
  const platform::TableDef& t = FindTable("processes");
  const TableRun r = RunTable(t, root.path().string());
  REQUIRE(r.rows.size() == 1);
  CHECK(Cell(t, r.rows[0], "user_time") == "");
  CHECK(Cell(t, r.rows[0], "system_time") == "");
  CHECK(Cell(t, r.rows[0], "resident_size") == "");
  CHECK(Cell(t, r.rows[0], "start_time") == "-1");
}

TEST_CASE("fuzz system_info: a huge MemTotal gives NULL, not an overflow", "[fuzz]") {
  testing::TempDir root;
  root.Write("proc/meminfo", "MemTotal:       9223372036854775 kB\n");
  const platform::TableDef& t = FindTable("system_info");
  const TableRun r = RunTable(t, root.path().string());
  REQUIRE(r.rows.size() == 1);
  CHECK(Cell(t, r.rows[0], "physical_memory") == "");
}

}  // namespace
}  // namespace outpost::test
