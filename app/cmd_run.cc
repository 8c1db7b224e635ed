// `outpost run`: the agent in the foreground (also what a service runs).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "buffer/buffer_store.h"
#include "check/check_scheduler.h"
#include "check/policy.h"
#include "cli.h"
#include "collect/pipeline.h"
#include "outpost/platform/change_watcher.h"
#include "outpost/platform/executable.h"
#include "outpost/platform/file_security.h"
#include "outpost/platform/process_lock.h"
#include "outpost/platform/service_notify.h"
#include "outpost/platform/signals.h"
#include "outpost/platform/system.h"
#include "outpost/platform/table.h"
#include "outpost/platform/windows_service.h"
#include "query/query_engine.h"
#include "shipping.h"
#include "util/build_info.h"
#include "util/log_file.h"

namespace outpost::app {
namespace {

struct RunOptions {
  bool once = false;
  bool json = false;
  bool poll = false;
  bool service = false;  // run as the Windows service (windows_service.h)
};

// Policy checks on schedule (stream "checks"), with their own buffer.db connection,
// query engine and thread. Null when checks are off, have no policies, or this OS has
// no device tables; a policy with errors is logged (file:line) and left out.
struct ScheduledChecks {
  std::unique_ptr<BufferStore> store;
  std::unique_ptr<QueryEngine> engine;
  std::unique_ptr<CheckScheduler> scheduler;
  std::thread thread;
};

std::unique_ptr<ScheduledChecks> SetUpChecks(Cli& cli, const Config& config,
                                             const PipelineIdentity& id) {
  ComponentLogger log(cli.logger(), "checks");
  const bool want_checks = config.checks.enabled && !config.checks.policies.empty();
  if (!want_checks && config.inventory.empty()) return nullptr;
  if (platform::DeviceTables().empty()) {
    log.Info("device checks and inventory queries are not available on " +
             std::string(platform::DeviceTablesOs()) + " yet");
    return nullptr;
  }
  PolicyOptions po;
  po.default_interval = config.checks.interval;
  std::vector<Check> checks;
  std::set<std::string> ids;
  for (const std::filesystem::path& path :
       want_checks ? config.checks.policies : std::vector<std::filesystem::path>{}) {
    PolicyParseResult p = LoadPolicyFile(path, po);
    for (const PolicyError& e : p.errors)
      log.Error(e.ToString() + " (the checks of this policy are left out)");
    for (Check& c : p.checks) {
      if (!ids.insert(c.id).second) {
        log.Error(c.policy_file + ":" + std::to_string(c.line) + ": check '" + c.id +
                  "': this id is used by another check; this one is left out");
        continue;
      }
      checks.push_back(std::move(c));
    }
  }
  if (want_checks && checks.empty()) log.Warn("no checks to run from checks.policies");
  if (checks.empty() && config.inventory.empty()) return nullptr;
  auto sc = std::make_unique<ScheduledChecks>();
  Result<std::unique_ptr<BufferStore>> store =
      BufferStore::Open(BufferStoreOptions(config), cli.clock(), cli.logger());
  if (!store.ok()) {
    log.Error("cannot open buffer.db for the checks: " + store.status().message());
    return nullptr;
  }
  sc->store = std::move(store).value();
  Result<std::unique_ptr<QueryEngine>> engine =
      QueryEngine::Create(platform::DeviceTables(), "/", cli.clock());
  if (!engine.ok()) {
    log.Error("cannot start the query engine for the checks: " + engine.status().message());
    return nullptr;
  }
  sc->engine = std::move(engine).value();
  sc->scheduler = std::make_unique<CheckScheduler>(
      std::move(checks), config.checks, CheckIdentity{id.agent_id, id.host}, *sc->store,
      *sc->engine, cli.clock(), cli.logger(), std::random_device{}(),
      std::string(platform::DeviceTablesOs()), config.inventory);
  log.Info(std::to_string(sc->scheduler->checks()) + " check(s) and " +
           std::to_string(sc->scheduler->inventory_queries()) + " inventory quer(ies) scheduled");
  return sc;
}

// A background thread that sleeps between its rounds and is stopped at once by Stop()
// (UpdateLoop, WatchdogPinger).
class StoppableThread {
 public:
  ~StoppableThread() { Stop(); }

