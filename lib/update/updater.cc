#include "update/updater.h"

#include <algorithm>
#include <exception>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "outpost/platform/executable.h"
#include "update/feed.h"
#include "update/minisign.h"
#include "update/trusted_keys.h"
#include "util/json_text.h"
#include "util/units.h"

namespace outpost::update {
namespace fs = std::filesystem;
namespace {

constexpr char kStateFile[] = "update-state.json";
constexpr char kJournalFile[] = "update-journal.json";

Result<std::string> ReadSmallFile(const fs::path& path, uint64_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path.string());
  std::string data;
  char buf[16384];
  while (in) {
    in.read(buf, sizeof(buf));
    data.append(buf, static_cast<size_t>(in.gcount()));
    if (data.size() > max_bytes)
      return InvalidArgument(path.string() + " is larger than " + std::to_string(max_bytes) +
                             " bytes");
  }
  return data;
}

// Writes `data` to `path` so that after a crash the file is either the old one or the
// new one: a temporary file, fsynced, renamed over, the directory fsynced.
Status WriteDurable(const fs::path& path, const std::string& data) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    out.close();
    if (!out) return IoError("cannot write " + tmp.string());
  }
  std::string error;
  if (!platform::SyncPath(tmp, false, &error)) return IoError(error);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec)
    return IoError("cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message());
  if (!platform::SyncPath(path.parent_path(), true, &error)) return IoError(error);
  return Status::Ok();
}

std::string Now(const Clock& clock) { return FormatRfc3339Millis(clock.Now()); }

nlohmann::json TargetJson(const Target& t) {
  return {{"os", t.os}, {"arch", t.arch}, {"url", t.url}, {"size", t.size}, {"sha256", t.sha256}};
}

Target TargetFrom(const nlohmann::json& j) {
  Target t;
  t.os = j.value("os", "");
  t.arch = j.value("arch", "");
  t.url = j.value("url", "");
  t.size = j.value("size", uint64_t{0});
  t.sha256 = j.value("sha256", "");
  return t;
}

bool IsFileUrl(std::string_view url) { return url.rfind("file://", 0) == 0; }

fs::path FileUrlPath(std::string_view url) { return fs::path(std::string(url.substr(7))); }

}  // namespace

void Updater::Fault(std::string_view point) const {
  if (options_.fault) options_.fault(point);
}

Updater::Updater(UpdaterOptions options, const Clock& clock, const Logger& logger)
    : options_(std::move(options)), clock_(clock), log_(logger, "update") {}

fs::path Updater::StagingPath() const { return options_.binary.string() + ".download"; }
fs::path Updater::PreviousPath() const { return options_.binary.string() + ".previous"; }

// ---- state and journal ----

Result<UpdateState> Updater::LoadState() const {
  UpdateState s;
  const fs::path path = options_.state_dir / kStateFile;
  std::error_code ec;
  if (!fs::exists(path, ec)) return s;
  Result<std::string> text = ReadSmallFile(path, 1 << 20);
  if (!text.ok()) return text.status();
  try {
    const nlohmann::json j = nlohmann::json::parse(*text);
    s.feed.highest_seq = j.value("highest_seq", uint64_t{0});
    s.feed.highest_seq_digest = j.value("highest_seq_digest", "");
    s.blocked = j.value("blocked", std::vector<std::string>{});
    s.last_check_at = j.value("last_check_at", "");
    s.last_result = j.value("last_result", "");
  } catch (const std::exception& e) {
    return Corrupt(path.string() + " does not parse (" + e.what() +
                   "); remove it to start again (the highest feed seq seen is then forgotten)");
  }
  return s;
}

Status Updater::SaveState(const UpdateState& s) const {
  const nlohmann::json j = {{"highest_seq", s.feed.highest_seq},
                            {"highest_seq_digest", s.feed.highest_seq_digest},
                            {"blocked", s.blocked},
                            {"last_check_at", s.last_check_at},
                            {"last_result", s.last_result}};
  return WriteDurable(options_.state_dir / kStateFile, j.dump(2) + "\n");
}

