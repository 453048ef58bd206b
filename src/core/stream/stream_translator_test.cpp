#include "core/stream/stream_translator.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <random>

#include "core/stream/message_view.hpp"
#include "stream_test_support.hpp"
#include "core/stream/utf16.hpp"

namespace zai {
namespace {

using testing::completion;
using testing::random_message;
using testing::read_sample;
using testing::run;
using testing::sse;

const std::string done_event = completion(R"("phase":"done","done":true)");

std::string answer(std::string_view text) {
  return completion(R"("delta_content":")" + std::string(text) + R"(","phase":"answer")");
}

TEST(stream_translator, emits_reasoning_before_content) {
  const auto t = run(read_sample(2));
  const auto first_content = t.shape().find('C');
  ASSERT_NE(first_content, std::string::npos);
  EXPECT_EQ(t.shape().find('R'), 0u);
  EXPECT_EQ(t.shape().find('R', first_content), std::string::npos);
}

TEST(stream_translator, holds_back_the_tail_until_the_next_event) {
  stream_translator t;
  std::vector<stream_output> out;
  t.feed(answer("abcdefghijklmnopqrstuvwxyz0123"), out);  // 30 characters
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text, "abcdef");
  EXPECT_FALSE(t.ended());
  t.feed(done_event, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].text, "ghijklmnopqrstuvwxyz0123");
  EXPECT_EQ(out[2].what, stream_output::kind::finished);
  EXPECT_TRUE(t.ended());
}

TEST(stream_translator, hold_back_is_configurable) {
  stream_translator t({.hold_back_chars = 3});
  std::vector<stream_output> out;
  t.feed(answer("Ok 👍 one"), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text, "Ok 👍");
}

TEST(stream_translator, releases_reasoning_as_soon_as_its_block_closes) {
  const std::string body = read_sample(3);
  const std::size_t third_event =
      body.find("data:", body.find("data:", body.find("data:") + 1) + 1);
  const std::size_t fourth_event = body.find("data:", third_event + 1);
  stream_translator t;
  std::vector<stream_output> out;
  t.feed(std::string_view(body).substr(0, fourth_event), out);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back().what, stream_output::kind::reasoning);
  std::string reasoning;
  for (const auto& o : out) reasoning += o.text;
  EXPECT_EQ(reasoning, "用户在打招呼。");
}

TEST(stream_translator, done_sentinel_alone_ends_the_stream) {
  const auto t = run(answer("Hello") + sse("[DONE]"));
  EXPECT_EQ(t.content, "Hello");
  EXPECT_EQ(t.finish, finish_reason::stop);
  EXPECT_EQ(t.shape(), "CF");
}

TEST(stream_translator, done_event_without_sentinel_ends_the_stream) {
  const auto t = run(answer("Hello") + done_event);
  EXPECT_EQ(t.finish, finish_reason::stop);
  EXPECT_FALSE(t.error);
}

TEST(stream_translator, eof_without_done_releases_text_then_reports_truncated) {
  const auto t = run(answer("Half an answ"));
  EXPECT_EQ(t.content, "Half an answ");
  ASSERT_TRUE(t.error);
  EXPECT_EQ(t.error->fault, upstream_fault::truncated);
  EXPECT_EQ(t.shape(), "CE");
  EXPECT_FALSE(t.finish);
}

TEST(stream_translator, empty_body_is_truncated) {
  const auto t = run("");
  ASSERT_TRUE(t.error);
  EXPECT_EQ(t.error->fault, upstream_fault::truncated);
  EXPECT_EQ(t.shape(), "E");
}

TEST(stream_translator, unterminated_last_event_still_counts_at_eof) {
  const auto t = run(answer("Hi") + R"(data: {"type":"chat:completion","data":{"done":true}})");
  EXPECT_EQ(t.finish, finish_reason::stop);
  EXPECT_EQ(t.content, "Hi");
}

