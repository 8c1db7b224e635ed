// `outpost check`: runs policy checks now and reports them as a table, JSON or JUnit XML.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "check/check_runner.h"
#include "check/policy.h"
#include "cli.h"
#include "outpost/platform/table.h"
#include "query/query_engine.h"

namespace outpost::app {
namespace {

struct CheckOptions {
  std::vector<std::string> policies;
  std::vector<std::string> ids;
  std::string format = "table";
  std::string root = "/";
};

struct Counts {
  size_t passed = 0, failed = 0, errors = 0, skipped = 0;
};

Counts Count(const std::vector<CheckResult>& results) {
  Counts c;
  for (const auto& r : results) {
    switch (r.status) {
      case CheckStatus::kPass:
        ++c.passed;
        break;
      case CheckStatus::kFail:
        ++c.failed;
        break;
      case CheckStatus::kError:
        ++c.errors;
        break;
      case CheckStatus::kSkipped:
        ++c.skipped;
        break;
    }
  }
  return c;
}

// Replaces each invalid UTF-8 sequence with U+FFFD (table values come from the device).
std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    bool ok = len > 0 && i + len <= s.size() && !(len == 2 && c < 0xC2) && !(c > 0xF4);
    for (size_t k = 1; ok && k < len; ++k)
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && len == 3) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogates
    } else if (ok && len == 4) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
    }
    if (ok) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

// One line of terminal text: control characters as spaces.
std::string OneLine(std::string_view s) {
  std::string out = ValidUtf8(s);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  return out;
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char ch : ValidUtf8(s)) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\t':
        out += "&#9;";
        break;
      default:
        // Other control characters cannot appear in XML 1.0, not even escaped.
        if (c < 0x20 || c == 0x7F)
          out.push_back('?');
        else
          out.push_back(ch);
    }
  }
  return out;
}

std::string Seconds(std::chrono::microseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(d.count()) / 1e6);
  return buf;
}

std::string SkipReason(const Check& c, std::string_view os) {
  std::string list;
  for (const auto& p : c.platforms) list += (list.empty() ? "" : ", ") + p;
  return "not for " + std::string(os) + " (platforms: " + list + ")";
}

void PrintTable(const std::vector<CheckResult>& results, bool color) {
  size_t id_w = 2, sev_w = 8;
  for (const auto& r : results) {
    id_w = std::max(id_w, OneLine(r.check.id).size());
    sev_w = std::max(sev_w, CheckSeverityName(r.check.severity).size());
  }
  auto paint = [color](const char* code, const std::string& text) {
    return color ? std::string("\x1b[") + code + "m" + text + "\x1b[0m" : text;
  };
  std::printf("%-*s  %-*s  %-6s  %s\n", static_cast<int>(id_w), "ID", static_cast<int>(sev_w),
              "SEVERITY", "STATUS", "TITLE");
  for (const auto& r : results) {
    std::string status;
    switch (r.status) {
      case CheckStatus::kPass:
        status = paint("32", "PASS  ");
        break;
      case CheckStatus::kFail:
        status = paint("31", "FAIL  ");
        break;
      case CheckStatus::kError:
        status = paint("35", "ERROR ");
        break;
      case CheckStatus::kSkipped:
        status = paint("2", "SKIP  ");
        break;
    }
    std::printf("%-*s  %-*s  %s  %s\n", static_cast<int>(id_w), OneLine(r.check.id).c_str(),
                static_cast<int>(sev_w), std::string(CheckSeverityName(r.check.severity)).c_str(),
                status.c_str(), OneLine(r.check.title).c_str());
  }
  bool header = false;
  for (const auto& r : results) {
    if (r.status != CheckStatus::kFail) continue;
    if (!header) std::printf("\n%s\n", paint("1", "Failed checks, and how to fix them:").c_str());
    header = true;
    std::printf("  %s (%s): %s\n    %s\n", OneLine(r.check.id).c_str(),
                std::string(CheckSeverityName(r.check.severity)).c_str(),
                OneLine(r.check.title).c_str(), OneLine(r.check.remediation).c_str());
  }
  header = false;
  for (const auto& r : results) {
    if (r.status != CheckStatus::kError) continue;
    if (!header) std::printf("\n%s\n", paint("1", "Checks that could not run:").c_str());
    header = true;
    std::printf("  %s: %s\n", OneLine(r.check.id).c_str(), OneLine(r.error).c_str());
  }
  const Counts c = Count(results);
  std::printf("\n%zu passed, %zu failed, %zu errors, %zu skipped\n", c.passed, c.failed, c.errors,
              c.skipped);
}

