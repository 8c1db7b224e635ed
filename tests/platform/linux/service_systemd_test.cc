// outpost as a systemd service: the plans for each action (what --dry-run prints), the
// unit written from installer/linux/outpost.service, and carrying out a plan in a temp
// directory with a fake systemctl. Never touches the real systemd.
#include <catch.hpp>
#include <fstream>
#include <sstream>
#include "source_dir.h"

#include "outpost/platform/service.h"
#include "test_files.h"

namespace outpost {
namespace {

namespace fs = std::filesystem;
using platform::ServiceAction;
using platform::ServiceStep;

std::string ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string ShippedUnit() {
  return ReadFile(fs::path(OUTPOST_SOURCE_DIR) / "installer/linux/outpost.service");
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  REQUIRE(at != std::string::npos);
  return s.replace(at, from.size(), to);
}

std::unique_ptr<platform::ServiceControl> Control(const platform::ServiceSettings& s) {
  std::string error;
  auto c = platform::CreateServiceControl(s, &error);
  REQUIRE(c);
  return c;
}

std::vector<std::string> Describe(const std::vector<ServiceStep>& steps) {
  std::vector<std::string> out;
  for (const auto& s : steps) out.push_back(platform::DescribeStep(s));
  return out;
}

}  // namespace

TEST_CASE("install plans the shipped unit with the binary's path, then systemctl") {
  platform::ServiceSettings s;
  s.binary = "/opt/outpost/bin/outpost";
  s.manager_program = "/usr/bin/systemctl";
  auto c = Control(s);
  CHECK(c->manager() == "systemd");
  CHECK(c->unit_file() == "/etc/systemd/system/outpost.service");
  std::vector<ServiceStep> steps;
  std::string error;
  REQUIRE(c->Plan(ServiceAction::kInstall, steps, &error));
  CHECK(Describe(steps) ==
        std::vector<std::string>{"write /etc/systemd/system/outpost.service (mode 0644)",
                                 "run /usr/bin/systemctl daemon-reload",
                                 "run /usr/bin/systemctl enable outpost.service",
                                 "run /usr/bin/systemctl restart outpost.service"});
  CHECK(steps[0].content == Replace(ShippedUnit(), "\nExecStart=/usr/bin/outpost run\n",
                                    "\nExecStart=/opt/outpost/bin/outpost run\n"));
}

TEST_CASE("the installed unit equals the shipped file for the packaged path") {
  platform::ServiceSettings s;
  s.binary = "/usr/bin/outpost";
  std::vector<ServiceStep> steps;
  REQUIRE(Control(s)->Plan(ServiceAction::kInstall, steps, nullptr));
  CHECK(steps[0].content == ShippedUnit());
}

TEST_CASE("a binary path systemd would misread is quoted and escaped") {
  platform::ServiceSettings s;
  s.binary = "/opt/my agent/100%/$HOME/outpost";
  std::vector<ServiceStep> steps;
  REQUIRE(Control(s)->Plan(ServiceAction::kInstall, steps, nullptr));
  CHECK(steps[0].content.find("\nExecStart=\"/opt/my agent/100%%/$$HOME/outpost\" run\n") !=
        std::string::npos);

  s.binary = "/opt/bad\nExecStartPre=/bin/evil";
  std::string error;
  CHECK_FALSE(Control(s)->Plan(ServiceAction::kInstall, steps, &error));
  CHECK(error.find("control character") != std::string::npos);

  s.binary = "outpost";
  CHECK_FALSE(Control(s)->Plan(ServiceAction::kInstall, steps, &error));
  CHECK(error.find("absolute") != std::string::npos);
}

TEST_CASE("with a root the unit goes into the image and is enabled there, nothing started") {
  platform::ServiceSettings s;
  s.binary = "/usr/local/bin/outpost";
  s.root = "/mnt/img";
  s.manager_program = "/usr/bin/systemctl";
  auto c = Control(s);
  CHECK(c->unit_file() == "/mnt/img/etc/systemd/system/outpost.service");
  std::vector<ServiceStep> steps;
  std::string error;
  REQUIRE(c->Plan(ServiceAction::kInstall, steps, &error));
  CHECK(Describe(steps) ==
        std::vector<std::string>{"write /mnt/img/etc/systemd/system/outpost.service (mode 0644)",
                                 "run /usr/bin/systemctl --root=/mnt/img enable outpost.service"});
  CHECK_FALSE(c->Plan(ServiceAction::kStart, steps, &error));
  CHECK(error.find("--root") != std::string::npos);
  CHECK_FALSE(c->Plan(ServiceAction::kStop, steps, &error));
}

TEST_CASE("start, stop; uninstall only what install wrote") {
  testing::TempDir dir;
  platform::ServiceSettings s;
  s.unit_dir = dir.path();
  s.manager_program = "/usr/bin/systemctl";
  auto c = Control(s);
  std::vector<ServiceStep> steps;
  REQUIRE(c->Plan(ServiceAction::kStart, steps, nullptr));
  CHECK(Describe(steps) ==
        std::vector<std::string>{"run /usr/bin/systemctl start outpost.service"});
  REQUIRE(c->Plan(ServiceAction::kStop, steps, nullptr));
  CHECK(Describe(steps) == std::vector<std::string>{"run /usr/bin/systemctl stop outpost.service"});
  REQUIRE(c->Plan(ServiceAction::kUninstall, steps, nullptr));
  CHECK(steps.empty());  // nothing installed here: nothing to do

  dir.Write("outpost.service", "[Unit]\n");
  REQUIRE(c->Plan(ServiceAction::kUninstall, steps, nullptr));
  CHECK(Describe(steps) ==
        std::vector<std::string>{"run /usr/bin/systemctl stop outpost.service",
                                 "run /usr/bin/systemctl disable outpost.service",
                                 "remove " + (dir.path() / "outpost.service").string(),
                                 "run /usr/bin/systemctl daemon-reload"});
  CHECK(steps[0].ignore_failure);  // stopping a stopped service is fine
  CHECK(steps[1].ignore_failure);
}

TEST_CASE("carrying out a plan writes the unit, runs systemctl, and stops at a failure") {
  testing::TempDir dir;
  const fs::path log = dir.path() / "argv.log";
  const fs::path fake = dir.Write("systemctl", "#!/bin/sh\necho \"$*\" >> '" + log.string() +
                                                   "'\n[ \"$1\" != restart ] || exit 4\n");
  fs::permissions(fake, fs::perms::owner_all);
  platform::ServiceSettings s;
  s.binary = "/usr/bin/outpost";
  s.unit_dir = dir.path() / "units";
  s.manager_program = fake;
  auto c = Control(s);
  std::vector<ServiceStep> steps;
  REQUIRE(c->Plan(ServiceAction::kInstall, steps, nullptr));
  std::vector<std::string> reported;
  std::string error;
  CHECK_FALSE(platform::RunServiceSteps(
      steps,
      [&](const ServiceStep& step, const std::string& failure, const std::string&) {
        reported.push_back(platform::DescribeStep(step) + (failure.empty() ? "" : ": " + failure));
      },
      &error));
  CHECK(error == "run " + fake.string() + " restart outpost.service: exit status 4");
  REQUIRE(reported.size() == 4);
  CHECK(reported[3] == error);
  CHECK(ReadFile(s.unit_dir / "outpost.service") == ShippedUnit());
  CHECK((fs::status(s.unit_dir / "outpost.service").permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
         fs::perms::others_read));
  CHECK(ReadFile(log) == "daemon-reload\nenable outpost.service\nrestart outpost.service\n");
}

TEST_CASE("status parses systemctl show; a failing systemctl is an error") {
  testing::TempDir dir;
  dir.Write("outpost.service", "[Unit]\n");
  const fs::path fake =
      dir.Write("systemctl",
                "#!/bin/sh\n"
                "printf 'LoadState=loaded\\nActiveState=active\\nSubState=running\\n"
                "UnitFileState=enabled\\nMainPID=1234\\nFragmentPath=/lib/systemd/system/"
                "outpost.service\\n'\n");
  fs::permissions(fake, fs::perms::owner_all);
  platform::ServiceSettings s;
  s.unit_dir = dir.path();
  s.manager_program = fake;
  platform::ServiceState st;
  std::string error;
  REQUIRE(Control(s)->Query(st, &error));
  CHECK(st.installed);
  CHECK(st.queried);
  CHECK(st.running());
  CHECK(st.main_pid == 1234);
  CHECK(st.sub_state == "running");
  CHECK(st.unit_file_state == "enabled");
  CHECK(st.unit_file == "/lib/systemd/system/outpost.service");

  const fs::path failing = dir.Write(
      "failing", "#!/bin/sh\necho 'System has not been booted with systemd' >&2\nexit 1\n");
  fs::permissions(failing, fs::perms::owner_all);
  s.manager_program = failing;
  CHECK_FALSE(Control(s)->Query(st, &error));
  CHECK(error.find("System has not been booted with systemd") != std::string::npos);
}

}  // namespace outpost
