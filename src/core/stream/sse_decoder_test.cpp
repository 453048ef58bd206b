#include "core/stream/sse_decoder.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace zai {
namespace {

struct decoded {
  std::vector<std::string> payloads;
  int oversize = 0;
};

decoded decode_in_pieces(sse_decoder& decoder, const std::vector<std::string_view>& pieces) {
  decoded out;
  for (auto piece : pieces) {
    for (;;) {
      const auto result = decoder.next(piece);
      if (result == sse_result::need_more) break;
      if (result == sse_result::event) out.payloads.emplace_back(decoder.payload());
      if (result == sse_result::oversize_event) ++out.oversize;
    }
  }
  for (;;) {
    const auto result = decoder.finish();
    if (result == sse_result::need_more) break;
    if (result == sse_result::event) out.payloads.emplace_back(decoder.payload());
    if (result == sse_result::oversize_event) ++out.oversize;
  }
  return out;
}

decoded decode(std::string_view bytes, std::size_t max = sse_decoder::default_max_event_bytes) {
  sse_decoder decoder(max);
  return decode_in_pieces(decoder, {bytes});
}

// The stream in two feeds, cut at byte `cut`.
decoded decode_split_at(std::string_view stream, std::size_t cut, std::size_t max) {
  sse_decoder decoder(max);
  return decode_in_pieces(decoder, {stream.substr(0, cut), stream.substr(cut)});
}

using payloads = std::vector<std::string>;

// Cut at every byte, the stream decodes to the same payloads and oversize reports.
void expect_at_every_cut(std::string_view stream, std::size_t max, const payloads& expected,
                         int oversize) {
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    SCOPED_TRACE(cut);
    const auto out = decode_split_at(stream, cut, max);
    EXPECT_EQ(out.oversize, oversize);
    EXPECT_EQ(out.payloads, expected);
  }
}

TEST(sse_decoder, yields_each_data_payload_with_or_without_a_space) {
  EXPECT_EQ(decode("data: {\"a\":1}\n\ndata:{\"b\":2}\n\n").payloads,
            (payloads{"{\"a\":1}", "{\"b\":2}"}));
}

TEST(sse_decoder, strips_only_one_space_after_the_colon) {
  EXPECT_EQ(decode("data:  two\n\n").payloads, payloads{" two"});
}

TEST(sse_decoder, accepts_crlf_and_bare_cr_line_endings) {
  EXPECT_EQ(decode("data: a\r\n\r\ndata: b\r\rdata: c\n\n").payloads, (payloads{"a", "b", "c"}));
}

TEST(sse_decoder, crlf_split_between_feeds_is_one_line_ending) {
  sse_decoder decoder;
  EXPECT_EQ(decode_in_pieces(decoder, {"data: a\r", "\n\r", "\ndata: b\r\n\r\n"}).payloads,
            (payloads{"a", "b"}));
}

TEST(sse_decoder, joins_multi_line_data_with_newlines) {
  EXPECT_EQ(decode("data: one\ndata: two\ndata\n\n").payloads, payloads{"one\ntwo\n"});
}

TEST(sse_decoder, ignores_comments_other_fields_and_blank_lines) {
  EXPECT_EQ(decode(": ping\n\nevent: message\nid: 7\nretry: 10\ndata: x\n\n\n\n: bye\n\n").payloads,
            payloads{"x"});
}

TEST(sse_decoder, empty_data_field_is_still_an_event) {
  EXPECT_EQ(decode("data:\n\n").payloads, payloads{""});
}

TEST(sse_decoder, strips_a_leading_byte_order_mark) {
  EXPECT_EQ(decode("\xEF\xBB\xBF"
                   "data: x\n\n")
                .payloads,
            payloads{"x"});
}

TEST(sse_decoder, finish_flushes_an_unterminated_last_line) {
  EXPECT_EQ(decode("data: a\n\ndata: [DONE]").payloads, (payloads{"a", "[DONE]"}));
  EXPECT_EQ(decode("data: a\n").payloads, payloads{"a"});
  EXPECT_TRUE(decode("").payloads.empty());
}

TEST(sse_decoder, every_byte_split_gives_the_same_events) {
  const std::string stream =
      "data: {\"x\":\"用户👍\"}\r\n\r\n: c\ndata:{\"y\":2}\n\ndata: [DONE]\n\n";
  const payloads want{"{\"x\":\"用户👍\"}", "{\"y\":2}", "[DONE]"};
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    sse_decoder decoder;
    const std::string_view all = stream;
    EXPECT_EQ(decode_in_pieces(decoder, {all.substr(0, split), all.substr(split)}).payloads, want)
        << "split at " << split;
  }
}

