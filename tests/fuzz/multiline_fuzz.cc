// Fuzzes the multiline joiner: lines from the input pushed at fuzz-chosen times, with
// timeouts, forced flushes and fuzz-chosen max_lines and max_bytes; the start pattern
// is one of a few realistic ones (the pattern itself is the admin's, checked by the
// config loader). Checked: records come out in order and cover every line's bytes
// exactly once; a record holds at most max_lines lines; its text is the lines joined by
// "\n", cut at max_bytes (then marked truncated) without splitting a character.
//
// Input: 1 byte pattern, 1 byte max_lines, 2 bytes max_bytes, 1 byte timeout (ms),
// then lines (fuzz_input.h parts), each starting with 1 control byte: its delay in ms
// (low 6 bits), a forced flush before it (bit 6), a timed flush before it (bit 7).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "collect/multiline.h"
#include "fuzz/fuzz_input.h"

namespace {

constexpr const char* kPatterns[] = {
    R"(^\d{4}-\d{2}-\d{2})", R"(^\S)", R"(^\[)", "^(INFO|WARN|ERROR|DEBUG)", "^[^ \\t]", "", "x",
    "^Traceback|^\\w+Error:"};

struct Input {
  std::string text;
  uint64_t offset;
  uint64_t end_offset;
};

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "multiline: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  outpost::fuzz::InputBytes in(std::string_view(reinterpret_cast<const char*>(data), size));
  outpost::MultilineConfig config;
  config.start = kPatterns[in.Byte() % std::size(kPatterns)];
  config.max_lines = static_cast<int8_t>(in.Byte());  // 0 and negatives included
  const size_t max_bytes = (size_t{in.Byte()} << 8) | in.Byte();
  config.timeout = std::chrono::milliseconds(in.Byte());
  outpost::MultilineJoiner joiner(config, max_bytes);

  std::vector<Input> lines;
  std::vector<outpost::LogLine> records;
  outpost::MonoTime now{};
  uint64_t offset = 1000;
  for (std::string_view part : outpost::fuzz::SplitParts(in.rest(), 4096)) {
    const auto control = static_cast<uint8_t>(part.empty() ? 0 : part.front());
    if (!part.empty()) part.remove_prefix(1);
    now += std::chrono::milliseconds(control & 0x3F);
    if (control & 0x40) {
      if (auto r = joiner.Flush(now, true)) records.push_back(std::move(*r));
      if (joiner.pending()) Fail("pending after a forced flush");
    }
    if (control & 0x80) {
      const std::optional<outpost::MonoTime> deadline = joiner.Deadline();
      auto r = joiner.Flush(now, false);
      if (r && (!deadline || now < *deadline)) Fail("flushed before its deadline");
      if (r) records.push_back(std::move(*r));
    }
    Input line{std::string(part), offset, offset + part.size() + 1};
    offset = line.end_offset;
    lines.push_back(line);
    if (auto r = joiner.Push({line.text, line.offset, line.end_offset, false}, now))
      records.push_back(std::move(*r));
    if (!joiner.pending()) Fail("nothing pending after a line");
  }
  if (auto r = joiner.Flush(now, true)) records.push_back(std::move(*r));

  // Every line in exactly one record, in order.
  const size_t max_lines = static_cast<size_t>(std::max<int64_t>(config.max_lines, 1));
  size_t next = 0;
  for (const outpost::LogLine& r : records) {
    if (next >= lines.size() || r.offset != lines[next].offset) Fail("a record starts elsewhere");
    std::string joined = lines[next].text;
    size_t count = 1;
    while (lines[next].end_offset != r.end_offset) {
      if (++next >= lines.size()) Fail("a record ends past the last line");
      joined += '\n';
      joined += lines[next].text;
      ++count;
    }
    ++next;
    if (count > max_lines) Fail("more than max_lines lines in a record");
    if (r.text.size() > max_bytes) Fail("a record over max_bytes");
    if (r.truncated != (joined.size() > max_bytes)) Fail("truncated is wrong");
    if (joined.compare(0, r.text.size(), r.text) != 0) Fail("the text is not the joined lines");
    if (!r.truncated && r.text != joined) Fail("an untruncated record lost text");
    if (outpost::fuzz::IsValidUtf8(joined) && !outpost::fuzz::IsValidUtf8(r.text))
      Fail("the cut split a character");
  }
  if (next != lines.size()) Fail("lines were lost");
  return 0;
}
