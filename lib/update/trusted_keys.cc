#include "update/trusted_keys.h"

#include <algorithm>

namespace outpost::update {
namespace {

// The compiled-in key set. The source tree holds no release key: the release process
// adds the release public key(s) here and raises `epoch` when the set changes
// (docs/update-feed.md, "Key rotation"). Never add a test or development key: those
// belong in update.trusted_keys of a development config.
const BuiltinKeySet kBuiltinKeySet{
    .epoch = 0,
    .keys = {},
};

// Adds `key` unless it is already there. Error when a different key has the same id:
// the verifier finds a key by id, so ids must be unique.
Status AddKey(std::vector<PublicKey>& keys, const PublicKey& key, const std::string& what) {
  const auto same_id = std::find_if(keys.begin(), keys.end(),
                                    [&](const PublicKey& k) { return k.key_id == key.key_id; });
  if (same_id == keys.end()) {
    keys.push_back(key);
    return Status::Ok();
  }
  if (same_id->pk == key.pk) return Status::Ok();  // the same key twice
  return InvalidArgument(what + ": key id " + KeyIdHex(key.key_id) +
                         " is already used by a different trusted key");
}

}  // namespace

const BuiltinKeySet& BuiltinKeys() { return kBuiltinKeySet; }

Result<std::vector<PublicKey>> TrustedKeys(const std::vector<std::string>& config_keys) {
  return TrustedKeys(BuiltinKeys(), config_keys);
}

Result<std::vector<PublicKey>> TrustedKeys(const BuiltinKeySet& builtin,
                                           const std::vector<std::string>& config_keys) {
  std::vector<PublicKey> keys;
  for (const BuiltinKey& b : builtin.keys) {
    Result<PublicKey> key = ParsePublicKey(b.public_key);
    if (!key.ok()) {
      return Internal("compiled-in update key '" + std::string(b.name) +
                      "': " + key.status().message());
    }
    Status added = AddKey(keys, *key, "compiled-in update key '" + std::string(b.name) + "'");
    if (!added.ok()) return Internal(added.message());
  }
  for (size_t i = 0; i < config_keys.size(); ++i) {
    const std::string what = "update.public_keys[" + std::to_string(i) + "]";
    Result<PublicKey> key = ParsePublicKey(config_keys[i]);
    if (!key.ok()) return InvalidArgument(what + ": " + key.status().message());
    OUTPOST_RETURN_IF_ERROR(AddKey(keys, *key, what));
  }
  return keys;
}

}  // namespace outpost::update
