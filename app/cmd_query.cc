// `outpost query "SQL"` and `outpost tables [NAME]`: the device tables by hand.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "outpost/platform/system.h"
#include "outpost/platform/table.h"
#include "query/query_engine.h"
#include "util/units.h"

namespace outpost::app {
namespace {

struct QueryOptions {
  std::string sql;
  std::string format = "table";
  std::string root = "/";
  std::string timeout = "10s";
  int64_t max_rows = 10000;
};

// Display width of UTF-8 text: code points (wide characters count 1; good enough for
// alignment of what tables hold).
size_t Width(std::string_view s) {
  size_t n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

// Cuts `s` to `width` code points, ending with "…" when cut; control characters shown
// as spaces so a value cannot break the table's lines.
std::string Fit(const std::string& s, size_t width) {
  std::string out;
  size_t n = 0;
  const size_t total = Width(s);
  for (size_t i = 0; i < s.size(); ++i) {
    const auto u = static_cast<unsigned char>(s[i]);
    if ((u & 0xC0) != 0x80) {
      if (total > width && n + 1 >= width) {
        out += "\xE2\x80\xA6";  // …
        return out;
      }
      ++n;
    }
    out.push_back(u < 0x20 || u == 0x7F ? ' ' : s[i]);
  }
  return out;
}

void PrintTable(const QueryResult& r) {
  const size_t n = r.columns.size();
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> width(n, 0);
  for (size_t c = 0; c < n; ++c) width[c] = Width(r.columns[c]);
  for (const auto& row : r.rows) {
    auto& line = cells.emplace_back();
    for (size_t c = 0; c < n; ++c) {
      line.push_back(ValueText(row[c]));
      width[c] = std::max(width[c], Width(line.back()));
    }
  }
  // Fit the terminal: shrink the widest columns first, down to 8 characters each.
  const int term = platform::TerminalColumns();
  if (term > 0 && n > 0) {
    auto total = [&] {
      size_t t = 0;
      for (size_t w : width) t += w + 3;
      return t + 1;
    };
    while (total() > static_cast<size_t>(term)) {
      auto widest = std::max_element(width.begin(), width.end());
      if (*widest <= 8) break;
      --*widest;
    }
  }
  auto rule = [&] {
    std::string s = "+";
    for (size_t w : width) s += std::string(w + 2, '-') + "+";
    std::printf("%s\n", s.c_str());
  };
  auto print_row = [&](const std::vector<std::string>& values) {
    std::string s = "|";
    for (size_t c = 0; c < n; ++c) {
      const std::string v = Fit(values[c], width[c]);
      s += " " + v + std::string(width[c] - Width(v), ' ') + " |";
    }
    std::printf("%s\n", s.c_str());
  };
  rule();
  print_row(r.columns);
  rule();
  for (const auto& line : cells) print_row(line);
  rule();
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

void PrintCsv(const QueryResult& r) {
  auto line = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + CsvField(v[i]);
    std::printf("%s\r\n", s.c_str());
  };
  line(r.columns);
  for (const auto& row : r.rows) {
    std::vector<std::string> v;
    for (const auto& value : row) v.push_back(ValueText(value));
    line(v);
  }
}

// osquery's convention: every value a JSON string, NULL as "".
nlohmann::json RowsJson(const QueryResult& r) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& row : r.rows) {
    nlohmann::json o = nlohmann::json::object();
    for (size_t c = 0; c < r.columns.size(); ++c) o[r.columns[c]] = ValueText(row[c]);
    out.push_back(std::move(o));
  }
  return out;
}

int NoTables() {
  std::fprintf(stderr,
               "outpost: device tables are not available on %s yet (they exist on Linux); "
               "the platform work adds them\n",
               std::string(platform::DeviceTablesOs()).c_str());
  return kExitRuntime;
}

int RunQuery(Cli& cli, const QueryOptions& opts) {
  if (opts.format != "table" && opts.format != "json" && opts.format != "csv") {
    std::fprintf(stderr, "outpost: --format must be table, json or csv (not '%s')\n",
                 opts.format.c_str());
    return kExitUsage;
  }
  Result<Duration> timeout = ParseDuration(opts.timeout);
  if (!timeout.ok() || *timeout <= Duration(0)) {
    std::fprintf(stderr, "outpost: --timeout: '%s' is not a duration such as 10s\n",
                 opts.timeout.c_str());
    return kExitUsage;
  }
  const std::vector<platform::TableDef>& tables = platform::DeviceTables();
  if (tables.empty()) return NoTables();
  Result<std::unique_ptr<QueryEngine>> engine = QueryEngine::Create(tables, opts.root, cli.clock());
  if (!engine.ok()) {
    std::fprintf(stderr, "outpost: %s\n", engine.status().message().c_str());
    return kExitRuntime;
  }
  QueryLimits limits;
  limits.timeout = *timeout;
  limits.max_rows = opts.max_rows;
  Result<QueryResult> r = (*engine)->Run(opts.sql, limits);
  if (!r.ok()) {
    std::fprintf(stderr, "outpost: %s\n", r.status().message().c_str());
    return r.status().code() == Code::kInvalidArgument ? kExitUsage : kExitRuntime;
  }
  if (opts.format == "json")
    PrintJson(RowsJson(*r));
  else if (opts.format == "csv")
    PrintCsv(*r);
  else
    PrintTable(*r);
  return kExitOk;
}

struct TablesOptions {
  std::string name;
  bool json = false;
};

int ListTables(const TablesOptions& opts) {
  const std::vector<platform::TableDef>& tables = platform::DeviceTables();
  if (tables.empty()) return NoTables();
  if (opts.name.empty()) {
    if (opts.json) {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& t : tables) j.push_back({{"name", t.name}, {"description", t.description}});
      PrintJson(j);
      return kExitOk;
    }
    size_t w = 0;
    for (const auto& t : tables) w = std::max(w, t.name.size());
    for (const auto& t : tables)
      std::printf("%-*s  %s\n", static_cast<int>(w), t.name.c_str(), t.description.c_str());
    return kExitOk;
  }
  auto it = std::find_if(tables.begin(), tables.end(),
                         [&](const platform::TableDef& t) { return t.name == opts.name; });
  if (it == tables.end()) {
    std::fprintf(stderr, "outpost: no table '%s' (outpost tables lists them)\n", opts.name.c_str());
    return kExitUsage;
  }
  if (opts.json) {
    nlohmann::json cols = nlohmann::json::array();
    for (const auto& c : it->columns)
      cols.push_back({{"name", c.name},
                      {"type", std::string(platform::ColumnTypeName(c.type))},
                      {"required", c.required},
                      {"index", c.index},
                      {"hidden", c.hidden}});
    PrintJson({{"name", it->name}, {"description", it->description}, {"columns", cols}});
    return kExitOk;
  }
  std::printf("%s: %s\n\n", it->name.c_str(), it->description.c_str());
  size_t w = 6;
  for (const auto& c : it->columns) w = std::max(w, c.name.size());
  std::printf("%-*s  %-8s  %s\n", static_cast<int>(w), "column", "type", "notes");
  for (const auto& c : it->columns) {
    std::string notes;
    if (c.required) notes += "required (WHERE needs = or LIKE on it) ";
    if (c.index) notes += "index ";
    if (c.hidden) notes += "hidden (not in SELECT *)";
    std::printf("%-*s  %-8s  %s\n", static_cast<int>(w), c.name.c_str(),
                std::string(platform::ColumnTypeName(c.type)).c_str(), notes.c_str());
  }
  return kExitOk;
}

}  // namespace

