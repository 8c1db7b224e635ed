// apps (macOS): application bundles and their Info.plist, with osquery's columns. The
// bundles are the *.app directories in /Applications (and one folder level below it,
// e.g. /Applications/Utilities), /System/Applications (and its Utilities) and every
// /Users/<name>/Applications, read below the table's root; a bundle is not searched for
// bundles inside it. Contents/Info.plist may be XML or binary (Apple's own apps ship
// binary ones): both are read (common/plist_xml.h).
//
// Each column is the Info.plist key osquery reads:
//   bundle_executable CFBundleExecutable   bundle_identifier CFBundleIdentifier
//   bundle_name CFBundleName               bundle_short_version CFBundleShortVersionString
//   bundle_version CFBundleVersion         bundle_package_type CFBundlePackageType
//   environment LSEnvironment              element LSUIElement
//   compiler DTCompiler                    development_region CFBundleDevelopmentRegion
//   display_name CFBundleDisplayName       info_string CFBundleGetInfoString
//   minimum_system_version LSMinimumSystemVersion   category LSApplicationCategoryType
//   applescript_enabled NSAppleScriptEnabled        copyright NSHumanReadableCopyright
// A missing key (or one holding a dict or array, such as LSEnvironment) gives "", as in
// osquery; booleans are "1"/"0". A bundle whose Info.plist is missing or malformed is
// still listed, by name and path. last_opened_time comes from Spotlight in osquery,
// which outpost does not query: -1.
// `path = '/Applications/X.app'` reads only that bundle.
// Not compiled here (no macOS toolchain on the build machines); see docs/macos.md.
#include <algorithm>
#include <system_error>
#include <vector>

#include "macos/tables/mac_util.h"
#include "macos/tables/tables.h"

namespace outpost::platform::macos_tables {
namespace {

namespace fs = std::filesystem;

constexpr const char* kKeys[] = {"CFBundleExecutable",
                                 "CFBundleIdentifier",
                                 "CFBundleName",
                                 "CFBundleShortVersionString",
                                 "CFBundleVersion",
                                 "CFBundlePackageType",
                                 "LSEnvironment",
                                 "LSUIElement",
                                 "DTCompiler",
                                 "CFBundleDevelopmentRegion",
                                 "CFBundleDisplayName",
                                 "CFBundleGetInfoString",
                                 "LSMinimumSystemVersion",
                                 "LSApplicationCategoryType",
                                 "NSAppleScriptEnabled",
                                 "NSHumanReadableCopyright"};

bool IsBundle(const fs::path& p) {
  std::error_code ec;
  return p.extension() == ".app" && fs::is_directory(p, ec);
}

// *.app directly in `dir`; with `one_level`, also in its subfolders that are not bundles.
void FindBundles(const TableEnv& env, const fs::path& dir, bool one_level,
                 std::vector<fs::path>& out) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (env.stopped()) return;
    const fs::path& p = it->path();
    if (IsBundle(p)) {
      out.push_back(p);
    } else if (one_level && it->is_directory(ec) && !it->is_symlink(ec)) {
      FindBundles(env, p, false, out);
    }
  }
}

// The bundle's path as the query shows it: absolute on the live system, without the
// fixture root.
std::string ShownPath(const TableEnv& env, const fs::path& p) {
  std::error_code ec;
  const fs::path rel = p.lexically_relative(env.root);
  if (rel.empty() || rel.native().rfind("..", 0) == 0) return p.string();
  return (fs::path("/") / rel).string();
}

std::vector<Value> BundleRow(const TableEnv& env, const fs::path& bundle) {
  std::vector<Value> row = {Text(bundle.filename().string()), Text(ShownPath(env, bundle))};
  const std::optional<plist::Value> info = ReadPlist(bundle / "Contents" / "Info.plist");
  for (const char* key : kKeys) {
    std::optional<std::string> text;
    if (info) text = info->Text(key);
    row.push_back(Text(text.value_or("")));
  }
  row.push_back(Value(-1.0));  // last_opened_time
  return row;
}

std::string Generate(const TableEnv& env, const TableQuery& query, RowSink& rows) {
  std::vector<fs::path> bundles;
  if (query.Has(1)) {
    for (const std::string& p : query.Texts(1))
      if (!p.empty() && p.front() == '/' && IsBundle(env.Path(p))) bundles.push_back(env.Path(p));
  } else {
    FindBundles(env, env.Path("/Applications"), true, bundles);
    FindBundles(env, env.Path("/System/Applications"), true, bundles);
    std::error_code ec;
    for (fs::directory_iterator it(env.Path("/Users"), ec), end; !ec && it != end; it.increment(ec))
      FindBundles(env, it->path() / "Applications", true, bundles);
  }
  std::sort(bundles.begin(), bundles.end());
  bundles.erase(std::unique(bundles.begin(), bundles.end()), bundles.end());
  for (const fs::path& b : bundles) {
    if (env.stopped()) break;
    if (!rows.Add(BundleRow(env, b))) break;
  }
  return "";
}

}  // namespace

TableDef AppsTable() {
  using T = ColumnType;
  constexpr bool kIndex = true;
  return TableDef{"apps",
                  "Application bundles (.app) and their Info.plist.",
                  {{"name", T::kText},
                   {"path", T::kText, false, kIndex},
                   {"bundle_executable", T::kText},
                   {"bundle_identifier", T::kText},
                   {"bundle_name", T::kText},
                   {"bundle_short_version", T::kText},
                   {"bundle_version", T::kText},
                   {"bundle_package_type", T::kText},
                   {"environment", T::kText},
                   {"element", T::kText},
                   {"compiler", T::kText},
                   {"development_region", T::kText},
                   {"display_name", T::kText},
                   {"info_string", T::kText},
                   {"minimum_system_version", T::kText},
                   {"category", T::kText},
                   {"applescript_enabled", T::kText},
                   {"copyright", T::kText},
                   {"last_opened_time", T::kDouble}},
                  Generate};
}

}  // namespace outpost::platform::macos_tables