Result<Journal> Updater::LoadJournal() const {
  Journal jn;
  const fs::path path = options_.state_dir / kJournalFile;
  std::error_code ec;
  if (!fs::exists(path, ec)) return jn;
  Result<std::string> text = ReadSmallFile(path, 1 << 20);
  if (!text.ok()) return text.status();
  try {
    const nlohmann::json j = nlohmann::json::parse(*text);
    jn.step = j.value("step", "");
    jn.from_version = j.value("from_version", "");
    jn.to_version = j.value("to_version", "");
    if (j.contains("target")) jn.target = TargetFrom(j.at("target"));
    jn.staging = j.value("staging", "");
    jn.previous = j.value("previous", "");
    jn.error = j.value("error", "");
    jn.updated_at = j.value("updated_at", "");
    jn.starts = j.value("starts", 0);
  } catch (const std::exception& e) {
    return Corrupt(path.string() + " does not parse (" + e.what() + ")");
  }
  return jn;
}

Status Updater::SaveJournal(Journal& jn) const {
  jn.updated_at = Now(clock_);
  const nlohmann::json j = {{"step", jn.step},
                            {"from_version", jn.from_version},
                            {"to_version", jn.to_version},
                            {"target", TargetJson(jn.target)},
                            {"staging", jn.staging},
                            {"previous", jn.previous},
                            {"error", jn.error},
                            {"updated_at", jn.updated_at},
                            {"starts", jn.starts}};
  return WriteDurable(options_.state_dir / kJournalFile, j.dump(2) + "\n");
}

// ---- fetching ----

Result<std::string> Updater::Fetch(const std::string& url, uint64_t max_bytes) const {
  if (IsFileUrl(url)) return ReadSmallFile(FileUrlPath(url), max_bytes);
  std::string body;
  HttpGetRequest req;
  req.url = url;
  req.max_bytes = max_bytes;
  req.on_data = [&](uint64_t offset, std::string_view data) {
    body.resize(offset);
    body.append(data);
    return true;
  };
  HttpGetResult r = HttpGet(options_.transport, req);
  if (r.too_big)
    return InvalidArgument(url + " is larger than " + std::to_string(max_bytes) + " bytes");
  if (r.status == 0) return Unavailable("cannot fetch " + url + ": " + r.error);
  if (r.status == 404) return NotFound(url + " does not exist (HTTP 404)");
  if (r.status != 200)
    return Unavailable("cannot fetch " + url + ": the server answered HTTP " +
                       std::to_string(r.status));
  return body;
}

Result<CheckOutcome> Updater::Check() {
  CheckOutcome out;
  Result<UpdateState> state = LoadState();
  if (!state.ok()) return state.status();
  std::string base;
  if (options_.from_dir) {
    std::error_code ec;
    const fs::path dir = fs::absolute(*options_.from_dir, ec);
    base = "file://" + dir.generic_string();
  } else {
    base = options_.config.feed_url;
  }
  if (base.empty())
    return InvalidArgument("no feed: set update.url in the config or give --from DIR");
  out.feed_url = ChannelFeedUrl(base, options_.config.channel);
  Result<std::string> feed = Fetch(out.feed_url, kMaxFeedBytes);
  if (!feed.ok() && feed.status().code() != Code::kInvalidArgument) return feed.status();
  Result<std::string> sig = feed.ok() ? Fetch(out.feed_url + ".minisig", kMaxSignatureBytes)
                                      : Result<std::string>(feed.status());
  // No signature file: an unsigned feed, refused as such by Evaluate.
  if (!sig.ok() && sig.status().code() == Code::kNotFound) sig = std::string();
  if (!sig.ok() && sig.status().code() != Code::kInvalidArgument) return sig.status();
  Result<std::vector<PublicKey>> keys = TrustedKeys(options_.config.trusted_keys);
  if (!keys.ok()) return keys.status().WithContext("update.public_keys");

  EvaluateInput in;
  in.channel = options_.config.channel;
  in.feed_url = out.feed_url;
  in.running_version = options_.running_version;
  in.os = options_.os;
  in.arch = options_.arch;
  in.agent_id = options_.agent_id;
  in.now = clock_.Now();
  in.trusted_keys = std::move(keys).value();
  in.state = state->feed;
  // An oversize feed or signature is refused like a bad one: the evaluation of the
  // capped bytes says why.
  out.decision = Evaluate(feed.ok() ? *feed : std::string(kMaxFeedBytes + 1, ' '),
                          sig.ok() ? *sig : std::string(kMaxSignatureBytes + 1, ' '), in);
  if (out.decision.ShouldInstall() && out.decision.feed) {
    const std::string v = out.decision.feed->release.version.ToString();
    if (std::find(state->blocked.begin(), state->blocked.end(), v) != state->blocked.end())
      out.locally_blocked = true;
  }
  state->feed = out.decision.new_state;
  state->last_check_at = Now(clock_);
  state->last_result = std::string(VerdictName(out.decision.verdict)) + ": " + out.decision.reason;
  if (Status st = SaveState(*state); !st.ok())
    log_.Warn("cannot save the update state: " + st.message());
  return out;
}