TEST(stream_translator, unknown_event_types_and_garbage_are_ignored) {
  const auto t = run(sse(R"({"type":"status","data":{"delta_content":"agent busy"}})") +
                     sse(R"({"type":"chat:title","data":{"title":"x"}})") + sse("not json") +
                     sse("{broken") + ": keep-alive\n\n" + answer("Hello") + done_event);
  EXPECT_EQ(t.content, "Hello");
  EXPECT_EQ(t.finish, finish_reason::stop);
}

TEST(stream_translator, sorted_keys_frames_work) {
  const auto t =
      run(sse(R"({"data":{"delta_content":"Hi","phase":"answer"},"type":"chat:completion"})") +
          sse(R"({"data":{"done":true,"phase":"done"},"type":"chat:completion"})"));
  EXPECT_EQ(t.content, "Hi");
  EXPECT_EQ(t.finish, finish_reason::stop);
}

TEST(stream_translator, oversize_event_ends_with_an_error_after_the_text_so_far) {
  const std::string big = answer(std::string(200, 'x'));
  const auto t =
      run(answer("Before") + big + answer("After") + done_event, {.max_event_bytes = 128});
  EXPECT_EQ(t.content, "Before");
  ASSERT_TRUE(t.error);
  EXPECT_EQ(t.error->fault, upstream_fault::oversize_event);
  EXPECT_EQ(t.shape(), "CE");
}

TEST(stream_translator, message_past_its_bound_is_a_malformed_stream) {
  const auto t =
      run(answer("0123456789") + answer("0123456789") + done_event, {.max_text_bytes = 15});
  ASSERT_TRUE(t.error);
  EXPECT_EQ(t.error->fault, upstream_fault::malformed_stream);
  EXPECT_EQ(t.content, "0123456789");
}

TEST(stream_translator, upstream_error_outranks_an_oversized_edit_in_the_same_frame) {
  const auto t =
      run(completion(R"("edit_content":"0123456789abcdef","error":{"detail":"x","code":429})"),
          {.max_text_bytes = 8});
  ASSERT_TRUE(t.error);
  EXPECT_EQ(t.error->fault, upstream_fault::concurrency_limited);
}

TEST(stream_translator, usage_absent_means_no_usage_output) {
  const auto t = run(answer("x") + done_event);
  EXPECT_FALSE(t.usage);
  stream_translator translator;
  std::vector<stream_output> out;
  translator.feed(answer("x") + done_event, out);
  EXPECT_FALSE(translator.usage().present);
}

TEST(stream_translator, usage_rides_on_the_done_event) {
  const auto t =
      run(answer("x") +
          completion(
              R"("done":true,"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3})"));
  ASSERT_TRUE(t.usage);
  EXPECT_EQ(t.usage->total_tokens, 3u);
  EXPECT_EQ(t.shape(), "CUF");
}

TEST(stream_translator, last_usage_wins_and_comes_once_before_finished) {
  const auto t =
      run(answer("x") +
          completion(R"("phase":"other","usage":{"prompt_tokens":1,"completion_tokens":1})") +
          completion(R"("phase":"other","usage":{"prompt_tokens":5,"completion_tokens":6})") +
          done_event);
  ASSERT_TRUE(t.usage);
  EXPECT_EQ(t.usage->prompt_tokens, 5u);
  EXPECT_EQ(t.usage->total_tokens, 11u);
  EXPECT_EQ(t.shape(), "CUF");
}

TEST(stream_translator, rewrite_of_sent_text_continues_at_the_sent_length) {
  const auto t =
      run(answer("Hello wor") +
              completion(R"("edit_index":6,"edit_content":"earth","phase":"answer")") + done_event,
          {.hold_back_chars = 0});
  EXPECT_EQ(t.content, "Hello worth");  // the client already had "Hello wor"
  EXPECT_EQ(t.final_content, "Hello earth");
  EXPECT_EQ(t.late_rewrites, 1u);
}

