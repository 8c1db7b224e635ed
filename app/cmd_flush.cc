// `outpost flush`: ships everything buffered now, by hand, with a progress bar.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "buffer/buffer_store.h"
#include "cli.h"
#include "collect/pipeline.h"
#include "outpost/platform/signals.h"
#include "outpost/platform/system.h"
#include "shipping.h"
#include "util/units.h"

namespace outpost::app {
namespace {

struct FlushOptions {
  bool json = false;
  bool no_progress = false;
  std::string patience = "10s";
};

constexpr int kBarWidth = 24;
constexpr auto kRedrawEvery = std::chrono::milliseconds(200);

std::string Rate(double bytes_per_s) {
  return FormatBytes(static_cast<uint64_t>(std::max(bytes_per_s, 0.0))) + "/s";
}

// One line, redrawn in place: "[#####.......]  12/40 chunks  3.2 MiB sent  1.1 MiB/s  ETA 25s".
class ProgressBar {
 public:
  ProgressBar(uint64_t total_chunks, MonoTime start) : total_(total_chunks), start_(start) {}

  void Draw(const ShipStats& run, uint64_t left, MonoTime now, bool force) {
    if (!force && now - last_ < kRedrawEvery) return;
    last_ = now;
    total_ = std::max(total_, run.chunks_sent + run.dead + left);
    const uint64_t done = total_ > left ? total_ - left : 0;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const int filled = total_ == 0
                           ? kBarWidth
                           : static_cast<int>(kBarWidth * done / std::max<uint64_t>(total_, 1));
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(kBarWidth - filled), '.');
    std::string eta = "--";
    if (done > 0 && left > 0 && seconds > 0)
      eta = FormatDuration(std::chrono::milliseconds(
          static_cast<int64_t>(seconds * 1000.0 * static_cast<double>(left) / done)));
    else if (left == 0)
      eta = "0s";
    std::string line = "[" + bar + "] " + std::to_string(done) + "/" + std::to_string(total_) +
                       " chunks  " + FormatBytes(run.bytes_sent) + " sent  " +
                       Rate(seconds > 0 ? run.bytes_sent / seconds : 0) + "  ETA " + eta;
    if (run.retries > 0) line += "  " + std::to_string(run.retries) + " retries";
    if (!run.last_error.empty() && left > 0 && run.last_error_ms > 0) line += "  (retrying)";
    std::printf("\r%-*s", static_cast<int>(std::max<size_t>(width_, line.size())), line.c_str());
    std::fflush(stdout);
    width_ = line.size();
  }

  void End() {
    std::printf("\n");
    std::fflush(stdout);
  }