// ---- applying ----

Status Updater::Download(const Target& target,
                         const std::function<void(uint64_t, uint64_t)>& progress) {
  const fs::path staging = StagingPath();
  std::error_code ec;
  uint64_t have = fs::exists(staging, ec) ? fs::file_size(staging, ec) : 0;
  if (ec) have = 0;
  if (have > target.size) {  // longer than it can be: start again
    fs::remove(staging, ec);
    have = 0;
  }
  if (have == target.size) return Status::Ok();
  if (IsFileUrl(target.url)) {
    std::error_code cec;
    const fs::path src = FileUrlPath(target.url);
    const uint64_t size = fs::file_size(src, cec);
    if (cec) return NotFound("cannot read " + src.string() + ": " + cec.message());
    if (size != target.size)
      return Corrupt(src.string() + " has " + std::to_string(size) + " bytes; the feed says " +
                     std::to_string(target.size));
    fs::copy_file(src, staging, fs::copy_options::overwrite_existing, cec);
    if (cec) return IoError("cannot copy " + src.string() + ": " + cec.message());
    if (progress) progress(size, size);
    return Status::Ok();
  }
  std::fstream out(staging, std::ios::binary | std::ios::in | std::ios::out);
  if (!out) out.open(staging, std::ios::binary | std::ios::out | std::ios::trunc);
  if (!out) return IoError("cannot write " + staging.string());
  HttpGetRequest req;
  req.url = target.url;
  req.resume_from = have;
  req.max_bytes = target.size;  // one byte more aborts
  bool write_failed = false;
  req.on_data = [&](uint64_t offset, std::string_view data) {
    out.seekp(static_cast<std::streamoff>(offset));
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    write_failed = !out;
    if (options_.fault && offset + data.size() >= target.size / 2 && offset < target.size / 2) {
      out.flush();
      options_.fault("download");
    }
    return !write_failed;
  };
  req.on_progress = [&](uint64_t received, uint64_t) {
    if (progress) progress(received, target.size);
  };
  if (have > 0)
    log_.Info("resuming the download of " + target.url + " at byte " + std::to_string(have));
  HttpGetResult r = HttpGet(options_.transport, req);
  out.close();
  if (write_failed) return IoError("cannot write " + staging.string());
  if (r.too_big) {
    fs::remove(staging, ec);
    return Corrupt(target.url + " is longer than the " + std::to_string(target.size) +
                   " bytes the feed says; the download was stopped and deleted");
  }
  if (r.status == 0) return Unavailable("downloading " + target.url + ": " + r.error);
  if (r.status == 416) {
    // The server will not resume where we are: the next attempt starts from the start,
    // rather than asking for the same range forever.
    fs::remove(staging, ec);
    return Unavailable("downloading " + target.url +
                       ": the server refused to resume (HTTP 416); the next attempt starts again");
  }
  if (r.status != 200 && r.status != 206)
    return Unavailable("downloading " + target.url + ": the server answered HTTP " +
                       std::to_string(r.status));
  if (!r.resumed && have > 0) {
    // The server sent the whole file from the start: drop what was there beyond it.
    const uint64_t got = r.bytes;
    fs::resize_file(staging, got, ec);
  }
  return Status::Ok();
}

Status Updater::VerifyStaged(const Target& target) const {
  const fs::path staging = StagingPath();
  std::error_code ec;
  const uint64_t size = fs::file_size(staging, ec);
  if (ec) return NotFound("cannot read " + staging.string() + ": " + ec.message());
  if (size != target.size)
    return Corrupt("the download has " + std::to_string(size) + " bytes; the feed says " +
                   std::to_string(target.size));
  Result<std::string> data = ReadSmallFile(staging, kMaxBinaryBytes);
  if (!data.ok()) return data.status();
  const std::string digest = FeedDigest(*data);  // lower-case hex SHA-256
  if (digest != target.sha256)
    return Corrupt("the download's SHA-256 is " + digest + "; the feed says " + target.sha256);
  return Status::Ok();
}

