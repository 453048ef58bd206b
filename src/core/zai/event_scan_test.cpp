// The scan of upstream events against the full JSON parse: wherever the scan gives an answer it
// is the parser's answer, on every event of the reference samples, on hand-picked shapes at the
// edge of what the scan reads, and on random mutations of them; and the common frames do take
// the scan.
#include "core/zai/event_scan.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "core/stream/sse_decoder.hpp"
#include "stream_test_support.hpp"

namespace zai {
namespace {

std::string describe(const zai_event& e) {
  std::string out = "kind " + std::to_string(static_cast<int>(e.what)) + " mutation " +
                    std::to_string(static_cast<int>(e.mutation)) + " text [" + e.text +
                    "] index " + std::to_string(e.edit_index) + " phase [" + e.phase + "] done " +
                    std::to_string(e.done) + " usage " + std::to_string(e.usage.present) + "/" +
                    std::to_string(e.usage.prompt_tokens) + "/" +
                    std::to_string(e.usage.completion_tokens) + "/" +
                    std::to_string(e.usage.total_tokens) + "/" +
                    std::to_string(e.usage.cached_tokens);
  if (e.error) out += " error " + std::string(to_string(e.error->fault)) + " " + e.error->detail;
  return out;
}

// True when the scan answered; fails the test when its answer is not the parser's.
bool scan_agrees(std::string_view payload) {
  const auto scanned = scan_zai_event(payload);
  if (!scanned) return false;
  const zai_event parsed = parse_zai_event_json(payload);
  EXPECT_TRUE(*scanned == parsed) << payload << "\n scan:  " << describe(*scanned)
                                  << "\n parse: " << describe(parsed);
  return true;
}

std::vector<std::string> sample_payloads() {
  std::vector<std::string> payloads;
  for (int n = 1; n <= 15; ++n) {
    sse_decoder decoder;
    const std::string body = testing::read_sample(n);
    decoder.feed(body, [&](std::string_view p) { payloads.emplace_back(p); });
    if (decoder.finish() == sse_result::event) payloads.emplace_back(decoder.payload());
  }
  return payloads;
}

TEST(event_scan, agrees_with_the_parser_on_every_event_of_the_samples) {
  int objects = 0, scanned = 0;
  for (const std::string& p : sample_payloads()) {
    if (!p.starts_with('{')) continue;
    ++objects;
    const bool took_scan = scan_agrees(p);
    scanned += took_scan ? 1 : 0;
    // Only error frames (and their nested data) are left to the parser.
    if (p.find("\"error\"") == std::string::npos) {
      EXPECT_TRUE(took_scan) << p;
    }
  }
  ASSERT_GT(objects, 50);
  EXPECT_GT(scanned, objects * 8 / 10) << scanned << " of " << objects;
}

TEST(event_scan, reads_the_common_frames_itself) {
  for (const char* p : {
           R"({"type":"chat:completion","data":{"delta_content":"Hello","phase":"answer"}})",
           R"({"data":{"phase":"answer","delta_content":"x","done":false},"type":"chat:completion"})",
           R"({"type":"chat:completion","data":{"edit_index":32,"edit_content":"true\">\n\u2026 é 😀","phase":"answer"}})",
           R"({"type":"chat:completion","data":{"phase":"other","usage":{"prompt_tokens":475,"completion_tokens":231,"total_tokens":706,"prompt_tokens_details":{}}}})",
           R"({"type":"chat:completion","data":{"phase":"done","done":true,"usage":{"prompt_tokens":1,"prompt_tokens_details":{"cached_tokens":7}}}})",
           R"({"type":"chat:completion","data":{"content":"all","id":"m1","role":"assistant","message_id":"x","chat_id":null}})",
           R"({"type":"status","data":{"anything":[1,2.5e3,{"deep":[true,false,null]}],"text":"\ud83d\ude00"}})",
           R"( { "type" : "chat:completion" , "data" : { "delta_content" : "spaced" } } )",
           R"({"type":"chat:completion","data":{"delta_content":"a\"b\\c\/d\b\f\n\r\t\u0000"}})",
           R"({"data":{"edit_content":"x","edit_index":-5}})",
           R"({"type":"chat:completion","data":{"edit_content":"x","edit_index":18446744073709551615}})",
           R"({"type":"chat:completion","data":{"delta_content":"x","phase":7,"done":"yes"}})",
           R"({"type":"chat:completion","data":{"delta_content":"first","delta_content":"last"}})",
           R"({"type":"other","type":"chat:completion","data":[]})",
           R"({"type":1,"data":{}})",
           R"({})",
           // Malformed UTF-8 in a value the scan skips: the parser's repair changes nothing read.
           "{\"type\":\"chat:completion\",\"data\":{\"title\":\"\xff\xe2\",\"\xc0\":1,"
           "\"delta_content\":\"kept\"}}",
       }) {
    EXPECT_TRUE(scan_agrees(p)) << "left to the parser: " << p;
  }
}

