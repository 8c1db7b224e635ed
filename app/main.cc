// outpost: the command-line entry point. Builds the CLI, runs one command, and is the
// last fault barrier: no exception leaves main (STYLE.md rule 6).
#include <cstdio>
#include <exception>
#include <string_view>
#include <vector>

#include "cli.h"
#include "outpost/platform/executable.h"

namespace {

constexpr const char* kFooter =
    "Run `outpost COMMAND --help` for a command's options, examples and exit status.\n\n"
    "EXIT STATUS\n"
    "  0  ok\n"
    "  1  checked and found a problem\n"
    "  2  usage or config error\n"
    "  3  runtime failure\n\n"
    "FILES\n"
    "  Linux    /etc/outpost/outpost.toml, state in /var/lib/outpost\n"
    "  macOS    /Library/Application Support/outpost/outpost.toml, state in .../outpost/state\n"
    "  Windows  %ProgramData%\\outpost\\outpost.toml, state in %ProgramData%\\outpost\\state\n\n"
    "Docs: docs/cli.md and docs/config.md.";

int Run(int argc, char** argv) {
  using namespace outpost::app;
  if (argc == 2 && std::string_view(argv[1]) == "--self-test") return SelfTest();
  Cli cli;
  cli.set_args(std::vector<std::string>(argv + 1, argv + argc));
  CLI::App app{
      "outpost: an endpoint agent that collects logs and device checks into a local "
      "buffer and ships them over HTTPS.",
      "outpost"};
  app.footer(kFooter);
  app.require_subcommand(1);
  // "/tmp/x.toml" is a path, not a Windows-style option, on every OS.
  app.allow_windows_style_options(false);
  app.fallthrough();
  GlobalOptions& g = cli.options();
  app.add_option("-c,--config", g.config_path, "Config file (default: the OS default, see FILES).");
  app.add_option("--state-dir", g.state_dir, "State directory, overriding agent.state_dir.");
  app.add_option("--log-level", g.log_level,
                 "trace, debug, info, warn, error or off (overrides agent.log_level).");
  app.add_option("--log-format", g.log_format, "text or json (overrides agent.log_format).");
  app.add_flag("--no-color", g.no_color, "Never colour the output.");

  Action action;
  AddVersionCommand(app, cli, action);
  AddConfigCommand(app, cli, action);
  AddRunCommand(app, cli, action);
  AddStatusCommand(app, cli, action);
  AddBufferCommand(app, cli, action);
  AddFlushCommand(app, cli, action);
  AddQueryCommands(app, cli, action);
  AddCheckCommand(app, cli, action);
  AddUpdateCommand(app, cli, action);
  AddServiceCommand(app, cli, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // A mistyped command surfaces as "subcommand required" with the word left over.
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr) {
      for (const CLI::App* a : {static_cast<const CLI::App*>(&app)}) {
        const auto rest = a->remaining();
        if (!rest.empty() && !rest.front().empty() && rest.front()[0] != '-') {
          std::fprintf(stderr,
                       "outpost: unknown command '%s' (run 'outpost --help' for the list)\n",
                       rest.front().c_str());
          return kExitUsage;
        }
      }
    }
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (!cli.SetUpLogging()) return kExitUsage;
  return action ? action() : kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  // A restart after a self-update: the old binary watches this start (executable.h).
  outpost::platform::AdoptStartWatch();
  try {
    return Run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "outpost: internal error: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "outpost: internal error\n");
  }
  return outpost::app::kExitRuntime;
}
