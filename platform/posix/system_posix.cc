// POSIX host name, terminal detection, limits and process usage (Linux and macOS).
#include <sys/ioctl.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif
#include <time.h>
#include <unistd.h>
#ifdef __APPLE__
#include <mach/mach.h>
#endif
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

#include "outpost/platform/system.h"

namespace outpost::platform {

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "unknown";
  return buf;
}

bool IsTerminal(StdStream stream) {
  return isatty(stream == StdStream::kStdout ? STDOUT_FILENO : STDERR_FILENO) == 1;
}

int TerminalColumns() {
  struct winsize ws {};
  if (isatty(STDOUT_FILENO) != 1 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0) return 0;
  return ws.ws_col > 0 ? ws.ws_col : 80;
}

unsigned long RaiseOpenFileLimit() {
  struct rlimit lim {};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
  if (lim.rlim_cur < lim.rlim_max) {
    struct rlimit want = lim;
    want.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) lim = want;
  }
  return lim.rlim_cur == RLIM_INFINITY ? ULONG_MAX : static_cast<unsigned long>(lim.rlim_cur);
}

long ProcessId() { return static_cast<long>(getpid()); }

std::chrono::nanoseconds ProcessCpuTime() {
  struct timespec ts {};
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) return std::chrono::nanoseconds(0);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

uint64_t ProcessResidentBytes() {
#ifdef __APPLE__
  mach_task_basic_info_data_t info{};
  mach_msg_type_number_t count = MACH_TASK_BASIC_INFO_COUNT;
  if (task_info(mach_task_self(), MACH_TASK_BASIC_INFO, reinterpret_cast<task_info_t>(&info),
                &count) != KERN_SUCCESS)
    return 0;
  return info.resident_size;
#else
  // /proc/self/statm: sizes in pages; the second is the resident set.
  std::FILE* f = std::fopen("/proc/self/statm", "re");
  if (!f) return 0;
  unsigned long long total = 0, resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &total, &resident);
  std::fclose(f);
  const long page = sysconf(_SC_PAGESIZE);
  if (n != 2 || page <= 0) return 0;
  return static_cast<uint64_t>(resident) * static_cast<uint64_t>(page);
#endif
}

void ReleaseFreeMemory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

bool SetProcessPriority(int nice, int io, std::string* error) {
  bool ok = true;
  std::string why;
  if (nice != 0 && ::setpriority(PRIO_PROCESS, 0, nice) != 0) {
    why = std::string("cannot set nice ") + std::to_string(nice) + ": " + std::strerror(errno);
    ok = false;
  }
  if (io != 0) {
#ifdef __linux__
    // ioprio_set(2) has no glibc wrapper: class in the top bits, level below.
    constexpr int kClassShift = 13, kBestEffort = 2, kIdle = 3, kWhoProcess = 1;
    const int value = io == 2 ? (kIdle << kClassShift) : ((kBestEffort << kClassShift) | 7);
    if (::syscall(SYS_ioprio_set, kWhoProcess, 0, value) != 0) {
      if (!why.empty()) why += "; ";
      why += std::string("cannot set the I/O priority: ") + std::strerror(errno);
      ok = false;
    }
#else
    if (!why.empty()) why += "; ";
    why += "an I/O priority is not available on this OS";
    ok = false;
#endif
  }
  if (!ok && error) *error = why;
  return ok;
}

}  // namespace outpost::platform
