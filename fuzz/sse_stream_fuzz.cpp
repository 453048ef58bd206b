// The response path on arbitrary upstream bodies: SSE decoding, the Z.AI event parser, the
// message text and its derived view, the stream translator, and the OpenAI chunk writer and
// completion body behind it, with and without <think> tags.
//
// Input: byte 0 picks options (limits, include_usage); byte 1's low nibble is a count P, and the
// next P bytes are piece lengths used in turn to cut the rest (the upstream body) into feeds.
// P = 0 feeds it whole. What must hold:
//   - the same body gives the same outputs however it is cut (the translator is fed whatever
//     pieces the network delivers);
//   - outputs follow the translator's contract: non-empty valid UTF-8 text; usage at most once,
//     just before `finished`; exactly one `finished` or `error`, last;
//   - every chunk the writer produces is `data: <JSON>\n\n` or `data: [DONE]\n\n`, the JSON valid
//     for a client's parser, and without think tags its deltas add up to the translator's text;
//   - the non-stream completion body is valid JSON;
//   - every event payload the DOM-free scan reads (event_scan.hpp), and the body itself taken as
//     one payload, reads exactly as the full JSON parse reads it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/api/openai_chat_response.hpp"
#include "core/stream/stream_translator.hpp"
#include "core/flow/upstream_verdict.hpp"
#include "core/stream/sse_decoder.hpp"
#include "core/stream/utf16.hpp"
#include "core/zai/event_scan.hpp"
#include "fuzz_support.hpp"

