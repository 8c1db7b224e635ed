#include "update/minisign_test_signer.h"
#include "source_dir.h"

#include <sodium.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace outpost::testing {

std::string UpdateFixture(std::string_view name) {
  std::ifstream in(std::string(OUTPOST_SOURCE_DIR) + "/tests/fixtures/update/" + std::string(name),
                   std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::string Base64Decode(std::string_view b64) {
  std::string out(b64.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), b64.data(),
                        b64.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    throw std::runtime_error("bad base64");
  }
  out.resize(len);
  return out;
}

// Layout of an unencrypted secret key (base64 line 2 of the .key file):
//   sig_alg "Ed"(2) kdf_alg 0,0(2) chk_alg "B2"(2) kdf_salt(32) opslimit(8) memlimit(8)
//   key_id(8) sk(64) checksum(32)
MinisignSecretKey ParseMinisignSecretKey(std::string_view file_text) {
  const size_t nl = file_text.find('\n');
  if (nl == std::string_view::npos) throw std::runtime_error("secret key: one line");
  std::string_view line = file_text.substr(nl + 1);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  const std::string bin = Base64Decode(line);
  if (bin.size() != 158 || bin.compare(0, 2, "Ed") != 0 || bin[2] != 0 || bin[3] != 0) {
    throw std::runtime_error("secret key: not an unencrypted minisign Ed25519 key");
  }
  MinisignSecretKey key;
  std::memcpy(key.key_id.data(), bin.data() + 54, 8);
  std::memcpy(key.sk.data(), bin.data() + 62, 64);
  return key;
}

MinisignSecretKey LoadTestKey(std::string_view name) {
  return ParseMinisignSecretKey(UpdateFixture(name));
}

std::string SignMinisign(const MinisignSecretKey& key, std::string_view message,
                         std::string_view trusted_comment, std::string_view untrusted_comment,
                         bool legacy) {
  if (sodium_init() < 0) throw std::runtime_error("sodium_init");
  std::array<unsigned char, crypto_sign_BYTES> sig{};
  if (legacy) {
    crypto_sign_detached(sig.data(), nullptr,
                         reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                         key.sk.data());
  } else {
    std::array<unsigned char, crypto_generichash_BYTES_MAX> digest{};
    crypto_generichash(digest.data(), digest.size(),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       nullptr, 0);
    crypto_sign_detached(sig.data(), nullptr, digest.data(), digest.size(), key.sk.data());
  }
  std::string sig_line(legacy ? "Ed" : "ED");
  sig_line.append(reinterpret_cast<const char*>(key.key_id.data()), key.key_id.size());
  sig_line.append(reinterpret_cast<const char*>(sig.data()), sig.size());

  std::vector<unsigned char> global_msg(sig.begin(), sig.end());
  global_msg.insert(global_msg.end(), trusted_comment.begin(), trusted_comment.end());
  std::array<unsigned char, crypto_sign_BYTES> global{};
  crypto_sign_detached(global.data(), nullptr, global_msg.data(), global_msg.size(), key.sk.data());

  return "untrusted comment: " + std::string(untrusted_comment) + "\n" + Base64Encode(sig_line) +
         "\ntrusted comment: " + std::string(trusted_comment) + "\n" +
         Base64Encode(
             std::string_view(reinterpret_cast<const char*>(global.data()), global.size())) +
         "\n";
}

}  // namespace outpost::testing
