#include "core/zai/event.hpp"

#include <gtest/gtest.h>

namespace zai {
namespace {

TEST(zai_event, delta_content_appends) {
  const auto e = parse_zai_event(
      R"({"type":"chat:completion","data":{"delta_content":"Hello","phase":"answer"}})");
  EXPECT_EQ(e.what, zai_event::kind::event);
  EXPECT_EQ(e.mutation, text_mutation::append);
  EXPECT_EQ(e.text, "Hello");
  EXPECT_EQ(e.phase, "answer");
  EXPECT_FALSE(e.done);
  EXPECT_FALSE(e.usage.present);
  EXPECT_FALSE(e.error);
}

TEST(zai_event, edit_content_carries_its_utf16_index) {
  const auto e = parse_zai_event(
      R"({"type":"chat:completion","data":{"edit_index":32,"edit_content":"true\">","phase":"answer"}})");
  EXPECT_EQ(e.mutation, text_mutation::edit);
  EXPECT_EQ(e.text, "true\">");
  EXPECT_EQ(e.edit_index, 32u);
}

TEST(zai_event, edit_without_index_edits_from_zero_and_negative_index_clamps) {
  EXPECT_EQ(parse_zai_event(R"({"data":{"edit_content":"x"}})").edit_index, 0u);
  EXPECT_EQ(parse_zai_event(R"({"data":{"edit_content":"x","edit_index":-5}})").edit_index, 0u);
  EXPECT_EQ(parse_zai_event(R"({"data":{"edit_content":"x","edit_index":7.0}})").edit_index, 7u);
  EXPECT_EQ(parse_zai_event(R"({"data":{"edit_content":"x","edit_index":1e30}})").edit_index,
            UINT64_MAX);
  EXPECT_EQ(parse_zai_event(R"({"data":{"edit_content":"x","edit_index":"3"}})").edit_index, 0u);
}

TEST(zai_event, content_replaces_the_whole_text) {
  const auto e = parse_zai_event(R"({"type":"chat:completion","data":{"content":"all"}})");
  EXPECT_EQ(e.mutation, text_mutation::replace);
  EXPECT_EQ(e.text, "all");
}

TEST(zai_event, key_order_does_not_matter) {
  const auto a = parse_zai_event(
      R"({"type":"chat:completion","data":{"phase":"answer","delta_content":"x","done":false}})");
  const auto b = parse_zai_event(
      R"({"data":{"done":false,"delta_content":"x","phase":"answer"},"type":"chat:completion"})");
  EXPECT_EQ(a.what, b.what);
  EXPECT_EQ(a.mutation, b.mutation);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.phase, b.phase);
}

TEST(zai_event, done_by_flag_or_by_phase) {
  EXPECT_TRUE(
      parse_zai_event(R"({"type":"chat:completion","data":{"phase":"done","done":true}})").done);
  EXPECT_TRUE(parse_zai_event(R"({"type":"chat:completion","data":{"done":true}})").done);
  EXPECT_TRUE(parse_zai_event(R"({"type":"chat:completion","data":{"phase":"done"}})").done);
  EXPECT_FALSE(parse_zai_event(R"({"type":"chat:completion","data":{"done":"yes"}})").done);
}

TEST(zai_event, usage_with_cached_tokens) {
  const auto e = parse_zai_event(
      R"({"type":"chat:completion","data":{"phase":"other","usage":{"prompt_tokens":880,"completion_tokens":64,"total_tokens":944,"prompt_tokens_details":{"cached_tokens":512}}}})");
  EXPECT_TRUE(e.usage.present);
  EXPECT_EQ(e.usage.prompt_tokens, 880u);
  EXPECT_EQ(e.usage.completion_tokens, 64u);
  EXPECT_EQ(e.usage.total_tokens, 944u);
  EXPECT_EQ(e.usage.cached_tokens, 512u);
  EXPECT_EQ(e.mutation, text_mutation::none);
}

TEST(zai_event, usage_without_total_adds_the_parts) {
  const auto e = parse_zai_event(
      R"({"data":{"usage":{"prompt_tokens":3,"completion_tokens":4,"prompt_tokens_details":{}}}})");
  EXPECT_EQ(e.usage.total_tokens, 7u);
  EXPECT_EQ(e.usage.cached_tokens, 0u);
}

TEST(zai_event, done_sentinel_is_its_own_kind) {
  EXPECT_EQ(parse_zai_event("[DONE]").what, zai_event::kind::done_sentinel);
  EXPECT_EQ(parse_zai_event(" [DONE] ").what, zai_event::kind::done_sentinel);
}