// Every shape the scan does not fully read goes to the parser, which then decides.
TEST(event_scan, leaves_what_it_does_not_read_to_the_parser) {
  for (const char* p : {
           R"({"type":"chat:completion","data":{"error":{"detail":"x","code":426},"done":true}})",
           R"({"type":"chat:completion","data":{"data":{"done":true}}})",
           R"({"error":"boom","type":"chat:completion"})",
           R"({"type":"chat:completion","data":{"edit_content":"x","edit_index":7.0}})",
           R"({"type":"chat:completion","data":{"edit_content":"x","edit_index":1e30}})",
           R"({"type":"chat:completion","data":{"edit_content":"x","edit_index":18446744073709551616}})",
           R"({"type":"chat:completion","data":{"delta_content":"\ud83d"}})",
           R"({"type":"chat:completion","data":{"delta_content":"\udc00x"}})",
           "{\"type\":\"chat:completion\",\"data\":{\"delta_content\":\"\xff\"}}",
           "{\"type\":\"chat:completion\",\"data\":{\"delta_content\":\"\xed\xa0\x80\"}}",
           "{\"type\":\"chat:completion\",\"data\":{\"delta_content\":\"a\tb\"}}",
           R"({"t\u0079pe":"chat:completion","data":{}})",
           R"({"data":{"delta_content":"x"}}garbage)",
           R"({"data":{"delta_content":"x",}})",
           R"({"data":{"delta_content":"x"})",
           R"({"data":{"n":01}})",
           R"({"data":{"n":1e99999}})",
           R"({"data":{"delta_content":"x"},"data":{"delta_content":"y"}})",
           R"({"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})",
       }) {
    EXPECT_FALSE(scan_zai_event(p)) << "scanned: " << p;
    EXPECT_EQ(parse_zai_event(p), parse_zai_event_json(p)) << p;
  }
}

// Strings are scanned eight bytes at a time: every byte that ends, escapes or spoils a string is
// found at every position of a word.
TEST(event_scan, finds_every_special_byte_at_every_position) {
  struct special {
    std::string bytes;
    bool valid;  // the value stays readable by the scan
  };
  const special specials[] = {{"\\n", true},      {"\\\"", true}, {"\\u00e9", true},
                              {"\xc3\xa9", true},   {"\x01", false},  {"\xff", false},
                              {"\xe2\x82", false}, {"\\x", false},   {"\x7f", true}};
  for (std::size_t at = 0; at <= 24; ++at) {
    for (const special& sp : specials) {
      const std::string value = std::string(at, 'a') + sp.bytes + std::string(24 - at, 'b');
      const std::string read =
          R"({"type":"chat:completion","data":{"delta_content":")" + value + R"("}})";
      EXPECT_EQ(scan_agrees(read), sp.valid) << read;
      // In a value the scan skips, malformed UTF-8 is no reason to give up.
      const std::string skipped =
          R"({"type":"chat:completion","data":{"title":")" + value + R"(","delta_content":"x"}})";
      const bool skippable = sp.valid || (sp.bytes[0] & 0x80) != 0;
      EXPECT_EQ(scan_agrees(skipped), skippable) << skipped;
    }
  }
}

// Random byte edits of real events: whatever the scan accepts, it reads as the parser does.
TEST(event_scan, agrees_with_the_parser_on_mutated_events) {
  std::vector<std::string> seeds;
  for (const std::string& p : sample_payloads()) {
    if (p.starts_with('{')) seeds.push_back(p);
  }
  const std::string alphabet = "{}[]\":,\\u0123456789abcdefEe.-+ tfnrl\x7f\xc3\xa9\xe2\x80\xa6";
  std::mt19937 random(15);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string p = seeds[random() % seeds.size()];
    for (int edits = 1 + static_cast<int>(random() % 3); edits > 0 && !p.empty(); --edits) {
      const std::size_t at = random() % p.size();
      const char c = alphabet[random() % alphabet.size()];
      switch (random() % 3) {
        case 0: p[at] = c; break;
        case 1: p.insert(p.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        default: p.erase(at, 1 + random() % 4); break;
      }
    }
    if (!p.starts_with('{')) continue;
    accepted += scan_agrees(p) ? 1 : 0;
  }
  EXPECT_GT(accepted, 1000);  // the comparison ran on many of them
}

}  // namespace
}  // namespace zai