 private:
  uint64_t total_;
  MonoTime start_;
  MonoTime last_{};
  size_t width_ = 0;
};

int Flush(Cli& cli, const FlushOptions& opts) {
  Result<Duration> patience = ParseDuration(opts.patience);
  if (!patience.ok() || *patience <= Duration(0)) {
    std::fprintf(stderr, "outpost: --patience: '%s' is not a duration such as 10s or 2m\n",
                 opts.patience.c_str());
    return kExitUsage;
  }
  ConfigParseResult r;
  if (!cli.LoadConfig(r)) return kExitUsage;
  const Config& config = r.config;
  if (cli.options().log_level.empty()) cli.logger().set_min_level(config.agent.log_level);
  if (!config.output) {
    std::fprintf(stderr,
                 "outpost: %s has no [output]: there is nowhere to flush to (records stay in "
                 "buffer.db; `outpost buffer export` prints them)\n",
                 config.source_file.string().c_str());
    return kExitUsage;
  }
  std::string lock_msg;
  std::unique_ptr<platform::ProcessLock> lock = AcquireAgentLock(config, &lock_msg);
  if (!lock) {
    std::fprintf(stderr,
                 "outpost: an agent is running with the state directory %s (%s) and ships "
                 "already; `outpost status` shows its progress\n",
                 config.agent.state_dir.string().c_str(), lock_msg.c_str());
    return kExitRuntime;
  }

  const BufferStore::Options bo = BufferStoreOptions(config);
  Result<std::unique_ptr<BufferStore>> store = BufferStore::Open(bo, cli.clock(), cli.logger());
  if (!store.ok()) {
    std::fprintf(stderr, "outpost: cannot open %s: %s\n", bo.file.string().c_str(),
                 store.status().message().c_str());
    return kExitRuntime;
  }
  Result<std::string> agent_id = LoadOrCreateAgentId(**store, config.agent.id);
  if (!agent_id.ok()) {
    std::fprintf(stderr, "outpost: %s\n", agent_id.status().message().c_str());
    return kExitRuntime;
  }
  Result<BufferStats> before = (*store)->Stats();
  if (!before.ok()) {
    std::fprintf(stderr, "outpost: cannot read %s: %s\n", bo.file.string().c_str(),
                 before.status().message().c_str());
    return kExitRuntime;
  }
  const std::string host =
      config.agent.hostname.empty() ? platform::HostName() : config.agent.hostname;
  Result<std::unique_ptr<Shipping>> sh = SetUpShipping(cli, config, *agent_id, host);
  if (!sh.ok()) {
    std::fprintf(stderr, "outpost: [output]: %s\n", sh.status().message().c_str());
    return SetupExitCode(sh.status());
  }
  Shipper& shipper = *(*sh)->shipper;

  const bool bar =
      !opts.json && !opts.no_progress && platform::IsTerminal(platform::StdStream::kStdout);
  const MonoTime start = cli.clock().Monotonic();
  ProgressBar progress(before->chunks, start);
  platform::InstallStopHandlers(nullptr);
  Status st = shipper.Drain(
      *patience, [] { return platform::StopRequested(); },
      [&](const ShipStats&, uint64_t left) {
        if (bar) progress.Draw(shipper.this_run(), left, cli.clock().Monotonic(), false);
      });
  platform::RemoveStopHandlers();
  const ShipStats run = shipper.this_run();
  Result<BufferStats> after = (*sh)->store->Stats();
  const uint64_t left = after.ok() ? after->chunks : 0;
  if (bar) {
    progress.Draw(run, left, cli.clock().Monotonic(), true);
    progress.End();
  }
  const double seconds = std::chrono::duration<double>(cli.clock().Monotonic() - start).count();

  if (opts.json) {
    nlohmann::json j = {{"ok", st.ok()},
                        {"endpoint", config.output->endpoint},
                        {"chunks", run.chunks_sent},
                        {"records", run.records_sent},
                        {"bytes", run.bytes_sent},
                        {"retries", run.retries},
                        {"dead", run.dead},
                        {"splits", run.splits},
                        {"chunks_left", left},
                        {"seconds", seconds}};
    if (!st.ok()) j["error"] = st.message();
    PrintJson(j);
  } else {
    std::printf(
        "flushed %llu records in %llu chunks (%s) to %s in %s; %llu retries, %llu dead\n",
        static_cast<unsigned long long>(run.records_sent),
        static_cast<unsigned long long>(run.chunks_sent), FormatBytes(run.bytes_sent).c_str(),
        config.output->endpoint.c_str(),
        FormatDuration(std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000))).c_str(),
        static_cast<unsigned long long>(run.retries), static_cast<unsigned long long>(run.dead));
  }
  if (!st.ok()) {
    std::fprintf(stderr, "outpost: not everything was shipped (%llu chunks left): %s\n",
                 static_cast<unsigned long long>(left), st.message().c_str());
    return kExitRuntime;
  }
  return kExitOk;
}

}  // namespace

void AddFlushCommand(CLI::App& app, Cli& cli, Action& action) {
  auto opts = std::make_shared<FlushOptions>();
  CLI::App* cmd = app.add_subcommand(
      "flush",
      "Ship everything in buffer.db to the [output] now and exit: what `run --once` does "
      "after reading the sources, by hand. Sources are not read.");
  cmd->add_flag("--json", opts->json,
                "Print the summary as JSON (ok, chunks, records, bytes, retries, dead, "
                "chunks_left, seconds, error).");
  cmd->add_flag("--no-progress", opts->no_progress,
                "No progress bar, even when stdout is a terminal.");
  cmd->add_option("--patience", opts->patience,
                  "Give up when nothing was delivered for this long (default 10s); a retry "
                  "scheduled later than this also ends the flush.");
  cmd->footer(
      "On a terminal a progress bar shows chunks done, bytes sent, the rate and the time "
      "left; otherwise one summary line is printed at the end. The delivery rules are "
      "those of `run` (docs/shipping.md). A running agent ships on its own: flush refuses "
      "to run beside it.\n\n"
      "EXAMPLES\n"
      "  outpost flush\n"
      "  outpost --config ./outpost.toml flush --json --patience 1m\n\n"
      "EXIT STATUS\n"
      "  0  the buffer is empty: everything was delivered (or dead-lettered)\n"
      "  2  config error, or no [output]\n"
      "  3  chunks are left (endpoint down, credentials rejected, stopped), or an agent "
      "is running");
  cmd->callback([opts, &cli, &action] { action = [opts, &cli] { return Flush(cli, *opts); }; });
}

}  // namespace outpost::app
