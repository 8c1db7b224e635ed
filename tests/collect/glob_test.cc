// Globs for file source paths: the matching rules ('*', '?', brackets, "**", both
// separators), the literal root, and expansion over a real temporary tree (depth,
// excludes, symlinks and loops, unreadable directories, limits, a large directory).
#include <catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "collect/glob.h"
#include "test_files.h"

#ifndef _WIN32
#include <unistd.h>
#endif

namespace outpost {
namespace {

namespace fs = std::filesystem;

struct MatchCase {
  const char* pattern;
  const char* path;
  bool matches;
};

// Paths of an expansion relative to `base`, with '/', sorted.
std::vector<std::string> Relative(const std::vector<fs::path>& paths, const fs::path& base) {
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(p.lexically_relative(base).generic_string());
  std::sort(out.begin(), out.end());
  return out;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// A pattern rooted at a temp dir; '/' works on every OS.
std::string Pattern(const testing::TempDir& dir, const std::string& rest) {
  return dir.path().generic_string() + "/" + rest;
}

// top.log top.txt .hidden.log d.log/ a/x.log a/b/y.log a/b/c/z.log a/b/c/skip.log
void MakeTree(const testing::TempDir& dir) {
  dir.Write("top.log", "1");
  dir.Write("top.txt", "2");
  dir.Write(".hidden.log", "3");
  fs::create_directories(dir.path() / "d.log");
  dir.Write("a/x.log", "4");
  dir.Write("a/b/y.log", "5");
  dir.Write("a/b/c/z.log", "6");
  dir.Write("a/b/c/skip.log", "7");
}

}  // namespace

TEST_CASE("glob matching follows the rules for *, ?, brackets and **", "[collect]") {
  const MatchCase cases[] = {
      // '*' stays inside one component and may be empty.
      {"/var/log/*.log", "/var/log/syslog.log", true},
      {"/var/log/*.log", "/var/log/.log", true},
      {"/var/log/*.log", "/var/log/.hidden.log", true},
      {"/var/log/*.log", "/var/log/sub/x.log", false},
      {"/var/log/*.log", "/var/log/syslog.log.1", false},
      {"/var/log/*", "/var/log", false},
      {"/var/*/app.log", "/var/x/app.log", true},
      {"/var/*/app.log", "/var/app.log", false},
      {"/a/*a*b*c", "/a/xaybzc", true},
      {"/a/*a*b*c", "/a/xaybzcd", false},
      {"/a/a*b", "/a/ab", true},
      {"/a/a*b", "/a/abba", false},
      {"/a/**x", "/a/yx", true},  // "**" inside a component is just '*'
      {"/a/x**/b", "/a/x/y/b", false},
      // '?' is exactly one character.
      {"/a/?.log", "/a/1.log", true},
      {"/a/?.log", "/a/12.log", false},
      {"/a/?.log", "/a/.log", false},
      {"/a/?", "/a/b/c", false},
      // Brackets: sets, ranges, negation with ! and ^, ']' first, '-' last.
      {"/a/[abc].log", "/a/b.log", true},
      {"/a/[abc].log", "/a/d.log", false},
      {"/a/app[0-9].log", "/a/app7.log", true},
      {"/a/app[0-9].log", "/a/appx.log", false},
      {"/a/app[!0-9].log", "/a/appx.log", true},
      {"/a/app[!0-9].log", "/a/app7.log", false},
      {"/a/app[^0-9].log", "/a/appx.log", true},
      {"/a/app[^0-9].log", "/a/app7.log", false},
      {"/a/[]]", "/a/]", true},
      {"/a/[!]]", "/a/]", false},
      {"/a/[!]]", "/a/x", true},
      {"/a/[a-]", "/a/-", true},
      {"/a/[z-a]", "/a/m", false},
      {"/a/[a-cx-z]", "/a/y", true},
      {"/a/[ab", "/a/[ab", true},  // no closing ']': '[' is an ordinary character
      {"/a/[ab", "/a/a", false},
      {"/a/[\x80-\xFF]", "/a/\xC3", true},  // bytes, not characters
      // Case matters.
      {"/a/*.LOG", "/a/x.log", false},
      // "**" as a component: zero or more directories.
      {"/a/**/b.log", "/a/b.log", true},
      {"/a/**/b.log", "/a/x/b.log", true},
      {"/a/**/b.log", "/a/x/y/b.log", true},
      {"/a/**/b.log", "/a/x/y/c.log", false},
      {"/a/**/b.log", "/b/b.log", false},
      {"/a/**/**/b", "/a/b", true},
      {"/a/**/x/**/b", "/a/1/x/2/3/b", true},
      {"/a/**/x/**/b", "/a/1/y/2/3/b", false},
      {"/a/**", "/a", true},
      {"/a/**", "/a/x/y", true},
      {"/a/**/*.log", "/a/deep/er/x.log", true},
      {"**/*.log", "x.log", true},
      {"**/*.log", "d/e/x.log", true},
      // Separators: '\' is one too, in either argument; repeated ones count once.
      {"C:\\logs\\*.log", "C:/logs/a.log", true},
      {"C:/logs/*.log", "C:\\logs\\a.log", true},
      {"C:/logs/**/*.log", "C:\\logs\\x\\y\\a.log", true},
      {"/a//b/*.log", "/a/b/c.log", true},
      {"/a/b/", "/a/b", true},
      {"//server/share/*.log", "\\\\server\\share\\a.log", true},
      {"//server/share/*.log", "/server/share/a.log", false},
      // Rooted and relative never match each other.
      {"/a/*.log", "a/x.log", false},
      {"a/*.log", "/a/x.log", false},
      {"", "", true},
      {"*", "", false},
  };
  for (const auto& c : cases) {
    INFO("pattern " << c.pattern << " path " << c.path);
    CHECK(GlobMatch(c.pattern, c.path) == c.matches);
  }
}

TEST_CASE("a pathological pattern is matched without exponential backtracking", "[collect]") {
  const std::string name(2000, 'a');
  CHECK_FALSE(GlobMatch("/x/a*a*a*a*a*a*a*a*a*a*b", "/x/" + name));
  std::string deep = "/x";
  for (int i = 0; i < 200; ++i) deep += "/d";
  CHECK_FALSE(GlobMatch("/x/**/d/**/d/**/d/**/e", deep));
  CHECK(GlobMatch("/x/**/d/**/d/**/d/**/d", deep));
}

TEST_CASE("glob meta characters are *, ? and [", "[collect]") {
  CHECK(HasGlobMeta("/var/log/*.log"));
  CHECK(HasGlobMeta("/var/log/app?.log"));
  CHECK(HasGlobMeta("/var/log/app[12].log"));
  CHECK(HasGlobMeta("/var/**/x"));
  CHECK_FALSE(HasGlobMeta("/var/log/syslog"));
  CHECK_FALSE(HasGlobMeta("C:\\logs\\app.log"));
  CHECK_FALSE(HasGlobMeta(""));
}

TEST_CASE("the glob root is the literal leading directory of the pattern", "[collect]") {
  CHECK(GlobRoot("/var/log/**/*.log") == fs::path("/var/log"));
  CHECK(GlobRoot("/var/log/syslog") == fs::path("/var/log"));
  CHECK(GlobRoot("/var/log/app*/x.log") == fs::path("/var/log"));
  CHECK(GlobRoot("/var/log/") == fs::path("/var"));
  CHECK(GlobRoot("/*.log") == fs::path("/"));
  CHECK(GlobRoot("/a/**") == fs::path("/a"));
  CHECK(GlobRoot("C:\\logs\\*.log").generic_string() == "C:/logs");
  CHECK(GlobRoot("C:/*.log").generic_string() == "C:/");
  CHECK(GlobRoot("//server/share/*.log").native() ==
        fs::path("//server/share").make_preferred().native());
  CHECK(GlobRoot("*.log") == fs::path("."));
  CHECK(GlobRoot("logs/*.log") == fs::path("logs"));
}

TEST_CASE("expanding * lists one directory, of any entry kind", "[collect]") {
  testing::TempDir dir;
  MakeTree(dir);
  const auto e = ExpandGlob(Pattern(dir, "*.log"), {});
  CHECK(Relative(e.matches, dir.path()) ==
        std::vector<std::string>{".hidden.log", "d.log", "top.log"});
  CHECK(Relative(e.directories, dir.path()) == std::vector<std::string>{"."});
  CHECK(e.errors.empty());
  CHECK_FALSE(e.limited);
}

TEST_CASE("expanding ** finds matches at every depth, including zero", "[collect]") {
  testing::TempDir dir;
  MakeTree(dir);
  const auto e = ExpandGlob(Pattern(dir, "**/*.log"), {});
  CHECK(Relative(e.matches, dir.path()) == std::vector<std::string>{".hidden.log", "a/b/c/skip.log",
                                                                    "a/b/c/z.log", "a/b/y.log",
                                                                    "a/x.log", "d.log", "top.log"});
  CHECK(Relative(e.directories, dir.path()) ==
        std::vector<std::string>{".", "a", "a/b", "a/b/c", "d.log"});
  CHECK(e.errors.empty());
  // Everything found matches the pattern by GlobMatch too.
  for (const auto& m : e.matches) CHECK(GlobMatch(Pattern(dir, "**/*.log"), m.string()));
}

TEST_CASE("expansion descends only as deep as the pattern needs", "[collect]") {
  testing::TempDir dir;
  MakeTree(dir);
  const auto e = ExpandGlob(Pattern(dir, "*/b/*.log"), {});
  CHECK(Relative(e.matches, dir.path()) == std::vector<std::string>{"a/b/y.log"});
  const auto walked = Relative(e.directories, dir.path());
  CHECK(Contains(walked, "a"));
  CHECK(Contains(walked, "a/b"));
  CHECK_FALSE(Contains(walked, "a/b/c"));
}

TEST_CASE("excluded paths are left out of an expansion", "[collect]") {
  testing::TempDir dir;
  MakeTree(dir);
  const auto e = ExpandGlob(Pattern(dir, "**/*.log"),
                            {Pattern(dir, "**/skip.log"), Pattern(dir, "*.log"), "/elsewhere/*"});
  CHECK(Relative(e.matches, dir.path()) ==
        std::vector<std::string>{"a/b/c/z.log", "a/b/y.log", "a/x.log"});
}

TEST_CASE("a pattern written with backslashes expands like one with slashes", "[collect]") {
  testing::TempDir dir;
  MakeTree(dir);
  const auto e = ExpandGlob(dir.path().string() + "\\a\\**\\*.log", {});
  CHECK(Relative(e.matches, dir.path()) ==
        std::vector<std::string>{"a/b/c/skip.log", "a/b/c/z.log", "a/b/y.log", "a/x.log"});
}

TEST_CASE("a pattern without meta characters yields itself if it exists", "[collect]") {
  testing::TempDir dir;
  MakeTree(dir);
  auto e = ExpandGlob(Pattern(dir, "a/x.log"), {});
  CHECK(Relative(e.matches, dir.path()) == std::vector<std::string>{"a/x.log"});
  CHECK(Relative(e.directories, dir.path()) == std::vector<std::string>{"a"});

  e = ExpandGlob(Pattern(dir, "a/b"), {});  // a directory: the caller reports it
  CHECK(Relative(e.matches, dir.path()) == std::vector<std::string>{"a/b"});

  e = ExpandGlob(Pattern(dir, "a/missing.log"), {});
  CHECK(e.matches.empty());
  CHECK(e.errors.empty());
  CHECK(Relative(e.directories, dir.path()) == std::vector<std::string>{"a"});

  e = ExpandGlob(Pattern(dir, "a/x.log"), {Pattern(dir, "a/*")});
  CHECK(e.matches.empty());
}

TEST_CASE("a missing root expands to nothing, without an error", "[collect]") {
  testing::TempDir dir;
  const auto e = ExpandGlob(Pattern(dir, "missing/**/*.log"), {});
  CHECK(e.matches.empty());
  CHECK(e.directories.empty());
  CHECK(e.errors.empty());
}

TEST_CASE("a root that is a file is reported as an error", "[collect]") {
  testing::TempDir dir;
  MakeTree(dir);
  const auto e = ExpandGlob(Pattern(dir, "top.log/*.log"), {});
  CHECK(e.matches.empty());
  REQUIRE(e.errors.size() == 1);
  CHECK(e.errors[0].find("cannot read ") == 0);
}

TEST_CASE("\"dir/**\" matches the directory itself and everything below it", "[collect]") {
  testing::TempDir dir;
  MakeTree(dir);
  const auto e = ExpandGlob(Pattern(dir, "a/**"), {});
  CHECK(Relative(e.matches, dir.path()) == std::vector<std::string>{"a", "a/b", "a/b/c",
                                                                    "a/b/c/skip.log", "a/b/c/z.log",
                                                                    "a/b/y.log", "a/x.log"});
}

TEST_CASE("5,000 files in one directory expand completely, and stop at max_matches", "[collect]") {
  testing::TempDir dir;
  for (int i = 0; i < 5000; ++i) dir.Write("app-" + std::to_string(i) + ".log", "");
  dir.Write("other.txt", "");
  auto e = ExpandGlob(Pattern(dir, "app-*.log"), {});
  CHECK(e.matches.size() == 5000);
  CHECK_FALSE(e.limited);
  CHECK(std::is_sorted(e.matches.begin(), e.matches.end()));

  e = ExpandGlob(Pattern(dir, "**/app-1*.log"), {}, 100);
  CHECK(e.matches.size() == 100);
  CHECK(e.limited);
  // The limited subset is the same on every run: the first names in order.
  CHECK(e.matches.front().filename().string() == "app-1.log");

  e = ExpandGlob(Pattern(dir, "app-4999.log"), {}, 0);
  CHECK(e.matches.empty());
  CHECK(e.limited);

  e = ExpandGlob(Pattern(dir, "app-[0-9].log"), {}, 10);  // exactly the limit
  CHECK(e.matches.size() == 10);
  CHECK_FALSE(e.limited);
}

#ifndef _WIN32
TEST_CASE("** does not follow a symlink loop, but a symlink to a file matches (POSIX)",
          "[collect]") {
  testing::TempDir dir;
  MakeTree(dir);
  fs::create_directory_symlink(dir.path(), dir.path() / "a" / "loop");
  fs::create_symlink(dir.path() / "top.log", dir.path() / "a" / "link.log");
  fs::create_symlink(dir.path() / "nowhere", dir.path() / "a" / "dangling.log");

  auto e = ExpandGlob(Pattern(dir, "a/**/*.log"), {});
  CHECK(Relative(e.matches, dir.path()) == std::vector<std::string>{"a/b/c/skip.log", "a/b/c/z.log",
                                                                    "a/b/y.log", "a/dangling.log",
                                                                    "a/link.log", "a/x.log"});
  CHECK(e.errors.empty());

  // A named component may go through the link: the pattern bounds the depth.
  e = ExpandGlob(Pattern(dir, "a/loop/*.log"), {});
  CHECK(Relative(e.matches, dir.path()) ==
        std::vector<std::string>{"a/loop/.hidden.log", "a/loop/d.log", "a/loop/top.log"});
  e = ExpandGlob(Pattern(dir, "a/*/a/*/a/x.log"), {});
  CHECK(Relative(e.matches, dir.path()) == std::vector<std::string>{"a/loop/a/loop/a/x.log"});

  // After a named component, "**" below the link does not follow the link again.
  e = ExpandGlob(Pattern(dir, "a/*/**/x.log"), {});
  CHECK(Relative(e.matches, dir.path()) == std::vector<std::string>{"a/loop/a/x.log"});

  e = ExpandGlob(Pattern(dir, "**"), {});
  CHECK(e.errors.empty());
  CHECK(e.matches.size() == 15);  // the tree, the root and the three links, once each
}

TEST_CASE("an unreadable directory is reported and the rest still expands (POSIX)", "[collect]") {
  if (geteuid() == 0) {
    WARN("skipped: root reads every directory");
    return;
  }
  testing::TempDir dir;
  MakeTree(dir);
  const fs::path locked = dir.path() / "a" / "b";
  fs::permissions(locked, fs::perms::none, fs::perm_options::replace);
  const auto e = ExpandGlob(Pattern(dir, "**/*.log"), {});
  fs::permissions(locked, fs::perms::owner_all, fs::perm_options::replace);
  REQUIRE(e.errors.size() == 1);
  CHECK(e.errors[0].find("cannot read " + locked.string() + ": ") == 0);
  CHECK(Relative(e.matches, dir.path()) ==
        std::vector<std::string>{".hidden.log", "a/x.log", "d.log", "top.log"});
}
#endif

}  // namespace outpost

namespace outpost {
namespace {

TEST_CASE("a relative ** glob matches a name anywhere in an absolute path", "[collect]") {
  CHECK(GlobMatch("**/*.gz", "/var/log/app.log.1.gz"));
  CHECK(GlobMatch("**/debug.log", "/srv/app/debug.log"));
  CHECK_FALSE(GlobMatch("**/debug.log", "/srv/app/debug.log.1"));
  CHECK(GlobMatch("**/*.gz", "C:\\logs\\old.gz"));
}

}  // namespace
}  // namespace outpost