TEST(zai_event, garbage_is_not_json) {
  for (const char* payload : {"", "hello", "{", "{\"type\":", "[1,2]", "42", "{\"a\":1}x"}) {
    EXPECT_EQ(parse_zai_event(payload).what, zai_event::kind::not_json) << payload;
  }
}

TEST(zai_event, other_types_are_ignored_types) {
  EXPECT_EQ(parse_zai_event(R"({"type":"chat:title","data":{"title":"Hi"}})").what,
            zai_event::kind::ignored_type);
  EXPECT_EQ(parse_zai_event(R"({"type":"conn:heartbeat"})").what, zai_event::kind::ignored_type);
  EXPECT_EQ(parse_zai_event(R"({"type":7,"data":{"delta_content":"x"}})").what,
            zai_event::kind::ignored_type);
}

TEST(zai_event, missing_type_is_read_as_a_completion) {
  const auto e = parse_zai_event(R"({"data":{"delta_content":"x"}})");
  EXPECT_EQ(e.what, zai_event::kind::event);
  EXPECT_EQ(e.text, "x");
}

TEST(zai_event, invalid_utf8_becomes_replacement_characters) {
  const auto e = parse_zai_event(
      "{\"data\":{\"delta_content\":\"a\xFF"
      "b\"}}");
  EXPECT_EQ(e.what, zai_event::kind::event);
  EXPECT_EQ(e.text,
            "a\xEF\xBF\xBD"
            "b");
}

TEST(zai_event, lone_surrogate_escape_becomes_one_replacement_character) {
  const auto e = parse_zai_event(R"({"data":{"delta_content":"a\ud83d","x":"\\ud83d"}})");
  EXPECT_EQ(e.what, zai_event::kind::event);
  EXPECT_EQ(e.text, "a\xEF\xBF\xBD");
  const auto pair = parse_zai_event(R"({"data":{"delta_content":"\ud83d\udc4d\udc4d"}})");
  EXPECT_EQ(pair.text, "\xF0\x9F\x91\x8D\xEF\xBF\xBD");
}

// The reference's error frames (S7-S11, S15), verbatim.
constexpr const char* s7 =
    R"({"data":{"data":{"done":true,"error":{"captcha_error_type":"missing_param","code":"FRONTEND_CAPTCHA_REQUIRED","detail":"Please refresh the page to update the app, then try again.","error_code":"FRONTEND_CAPTCHA_REQUIRED"}},"done":true,"error":{"captcha_error_type":"missing_param","code":"FRONTEND_CAPTCHA_REQUIRED","detail":"Please refresh the page to update the app, then try again.","error_code":"FRONTEND_CAPTCHA_REQUIRED"}},"type":"chat:completion"})";
constexpr const char* s8 =
    R"({"data":{"data":{"done":true,"error":{"captcha_error_type":"verify_failed","verify_code":"F003","code":"FRONTEND_CAPTCHA_REQUIRED","detail":"Captcha verification failed. Please verify again and retry.","error_code":"FRONTEND_CAPTCHA_REQUIRED"}},"done":true,"error":{"captcha_error_type":"verify_failed","verify_code":"F003","code":"FRONTEND_CAPTCHA_REQUIRED","detail":"Captcha verification failed. Please verify again and retry.","error_code":"FRONTEND_CAPTCHA_REQUIRED"}},"type":"chat:completion"})";
constexpr const char* s9 =
    R"({"type":"chat:completion","data":{"data":{"error":{"detail":"Model not available for current user level","code":403},"done":true},"error":{"detail":"Model not available for current user level","code":403},"done":true}})";
constexpr const char* s15 =
    R"({"type":"chat:completion","data":{"error":{"detail":"Content Security Warning: The content may contain inappropriate content.","content":"Content Security Warning: The content may contain inappropriate content."},"message_id":"03fabbd0-bfcd-11f0-a42e-a1ca1e891de9","done":true,"edit_index":0,"edit_content":" ","phase":"other"}})";

TEST(zai_event, captcha_missing_frame) {
  const auto e = parse_zai_event(s7);
  ASSERT_TRUE(e.error);
  EXPECT_EQ(e.error->fault, upstream_fault::captcha_missing);
  EXPECT_EQ(e.error->code, "FRONTEND_CAPTCHA_REQUIRED");
  EXPECT_EQ(e.error->detail, "Please refresh the page to update the app, then try again.");
  EXPECT_TRUE(e.done);
}

TEST(zai_event, captcha_verify_failed_frame) {
  const auto e = parse_zai_event(s8);
  ASSERT_TRUE(e.error);
  EXPECT_EQ(e.error->fault, upstream_fault::captcha_failed);
}

