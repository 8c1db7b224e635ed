#include <catch.hpp>

#include "util/status.h"

namespace outpost {
namespace {

Status FailsWith(Code c) { return Status(c, "boom"); }

Status UsesReturnIfError(Code c, bool& reached_end) {
  OUTPOST_RETURN_IF_ERROR(FailsWith(c));
  reached_end = true;
  return Status::Ok();
}

}  // namespace

TEST_CASE("a default Status is OK and prints as ok") {
  Status s;
  CHECK(s.ok());
  CHECK(s.code() == Code::kOk);
  CHECK(s.ToString() == "ok");
}

TEST_CASE("an error Status carries its code name and message") {
  Status s = IoError("reading /x: disk on fire");
  CHECK_FALSE(s.ok());
  CHECK(s.ToString() == "io_error: reading /x: disk on fire");
  CHECK(s.WithContext("loading config").message() == "loading config: reading /x: disk on fire");
  CHECK(s.WithContext("ignored").code() == Code::kIoError);
}

TEST_CASE("code names are stable API") {
  CHECK(CodeName(Code::kInvalidArgument) == "invalid_argument");
  CHECK(CodeName(Code::kUnsupported) == "unsupported");
  CHECK(static_cast<int>(Code::kInternal) == 8);
}

TEST_CASE("Result holds a value or an error") {
  Result<int> good = 42;
  REQUIRE(good.ok());
  CHECK(*good == 42);
  CHECK(good.status().ok());

  Result<int> bad = NotFound("no such key");
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().code() == Code::kNotFound);
  CHECK(bad.value_or(7) == 7);
}

TEST_CASE("a Result built from an OK status becomes an internal error instead of a crash") {
  Result<std::string> r = Status::Ok();
  CHECK_FALSE(r.ok());
  CHECK(r.status().code() == Code::kInternal);
}

TEST_CASE("OUTPOST_RETURN_IF_ERROR returns the first error and skips the rest") {
  bool reached = false;
  CHECK(UsesReturnIfError(Code::kCorrupt, reached).code() == Code::kCorrupt);
  CHECK_FALSE(reached);
  CHECK(UsesReturnIfError(Code::kOk, reached).ok());
  CHECK(reached);
}

}  // namespace outpost
