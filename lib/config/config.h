// Config: the typed, validated contents of outpost.toml (docs/config.md).
//
// Every field has its default here; ParseConfig (config_loader.h) fills what the file
// says. The schema itself - key names, types, defaults, documentation - is declared
// once, in config_schema.cc, and drives parsing, `config show`, `config init` and
// `config schema` alike.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/logger.h"
#include "util/units.h"

namespace outpost {

struct AgentConfig {
  std::string id;        // empty: generated once and stored in buffer.db's state
  std::string hostname;  // empty: the OS host name
  std::filesystem::path state_dir;
  LogLevel log_level = LogLevel::kInfo;
  LogFormat log_format = LogFormat::kText;
  std::map<std::string, std::string> fields;  // added to every record
  // `outpost run`'s own log file when stderr is not a terminal; relative to state_dir;
  // empty: none. Rotated at log_max_bytes, log_keep old files kept.
  std::string log_file = "agent.log";
  uint64_t log_max_bytes = 10ULL << 20;
  int log_keep = 3;
  int nice = 0;  // CPU priority (POSIX nice -20..19)
  enum class IoPriority { kNormal, kLow, kIdle } io_priority = IoPriority::kNormal;
};

enum class Durability { kCrash, kPower };

struct BufferConfig {
  uint64_t max_bytes = 256ULL << 20;
  Durability durability = Durability::kCrash;
  uint64_t chunk_max_bytes = 1ULL << 20;
  Duration chunk_max_age = std::chrono::seconds(1);
  int compression_level = 1;
};

enum class StartAt { kEnd, kBeginning };
enum class TextEncoding { kUtf8, kUtf16Le, kUtf16Be, kLatin1 };

struct MultilineConfig {
  std::string start;  // a line matching this regex starts a new record
  int64_t max_lines = 500;
  Duration timeout = std::chrono::seconds(1);
};

struct FileSourceConfig {
  std::string name;  // stream name; default "file.<index>"
  std::vector<std::string> paths;
  std::vector<std::string> exclude;
  StartAt start_at = StartAt::kEnd;
  uint64_t max_line_bytes = 64ULL << 10;
  TextEncoding encoding = TextEncoding::kUtf8;
  std::map<std::string, std::string> fields;
  std::optional<MultilineConfig> multiline;
  Duration poll_interval = std::chrono::seconds(1);
};

enum class JournalReadFrom { kTail, kHead };

// One [[source.journal]]: the systemd journal, read through `journalctl -o export`.
struct JournalSourceConfig {
  std::string name;                      // stream name; default "journal.<index>"
  std::vector<std::string> units;        // --unit for each
  int priority = -1;                     // max priority 0..7 (--priority); -1: all
  std::vector<std::string> identifiers;  // --identifier for each
  std::string journalctl = "journalctl";
  JournalReadFrom read_from = JournalReadFrom::kTail;
  uint64_t max_message_bytes = 64ULL << 10;
  std::map<std::string, std::string> fields;
};

enum class EventLogReadFrom { kTail, kHead };

// One [[source.eventlog]]: a Windows Event Log channel, read through wevtapi.
struct EventLogSourceConfig {
  std::string name;         // stream name; default "eventlog.<index>"
  std::string channel;      // "System", "Microsoft-Windows-Sysmon/Operational", ...
  std::string query = "*";  // XPath over the channel, or a <QueryList>
  EventLogReadFrom read_from = EventLogReadFrom::kTail;
  uint64_t max_message_bytes = 64ULL << 10;
  std::map<std::string, std::string> fields;
};

enum class UnifiedLogReadFrom { kTail, kHead };
enum class UnifiedLogLevel { kDefault, kInfo, kDebug };

// One [[source.unifiedlog]]: the macOS unified log, read through
// `log stream|show --style ndjson` (docs/macos.md).
struct UnifiedLogSourceConfig {
  std::string name;       // stream name; default "unifiedlog.<index>"
  std::string predicate;  // --predicate; empty: none
  UnifiedLogLevel level = UnifiedLogLevel::kDefault;
  UnifiedLogReadFrom read_from = UnifiedLogReadFrom::kTail;
  std::string log = "/usr/bin/log";
  uint64_t max_message_bytes = 64ULL << 10;
  std::map<std::string, std::string> fields;
};

enum class OutputType { kNative, kOtlp, kLoki, kElasticsearch, kSplunkHec };
// kAuto: what the output's endpoints accept everywhere (native: zstd; otlp, loki,
// elasticsearch, splunk_hec: gzip).
enum class Compression { kAuto, kZstd, kGzip, kNone };

struct RetryConfig {
  Duration initial = std::chrono::seconds(1);
  Duration max = std::chrono::minutes(5);
};

struct OutputConfig {
  OutputType type = OutputType::kNative;
  std::string endpoint;
  std::string token;  // secret
  std::filesystem::path token_file;
  std::filesystem::path ca_file;
  std::filesystem::path client_cert;
  std::filesystem::path client_key;
  std::string client_key_passphrase;  // secret
  std::string pinned_pubkey;
  bool insecure_skip_verify = false;
  std::string proxy;  // empty: HTTPS_PROXY / NO_PROXY from the environment
  std::string proxy_username;
  std::string proxy_password;  // secret
  int64_t max_in_flight = 2;
  Duration timeout = std::chrono::seconds(30);
  Duration connect_timeout = std::chrono::seconds(10);
  uint64_t max_request_bytes = 8ULL << 20;
  uint64_t rate_limit = 0;  // bytes per second, 0 = unlimited
  Compression compression = Compression::kAuto;
  std::string index;                // elasticsearch (default "outpost"), splunk_hec (default: none)
  std::string sourcetype;           // splunk_hec (default "_json")
  std::vector<std::string> labels;  // loki: record fields that become labels
  RetryConfig retry;
};

struct ChecksConfig {
  bool enabled = true;
  std::vector<std::filesystem::path> policies;
  Duration interval = std::chrono::hours(1);
  Duration snapshot_interval = std::chrono::hours(24);
  Duration query_timeout = std::chrono::seconds(10);
  int64_t max_rows = 10000;
};

// One [[inventory]] entry: a query run on an interval whose added and removed rows
// are sent to stream "inventory" (differential results; all rows on the first run).
struct InventoryQueryConfig {
  std::string name;
  std::string query;
  Duration interval = std::chrono::hours(1);
  std::vector<std::string> platforms;  // empty: every OS
};

struct UpdateConfig {
  bool enabled = false;
  std::string channel = "stable";
  std::string feed_url;  // update.url: the feed base; <url>/<channel>.json
  Duration interval = std::chrono::hours(6);
  std::vector<std::string> trusted_keys;  // update.public_keys: minisign public keys
  Duration health_window = std::chrono::minutes(10);
  std::filesystem::path ca_file;  // empty: the system CAs
};

// [limits]: what `outpost run` may take from the machine (lib/collect/governor.h).
struct LimitsConfig {
  // Average CPU of the whole agent, in percent of one core; 0: no limit. Above it the
  // sources read more slowly (their data waits in the files and the journal).
  int64_t max_cpu_percent = 0;
  // Resident memory; 0: no limit. Above it the sources pause and caches are released
  // until the agent is back under 90% of it.
  uint64_t max_memory = 0;
};

struct Config {
  std::filesystem::path source_file;  // where it was read from; empty for defaults
  AgentConfig agent;
  BufferConfig buffer;
  std::vector<FileSourceConfig> file_sources;
  std::vector<JournalSourceConfig> journal_sources;
  std::vector<EventLogSourceConfig> eventlog_sources;
  std::vector<UnifiedLogSourceConfig> unifiedlog_sources;
  std::optional<OutputConfig> output;  // none: the agent only buffers
  ChecksConfig checks;
  std::vector<InventoryQueryConfig> inventory;
  UpdateConfig update;
  LimitsConfig limits;
};

}  // namespace outpost
