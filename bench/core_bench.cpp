// Micro benchmarks of the core's hot paths: the upstream stream (SSE decoding + translation +
// OpenAI chunk writing) over the reference samples and a long synthetic stream, request
// translation, and signing. Allocation counts per event come from a counting operator new.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <new>
#include <sstream>

#include "bench/synthetic_stream.hpp"
#include "core/api/openai_chat_request.hpp"
#include "core/api/openai_chat_response.hpp"
#include "core/zai/signature.hpp"
#include "core/stream/stream_translator.hpp"
#include "core/zai/request.hpp"
#include "native/hmac_openssl.hpp"

namespace {

std::atomic<std::uint64_t> allocations{0};

}  // namespace

void* operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace zai;

std::string read_sample(int n) {
  char name[32];
  std::snprintf(name, sizeof name, "/test/fixtures/sse/S%02d.sse", n);
  std::ifstream in(std::string(ZAI_SOURCE_DIR) + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Translates `body` fed in `piece`-byte reads and writes the OpenAI chunks, as the server does.
std::size_t relay(const std::string& body, std::size_t piece) {
  stream_translator translator;
  chunk_writer writer({"chatcmpl-bench", 1782413241, "glm-4.7"}, false, true);
  std::vector<stream_output> outputs;
  std::string out;
  std::size_t written = 0;
  auto drain = [&] {
    for (const auto& o : outputs) {
      switch (o.what) {
        case stream_output::kind::reasoning: writer.reasoning(o.text, out); break;
        case stream_output::kind::content: writer.content(o.text, out); break;
        case stream_output::kind::finished:
          writer.finish(o.finish, out);
          writer.usage(translator.usage(), out);
          writer.done(out);
          break;
        default: break;
      }
    }
    outputs.clear();
    written += out.size();
    out.clear();
  };
  for (std::size_t at = 0; at < body.size(); at += piece) {
    translator.feed(std::string_view(body).substr(at, piece), outputs);
    drain();
  }
  translator.finish(outputs);
  drain();
  return written;
}

void report(benchmark::State& state, std::size_t bytes, int events, std::uint64_t allocs_before) {
  const auto iterations = static_cast<double>(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes * state.iterations()));
  state.SetItemsProcessed(static_cast<std::int64_t>(events) * state.iterations());
  state.counters["events/s"] = benchmark::Counter(events * iterations, benchmark::Counter::kIsRate);
  state.counters["allocs/event"] =
      static_cast<double>(allocations.load() - allocs_before) / (iterations * events);
}

void BM_relay_sample(benchmark::State& state) {
  const std::string body = read_sample(static_cast<int>(state.range(0)));
  const int events = static_cast<int>(std::count(body.begin(), body.end(), '\n') / 2);
  const auto before = allocations.load();
  for (auto _ : state) benchmark::DoNotOptimize(relay(body, 16 * 1024));
  report(state, body.size(), events, before);
}
BENCHMARK(BM_relay_sample)->DenseRange(1, 15);

void BM_relay_synthetic(benchmark::State& state) {
  const auto stream = bench::make_synthetic_stream(800, 1200);
  const auto piece = static_cast<std::size_t>(state.range(0));
  const auto before = allocations.load();
  for (auto _ : state) benchmark::DoNotOptimize(relay(stream.sse, piece));
  report(state, stream.sse.size(), stream.events, before);
}
// 16 KiB reads (what the server uses), and small TCP-sized pieces.
BENCHMARK(BM_relay_synthetic)->Arg(16 * 1024)->Arg(64)->Unit(benchmark::kMillisecond);

void BM_parse_chat_request(benchmark::State& state) {
  const std::string body =
      R"({"model":"glm-4.7","stream":true,"stream_options":{"include_usage":true},)"
      R"("messages":[{"role":"system","content":"You are terse."},)"
      R"({"role":"user","content":"Hello, what model are you running?"}],"temperature":0.7})";
  for (auto _ : state) benchmark::DoNotOptimize(parse_chat_request(body));
}
BENCHMARK(BM_parse_chat_request);

void BM_build_completion_request(benchmark::State& state) {
  const std::string body =
      R"({"model":"glm-4.7","messages":[{"role":"user","content":"Hello, what model are you running?"}]})";
  const auto request = *parse_chat_request(body);
  const resolved_model model{"glm-4.7", "glm-4.7", true, false};
  const config cfg;
  const guest_token token{"eyJhbGciOiJFUzI1NiJ9.eyJpZCI6IngifQ.c2ln", "8f368c1b", "Guest-1", ""};
  const request_ids ids{"0ff3803e-c36e-4bfd-98fe-fa55e0f955b1",
                        "42e423d8-54b9-42c0-8f41-7dde9fb56542",
                        "5c1d9a0e-7b3f-4e2a-9d1c-2f6b8e4a7c90",
                        "74b09689-059a-4708-8f0e-865bed23d5e0"};
  for (auto _ : state) {
    const std::string prompt = upstream_prompt(request, {});
    benchmark::DoNotOptimize(build_completion_request(
        {request, model, cfg, token, ids, 1782413241147, "prod-fe-1.1.98", std::nullopt,
         native::hmac_sha256, prompt}));
  }
}
BENCHMARK(BM_build_completion_request);

void BM_sign_request(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(sign_request({"0ff3803e-c36e-4bfd-98fe-fa55e0f955b1", 1782413241147,
                                           "8f368c1b-c645-48c7-96b0-2456acc50b79",
                                           "Hello, what model are you running?"},
                                          default_signing_secret, native::hmac_sha256));
  }
}
BENCHMARK(BM_sign_request);

}  // namespace

BENCHMARK_MAIN();
