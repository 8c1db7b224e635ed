#include <catch.hpp>

#include "util/json_text.h"
#include "util/text.h"

namespace outpost {

TEST_CASE("edit distance counts single-character edits") {
  CHECK(EditDistance("max_bytes", "max_bytes") == 0);
  CHECK(EditDistance("max_byte", "max_bytes") == 1);
  CHECK(EditDistance("durabilty", "durability") == 1);
  CHECK(EditDistance("", "abc") == 3);
  CHECK(EditDistance("kitten", "sitting") == 3);
  CHECK(EditDistance("agnet", "agent") == 1);  // a swap of neighbours is one edit
}

TEST_CASE("the nearest word is offered only when it is a plausible typo") {
  const std::vector<std::string> keys = {"max_bytes", "durability", "chunk_max_bytes",
                                         "chunk_max_age"};
  CHECK(NearestWord("max_byte", keys) == "max_bytes");
  CHECK(NearestWord("chunk_max_ag", keys) == "chunk_max_age");
  CHECK(NearestWord("endpoint", keys).empty());
  CHECK(NearestWord("x", keys).empty());
  CHECK(NearestWord("durabiltiy", keys) == "durability");
}

TEST_CASE("JoinOr lists alternatives the way people write them") {
  CHECK(JoinOr({"a"}) == "a");
  CHECK(JoinOr({"a", "b"}) == "a or b");
  CHECK(JoinOr({"a", "b", "c"}) == "a, b or c");
}

TEST_CASE("JSON strings escape quotes, control bytes and invalid UTF-8 without losing bytes") {
  CHECK(JsonQuote("plain") == "\"plain\"");
  CHECK(JsonQuote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(JsonQuote("line\nnext\ttab") == "\"line\\nnext\\ttab\"");
  CHECK(JsonQuote(std::string("nul\0byte", 8)) == "\"nul\\u0000byte\"");
  CHECK(JsonQuote("\x1b[31m") == "\"\\u001b[31m\"");
  CHECK(JsonQuote("caf\xc3\xa9") == "\"caf\xc3\xa9\"");             // valid UTF-8 kept
  CHECK(JsonQuote("\xe2\x82\xac") == "\"\xe2\x82\xac\"");           // euro sign kept
  CHECK(JsonQuote("bad\xff") == "\"bad\\\\xff\"");                  // invalid byte as text \xff
  CHECK(JsonQuote("\xc3") == "\"\\\\xc3\"");                        // truncated sequence
  CHECK(JsonQuote("\xed\xa0\x80") == "\"\\\\xed\\\\xa0\\\\x80\"");  // a surrogate is not UTF-8
  CHECK(JsonQuote("\xc0\xaf") == "\"\\\\xc0\\\\xaf\"");             // overlong encoding
}

}  // namespace outpost
