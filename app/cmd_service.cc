// `outpost service install | uninstall | start | stop | status`: outpost as the OS's
// background service (docs/service.md). The platform plans each action as steps (files
// to write or remove, programs to run); --dry-run prints them, otherwise they are
// carried out and reported one per line.
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "cli.h"
#include "outpost/platform/executable.h"
#include "outpost/platform/service.h"

namespace outpost::app {
namespace {

struct ServiceOptions {
  std::string binary;
  std::string root;
  std::string config;  // the global --config, carried by the Windows service's command line
  bool dry_run = false;
  bool json = false;
  // Test hooks (hidden): where the unit goes and which systemctl runs.
  std::string unit_dir;
  std::string systemctl;
};

std::unique_ptr<platform::ServiceControl> MakeControl(const ServiceOptions& opts, bool need_binary,
                                                      int& exit_code) {
  platform::ServiceSettings s;
  s.root = opts.root;
  s.unit_dir = opts.unit_dir;
  s.manager_program = opts.systemctl;
  std::string error;
  if (!opts.config.empty()) {
    std::error_code ec;
    s.config = std::filesystem::absolute(opts.config, ec);
    if (ec) s.config = opts.config;
  }
  if (!opts.root.empty() && !std::filesystem::path(opts.root).is_absolute()) {
    std::fprintf(stderr, "outpost: --root must be an absolute directory (not '%s')\n",
                 opts.root.c_str());
    exit_code = kExitUsage;
    return nullptr;
  }
  if (need_binary) {
    if (!opts.binary.empty()) {
      s.binary = opts.binary;
      if (!s.binary.is_absolute()) {
        std::fprintf(stderr, "outpost: --binary must be an absolute path (not '%s')\n",
                     opts.binary.c_str());
        exit_code = kExitUsage;
        return nullptr;
      }
    } else if (!platform::SelfExecutablePath(s.binary, &error)) {
      std::fprintf(stderr, "outpost: cannot find this binary's path (%s); give --binary\n",
                   error.c_str());
      exit_code = kExitRuntime;
      return nullptr;
    }
  }
  std::unique_ptr<platform::ServiceControl> control = platform::CreateServiceControl(s, &error);
  if (!control) {
    std::fprintf(stderr, "outpost: %s\n", error.c_str());
    exit_code = kExitRuntime;
  }
  return control;
}

void PrintDryRun(const std::vector<platform::ServiceStep>& steps) {
  std::printf("dry run: nothing is changed; these steps would be carried out:\n");
  for (const platform::ServiceStep& step : steps) {
    std::printf("%s\n", platform::DescribeStep(step).c_str());
    if (step.kind == platform::ServiceStep::Kind::kWriteFile) {
      std::printf("----- begin %s -----\n%s", step.path.string().c_str(), step.content.c_str());
      if (!step.content.empty() && step.content.back() != '\n') std::printf("\n");
      std::printf("----- end %s -----\n", step.path.string().c_str());
    }
  }
}

int RunAction(const ServiceOptions& opts, platform::ServiceAction action) {
  int exit_code = kExitOk;
  auto control = MakeControl(opts, action == platform::ServiceAction::kInstall, exit_code);
  if (!control) return exit_code;
  std::vector<platform::ServiceStep> steps;
  std::string error;
  if (!control->Plan(action, steps, &error)) {
    std::fprintf(stderr, "outpost: %s\n", error.c_str());
    return kExitUsage;
  }
  if (steps.empty()) {
    std::printf("%s is not installed (no %s): nothing to do\n",
                std::string(control->service_name()).c_str(),
                control->unit_file().string().c_str());
    return kExitOk;
  }
  if (opts.dry_run) {
    PrintDryRun(steps);
    return kExitOk;
  }
  const bool ok = platform::RunServiceSteps(
      steps,
      [](const platform::ServiceStep& step, const std::string& failure, const std::string& output) {
        const std::string what = platform::DescribeStep(step);
        if (failure.empty()) {
          std::printf("%s: ok\n", what.c_str());
        } else {
          std::printf("%s: %s%s\n", what.c_str(), failure.c_str(),
                      step.ignore_failure ? " (ignored)" : "");
        }
        if (!failure.empty() && !output.empty()) {
          std::string o = output;
          while (!o.empty() && o.back() == '\n') o.pop_back();
          std::fprintf(stderr, "  %s\n", o.c_str());
        }
        std::fflush(stdout);
      },
      &error);
  if (!ok) {
    std::fprintf(stderr, "outpost: service: %s\n", error.c_str());
    return kExitRuntime;
  }
  return kExitOk;
}

int RunStatus(const ServiceOptions& opts) {
  int exit_code = kExitOk;
  auto control = MakeControl(opts, false, exit_code);
  if (!control) return exit_code;
  platform::ServiceState st;
  std::string error;
  if (!control->Query(st, &error)) {
    std::fprintf(stderr, "outpost: cannot ask %s about %s: %s\n",
                 std::string(control->manager()).c_str(),
                 std::string(control->service_name()).c_str(), error.c_str());
    return kExitRuntime;
  }
  const bool running = st.running();
  if (opts.json) {
    nlohmann::json j = {{"manager", control->manager()},
                        {"service", control->service_name()},
                        {"installed", st.installed},
                        {"unit_file", st.unit_file.string()},
                        {"queried", st.queried},
                        {"load_state", st.load_state},
                        {"active_state", st.active_state},
                        {"sub_state", st.sub_state},
                        {"unit_file_state", st.unit_file_state},
                        {"main_pid", st.main_pid},
                        {"running", running}};
    PrintJson(j);
  } else {
    std::printf("service  %s (%s)\n", std::string(control->service_name()).c_str(),
                std::string(control->manager()).c_str());
    std::printf("unit     %s%s\n", st.unit_file.string().c_str(),
                st.installed ? "" : " (not installed)");
    if (!st.unit_file_state.empty()) std::printf("enabled  %s\n", st.unit_file_state.c_str());
    if (st.queried) {
      std::printf("state    %s (%s)", st.active_state.c_str(), st.sub_state.c_str());
      if (st.main_pid > 0) std::printf(", pid %ld", st.main_pid);
      std::printf("\n");
    }
  }
  if (!opts.root.empty()) return st.installed ? kExitOk : kExitProblem;
  return st.installed && running ? kExitOk : kExitProblem;
}

}  // namespace

void AddServiceCommand(CLI::App& app, Cli& cli, Action& action) {
  auto opts = std::make_shared<ServiceOptions>();
  CLI::App* cmd = app.add_subcommand(
      "service",
      "Install, remove, start, stop and inspect outpost as the background service (systemd "
      "on Linux, the Service Control Manager on Windows; docs/service.md).");
  cmd->require_subcommand(1);
  const auto hooks = [opts](CLI::App* sub) {
    sub->add_option("--unit-dir", opts->unit_dir, "Where unit files go (tests).")->group("");
    sub->add_option("--systemctl", opts->systemctl, "The systemctl to run (tests).")->group("");
  };
  const auto root = [opts](CLI::App* sub) {
    sub->add_option("--root", opts->root,
                    "Work on an offline image at this directory: files go below it and the "
                    "service is enabled there (systemctl --root); nothing is started.");
  };
  const auto dry_run = [opts](CLI::App* sub) {
    sub->add_flag("--dry-run", opts->dry_run,
                  "Print every file that would be written (path and content) and every "
                  "command that would run; change nothing.");
  };
  const char* kActionExit =
      "EXIT STATUS\n"
      "  0  done (or, with --dry-run, planned)\n"
      "  2  usage error\n"
      "  3  a step failed (the message names it), or service control is not available on "
      "this OS yet";

  CLI::App* install = cmd->add_subcommand(
      "install",
      "Write the service unit (/etc/systemd/system/outpost.service, the unit packages ship "
      "with this binary's path on ExecStart), reload systemd, enable the service and "
      "(re)start it. Windows: register the service with sc.exe (automatic start, restart "
      "on failure; its command line carries --config when given) and start it.");
  install->add_option("--binary", opts->binary,
                      "The binary the service runs (default: this one). Absolute.");
  root(install);
  dry_run(install);
  hooks(install);
  install->footer(std::string("EXAMPLES\n"
                              "  outpost service install --dry-run\n"
                              "  sudo outpost service install\n"
                              "  outpost service install --root /mnt/image --binary "
                              "/usr/local/bin/outpost\n\n") +
                  kActionExit);
  install->callback([opts, &cli, &action] {
    action = [opts, &cli] {
      opts->config = cli.options().config_path;
      return RunAction(*opts, platform::ServiceAction::kInstall);
    };
  });

  CLI::App* uninstall = cmd->add_subcommand(
      "uninstall",
      "Stop and disable the service and remove the unit that `service install` wrote. "
      "Config and state stay.");
  root(uninstall);
  dry_run(uninstall);
  hooks(uninstall);
  uninstall->footer(std::string("EXAMPLES\n  sudo outpost service uninstall\n\n") + kActionExit);
  uninstall->callback([opts, &action] {
    action = [opts] { return RunAction(*opts, platform::ServiceAction::kUninstall); };
  });

  CLI::App* start = cmd->add_subcommand("start", "Start the service (systemctl start outpost).");
  dry_run(start);
  hooks(start);
  start->footer(kActionExit);
  start->callback([opts, &action] {
    action = [opts] { return RunAction(*opts, platform::ServiceAction::kStart); };
  });

  CLI::App* stop = cmd->add_subcommand("stop", "Stop the service (systemctl stop outpost).");
  dry_run(stop);
  hooks(stop);
  stop->footer(kActionExit);
  stop->callback([opts, &action] {
    action = [opts] { return RunAction(*opts, platform::ServiceAction::kStop); };
  });

  CLI::App* status = cmd->add_subcommand(
      "status", "Whether the service is installed, enabled and running, as systemd says.");
  status->add_flag("--json", opts->json, "Print one JSON object instead of text.");
  root(status);
  hooks(status);
  status->footer(
      "EXAMPLES\n"
      "  outpost service status\n"
      "  outpost service status --json | jq .running\n\n"
      "EXIT STATUS\n"
      "  0  installed and running (with --root: installed)\n"
      "  1  not installed, or not running\n"
      "  2  usage error\n"
      "  3  systemd could not be asked (systemctl failed, e.g. systemd is not running), or "
      "service control is not available on this OS yet");
  status->callback([opts, &action] { action = [opts] { return RunStatus(*opts); }; });
}

}  // namespace outpost::app
