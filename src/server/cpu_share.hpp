// How many cores this process may really use, for the default of WORKERS: the CPUs its affinity
// mask allows (taskset, cpuset) and, tighter still, its cgroup's CPU quota (a container's
// `--cpus`, a Kubernetes CPU limit: cgroup v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us),
// rounded up. Not the host's core count: a proxy in a one-CPU container on a 64-core host that
// ran 64 event loops would only add context switches.
#pragma once

#include <optional>
#include <string_view>

namespace zai::server {

// At least 1.
unsigned usable_cores();

// A quota file's cores, rounded up; nullopt for "no limit" or text it does not understand.
// cgroup v2 cpu.max: "max 100000" or "150000 100000". cgroup v1: the quota file's "-1" or
// "150000", with the period file's "100000".
std::optional<unsigned> cores_of_cpu_max(std::string_view cpu_max);
std::optional<unsigned> cores_of_cfs(std::string_view quota, std::string_view period);

}  // namespace zai::server
