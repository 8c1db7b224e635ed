// os_version (macOS): one row from /System/Library/CoreServices/SystemVersion.plist
// under the root (what sw_vers prints), with uname()'s machine as arch. osquery's
// columns: `extra` is the Rapid Security Response suffix ("(a)") where the OS writes
// ProductVersionExtra; the Windows and Linux-only columns are hidden and NULL.
// Not compiled here (no macOS toolchain on the build machines); see docs/macos.md.
#include "macos/tables/mac_util.h"
#include "macos/tables/tables.h"

namespace outpost::platform::macos_tables {
namespace {

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  const std::optional<plist::Value> v =
      ReadPlist(env.Path("/System/Library/CoreServices/SystemVersion.plist"));
  if (!v || v->type != plist::Type::kDict) return "";  // no row, as with no os-release
  const std::string version = v->Text("ProductVersion").value_or("");
  const plist::VersionParts parts = plist::SplitVersion(version);
  // A Rapid Security Response is described in the cryptex's copy of the file.
  std::optional<std::string> extra = v->Text("ProductVersionExtra");
  if (!extra) {
    if (const std::optional<plist::Value> rsr = ReadPlist(
            env.Path("/System/Cryptexes/OS/System/Library/CoreServices/SystemVersion.plist")))
      extra = rsr->Text("ProductVersionExtra");
  }
  rows.Add({NonEmpty(v->Text("ProductName")), Text(version), Int(parts.major), Int(parts.minor),
            Int(parts.patch), NonEmpty(v->Text("ProductBuildVersion")), Text("darwin"),
            Text("darwin"), Value(), Text(MachineName()), NonEmpty(extra), Value(), Value(),
            Value(), Value()});
  return "";
}

}  // namespace

TableDef OsVersionTable() {
  using T = ColumnType;
  constexpr bool kHidden = true;
  return TableDef{"os_version",
                  "The operating system's name and version (one row).",
                  {{"name", T::kText},
                   {"version", T::kText},
                   {"major", T::kInteger},
                   {"minor", T::kInteger},
                   {"patch", T::kInteger},
                   {"build", T::kText},
                   {"platform", T::kText},
                   {"platform_like", T::kText},
                   {"codename", T::kText},
                   {"arch", T::kText},
                   {"extra", T::kText},
                   {"install_date", T::kBigInt, false, false, kHidden},
                   {"revision", T::kInteger, false, false, kHidden},
                   {"pid_with_namespace", T::kInteger, false, false, kHidden},
                   {"mount_namespace_id", T::kText, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::macos_tables