  void Start(std::function<void()> body) { thread_ = std::thread(std::move(body)); }
  // For the body: waits until `t` or Stop(); true when stopped.
  bool SleepUntil(std::chrono::steady_clock::time_point t) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_until(lock, t, [this] { return stop_; });
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

// What `outpost run` does after it stopped for a self-update.
struct RestartPlan {
  // kReload: SIGHUP with a config that loads (the same binary starts again with it).
  enum class Kind { kNone, kNewBinary, kPreviousBinary, kReload };
  std::atomic<Kind> kind{Kind::kNone};
  std::string version;  // the new binary's (kNewBinary)
};

// Self-update inside `outpost run` (docs/self-update.md), on its own thread:
//  - health: when this start is one of the first ones of a new binary (journal
//    "swapped"), the update is made final after update.health_window of running, if by
//    then `health()` says the agent is healthy (its sources up, and an upload or a
//    check cycle that worked); otherwise the previous binary is put back, the version
//    blocked, and the agent restarts into the previous binary;
//  - periodic (update.enabled): a first apply at start plus a jitter in
//    [0, min(interval/10, 10m)), then every update.interval. An update that is applied
//    restarts the agent into the new binary, with the old code watching its first
//    start (platform::ExecWatched); where a process cannot be replaced (Windows), it
//    runs at the next start of the agent.
// A restart is asked for through `plan` and `wake`: the agent stops as for SIGTERM
// (everything read is committed) and RunAgent starts the binary.
class UpdateLoop {
 public:
  UpdateLoop(std::unique_ptr<update::Updater> updater, const UpdateConfig& config,
             bool confirm_health, std::function<std::string()> health, RestartPlan& plan,
             std::function<void()> wake, const Logger& logger)
      : updater_(std::move(updater)),
        config_(config),
        confirm_health_(confirm_health),
        health_(std::move(health)),
        plan_(plan),
        wake_(std::move(wake)),
        log_(logger, "update") {}
  ~UpdateLoop() { Stop(); }

  void Start() {
    std::mt19937_64 gen(std::random_device{}());
    const int64_t range =
        std::min<Duration>(config_.interval / 10, std::chrono::minutes(10)).count();
    const Duration first(range > 0 ? std::uniform_int_distribution<int64_t>(0, range - 1)(gen) : 0);
    thread_.Start([this, first] {
      using Steady = std::chrono::steady_clock;
      const Steady::time_point start = Steady::now();
      Steady::time_point health_at = start + config_.health_window;
      Steady::time_point check_at = start + first;
      bool health_pending = confirm_health_;
      for (;;) {
        if (!health_pending && !config_.enabled) return;
        Steady::time_point next = Steady::time_point::max();
        if (health_pending) next = std::min(next, health_at);
        if (config_.enabled) next = std::min(next, check_at);
        if (thread_.SleepUntil(next)) return;
        const Steady::time_point now = Steady::now();
        try {  // fault barrier: an update problem never stops the agent
          if (health_pending && now >= health_at) {
            health_pending = false;
            if (!ConfirmHealth()) return;  // rolled back: the agent restarts
          }
          if (config_.enabled && now >= check_at) {
            check_at = now + config_.interval;
            if (CheckAndApply()) return;  // installed: the agent restarts
          }
        } catch (const std::exception& e) {
          log_.Error(std::string("self-update failed: ") + e.what());
        }
      }
    });
  }

  void Stop() { thread_.Stop(); }

 private:
  void RequestRestart(RestartPlan::Kind kind) {
    plan_.kind = kind;
    if (wake_) wake_();
  }

  // False when the update was rolled back (the agent restarts).
  bool ConfirmHealth() {
    const std::string problem = health_ ? health_() : std::string();
    if (problem.empty()) {
      if (Status st = updater_->MarkHealthy(); !st.ok())
        log_.Warn("cannot record that this version is healthy: " + st.message());
      return true;
    }
    const std::string why =
        "not healthy after " + FormatDuration(config_.health_window) + ": " + problem;
    log_.Error("this version is " + why + "; rolling back to the previous binary");
    Result<update::Journal> back = updater_->Rollback(why);
    if (!back.ok()) {
      log_.Error("cannot roll back: " + back.status().message());
      return true;
    }
    if (platform::CanReplaceProcess()) {
      RequestRestart(RestartPlan::Kind::kPreviousBinary);
    } else {
      log_.Warn("the previous binary runs at the next start of the agent");
    }
    return false;
  }