Status Updater::Preflight(const std::string& version) const {
  const fs::path staging = StagingPath();
  std::string error;
  if (!platform::MakeExecutable(staging, &error)) return IoError(error);
  platform::ProgramResult r;
  if (!platform::RunProgram(staging, {"--self-test"}, options_.preflight_timeout, 4096, r, &error))
    return Unsupported(error);
  if (r.timed_out) return Corrupt("the new binary did not finish --self-test in time");
  if (r.exit_code != 0)
    return Corrupt("the new binary's --self-test exited with " + std::to_string(r.exit_code) +
                   ": " + r.output.substr(0, 300));
  // The first line: "outpost <version>".
  const std::string first = r.output.substr(0, r.output.find('\n'));
  if (first != "outpost " + version)
    return Corrupt("the new binary says \"" + first.substr(0, 100) + "\"; the feed says version " +
                   version);
  return Status::Ok();
}

Result<ApplyOutcome> Updater::Apply(const std::function<void(uint64_t, uint64_t)>& progress) {
  OUTPOST_RETURN_IF_ERROR(Resume());
  ApplyOutcome out;
  Result<CheckOutcome> check = Check();
  if (!check.ok()) return check.status();
  out.check = std::move(check).value();
  const Decision& d = out.check.decision;
  Result<Journal> loaded = LoadJournal();
  if (!loaded.ok()) return loaded.status();
  out.journal = *loaded;
  if (!d.ShouldInstall() || out.check.locally_blocked || !d.target || !d.feed) return out;
  const Target& target = *d.target;
  if (target.size > kMaxBinaryBytes)
    return InvalidArgument("the target is " + std::to_string(target.size) +
                           " bytes; outpost refuses binaries over " +
                           std::to_string(kMaxBinaryBytes));
  const std::string version = d.feed->release.version.ToString();
  if ((out.journal.step == "swapped" || out.journal.step == "healthy") &&
      out.journal.target.sha256 == target.sha256) {
    log_.Info("version " + version + " is installed already; it runs after a restart");
    return out;  // never downloaded twice
  }

  Journal jn = out.journal;
  const bool same = jn.target.sha256 == target.sha256 &&
                    (jn.step == "download" || jn.step == "verify" || jn.step == "preflight");
  if (!same) {
    std::error_code ec;
    fs::remove(StagingPath(), ec);  // another target's bytes
  }
  jn = Journal{};
  jn.from_version = options_.running_version;
  jn.to_version = version;
  jn.target = target;
  jn.staging = StagingPath().string();
  jn.previous = PreviousPath().string();
  const auto fail = [&](const Status& why) -> Result<ApplyOutcome> {
    jn.error = why.message();
    jn.step = "failed";
    (void)SaveJournal(jn);
    return why;
  };

  jn.step = "download";
  OUTPOST_RETURN_IF_ERROR(SaveJournal(jn));
  if (Status st = Download(target, progress); !st.ok()) {
    jn.error = st.message();  // the step stays "download": the next apply resumes
    (void)SaveJournal(jn);
    return st;
  }
  jn.step = "verify";
  OUTPOST_RETURN_IF_ERROR(SaveJournal(jn));
  Fault("verify");
  if (Status st = VerifyStaged(target); !st.ok()) {
    std::error_code ec;
    fs::remove(StagingPath(), ec);  // corrupt: the next apply downloads it again
    return fail(st);
  }
  jn.step = "preflight";
  OUTPOST_RETURN_IF_ERROR(SaveJournal(jn));
  Fault("preflight");
  if (Status st = Preflight(version); !st.ok()) {
    std::error_code ec;
    fs::remove(StagingPath(), ec);
    return fail(st.WithContext("preflight"));
  }
  std::string error;
  if (!platform::SyncPath(StagingPath(), false, &error)) return fail(IoError(error));
  jn.step = "swap";
  OUTPOST_RETURN_IF_ERROR(SaveJournal(jn));
  Fault("swap");
  if (!platform::KeepPrevious(options_.binary, PreviousPath(), &error)) return fail(IoError(error));
  Fault("between-renames");
  if (!platform::InstallStaged(StagingPath(), options_.binary, &error)) return fail(IoError(error));
  Fault("installed");
  jn.step = "swapped";
  jn.error.clear();
  OUTPOST_RETURN_IF_ERROR(SaveJournal(jn));
  log_.Info("updated " + options_.binary.string() + " from " + jn.from_version + " to " + version +
            "; the old binary is kept as " + PreviousPath().string());
  out.installed = true;
  out.journal = jn;
  return out;
}