TEST(stream_translator, rewrite_that_shrinks_sent_text_waits_until_it_grows_past_it) {
  const auto t = run(answer("abcdef") + completion(R"("edit_index":2,"edit_content":"X")") +
                         answer("YZWV") + done_event,
                     {.hold_back_chars = 0});
  EXPECT_EQ(t.content, "abcdefV");
  EXPECT_EQ(t.final_content, "abXYZWV");
  EXPECT_EQ(t.late_rewrites, 1u);
}

TEST(stream_translator, rewrite_never_splits_a_character) {
  const auto t =
      run(answer("ab") + completion(R"("edit_index":1,"edit_content":"你好")") + done_event,
          {.hold_back_chars = 0});
  EXPECT_TRUE(is_valid_utf8(t.content));
  EXPECT_EQ(t.content, "ab好");
}

TEST(stream_translator, edit_with_emoji_counts_utf16_units) {
  const auto t = run(read_sample(14));
  EXPECT_EQ(t.content, "Ok 👍 one.");
  EXPECT_EQ(t.late_rewrites, 0u);
}

TEST(stream_translator, without_hold_back_a_tail_edit_cannot_be_taken_back) {
  const auto t = run(read_sample(14), {.hold_back_chars = 0});
  EXPECT_EQ(t.content, "Ok 👍 doe.");  // "Ok 👍 do" was already sent
  EXPECT_EQ(t.final_content, "Ok 👍 one.");
  EXPECT_EQ(t.late_rewrites, 1u);
}

TEST(stream_translator, edit_inside_a_surrogate_pair_drops_the_whole_emoji) {
  const auto t =
      run(answer("a👍b") + completion(R"("edit_index":2,"edit_content":"X")") + done_event);
  EXPECT_EQ(t.content, "aX");
}

TEST(stream_translator, edit_past_the_end_appends) {
  const auto t =
      run(answer("用户") + completion(R"("edit_index":99,"edit_content":"好")") + done_event);
  EXPECT_EQ(t.content, "用户好");
}

TEST(stream_translator, invalid_utf8_comes_out_as_replacement_characters) {
  const auto t =
      run("data: {\"data\":{\"delta_content\":\"a\xFF\xFE"
          "b\"}}\n\n" +
          done_event);
  EXPECT_EQ(t.content,
            "a\xEF\xBF\xBD\xEF\xBF\xBD"
            "b");
}

TEST(stream_translator, content_filter_finishes_without_the_stale_text) {
  const auto t = run(read_sample(15));
  EXPECT_EQ(t.finish, finish_reason::content_filter);
  EXPECT_EQ(t.content, "");
  EXPECT_EQ(t.final_content, "");
  EXPECT_FALSE(t.error);
}

TEST(stream_translator, error_after_partial_content_keeps_what_was_said) {
  const auto t = run(read_sample(10));
  EXPECT_EQ(t.content, "Partial answ");
  ASSERT_TRUE(t.error);
  EXPECT_EQ(t.error->fault, upstream_fault::upstream_internal);
  EXPECT_EQ(t.shape(), "CE");
}

TEST(stream_translator, input_after_the_end_is_ignored) {
  stream_translator t;
  std::vector<stream_output> out;
  t.feed(answer("Hi") + done_event + answer("more") + sse("[DONE]"), out);
  const std::size_t at_end = out.size();
  t.feed(answer("even more"), out);
  t.finish(out);
  EXPECT_EQ(out.size(), at_end);
  EXPECT_EQ(out.back().what, stream_output::kind::finished);
  EXPECT_EQ(t.final_content(), "Hi");
}

TEST(stream_translator, final_text_before_the_end_is_what_was_sent) {
  stream_translator t({.hold_back_chars = 2});
  std::vector<stream_output> out;
  t.feed(answer("Hello"), out);
  EXPECT_EQ(t.final_content(), "Hel");
  t.finish(out);
  EXPECT_EQ(t.final_content(), "Hello");
}

