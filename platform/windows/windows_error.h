// Internal to the platform layer (Windows): the system's text for a GetLastError()
// code, for the messages the platform functions return.
#pragma once

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <string>

namespace outpost::platform {

// "The system cannot find the file specified (error 2)"; "error 1234" when the
// system has no text for the code.
inline std::string WindowsErrorMessage(DWORD code) {
  char buf[512];
  DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
                           code, 0, buf, sizeof buf, nullptr);
  // The text ends in ".\r\n"; the caller adds its own punctuation.
  while (n > 0 &&
         (buf[n - 1] == '\r' || buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '.')) {
    --n;
  }
  const std::string code_text = "error " + std::to_string(code);
  if (n == 0) return code_text;
  return std::string(buf, n) + " (" + code_text + ")";
}

}  // namespace outpost::platform
