// The reference's SSE samples S1-S15 (reference §7.4), replayed through the translator at every
// byte split, one byte at a time, in random pieces, and with CRLF / CR line endings. Expected
// results are written out from the reference text beside each sample, not computed.
#include <gtest/gtest.h>

#include <random>

#include "stream_test_support.hpp"

namespace zai {
namespace {

using testing::read_sample;
using testing::run;
using testing::run_pieces;
using testing::transcript;

struct expected_error {
  upstream_fault fault;
  std::string code;
  std::string detail;
};

struct sample {
  int number;
  std::string reasoning;
  std::string content;
  std::optional<token_usage> usage;
  std::optional<finish_reason> finish;
  std::optional<expected_error> error;
  std::string shape;       // order of output kinds (see transcript::shape)
  bool tool_call = false;  // S5/S6: tools are another part's job; only check nothing leaks
};

token_usage usage(std::uint64_t prompt, std::uint64_t completion, std::uint64_t total,
                  std::uint64_t cached = 0) {
  return {prompt, completion, total, cached, true};
}

const std::vector<sample>& samples() {
  static const std::vector<sample> all = {
      {1, "", "Hello! How can I help you today?", usage(12, 9, 21), finish_reason::stop, {}, "CUF"},
      {2,
       "The user says hi.\n\nI should greet back.",
       "Hi there! How can I help?",
       usage(20, 31, 51),
       finish_reason::stop,
       {},
       "RCUF"},
      {3,
       "用户在打招呼。",
       "你好！有什么可以帮你？",
       usage(8, 15, 23, 0),
       finish_reason::stop,
       {},
       "RCUF"},
      {4,
       "Need to search.\n\nResult says sunny.",
       "Let me look that up.\n\nIt is sunny in Paris (24°C).",
       usage(880, 64, 944, 512),
       finish_reason::stop,
       {},
       "RCRCUF"},
      {5, "", "", usage(310, 22, 332), finish_reason::stop, {}, "UF", true},
      {6, "", "", usage(402, 25, 427), finish_reason::stop, {}, "CUF", true},
      {7,
       "",
       "",
       {},
       {},
       expected_error{upstream_fault::captcha_missing, "FRONTEND_CAPTCHA_REQUIRED",
                      "Please refresh the page to update the app, then try again."},
       "E"},
      {8,
       "",
       "",
       {},
       {},
       expected_error{upstream_fault::captcha_failed, "FRONTEND_CAPTCHA_REQUIRED",
                      "Captcha verification failed. Please verify again and retry."},
       "E"},
      {9,
       "",
       "",
       {},
       {},
       expected_error{upstream_fault::model_requires_login, "403",
                      "Model not available for current user level"},
       "E"},
      {10,
       "",
       "Partial answ",
       {},
       {},
       expected_error{upstream_fault::upstream_internal, "500", "Internal Server Error"},
       "CE"},
      {11,
       "",
       "",
       {},
       {},
       expected_error{upstream_fault::client_outdated, "426", "您的客户端校验失败"},
       "E"},
      {12,
       "",
       "The answer is 42 because 6×7=42.",
       usage(9, 12, 21),
       finish_reason::stop,
       {},
       "CUF"},
      {13,
       "",
       "GLM-4.7 was released in December 2025[[1]](https://example.com/glm47).",
       usage(1500, 30, 1530),
       finish_reason::stop,
       {},
       "CUF"},
      {14, "", "Ok 👍 one.", {}, finish_reason::stop, {}, "CF"},
      {15, "", "", {}, finish_reason::content_filter, {}, "F"},
  };
  return all;
}

void expect_matches(const sample& s, const transcript& t, const std::string& how) {
  SCOPED_TRACE("S" + std::to_string(s.number) + " " + how);
  EXPECT_EQ(t.shape(), s.shape);
  if (s.tool_call) {
    EXPECT_EQ(t.content.find("glm_block"), std::string::npos) << t.content;
    EXPECT_EQ(t.final_content.find("glm_block"), std::string::npos);
  } else {
    EXPECT_EQ(t.reasoning, s.reasoning);
    EXPECT_EQ(t.content, s.content);
    EXPECT_EQ(t.final_reasoning, s.reasoning);
    EXPECT_EQ(t.final_content, s.content);
  }
  ASSERT_EQ(t.usage.has_value(), s.usage.has_value());
  if (s.usage) {
    EXPECT_EQ(t.usage->prompt_tokens, s.usage->prompt_tokens);
    EXPECT_EQ(t.usage->completion_tokens, s.usage->completion_tokens);
    EXPECT_EQ(t.usage->total_tokens, s.usage->total_tokens);
    EXPECT_EQ(t.usage->cached_tokens, s.usage->cached_tokens);
  }
  EXPECT_EQ(t.finish, s.finish);
  ASSERT_EQ(t.error.has_value(), s.error.has_value());
  if (s.error) {
    EXPECT_EQ(t.error->fault, s.error->fault);
    EXPECT_EQ(t.error->code, s.error->code);
    EXPECT_EQ(t.error->detail, s.error->detail);
  }
  EXPECT_EQ(t.late_rewrites, 0u);
  for (const auto& o : t.outputs) {
    if (o.what == stream_output::kind::reasoning || o.what == stream_output::kind::content) {
      EXPECT_FALSE(o.text.empty()) << "empty delta";
    }
  }
}

std::string with_line_endings(std::string_view body, std::string_view ending) {
  std::string out;
  for (const char c : body) {
    if (c == '\n') {
      out += ending;
    } else {
      out += c;
    }
  }
  return out;
}

void expect_every_split(const sample& s, const std::string& body, const std::string& label) {
  const transcript whole = run(body);
  expect_matches(s, whole, label + " whole");
  const std::string_view all = body;
  for (std::size_t split = 0; split <= all.size(); ++split) {
    const transcript t = run_pieces({all.substr(0, split), all.substr(split)});
    ASSERT_EQ(t.outputs.size(), whole.outputs.size()) << label << " split at " << split;
    EXPECT_EQ(t.content, whole.content) << label << " split at " << split;
    EXPECT_EQ(t.reasoning, whole.reasoning) << label << " split at " << split;
    EXPECT_EQ(t.shape(), whole.shape()) << label << " split at " << split;
    EXPECT_EQ(t.error.has_value(), whole.error.has_value()) << label << " split at " << split;
  }
}

void PrintTo(const sample& s, std::ostream* os) { *os << "S" << s.number; }

class translator_sample : public ::testing::TestWithParam<sample> {};

TEST_P(translator_sample, gives_the_reference_result_at_every_byte_split) {
  const std::string body = read_sample(GetParam().number);
  ASSERT_FALSE(body.empty()) << "fixture missing";
  expect_every_split(GetParam(), body, "LF");
}

TEST_P(translator_sample, gives_the_reference_result_with_crlf_and_cr_line_endings) {
  const std::string body = read_sample(GetParam().number);
  expect_every_split(GetParam(), with_line_endings(body, "\r\n"), "CRLF");
  expect_matches(GetParam(), run(with_line_endings(body, "\r")), "CR");
}

TEST_P(translator_sample, gives_the_reference_result_one_byte_at_a_time) {
  for (const std::string& body : {read_sample(GetParam().number),
                                  with_line_endings(read_sample(GetParam().number), "\r\n")}) {
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < body.size(); ++i)
      bytes.push_back(std::string_view(body).substr(i, 1));
    expect_matches(GetParam(), run_pieces(bytes), "bytewise");
  }
}

TEST_P(translator_sample, gives_the_reference_result_in_random_pieces) {
  const std::string body = read_sample(GetParam().number);
  std::mt19937 random(20260913u + static_cast<unsigned>(GetParam().number));
  for (int round = 0; round < 50; ++round) {
    std::vector<std::string_view> pieces;
    std::uniform_int_distribution<std::size_t> length(0, 40);
    for (std::size_t at = 0; at < body.size();) {
      const std::size_t n = std::min(length(random), body.size() - at);
      pieces.push_back(std::string_view(body).substr(at, n));
      at += n;
    }
    expect_matches(GetParam(), run_pieces(pieces), "random round " + std::to_string(round));
  }
}

TEST_P(translator_sample, needs_the_hold_back_only_where_the_tail_is_rewritten) {
  // Without hold-back every sample still comes out right except the two whose last event takes
  // back text: S14's edit rewrites "do" (already sent), S15's filter wipes "Sure, here is".
  const sample& s = GetParam();
  const transcript t = run(read_sample(s.number), {.hold_back_chars = 0});
  if (s.number == 14) {
    EXPECT_EQ(t.content, "Ok 👍 doe.");
    EXPECT_EQ(t.final_content, "Ok 👍 one.");
    EXPECT_EQ(t.late_rewrites, 1u);
    return;
  }
  if (s.number == 15) {
    EXPECT_EQ(t.content, "Sure, here is");
    EXPECT_EQ(t.final_content, "");
    EXPECT_EQ(t.finish, finish_reason::content_filter);
    return;
  }
  if (!s.tool_call) {
    EXPECT_EQ(t.reasoning, s.reasoning);
    EXPECT_EQ(t.content, s.content);
  }
  EXPECT_EQ(t.late_rewrites, 0u);
}

std::string sample_name(const ::testing::TestParamInfo<sample>& info) {
  return "S" + std::to_string(info.param.number);
}

INSTANTIATE_TEST_SUITE_P(reference, translator_sample, ::testing::ValuesIn(samples()), sample_name);

}  // namespace
}  // namespace zai
