// `outpost version`: what this binary is and what it was built with.
#include <cstdio>

#include "buffer/sqlite_db.h"
#include "chunk/zstd_codec.h"
#include "cli.h"
#include "outpost/platform/system.h"
#include "ship/http_client.h"
#include "update/signature.h"
#include "util/build_info.h"

namespace outpost::app {
namespace {

struct VersionOptions {
  bool json = false;
};

int RunVersion(const VersionOptions& opts) {
  const BuildInfo& b = GetBuildInfo();
  const HttpLibraryInfo http = GetHttpLibraryInfo();
  nlohmann::json deps = {{"curl", http.curl},           {"tls", http.tls},
                         {"zlib", http.zlib},           {"resolver", http.resolver},
                         {"zstd", ZstdVersion()},       {"sqlite", SqliteVersion()},
                         {"libsodium", SodiumVersion()}};
  if (!http.http2.empty()) deps["http2"] = http.http2;
  if (opts.json) {
    PrintJson({{"version", b.version},
               {"commit", b.commit},
               {"build_date", b.date},
               {"os", platform::OsName()},
               {"arch", platform::ArchName()},
               {"dependencies", deps}});
    return kExitOk;
  }
  std::printf("outpost %.*s (commit %.*s, built %.*s, %.*s/%.*s)\n",
              static_cast<int>(b.version.size()), b.version.data(),
              static_cast<int>(b.commit.size()), b.commit.data(), static_cast<int>(b.date.size()),
              b.date.data(), static_cast<int>(platform::OsName().size()), platform::OsName().data(),
              static_cast<int>(platform::ArchName().size()), platform::ArchName().data());
  for (const auto& [name, v] : deps.items())
    std::printf("  %-10s %s\n", name.c_str(), v.get<std::string>().c_str());
  return kExitOk;
}

}  // namespace

int SelfTest() {
  // The first line is what the updater's preflight compares with the feed's version.
  std::printf("outpost %s\n", std::string(GetBuildInfo().version).c_str());
  int failures = 0;
  const auto report = [&](const char* what, const Status& st) {
    std::printf("%-8s %s\n", what, st.ok() ? "ok" : st.ToString().c_str());
    if (!st.ok()) ++failures;
  };
  report("crypto", InitCrypto());
  {
    Status st;
    Result<std::string> z = ZstdCompress("outpost self-test", 3);
    if (!z.ok()) {
      st = z.status();
    } else {
      Result<std::string> back = ZstdDecompress(*z, 1024);
      if (!back.ok())
        st = back.status();
      else if (*back != "outpost self-test")
        st = Internal("zstd round trip changed the data");
    }
    report("zstd", st);
  }
  {
    Result<Db> db = Db::Open(":memory:", {.read_only = false, .create = true});
    report("sqlite",
           db.ok() ? db->Exec("CREATE TABLE t (x); INSERT INTO t VALUES (1)") : db.status());
  }
  std::printf("self-test: %s\n", failures == 0 ? "ok" : "FAILED");
  return failures == 0 ? kExitOk : kExitRuntime;
}

void AddVersionCommand(CLI::App& app, Cli& /*cli*/, Action& action) {
  auto opts = std::make_shared<VersionOptions>();
  CLI::App* cmd = app.add_subcommand(
      "version",
      "Print the version, git commit, build date, target OS/arch and the versions of "
      "the libraries built in.");
  cmd->add_flag("--json", opts->json, "Print one JSON object instead of text.");
  cmd->footer(
      "EXAMPLES\n"
      "  outpost version\n"
      "  outpost version --json | jq -r .version\n\n"
      "EXIT STATUS\n  0 always.");
  cmd->callback([opts, &action] { action = [opts] { return RunVersion(*opts); }; });
}

}  // namespace outpost::app
