// crontab: the entries of the system and per-user crontabs: /etc/crontab, the files in
// /etc/cron.d, /var/spool/cron (Red Hat) and /var/spool/cron/crontabs (Debian), in
// file-name order, as in osquery. path is the file's path on the host (without the
// root prefix).
//
// A line "m h dom mon dow command..." fills the five time columns; "@reboot command"
// fills event instead. As in osquery, the command is every remaining word joined by one
// space, so in /etc/crontab and /etc/cron.d it starts with the user name. Comments,
// blank lines, variable settings (SHELL=/bin/sh: too few words) and lines with NUL
// bytes are skipped.
#include <algorithm>
#include <system_error>

#include "linux/tables/table_util.h"
#include "linux/tables/tables.h"

namespace outpost::platform::linux_tables {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxFilesPerDir = 1000;

// The regular files directly in root/`dir`, as host paths ("/etc/cron.d/php"), sorted.
std::vector<std::string> FilesIn(const TableEnv& env, const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::directory_iterator it(env.Path(dir), ec);
  for (; !ec && it != fs::directory_iterator() && out.size() < kMaxFilesPerDir; it.increment(ec)) {
    if (it->is_regular_file(ec)) out.push_back(dir + "/" + it->path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The row of one crontab line, or an empty vector when it is no entry.
std::vector<Value> ParseLine(std::string_view line, const std::string& path) {
  line = Trim(line);
  if (line.empty() || line.front() == '#' || line.find('\0') != std::string_view::npos) return {};
  const std::vector<std::string_view> words = Fields(line, " \t");
  Value event;
  std::vector<Value> times(5);
  size_t first_command = 5;
  if (words[0].front() == '@') {
    event = Text(words[0]);
    first_command = 1;
  } else {
    for (size_t i = 0; i < 5 && i < words.size(); ++i) times[i] = Text(words[i]);
  }
  if (words.size() <= first_command) return {};
  std::string command;
  for (size_t i = first_command; i < words.size(); ++i) {
    if (!command.empty()) command += ' ';
    command += words[i];
  }
  return {event,    times[0],      times[1],   times[2],         times[3],
          times[4], Text(command), Text(path), Value(int64_t{0})};
}

std::string Generate(const TableEnv& env, const TableQuery&, RowSink& rows) {
  std::vector<std::string> files = {"/etc/crontab"};
  for (const char* dir : {"/etc/cron.d", "/var/spool/cron", "/var/spool/cron/crontabs"}) {
    const std::vector<std::string> more = FilesIn(env, dir);
    files.insert(files.end(), more.begin(), more.end());
  }
  for (const std::string& path : files) {
    if (env.stopped()) break;
    const std::optional<std::string> text = ReadFile(env.Path(path), 1 << 20);
    if (!text) continue;
    for (const std::string_view line : Lines(*text)) {
      std::vector<Value> row = ParseLine(line, path);
      if (!row.empty() && !rows.Add(std::move(row))) return "";
    }
  }
  return "";
}

}  // namespace

TableDef CrontabTable() {
  using T = ColumnType;
  constexpr bool kHidden = true;
  return TableDef{"crontab",
                  "Entries of the system and per-user crontabs.",
                  {{"event", T::kText},
                   {"minute", T::kText},
                   {"hour", T::kText},
                   {"day_of_month", T::kText},
                   {"month", T::kText},
                   {"day_of_week", T::kText},
                   {"command", T::kText},
                   {"path", T::kText},
                   {"pid_with_namespace", T::kInteger, false, false, kHidden}},
                  Generate};
}

}  // namespace outpost::platform::linux_tables