TEST(stream_translator, reasoning_cut_off_by_eof_is_released) {
  const auto t = run(completion(
      R"("delta_content":"<details type=\"reasoning\" done=\"false\">\n> Still thinking","phase":"thinking")"));
  EXPECT_EQ(t.reasoning, "Still thinking");
  ASSERT_TRUE(t.error);
  EXPECT_EQ(t.error->fault, upstream_fault::truncated);
}

TEST(stream_translator, answer_with_thinking_disabled_is_plain_content) {
  const auto t = run(read_sample(1));
  EXPECT_EQ(t.reasoning, "");
  EXPECT_EQ(t.content, "Hello! How can I help you today?");
}

TEST(stream_translator, content_replacement_event_is_applied) {
  const auto t = run(answer("draft") + completion(R"("content":"Final answer")") + done_event);
  EXPECT_EQ(t.final_content, "Final answer");
  EXPECT_EQ(t.content, "Final answer");
}

std::string json_string(std::string_view text) {
  return boost::json::serialize(boost::json::value(boost::json::string(text)));
}

// What the frontend would show for `text`, derived in one go.
std::pair<std::string, std::string> final_view_of(std::string_view text) {
  message_view view(0);
  view.update(text, 0, true);
  return {view.reasoning(), view.content()};
}

TEST(stream_translator, random_growing_messages_are_emitted_whole_and_never_taken_back) {
  std::mt19937 random(3);
  for (int round = 0; round < 80; ++round) {
    const std::string text = random_message(random, 60);
    std::string body;
    std::uniform_int_distribution<std::size_t> step(1, 30);
    for (std::size_t at = 0; at < text.size();) {
      const std::size_t next = utf8_boundary_at_or_after(text, at + step(random));
      body += completion("\"delta_content\":" + json_string(text.substr(at, next - at)));
      at = next;
    }
    const auto t = run(body + done_event);
    const auto [reasoning, content] = final_view_of(text);
    ASSERT_EQ(t.late_rewrites, 0u) << "round " << round;
    ASSERT_EQ(t.reasoning, reasoning) << "round " << round;
    ASSERT_EQ(t.content, content) << "round " << round;
    ASSERT_EQ(t.final_content, content);
    ASSERT_TRUE(is_valid_utf8(t.content));
  }
}

TEST(stream_translator, random_tail_edits_give_the_final_text_and_rarely_reach_sent_text) {
  // Edits that rewrite at most the last 10 characters cannot reach answer text held back by 24
  // characters; they can only reach a block that closed within them (its text is released at
  // once), which random markup does now and then.
  std::mt19937 random(5);
  int rounds_with_rewrites = 0;
  for (int round = 0; round < 80; ++round) {
    const std::string source = random_message(random, 60);
    std::string text;
    std::string body;
    std::uniform_int_distribution<std::size_t> step(1, 30);
    std::uniform_int_distribution<std::size_t> back(0, 10);
    for (std::size_t at = 0; at < source.size();) {
      const std::size_t next = utf8_boundary_at_or_after(source, at + step(random));
      const std::string piece = source.substr(at, next - at);
      at = next;
      if (step(random) % 3 == 0) {
        const std::size_t cut = utf8_offset_of_last_chars(text, back(random));
        body += completion("\"edit_index\":" + std::to_string(utf16_length(text.substr(0, cut))) +
                           ",\"edit_content\":" + json_string(piece));
        text = text.substr(0, cut) + piece;
      } else {
        body += completion("\"delta_content\":" + json_string(piece));
        text += piece;
      }
    }
    const auto t = run(body + done_event);
    const auto [reasoning, content] = final_view_of(text);
    EXPECT_EQ(t.final_content, content) << "round " << round;
    EXPECT_EQ(t.final_reasoning, reasoning) << "round " << round;
    if (t.late_rewrites == 0) {
      EXPECT_EQ(t.content, content) << "round " << round;
      EXPECT_EQ(t.reasoning, reasoning) << "round " << round;
    } else {
      ++rounds_with_rewrites;
    }
  }
  EXPECT_LE(rounds_with_rewrites, 4);
}

}  // namespace
}  // namespace zai
