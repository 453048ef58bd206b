#include "core/api/openai_chat.hpp"

#include "core/api/openai_chat_request.hpp"
#include "core/api/openai_chat_response.hpp"

namespace zai {
namespace {

class openai_chat_encoder final : public answer_encoder {
 public:
  openai_chat_encoder(const completion_meta& meta, bool think_tags, const chat_request& request)
      : writer_(meta, think_tags, request.include_usage, request.legacy_functions) {}

  void open(std::string&) override {}

  void event(const answer_event& e, std::string& out) override {
    using kind = answer_event::kind;
    switch (e.what) {
      case kind::reasoning: writer_.reasoning(e.text, out); break;
      case kind::content: writer_.content(e.text, out); break;
      case kind::tool_call_start:
        writer_.tool_call_start(e.index, e.id, e.name, e.tool, out);
        break;
      case kind::tool_call_arguments:
        writer_.tool_call_arguments(e.index, e.text, e.tool, out);
        break;
      case kind::tool_call_end: break;
      case kind::finished:
        writer_.finish(e.finish, out);
        writer_.usage(e.usage, out);
        writer_.done(out);
        break;
      case kind::error: chunk_writer::error(error_body(e.error), out); break;
    }
  }

  // `: keep-alive` is an SSE comment: every SSE client skips it.
  void keep_alive(std::string& out) override { out += ": keep-alive\n\n"; }

 private:
  chunk_writer writer_;
};

class openai_chat final : public surface {
 public:
  std::string_view name() const override { return "openai_chat"; }
  std::string_view id_prefix() const override { return "chatcmpl-"; }
  std::string_view call_id_prefix() const override { return "call_"; }

  result<chat_request> parse(std::string_view body, const surface_context&) const override {
    return parse_chat_request(body);
  }

  std::unique_ptr<answer_encoder> stream_encoder(const completion_meta& meta,
                                                 const chat_request& request,
                                                 const surface_context& ctx) const override {
    return std::make_unique<openai_chat_encoder>(meta, ctx.cfg.show_think_tags, request);
  }

  std::string whole(const completion_meta& meta, const chat_request& request, const answer& a,
                    const surface_context& ctx) const override {
    return completion_body(meta, a, ctx.cfg.show_think_tags, request.legacy_functions);
  }

  std::string error_body(const api_error& e) const override { return zai::error_body(e); }
};

}  // namespace

const surface& openai_chat_surface() {
  static const openai_chat instance;
  return instance;
}

}  // namespace zai
