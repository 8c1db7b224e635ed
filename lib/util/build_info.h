// What this binary is: version, git commit and build date (generated at build time
// by cmake/build_info.cmake).
#pragma once

#include <string_view>

namespace outpost {

struct BuildInfo {
  std::string_view version;  // "0.1.0"
  std::string_view commit;   // short git hash, "-dirty" if built from a changed tree
  std::string_view date;     // UTC build date, YYYY-MM-DD (SOURCE_DATE_EPOCH honoured)
};

const BuildInfo& GetBuildInfo();

}  // namespace outpost
