// RunProgram (the self-update preflight runs the staged binary with it): exit status,
// stdout and stderr together, the output cap, the timeout, and arguments that arrive
// as given (spaces and quotes included).
#include <catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "outpost/platform/executable.h"

namespace outpost {
namespace {

using std::chrono::milliseconds;

#ifdef _WIN32
const std::filesystem::path kShell = "C:\\windows\\system32\\cmd.exe";
std::vector<std::string> Script(const std::string& s) { return {"/c", s}; }
#else
const std::filesystem::path kShell = "/bin/sh";
std::vector<std::string> Script(const std::string& s) { return {"-c", s}; }
#endif

}  // namespace

TEST_CASE("RunProgram gives the exit status and the output", "[platform]") {
  platform::ProgramResult r;
  std::string error;
  REQUIRE(platform::RunProgram(kShell, Script("echo out&& echo err 1>&2&& exit 3"),
                               milliseconds(30000), 4096, r, &error));
  CHECK(r.exit_code == 3);
  CHECK_FALSE(r.timed_out);
  CHECK(r.output.find("out") != std::string::npos);
  CHECK(r.output.find("err") != std::string::npos);
}

TEST_CASE("RunProgram keeps at most max_output bytes", "[platform]") {
  platform::ProgramResult r;
  std::string error;
  REQUIRE(platform::RunProgram(kShell, Script("echo 0123456789abcdef"), milliseconds(30000), 5, r,
                               &error));
  CHECK(r.exit_code == 0);
  CHECK(r.output == "01234");
}

#ifndef _WIN32  // cmd.exe parses its own command line; the preflight exercises the quoting
TEST_CASE("RunProgram passes arguments with spaces and quotes as they are", "[platform]") {
  platform::ProgramResult r;
  std::string error;
  REQUIRE(platform::RunProgram(kShell, {"-c", "printf '[%s]' \"$@\"", "sh", "a b", "c\"d", ""},
                               milliseconds(30000), 4096, r, &error));
  CHECK(r.output == "[a b][c\"d][]");
}
#endif

TEST_CASE("RunProgram stops a program at the timeout", "[platform]") {
  platform::ProgramResult r;
  std::string error;
#ifdef _WIN32
  const std::vector<std::string> args = Script("ping -n 30 127.0.0.1 >NUL");
#else
  const std::vector<std::string> args = Script("sleep 30");
#endif
  REQUIRE(platform::RunProgram(kShell, args, milliseconds(300), 4096, r, &error));
  CHECK(r.timed_out);
  CHECK(r.exit_code == -1);
}

TEST_CASE("RunProgram says when a program cannot be started", "[platform]") {
  platform::ProgramResult r;
  std::string error;
  const bool started =
      platform::RunProgram("/no/such/program", {}, milliseconds(30000), 4096, r, &error);
#ifdef _WIN32
  CHECK_FALSE(started);
  CHECK(error.find("cannot start") != std::string::npos);
#else
  // fork works, exec does not: the child says so and exits 127
  REQUIRE(started);
  CHECK(r.exit_code == 127);
  CHECK(r.output.find("exec failed") != std::string::npos);
#endif
}

}  // namespace outpost
