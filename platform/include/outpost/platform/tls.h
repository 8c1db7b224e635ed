// Where TLS trust comes from on this OS.
#pragma once

#include <filesystem>
#include <optional>
#include <vector>

namespace outpost::platform {

// True when the OS's TLS library reads the system certificate store itself
// (Schannel on Windows), so no CA bundle file is needed.
bool UsesSystemCertStore();

// The CA bundle files this OS's distributions use, in probe order.
std::vector<std::filesystem::path> CaBundleCandidates();

// The first candidate that exists and is a regular file, or nullopt.
std::optional<std::filesystem::path> FindCaBundle();

}  // namespace outpost::platform
