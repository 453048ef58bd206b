#!/usr/bin/env bash
# The container proof (CI runs it after the native suites): lints the Dockerfiles and
# docker-compose.yml, builds the image with podman from the same Dockerfile `docker build` uses,
# runs it on loopback against the bundled fake Z.AI (itself built from deploy/fake-zai.Dockerfile),
# checks /health, /readyz, /v1/models, a streamed completion, the HEALTHCHECK, the non-root user and
# the size, stops it with SIGTERM in the middle of a stream (the stream must finish, exit 0), and
# validates deploy/k8s offline. Installs what it needs (Debian packages, npm ci); needs root.
#
# No registry is reachable here, so the `debian:bookworm-slim` the Dockerfiles start from is made
# locally with debootstrap from this machine's own Debian mirror, and cached as a tarball under
# $ZAI_CONTAINER_CACHE (default /var/cache/zai-proxy-ci) and as an image in podman's storage.
set -euo pipefail
cd "$(dirname "$0")/.."

image=${ZAI_IMAGE:-localhost/z-ai-proxy:ci}
fake_image=${ZAI_FAKE_IMAGE:-localhost/z-ai-proxy-fake-zai:ci}
cache=${ZAI_CONTAINER_CACHE:-/var/cache/zai-proxy-ci}
base=docker.io/library/debian:bookworm-slim
size_limit=$((30 * 1000 * 1000))
api_key=sk-container-test
proxy=zai-ci-proxy-$$
fake=zai-ci-fake-$$

passed=0
failed=0
quietly() {  # quietly COMMAND...: shows the command's output only when it fails
  local out
  out=$("$@" 2>&1) || { printf '%s\n' "$out"; return 1; }
}
check() {  # check NAME COMMAND...: runs the command, counts and prints the outcome
  local name=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok - $name"
  else
    failed=$((failed + 1))
    echo "not ok - $name"
  fi
}
die() {
  echo "container-test: $*" >&2
  exit 1
}
# until_true SECONDS COMMAND...: polls the command every 0.1 s until it succeeds, at most SECONDS.
until_true() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}
ms_now() { date +%s%3N; }
section() { echo "== container: $* (at ${SECONDS} s)"; }

section "install podman, debootstrap and the linters"
packages=(podman buildah runc conmon uidmap slirp4netns fuse-overlayfs debootstrap curl nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if command -v node >/dev/null && command -v npm >/dev/null; then  # node may come from elsewhere
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ! -d test/container/node_modules ] || [ test/container/package-lock.json -nt test/container/node_modules ]; then
  (cd test/container && npm ci --no-audit --no-fund --loglevel=error)
fi

