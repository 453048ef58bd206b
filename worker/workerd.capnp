# zai-proxy's Worker in workerd, for local runs: from worker/, `npm run build`, then
# `npx workerd serve workerd.capnp` serves on 127.0.0.1:8787. The end-to-end tests start this
# same file (test/e2e/worker_target.js) with their own address and vars.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # Outbound fetches (the upstream, the captcha provider). "local" admits loopback, for a fake.
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "dist/worker.js"),
    (name = "core.wasm", wasm = embed "dist/core.wasm"),
  ],
  compatibilityDate = "2025-09-01",
  compatibilityFlags = ["nodejs_compat", "enable_request_signal"],
  globalOutbound = "internet",
  bindings = [
    (name = "ZAI_BASE_URL", text = "https://chat.z.ai"),
    (name = "TOKEN_POOL_SIZE", text = "5"),
  ],
);