  // True when a new binary was installed and the agent restarts into it.
  bool CheckAndApply() {
    Result<update::ApplyOutcome> a = updater_->Apply();
    if (!a.ok()) {
      log_.Warn("self-update: " + a.status().message());
    } else if (a->installed) {
      if (platform::CanReplaceProcess()) {
        log_.Info("self-update: version " + a->journal.to_version +
                  " is installed; restarting into it");
        plan_.version = a->journal.to_version;
        RequestRestart(RestartPlan::Kind::kNewBinary);
        return true;
      }
      log_.Info("self-update: version " + a->journal.to_version +
                " is installed and runs at the next start of the agent");
    } else if (a->check.decision.verdict == update::Decision::Verdict::kRejected) {
      log_.Warn("self-update: the feed was rejected (" + a->check.decision.reason_code +
                "): " + a->check.decision.reason);
    } else {
      log_.Debug("self-update: " + std::string(update::VerdictName(a->check.decision.verdict)) +
                 ": " + a->check.decision.reason);
    }
    return false;
  }

  std::unique_ptr<update::Updater> updater_;
  UpdateConfig config_;
  bool confirm_health_;
  std::function<std::string()> health_;
  RestartPlan& plan_;
  std::function<void()> wake_;
  ComponentLogger log_;
  StoppableThread thread_;
};

// systemd's watchdog (WatchdogSec=): every half interval it wakes the agent's loop and
// pings only when the loop turned since the last time, so a stuck loop stops the pings
// and systemd restarts the service. An idle loop costs one turn per half interval.
class WatchdogPinger {
 public:
  WatchdogPinger(const platform::ServiceNotifier& notifier, const Pipeline& pipeline,
                 platform::ChangeWatcher& watcher, const Logger& logger)
      : notifier_(notifier), pipeline_(pipeline), watcher_(watcher), log_(logger, "agent") {}
  ~WatchdogPinger() { Stop(); }

  void Start() {
    const std::optional<std::chrono::microseconds> period = notifier_.watchdog_ping_period();
    if (!period) return;
    thread_.Start([this, period = *period] {
      uint64_t seen = pipeline_.loops();
      for (;;) {
        if (thread_.SleepUntil(std::chrono::steady_clock::now() + period)) return;
        const uint64_t now = pipeline_.loops();
        std::string error;
        if (now != seen && !notifier_.Watchdog(&error))
          log_.Warn("cannot ping the service manager's watchdog: " + error);
        seen = now;
        watcher_.Wake();  // the loop turns before the next look
      }
    });
  }

  void Stop() { thread_.Stop(); }

