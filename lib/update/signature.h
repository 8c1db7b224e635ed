// Signature verification for the release feed (libsodium): the only code that
// includes sodium.h. The minisign verifier comes with the self-update work; for now
// it initialises libsodium and reports its version.
#pragma once

#include <string>

#include "util/status.h"

namespace outpost {

// Initialises libsodium once; thread-safe.
Status InitCrypto();

// "1.0.18"
std::string SodiumVersion();

}  // namespace outpost
