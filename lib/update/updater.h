// Updater: fetches the signed release feed, decides (update_policy.h), and applies an
// update through a journal so that a kill -9 at any step resumes or undoes cleanly
// (docs/self-update.md).
//
// Steps of `apply`, each recorded in the journal (<state_dir>/update-journal.json,
// written to a temporary file, fsynced, renamed, directory fsynced) before it starts:
//   download   -> the target is fetched to <binary>.download beside the binary, resumed
//                 with an HTTP Range after an interruption, aborted past `size` bytes;
//   verify     -> exact size and SHA-256;
//   preflight  -> the staged binary is run with --self-test: it must exit 0 and print
//                 the feed's version;
//   swap       -> <binary> becomes the new one, the old one is kept as
//                 <binary>.previous (platform::KeepPrevious, InstallStaged);
//   swapped    -> the new binary is in place; it takes effect at the next start.
// Resume() (at every start of `update apply`) looks at a journal left by a killed run:
// a swap that happened is recorded as done, one that did not is redone later, a staged
// file that does not match is deleted.
//
// Also kept in the state dir (update-state.json): the highest feed seq seen and its
// digest (a feed that verifies raises it, through `check` or `apply`) and the versions
// blocked on this machine by a rollback, which are never downloaded again.
//
// Not thread-safe; one Updater at a time per state dir (the CLI takes the agent lock).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "ship/http_client.h"
#include "update/update_policy.h"
#include "util/clock.h"
#include "util/logger.h"
#include "util/status.h"

namespace outpost::update {

// Larger targets are refused before anything is downloaded.
inline constexpr uint64_t kMaxBinaryBytes = 256ull << 20;

struct UpdaterOptions {
  UpdateConfig config;
  TransportOptions transport;  // TLS, proxy and timeouts for the feed and the download
  std::filesystem::path state_dir;
  std::filesystem::path binary;  // the installed binary (the running one, by default)
  std::string running_version;
  std::string os, arch, agent_id;
  // A directory with <channel>.json, <channel>.json.minisig and the binaries, instead
  // of update.url (air-gapped machines).
  std::optional<std::filesystem::path> from_dir;
  std::chrono::milliseconds preflight_timeout{30000};
  // Fault injection for the crash tests: called at each named point of an apply
  // ("download" halfway through the bytes, "verify", "preflight", "swap",
  // "between-renames", "installed"); the test's hook ends the process there.
  std::function<void(std::string_view point)> fault;
};

// What the state dir remembers between runs.
struct UpdateState {
  FeedState feed;
  std::vector<std::string> blocked;  // versions rolled back on this machine
  std::string last_check_at;         // RFC 3339
  std::string last_result;           // verdict name and reason of the last check
};

// The journal of an update in progress (or the last one).
struct Journal {
  std::string step;  // "download", "verify", "preflight", "swap", "swapped", "failed",
                     // "rolled_back"; empty: no update ever
  std::string from_version, to_version;
  Target target;
  std::string staging, previous;  // paths
  std::string error;              // why it failed
  std::string updated_at;         // RFC 3339
  int starts = 0;                 // starts of the new binary while "swapped"
};

// More starts than this before the new binary is confirmed healthy is a crash loop.
inline constexpr int kMaxUnhealthyStarts = 3;

struct CheckOutcome {
  std::string feed_url;  // where it was fetched from
  Decision decision;
  bool locally_blocked = false;  // the release was rolled back here before
};

struct ApplyOutcome {
  CheckOutcome check;
  bool installed = false;  // the new binary is in place
  Journal journal;
};

class Updater {
 public:
  Updater(UpdaterOptions options, const Clock& clock, const Logger& logger);

  // Fetches and evaluates the feed and saves the raised feed state. A feed that could
  // not be fetched is kUnavailable; a rejected feed is a CheckOutcome whose decision
  // says kRejected.
  Result<CheckOutcome> Check();

  // Check(), then download, verify, preflight and swap when the decision says so.
  // `progress(received, total)` is called while downloading.
  Result<ApplyOutcome> Apply(const std::function<void(uint64_t, uint64_t)>& progress = {});

  // Puts <binary>.previous back and blocks the version it replaces on this machine;
  // `reason` (why, for `update status`) is kept in the journal's error.
  Result<Journal> Rollback(std::string_view reason = {});

  // Finishes or undoes what a killed run left (see the file comment).
  Status Resume();

  // Health of a new binary (journal step "swapped", to_version = the running version).
  // NoteStart is called first thing by `outpost run`: it counts the start and, past
  // kMaxUnhealthyStarts, rolls back (returns true: this process should exit so that the
  // service manager starts the previous binary). MarkHealthy makes the update final
  // (step "healthy") once the agent has run update.health_window.
  Result<bool> NoteStart();
  Status MarkHealthy();

  // The agent id (rollout bucket), when it was not known at construction.
  void set_agent_id(std::string id) { options_.agent_id = std::move(id); }

  Result<UpdateState> LoadState() const;
  Result<Journal> LoadJournal() const;

  const std::filesystem::path& binary() const { return options_.binary; }
  std::filesystem::path StagingPath() const;
  std::filesystem::path PreviousPath() const;

 private:
  Result<std::string> Fetch(const std::string& url, uint64_t max_bytes) const;
  Status SaveState(const UpdateState& state) const;
  Status SaveJournal(Journal& journal) const;
  Status Download(const Target& target, const std::function<void(uint64_t, uint64_t)>& progress);
  Status VerifyStaged(const Target& target) const;
  Status Preflight(const std::string& version) const;
  void Fault(std::string_view point) const;

  UpdaterOptions options_;
  const Clock& clock_;
  ComponentLogger log_;
};

}  // namespace outpost::update
