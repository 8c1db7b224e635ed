// suid_bin on a tree made at test time (git does not keep setuid bits): setuid, setgid
// and both; links, directories and plain files skipped; /bin -> usr/bin walked once.
#include <sys/stat.h>
#include <unistd.h>

#include <catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "platform/table_rows.h"

namespace outpost::test {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& p, const std::string& text, fs::perms mode) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
  REQUIRE(::chmod(p.c_str(), static_cast<mode_t>(mode)) == 0);
}

TEST_CASE("suid_bin lists setuid and setgid programs", "[tables]") {
  const fs::path root = fs::temp_directory_path() / ("outpost-suid-" + std::to_string(::getpid()));
  fs::remove_all(root);
  const std::string uid = std::to_string(::getuid());
  const std::string gid = std::to_string(::getgid());
  Write(root / "etc/passwd", "tester:x:" + uid + ":" + gid + "::/home/tester:/bin/sh\n",
        fs::perms(0644));
  Write(root / "etc/group", "testers:x:" + gid + ":\n", fs::perms(0644));
  const auto suid = fs::perms(04755), sgid = fs::perms(02755), both = fs::perms(06755);
  Write(root / "usr/bin/passwd", "x", suid);
  Write(root / "usr/bin/wall", "x", sgid);
  Write(root / "usr/bin/odd", "x", both);
  Write(root / "usr/bin/ls", "x", fs::perms(0755));
  Write(root / "usr/lib/openssh/ssh-keysign", "x", suid);
  Write(root / "usr/lib/a/b/c/d/too-deep", "x", suid);  // depth 5
  Write(root / "usr/local/sbin/tool", "x", sgid);
  fs::create_directories(root / "usr/sbin/setgid-dir");
  REQUIRE(::chmod((root / "usr/sbin/setgid-dir").c_str(), 02755) == 0);
  fs::create_symlink("passwd", root / "usr/bin/link-to-passwd");
  fs::create_directory_symlink("usr/bin", root / "bin");

  const platform::TableDef& t = FindTable("suid_bin");
  TableRun r = RunTable(t, root.string());
  REQUIRE(r.error.empty());
  std::vector<std::string> got;
  for (const auto& row : r.rows)
    got.push_back(Cell(t, row, "path") + " " + Cell(t, row, "username") + " " +
                  Cell(t, row, "groupname") + " " + Cell(t, row, "permissions"));
  CHECK(got == std::vector<std::string>{
                   "/usr/bin/odd tester testers SG",
                   "/usr/bin/passwd tester testers S",
                   "/usr/bin/wall tester testers G",
                   "/usr/local/sbin/tool tester testers G",
                   "/usr/lib/openssh/ssh-keysign tester testers S",
               });

  // Unknown owner: the ids in decimal.
  fs::remove(root / "etc/passwd");
  fs::remove(root / "etc/group");
  TableRun anon = RunTable(t, root.string());
  REQUIRE(!anon.rows.empty());
  CHECK(Cell(t, anon.rows[0], "username") == uid);
  CHECK(Cell(t, anon.rows[0], "groupname") == gid);
  fs::remove_all(root);

  CHECK(RunTable(t, LinuxFixture("does-not-exist")).rows.empty());
}

}  // namespace
}  // namespace outpost::test