nlohmann::json ResultsJson(const std::vector<CheckResult>& results) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : results) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& row : r.rows) {
      nlohmann::json o = nlohmann::json::object();
      for (size_t i = 0; i < r.columns.size() && i < row.size(); ++i) o[r.columns[i]] = row[i];
      rows.push_back(std::move(o));
    }
    out.push_back({{"id", r.check.id},
                   {"title", r.check.title},
                   {"description", r.check.description},
                   {"severity", std::string(CheckSeverityName(r.check.severity))},
                   {"status", std::string(CheckStatusName(r.status))},
                   {"error", r.error},
                   {"rows", std::move(rows)},
                   {"row_count", r.row_count},
                   {"remediation", r.check.remediation},
                   {"policy", r.check.policy_file},
                   {"duration_ms", static_cast<double>(r.duration.count()) / 1000.0}});
  }
  return out;
}

void PrintJunit(const std::vector<CheckResult>& results, std::string_view os) {
  const Counts c = Count(results);
  std::chrono::microseconds total{0};
  for (const auto& r : results) total += r.duration;
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  const std::string counts = " tests=\"" + std::to_string(results.size()) + "\" failures=\"" +
                             std::to_string(c.failed) + "\" errors=\"" + std::to_string(c.errors) +
                             "\" skipped=\"" + std::to_string(c.skipped) + "\" time=\"" +
                             Seconds(total) + "\"";
  x += "<testsuites name=\"outpost check\"" + counts + ">\n";
  x += "  <testsuite name=\"outpost check\"" + counts + ">\n";
  for (const auto& r : results) {
    const std::string classname = std::filesystem::path(r.check.policy_file).stem().string();
    x += "    <testcase classname=\"" + XmlEscape(classname) + "\" name=\"" +
         XmlEscape(r.check.id) + "\" time=\"" + Seconds(r.duration) + "\"";
    switch (r.status) {
      case CheckStatus::kPass:
        x += "/>\n";
        continue;
      case CheckStatus::kFail:
        x += ">\n      <failure message=\"" + XmlEscape(r.check.title) + "\" type=\"" +
             std::string(CheckSeverityName(r.check.severity)) + "\">" +
             XmlEscape(r.check.remediation) + "</failure>\n";
        break;
      case CheckStatus::kError:
        x += ">\n      <error message=\"" + XmlEscape(r.error) + "\" type=\"query\">" +
             XmlEscape(r.check.query) + "</error>\n";
        break;
      case CheckStatus::kSkipped:
        x += ">\n      <skipped message=\"" + XmlEscape(SkipReason(r.check, os)) + "\"/>\n";
        break;
    }
    x += "    </testcase>\n";
  }
  x += "  </testsuite>\n</testsuites>\n";
  std::fwrite(x.data(), 1, x.size(), stdout);
}

