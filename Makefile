# zai-proxy: `make run` serves on :3000, `make test` runs every test. Both install what they need.
BUILD      ?= build/release
ASAN_BUILD ?= build/asan
TSAN_BUILD ?= build/tsan
FUZZ_BUILD ?= build/fuzz
FUZZ_RUNS  ?= 10000000
JOBS       ?= $(shell nproc)

.PHONY: all deps build run demo test test-asan test-tsan fuzz fuzz-smoke test-worker wasm \
        test-container bench bench-smoke soak soak-smoke tidy tool-eval clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/zai-proxy

demo: build
	scripts/demo.sh $(BUILD)/zai-proxy

test: build
	scripts/test.sh $(BUILD)

# The core for wasm32-wasi (build/wasm/core.wasm), as the Worker uses it.
wasm: deps
	scripts/build-wasm.sh

# Only the Worker: core.wasm, the bundle, wrangler's dry run, the end-to-end suite in workerd.
test-worker: deps
	scripts/test-worker.sh

# clang-tidy with the checks in .clang-tidy over src/core, src/native and src/server (CI).
tidy: build
	scripts/tidy.sh $(BUILD)

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DZAI_SANITIZE=ON

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ZAI_WORKER_TESTS=0 scripts/test.sh $(ASAN_BUILD)

$(TSAN_BUILD)/build.ninja:
	cmake -S . -B $(TSAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZAI_TSAN=ON

# The server under ThreadSanitizer: its own tests, then the native end-to-end suite and the agent
# CLIs, every proxy with two event loops (they share the gateway). The core's unit tests are not
# rebuilt here: the core runs no threads. A race report fails the test whose proxy printed it.
test-tsan: deps $(TSAN_BUILD)/build.ninja
	cmake --build $(TSAN_BUILD) -j $(JOBS) --target zai-proxy server_tests
	$(TSAN_BUILD)/server_tests --gtest_brief=1
	ZAI_UNIT_TESTS=0 ZAI_WORKER_TESTS=0 ZAI_PROXY_WORKERS=2 TSAN_OPTIONS="$${TSAN_OPTIONS:-second_deadlock_stack=1}" \
	  scripts/test.sh $(TSAN_BUILD)

# libFuzzer targets (fuzz/, clang-14 with ASan+UBSan), FUZZ_RUNS executions each, seeded from
# fuzz/corpus/; a crash fails and leaves its input in $(FUZZ_BUILD)/findings/.
fuzz: deps
	FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_RUNS=$(FUZZ_RUNS) scripts/fuzz.sh

# The same for about 15 s per target (CI).
fuzz-smoke: deps
	FUZZ_BUILD=$(FUZZ_BUILD) scripts/fuzz.sh --smoke

# The Docker image built and run with podman, Compose and deploy/k8s checked (docs/DEPLOY.md).
test-container:
	scripts/container-test.sh

# Micro benchmarks, then the end-to-end load comparison (zai-proxy vs direct vs nginx).
bench: build
	scripts/install-deps.sh --bench
	$(BUILD)/bench/core_bench
	bench/load.sh

# The same at a tiny size: proves the benchmarks still run (CI).
bench-smoke: build
	scripts/install-deps.sh --bench
	$(BUILD)/bench/core_bench --benchmark_min_time=0.01
	bench/load.sh --tiny

# The tool-call parser's score on its corpus (test/tool-corpus/): a verdict per entry and the
# share parsed exactly right, streamed and whole.
tool-eval: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS) --target tool_eval
	$(BUILD)/bench/tool_eval

# A bounded soak: the release proxy against the fake Z.AI with random upstream faults; fails on
# an unexpected outcome, upstream work left open, or memory growth (test/soak/soak.mjs).
# SOAK_SEED=<n> replays a run; the seed is printed.
SOAK_REQUESTS    ?= 5000
SOAK_CONCURRENCY ?= 16
soak: build
	SOAK_REQUESTS=$(SOAK_REQUESTS) SOAK_CONCURRENCY=$(SOAK_CONCURRENCY) SOAK_SEED=$(SOAK_SEED) \
	  ZAI_PROXY_BIN=$(BUILD)/zai-proxy node test/soak/soak.mjs

# The same at 500 requests (CI).
soak-smoke: build
	SOAK_REQUESTS=500 SOAK_CONCURRENCY=$(SOAK_CONCURRENCY) SOAK_SEED=$(SOAK_SEED) \
	  ZAI_PROXY_BIN=$(BUILD)/zai-proxy node test/soak/soak.mjs

clean:
	rm -rf build
