// The schema of outpost.toml, declared once: every key with its type, default and
// documentation, and the checks that span several keys. Parsing, `config show`,
// `config init`, `config schema` and docs/config.md all come from these calls.
#include "config/config_schema.h"

#include <algorithm>
#include <regex>

#include <set>
#include "outpost/platform/file_security.h"

namespace outpost::config_internal {
namespace {

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

bool ValidId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!IsIdChar(c)) return false;
  return true;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// A file the config names must exist and be a regular file (checked at load time, so
// `config check` catches a typo before the agent needs the file).
void RequireFile(TableReader& t, std::string_view key, const std::filesystem::path& path) {
  if (t.describe() || path.empty()) return;
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  std::string why;
  if (ec || !std::filesystem::exists(st))
    why = "no such file";
  else if (!std::filesystem::is_regular_file(st))
    why = "not a regular file";
  if (!why.empty())
    t.context().Error(t.where(key), t.KeyPath(key),
                      "'" + t.KeyPath(key) + "' names " + path.string() + ": " + why);
}

void ReadAgent(TableReader& t, AgentConfig& a, const ConfigParseOptions& opts) {
  a.id = t.String("id", "",
                  "Agent id sent with every record and in the Idempotency-Key header. Empty: a "
                  "random 128-bit id is generated once and kept in buffer.db. Letters, digits, "
                  "'.', '_' and '-', at most 64.");
  if (!a.id.empty() && !ValidId(a.id))
    t.context().Error(t.where("id"), t.KeyPath("id"),
                      "'agent.id' may hold only letters, digits, '.', '_' and '-' (1 to 64)");
  a.hostname = t.String("hostname", "", "Host name put in records. Empty: the OS host name.");
  a.state_dir = t.Path("state_dir", opts.default_state_dir,
                       "Directory for buffer.db and the agent's own state. Default per OS: "
                       "/var/lib/outpost, /Library/Application Support/outpost/state, "
                       "%ProgramData%\\outpost\\state. --state-dir overrides it.");
  static const std::vector<std::string> kLevels = {"trace", "debug", "info",
                                                   "warn",  "error", "off"};
  a.log_level = static_cast<LogLevel>(t.Enum(
      "log_level", 2, kLevels, "Least severe level the agent logs. --log-level overrides it."));
  a.log_format = static_cast<LogFormat>(t.Enum(
      "log_format", 0, {"text", "json"},
      "Agent log format: text lines, or one JSON object per line. --log-format overrides it."));
  a.fields = t.StringMap("fields", "Static fields added to every record, e.g. { env = \"prod\" }.");
  a.log_file = t.String("log_file", a.log_file,
                        "outpost run's own log, also written to this file (relative to "
                        "state_dir) when stderr is not a terminal. Empty: no file.");
  a.log_max_bytes =
      t.Size("log_max_bytes", a.log_max_bytes,
             "The log file is rotated (<file>.1, .2, ...) when it would pass this.", 64 << 10);
  a.log_keep = static_cast<int>(
      t.Int("log_keep", a.log_keep, 1, 20, "Rotated log files kept (the oldest is deleted)."));
  a.nice = static_cast<int>(t.Int("nice", a.nice, -20, 19,
                                  "CPU scheduling priority of outpost run (POSIX nice: 19 is the "
                                  "lowest; Windows: above 0 is below-normal priority)."));
  a.io_priority = static_cast<AgentConfig::IoPriority>(
      t.Enum("io_priority", 0, {"normal", "low", "idle"},
             "Disk I/O priority of outpost run (Linux ionice: low = best-effort 7, idle = only "
             "when the disk is otherwise idle)."));
}

void ReadBuffer(TableReader& t, BufferConfig& b) {
  b.max_bytes = t.Size("max_bytes", b.max_bytes,
                       "Cap on buffer.db. When full, file and journal sources pause (their data "
                       "stays on disk); other streams drop their oldest chunks, counted in status.",
                       1ULL << 20);
  b.durability = static_cast<Durability>(t.Enum(
      "durability", 0, {"crash", "power"},
      "\"crash\": survives a killed process (SQLite synchronous=NORMAL). \"power\": survives "
      "power loss too (synchronous=FULL), at a cost in write speed."));
  b.chunk_max_bytes =
      t.Size("chunk_max_bytes", b.chunk_max_bytes,
             "A chunk is sealed when its raw (uncompressed) records reach this size.", 1ULL << 10);
  b.chunk_max_age =
      t.Dur("chunk_max_age", b.chunk_max_age,
            "A chunk is sealed when its oldest record is this old.", std::chrono::milliseconds(10));
  b.compression_level = static_cast<int>(
      t.Int("compression_level", b.compression_level, 1, 22,
            "zstd level for sealed chunks: 1 (the default) compresses NDJSON logs within a few "
            "per cent of 3 for about a quarter less CPU end to end (docs/performance.md); "
            "higher levels trade CPU for smaller chunks."));
  if (!t.describe() && b.chunk_max_bytes > b.max_bytes)
    t.context().Error(t.where("chunk_max_bytes"), t.KeyPath("chunk_max_bytes"),
                      "'buffer.chunk_max_bytes' (" + FormatSize(b.chunk_max_bytes) +
                          ") is larger than 'buffer.max_bytes' (" + FormatSize(b.max_bytes) + ")");
}

void ReadMultiline(TableReader& t, MultilineConfig& m) {
  m.start = t.String("start", "",
                     "Regular expression (ECMAScript) that matches the first line of a record; "
                     "lines that do not match are joined to the record before them.",
                     {.required = true});
  if (!t.describe() && !m.start.empty()) {
    try {
      std::regex re(m.start);
    } catch (const std::regex_error& e) {
      t.context().Error(
          t.where("start"), t.KeyPath("start"),
          "'" + t.KeyPath("start") + "' is not a valid regular expression: " + e.what());
    }
  }
  m.max_lines = t.Int("max_lines", m.max_lines, 1, 100000,
                      "Most lines joined into one record; the next line starts a new one.");
  m.timeout = t.Dur("timeout", m.timeout,
                    "A record is complete when no line has followed it for this long.",
                    std::chrono::milliseconds(1));
}

void ReadFileSource(TableReader& t, int index, FileSourceConfig& f) {
  f.name = t.String("name", t.describe() ? "" : "file." + std::to_string(index),
                    "Stream name for this source's records. Default: \"file.<n>\" (n counts "
                    "from 0 in file order).");
  if (!t.describe() && !ValidId(f.name))
    t.context().Error(
        t.where("name"), t.KeyPath("name"),
        "'" + t.KeyPath("name") + "' may hold only letters, digits, '.', '_' and '-'");
  f.paths = t.StringList("paths",
                         "Files to tail: paths or globs (*, ?, [...], and ** across directories), "
                         "relative to the config file's directory unless absolute. New matching "
                         "files are picked up while running.",
                         {.required = true});
  f.exclude =
      t.StringList("exclude",
                   "Globs of files not to tail, even if a path matches. Without a '/' a glob "
                   "matches file names anywhere (\"*.gz\").");
  // Relative globs are relative to the config file's directory, like every other path.
  // An exclude without a separator matches a name anywhere ("*.gz" means "**/*.gz");
  // one starting with "**" matches anywhere already.
  for (std::string& g : f.paths) g = t.Resolve(g).string();
  for (std::string& g : f.exclude) {
    if (g.find_first_of("/\\") == std::string::npos)
      g = "**/" + g;
    else if (g.rfind("**", 0) != 0)
      g = t.Resolve(g).string();
  }
  f.start_at = static_cast<StartAt>(
      t.Enum("start_at", 0, {"end", "beginning"},
             "Where to start in a file seen for the first time. A stored checkpoint always wins."));
  f.max_line_bytes = t.Size("max_line_bytes", f.max_line_bytes,
                            "Longer lines are cut to this size and marked truncated: true.", 256);
  f.encoding = static_cast<TextEncoding>(t.Enum(
      "encoding", 0, {"utf-8", "utf-16le", "utf-16be", "latin1"}, "Text encoding of the files."));
  f.fields = t.StringMap("fields", "Static fields added to this source's records.");
  f.poll_interval = t.Dur("poll_interval", f.poll_interval,
                          "How often to look for changes where change notification is not "
                          "available.",
                          std::chrono::milliseconds(10));
  t.Table("multiline", "Joining continuation lines (stack traces) into one record.",
          [&](TableReader& m, bool present) {
            // Optional, like [output]: absent means off, and `config show` leaves it out.
            if (!present && !m.describe()) return;
            MultilineConfig mc;
            ReadMultiline(m, mc);
            if (present) f.multiline = mc;
          });
}

// Journal priorities, 0 (emerg) to 7 (debug), as journalctl --priority names them.
const std::vector<std::string>& PriorityNames() {
  static const std::vector<std::string> names = {"emerg",   "alert",  "crit", "err",
                                                 "warning", "notice", "info", "debug"};
  return names;
}

void ReadJournalSource(TableReader& t, int index, JournalSourceConfig& j) {
  j.name = t.String("name", t.describe() ? "" : "journal." + std::to_string(index),
                    "Stream name for this source's records. Default: \"journal.<n>\" (n counts "
                    "from 0 in file order).");
  if (!t.describe() && !ValidId(j.name))
    t.context().Error(
        t.where("name"), t.KeyPath("name"),
        "'" + t.KeyPath("name") + "' may hold only letters, digits, '.', '_' and '-'");
  j.units = t.StringList("units",
                         "Only entries of these systemd units (journalctl --unit, e.g. "
                         "\"sshd.service\"). Empty: every unit.");
  const std::string priority = t.String(
      "priority", "",
      "Only entries of this priority or more urgent (journalctl --priority): a name (emerg, "
      "alert, crit, err, warning, notice, info, debug) or \"0\" to \"7\", as a string. Empty: "
      "all.");
  if (!t.describe() && !priority.empty()) {
    const auto& names = PriorityNames();
    const auto it = std::find(names.begin(), names.end(), priority);
    if (it != names.end())
      j.priority = static_cast<int>(it - names.begin());
    else if (priority.size() == 1 && priority[0] >= '0' && priority[0] <= '7')
      j.priority = priority[0] - '0';
    else
      t.context().Error(t.where("priority"), t.KeyPath("priority"),
                        "'" + t.KeyPath("priority") + "' must be a priority name or \"0\" to " +
                            "\"7\", found \"" + priority + "\"",
                        "use one of emerg, alert, crit, err, warning, notice, info, debug");
  }
  j.identifiers = t.StringList(
      "identifiers",
      "Only entries with these SYSLOG_IDENTIFIER values (journalctl --identifier). Empty: all.");
  j.journalctl = t.String("journalctl", j.journalctl,
                          "The journalctl program: a name looked up in PATH, or a path (a "
                          "relative path is resolved against the config file's directory).");
  if (!t.describe() && j.journalctl.empty())
    t.context().Error(t.where("journalctl"), t.KeyPath("journalctl"),
                      "'" + t.KeyPath("journalctl") + "' may not be empty");
  if (!t.describe() && j.journalctl.find('/') != std::string::npos)
    j.journalctl = t.Resolve(j.journalctl).string();
  j.read_from = static_cast<JournalReadFrom>(
      t.Enum("read_from", 0, {"tail", "head"},
             "Where the source's first run starts: \"tail\" (entries from now on) or \"head\" "
             "(everything the journal holds). A stored cursor always wins."));
  j.max_message_bytes =
      t.Size("max_message_bytes", j.max_message_bytes,
             "Longer MESSAGE values are cut to this size and marked truncated: true.", 256);
  j.fields = t.StringMap("fields", "Static fields added to this source's records.");
}

void ReadEventLogSource(TableReader& t, int index, EventLogSourceConfig& e) {
  e.name = t.String("name", t.describe() ? "" : "eventlog." + std::to_string(index),
                    "Stream name for this source's records. Default: \"eventlog.<n>\" (n "
                    "counts from 0 in file order).");
  if (!t.describe() && !ValidId(e.name))
    t.context().Error(
        t.where("name"), t.KeyPath("name"),
        "'" + t.KeyPath("name") + "' may hold only letters, digits, '.', '_' and '-'");
  e.channel = t.String("channel", "",
                       "The event log channel: \"System\", \"Application\", \"Security\", "
                       "\"Microsoft-Windows-Sysmon/Operational\", ... (wevtutil el lists them).",
                       {.required = true});
  if (!t.describe()) {
    const bool control = std::any_of(e.channel.begin(), e.channel.end(),
                                     [](char c) { return static_cast<unsigned char>(c) < 0x20; });
    if (e.channel.size() > 255 || control)
      t.context().Error(t.where("channel"), t.KeyPath("channel"),
                        "'" + t.KeyPath("channel") +
                            "' must be a channel name (at most 255 characters, no control "
                            "characters)");
  }
  e.query = t.String("query", e.query,
                     "XPath filter over the channel's events (as in Event Viewer's XML filter), "
                     "e.g. \"*[System[(Level=1 or Level=2) and (EventID=7036)]]\", or a whole "
                     "<QueryList> document. \"*\": every event.");
  if (!t.describe() && (e.query.empty() || e.query.size() > (64 << 10)))
    t.context().Error(t.where("query"), t.KeyPath("query"),
                      "'" + t.KeyPath("query") + "' must be an XPath of 1 byte to 64 KiB",
                      "use \"*\" for every event");
  e.read_from = static_cast<EventLogReadFrom>(
      t.Enum("read_from", 0, {"tail", "head"},
             "Where the source's first run starts: \"tail\" (events from now on) or \"head\" "
             "(every event the channel holds). A stored bookmark always wins."));
  e.max_message_bytes = t.Size(
      "max_message_bytes", e.max_message_bytes,
      "Longer messages (and event data values) are cut to this size and marked truncated: true.",
      256);
  e.fields = t.StringMap("fields", "Static fields added to this source's records.");
}

void ReadUnifiedLogSource(TableReader& t, int index, UnifiedLogSourceConfig& u) {
  u.name = t.String("name", t.describe() ? "" : "unifiedlog." + std::to_string(index),
                    "Stream name for this source's records. Default: \"unifiedlog.<n>\" (n "
                    "counts from 0 in file order).");
  if (!t.describe() && !ValidId(u.name))
    t.context().Error(
        t.where("name"), t.KeyPath("name"),
        "'" + t.KeyPath("name") + "' may hold only letters, digits, '.', '_' and '-'");
  u.predicate = t.String("predicate", "",
                         "Only entries matching this predicate (log --predicate), e.g. "
                         "\"subsystem == 'com.apple.securityd'\" or \"process == 'sshd'\". "
                         "Empty: every entry.");
  if (!t.describe() && u.predicate.size() > (64 << 10))
    t.context().Error(t.where("predicate"), t.KeyPath("predicate"),
                      "'" + t.KeyPath("predicate") + "' must be at most 64 KiB");
  u.level = static_cast<UnifiedLogLevel>(
      t.Enum("level", 0, {"default", "info", "debug"},
             "The least important message type read: \"default\" (default, error and fault), "
             "\"info\" (log --info) or \"debug\" (log --debug)."));
  u.read_from = static_cast<UnifiedLogReadFrom>(
      t.Enum("read_from", 0, {"tail", "head"},
             "Where the source's first run starts: \"tail\" (entries from now on) or \"head\" "
             "(everything the unified log still holds). A stored position always wins."));
  u.log = t.String("log", u.log,
                   "The log program (macOS: /usr/bin/log): a name looked up in PATH, or a path "
                   "(a relative path is resolved against the config file's directory). Set to "
                   "another program that speaks log's stream and show --style ndjson, the "
                   "source runs on any Unix.");
  if (!t.describe() && u.log.empty())
    t.context().Error(t.where("log"), t.KeyPath("log"),
                      "'" + t.KeyPath("log") + "' may not be empty");
  if (!t.describe() && u.log.find('/') != std::string::npos) u.log = t.Resolve(u.log).string();
  u.max_message_bytes =
      t.Size("max_message_bytes", u.max_message_bytes,
             "Longer eventMessage values are cut to this size and marked truncated: true.", 256);
  u.fields = t.StringMap("fields", "Static fields added to this source's records.");
}

void ReadOutput(TableReader& t, OutputConfig& o) {
  o.type = static_cast<OutputType>(
      t.Enum("type", 0, {"native", "otlp", "loki", "elasticsearch", "splunk_hec"},
             "Wire format. \"native\" sends stored chunks as they are (NDJSON, zstd)."));
  o.endpoint = t.String("endpoint", "",
                        "URL to send to (https://; http:// only for a relay on the same host).",
                        {.required = true});
  if (!t.describe() && !o.endpoint.empty()) {
    if (StartsWith(o.endpoint, "http://")) {
      t.context().Warning(t.where("endpoint"), t.KeyPath("endpoint"),
                          "'output.endpoint' is plain http://: records travel unencrypted",
                          "use https:// unless the receiver is a relay on this host");
    } else if (!StartsWith(o.endpoint, "https://")) {
      t.context().Error(
          t.where("endpoint"), t.KeyPath("endpoint"),
          "'output.endpoint' must start with https:// (or http://), found \"" + o.endpoint + "\"");
    }
  }
  o.token = t.String(
      "token", "",
      "Bearer token. Never logged or shown. A config holding it must be private (chmod 600).",
      {.secret = true});
  o.token_file = t.Path("token_file", "",
                        "File whose first line is the bearer token (kept private, chmod 600).");
  if (!t.describe() && !o.token_file.empty()) {
    const platform::FilePrivacy p = platform::CheckFilePrivacy(o.token_file);
    if (p.supported && !p.checked)
      t.context().Error(
          t.where("token_file"), t.KeyPath("token_file"),
          "cannot read 'output.token_file' " + o.token_file.string() + ": " + p.detail);
    else if (p.exposed)
      t.context().Error(
          t.where("token_file"), t.KeyPath("token_file"),
          "'output.token_file' " + o.token_file.string() + " holds a secret but " + p.detail,
          "fix: " + p.fix);
  }
  if (!t.describe() && !o.token.empty() && !o.token_file.empty())
    t.context().Error(t.where("token_file"), t.KeyPath("token_file"),
                      "set either 'output.token' or 'output.token_file', not both");
  o.ca_file = t.Path("ca_file", "",
                     "PEM file of CAs to trust instead of the system's (probed per OS: "
                     "/etc/ssl/certs/ca-certificates.crt and others on Linux; the system "
                     "store on Windows).");
  RequireFile(t, "ca_file", o.ca_file);
  o.client_cert = t.Path("client_cert", "", "PEM client certificate for mutual TLS.");
  RequireFile(t, "client_cert", o.client_cert);
  o.client_key = t.Path("client_key", "", "PEM private key of client_cert.");
  RequireFile(t, "client_key", o.client_key);
  o.client_key_passphrase =
      t.String("client_key_passphrase", "", "Passphrase of client_key.", {.secret = true});
  if (!t.describe() && o.client_cert.empty() != o.client_key.empty())
    t.context().Error(
        t.where(o.client_cert.empty() ? "client_key" : "client_cert"), t.KeyPath("client_cert"),
        "'output.client_cert' and 'output.client_key' go together; set both or neither");
  o.pinned_pubkey = t.String("pinned_pubkey", "",
                             "Public-key pin(s) of the server, \"sha256//<base64>\"; several "
                             "joined with ';'.");
  if (!t.describe() && !o.pinned_pubkey.empty() && !StartsWith(o.pinned_pubkey, "sha256//"))
    t.context().Error(t.where("pinned_pubkey"), t.KeyPath("pinned_pubkey"),
                      "'output.pinned_pubkey' must start with \"sha256//\"");
  o.insecure_skip_verify = t.Bool("insecure_skip_verify", false,
                                  "Skip TLS certificate verification. For tests only; warned "
                                  "about at every start.");
  if (o.insecure_skip_verify)
    t.context().Warning(
        t.where("insecure_skip_verify"), t.KeyPath("insecure_skip_verify"),
        "'output.insecure_skip_verify' is true: the server's identity is not checked");
  o.proxy = t.String(
      "proxy", "", "Proxy URL. Empty: HTTPS_PROXY and NO_PROXY from the environment are honoured.");
  o.proxy_username = t.String("proxy_username", "", "Proxy user name.");
  o.proxy_password = t.String("proxy_password", "", "Proxy password.", {.secret = true});
  o.max_in_flight = t.Int("max_in_flight", o.max_in_flight, 1, 64, "Requests in flight at once.");
  o.timeout = t.Dur("timeout", o.timeout, "Whole-request time limit.", std::chrono::seconds(1));
  o.connect_timeout = t.Dur("connect_timeout", o.connect_timeout, "Connection time limit.",
                            std::chrono::milliseconds(100));
  o.max_request_bytes = t.Size("max_request_bytes", o.max_request_bytes,
                               "Largest request body; bigger chunks are split.", 1ULL << 10);
  o.rate_limit = t.Size("rate_limit", 0, "Upload limit in bytes per second; 0 is unlimited.");
  o.compression = static_cast<Compression>(
      t.Enum("compression", 0, {"auto", "zstd", "gzip", "none"},
             "Request body compression for outputs that re-encode (native always sends zstd). "
             "\"auto\": gzip, which every such endpoint accepts; \"zstd\": otlp only."));
  if (!t.describe() && o.compression == Compression::kZstd &&
      (o.type == OutputType::kLoki || o.type == OutputType::kElasticsearch ||
       o.type == OutputType::kSplunkHec))
    t.context().Error(t.where("compression"), t.KeyPath("compression"),
                      "'output.compression' = \"zstd\" is not accepted by this output type's "
                      "endpoints; use \"gzip\" or \"none\"");
  o.index = t.String("index", "",
                     "elasticsearch: index or data stream (default \"outpost\"); splunk_hec: "
                     "index (default: the token's).");
  o.sourcetype =
      t.String("sourcetype", "", "splunk_hec: sourcetype of the events (default \"_json\").");
  o.labels = t.StringList("labels",
                          "loki: record fields (static fields such as \"env\") that become "
                          "stream labels besides stream, host and source. Never the message.");
  if (!t.describe()) {
    for (const std::string& l : o.labels) {
      if (l == "message" || l == "@timestamp" || l == "offset")
        t.context().Error(t.where("labels"), t.KeyPath("labels"),
                          "'output.labels' may not hold \"" + l +
                              "\": a label per value would make a stream per line");
      else if (!ValidId(l))
        t.context().Error(t.where("labels"), t.KeyPath("labels"),
                          "'output.labels' entry \"" + l +
                              "\" is not a field name (letters, digits, '.', '_', '-')");
    }
    if (o.labels.size() > 10)
      t.context().Error(t.where("labels"), t.KeyPath("labels"),
                        "'output.labels' holds " + std::to_string(o.labels.size()) +
                            " fields; at most 10 keep Loki's stream count bounded");
  }
  t.Table("retry", "Backoff between attempts: exponential with full jitter.",
          [&](TableReader& r, bool) {
            o.retry.initial =
                r.Dur("initial", o.retry.initial, "First backoff.", std::chrono::milliseconds(10));
            o.retry.max =
                r.Dur("max", o.retry.max, "Longest backoff.", std::chrono::milliseconds(10));
            if (!r.describe() && o.retry.initial > o.retry.max)
              r.context().Error(r.where("initial"), r.KeyPath("initial"),
                                "'output.retry.initial' (" + FormatDuration(o.retry.initial) +
                                    ") is longer than 'output.retry.max' (" +
                                    FormatDuration(o.retry.max) + ")");
          });
}

void ReadChecks(TableReader& t, ChecksConfig& c) {
  c.enabled = t.Bool("enabled", c.enabled, "Run the policies' checks on their schedule.");
  c.policies = t.PathList("policies", "Policy files (TOML, [[check]] entries).");
  for (size_t i = 0; i < c.policies.size(); ++i) RequireFile(t, "policies", c.policies[i]);
  c.interval = t.Dur("interval", c.interval, "Interval for checks that do not set their own.",
                     std::chrono::seconds(1));
  c.snapshot_interval =
      t.Dur("snapshot_interval", c.snapshot_interval,
            "Results are sent when they change, and all of them at this interval.",
            std::chrono::minutes(1));
  c.query_timeout = t.Dur("query_timeout", c.query_timeout, "Time limit of one check's query.",
                          std::chrono::milliseconds(10));
  c.max_rows = t.Int("max_rows", c.max_rows, 1, 10000000, "Row limit of one check's query.");
}

void ReadInventory(TableReader& t, int index, InventoryQueryConfig& q) {
  q.name = t.String("name", t.describe() ? "" : "inventory." + std::to_string(index),
                    "Name of this inventory query, in each of its records. Default: "
                    "\"inventory.<n>\" (n counts from 0 in file order).");
  if (!t.describe() && !ValidId(q.name))
    t.context().Error(
        t.where("name"), t.KeyPath("name"),
        "'" + t.KeyPath("name") + "' may hold only letters, digits, '.', '_' and '-'");
  q.query = t.String("query", "",
                     "SQL over the device tables (outpost tables). Rows added and removed since "
                     "the last run are sent to stream \"inventory\"; all rows on the first run.",
                     {.required = true});
  q.interval = t.Dur("interval", q.interval, "How often the query runs.", std::chrono::seconds(1));
  q.platforms = t.StringList("platforms",
                             "Operating systems it runs on: linux, windows, macos, posix, all "
                             "(default).");
  for (const std::string& p : q.platforms)
    if (!t.describe() && p != "linux" && p != "windows" && p != "macos" && p != "posix" &&
        p != "all")
      t.context().Error(t.where("platforms"), t.KeyPath("platforms"),
                        "unknown platform \"" + p + "\"",
                        "use linux, windows, macos, posix or all");
}

void ReadUpdate(TableReader& t, UpdateConfig& u) {
  u.enabled = t.Bool("enabled", u.enabled, "Check the release feed and update on schedule.");
  u.channel = t.String("channel", u.channel, "Release channel: <url>/<channel>.json.");
  if (!t.describe() && !ValidId(u.channel))
    t.context().Error(t.where("channel"), t.KeyPath("channel"),
                      "'update.channel' may hold only letters, digits, '.', '_' and '-'");
  u.feed_url = t.String("url", "",
                        "Base URL of the signed release feed (<url>/<channel>.json and "
                        "<channel>.json.minisig), served by any web server or CDN.");
  if (!t.describe() && u.enabled && u.feed_url.empty())
    t.context().Error(t.where("enabled"), t.KeyPath("url"),
                      "'update.enabled' is true but 'update.url' is not set");
  if (!t.describe() && !u.feed_url.empty() && !StartsWith(u.feed_url, "https://") &&
      !StartsWith(u.feed_url, "http://"))
    t.context().Error(t.where("url"), t.KeyPath("url"),
                      "'update.url' must be an https:// (or http://) URL");
  u.interval = t.Dur("interval", u.interval, "How often to fetch the feed (with jitter).",
                     std::chrono::minutes(1));
  u.trusted_keys = t.StringList("public_keys",
                                "minisign public keys (the second line of a .pub file) trusted in "
                                "addition to the built-in key set.");
  u.health_window = t.Dur("health_window", u.health_window,
                          "How long a new binary must run healthy before the update is final.",
                          std::chrono::seconds(5));
  u.ca_file =
      t.Path("ca_file", "", "CA certificates (PEM) for the feed's server; empty: the system CAs.");
  if (!t.describe() && !u.ca_file.empty()) RequireFile(t, "ca_file", u.ca_file);
}

void ReadLimits(TableReader& t, LimitsConfig& l) {
  l.max_cpu_percent = t.Int(
      "max_cpu_percent", l.max_cpu_percent, 0, 6400,
      "Average CPU the agent may use, in percent of one core (all its threads; 150 = one and "
      "a half cores); 0: no limit. Above it the sources read more slowly: their data waits in "
      "the files and the journal, nothing is dropped.");
  l.max_memory = t.Size("max_memory", l.max_memory,
                        "Resident memory the agent may use; 0: no limit. Above it the sources "
                        "pause and caches are given back until it is under 90% of this.",
                        0);
  if (!t.describe() && l.max_memory != 0 && l.max_memory < (16ULL << 20))
    t.context().Error(t.where("max_memory"), t.KeyPath("max_memory"),
                      "'limits.max_memory' (" + FormatSize(l.max_memory) +
                          ") is below the 16 MiB the agent needs to run",
                      "set it to 16MiB or more, or 0 for no limit");
}

// Each element of an array of tables ([[source.file]], [[inventory]]) needs its own name.
template <typename T>
void ReportDuplicateNames(TableReader& root, const std::vector<T>& items,
                          const std::vector<toml::source_region>& name_at, std::string_view array,
                          std::string_view what) {
  if (root.describe()) return;
  std::set<std::string> names;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!names.insert(items[i].name).second)
      root.context().Error(name_at[i], std::string(array) + "[" + std::to_string(i) + "].name",
                           std::string(what) + " are named \"" + items[i].name + "\"",
                           "give each [[" + std::string(array) + "]] its own name");
  }
}

}  // namespace