TEST(sse_decoder, one_byte_at_a_time_gives_the_same_events) {
  const std::string stream = "data: a\r\n\r\ndata: b\rdata: c\r\r";
  sse_decoder decoder;
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < stream.size(); ++i)
    bytes.push_back(std::string_view(stream).substr(i, 1));
  EXPECT_EQ(decode_in_pieces(decoder, bytes).payloads, (payloads{"a", "b\nc"}));
}

TEST(sse_decoder, oversize_event_in_one_feed_is_reported_and_skipped) {
  const std::string big(100, 'x');
  const auto out = decode("data: " + big + "\n\ndata: ok\n\n", 64);
  EXPECT_EQ(out.oversize, 1);
  EXPECT_EQ(out.payloads, payloads{"ok"});
}

TEST(sse_decoder, oversize_line_across_feeds_is_not_buffered_forever) {
  sse_decoder decoder(64);
  const std::string chunk(50, 'x');
  const auto out = decode_in_pieces(decoder, {"data: ", chunk, chunk, chunk, "\n\ndata: ok\n\n"});
  EXPECT_EQ(out.oversize, 1);
  EXPECT_EQ(out.payloads, payloads{"ok"});
}

TEST(sse_decoder, oversize_from_many_data_lines_is_reported_once) {
  std::string stream;
  for (int i = 0; i < 10; ++i) stream += "data: " + std::string(20, 'y') + "\n";
  stream += "\ndata: ok\n\n";
  const auto out = decode(stream, 64);
  EXPECT_EQ(out.oversize, 1);
  EXPECT_EQ(out.payloads, payloads{"ok"});
}

// Found by fuzz/sse_stream_fuzz: lines too long to buffer were all counted as oversize events,
// so a long comment or unknown field gave a different result when the network split it.
TEST(sse_decoder, long_line_that_is_not_data_is_ignored_however_it_is_split) {
  const std::string stream = ": " + std::string(100, 'c') + "\nevent: " + std::string(100, 'e') +
                             "\ndata: ok\n\n";
  expect_at_every_cut(stream, 64, {"ok"}, 0);
}

TEST(sse_decoder, oversize_event_is_reported_once_however_its_lines_are_split) {
  const std::string line = "data: " + std::string(100, 'x') + "\n";
  const std::string stream = line + line + "\ndata: ok\n\n";
  expect_at_every_cut(stream, 64, {"ok"}, 1);
}

TEST(sse_decoder, unterminated_long_comment_at_eof_keeps_the_event_before_it) {
  sse_decoder decoder(64);
  const std::string comment = ":" + std::string(100, 'c');
  const auto out = decode_in_pieces(decoder, {"data: kept\n", comment.substr(0, 50),
                                              comment.substr(50)});
  EXPECT_EQ(out.oversize, 0);
  EXPECT_EQ(out.payloads, payloads{"kept"});
}

TEST(sse_decoder, byte_order_mark_is_only_stripped_from_the_first_line_even_a_long_one) {
  const std::string stream = ":" + std::string(100, 'c') + "\n\xEF\xBB\xBF" + "data: x\n\n";
  EXPECT_EQ(decode_split_at(stream, 50, 64).payloads, payloads{});
  EXPECT_EQ(decode(stream, 64).payloads, payloads{});
}

// The first line may carry a byte order mark on top of "data: "; its bound allows for both.
TEST(sse_decoder, event_at_the_bound_after_a_byte_order_mark_is_kept_however_it_is_split) {
  const std::string exact(64, 'z');
  const std::string stream = "\xEF\xBB\xBF" "data: " + exact + "\n\n";
  expect_at_every_cut(stream, 64, {exact}, 0);
}

TEST(sse_decoder, event_exactly_at_the_bound_is_kept) {
  const std::string exact(64, 'z');
  const auto out = decode("data: " + exact + "\n\n", 64);
  EXPECT_EQ(out.oversize, 0);
  EXPECT_EQ(out.payloads, payloads{exact});
}

TEST(sse_decoder, feed_calls_back_for_each_event) {
  sse_decoder decoder;
  payloads seen;
  EXPECT_TRUE(
      decoder.feed("data: 1\n\ndata: 2\n\n", [&](std::string_view p) { seen.emplace_back(p); }));
  EXPECT_EQ(seen, (payloads{"1", "2"}));
}

}  // namespace
}  // namespace zai
