// kernel_info: the running kernel, one row. version from /proc/sys/kernel/osrelease (or
// the third word of /proc/version, "Linux version 6.1.0-18-amd64 ..."); from
// /proc/cmdline, path is the BOOT_IMAGE= argument, device the root= argument, and
// arguments the other words, as in osquery. No row when none of the files exists.
#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  Value version, arguments, path, device;
  if (const std::optional<std::string> r = ReadFile(env.Path("/proc/sys/kernel/osrelease"), 4096);
      r && !Trim(*r).empty()) {
    version = Text(Trim(*r));
  } else if (const std::optional<std::string> v = ReadFile(env.Path("/proc/version"), 4096)) {
    const std::vector<std::string_view> words = Fields(*v, " \t\n");
    if (words.size() > 2 && words[1] == "version") version = Text(words[2]);
  }
  if (const std::optional<std::string> c = ReadFile(env.Path("/proc/cmdline"), 64 << 10)) {
    std::string rest;
    for (const std::string_view word : Fields(*c, " \t\n")) {
      if (word.starts_with("BOOT_IMAGE=")) {
        path = Text(word.substr(11));
      } else if (word.starts_with("root=")) {
        device = Text(word.substr(5));
      } else {
        if (!rest.empty()) rest += ' ';
        rest += word;
      }
    }
    arguments = Text(rest);
  }
  if (version.index() == 0 && arguments.index() == 0) return "";
  rows.Add({version, arguments, path, device});
  return "";
}

}  // namespace

TableDef KernelInfoTable() {
  using T = ColumnType;
  return TableDef{
      "kernel_info",
      "The running kernel's version, boot image and arguments (one row).",
      {{"version", T::kText}, {"arguments", T::kText}, {"path", T::kText}, {"device", T::kText}},
      Generate};
}

}  // namespace outpost::platform::linux_tables
