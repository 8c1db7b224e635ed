// `outpost config check|show|init|schema`: working with outpost.toml.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli.h"
#include "outpost/platform/file_security.h"
#include "ship/tls_trust.h"

namespace outpost::app {
namespace {

struct ConfigOptions {
  bool json = false;
  bool force = false;
  bool markdown = false;
  std::string file;  // positional FILE for check/init
  std::string os;    // init --os: whose default paths the example shows
};

// The default paths of another OS, for `config init --os` (a Windows installer's config
// is written on Linux). Windows: %ProgramData% as on a standard install.
ConfigParseOptions OptionsForOs(const std::string& os, ConfigParseOptions o) {
  if (os == "linux") {
    o.default_state_dir = "/var/lib/outpost";
    o.example_log_glob = "/var/log/*.log";
  } else if (os == "windows") {
    o.default_state_dir = "C:\\ProgramData\\outpost\\state";
    o.example_log_glob = "C:\\ProgramData\\outpost\\logs\\*.log";
  } else if (os == "macos") {
    o.default_state_dir = "/Library/Application Support/outpost/state";
    o.example_log_glob = "/var/log/*.log";
  }
  return o;
}

nlohmann::json ValueJson(const ConfigValue& v) {
  switch (v.kind) {
    case ConfigValue::Kind::kString:
      return (v.secret && !v.text.empty()) ? nlohmann::json("***") : nlohmann::json(v.text);
    case ConfigValue::Kind::kInt:
      return v.number;
    case ConfigValue::Kind::kBool:
      return v.flag;
    case ConfigValue::Kind::kStringList:
      return v.list;
    case ConfigValue::Kind::kStringMap:
      return v.map;
  }
  return nullptr;
}

nlohmann::json& Walk(nlohmann::json& root, const std::string& dotted) {
  nlohmann::json* node = &root;
  size_t start = 0;
  for (;;) {
    const size_t dot = dotted.find('.', start);
    node =
        &(*node)[dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start)];
    if (dot == std::string::npos) return *node;
    start = dot + 1;
  }
}

nlohmann::json& Element(nlohmann::json& root, const std::string& array_table, int index) {
  nlohmann::json& arr = Walk(root, array_table);
  if (!arr.is_array()) arr = nlohmann::json::array();
  while (arr.size() <= static_cast<size_t>(index)) arr.push_back(nlohmann::json::object());
  return arr[static_cast<size_t>(index)];
}

// Nests the effective values: {"buffer": {...}, "source": {"file": [{...}]}}. A value
// with an index belongs to an array of tables: the table itself, or (one level down)
// a sub-table of one of its elements.
nlohmann::json EffectiveJson(const std::vector<ConfigValue>& values) {
  nlohmann::json root = nlohmann::json::object();
  for (const ConfigValue& v : values) {
    nlohmann::json* node;
    if (v.index < 0) {
      node = &Walk(root, v.table);
    } else if (v.array_element) {
      node = &Element(root, v.table, v.index);
    } else {
      const size_t dot = v.table.rfind('.');
      node = &Element(root, v.table.substr(0, dot), v.index)[v.table.substr(dot + 1)];
    }
    (*node)[v.key] = ValueJson(v);
  }
  return root;
}

int RunCheck(Cli& cli, const ConfigOptions& opts) {
  const std::filesystem::path path =
      opts.file.empty() ? cli.ConfigPath() : std::filesystem::path(opts.file);
  ConfigParseResult r = LoadConfigFile(path, cli.ParseOptions());
  cli.ApplyOverrides(r);
  const size_t errors = r.error_count();
  const size_t warnings = r.diagnostics.size() - errors;
  const std::string trust =
      r.config.output ? ResolveTlsTrust(r.config.output->ca_file).Describe() : "";
  if (opts.json) {
    nlohmann::json j = {{"file", path.string()},
                        {"ok", errors == 0},
                        {"errors", errors},
                        {"warnings", warnings},
                        {"diagnostics", DiagnosticsJson(r.diagnostics)}};
    if (errors == 0) {
      j["summary"] = {{"file_sources", r.config.file_sources.size()},
                      {"journal_sources", r.config.journal_sources.size()},
                      {"eventlog_sources", r.config.eventlog_sources.size()},
                      {"unifiedlog_sources", r.config.unifiedlog_sources.size()},
                      {"output", r.config.output ? r.config.output->endpoint : ""},
                      {"tls_trust", trust},
                      {"state_dir", r.config.agent.state_dir.string()}};
    }
    PrintJson(j);
  } else {
    PrintDiagnostics(stdout, r.diagnostics, cli.color_stdout());
    if (errors == 0) {
      std::printf("%s: ok (%zu file source%s; %s; state in %s%s%s)\n", path.string().c_str(),
                  r.config.file_sources.size(), r.config.file_sources.size() == 1 ? "" : "s",
                  r.config.output ? ("output to " + r.config.output->endpoint).c_str()
                                  : "no [output]: records are only buffered",
                  r.config.agent.state_dir.string().c_str(),
                  trust.empty() ? "" : "; TLS trust: ", trust.c_str());
    } else {
      std::printf("%s: %zu error%s, %zu warning%s\n", path.string().c_str(), errors,
                  errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
    }
  }
  return errors == 0 ? kExitOk : kExitUsage;
}

int RunShow(Cli& cli, const ConfigOptions& opts) {
  ConfigParseResult r;
  if (!cli.LoadConfig(r)) return kExitUsage;
  if (opts.json) {
    PrintJson({{"file", r.config.source_file.string()}, {"config", EffectiveJson(r.effective)}});
    return kExitOk;
  }
  std::printf("# effective configuration of %s (defaults filled in, secrets shown as ***)\n\n%s",
              r.config.source_file.string().c_str(), RenderConfigToml(r.effective).c_str());
  return kExitOk;
}

int RunInit(Cli& cli, const ConfigOptions& opts) {
  const std::string text = ExampleConfig(
      opts.os.empty() ? cli.ParseOptions() : OptionsForOs(opts.os, cli.ParseOptions()));
  if (opts.file == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return kExitOk;
  }
  const std::filesystem::path path =
      opts.file.empty() ? cli.ConfigPath() : std::filesystem::path(opts.file);
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !opts.force) {
    std::fprintf(stderr, "outpost: config init: %s already exists; pass --force to overwrite it\n",
                 path.string().c_str());
    return kExitUsage;
  }
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) {
    std::fprintf(stderr, "outpost: config init: cannot create %s: %s\n",
                 path.parent_path().string().c_str(), ec.message().c_str());
    return kExitRuntime;
  }
  const std::string err = platform::WritePrivateFile(path, text);
  if (!err.empty()) {
    std::fprintf(stderr, "outpost: config init: cannot write %s: %s\n", path.string().c_str(),
                 err.c_str());
    return kExitRuntime;
  }
  if (opts.json) {
    PrintJson({{"written", path.string()}});
  } else {
    const bool private_mode = platform::CheckFilePrivacy(path).supported;
    std::printf("wrote %s%s; check it with: outpost config check %s\n", path.string().c_str(),
                private_mode ? " (private to its owner)" : "", path.string().c_str());
  }
  return kExitOk;
}