work=$(mktemp -d)
cleanup() {
  [ -n "${stream_pid:-}" ] && kill "$stream_pid" 2>/dev/null || true
  for c in "$proxy" "$fake" "${demo_fake:-}" "${demo:-}"; do
    [ -z "$c" ] || podman rm -f -i "$c" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# podman with this machine's two workarounds, without touching /etc: runc (crun rejects the
# hybrid cgroups here) and explicit ulimits (the VM cannot raise podman's default ones).
cat >"$work/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF=$work/containers.conf

section "lint"
bin=test/container/node_modules/.bin
check "Dockerfile lints clean (dockerfile-utils)" quietly "$bin/dockerfile-utils" lint Dockerfile
check "deploy/fake-zai.Dockerfile lints clean (dockerfile-utils)" quietly "$bin/dockerfile-utils" lint deploy/fake-zai.Dockerfile
check "docker-compose.yml matches the Compose schema and lints clean (dclint)" \
  quietly "$bin/dclint" -c test/container/dclint.yaml --max-warnings 0 docker-compose.yml

section "base image $base"
if podman image exists "$base"; then
  echo "present in podman's storage"
else
  # The machine's Debian archive as apt resolves it (disabled sources and other vendors left out),
  # and its bookworm suites (updates, security) for the image's own apt sources, as the real
  # debian:bookworm-slim has them.
  suites=$(apt-get indextargets --no-release-info --format '$(REPO_URI) $(RELEASE)' \
    'Identifier: Packages' | awk '$2 ~ /^bookworm(-updates|-security)?$/' | sort -u)
  mirror=$(awk '$2 == "bookworm" { print $1; exit }' <<<"$suites")
  [ -n "$mirror" ] || die "no active bookworm source in apt's configuration"
  tarball=$cache/bookworm-minbase-$(printf %s "$suites" | sha256sum | cut -c1-12).tar
  if [ ! -s "$tarball" ]; then
    echo "debootstrap --variant=minbase bookworm from $mirror (once per machine, a few minutes)"
    mkdir -p "$cache"
    rootfs=$work/rootfs
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
      { tail -20 "$work/debootstrap.log"; die "debootstrap failed"; }
    awk '{ print "deb " $1 " " $2 " main" }' <<<"$suites" >"$rootfs/etc/apt/sources.list"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  fi
  podman import "$tarball" "$base" >"$work/import.log" 2>&1 || { cat "$work/import.log"; die "podman import failed"; }
fi

section "build"
start=$(ms_now)
podman build --format docker --pull=never --network host -t "$image" . >"$work/build.log" 2>&1 ||
  { tail -40 "$work/build.log"; die "podman build failed"; }
build_ms=$(($(ms_now) - start))
grep -E "tests passed|Test #" "$work/build.log" | tail -1 || true
podman build --format docker --pull=never --network host -f deploy/fake-zai.Dockerfile \
  -t "$fake_image" . >"$work/fake-build.log" 2>&1 ||
  { tail -40 "$work/fake-build.log"; die "podman build of the fake failed"; }
echo "built $image in $((build_ms / 1000)) s"

size=$(podman image inspect --format '{{.Size}}' "$image")
echo "image size: $size bytes ($(((size + 500000) / 1000000)) MB)"
check "image is under 30 MB" test "$size" -lt "$size_limit"
inspect() { podman image inspect --format "$1" "$image"; }
check "image runs as a non-root user (USER 65532)" test "$(inspect '{{.Config.User}}')" = 65532:65532
check "image listens on 0.0.0.0:3000 by default" \
  grep -qx 'HOST=0.0.0.0 PORT=3000' <<<"$(inspect '{{range .Config.Env}}{{.}} {{end}}' | grep -o 'HOST=[^ ]* PORT=[^ ]*')"
check "image exposes 3000/tcp" grep -q '3000/tcp' <<<"$(inspect '{{json .Config.ExposedPorts}}')"
check "image keeps its HEALTHCHECK (the binary's --health-probe)" \
  grep -q -- '--health-probe' <<<"$(inspect '{{json .HealthCheck}}')"
check "image holds no shell" bash -c "! podman run --rm --no-healthcheck --network none --entrypoint /bin/sh '$image' -c true 2>/dev/null"

section "run against the fake Z.AI on 127.0.0.1"
# podman complains that it cannot schedule health checks without systemd; they are run by hand below.
podman run -d --name "$fake" --network host "$fake_image" --host 127.0.0.1 --port 0 --no-captcha \
  >/dev/null 2>"$work/podman-run.log"
fake_line() { podman logs "$fake" 2>/dev/null | grep -m1 '^FAKE_ZAI_LISTENING '; }
until_true 20 fake_line >/dev/null || { podman logs "$fake"; die "the fake did not start"; }
fake_url=$(fake_line | cut -d' ' -f2)
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
base_url=http://127.0.0.1:$port

started=$(ms_now)
# The constraints the compose file and the k8s Deployment apply: read-only root, no capabilities.
podman run -d --name "$proxy" --network host --read-only --cap-drop ALL \
  --security-opt no-new-privileges -e HOST=127.0.0.1 -e PORT="$port" -e ZAI_BASE_URL="$fake_url" \
  -e TOKEN_POOL_SIZE=3 -e API_KEY="$api_key" "$image" >/dev/null 2>>"$work/podman-run.log"
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base_url$1"; }
ready() { [ "$(status_of /readyz)" = 200 ]; }
until_true 30 ready || { podman logs "$proxy"; die "the proxy never became ready"; }
ready_ms=$(($(ms_now) - started))
echo "start to ready (podman run until GET /readyz answers 200): $ready_ms ms"
# Printed for docs/PERFORMANCE.md, not asserted: memory is a benchmark's figure, not a test's.
proxy_pid=$(podman inspect --format '{{.State.Pid}}' "$proxy")
echo "idle RSS of the proxy in the container: $(awk '/VmRSS/ {print $2}' "/proc/$proxy_pid/status") kB"

check "GET /healthz answers 200" test "$(status_of /healthz)" = 200
health=$(curl -s --max-time 2 "$base_url/health")
check "GET /health is ok and -e TOKEN_POOL_SIZE=3 reached the pool" \
  node -e 'const h=JSON.parse(process.argv[1]); process.exit(h.status==="ok" && h.pool.total===3 ? 0 : 1)' "$health"
models=$(curl -s --max-time 5 -H "Authorization: Bearer $api_key" "$base_url/v1/models")
check "GET /v1/models lists glm-4.7" \
  node -e 'const m=JSON.parse(process.argv[1]); process.exit(m.object==="list" && m.data.some(x=>x.id==="glm-4.7") ? 0 : 1)' "$models"
check "GET /v1/models with a wrong key is 401" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' "$base_url/v1/models")" = 401

chat() {  # chat OUTFILE TEXT: a streamed chat completion written to OUTFILE
  curl -sN --max-time 60 -H "Authorization: Bearer $api_key" -H 'Content-Type: application/json' \
    -d "{\"model\":\"glm-4.7\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"$2\"}]}" \
    "$base_url/v1/chat/completions" >"$1"
}
# sse_text FILE: the streamed answer's content, or exit 1 if the stream did not end with [DONE].
sse_text() {
  node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter((l) => l.startsWith("data: "));
    if (lines.at(-1) !== "data: [DONE]") process.exit(1);
    const chunks = lines.slice(0, -1).map((l) => JSON.parse(l.slice(6)));
    if (!chunks.some((c) => c.choices?.[0]?.finish_reason === "stop")) process.exit(1);
    process.stdout.write(chunks.map((c) => c.choices?.[0]?.delta?.content ?? "").join(""));' "$1"
}
chat "$work/stream.txt" "Hello from the container test"
check "a streamed chat completion through the image answers in full" \
  test "$(sse_text "$work/stream.txt")" = "You said: Hello from the container test"

proc_uid=$(awk '/^Uid:/ { print $2 }' "/proc/$(podman inspect --format '{{.State.Pid}}' "$proxy")/status")
check "the running proxy's process is uid 65532, not root" test "$proc_uid" = 65532
check "podman healthcheck run (the image's HEALTHCHECK) reports healthy" podman healthcheck run "$proxy"
check "--health-probe exits 1 when nothing listens" bash -c \
  "podman run --rm --no-healthcheck --network host -e PORT=1 '$image' --health-probe 2>/dev/null; test \$? = 1"

section "SIGTERM during a paced stream"
# The next answer comes in events 250 ms apart (reasoning, then 20 answer pieces: about 6 s), so
# it is in flight when the signal comes.
curl -s --max-time 5 -H 'Content-Type: application/json' -d \
  '{"generate":{"answer_pieces":20},"transport":{"inter_event_delay_ms":250}}' \
  "$fake_url/__fake/script" >/dev/null
prompt="drain test: one two three four five six seven eight nine ten eleven twelve"
chat "$work/drain.txt" "$prompt" &
stream_pid=$!
first_chunk() { grep -q '^data: {' "$work/drain.txt" 2>/dev/null; }
until_true 20 first_chunk || die "the paced stream never started"
podman kill --signal TERM "$proxy" >/dev/null
refused() {  # curl's exit status 7: the connection itself was refused
  local rc=0
  curl -s -o /dev/null --max-time 2 "$base_url/healthz" || rc=$?
  [ "$rc" = 7 ]
}
check "after SIGTERM the proxy refuses new connections" until_true 10 refused
check "... while the stream is still in flight" bash -c "! grep -q 'data: \\[DONE\\]' '$work/drain.txt'"
wait "$stream_pid" && stream_rc=0 || stream_rc=$?
stream_pid=
check "the in-flight stream finished in full after SIGTERM" \
  test "$stream_rc:$(sse_text "$work/drain.txt")" = "0:You said: $prompt"
exit_code=$(timeout 40 podman wait "$proxy" || echo "no exit within 40 s")
check "the proxy exited 0 after draining" test "$exit_code" = 0
check "the proxy logged the drain" grep -q '"phase":"done"' <<<"$(podman logs "$proxy" 2>&1)"

section "the compose demo's layout: the fake in the proxy's network namespace"
# As `docker compose --profile demo up` runs them: the proxy first, pointed at 127.0.0.1:8089;
# then the fake with its image's default command, joining the proxy's network namespace
# (network_mode: service:zai-proxy). The proxy must recover and answer.
demo=zai-ci-demo-$$
demo_fake=zai-ci-demo-fake-$$
demo_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
podman run -d --name "$demo" --network host -e HOST=127.0.0.1 -e PORT="$demo_port" \
  -e ZAI_BASE_URL=http://127.0.0.1:8089 "$image" >/dev/null 2>>"$work/podman-run.log"
podman run -d --name "$demo_fake" --network "container:$demo" "$fake_image" >/dev/null 2>>"$work/podman-run.log"
demo_ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$demo_port/readyz")" = 200 ]; }
check "the demo proxy becomes ready once the fake is up" until_true 30 demo_ready
answer=$(curl -s --max-time 10 -H 'Authorization: Bearer sk-z2api-key-2024' -H 'Content-Type: application/json' \
  -d '{"model":"glm-4.7","messages":[{"role":"user","content":"Hi"}]}' "http://127.0.0.1:$demo_port/v1/chat/completions")