Status Updater::Resume() {
  Result<Journal> loaded = LoadJournal();
  if (!loaded.ok()) return loaded.status();
  Journal jn = *loaded;
  if (jn.step != "swap") return Status::Ok();
  // Killed during the swap. The staged file is renamed last: when it is still there the
  // swap did not happen (and is redone by the next apply, from the preflight on).
  std::error_code ec;
  if (fs::exists(StagingPath(), ec)) {
    if (!fs::exists(options_.binary, ec) && fs::exists(PreviousPath(), ec)) {
      // Windows: the old binary was renamed aside, the new one not yet moved in.
      fs::rename(PreviousPath(), options_.binary, ec);
      if (ec) return IoError("cannot put " + PreviousPath().string() + " back: " + ec.message());
    }
    jn.step = "preflight";
    log_.Info("an update was stopped before its swap; the next apply redoes it");
  } else {
    jn.step = "swapped";
    log_.Info("an update was stopped after its swap; it is complete");
  }
  return SaveJournal(jn);
}

Result<bool> Updater::NoteStart() {
  Result<Journal> loaded = LoadJournal();
  if (!loaded.ok()) return loaded.status();
  Journal jn = *loaded;
  if (jn.step != "swapped" || jn.to_version != options_.running_version) return false;
  ++jn.starts;
  OUTPOST_RETURN_IF_ERROR(SaveJournal(jn));
  if (jn.starts <= kMaxUnhealthyStarts) {
    log_.Info("version " + jn.to_version + " starts (" + std::to_string(jn.starts) + " of " +
              std::to_string(kMaxUnhealthyStarts) + " before it must have been healthy for " +
              FormatDuration(options_.config.health_window) + ")");
    return false;
  }
  log_.Error("version " + jn.to_version + " started " + std::to_string(jn.starts) +
             " times without running healthy for " + FormatDuration(options_.config.health_window) +
             ": a crash loop; rolling back to the previous binary");
  Result<Journal> back =
      Rollback("started " + std::to_string(jn.starts) + " times without running healthy for " +
               FormatDuration(options_.config.health_window));
  if (!back.ok()) return back.status().WithContext("rolling back a crash-looping update");
  return true;
}

Status Updater::MarkHealthy() {
  Result<Journal> loaded = LoadJournal();
  if (!loaded.ok()) return loaded.status();
  Journal jn = *loaded;
  if (jn.step != "swapped" || jn.to_version != options_.running_version) return Status::Ok();
  jn.step = "healthy";
  OUTPOST_RETURN_IF_ERROR(SaveJournal(jn));
  log_.Info("version " + jn.to_version + " has run healthy for " +
            FormatDuration(options_.config.health_window) + "; the update is final");
  return Status::Ok();
}

Result<Journal> Updater::Rollback(std::string_view reason) {
  Result<Journal> loaded = LoadJournal();
  if (!loaded.ok()) return loaded.status();
  Journal jn = *loaded;
  std::error_code ec;
  if (!fs::exists(PreviousPath(), ec))
    return NotFound("there is no previous binary (" + PreviousPath().string() + ") to go back to");
  // The previous binary is linked to a staging name, then swapped in the usual way:
  // the bad one becomes <binary>.previous.
  const fs::path staging = StagingPath();
  fs::remove(staging, ec);
  fs::copy_file(PreviousPath(), staging, ec);
  if (ec) return IoError("cannot copy " + PreviousPath().string() + ": " + ec.message());
  std::string error;
  // The bad binary is kept under a third name while the good one moves in, then
  // becomes <binary>.previous.
  const fs::path bad = options_.binary.string() + ".rolledback";
  if (!platform::MakeExecutable(staging, &error) || !platform::SyncPath(staging, false, &error) ||
      !platform::KeepPrevious(options_.binary, bad, &error) ||
      !platform::InstallStaged(staging, options_.binary, &error))
    return IoError(error);
  fs::rename(bad, PreviousPath(), ec);
  if (ec)
    log_.Warn("cannot rename " + bad.string() + " to " + PreviousPath().string() + ": " +
              ec.message());
  Result<UpdateState> state = LoadState();
  if (state.ok() && !jn.to_version.empty() &&
      std::find(state->blocked.begin(), state->blocked.end(), jn.to_version) ==
          state->blocked.end()) {
    state->blocked.push_back(jn.to_version);
    OUTPOST_RETURN_IF_ERROR(SaveState(*state));
  }
  jn.step = "rolled_back";
  if (!reason.empty()) jn.error = std::string(reason);
  OUTPOST_RETURN_IF_ERROR(SaveJournal(jn));
  log_.Warn("rolled back " + options_.binary.string() + " to the previous binary; version " +
            jn.to_version + " is blocked on this machine" +
            (reason.empty() ? std::string() : " (" + std::string(reason) + ")"));
  return jn;
}

}  // namespace outpost::update
