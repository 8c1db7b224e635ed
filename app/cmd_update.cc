// `outpost update check|apply|status|rollback`: self-update from the signed release
// feed (lib/update/updater.h, docs/self-update.md).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "buffer/buffer_store.h"
#include "cli.h"
#include "collect/pipeline.h"
#include "outpost/platform/executable.h"
#include "outpost/platform/file_security.h"
#include "outpost/platform/system.h"
#include "ship/tls_trust.h"
#include "update/updater.h"
#include "util/build_info.h"
#include "util/units.h"

namespace outpost::app {
namespace {

struct UpdateOptions {
  bool json = false;
  bool no_progress = false;
  std::string from;
  std::string binary;  // hidden: the binary to update (tests); default: this one
};

// Sets the updater up from the config; prints the error and returns null on failure.
std::unique_ptr<update::Updater> MakeUpdater(Cli& cli, const Config& config,
                                             const UpdateOptions& opts, int& exit_code) {
  (void)platform::CreatePrivateDirectory(config.agent.state_dir);  // Open says what fails
  Result<std::unique_ptr<BufferStore>> store =
      BufferStore::Open(BufferStoreOptions(config), cli.clock(), cli.logger());
  if (!store.ok()) {
    std::fprintf(stderr, "outpost: cannot open buffer.db: %s\n", store.status().message().c_str());
    exit_code = kExitRuntime;
    return nullptr;
  }
  Result<std::string> id = LoadOrCreateAgentId(**store, config.agent.id);
  if (!id.ok()) {
    std::fprintf(stderr, "outpost: %s\n", id.status().message().c_str());
    exit_code = kExitRuntime;
    return nullptr;
  }
  std::string error;
  auto u = MakeAgentUpdater(cli, config, *id, opts.from, opts.binary, &error);
  if (!u) {
    std::fprintf(stderr, "outpost: %s\n", error.c_str());
    exit_code = kExitRuntime;
  }
  return u;
}

nlohmann::json DecisionJson(const update::CheckOutcome& c) {
  const update::Decision& d = c.decision;
  nlohmann::json j = {{"feed_url", c.feed_url},
                      {"verdict", std::string(update::VerdictName(d.verdict))},
                      {"reason_code", d.reason_code},
                      {"reason", d.reason},
                      {"running_version", std::string(GetBuildInfo().version)},
                      {"highest_seq", d.new_state.highest_seq},
                      {"locally_blocked", c.locally_blocked}};
  if (!d.key_id.empty()) j["key_id"] = d.key_id;
  if (d.feed) {
    j["version"] = d.feed->release.version.ToString();
    j["seq"] = d.feed->seq;
    j["expires"] = d.feed->expires;
    j["critical"] = d.feed->release.critical;
  }
  if (d.target)
    j["target"] = {{"url", d.target->url}, {"size", d.target->size}, {"sha256", d.target->sha256}};
  if (d.rollout_bucket >= 0) j["rollout_bucket"] = d.rollout_bucket;
  if (d.running_blocked) j["running_blocked"] = true;
  return j;
}

void PrintDecision(const update::CheckOutcome& c) {
  const update::Decision& d = c.decision;
  std::printf("feed:     %s\n", c.feed_url.c_str());
  if (!d.key_id.empty()) std::printf("signed:   key %s\n", d.key_id.c_str());
  if (d.feed)
    std::printf("release:  %s (seq %llu, expires %s%s)\n",
                d.feed->release.version.ToString().c_str(),
                static_cast<unsigned long long>(d.feed->seq), d.feed->expires.c_str(),
                d.feed->release.critical ? ", critical" : "");
  std::printf("running:  %s\n", std::string(GetBuildInfo().version).c_str());
  std::printf("verdict:  %s (%s)\n", std::string(update::VerdictName(d.verdict)).c_str(),
              d.reason_code.c_str());
  std::printf("reason:   %s\n", d.reason.c_str());
  if (c.locally_blocked)
    std::printf(
        "note:     this version was rolled back on this machine and is not installed "
        "again\n");
}

// Loads the config and sets the updater up; non-zero: the exit code (already reported).
int Open(Cli& cli, const UpdateOptions& opts, ConfigParseResult& r,
         std::unique_ptr<update::Updater>& u) {
  if (!cli.LoadConfig(r)) return kExitUsage;
  int rc = kExitOk;
  u = MakeUpdater(cli, r.config, opts, rc);
  return u ? kExitOk : rc;
}

int CheckCmd(Cli& cli, const UpdateOptions& opts) {
  ConfigParseResult r;
  std::unique_ptr<update::Updater> u;
  if (int rc = Open(cli, opts, r, u)) return rc;
  Result<update::CheckOutcome> c = u->Check();
  if (!c.ok()) {
    if (opts.json) PrintJson({{"ok", false}, {"error", c.status().message()}});
    std::fprintf(stderr, "outpost: update check: %s\n", c.status().message().c_str());
    return c.status().code() == Code::kInvalidArgument ? kExitUsage : kExitRuntime;
  }
  if (opts.json)
    PrintJson(DecisionJson(*c));
  else
    PrintDecision(*c);
  return c->decision.verdict == update::Decision::Verdict::kRejected ? kExitProblem : kExitOk;
}

int ApplyCmd(Cli& cli, const UpdateOptions& opts) {
  ConfigParseResult r;
  std::unique_ptr<update::Updater> u;
  if (int rc = Open(cli, opts, r, u)) return rc;
  const bool bar =
      !opts.json && !opts.no_progress && platform::IsTerminal(platform::StdStream::kStdout);
  uint64_t last_drawn = 0;
  Result<update::ApplyOutcome> a = u->Apply([&](uint64_t got, uint64_t total) {
    if (!bar || (got - last_drawn < (256u << 10) && got != total)) return;
    last_drawn = got;
    const int width = 24;
    const int filled = total ? static_cast<int>(width * got / total) : 0;
    std::printf("\r[%s%s] %s / %s", std::string(static_cast<size_t>(filled), '#').c_str(),
                std::string(static_cast<size_t>(width - filled), '.').c_str(),
                FormatBytes(got).c_str(), FormatBytes(total).c_str());
    std::fflush(stdout);
  });
  if (bar && last_drawn > 0) std::printf("\n");
  if (!a.ok()) {
    if (opts.json) PrintJson({{"ok", false}, {"error", a.status().message()}});
    std::fprintf(stderr, "outpost: update apply: %s\n", a.status().message().c_str());
    return a.status().code() == Code::kInvalidArgument ? kExitUsage : kExitRuntime;
  }
  if (opts.json) {
    nlohmann::json j = DecisionJson(a->check);
    j["installed"] = a->installed;
    j["step"] = a->journal.step;
    PrintJson(j);
  } else {
    PrintDecision(a->check);
    if (a->installed)
      std::printf(
          "installed: %s -> %s; the old binary is kept as %s. Restart the agent to "
          "run it.\n",
          a->journal.from_version.c_str(), a->journal.to_version.c_str(),
          a->journal.previous.c_str());
    else
      std::printf("installed: nothing\n");
  }
  return a->check.decision.verdict == update::Decision::Verdict::kRejected ? kExitProblem : kExitOk;
}

int StatusCmd(Cli& cli, const UpdateOptions& opts) {
  ConfigParseResult r;
  std::unique_ptr<update::Updater> u;
  if (int rc = Open(cli, opts, r, u)) return rc;
  Result<update::UpdateState> s = u->LoadState();
  Result<update::Journal> j = u->LoadJournal();
  if (!s.ok() || !j.ok()) {
    std::fprintf(stderr, "outpost: %s\n", (!s.ok() ? s.status() : j.status()).message().c_str());
    return kExitRuntime;
  }
  if (opts.json) {
    PrintJson({{"enabled", r.config.update.enabled},
               {"channel", r.config.update.channel},
               {"url", r.config.update.feed_url},
               {"running_version", std::string(GetBuildInfo().version)},
               {"highest_seq", s->feed.highest_seq},
               {"last_check_at", s->last_check_at},
               {"last_result", s->last_result},
               {"blocked", s->blocked},
               {"journal",
                {{"step", j->step},
                 {"from_version", j->from_version},
                 {"to_version", j->to_version},
                 {"error", j->error},
                 {"updated_at", j->updated_at}}}});
    return kExitOk;
  }
  std::printf("self-update:  %s, channel %s, %s\n",
              r.config.update.enabled ? "enabled" : "disabled", r.config.update.channel.c_str(),
              r.config.update.feed_url.empty() ? "no url" : r.config.update.feed_url.c_str());
  std::printf("running:      %s\n", std::string(GetBuildInfo().version).c_str());
  std::printf("last check:   %s\n", s->last_check_at.empty()
                                        ? "never"
                                        : (s->last_check_at + "  " + s->last_result).c_str());
  std::printf("highest seq:  %llu\n", static_cast<unsigned long long>(s->feed.highest_seq));
  std::string blocked;
  for (const std::string& v : s->blocked) blocked += (blocked.empty() ? "" : ", ") + v;
  std::printf("blocked here: %s\n", blocked.empty() ? "none" : blocked.c_str());
  if (j->step.empty())
    std::printf("last update:  none\n");
  else
    std::printf("last update:  %s -> %s: %s%s%s (%s)\n", j->from_version.c_str(),
                j->to_version.c_str(), j->step.c_str(), j->error.empty() ? "" : ": ",
                j->error.c_str(), j->updated_at.c_str());
  return kExitOk;
}

int RollbackCmd(Cli& cli, const UpdateOptions& opts) {
  ConfigParseResult r;
  std::unique_ptr<update::Updater> u;
  if (int rc = Open(cli, opts, r, u)) return rc;
  Result<update::Journal> j = u->Rollback("rolled back by hand (outpost update rollback)");
  if (!j.ok()) {
    if (opts.json) PrintJson({{"ok", false}, {"error", j.status().message()}});
    std::fprintf(stderr, "outpost: update rollback: %s\n", j.status().message().c_str());
    return j.status().code() == Code::kNotFound ? kExitProblem : kExitRuntime;
  }
  if (opts.json)
    PrintJson({{"ok", true}, {"blocked", j->to_version}, {"step", j->step}});
  else
    std::printf(
        "rolled back to the previous binary; version %s is blocked on this machine. "
        "Restart the agent to run it.\n",
        j->to_version.empty() ? "(unknown)" : j->to_version.c_str());
  return kExitOk;
}

}  // namespace

std::unique_ptr<update::Updater> MakeAgentUpdater(Cli& cli, const Config& config,
                                                  const std::string& agent_id,
                                                  const std::string& from_dir,
                                                  const std::string& binary, std::string* error) {
  update::UpdaterOptions o;
  o.config = config.update;
  o.state_dir = config.agent.state_dir;
  o.running_version = std::string(GetBuildInfo().version);
  o.os = std::string(platform::OsName());
  o.arch = std::string(platform::ArchName());
  o.agent_id = agent_id;
  if (!from_dir.empty()) o.from_dir = std::filesystem::path(from_dir);
  if (!binary.empty())
    o.binary = std::filesystem::absolute(binary);
  else if (!platform::SelfExecutablePath(o.binary, error))
    return nullptr;
  // Crash tests (tests/integration/update_test.py): end the process at a named point of
  // an apply, with no clean-up, as a kill -9 would.
  if (const char* at = std::getenv("OUTPOST_TEST_UPDATE_CRASH_AT"); at != nullptr && *at)
    o.fault = [point = std::string(at)](std::string_view p) {
      if (p == point) std::_Exit(137);
    };
  TransportOptions& t = o.transport;
  t.user_agent = "outpost/" + o.running_version + " (" + o.os + "; " + o.arch + ")";
  t.timeout = std::chrono::minutes(30);
  t.connect_timeout = std::chrono::seconds(15);
  t.low_speed_bytes = 1024;  // a download slower than 1 KiB/s for 30 s is given up
  t.low_speed_time = std::chrono::seconds(30);
  if (const char* s = std::getenv("OUTPOST_TEST_UPDATE_LOW_SPEED_SECONDS"))  // tests: sooner
    t.low_speed_time = std::chrono::seconds(std::max(1L, std::strtol(s, nullptr, 10)));
  t.trust = ResolveTlsTrust(config.update.ca_file);
  if (config.output) {  // the same proxy as uploads
    t.proxy = config.output->proxy;
    t.proxy_username = config.output->proxy_username;
    t.proxy_password = config.output->proxy_password;
  }
  return std::make_unique<update::Updater>(std::move(o), cli.clock(), cli.logger());
}

void AddUpdateCommand(CLI::App& app, Cli& cli, Action& action) {
  auto opts = std::make_shared<UpdateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "update", "Self-update from the signed release feed (docs/self-update.md).");
  cmd->require_subcommand(1);
  const auto common = [&](CLI::App* sub, bool from) {
    sub->add_flag("--json", opts->json, "Print the result as JSON.");
    if (from)
      sub->add_option("--from", opts->from,
                      "A directory with <channel>.json, <channel>.json.minisig and the "
                      "binaries, instead of update.url (air-gapped machines).");
    sub->add_option("--binary", opts->binary, "The binary to update (default: this one).")
        ->group("");
  };
  CLI::App* check =
      cmd->add_subcommand("check", "Fetch and verify the feed and say what would happen and why.");
  common(check, true);
  check->footer(
      "EXIT STATUS\n"
      "  0  the feed verifies (whether or not an update applies)\n"
      "  1  the feed is rejected; the reason is printed\n"
      "  2  usage or config error\n"
      "  3  the feed could not be fetched");
  check->callback(
      [opts, &cli, &action] { action = [opts, &cli] { return CheckCmd(cli, *opts); }; });
  CLI::App* apply = cmd->add_subcommand(
      "apply",
      "Check, then download, verify (size, SHA-256), preflight (--self-test) and swap the "
      "binary in; the old one is kept as <binary>.previous.");
  common(apply, true);
  apply->add_flag("--no-progress", opts->no_progress, "No progress bar on a terminal.");
  apply->footer(
      "A journal in the state directory records each step, so an apply killed at any "
      "point resumes (the download with an HTTP Range) or is undone by the next one.\n\n"
      "EXIT STATUS\n"
      "  0  done: installed, or nothing to install\n"
      "  1  the feed is rejected\n"
      "  2  usage or config error\n"
      "  3  fetching, downloading, verifying, preflight or swapping failed");
  apply->callback(
      [opts, &cli, &action] { action = [opts, &cli] { return ApplyCmd(cli, *opts); }; });
  CLI::App* status = cmd->add_subcommand(
      "status", "The last check, the highest feed seq seen, blocked versions, the journal.");
  common(status, false);
  status->callback(
      [opts, &cli, &action] { action = [opts, &cli] { return StatusCmd(cli, *opts); }; });
  CLI::App* rollback = cmd->add_subcommand(
      "rollback", "Put <binary>.previous back and block the version it replaced on this machine.");
  common(rollback, false);
  rollback->footer(
      "EXIT STATUS\n"
      "  0  rolled back\n"
      "  1  there is no previous binary\n"
      "  3  the swap failed");
  rollback->callback(
      [opts, &cli, &action] { action = [opts, &cli] { return RollbackCmd(cli, *opts); }; });
}

}  // namespace outpost::app