int RunSchema(const Cli& cli, const ConfigOptions& opts) {
  if (opts.markdown) {
    std::fputs(ConfigReferenceMarkdown().c_str(), stdout);
    return kExitOk;
  }
  const auto docs = DescribeConfig(cli.ParseOptions());
  if (opts.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& d : docs) {
      if (d.key.empty()) continue;
      arr.push_back({{"table", d.table},
                     {"array_of_tables", d.array_of_tables},
                     {"key", d.key},
                     {"type", d.type},
                     {"default", d.default_text},
                     {"description", d.doc},
                     {"secret", d.secret},
                     {"required", d.required}});
    }
    PrintJson(arr);
    return kExitOk;
  }
  for (const auto& d : docs) {
    if (d.key.empty()) {
      std::printf(
          "\n%s  %s\n",
          d.array_of_tables ? ("[[" + d.table + "]]").c_str() : ("[" + d.table + "]").c_str(),
          d.doc.c_str());
      continue;
    }
    std::printf("  %-24s %-28s default %s%s\n", d.key.c_str(), d.type.c_str(),
                d.default_text.c_str(), d.required ? " (required)" : "");
  }
  return kExitOk;
}

}  // namespace

void AddConfigCommand(CLI::App& app, Cli& cli, Action& action) {
  auto opts = std::make_shared<ConfigOptions>();
  CLI::App* cfg =
      app.add_subcommand("config", "Check, show, write and describe the configuration file.");
  cfg->require_subcommand(1);
  cfg->footer(
      "The config file is --config FILE, else the OS default (/etc/outpost/outpost.toml on "
      "Linux). Reference: docs/config.md or `outpost config schema`.");

  CLI::App* check = cfg->add_subcommand(
      "check",
      "Validate a config file and report every problem at once, each with "
      "file:line:column, what was expected and, for a misspelt key, the nearest known key.");
  check->add_option("FILE", opts->file,
                    "Config file to check (default: --config or the OS default).");
  check->add_flag("--json", opts->json, "Print the report as one JSON object.");
  check->footer(
      "Also refused: a config that holds a secret (token, key passphrase, proxy password) and\n"
      "is readable by group or others, with the chmod that fixes it.\n\n"
      "EXAMPLES\n"
      "  outpost config check /etc/outpost/outpost.toml\n"
      "  outpost config check --json ./outpost.toml | jq .diagnostics\n\n"
      "EXIT STATUS\n  0 valid (warnings allowed), 2 errors found or the file cannot be read.");
  check->callback(
      [&cli, opts, &action] { action = [&cli, opts] { return RunCheck(cli, *opts); }; });

  CLI::App* show = cfg->add_subcommand(
      "show",
      "Print the effective configuration: the file with every default filled in and the "
      "command-line overrides applied. Secrets are shown as ***.");
  show->add_flag("--json", opts->json, "Print the configuration as JSON.");
  show->footer(
      "EXAMPLES\n  outpost --config ./outpost.toml config show\n\n"
      "EXIT STATUS\n  0 shown, 2 the config has errors (listed on stderr).");
  show->callback([&cli, opts, &action] { action = [&cli, opts] { return RunShow(cli, *opts); }; });

  CLI::App* init = cfg->add_subcommand(
      "init",
      "Write a commented example config listing every key with its default. The file is "
      "created readable by its owner only, since a token may be added to it.");
  init->add_option("FILE", opts->file,
                   "Where to write it (default: --config or the OS default); - for stdout.");
  init->add_flag("--force", opts->force, "Overwrite an existing file.");
  init->add_option("--os", opts->os,
                   "Show the default paths of this OS instead of this machine's (to prepare a "
                   "config, or an installer's, for another OS).")
      ->check(CLI::IsMember({"linux", "windows", "macos"}));
  init->add_flag("--json", opts->json, "Report the file written as JSON.");
  init->footer(
      "EXAMPLES\n  outpost config init ./outpost.toml && outpost config check ./outpost.toml\n"
      "  outpost config init - | less\n"
      "  outpost config init --os windows installer-build/outpost.toml\n\n"
      "EXIT STATUS\n  0 written, 2 the file exists (use --force), 3 it cannot be written.");
  init->callback([&cli, opts, &action] { action = [&cli, opts] { return RunInit(cli, *opts); }; });

  CLI::App* schema = cfg->add_subcommand(
      "schema", "List every config key with its type, default and description.");
  schema->add_flag("--json", opts->json, "Print the schema as a JSON array.");
  schema->add_flag("--markdown", opts->markdown,
                   "Print the reference table used in docs/config.md.");
  schema->footer("EXIT STATUS\n  0 always.");
  schema->callback(
      [&cli, opts, &action] { action = [&cli, opts] { return RunSchema(cli, *opts); }; });
}

}  // namespace outpost::app