TEST(zai_event, model_not_available_frame_with_numeric_code) {
  const auto e = parse_zai_event(s9);
  ASSERT_TRUE(e.error);
  EXPECT_EQ(e.error->fault, upstream_fault::model_requires_login);
  EXPECT_EQ(e.error->code, "403");
  EXPECT_EQ(e.error->detail, "Model not available for current user level");
}

TEST(zai_event, content_filter_frame_keeps_its_wiping_edit) {
  const auto e = parse_zai_event(s15);
  ASSERT_TRUE(e.error);
  EXPECT_EQ(e.error->fault, upstream_fault::content_filter);
  EXPECT_EQ(e.error->code, "");
  EXPECT_EQ(e.mutation, text_mutation::edit);
  EXPECT_EQ(e.text, " ");
}

TEST(zai_event, error_found_in_nested_data_then_top_level) {
  const auto nested =
      parse_zai_event(R"({"data":{"data":{"error":{"detail":"inner","code":426}}}})");
  ASSERT_TRUE(nested.error);
  EXPECT_EQ(nested.error->detail, "inner");
  EXPECT_EQ(nested.error->fault, upstream_fault::client_outdated);

  const auto top = parse_zai_event(R"({"error":{"message":"top","error_code":"429"}})");
  ASSERT_TRUE(top.error);
  EXPECT_EQ(top.error->detail, "top");
  EXPECT_EQ(top.error->code, "429");
  EXPECT_EQ(top.error->fault, upstream_fault::concurrency_limited);

  const auto first = parse_zai_event(
      R"({"error":{"detail":"c"},"data":{"data":{"error":{"detail":"b"}},"error":{"detail":"a"}}})");
  ASSERT_TRUE(first.error);
  EXPECT_EQ(first.error->detail, "a");
}

TEST(zai_event, error_in_a_frame_of_another_type_still_counts) {
  const auto e = parse_zai_event(R"({"type":"error","error":"boom"})");
  EXPECT_EQ(e.what, zai_event::kind::event);
  ASSERT_TRUE(e.error);
  EXPECT_EQ(e.error->detail, "boom");
  EXPECT_EQ(e.error->fault, upstream_fault::upstream_internal);
}

TEST(zai_event, null_or_empty_error_is_no_error) {
  EXPECT_FALSE(parse_zai_event(R"({"data":{"error":null,"delta_content":"x"}})").error);
  EXPECT_FALSE(parse_zai_event(R"({"data":{"error":{}}})").error);
}

upstream_fault fault_of(const char* error_json) {
  const auto e = parse_zai_event(std::string(R"({"data":{"error":)") + error_json + "}}");
  return e.error ? e.error->fault : upstream_fault::truncated;
}

TEST(zai_event, classifies_errors_by_code_and_text) {
  EXPECT_EQ(fault_of(R"({"detail":"x","code":401})"), upstream_fault::token_invalid);
  EXPECT_EQ(fault_of(R"({"detail":"x","code":"403"})"), upstream_fault::model_requires_login);
  EXPECT_EQ(fault_of(R"({"detail":"Model not available"})"), upstream_fault::model_requires_login);
  EXPECT_EQ(fault_of(R"({"detail":"x","code":404})"), upstream_fault::model_not_found);
  EXPECT_EQ(fault_of(R"({"detail":"您的客户端校验失败","code":426})"),
            upstream_fault::client_outdated);
  EXPECT_EQ(fault_of(R"({"detail":"x","code":429})"), upstream_fault::concurrency_limited);
  EXPECT_EQ(fault_of(R"({"detail":"Too Many Requests"})"), upstream_fault::concurrency_limited);
  EXPECT_EQ(fault_of(R"({"message":"concurrency limit hit"})"),
            upstream_fault::concurrency_limited);
  EXPECT_EQ(fault_of(R"({"detail":"当前并发过高"})"), upstream_fault::concurrency_limited);
  EXPECT_EQ(fault_of(R"({"detail":"x","content":"y"})"), upstream_fault::content_filter);
  EXPECT_EQ(fault_of(R"({"detail":"Internal Server Error","code":500})"),
            upstream_fault::upstream_internal);
  EXPECT_EQ(fault_of(R"({"code":"FRONTEND_CAPTCHA_REQUIRED"})"), upstream_fault::captcha_missing);
  EXPECT_EQ(fault_of(R"({"error_code":"FRONTEND_CAPTCHA_REQUIRED","verify_code":"F003"})"),
            upstream_fault::captcha_failed);
}

TEST(zai_event, fault_names_are_stable) {
  EXPECT_EQ(to_string(upstream_fault::captcha_missing), "captcha_missing");
  EXPECT_EQ(to_string(upstream_fault::truncated), "truncated");
  EXPECT_EQ(to_string(upstream_fault::malformed_stream), "malformed_stream");
}

}  // namespace
}  // namespace zai
