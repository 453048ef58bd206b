// One streamed OpenAI Responses API answer: the neutral answer events (answer.hpp) as the API's
// server-sent events, `event: <type>\ndata: {"type":…,"sequence_number":n,…}\n\n`, with no
// [DONE]. The order is what the openai SDKs' stream accumulators and Codex need (agent-surfaces.md
// §3.3): response.created and response.in_progress first; every item announced by
// response.output_item.added (and its summary or content part by *_part.added) before any delta
// for it; every item finished by response.output_item.done carrying it whole — Codex takes
// messages and tool calls only from that event — and exactly one terminal event,
// response.completed, response.incomplete or response.failed, which carries the whole response.
//
// Reasoning is one `reasoning` item whose summary part holds the model's thinking; answer text
// one `message` item; each tool call a `function_call` (or, for custom tools, `custom_tool_call`)
// item. A call still open when the answer fails or is cut short is never finished, so a client
// never runs a call with half its arguments. A completed or incomplete response is kept in the
// store when the request asked for it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/api/openai_responses_output.hpp"
#include "core/api/response_store.hpp"
#include "core/api/surface.hpp"

namespace zai {

class response_event_writer final : public answer_encoder {
 public:
  // `store`: where a finished response is kept when `request` asked for it (null: nowhere);
  // `now_ms` is when it counts as stored.
  response_event_writer(const completion_meta& meta, const chat_request& request,
                        response_store* store, double now_ms);

  void open(std::string& out) override;
  void event(const answer_event& e, std::string& out) override;
  void keep_alive(std::string& out) override;

  bool ended() const { return phase_ == phase::ended; }

 private:
  using kind = output_item::kind;
  // Answer call index → the call's place in items_, for the calls begun and not yet ended.
  using call_list = std::vector<std::pair<std::size_t, std::size_t>>;
  enum class phase { unopened, streaming, ended };  // ended: the terminal event is out

  void begin(std::string& out, std::string_view type);
  void begin_item_event(std::string& out, std::string_view type, std::size_t index);
  void lifecycle(std::string& out, std::string_view type, const response_outcome& outcome);
  // response.output_item.added (the item's skeleton) or .done (the item whole).
  void item_event(std::string& out, std::string_view type, std::size_t index);

  void text(std::string& out, kind what, std::string_view delta);
  void open_text(std::string& out, kind what);
  void close_text(std::string& out, std::string_view status);
  void start_call(std::string& out, const answer_event& e);
  void call_arguments(std::string& out, const answer_event& e);
  void end_call(std::string& out, std::size_t call_index);
  void finish(std::string& out, const answer_event& e);
  void fail(std::string& out, const api_error& error);

  call_list::iterator open_call(std::size_t call_index);
  std::vector<output_item> finished_items() const;  // what the terminal response lists

  completion_meta meta_;
  chat_request request_;  // its echo, and (when storing) the conversation to keep
  response_store* store_;
  double now_ms_;
  std::uint64_t sequence_ = 0;
  phase phase_ = phase::unopened;
  std::vector<output_item> items_;   // everything announced, in output order
  std::optional<std::size_t> text_;  // the open reasoning or message item
  call_list open_calls_;
};

}  // namespace zai
