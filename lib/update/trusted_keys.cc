#include "update/trusted_keys.h"

namespace outpost::update {

const BuiltinKeySet& BuiltinKeys() {
  static const BuiltinKeySet kSet{};
  return kSet;
}

Result<std::vector<PublicKey>> TrustedKeys(const std::vector<std::string>& config_keys) {
  return TrustedKeys(BuiltinKeys(), config_keys);
}

Result<std::vector<PublicKey>> TrustedKeys(const BuiltinKeySet&, const std::vector<std::string>&) {
  return Unsupported("TrustedKeys: not implemented yet");
}

}  // namespace outpost::update