 private:
  const platform::ServiceNotifier& notifier_;
  const Pipeline& pipeline_;
  platform::ChangeWatcher& watcher_;
  ComponentLogger log_;
  StoppableThread thread_;
};

// The agent itself. Returns the exit code; `plan` says whether to restart (a self-update)
// and `config` and `binary` are what the restart needs.
int RunAgentBody(Cli& cli, const RunOptions& opts, RestartPlan& plan, Config& loaded,
                 std::filesystem::path& binary) {
  ConfigParseResult r;
  if (!cli.LoadConfig(r)) return kExitUsage;
  loaded = r.config;
  const Config& config = r.config;
  if (cli.options().log_level.empty()) cli.logger().set_min_level(config.agent.log_level);
  ComponentLogger log(cli.logger(), "agent");

  std::error_code ec;
  // buffer.db holds the logs themselves: the state directory is created private.
  if (const std::string err = platform::CreatePrivateDirectory(config.agent.state_dir);
      !err.empty()) {
    std::fprintf(stderr, "outpost: cannot create the state directory %s: %s\n",
                 config.agent.state_dir.string().c_str(), err.c_str());
    return kExitRuntime;
  }
  if (const platform::FilePrivacy p = platform::CheckFilePrivacy(config.agent.state_dir); p.exposed)
    log.Warn("the state directory " + config.agent.state_dir.string() +
             " holds the buffered logs, but " + p.detail + "; fix: " + p.fix);
  std::string lock_msg;
  std::unique_ptr<platform::ProcessLock> lock = AcquireAgentLock(config, &lock_msg);
  if (!lock) {
    std::fprintf(stderr,
                 "outpost: another agent is running with the state directory %s (lock file %s "
                 "%s); stop it first or use --state-dir\n",
                 config.agent.state_dir.string().c_str(), AgentLockFile(config).string().c_str(),
                 lock_msg.c_str());
    return kExitRuntime;
  }
  platform::RaiseOpenFileLimit();
  // Before any thread starts: Linux applies priorities per thread, and threads inherit.
  if (config.agent.nice != 0 || config.agent.io_priority != AgentConfig::IoPriority::kNormal) {
    std::string priority_error;
    if (!platform::SetProcessPriority(config.agent.nice, static_cast<int>(config.agent.io_priority),
                                      &priority_error))
      log.Warn("agent.nice / agent.io_priority: " + priority_error);
  }
  // A service or cron has no one reading stderr: the log goes to a rotating file too.
  if (!config.agent.log_file.empty() && !platform::IsTerminal(platform::StdStream::kStderr)) {
    std::filesystem::path file(config.agent.log_file);
    if (file.is_relative()) file = config.agent.state_dir / file;
    cli.AddLogFile(std::make_unique<RotatingFileLogSink>(
        file, config.agent.log_max_bytes, config.agent.log_keep, config.agent.log_format));
  }

  // First thing after the lock: a new binary that keeps starting without becoming
  // healthy is rolled back here, before any of its other code runs again.
  std::string update_error;
  std::unique_ptr<update::Updater> updater =
      MakeAgentUpdater(cli, config, "", "", "", &update_error);
  bool confirm_health = false;
  if (!updater) {
    log.Warn("self-update is off: " + update_error);
    std::string self_error;  // still needed to start again after a SIGHUP
    if (!platform::SelfExecutablePath(binary, &self_error)) binary.clear();
  } else {
    binary = updater->binary();
    Result<update::Journal> jn = updater->LoadJournal();
    confirm_health =
        jn.ok() && jn->step == "swapped" && jn->to_version == std::string(GetBuildInfo().version);
    Result<bool> rolled_back = updater->NoteStart();
    if (!rolled_back.ok()) {
      log.Warn("self-update: " + rolled_back.status().message());
    } else if (*rolled_back) {
      std::fprintf(stderr,
                   "outpost: this version crash-looped after an update and was rolled back; "
                   "the previous binary runs at the next start\n");
      return kExitRuntime;
    }
  }

  const BufferStore::Options bo = BufferStoreOptions(config);
  Result<std::unique_ptr<BufferStore>> store = BufferStore::Open(bo, cli.clock(), cli.logger());
  if (!store.ok()) {
    std::fprintf(stderr, "outpost: cannot open %s: %s\n", bo.file.string().c_str(),
                 store.status().message().c_str());
    return kExitRuntime;
  }
  if ((*store)->quarantined())
    log.Warn("buffer.db was corrupt; moved aside to " + (*store)->quarantined()->string() +
             " and started a fresh one");

  Result<std::string> agent_id = LoadOrCreateAgentId(**store, config.agent.id);
  if (!agent_id.ok()) {
    std::fprintf(stderr, "outpost: %s\n", agent_id.status().message().c_str());
    return kExitRuntime;
  }
  if (config.file_sources.empty() && config.journal_sources.empty() &&
      config.eventlog_sources.empty() && config.unifiedlog_sources.empty())
    log.Warn("no sources configured ([[source.file]] in " + config.source_file.string() +
             "); nothing to collect");

  std::unique_ptr<platform::ChangeWatcher> watcher = platform::CreateChangeWatcher(!opts.poll);
  PipelineIdentity id;
  id.agent_id = *agent_id;
  id.host = config.agent.hostname.empty() ? platform::HostName() : config.agent.hostname;
  id.version = std::string(GetBuildInfo().version);
  id.pid = platform::ProcessId();
  Pipeline pipeline(config, id, **store, *watcher, cli.clock(), cli.logger());

  // The uploader, when there is an [output]: its own thread and buffer.db connection.
  std::unique_ptr<Shipping> shipping;
  if (config.output) {
    Result<std::unique_ptr<Shipping>> sh = SetUpShipping(cli, config, id.agent_id, id.host);
    if (!sh.ok()) {
      std::fprintf(stderr, "outpost: [output]: %s\n", sh.status().message().c_str());
      return SetupExitCode(sh.status());
    }
    shipping = std::move(sh).value();
    Shipper* shipper = shipping->shipper.get();
    pipeline.set_on_commit([shipper] { shipper->Wake(); });
  } else {
    log.Info("no [output]: records stay in buffer.db (see outpost buffer export)");
  }

  std::unique_ptr<ScheduledChecks> checks = SetUpChecks(cli, config, id);
  if (checks && shipping) {
    Shipper* shipper = shipping->shipper.get();
    checks->scheduler->set_on_commit([shipper] { shipper->Wake(); });
  }

  platform::InstallStopHandlers(watcher.get());
  std::atomic<bool> stop_shipping{false};
  std::thread ship_thread;
  // The uploader runs beside the pipeline, also with --once: chunks go out while later
  // ones are read (--once then drains what is left below).
  if (shipping) {
    ship_thread = std::thread([&] {
      shipping->shipper->Run([&] { return stop_shipping.load() || platform::StopRequested(); });
    });
  }
  if (checks && !opts.once) checks->thread = std::thread([&] { checks->scheduler->Run(); });
  // The health of a new binary (update.health_window): the pipeline runs, and an upload
  // or a check cycle worked (where there is neither, running is enough). An upload
  // counts as working when one succeeded, or none failed (nothing needed sending).
  std::atomic<bool> collecting{false};
  auto health = [&]() -> std::string {
    if (!collecting) return "its sources did not start";
    if (checks && checks->scheduler->cycles_completed() > 0) return "";
    if (shipping) {
      const ShipStats s = shipping->shipper->this_run();
      if (s.chunks_sent > 0 || s.last_error.empty()) return "";
      return "no upload worked (last error: " + s.last_error + ")" +
             (checks ? " and no check cycle completed" : "");
    }
    return checks ? "no check cycle completed" : "";
  };
  std::unique_ptr<UpdateLoop> updates;
  if (updater && !opts.once && (config.update.enabled || confirm_health)) {
    updater->set_agent_id(id.agent_id);  // rollout buckets; the start check did without
    platform::ChangeWatcher* w = watcher.get();
    updates = std::make_unique<UpdateLoop>(
        std::move(updater), config.update, confirm_health, health, plan, [w] { w->Wake(); },
        cli.logger());
    updates->Start();
  }
  Status st = pipeline.Start();
  if (st.ok()) {
    collecting = true;
    platform::ConfirmStarted();  // a watching old binary (after a self-update) lets go
    if (opts.once) {
      st = pipeline.RunOnce();
      if (st.ok() && checks) (void)checks->scheduler->RunAll();  // failures are logged
      // One-shot mode (cron, a timer): a whole cycle that worked is the health proof.
      if (st.ok() && confirm_health && updater) {
        if (Status hs = updater->MarkHealthy(); !hs.ok())
          log.Warn("cannot record that this version is healthy: " + hs.message());
      }
    } else {
      const std::string running =
          std::to_string(config.file_sources.size() + config.journal_sources.size() +
                         config.eventlog_sources.size() + config.unifiedlog_sources.size()) +
          " source(s), buffer " + bo.file.string();
      log.Info("running: " + running + (watcher->native() ? "" : " (polling for changes)"));
      // A systemd Type=notify service: ready now, watchdog pings while the loop turns.
      const platform::ServiceNotifier notifier = platform::ServiceNotifier::FromEnvironment();
      if (!notifier.problem().empty()) log.Warn("service manager: " + notifier.problem());
      std::string notify_error;
      if (!notifier.Ready("running: " + running, &notify_error))
        log.Warn("cannot tell the service manager that the agent is ready: " + notify_error);
      platform::ReportServiceRunning();  // the Windows SCM; a no-op elsewhere
      WatchdogPinger pinger(notifier, pipeline, *watcher, cli.logger());
      pinger.Start();
      // SIGHUP reloads: a config that loads makes the agent stop as for SIGTERM and start
      // again with it (the same process, execv); one with errors is logged and the
      // running config stays.
      if (platform::CanReplaceProcess()) platform::InstallReloadHandler();
      auto should_stop = [&] {
        if (platform::StopRequested() || plan.kind != RestartPlan::Kind::kNone) return true;
        if (!platform::TakeReloadRequest()) return false;
        ConfigParseResult next;
        std::vector<std::string> errors;
        if (!cli.ReloadConfig(next, errors)) {
          for (const std::string& e : errors) log.Error("SIGHUP: " + e);
          const std::string summary = cli.ConfigPath().string() + " has " +
                                      std::to_string(errors.size()) +
                                      " error(s); the running config stays";
          log.Error("SIGHUP: " + summary);
          pipeline.SetReloadError(summary, errors);
          return false;
        }
        RestartPlan::Kind none = RestartPlan::Kind::kNone;
        if (!plan.kind.compare_exchange_strong(none, RestartPlan::Kind::kReload)) return true;
        log.Info("SIGHUP: " + cli.ConfigPath().string() + " loads; restarting with it");
        (void)notifier.Reloading("reloading " + cli.ConfigPath().string());
        return true;
      };
      st = pipeline.Run(should_stop);
      pinger.Stop();
      if (plan.kind == RestartPlan::Kind::kNone) (void)notifier.Stopping("stopping");
      platform::ReportServiceStopping();
    }
  }
  if (updates) updates->Stop();
  if (checks && checks->thread.joinable()) {
    checks->scheduler->Stop();
    checks->thread.join();
  }
  if (ship_thread.joinable()) {
    stop_shipping = true;
    shipping->shipper->Wake();
    ship_thread.join();
  }
  // --once ships everything buffered and succeeds only when the buffer is empty.
  Status ship_status;
  if (st.ok() && shipping && opts.once) {
    ship_status = shipping->shipper->Drain(
        std::chrono::seconds(10), [] { return platform::StopRequested(); }, nullptr);
  }
  platform::RemoveStopHandlers();
  if (!st.ok()) {
    std::fprintf(stderr, "outpost: %s\n", st.message().c_str());
    return kExitRuntime;
  }
  if (!ship_status.ok()) {
    std::fprintf(stderr, "outpost: not everything was shipped: %s\n",
                 ship_status.message().c_str());
    return kExitRuntime;
  }
  const ShipStats shipped = shipping ? shipping->shipper->this_run() : ShipStats{};
  if (opts.json) {
    nlohmann::json j = {{"records", pipeline.records_committed()},
                        {"chunks", pipeline.chunks_committed()},
                        {"buffer", bo.file.string()}};
    if (shipping)
      j["shipped"] = {{"endpoint", shipped.endpoint},  {"records", shipped.records_sent},
                      {"chunks", shipped.chunks_sent}, {"bytes", shipped.bytes_sent},
                      {"retries", shipped.retries},    {"dead", shipped.dead}};
    PrintJson(j);
  } else if (opts.once) {
    std::printf("committed %llu records in %llu chunks to %s\n",
                static_cast<unsigned long long>(pipeline.records_committed()),
                static_cast<unsigned long long>(pipeline.chunks_committed()),
                bo.file.string().c_str());
    if (shipping)
      std::printf("shipped %llu records in %llu chunks to %s (%llu retries, %llu dead)\n",
                  static_cast<unsigned long long>(shipped.records_sent),
                  static_cast<unsigned long long>(shipped.chunks_sent), shipped.endpoint.c_str(),
                  static_cast<unsigned long long>(shipped.retries),
                  static_cast<unsigned long long>(shipped.dead));
  } else {
    log.Info("stopped: " + std::to_string(pipeline.records_committed()) +
             " records committed in this run" +
             (plan.kind == RestartPlan::Kind::kReload ? "; restarting with the new config"
              : plan.kind != RestartPlan::Kind::kNone ? "; restarting for the self-update"
                                                      : ""));
  }
  return kExitOk;
}

// After a self-update stopped the agent (no other thread runs now): starts the binary
// again in this process. Into a new binary, the old code watches the first start
// (platform::ExecWatched) and puts the previous binary back when the new one dies
// before it is up; outside a service manager the watcher then starts the previous
// binary itself, under one (systemd) the service manager restarts the unit.
int Restart(Cli& cli, const RestartPlan& plan, const Config& config,
            const std::filesystem::path& binary) {
  std::string error;
  if (plan.kind == RestartPlan::Kind::kPreviousBinary || plan.kind == RestartPlan::Kind::kReload) {
    platform::ExecProgram(binary, cli.args(), &error);
    std::fprintf(stderr, "outpost: %s\n", error.c_str());
    return kExitRuntime;
  }
  const bool service_manager =
      std::getenv("INVOCATION_ID") != nullptr || std::getenv("NOTIFY_SOCKET") != nullptr;
  platform::StartWatch watch;
  if (const char* ms = std::getenv("OUTPOST_TEST_START_WATCH_MS")) {  // tests: a short wait
    const long long v = std::strtoll(ms, nullptr, 10);
    if (v > 0) watch.timeout = std::chrono::milliseconds(v);
  }
  const std::string version = plan.version;
  auto roll_back = [&cli, &config, &binary, version](const std::string& why) {
    std::string err;
    std::unique_ptr<update::Updater> u =
        MakeAgentUpdater(cli, config, "", "", binary.string(), &err);
    Result<update::Journal> back =
        u ? u->Rollback("version " + version + ": " + why)
          : Result<update::Journal>(Internal("cannot set up the updater: " + err));
    if (!back.ok()) {
      std::fprintf(stderr,
                   "outpost: the new version %s failed to start (%s) and cannot be "
                   "rolled back: %s\n",
                   version.c_str(), why.c_str(), back.status().message().c_str());
      return false;
    }
    return true;
  };
  watch.on_failure = [roll_back, service_manager](const std::string& why) {
    return roll_back(why) && !service_manager;
  };
  platform::ExecWatched(binary, cli.args(), watch, &error);
  // Not started at all: put the previous binary back and carry on with it.
  std::fprintf(stderr, "outpost: %s\n", error.c_str());
  if (!roll_back("cannot start it: " + error)) return kExitRuntime;
  platform::ExecProgram(binary, cli.args(), &error);
  std::fprintf(stderr, "outpost: %s\n", error.c_str());
  return kExitRuntime;
}

int RunAgent(Cli& cli, const RunOptions& opts) {
  if (opts.service) {
    // `run --service`: the Windows SCM started this process. Elsewhere, and when
    // started by hand, say what to run instead.
    if (opts.once) {
      std::fprintf(stderr, "outpost: --service and --once exclude each other\n");
      return kExitUsage;
    }
    RunOptions as_service = opts;
    as_service.service = false;
    int rc = kExitOk;
    std::string error;
    const platform::WindowsServiceOutcome outcome = platform::RunWindowsService(
        [&cli, &as_service] { return RunAgent(cli, as_service); }, rc, &error);
    if (outcome == platform::WindowsServiceOutcome::kNotAvailable) {
      std::fprintf(stderr,
                   "outpost: run --service is only for Windows (the Service Control "
                   "Manager); under systemd and launchd use outpost run\n");
      return kExitUsage;
    }
    if (outcome != platform::WindowsServiceOutcome::kRan)
      std::fprintf(stderr, "outpost: %s\n", error.c_str());
    return rc;
  }
  RestartPlan plan;
  Config config;
  std::filesystem::path binary;
  const int rc = RunAgentBody(cli, opts, plan, config, binary);
  if (plan.kind == RestartPlan::Kind::kNone || rc != kExitOk || binary.empty()) return rc;
  cli.CloseLogFile();  // the started binary opens its own
  return Restart(cli, plan, config, binary);
}

}  // namespace

void AddRunCommand(CLI::App& app, Cli& cli, Action& action) {
  auto opts = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Run the agent in the foreground: tail the configured sources into buffer.db until "
      "SIGINT or SIGTERM, which seal and commit the open chunks before exiting.");
  cmd->add_flag("--once", opts->once,
                "Read every source to its current end, seal, commit and exit (for cron and "
                "scheduled tasks).");
  cmd->add_flag("--poll", opts->poll,
                "Poll for changes every source.file.poll_interval instead of using kernel "
                "notification (inotify).");
  cmd->add_flag("--json", opts->json,
                "Print the summary at exit as JSON (records, chunks, buffer).");
  cmd->add_flag("--service", opts->service,
                "Windows: run as the service the Service Control Manager starts (what "
                "`outpost service install` registers). Not for use by hand; elsewhere an "
                "error (exit 2).");
  cmd->footer(
      "Only one agent runs per state directory (a lock file, agent.lock, says who). SIGHUP "
      "reloads the config: with errors they are logged and the running config stays; else "
      "the agent commits what it read and starts again with it (same pid). Under systemd it "
      "speaks the notify protocol (READY, WATCHDOG, RELOADING, STOPPING; docs/service.md).\n\n"
      "EXAMPLES\n"
      "  outpost run\n"
      "  outpost --config ./outpost.toml --state-dir /tmp/op run --once\n\n"
      "EXIT STATUS\n"
      "  0  stopped cleanly (all read records committed)\n"
      "  2  config error\n"
      "  3  runtime failure (state dir, buffer.db, another agent running)");
  cmd->callback([opts, &cli, &action] { action = [opts, &cli] { return RunAgent(cli, *opts); }; });
}

}  // namespace outpost::app
