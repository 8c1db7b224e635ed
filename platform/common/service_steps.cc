// Carrying out a service plan (service.h): the same steps that --dry-run prints.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <system_error>

#include "outpost/platform/executable.h"
#include "outpost/platform/service.h"

namespace outpost::platform {
namespace {

namespace fs = std::filesystem;

constexpr std::chrono::minutes kStepTimeout(2);
constexpr size_t kMaxOutput = 64 * 1024;

std::string Octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777u);
  return buf;
}

// Writes a temporary file beside `path`, sets its mode, renames it over `path`.
std::string WriteFileAtomically(const fs::path& path, const std::string& content, unsigned mode) {
  std::error_code ec;
  if (path.has_parent_path()) {
    fs::create_directories(path.parent_path(), ec);
    if (ec) return "cannot create " + path.parent_path().string() + ": " + ec.message();
  }
  fs::path tmp = path;
  tmp += ".outpost-tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return "cannot write " + tmp.string();
    f.write(content.data(), static_cast<std::streamsize>(content.size()));
    f.close();
    if (!f) {
      fs::remove(tmp, ec);
      return "cannot write " + tmp.string();
    }
  }
  fs::permissions(tmp, static_cast<fs::perms>(mode & 07777u), fs::perm_options::replace, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return "cannot set the mode of " + tmp.string() + ": " + ec.message();
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return "cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message();
  }
  return "";
}

}  // namespace

std::string DescribeStep(const ServiceStep& step) {
  switch (step.kind) {
    case ServiceStep::Kind::kWriteFile:
      return "write " + step.path.string() + " (mode " + Octal(step.mode) + ")";
    case ServiceStep::Kind::kRemoveFile:
      return "remove " + step.path.string();
    case ServiceStep::Kind::kRun: {
      std::string s = "run " + step.path.string();
      for (const std::string& a : step.args) s += " " + a;
      return s;
    }
  }
  return "";
}

bool RunServiceSteps(const std::vector<ServiceStep>& steps, const StepReport& report,
                     std::string* error) {
  for (const ServiceStep& step : steps) {
    std::string failure, output;
    switch (step.kind) {
      case ServiceStep::Kind::kWriteFile:
        failure = WriteFileAtomically(step.path, step.content, step.mode);
        break;
      case ServiceStep::Kind::kRemoveFile: {
        std::error_code ec;
        if (!fs::remove(step.path, ec) && ec)
          failure = "cannot remove " + step.path.string() + ": " + ec.message();
        break;
      }
      case ServiceStep::Kind::kRun: {
        ProgramResult r;
        std::string msg;
        if (!RunProgram(step.path, step.args, kStepTimeout, kMaxOutput, r, &msg)) {
          failure = msg;
        } else {
          output = r.output;
          if (r.timed_out)
            failure = "did not finish within " + std::to_string(kStepTimeout.count()) + " minutes";
          else if (r.exit_code != 0)
            failure = "exit status " + std::to_string(r.exit_code);
        }
        break;
      }
    }
    if (report) report(step, failure, output);
    if (!failure.empty() && !step.ignore_failure) {
      if (error) *error = DescribeStep(step) + ": " + failure;
      return false;
    }
  }
  return true;
}

}  // namespace outpost::platform
