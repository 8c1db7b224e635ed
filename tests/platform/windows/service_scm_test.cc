// The Service Control Manager's plan (platform/windows/service_scm.cc): the sc.exe
// steps for install, reinstall, uninstall, start and stop, and the quoting of the
// service's command line. Nothing here touches the SCM (a --root plan is refused
// before it is asked).
#include <catch.hpp>

#include "outpost/platform/service.h"
#include "windows/service_scm.h"

namespace outpost::platform {
namespace {

ServiceSettings Settings() {
  ServiceSettings s;
  s.binary = "C:\\Program Files\\outpost\\outpost.exe";
  s.manager_program = "C:\\Windows\\System32\\sc.exe";
  return s;
}

std::vector<std::string> Describe(const std::vector<ServiceStep>& steps) {
  std::vector<std::string> out;
  for (const ServiceStep& s : steps) out.push_back(DescribeStep(s));
  return out;
}

TEST_CASE("scm: the command line quotes the binary and carries --config") {
  ServiceSettings s = Settings();
  std::string line, error;
  REQUIRE(ScmCommandLine(s, line, &error));
  CHECK(line == "\"C:\\Program Files\\outpost\\outpost.exe\" run --service");
  s.config = "C:\\ProgramData\\outpost dir\\outpost.toml";
  REQUIRE(ScmCommandLine(s, line, &error));
  CHECK(line ==
        "\"C:\\Program Files\\outpost\\outpost.exe\" --config "
        "\"C:\\ProgramData\\outpost dir\\outpost.toml\" run --service");
}

TEST_CASE("scm: relative paths and double quotes are refused") {
  ServiceSettings s = Settings();
  std::string line, error;
  s.binary = "outpost.exe";
  CHECK_FALSE(ScmCommandLine(s, line, &error));
  CHECK(error == "the binary must be an absolute path: outpost.exe");
  s = Settings();
  s.config = "conf\\outpost.toml";
  CHECK_FALSE(ScmCommandLine(s, line, &error));
  CHECK(error == "the config file must be an absolute path: conf\\outpost.toml");
  std::vector<ServiceStep> steps;
  CHECK_FALSE(PlanScm(ServiceAction::kInstall, s, false, steps, &error));
  CHECK(steps.empty());
}

TEST_CASE("scm: install creates, describes, sets restart on failure and starts") {
  std::vector<ServiceStep> steps;
  std::string error;
  REQUIRE(PlanScm(ServiceAction::kInstall, Settings(), false, steps, &error));
  REQUIRE(steps.size() == 4);
  for (const ServiceStep& st : steps) {
    CHECK(st.kind == ServiceStep::Kind::kRun);
    CHECK(st.path == "C:\\Windows\\System32\\sc.exe");
    CHECK_FALSE(st.ignore_failure);
  }
  // binPath is one argument: RunProgram quotes it for sc.exe's command line.
  CHECK(steps[0].args ==
        std::vector<std::string>{"create", "outpost", "binPath=",
                                 "\"C:\\Program Files\\outpost\\outpost.exe\" run --service",
                                 "start=", "auto", "DisplayName=", "outpost agent"});
  CHECK(steps[1].args.size() == 3);
  CHECK(steps[1].args[0] == "description");
  const std::vector<std::string> d = Describe(steps);
  CHECK(d[2] ==
        "run C:\\Windows\\System32\\sc.exe failure outpost reset= 86400 actions= "
        "restart/5000/restart/5000/restart/60000");
  CHECK(d[3] == "run C:\\Windows\\System32\\sc.exe start outpost");
}

TEST_CASE("scm: a reinstall changes the registration and a failed start is ignored") {
  std::vector<ServiceStep> steps;
  std::string error;
  REQUIRE(PlanScm(ServiceAction::kInstall, Settings(), true, steps, &error));
  REQUIRE(steps.size() == 4);
  CHECK(steps[0].args[0] == "config");
  CHECK(steps[3].args == std::vector<std::string>{"start", "outpost"});
  CHECK(steps[3].ignore_failure);
}

TEST_CASE("scm: uninstall stops (failure ignored) and deletes; nothing when not registered") {
  std::vector<ServiceStep> steps;
  std::string error;
  REQUIRE(PlanScm(ServiceAction::kUninstall, Settings(), true, steps, &error));
  CHECK(Describe(steps) ==
        std::vector<std::string>{"run C:\\Windows\\System32\\sc.exe stop outpost",
                                 "run C:\\Windows\\System32\\sc.exe delete outpost"});
  REQUIRE(steps.size() == 2);
  CHECK(steps[0].ignore_failure);
  CHECK_FALSE(steps[1].ignore_failure);
  REQUIRE(PlanScm(ServiceAction::kUninstall, Settings(), false, steps, &error));
  CHECK(steps.empty());
}

TEST_CASE("scm: start and stop are one sc.exe call each") {
  std::vector<ServiceStep> steps;
  std::string error;
  REQUIRE(PlanScm(ServiceAction::kStart, Settings(), true, steps, &error));
  CHECK(Describe(steps) ==
        std::vector<std::string>{"run C:\\Windows\\System32\\sc.exe start outpost"});
  REQUIRE(PlanScm(ServiceAction::kStop, Settings(), true, steps, &error));
  CHECK(Describe(steps) ==
        std::vector<std::string>{"run C:\\Windows\\System32\\sc.exe stop outpost"});
}

TEST_CASE("scm: sc.exe is found in the system directory") {
  ServiceSettings s = Settings();
  s.manager_program.clear();
  std::vector<ServiceStep> steps;
  std::string error;
  REQUIRE(PlanScm(ServiceAction::kStart, s, true, steps, &error));
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].path.filename() == "sc.exe");
  CHECK(steps[0].path.is_absolute());
}

TEST_CASE("scm: the control answers with its names, and refuses --root") {
  std::string error;
  ServiceSettings s = Settings();
  std::unique_ptr<ServiceControl> control = CreateServiceControl(s, &error);
  REQUIRE(control);
  CHECK(control->manager() == "scm");
  CHECK(control->service_name() == "outpost");
  s.root = "C:\\image";
  control = CreateServiceControl(s, &error);
  std::vector<ServiceStep> steps;
  CHECK_FALSE(control->Plan(ServiceAction::kInstall, steps, &error));
  CHECK(error == "--root (an offline image) is for systemd; the Windows SCM has none");
}

}  // namespace
}  // namespace outpost::platform
