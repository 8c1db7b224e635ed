// minisign verification. Layouts (docs/update-feed.md, "Signature"):
//   public key:  base64("Ed" || key_id[8] || pk[32])
//   .minisig:    "untrusted comment: <text>"
//                base64(alg[2] || key_id[8] || sig[64])      alg "ED": sig over BLAKE2b-512(msg)
//                "trusted comment: <text>"
//                base64(global_sig[64])                       over sig[64] || <text>
#include "update/minisign.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "update/signature.h"

namespace outpost::update {
namespace {

constexpr std::string_view kUntrustedPrefix = "untrusted comment: ";
constexpr std::string_view kTrustedPrefix = "trusted comment: ";
constexpr size_t kPublicKeyBytes = 2 + 8 + crypto_sign_PUBLICKEYBYTES;  // 42
constexpr size_t kSignatureBytes = 2 + 8 + crypto_sign_BYTES;           // 74

// Decodes standard padded base64 of exactly `expected` bytes; nothing may follow.
std::optional<std::vector<uint8_t>> DecodeBase64(std::string_view b64, size_t expected) {
  if (b64.empty()) return std::nullopt;
  std::vector<uint8_t> bin(expected + 1);  // room for one extra byte: too long is detected
  size_t bin_len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(bin.data(), bin.size(), b64.data(), b64.size(), nullptr, &bin_len, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  if (end != b64.data() + b64.size() || bin_len != expected) return std::nullopt;
  bin.resize(bin_len);
  return bin;
}

std::string_view TrimBlanks(std::string_view s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitLines(std::string_view s) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (true) {
    const size_t nl = s.find('\n', start);
    if (nl == std::string_view::npos) {
      lines.push_back(s.substr(start));
      return lines;
    }
    lines.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
}

Checked<VerifiedSignature> Refuse(std::string_view code, std::string message) {
  return Checked<VerifiedSignature>(code, std::move(message));
}

}  // namespace

std::string KeyIdHex(const std::array<uint8_t, 8>& key_id) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (size_t i = key_id.size(); i-- > 0;) {  // minisign prints the id little-endian
    out += kHex[key_id[i] >> 4];
    out += kHex[key_id[i] & 0xF];
  }
  return out;
}

Result<PublicKey> ParsePublicKey(std::string_view text) {
  std::string_view line = TrimBlanks(text);
  if (line.find('\n') != std::string_view::npos) {
    // The whole .pub file: "untrusted comment: ..." then the key line.
    std::vector<std::string_view> lines = SplitLines(line);
    if (lines.size() != 2 || TrimBlanks(lines[0]).substr(0, kUntrustedPrefix.size() - 1) !=
                                 kUntrustedPrefix.substr(0, kUntrustedPrefix.size() - 1)) {
      return InvalidArgument(
          "minisign public key: expected one base64 line, or a .pub file of two lines "
          "(untrusted comment, key)");
    }
    line = TrimBlanks(lines[1]);
  }
  std::optional<std::vector<uint8_t>> bin = DecodeBase64(line, kPublicKeyBytes);
  if (!bin) {
    return InvalidArgument("minisign public key: not base64 of " + std::to_string(kPublicKeyBytes) +
                           " bytes");
  }
  if ((*bin)[0] != 'E' || (*bin)[1] != 'd') {
    return InvalidArgument("minisign public key: algorithm is not Ed25519 (\"Ed\")");
  }
  PublicKey key;
  std::memcpy(key.key_id.data(), bin->data() + 2, key.key_id.size());
  std::memcpy(key.pk.data(), bin->data() + 10, key.pk.size());
  return key;
}

Checked<VerifiedSignature> VerifyMinisign(std::string_view message, std::string_view minisig_text,
                                          const std::vector<PublicKey>& trusted) {
  if (minisig_text.size() > kMaxSignatureBytes) {
    return Refuse(reason::kSignatureTooLarge,
                  "signature file is " + std::to_string(minisig_text.size()) +
                      " bytes, over the limit of " + std::to_string(kMaxSignatureBytes));
  }
  if (minisig_text.empty()) return Refuse(reason::kSignatureMissing, "the feed is not signed");
  if (!InitCrypto().ok()) {
    return Refuse(reason::kSignatureInvalid, "libsodium failed to initialise");
  }

  std::string_view text = minisig_text;
  if (text.back() == '\n') text.remove_suffix(1);  // one trailing newline is allowed
  const std::vector<std::string_view> lines = SplitLines(text);
  if (lines.size() != 4) {
    return Refuse(reason::kSignatureMalformed, "signature file has " +
                                                   std::to_string(lines.size()) +
                                                   " lines; a minisign signature has exactly 4");
  }
  if (lines[0].substr(0, kUntrustedPrefix.size()) != kUntrustedPrefix) {
    return Refuse(reason::kSignatureMalformed,
                  "signature line 1 does not start with \"untrusted comment: \"");
  }
  if (lines[2].substr(0, kTrustedPrefix.size()) != kTrustedPrefix) {
    return Refuse(reason::kSignatureMalformed,
                  "signature line 3 does not start with \"trusted comment: \"");
  }
  const std::optional<std::vector<uint8_t>> sig_line = DecodeBase64(lines[1], kSignatureBytes);
  if (!sig_line) {
    return Refuse(reason::kSignatureMalformed, "signature line 2 is not base64 of " +
                                                   std::to_string(kSignatureBytes) + " bytes");
  }
  const std::optional<std::vector<uint8_t>> global = DecodeBase64(lines[3], crypto_sign_BYTES);
  if (!global) {
    return Refuse(reason::kSignatureMalformed, "signature line 4 is not base64 of " +
                                                   std::to_string(crypto_sign_BYTES) + " bytes");
  }

  const uint8_t a0 = (*sig_line)[0], a1 = (*sig_line)[1];
  if (a0 == 'E' && a1 == 'd') {
    return Refuse(reason::kSignatureLegacy,
                  "legacy minisign signature (algorithm \"Ed\"); only prehashed \"ED\" "
                  "signatures are accepted (sign without -l)");
  }
  if (a0 != 'E' || a1 != 'D') {
    return Refuse(reason::kSignatureAlgorithmUnknown,
                  "unknown signature algorithm; only prehashed \"ED\" is accepted");
  }

  VerifiedSignature out;
  std::memcpy(out.key_id.data(), sig_line->data() + 2, out.key_id.size());
  if (trusted.empty()) {
    return Refuse(reason::kNoTrustedKeys,
                  "no trusted keys: the build has none compiled in and update.trusted_keys "
                  "is empty");
  }
  const auto key = std::find_if(trusted.begin(), trusted.end(),
                                [&](const PublicKey& k) { return k.key_id == out.key_id; });
  if (key == trusted.end()) {
    return Refuse(reason::kKeyUnknown,
                  "signed by key " + KeyIdHex(out.key_id) + ", which is not a trusted key");
  }

  const uint8_t* sig = sig_line->data() + 10;
  std::array<uint8_t, crypto_generichash_BYTES_MAX> digest{};  // BLAKE2b-512
  crypto_generichash(digest.data(), digest.size(),
                     reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                     nullptr, 0);
  if (crypto_sign_verify_detached(sig, digest.data(), digest.size(), key->pk.data()) != 0) {
    return Refuse(reason::kSignatureInvalid,
                  "the signature by key " + KeyIdHex(out.key_id) + " does not match the feed");
  }

  const std::string_view comment = lines[2].substr(kTrustedPrefix.size());
  std::vector<uint8_t> signed_comment(sig, sig + crypto_sign_BYTES);
  signed_comment.insert(signed_comment.end(), comment.begin(), comment.end());
  if (crypto_sign_verify_detached(global->data(), signed_comment.data(), signed_comment.size(),
                                  key->pk.data()) != 0) {
    return Refuse(reason::kTrustedCommentSignatureInvalid,
                  "the trusted comment is not signed by key " + KeyIdHex(out.key_id) +
                      " (altered after signing)");
  }
  out.trusted_comment = std::string(comment);
  return out;
}

}  // namespace outpost::update
