// Service control: installing outpost as the OS's background service, starting,
// stopping and removing it, and asking the service manager about it. systemd on Linux;
// launchd (macOS) and the Windows service control manager slot in behind the same
// interface later, and until then CreateServiceControl says they are not available.
//
// An action is first planned as a list of steps (write this file, remove that one, run
// this program), which `outpost service ... --dry-run` prints and RunServiceSteps
// carries out: what is shown is exactly what is done. Errors are strings: this layer
// depends on nothing above it.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::platform {

struct ServiceStep {
  enum class Kind { kWriteFile, kRemoveFile, kRun };
  Kind kind = Kind::kRun;
  std::filesystem::path path;     // the file, or the program (absolute; no PATH lookup)
  std::string content;            // kWriteFile: the whole file
  unsigned mode = 0644;           // kWriteFile: permission bits (POSIX)
  std::vector<std::string> args;  // kRun
  // A failure is reported but does not stop the plan (stopping a service that is not
  // running, disabling one that is not enabled, removing a file already gone).
  bool ignore_failure = false;
};

// One line for people: "write /etc/systemd/system/outpost.service (mode 0644)",
// "run /usr/bin/systemctl enable outpost.service".
std::string DescribeStep(const ServiceStep& step);

struct ServiceSettings {
  std::filesystem::path binary;  // the outpost binary the service runs (absolute)
  // Empty: the running system. Else the root of an offline image: files go below it,
  // and the manager is told to work on the image (`systemctl --root=DIR enable`);
  // nothing is started or stopped.
  std::filesystem::path root;
  // Test hooks: where unit files go (default: systemd's /etc/systemd/system below
  // root) and the service manager's program (default: found in /usr/bin, /bin).
  std::filesystem::path unit_dir;
  std::filesystem::path manager_program;
  // The config the service runs with (absolute), or empty for the OS default. The
  // Windows service carries it on its command line (`--config FILE run --service`);
  // systemd and launchd run with the default.
  std::filesystem::path config;
};

// What the service manager says about the service.
struct ServiceState {
  bool installed = false;  // the unit file exists
  std::filesystem::path unit_file;
  bool queried = false;         // the manager answered (false with --root: nothing runs)
  std::string load_state;       // systemd LoadState: loaded, not-found, ...
  std::string active_state;     // active, inactive, failed, activating, ...
  std::string sub_state;        // running, dead, exited, ...
  std::string unit_file_state;  // enabled, disabled, ... ("" when unknown)
  long main_pid = 0;            // 0 when not running
  bool running() const { return active_state == "active" || active_state == "reloading"; }
};

enum class ServiceAction { kInstall, kUninstall, kStart, kStop };

class ServiceControl {
 public:
  virtual ~ServiceControl() = default;

  // "systemd"; later "launchd", "scm".
  virtual std::string_view manager() const = 0;
  // The service's name for the manager: "outpost.service".
  virtual std::string_view service_name() const = 0;
  // The unit (or plist, ...) file the service is installed as.
  virtual std::filesystem::path unit_file() const = 0;

  // The steps that carry out `action`, without doing anything. False with *error when
  // the action cannot be done with these settings (start with a --root).
  virtual bool Plan(ServiceAction action, std::vector<ServiceStep>& steps,
                    std::string* error) const = 0;

  // Asks the manager about the service. False with *error when it could not be asked
  // (the manager's program failed).
  virtual bool Query(ServiceState& out, std::string* error) const = 0;
};

// The service control of this OS. Null with *error ("... is not available on windows
// yet") where none is written.
std::unique_ptr<ServiceControl> CreateServiceControl(const ServiceSettings& settings,
                                                     std::string* error);

// Carries out `steps` in order: files are written atomically (a temporary file in the
// same directory, renamed over), with parent directories created; programs run without
// a shell, stdin closed, for at most two minutes each. `report` is called after each
// step with its outcome ("" for success, else what went wrong) and the program's
// output. Stops at the first failure of a step that does not ignore failures and
// returns false with *error naming it.
using StepReport = std::function<void(const ServiceStep& step, const std::string& failure,
                                      const std::string& output)>;
bool RunServiceSteps(const std::vector<ServiceStep>& steps, const StepReport& report,
                     std::string* error);

}  // namespace outpost::platform
