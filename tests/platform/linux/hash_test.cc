// hash on the fixture tree debian12/opt/filetest: exact digests, symlinks followed,
// directories skipped.
#include <catch.hpp>

#include "platform/table_rows.h"

namespace outpost::test {
namespace {

TEST_CASE("hash gives md5, sha1 and sha256 of a file", "[tables]") {
  const platform::TableDef& t = FindTable("hash");
  TableRun r = RunTable(t, LinuxFixture("debian12"), {{"path", "/opt/filetest/a.txt"}});
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 1);
  const auto& row = r.rows[0];
  CHECK(Cell(t, row, "path") == "/opt/filetest/a.txt");
  CHECK(Cell(t, row, "directory") == "/opt/filetest");
  CHECK(Cell(t, row, "md5") == "6f5902ac237024bdd0c176cb93063dc4");
  CHECK(Cell(t, row, "sha1") == "22596363b3de40b06f981fb85d82312e8c0ed511");
  CHECK(Cell(t, row, "sha256") ==
        "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447");

  // Through an absolute symlink, resolved inside the root.
  TableRun link = RunTable(t, LinuxFixture("debian12"), {{"path", "/opt/filetest/link-to-a"}});
  REQUIRE(link.rows.size() == 1);
  CHECK(Cell(t, link.rows[0], "path") == "/opt/filetest/link-to-a");
  CHECK(Cell(t, link.rows[0], "sha256") ==
        "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447");

  CHECK(RunTable(t, LinuxFixture("debian12"), {{"path", "/opt/filetest/sub"}}).rows.empty());
  CHECK(RunTable(t, LinuxFixture("debian12"), {{"path", "/opt/filetest/dangling"}}).rows.empty());
}

TEST_CASE("hash with directory = hashes the regular files in it", "[tables]") {
  const platform::TableDef& t = FindTable("hash");
  TableRun r = RunTable(t, LinuxFixture("debian12"), {{"directory", "/opt/filetest/sub"}});
  REQUIRE(r.error.empty());
  REQUIRE(r.rows.size() == 1);  // c.txt; "deeper" is a directory
  CHECK(Cell(t, r.rows[0], "path") == "/opt/filetest/sub/c.txt");
  CHECK(Cell(t, r.rows[0], "sha1") == "c8559c3c9cfb42131794b7d8009230403b9b454c");
  CHECK(Cell(t, r.rows[0], "sha256") ==
        "5695d82a086b677962a0b0428ed1a213208285b7b40d7d3604876d36a710302a");

  TableRun empty =
      RunTable(t, LinuxFixture("debian12"), {{"path", "/opt/filetest/sub/deeper/d.txt"}});
  REQUIRE(empty.rows.size() == 1);
  CHECK(Cell(t, empty.rows[0], "sha256") ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Cell(t, empty.rows[0], "md5") == "d41d8cd98f00b204e9800998ecf8427e");
}

}  // namespace
}  // namespace outpost::test