check "the demo answers a completion with the default key" \
  node -e 'process.exit(JSON.parse(process.argv[1]).choices[0].message.content === "You said: Hi" ? 0 : 1)' "$answer"
podman rm -f "$demo_fake" >/dev/null 2>&1  # first: it lives in the proxy's namespace
podman rm -f "$demo" >/dev/null 2>&1

section "offline checks of deploy/k8s and docker-compose.yml"
podman run --rm --no-healthcheck --network none "$image" --help >"$work/settings.txt"
check "deploy/k8s and docker-compose.yml pass check-deploy" \
  node test/container/check-deploy.mjs --settings "$work/settings.txt"
# The checker must be able to fail: a Deployment without a read-only root must be rejected.
cp -r deploy/k8s "$work/k8s-broken"
sed -i 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/' "$work/k8s-broken/deployment.yaml"
check "check-deploy rejects a writable root filesystem" \
  bash -c "! node test/container/check-deploy.mjs --k8s '$work/k8s-broken' >/dev/null"

# Old dangling build layers only; recent ones are the next run's cache.
podman image prune -f --filter until=72h >/dev/null 2>&1 || true

echo "image $image: $(((size + 500000) / 1000000)) MB, built in $((build_ms / 1000)) s, ready $ready_ms ms after start"
echo "container: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
