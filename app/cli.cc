#include "cli.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "outpost/platform/paths.h"
#include "outpost/platform/system.h"
#include "util/log_file.h"

namespace outpost::app {

Cli::Cli() {
  if (const char* file = std::getenv("OUTPOST_TEST_CLOCK_FILE"); file != nullptr && *file) {
    test_clock_ = std::make_unique<OffsetFileClock>(file, system_clock_);
    clock_ = test_clock_.get();
  }
  sink_ = std::make_unique<StreamLogSink>(stderr, LogFormat::kText,
                                          platform::IsTerminal(platform::StdStream::kStderr));
  logger_ = std::make_unique<Logger>(sink_.get(), clock_, LogLevel::kInfo);
}

bool Cli::SetUpLogging() {
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kText;
  if (!options_.log_level.empty()) {
    auto l = ParseLogLevel(options_.log_level);
    if (!l) {
      std::fprintf(stderr,
                   "outpost: --log-level '%s' is not one of trace, debug, info, warn, error, off\n",
                   options_.log_level.c_str());
      return false;
    }
    level = *l;
  }
  if (!options_.log_format.empty()) {
    auto f = ParseLogFormat(options_.log_format);
    if (!f) {
      std::fprintf(stderr, "outpost: --log-format '%s' is not one of text, json\n",
                   options_.log_format.c_str());
      return false;
    }
    format = *f;
  }
  const bool tty_err = platform::IsTerminal(platform::StdStream::kStderr);
  color_stdout_ = !options_.no_color && platform::IsTerminal(platform::StdStream::kStdout);
  sink_ = std::make_unique<StreamLogSink>(stderr, format, tty_err && !options_.no_color);
  logger_ = std::make_unique<Logger>(sink_.get(), clock_, level);
  return true;
}

void Cli::AddLogFile(std::unique_ptr<LogSink> file) {
  file_sink_ = std::move(file);
  tee_sink_ = std::make_unique<TeeLogSink>(sink_.get(), file_sink_.get());
  logger_->set_sink(tee_sink_.get());
}

void Cli::CloseLogFile() {
  logger_->set_sink(sink_.get());
  tee_sink_.reset();
  file_sink_.reset();
}

std::filesystem::path Cli::ConfigPath() const {
  if (!options_.config_path.empty()) return options_.config_path;
  return platform::GetDefaultPaths().config_file;
}

ConfigParseOptions Cli::ParseOptions() const {
  const platform::DefaultPaths paths = platform::GetDefaultPaths();
  ConfigParseOptions o;
  o.default_state_dir = paths.state_dir;
  o.example_log_glob = paths.example_log_glob;
  return o;
}

bool Cli::LoadConfig(ConfigParseResult& out) {
  out = LoadConfigFile(ConfigPath(), ParseOptions());
  if (!out.ok()) {
    PrintDiagnostics(stderr, out.diagnostics, false);
    std::fprintf(stderr, "outpost: config: %zu error(s); nothing was done\n", out.error_count());
    return false;
  }
  ApplyOverrides(out);
  // The config's log settings apply unless the command line set them.
  if (options_.log_level.empty()) logger_->set_min_level(out.config.agent.log_level);
  if (options_.log_format.empty() && out.config.agent.log_format != LogFormat::kText) {
    sink_ = std::make_unique<StreamLogSink>(stderr, out.config.agent.log_format, false);
    logger_ = std::make_unique<Logger>(sink_.get(), clock_, logger_->min_level());
  }
  return true;
}

bool Cli::ReloadConfig(ConfigParseResult& out, std::vector<std::string>& errors) const {
  out = LoadConfigFile(ConfigPath(), ParseOptions());
  errors.clear();
  for (const ConfigDiagnostic& d : out.diagnostics)
    if (d.is_error()) errors.push_back(d.ToString());
  if (!out.ok()) return false;
  ApplyOverrides(out);
  return true;
}

void Cli::ApplyOverrides(ConfigParseResult& r) const {
  auto set = [&](std::string_view key, const std::string& value) {
    for (auto& v : r.effective)
      if (v.table == "agent" && v.key == key) v.text = value;
  };
  if (!options_.state_dir.empty()) {
    r.config.agent.state_dir = options_.state_dir;
    set("state_dir", options_.state_dir);
  }
  if (!options_.log_level.empty()) {
    if (auto l = ParseLogLevel(options_.log_level)) r.config.agent.log_level = *l;
    set("log_level", options_.log_level);
  }
  if (!options_.log_format.empty()) {
    if (auto f = ParseLogFormat(options_.log_format)) r.config.agent.log_format = *f;
    set("log_format", options_.log_format);
  }
}

void PrintJson(const nlohmann::json& j) {
  const bool pretty = platform::IsTerminal(platform::StdStream::kStdout);
  // Invalid UTF-8 from outside input is replaced rather than thrown on.
  std::cout << j.dump(pretty ? 2 : -1, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n";
}

nlohmann::json DiagnosticsJson(const std::vector<ConfigDiagnostic>& diags) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& d : diags) {
    arr.push_back({{"severity", d.is_error() ? "error" : "warning"},
                   {"file", d.file},
                   {"line", d.line},
                   {"column", d.column},
                   {"key", d.key},
                   {"message", d.message},
                   {"hint", d.hint}});
  }
  return arr;
}

void PrintDiagnostics(std::FILE* stream, const std::vector<ConfigDiagnostic>& diags, bool color) {
  for (const auto& d : diags) {
    std::string line = d.ToString();
    if (color) {
      const std::string tag = d.is_error() ? ": error: " : ": warning: ";
      const auto pos = line.find(tag);
      if (pos != std::string::npos)
        line.replace(pos, tag.size(),
                     std::string(": ") +
                         (d.is_error() ? "\x1b[31merror\x1b[0m: " : "\x1b[33mwarning\x1b[0m: "));
    }
    std::fprintf(stream, "outpost: config: %s\n", line.c_str());
  }
}

std::filesystem::path BufferFile(const Config& config) {
  return config.agent.state_dir / "buffer.db";
}

std::filesystem::path AgentLockFile(const Config& config) {
  return config.agent.state_dir / "agent.lock";
}

BufferStore::Options BufferStoreOptions(const Config& config, bool read_only) {
  BufferStore::Options bo;
  bo.file = BufferFile(config);
  bo.read_only = read_only;
  bo.durability = config.buffer.durability;
  bo.max_bytes = config.buffer.max_bytes;
  return bo;
}

int SetupExitCode(const Status& error) {
  return error.code() == Code::kUnsupported || error.code() == Code::kInvalidArgument
             ? kExitUsage
             : kExitRuntime;
}

std::unique_ptr<platform::ProcessLock> AcquireAgentLock(const Config& config,
                                                        std::string* message) {
  constexpr int kAttempts = 20;
  constexpr std::chrono::milliseconds kRetryWait(25);
  std::unique_ptr<platform::ProcessLock> lock;
  for (int attempt = 0; attempt < kAttempts && !lock; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(kRetryWait);
    lock = platform::TryLockFile(AgentLockFile(config), message);
  }
  return lock;
}

}  // namespace outpost::app
