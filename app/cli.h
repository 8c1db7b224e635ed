// What every command of the outpost CLI shares: global options, the objects app/
// builds for lib/ (clock, logger), exit codes, and printing helpers.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "buffer/buffer_store.h"
#include "config/config_loader.h"
#include "outpost/platform/process_lock.h"
#include "update/updater.h"
#include "util/clock.h"
#include "util/logger.h"

namespace outpost::app {

// Exit codes are API (docs/cli.md); never renumber them.
enum ExitCode : int {
  kExitOk = 0,       // done, nothing wrong
  kExitProblem = 1,  // checked and found a problem
  kExitUsage = 2,    // usage or config error
  kExitRuntime = 3,  // runtime failure
};

struct GlobalOptions {
  std::string config_path;  // empty: the OS default
  std::string state_dir;    // empty: from the config
  std::string log_level;    // empty: from the config
  std::string log_format;   // empty: from the config
  bool no_color = false;
};

class Cli {
 public:
  Cli();

  GlobalOptions& options() { return options_; }
  const Clock& clock() const { return *clock_; }
  Logger& logger() { return *logger_; }

  // Builds the logger from the global options (called once arguments are parsed).
  // Returns false with a message on stderr for a bad --log-level/--log-format.
  bool SetUpLogging();

  // The config file the command works on: --config, else the OS default.
  std::filesystem::path ConfigPath() const;
  ConfigParseOptions ParseOptions() const;

  // Loads the config and applies the global overrides (--state-dir, --log-level).
  // On errors prints every diagnostic on stderr and returns false.
  bool LoadConfig(ConfigParseResult& out);
  // SIGHUP: loads the config again with the command line's overrides, touching neither
  // the logger nor stderr (other threads log while it runs). On errors returns false
  // with each diagnostic ("file:line:col: error: ...") in `errors`.
  bool ReloadConfig(ConfigParseResult& out, std::vector<std::string>& errors) const;
  // Applies --state-dir, --log-level and --log-format to a loaded config and to its
  // effective values (what `config show` prints).
  void ApplyOverrides(ConfigParseResult& r) const;

  bool color_stdout() const { return color_stdout_; }

  // Also writes the log to `file` (outpost run's own log file), from now on;
  // CloseLogFile goes back to stderr only (before an exec: the file is not inherited).
  void AddLogFile(std::unique_ptr<LogSink> file);
  void CloseLogFile();

  // The command line after the program name, as given (a restart after a self-update
  // starts the new binary with it).
  const std::vector<std::string>& args() const { return args_; }
  void set_args(std::vector<std::string> args) { args_ = std::move(args); }

 private:
  GlobalOptions options_;
  std::vector<std::string> args_;
  SystemClock system_clock_;
  // Tests only: OUTPOST_TEST_CLOCK_FILE names a file holding a wall clock offset in
  // milliseconds (lib/util/clock.h, OffsetFileClock); tests/chaos jumps the clock so.
  std::unique_ptr<Clock> test_clock_;
  const Clock* clock_ = &system_clock_;
  std::unique_ptr<StreamLogSink> sink_;
  std::unique_ptr<LogSink> file_sink_;
  std::unique_ptr<LogSink> tee_sink_;
  std::unique_ptr<Logger> logger_;
  bool color_stdout_ = false;
};

// Files in the state directory.
std::filesystem::path BufferFile(const Config& config);     // buffer.db
std::filesystem::path AgentLockFile(const Config& config);  // agent.lock

// How every command opens buffer.db: the file, cap and durability from the config.
BufferStore::Options BufferStoreOptions(const Config& config, bool read_only = false);

// The exit code for a setup error: a config the code refused (kInvalidArgument,
// kUnsupported) is a usage error, anything else a runtime failure.
int SetupExitCode(const Status& error);

// Takes agent.lock, retrying for a moment (`outpost status` holds it briefly to see
// whether an agent runs). Null, with why (who holds it) in `message`, when another
// process keeps it.
std::unique_ptr<platform::ProcessLock> AcquireAgentLock(const Config& config, std::string* message);

// Prints JSON to stdout, pretty when stdout is a terminal.
void PrintJson(const nlohmann::json& j);
nlohmann::json DiagnosticsJson(const std::vector<ConfigDiagnostic>& diags);
void PrintDiagnostics(std::FILE* stream, const std::vector<ConfigDiagnostic>& diags, bool color);

// The command chosen on the command line, run after parsing; returns the exit code.
using Action = std::function<int()>;

// Each command file registers its subcommand; its callback sets `action`.
void AddVersionCommand(CLI::App& app, Cli& cli, Action& action);
void AddConfigCommand(CLI::App& app, Cli& cli, Action& action);
void AddRunCommand(CLI::App& app, Cli& cli, Action& action);
void AddStatusCommand(CLI::App& app, Cli& cli, Action& action);
void AddBufferCommand(CLI::App& app, Cli& cli, Action& action);
void AddFlushCommand(CLI::App& app, Cli& cli, Action& action);
void AddQueryCommands(CLI::App& app, Cli& cli, Action& action);  // query, tables
void AddCheckCommand(CLI::App& app, Cli& cli, Action& action);
void AddUpdateCommand(CLI::App& app, Cli& cli, Action& action);
void AddServiceCommand(CLI::App& app, Cli& cli, Action& action);
// The updater for this config (cmd_update.cc; also `outpost run`'s periodic checks).
// `from_dir` and `binary` may be empty (update.url; this binary). Null with `error` set
// when the running binary cannot be found.
std::unique_ptr<update::Updater> MakeAgentUpdater(Cli& cli, const Config& config,
                                                  const std::string& agent_id,
                                                  const std::string& from_dir,
                                                  const std::string& binary, std::string* error);
// `outpost --self-test`: prints "outpost <version>", checks the built-in libraries, and
// exits 0 when they work (the updater's preflight runs it on a new binary).
int SelfTest();

}  // namespace outpost::app