namespace zai::fuzz {
namespace {

// Small bounds reach the oversize and malformed-stream paths with small inputs; hold-back 0 lets
// every edit reach already sent text.
translator_limits limits_for(std::uint8_t choice) {
  translator_limits limits;
  if (choice & 1) {
    limits.max_event_bytes = 512;
    limits.max_text_bytes = 2048;
  }
  if (choice & 2) limits.hold_back_chars = 0;
  return limits;
}

struct run_result {
  std::vector<stream_output> outputs;
  std::string final_reasoning, final_content;
  token_usage usage;
};

run_result translate(std::string_view body, std::string_view piece_lengths,
                     translator_limits limits) {
  stream_translator translator(limits);
  run_result r;
  feed_in_pieces(body, piece_lengths,
                 [&](std::string_view piece) { translator.feed(piece, r.outputs); });
  translator.finish(r.outputs);
  require(translator.ended(), "finish() ends the stream");
  r.final_reasoning = translator.final_reasoning();
  r.final_content = translator.final_content();
  r.usage = translator.usage();
  return r;
}

// The scan answers only what it fully reads, and then as the parser does.
void check_scan(std::string_view payload) {
  constexpr std::string_view ws = " \t\r\n";
  const std::size_t first = payload.find_first_not_of(ws);
  if (first == std::string_view::npos) return;
  payload = payload.substr(first, payload.find_last_not_of(ws) - first + 1);
  if (!payload.starts_with('{')) return;
  const std::optional<zai_event> scanned = scan_zai_event(payload);
  if (scanned) {
    require(*scanned == parse_zai_event_json(payload), "the scan reads as the parser", payload);
  }
}

void check_scans(std::string_view body) {
  check_scan(body);
  sse_decoder decoder;
  decoder.feed(body, [](std::string_view payload) { check_scan(payload); });
  if (decoder.finish() == sse_result::event) check_scan(decoder.payload());
}

bool same_usage(const token_usage& a, const token_usage& b) {
  return a.present == b.present && a.prompt_tokens == b.prompt_tokens &&
         a.completion_tokens == b.completion_tokens && a.total_tokens == b.total_tokens &&
         a.cached_tokens == b.cached_tokens;
}

bool same_output(const stream_output& a, const stream_output& b) {
  return a.what == b.what && a.text == b.text && same_usage(a.usage, b.usage) &&
         a.error.fault == b.error.fault && a.error.detail == b.error.detail &&
         a.error.code == b.error.code && a.finish == b.finish;
}

// For the report of a failed comparison: one output per line.
std::string describe(const std::vector<stream_output>& outputs) {
  static constexpr const char* kinds[] = {"reasoning", "content", "usage", "error", "finished"};
  std::string out;
  for (const stream_output& o : outputs) {
    out += kinds[static_cast<int>(o.what)];
    out += ' ';
    if (o.what == stream_output::kind::error) {
      out += std::string(to_string(o.error.fault)) + " " + o.error.code + " " + o.error.detail;
    }
    out += o.text + "\n";
  }
  return out;
}

void check_contract(const run_result& r) {
  const std::vector<stream_output>& out = r.outputs;
  require(!out.empty(), "a finished stream has an outcome");
  for (std::size_t i = 0; i < out.size(); ++i) {
    const stream_output& o = out[i];
    const bool last = i + 1 == out.size();
    switch (o.what) {
      case stream_output::kind::reasoning:
      case stream_output::kind::content:
        require(!o.text.empty(), "text outputs are not empty");
        require(is_valid_utf8(o.text), "text outputs are valid UTF-8", o.text);
        require(!last, "text is followed by the outcome");
        break;
      case stream_output::kind::usage:
        require(o.usage.present, "a usage output carries usage");
        require(!last && out[i + 1].what == stream_output::kind::finished,
                "usage comes just before finished");
        break;
      case stream_output::kind::error:
      case stream_output::kind::finished:
        require(last, "nothing follows error or finished");
        break;
    }
  }
  require(is_valid_utf8(r.final_reasoning), "final reasoning is valid UTF-8", r.final_reasoning);
  require(is_valid_utf8(r.final_content), "final content is valid UTF-8", r.final_content);
}

// Splits the writer's output into its events and checks each one; returns the text the deltas
// carry per field, concatenated.
struct delta_text {
  std::string reasoning, content;
};

delta_text check_chunks(std::string_view sse) {
  delta_text sum;
  while (!sse.empty()) {
    require(sse.starts_with("data: "), "every chunk starts with data: ", sse);
    const std::size_t end = sse.find("\n\n");
    require(end != std::string_view::npos, "every chunk ends with a blank line", sse);
    const std::string_view payload = sse.substr(6, end - 6);
    sse.remove_prefix(end + 2);
    if (payload == "[DONE]") {
      require(sse.empty(), "[DONE] is the last chunk");
      break;
    }
    require(payload.find('\n') == std::string_view::npos, "a chunk is one line", payload);
    const boost::json::value v = require_json(payload, "every chunk is valid JSON");
    const boost::json::array* choices = v.as_object().if_contains("choices")
                                            ? v.as_object().at("choices").if_array()
                                            : nullptr;
    if (choices == nullptr || choices->empty()) continue;  // the usage chunk, an error
    const boost::json::object& delta = choices->at(0).as_object().at("delta").as_object();
    if (const auto* r = delta.if_contains("reasoning_content")) sum.reasoning += r->as_string();
    if (const auto* c = delta.if_contains("content")) sum.content += c->as_string();
  }
  return sum;
}

// Drives the writer as the native server's relay loop does (chat_completions.cpp).
void write_stream(const run_result& r, bool think_tags, bool include_usage) {
  const completion_meta meta{"chatcmpl-fuzz", 1782413241, "glm-4.7"};
  chunk_writer writer(meta, think_tags, include_usage);
  std::string out;
  std::string reasoning, content;
  for (const stream_output& o : r.outputs) {
    switch (o.what) {
      case stream_output::kind::reasoning:
        reasoning += o.text;
        writer.reasoning(o.text, out);
        break;
      case stream_output::kind::content:
        content += o.text;
        writer.content(o.text, out);
        break;
      case stream_output::kind::usage:
        break;
      case stream_output::kind::finished:
        writer.finish(o.finish, out);
        writer.usage(r.usage.present ? r.usage : estimate_usage(100, content.size()), out);
        writer.done(out);
        break;
      case stream_output::kind::error:
        chunk_writer::error(error_body(stream_error_to_api_error(o.error)), out);
        break;
    }
  }
  const delta_text sent = check_chunks(out);
  if (!think_tags) {
    require(sent.reasoning == reasoning, "reasoning_content deltas add up to the reasoning");
    require(sent.content == content, "content deltas add up to the content");
  }

  const stream_output& outcome = r.outputs.back();
  if (outcome.what == stream_output::kind::finished) {
    const std::string body = completion_body(
        meta, {r.final_reasoning, r.final_content, {}, outcome.finish, r.usage}, think_tags);
    require_json(body, "the completion body is valid JSON");
  }
}

}  // namespace
}  // namespace zai::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace zai;
  using namespace zai::fuzz;
  const std::optional<cut_input> input = read_cut_input(data, size);
  if (!input) return 0;
  const std::uint8_t options = input->options;
  const std::string_view piece_lengths = input->piece_lengths;
  const std::string_view body = input->body;
  const translator_limits limits = limits_for(options & 3);

  check_scans(body);
  const run_result whole = translate(body, {}, limits);
  check_contract(whole);
  if (!piece_lengths.empty()) {
    const run_result cut = translate(body, piece_lengths, limits);
    const bool same = cut.outputs.size() == whole.outputs.size() &&
                      std::equal(cut.outputs.begin(), cut.outputs.end(), whole.outputs.begin(),
                                 same_output);
    if (!same) {
      require(false, "any cut gives the same outputs",
              "whole:\n" + describe(whole.outputs) + "cut:\n" + describe(cut.outputs));
    }
    require(cut.final_reasoning == whole.final_reasoning && cut.final_content == whole.final_content,
            "any cut gives the same final text", body);
  }
  const bool include_usage = (options & 4) != 0;
  write_stream(whole, false, include_usage);
  write_stream(whole, true, include_usage);
  return 0;
}
