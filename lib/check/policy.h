// Policies: TOML files of [[check]] entries, each one SQL query over the device tables
// that passes when it returns at least one row (osquery fleets' convention, so their
// policies can be reused). docs/checks.md describes the format.
//
//   [[check]]
//   id = "ssh-root-login-disabled"          # [A-Za-z0-9._-]+, unique across policies
//   title = "SSH does not allow root to log in"
//   severity = "high"                       # info | low | medium | high | critical
//   platforms = ["linux"]                   # linux, windows, macos, posix, all (default)
//   interval = "1h"                         # default: checks.interval of the config
//   query = "SELECT 1 FROM sshd_config WHERE keyword = 'permitrootlogin' AND value = 'no'"
//   remediation = "Set 'PermitRootLogin no' in /etc/ssh/sshd_config"
//
// Parsing is strict: an unknown key, a wrong type or a missing required key is an
// error (a typo must never silently turn a check off), and every error is reported
// with its file and line, never only the first. A policy with errors yields no checks.
// Nothing here throws; toml++'s exceptions are caught and turned into errors.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/units.h"

namespace outpost {

enum class CheckSeverity { kInfo, kLow, kMedium, kHigh, kCritical };

// "info", "low", "medium", "high", "critical"
std::string_view CheckSeverityName(CheckSeverity severity);

struct Check {
  std::string id;
  std::string title;
  std::string description;  // may be empty
  CheckSeverity severity = CheckSeverity::kInfo;
  // As written ("linux", "windows", "macos", "posix", "all"); ["all"] when left out.
  std::vector<std::string> platforms = {"all"};
  Duration interval = std::chrono::hours(1);
  std::string query;
  std::string remediation;
  std::string policy_file;  // the file it came from, as given
  int line = 0;             // of its [[check]] header
};

// True when `check` is meant for `os` ("linux", "windows", "macos";
// platform::DeviceTablesOs()). "posix" covers linux and macos, "all" every OS.
bool CheckAppliesTo(const Check& check, std::string_view os);
// The same test for any list of platform names; an empty list means every OS.
bool PlatformsInclude(const std::vector<std::string>& platforms, std::string_view os);

struct PolicyError {
  std::string file;
  int line = 0;  // 1-based; 0 when the problem has no position (the file is unreadable)
  int column = 0;
  std::string check;    // the check's id, "#N" when it has none yet, or empty
  std::string message;  // what is wrong
  std::string hint;     // how to fix it; may be empty

  // "FILE:LINE: check 'ID': MESSAGE (HINT)"
  std::string ToString() const;
};

struct PolicyOptions {
  Duration default_interval = std::chrono::hours(1);  // config checks.interval
};

struct PolicyParseResult {
  std::vector<Check> checks;  // empty when there are errors
  std::vector<PolicyError> errors;

  bool ok() const { return errors.empty(); }
};

// Parses policy text; `file_name` names it in errors and in Check::policy_file.
PolicyParseResult ParsePolicy(std::string_view text, const std::string& file_name,
                              const PolicyOptions& options);

// Reads (at most 4 MiB) and parses one policy file.
PolicyParseResult LoadPolicyFile(const std::filesystem::path& path, const PolicyOptions& options);

// Loads every file, in order, and refuses an id used twice, within a file or across
// files (the error names both places). All errors of all files are returned.
PolicyParseResult LoadPolicies(const std::vector<std::filesystem::path>& paths,
                               const PolicyOptions& options);

}  // namespace outpost
