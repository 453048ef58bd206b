// `zai-proxy --health-probe`: asks a zai-proxy running on this host whether it is alive, for
// container health checks in images that have no shell, curl or wget. It reads the same settings
// as the server (environment and flags, so `-e PORT=…` is honoured), connects to the loopback
// address the server listens on, sends `GET /healthz` and exits 0 on a 200 and 1 on anything else
// (refused, timed out, another status, a bad setting). Docker reserves exit status 2, so the
// probe never returns it.
#pragma once

#include <span>
#include <string_view>

namespace zai::server {

inline constexpr std::string_view health_probe_flag = "--health-probe";

// For --help, after the settings.
inline constexpr std::string_view health_probe_help =
    "  --health-probe                        GET /healthz on this host's PORT; exit 0 on 200,\n"
    "      else 1 (for container HEALTHCHECKs; needs no shell tools).\n";

// Whether the arguments (program name excluded) ask for the probe.
bool wants_health_probe(std::span<const std::string_view> args);

// Runs the probe; the other arguments are server flags (e.g. --port). Returns the exit status.
int run_health_probe(std::span<const std::string_view> args);

}  // namespace zai::server
