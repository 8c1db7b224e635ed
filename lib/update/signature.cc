#include "update/signature.h"

#include <sodium.h>

namespace outpost {

Status InitCrypto() {
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");
  return Status::Ok();
}

std::string SodiumVersion() { return sodium_version_string(); }

}  // namespace outpost
