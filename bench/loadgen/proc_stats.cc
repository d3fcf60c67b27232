#include "bench/loadgen/proc_stats.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace recurrent::bench {
namespace {

// The value in MB of a "Name:   1234 kB" line of /proc/PID/status.
std::optional<double> StatusKb(const std::string& status,
                               const std::string& name) {
  const size_t at = status.find(name + ":");
  if (at == std::string::npos) return std::nullopt;
  std::istringstream line(status.substr(at + name.size() + 1));
  double kb = 0;
  if (!(line >> kb)) return std::nullopt;
  return kb / 1024.0;
}

}  // namespace

std::optional<ProcessSample> SampleProcess(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream stat_file(dir + "/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)),
                   std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces: fields restart after ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  // Fields 3..13, then utime (14) and stime (15).
  for (int i = 3; i <= 13; ++i) fields >> field;
  double utime = 0, stime = 0;
  if (!(fields >> utime >> stime)) return std::nullopt;
  ProcessSample sample;
  sample.cpu_seconds =
      (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));

  std::ifstream status_file(dir + "/status");
  std::string status((std::istreambuf_iterator<char>(status_file)),
                     std::istreambuf_iterator<char>());
  sample.rss_mb = StatusKb(status, "VmRSS").value_or(0);
  sample.peak_rss_mb = StatusKb(status, "VmHWM").value_or(0);
  return sample;
}

}  // namespace recurrent::bench
