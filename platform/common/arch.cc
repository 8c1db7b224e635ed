// The CPU architecture, decided by the compiler.
#include "outpost/platform/system.h"

namespace outpost::platform {

std::string_view ArchName() {
#if defined(__x86_64__) || defined(_M_X64)
  return "x86_64";
#elif defined(__aarch64__) || defined(_M_ARM64)
  return "aarch64";
#elif defined(__i386__) || defined(_M_IX86)
  return "x86";
#elif defined(__arm__)
  return "arm";
#else
  return "unknown";
#endif
}

}  // namespace outpost::platform