void AddQueryCommands(CLI::App& app, Cli& cli, Action& action) {
  auto q = std::make_shared<QueryOptions>();
  CLI::App* cmd = app.add_subcommand(
      "query", "Run one SQL SELECT over the device tables (osquery's table and column names).");
  cmd->add_option("sql", q->sql, "The SELECT statement.")->required();
  cmd->add_option("--format", q->format,
                  "table (aligned, cut to the terminal width), json (an array of objects, "
                  "every value a string as osquery prints it) or csv.");
  cmd->add_option("--timeout", q->timeout, "Time limit of the query (default 10s).");
  cmd->add_option("--max-rows", q->max_rows, "Row limit (default 10000).");
  cmd->add_option("--root", q->root,
                  "Read the OS's files below this directory instead of / (a copy of a "
                  "machine's /etc and /proc, for tests).");
  cmd->footer(
      "Only reading is allowed. Tables such as file and hash need a path in the WHERE "
      "clause. `outpost tables` lists the tables.\n\n"
      "EXAMPLES\n"
      "  outpost query \"SELECT name, version FROM os_version\"\n"
      "  outpost query \"SELECT pid, name FROM processes WHERE pid = 1\" --format json\n"
      "  outpost query \"SELECT * FROM file WHERE path = '/etc/passwd'\"\n\n"
      "EXIT STATUS\n"
      "  0  the query ran (any number of rows)\n"
      "  2  bad SQL, a refused statement, a missing required constraint\n"
      "  3  a time or row limit was hit, or no tables on this OS");
  cmd->callback([q, &cli, &action] { action = [q, &cli] { return RunQuery(cli, *q); }; });

  auto t = std::make_shared<TablesOptions>();
  CLI::App* tables = app.add_subcommand(
      "tables", "List the device tables, or one table's columns, types and required constraints.");
  tables->add_option("name", t->name, "A table's name.");
  tables->add_flag("--json", t->json, "Print JSON.");
  tables->footer(
      "EXAMPLES\n"
      "  outpost tables\n"
      "  outpost tables file\n\n"
      "EXIT STATUS\n"
      "  0  listed\n"
      "  2  no such table\n"
      "  3  no tables on this OS");
  tables->callback([t, &action] { action = [t] { return ListTables(*t); }; });
}

}  // namespace outpost::app
