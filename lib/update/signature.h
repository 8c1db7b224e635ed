// libsodium set-up for the release feed verification. sodium.h is included only in
// lib/update/ (minisign.cc, update_policy.cc, this file) and in the tests' minisign
// signer (tests/update/); the minisign verifier itself is minisign.h.
#pragma once

#include <string>

#include "util/status.h"

namespace outpost {

// Initialises libsodium once; thread-safe.
Status InitCrypto();

// "1.0.18"
std::string SodiumVersion();

}  // namespace outpost
