// A minisign signer for tests only: signs with the committed TEST secret keys
// (tests/fixtures/update/*.key, unencrypted, made with `minisign -G -W`) so that the
// rule tests can sign feeds that differ in one field. A test proves it produces the
// same bytes as the minisign tool, so what it signs is what minisign would sign.
// Like lib/update, it is the only place in tests that includes sodium.h.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace outpost::testing {

struct MinisignSecretKey {
  std::array<uint8_t, 8> key_id{};
  std::array<uint8_t, 64> sk{};  // libsodium Ed25519 secret key (seed || pk)
};

// The contents of tests/fixtures/update/<name>; empty when missing (the test fails).
std::string UpdateFixture(std::string_view name);

// Parses an unencrypted minisign secret key file; throws std::runtime_error on a bad
// file (tests only).
MinisignSecretKey ParseMinisignSecretKey(std::string_view file_text);

// UpdateFixture(name) parsed.
MinisignSecretKey LoadTestKey(std::string_view name);

// The .minisig text minisign writes for `message`: prehashed "ED" unless `legacy`.
std::string SignMinisign(const MinisignSecretKey& key, std::string_view message,
                         std::string_view trusted_comment,
                         std::string_view untrusted_comment = "signature from minisign secret key",
                         bool legacy = false);

// Base64 helpers (standard alphabet, padded) for tests that edit signature bytes.
std::string Base64Encode(std::string_view bytes);
std::string Base64Decode(std::string_view b64);  // throws on bad input

}  // namespace outpost::testing
