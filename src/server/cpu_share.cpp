#include "server/cpu_share.hpp"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace zai::server {
namespace {

std::optional<long long> number(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  long long n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return n;
}

std::optional<unsigned> cores_of(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return std::nullopt;  // -1: no limit
  return static_cast<unsigned>(std::max(1LL, (quota + period - 1) / period));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

unsigned affinity_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return static_cast<unsigned>(std::max(1, CPU_COUNT(&set)));
}

std::vector<std::string> split(std::string_view text, char by) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(by, start);
    out.emplace_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

// The process's cgroup path in the hierarchy holding the CPU controller: the v2 line ("0::/p")
// or the v1 line that lists `cpu` among its controllers.
std::optional<std::string> cgroup_path(bool v2) {
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);) {
    const auto fields = split(line, ':');
    if (fields.size() < 3) continue;
    const auto controllers = split(fields[1], ',');
    const bool cpu = std::find(controllers.begin(), controllers.end(), "cpu") != controllers.end();
    if (v2 ? fields[0] == "0" && fields[1].empty() : cpu) {
      return line.substr(line.find(':', line.find(':') + 1) + 1);  // the path may hold ':'
    }
  }
  return std::nullopt;
}

// The tightest quota from the process's cgroup up to the hierarchy's root (a parent's limit
// binds its children too).
std::optional<unsigned> quota_below(const std::string& mount_point, const std::string& mount_root,
                                    bool v2) {
  auto path = cgroup_path(v2);
  if (!path) return std::nullopt;
  if (mount_root != "/" && path->starts_with(mount_root)) path->erase(0, mount_root.size());
  std::string dir = mount_point + (*path == "/" ? "" : *path);
  std::optional<unsigned> tightest;
  for (;;) {
    const auto here = v2 ? cores_of_cpu_max(read_file(dir + "/cpu.max"))
                         : cores_of_cfs(read_file(dir + "/cpu.cfs_quota_us"),
                                        read_file(dir + "/cpu.cfs_period_us"));
    if (here && (!tightest || *here < *tightest)) tightest = here;
    if (dir.size() <= mount_point.size()) return tightest;
    dir.erase(dir.rfind('/'));
  }
}

// /proc/self/mountinfo: "id parent dev root mount-point options … - fstype source super-options".
std::optional<unsigned> cgroup_cores() {
  std::ifstream in("/proc/self/mountinfo");
  std::optional<unsigned> tightest;
  for (std::string line; std::getline(in, line);) {
    const auto fields = split(line, ' ');
    const auto dash = std::find(fields.begin(), fields.end(), "-");
    if (fields.size() < 5 || dash == fields.end() || fields.end() - dash < 4) continue;
    const std::string& fstype = dash[1];
    const auto options = split(dash[3], ',');
    const bool v1_cpu =
        fstype == "cgroup" && std::find(options.begin(), options.end(), "cpu") != options.end();
    if (fstype != "cgroup2" && !v1_cpu) continue;
    const auto here = quota_below(fields[4], fields[3], fstype == "cgroup2");
    if (here && (!tightest || *here < *tightest)) tightest = here;
  }
  return tightest;
}

}  // namespace

std::optional<unsigned> cores_of_cpu_max(std::string_view cpu_max) {
  const std::size_t space = cpu_max.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto quota = number(cpu_max.substr(0, space));  // "max": no number, no limit
  const auto period = number(cpu_max.substr(space + 1));
  if (!quota || !period) return std::nullopt;
  return cores_of(*quota, *period);
}

std::optional<unsigned> cores_of_cfs(std::string_view quota, std::string_view period) {
  const auto q = number(quota);
  const auto p = number(period);
  if (!q || !p) return std::nullopt;
  return cores_of(*q, *p);
}

unsigned usable_cores() {
  const unsigned cores = affinity_cores();
  const auto quota = cgroup_cores();
  return quota ? std::min(cores, *quota) : cores;
}

}  // namespace zai::server