int RunChecks(Cli& cli, const CheckOptions& opts) {
  if (opts.format != "table" && opts.format != "json" && opts.format != "junit") {
    std::fprintf(stderr, "outpost: --format must be table, json or junit (not '%s')\n",
                 opts.format.c_str());
    return kExitUsage;
  }
  // The config gives the policies, the default interval and the query limits. With
  // --policy it is optional: a missing config file means defaults.
  ConfigParseResult cfg;
  std::error_code ec;
  if (opts.policies.empty() || std::filesystem::exists(cli.ConfigPath(), ec)) {
    if (!cli.LoadConfig(cfg)) return kExitUsage;
  }
  const ChecksConfig& checks_cfg = cfg.config.checks;
  std::vector<std::filesystem::path> paths(opts.policies.begin(), opts.policies.end());
  if (paths.empty()) paths = checks_cfg.policies;
  if (paths.empty()) {
    std::fprintf(stderr,
                 "outpost: no policy to run: pass --policy FILE, or list policy files in "
                 "checks.policies of %s\n",
                 cli.ConfigPath().string().c_str());
    return kExitUsage;
  }
  PolicyOptions popts;
  popts.default_interval = checks_cfg.interval;
  PolicyParseResult policy = LoadPolicies(paths, popts);
  if (!policy.ok()) {
    for (const auto& e : policy.errors)
      std::fprintf(stderr, "outpost: policy: %s\n", e.ToString().c_str());
    std::fprintf(stderr, "outpost: policy: %zu error(s); no check was run\n", policy.errors.size());
    return kExitUsage;
  }
  std::vector<Check> selected = policy.checks;
  if (!opts.ids.empty()) {
    const std::set<std::string> wanted(opts.ids.begin(), opts.ids.end());
    std::set<std::string> known;
    for (const auto& c : policy.checks) known.insert(c.id);
    for (const auto& id : wanted) {
      if (known.count(id) != 0) continue;
      std::string list;
      for (const auto& c : policy.checks) list += (list.empty() ? "" : ", ") + c.id;
      std::fprintf(stderr, "outpost: --id: no check '%s' in the policies; the ids are: %s\n",
                   id.c_str(), list.c_str());
      return kExitUsage;
    }
    selected.erase(std::remove_if(selected.begin(), selected.end(),
                                  [&](const Check& c) { return wanted.count(c.id) == 0; }),
                   selected.end());
  }
  const std::vector<platform::TableDef>& tables = platform::DeviceTables();
  const std::string os(platform::DeviceTablesOs());
  if (tables.empty()) {
    std::fprintf(stderr,
                 "outpost: checks are not available on %s yet: this OS has no device tables "
                 "(they exist on Linux)\n",
                 os.c_str());
    return kExitRuntime;
  }
  Result<std::unique_ptr<QueryEngine>> engine = QueryEngine::Create(tables, opts.root, cli.clock());
  if (!engine.ok()) {
    std::fprintf(stderr, "outpost: %s\n", engine.status().message().c_str());
    return kExitRuntime;
  }
  CheckRunOptions ropts;
  ropts.limits.timeout = checks_cfg.query_timeout;
  ropts.limits.max_rows = checks_cfg.max_rows;
  ropts.os = os;
  CheckRunner runner(**engine, cli.clock(), ropts);
  const std::vector<CheckResult> results = runner.RunAll(selected);

  if (opts.format == "json")
    PrintJson(ResultsJson(results));
  else if (opts.format == "junit")
    PrintJunit(results, os);
  else
    PrintTable(results, cli.color_stdout());
  std::fflush(stdout);

  const Counts c = Count(results);
  if (c.errors > 0) return kExitUsage;
  if (c.failed > 0) return kExitProblem;
  return kExitOk;
}

}  // namespace

void AddCheckCommand(CLI::App& app, Cli& cli, Action& action) {
  auto o = std::make_shared<CheckOptions>();
  CLI::App* cmd = app.add_subcommand(
      "check",
      "Run policy checks now: SQL over the device tables; a check passes when its "
      "query returns a row.");
  cmd->add_option("--policy", o->policies,
                  "Policy file(s) of [[check]] entries (default: checks.policies of the "
                  "config). Repeat it or list several.");
  cmd->add_option("--id", o->ids, "Run only these checks (by id). Repeat it or list several.");
  cmd->add_option("--format", o->format,
                  "table (default: one line per check, then how to fix each failure), json "
                  "(an array of objects) or junit (JUnit XML for CI).");
  cmd->add_option("--root", o->root,
                  "Read the OS's files below this directory instead of / (a copy of a "
                  "machine's /etc and /proc, for tests).");
  cmd->footer(
      "The policy format, status rules and output formats are in docs/checks.md. With "
      "--policy, the config file is optional (its checks.query_timeout, checks.max_rows "
      "and checks.interval apply when it exists).\n\n"
      "EXAMPLES\n"
      "  outpost check\n"
      "  outpost check --policy /etc/outpost/policies/linux-baseline.toml\n"
      "  outpost check --policy my.toml --id ssh-root-login-disabled --format json\n"
      "  outpost check --policy my.toml --format junit > checks.xml\n\n"
      "EXIT STATUS\n"
      "  0  every check passed (skipped ones allowed)\n"
      "  1  a check failed\n"
      "  2  a check could not run (error), or a usage, config or policy error\n"
      "  3  no device tables on this OS yet, or the query engine could not start");
  cmd->callback([o, &cli, &action] { action = [o, &cli] { return RunChecks(cli, *o); }; });
}

}  // namespace outpost::app
