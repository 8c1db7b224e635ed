// Helpers for the fuzz targets (docs/fuzzing.md): splitting one input into the parts a
// target needs, and taking small numbers from its front.
//
// An input holds several parts separated by the line "--8<--" ("a\n--8<--\nb" is "a"
// and "b"), so a seed stays readable and one input can fill several files. Header only:
// the targets are built by clang with libFuzzer and, as corpus replays, by the normal
// build.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace outpost::fuzz {

inline constexpr std::string_view kPartSeparator = "\n--8<--\n";

// The parts of `data`, at most `max_parts` (the last one keeps any further separators).
inline std::vector<std::string_view> SplitParts(std::string_view data, size_t max_parts) {
  std::vector<std::string_view> parts;
  while (max_parts > 0 && parts.size() + 1 < max_parts) {
    const size_t at = data.find(kPartSeparator);
    if (at == std::string_view::npos) break;
    parts.push_back(data.substr(0, at));
    data.remove_prefix(at + kPartSeparator.size());
  }
  if (max_parts > 0) parts.push_back(data);
  return parts;
}

// Whether `s` is well-formed UTF-8 (Unicode table 3-7: no overlong forms, no
// surrogates, nothing above U+10FFFF). Written apart from lib/'s checks on purpose: the
// targets compare lib/ against it.
inline bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
    const auto in = [](uint8_t v, uint8_t lo, uint8_t hi) { return v >= lo && v <= hi; };
    const size_t left = s.size() - i;
    const uint8_t b0 = b(0);
    if (b0 < 0x80) {
      i += 1;
    } else if (in(b0, 0xC2, 0xDF) && left >= 2 && in(b(1), 0x80, 0xBF)) {
      i += 2;
    } else if (left >= 3 && in(b(2), 0x80, 0xBF) &&
               ((b0 == 0xE0 && in(b(1), 0xA0, 0xBF)) ||
                ((in(b0, 0xE1, 0xEC) || in(b0, 0xEE, 0xEF)) && in(b(1), 0x80, 0xBF)) ||
                (b0 == 0xED && in(b(1), 0x80, 0x9F)))) {
      i += 3;
    } else if (left >= 4 && in(b(2), 0x80, 0xBF) && in(b(3), 0x80, 0xBF) &&
               ((b0 == 0xF0 && in(b(1), 0x90, 0xBF)) ||
                (in(b0, 0xF1, 0xF3) && in(b(1), 0x80, 0xBF)) ||
                (b0 == 0xF4 && in(b(1), 0x80, 0x8F)))) {
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

// Reads numbers from the front of an input; past its end every number is 0.
class InputBytes {
 public:
  explicit InputBytes(std::string_view data) : data_(data) {}

  uint8_t Byte() {
    if (data_.empty()) return 0;
    const auto b = static_cast<uint8_t>(data_.front());
    data_.remove_prefix(1);
    return b;
  }
  uint32_t U32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | Byte();
    return v;
  }
  uint64_t U64() { return (uint64_t{U32()} << 32) | U32(); }
  bool Bool() { return (Byte() & 1) != 0; }

  // What is left after the numbers taken so far.
  std::string_view rest() const { return data_; }

 private:
  std::string_view data_;
};

}  // namespace outpost::fuzz