void ReadConfigDocument(TableReader& root, Config& cfg, const ConfigParseOptions& options) {
  root.Table("agent", "Identity, state and the agent's own log.",
             [&](TableReader& t, bool) { ReadAgent(t, cfg.agent, options); });
  root.Table("buffer", "The local store (buffer.db) and how records become chunks.",
             [&](TableReader& t, bool) { ReadBuffer(t, cfg.buffer); });
  std::vector<toml::source_region> name_at;
  std::vector<toml::source_region> journal_at;
  std::vector<toml::source_region> eventlog_at;
  std::vector<toml::source_region> unifiedlog_at;
  root.Table("source", "Log sources.", [&](TableReader& s, bool) {
    s.ArrayOfTables("file", "One file source: a set of files tailed into one stream.",
                    [&](TableReader& t, int index) {
                      FileSourceConfig f;
                      ReadFileSource(t, index, f);
                      if (t.describe()) return;
                      name_at.push_back(t.where("name"));
                      cfg.file_sources.push_back(std::move(f));
                    });
    s.ArrayOfTables("journal",
                    "One journal source: the systemd journal (Linux), read through journalctl.",
                    [&](TableReader& t, int index) {
                      JournalSourceConfig j;
                      ReadJournalSource(t, index, j);
                      if (t.describe()) return;
                      journal_at.push_back(t.where("name"));
                      cfg.journal_sources.push_back(std::move(j));
                    });
    s.ArrayOfTables("eventlog",
                    "One event log source: a Windows Event Log channel, read through wevtapi.",
                    [&](TableReader& t, int index) {
                      EventLogSourceConfig e;
                      ReadEventLogSource(t, index, e);
                      if (t.describe()) return;
                      eventlog_at.push_back(t.where("name"));
                      cfg.eventlog_sources.push_back(std::move(e));
                    });
    s.ArrayOfTables("unifiedlog",
                    "One unified log source: the macOS unified log, read through "
                    "`log stream --style ndjson`.",
                    [&](TableReader& t, int index) {
                      UnifiedLogSourceConfig u;
                      ReadUnifiedLogSource(t, index, u);
                      if (t.describe()) return;
                      unifiedlog_at.push_back(t.where("name"));
                      cfg.unifiedlog_sources.push_back(std::move(u));
                    });
  });
  ReportDuplicateNames(root, cfg.file_sources, name_at, "source.file", "two file sources");
  ReportDuplicateNames(root, cfg.journal_sources, journal_at, "source.journal",
                       "two journal sources");
  // Checkpoints are kept per stream name: a journal source may not share one with a
  // file source.
  if (!root.describe()) {
    for (size_t i = 0; i < cfg.journal_sources.size(); ++i)
      for (const FileSourceConfig& f : cfg.file_sources)
        if (f.name == cfg.journal_sources[i].name)
          root.context().Error(journal_at[i], "source.journal[" + std::to_string(i) + "].name",
                               "a file source and a journal source are named \"" + f.name + "\"",
                               "give each source its own name");
  }
  ReportDuplicateNames(root, cfg.eventlog_sources, eventlog_at, "source.eventlog",
                       "two event log sources");
  // Checkpoints are kept per stream name: an event log source's is its own too.
  if (!root.describe()) {
    std::set<std::string> others;
    for (const FileSourceConfig& f : cfg.file_sources) others.insert(f.name);
    for (const JournalSourceConfig& j : cfg.journal_sources) others.insert(j.name);
    for (size_t i = 0; i < cfg.eventlog_sources.size(); ++i)
      if (others.count(cfg.eventlog_sources[i].name))
        root.context().Error(eventlog_at[i], "source.eventlog[" + std::to_string(i) + "].name",
                             "an event log source shares the name \"" +
                                 cfg.eventlog_sources[i].name + "\" with another source",
                             "give each source its own name");
  }
  ReportDuplicateNames(root, cfg.unifiedlog_sources, unifiedlog_at, "source.unifiedlog",
                       "two unified log sources");
  if (!root.describe()) {
    std::set<std::string> others;
    for (const FileSourceConfig& f : cfg.file_sources) others.insert(f.name);
    for (const JournalSourceConfig& j : cfg.journal_sources) others.insert(j.name);
    for (const EventLogSourceConfig& e : cfg.eventlog_sources) others.insert(e.name);
    for (size_t i = 0; i < cfg.unifiedlog_sources.size(); ++i)
      if (others.count(cfg.unifiedlog_sources[i].name))
        root.context().Error(unifiedlog_at[i], "source.unifiedlog[" + std::to_string(i) + "].name",
                             "a unified log source shares the name \"" +
                                 cfg.unifiedlog_sources[i].name + "\" with another source",
                             "give each source its own name");
  }
  root.Table("output", "Where records are sent. Without [output] the agent only buffers.",
             [&](TableReader& t, bool present) {
               OutputConfig o;
               if (present || t.describe()) ReadOutput(t, o);
               if (present) cfg.output = std::move(o);
             });
  root.Table("checks", "Device checks: policies of SQL queries over device tables.",
             [&](TableReader& t, bool) { ReadChecks(t, cfg.checks); });
  std::vector<toml::source_region> inventory_at;
  root.ArrayOfTables("inventory",
                     "A scheduled inventory query with differential results (stream inventory).",
                     [&](TableReader& t, int index) {
                       InventoryQueryConfig q;
                       ReadInventory(t, index, q);
                       if (t.describe()) return;
                       inventory_at.push_back(t.where("name"));
                       cfg.inventory.push_back(std::move(q));
                     });
  ReportDuplicateNames(root, cfg.inventory, inventory_at, "inventory", "two inventory queries");
  root.Table("update", "Self-update from a signed release feed.",
             [&](TableReader& t, bool) { ReadUpdate(t, cfg.update); });
  root.Table("limits", "What outpost run may take from the machine.",
             [&](TableReader& t, bool) { ReadLimits(t, cfg.limits); });
}

}  // namespace outpost::config_internal
