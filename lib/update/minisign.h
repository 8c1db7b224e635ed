// minisign signatures verified with libsodium, written from the format description
// (docs/update-feed.md has the byte layouts). Only the prehashed "ED" algorithm is
// accepted: the global signature does not cover the algorithm bytes, so accepting the
// legacy "Ed" would let an attacker relabel a signature.
//
// Everything here is a pure function of its arguments and thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "update/rejection.h"
#include "util/status.h"

namespace outpost::update {

inline constexpr size_t kMaxSignatureBytes = 4 * 1024;

struct PublicKey {
  std::array<uint8_t, 8> key_id{};  // as stored: minisign prints it as little-endian hex
  std::array<uint8_t, 32> pk{};     // Ed25519 public key
};

// The key id as minisign prints it ("RWQ..." files say "minisign public key 1A2B...").
std::string KeyIdHex(const std::array<uint8_t, 8>& key_id);

// Parses a minisign public key: the base64 line of a .pub file (as in config
// update.trusted_keys), or the whole two-line .pub file text. Surrounding blanks are
// ignored. Error: kInvalidArgument (bad base64, wrong length, algorithm not "Ed").
Result<PublicKey> ParsePublicKey(std::string_view text);

struct VerifiedSignature {
  std::string trusted_comment;      // the text after "trusted comment: "
  std::array<uint8_t, 8> key_id{};  // the trusted key that signed
};

// Verifies `minisig_text` (the .minisig file) over `message` with any of `trusted`.
// Checks, in order: size cap, four lines (one optional trailing newline), base64 and
// lengths, algorithm "ED" (legacy "Ed" refused), key id among `trusted` (raw bytes),
// the signature over BLAKE2b-512(message), the global signature over
// sig || trusted comment. Rejections: signature_too_large, signature_missing,
// signature_malformed, signature_legacy, signature_algorithm_unknown, key_unknown,
// signature_invalid, trusted_comment_signature_invalid, no_trusted_keys.
Checked<VerifiedSignature> VerifyMinisign(std::string_view message, std::string_view minisig_text,
                                          const std::vector<PublicKey>& trusted);

}  // namespace outpost::update
