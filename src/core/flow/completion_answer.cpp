// The answer side of a completion: the translator's output turned into the surface's events —
// through the tool parser when the client offers tools — for a stream as it comes, for a whole
// answer at its end; and the one retry when a required tool call did not come.
#include "core/flow/completion_flow.hpp"

#include "core/zai/request.hpp"

namespace zai {

// The whole answer of a non-streamed request, its text read for tool calls when tools were offered.
answer completion_flow::collected(finish_reason reason) {
  answer a;
  a.reasoning = translator_->final_reasoning();
  content_bytes_ = translator_->final_content().size();
  if (!parser_) {
    a.content = translator_->final_content();
  } else {
    parser_->feed(translator_->final_content(), parsed_);
    parser_->finish(parsed_);
    for (answer_event& e : parsed_) {
      switch (e.what) {
        case answer_event::kind::content: a.content += e.text; break;
        case answer_event::kind::tool_call_start:
          a.tool_calls.push_back(
              {gateway_.random_id(api_.call_id_prefix()), std::move(e.name), "", e.tool});
          break;
        case answer_event::kind::tool_call_arguments:
          if (!a.tool_calls.empty()) a.tool_calls.back().arguments += e.text;
          break;
        default: break;
      }
    }
    parsed_.clear();
    if (a.tool_calls.empty() && !nudged_ && call_required(request_)) {
      missed_call_ = true;
      held_.push_back({.what = answer_event::kind::content, .text = std::move(a.content)});
      return a;
    }
    if (!a.tool_calls.empty() && reason == finish_reason::stop) reason = finish_reason::tool_calls;
  }
  a.finish = reason;
  a.usage = final_usage();
  return a;
}

// Encodes what the translator produced, in order, up to the answer's last event. Plain text and
// reasoning go through one reused event object: an answer is mostly many small pieces of text.
// With tools, the answer text goes through the tool parser first.
void completion_flow::encode_outputs() {
  using kind = answer_event::kind;
  answer_event event;  // one for every output of this read; none is kept between reads
  for (stream_output& o : pending_) {
    if (stream_over_ || missed_call_) break;
    switch (o.what) {
      case stream_output::kind::reasoning:
        event.what = kind::reasoning;
        event.text.swap(o.text);
        deliver(event);
        break;
      case stream_output::kind::content:
        content_bytes_ += o.text.size();
        if (parser_) {
          parser_->feed(o.text, parsed_);
          for (answer_event& e : parsed_) deliver(e);
          parsed_.clear();
        } else {
          event.what = kind::content;
          event.text.swap(o.text);
          deliver(event);
        }
        break;
      case stream_output::kind::usage: break;  // final_usage() reads the translator's
      case stream_output::kind::finished: finish_answer(o.finish, event); break;
      case stream_output::kind::error:
        event.what = kind::error;
        event.error = client_error(o.error);
        held_.clear();  // what was held back for a retry is not worth sending with a failure
        encode(event);
        break;
    }
  }
  pending_.clear();
}

// The translator's finish: the parser's last events, then the finish itself, or, when the
// required call never came, the retry that asks for it.
void completion_flow::finish_answer(finish_reason reason, answer_event& event) {
  if (parser_) {
    parser_->finish(parsed_);
    for (answer_event& e : parsed_) deliver(e);
    parsed_.clear();
    if (holding()) {
      missed_call_ = true;
      return;
    }
    if (parser_->calls() > 0 && reason == finish_reason::stop) reason = finish_reason::tool_calls;
  }
  for (const answer_event& e : held_) encode(e);
  held_.clear();
  event.what = answer_event::kind::finished;
  event.finish = reason;
  event.usage = final_usage();
  encode(event);
}

// While a required call has not shown yet (and the retry is still to come), events wait.
bool completion_flow::holding() const {
  return parser_ && !nudged_ && call_required(request_) && parser_->calls() == 0;
}

void completion_flow::deliver(answer_event& e) {
  if (e.what == answer_event::kind::tool_call_start) {
    e.id = gateway_.random_id(api_.call_id_prefix());
    for (const answer_event& waiting : held_) encode(waiting);
    held_.clear();
  }
  if (holding()) {
    held_.push_back(std::move(e));
    return;
  }
  encode(e);
}

// The answer made no call though one was required: once, the same request again with a prompt
// that quotes the answer and says so. Nothing of it reached the client.
action completion_flow::retry_for_call(instant now) {
  std::string missed;
  for (const answer_event& e : held_) {
    if (e.what == answer_event::kind::content) missed += e.text;
  }
  held_.clear();
  missed_call_ = false;
  nudged_ = true;
  content_bytes_ = 0;
  release(lease_outcome::ok, std::nullopt, now);
  prompt_ = upstream_prompt(request_, {nonce_, missed});
  parser_ = std::make_unique<tool_call_parser>(request_, nonce_);
  translator_.reset();
  state_ = state::admitting;
  return admit(now);
}

void completion_flow::encode(const answer_event& e) {
  encoder_->event(e, out_);
  if (e.what == answer_event::kind::finished || e.what == answer_event::kind::error) {
    stream_over_ = true;
  }
}

}  // namespace zai
