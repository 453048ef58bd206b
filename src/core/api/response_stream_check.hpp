// Test support for the Responses API's stream (openai_responses_stream_test.cpp and the surface's
// tests): a reader that replays a stream the way the openai SDKs' accumulators and Codex read it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace zai::testing {

namespace json = boost::json;

// Replays a stream the way the openai SDKs' accumulators and Codex read it, and fails the test
// wherever a real client would stumble: every event named on its `event:` line and numbered in
// order, created and in_progress first, an item added before any event about it, a part added
// before its deltas, every item's events naming its id, done items carrying exactly what the
// deltas built, and one terminal event, last.
struct stream_check {
  std::vector<std::string> types;
  std::vector<json::object> output;  // the items as the client has built them
  std::vector<bool> done;
  json::object terminal;  // the terminal event's response
  std::size_t comments = 0;

  explicit stream_check(std::string_view sse) { read(sse); }

  void read(std::string_view sse) {
    std::size_t start = 0;
    while (start < sse.size()) {
      const std::size_t end = sse.find("\n\n", start);
      ASSERT_NE(end, std::string_view::npos) << "an unterminated event";
      const std::string_view block = sse.substr(start, end - start);
      start = end + 2;
      if (block.starts_with(":")) {
        ++comments;
        continue;
      }
      ASSERT_TRUE(block.starts_with("event: ")) << block;
      const std::size_t newline = block.find('\n');
      const std::string_view name = block.substr(7, newline - 7);
      ASSERT_TRUE(block.substr(newline + 1).starts_with("data: ")) << block;
      const json::value data = json::parse(block.substr(newline + 7));
      ASSERT_EQ(data.at("type").as_string(), name);
      ASSERT_EQ(data.at("sequence_number").as_int64(), static_cast<std::int64_t>(types.size()));
      ASSERT_TRUE(terminal.empty()) << "an event after the terminal one: " << name;
      types.emplace_back(name);
      apply(data.as_object());
    }
    ASSERT_GE(types.size(), 3u);
    EXPECT_EQ(types[0], "response.created");
    EXPECT_EQ(types[1], "response.in_progress");
    ASSERT_FALSE(terminal.empty()) << "no terminal event";
  }

  json::object& item_of(const json::object& e) {
    const std::size_t index = e.at("output_index").as_int64();
    EXPECT_LT(index, output.size()) << "an event before its item was added";
    if (index >= output.size()) output.resize(index + 1);
    EXPECT_FALSE(done[index]) << "an event after its item was done";
    if (e.contains("item_id")) {
      EXPECT_EQ(e.at("item_id"), output[index].at("id"));
    }
    return output[index];
  }

  void apply(const json::object& e) {
    const std::string type(e.at("type").as_string());
    if (type == "response.created" || type == "response.in_progress") {
      EXPECT_EQ(e.at("response").at("status"), "in_progress");
      EXPECT_TRUE(e.at("response").at("output").as_array().empty());
    } else if (type == "response.output_item.added") {
      EXPECT_EQ(e.at("output_index").as_int64(), static_cast<std::int64_t>(output.size()));
      const json::object& item = e.at("item").as_object();
      EXPECT_FALSE(item.at("id").as_string().empty());
      for (const json::object& other : output) EXPECT_NE(other.at("id"), item.at("id"));
      const auto& kind = item.at("type").as_string();
      if (kind == "reasoning") {
        EXPECT_TRUE(item.at("summary").as_array().empty());
      }
      if (kind == "message") {
        EXPECT_TRUE(item.at("content").as_array().empty());
      }
      if (kind == "function_call") {
        EXPECT_EQ(item.at("arguments"), "");
      }
      if (kind == "custom_tool_call") {
        EXPECT_EQ(item.at("input"), "");
      }
      if (kind == "function_call" || kind == "custom_tool_call") {
        EXPECT_FALSE(item.at("call_id").as_string().empty());
      }
      output.push_back(item);
      done.push_back(false);
    } else if (type == "response.reasoning_summary_part.added") {
      json::array& summary = item_of(e).at("summary").as_array();
      EXPECT_EQ(e.at("summary_index").as_int64(), static_cast<std::int64_t>(summary.size()));
      summary.push_back(e.at("part"));
    } else if (type == "response.content_part.added") {
      json::array& content = item_of(e).at("content").as_array();
      EXPECT_EQ(e.at("content_index").as_int64(), static_cast<std::int64_t>(content.size()));
      content.push_back(e.at("part"));
    } else if (type == "response.reasoning_summary_text.delta") {
      append(item_of(e).at("summary").as_array().at(e.at("summary_index").as_int64()), e);
    } else if (type == "response.output_text.delta") {
      EXPECT_TRUE(e.at("logprobs").is_array());
      append(item_of(e).at("content").as_array().at(e.at("content_index").as_int64()), e);
    } else if (type == "response.function_call_arguments.delta") {
      append_to(item_of(e), "arguments", e);
    } else if (type == "response.custom_tool_call_input.delta") {
      append_to(item_of(e), "input", e);
    } else if (type == "response.reasoning_summary_text.done" ||
               type == "response.output_text.done") {
      const json::object& item = item_of(e);
      const json::value& part = item.contains("summary")
                                    ? item.at("summary").at(e.at("summary_index").as_int64())
                                    : item.at("content").at(e.at("content_index").as_int64());
      EXPECT_EQ(part.at("text"), e.at("text"));
    } else if (type == "response.reasoning_summary_part.done" ||
               type == "response.content_part.done") {
      item_of(e);
    } else if (type == "response.function_call_arguments.done") {
      EXPECT_EQ(item_of(e).at("arguments"), e.at("arguments"));
    } else if (type == "response.custom_tool_call_input.done") {
      EXPECT_EQ(item_of(e).at("input"), e.at("input"));
    } else if (type == "response.output_item.done") {
      json::object& item = item_of(e);
      const json::object& whole = e.at("item").as_object();
      for (std::string_view key : {"type", "id", "call_id", "name", "arguments", "input"}) {
        if (item.contains(key)) {
          EXPECT_EQ(whole.at(key), item.at(key)) << key;
        }
      }
      if (whole.at("type") == "message") {
        EXPECT_EQ(whole.at("content"), item.at("content"));
        EXPECT_EQ(whole.at("role"), "assistant");
      }
      if (whole.at("type") == "reasoning") {
        EXPECT_EQ(whole.at("summary"), item.at("summary"));
      }
      item = whole;
      done[e.at("output_index").as_int64()] = true;
    } else if (type == "response.completed" || type == "response.incomplete" ||
               type == "response.failed") {
      terminal = e.at("response").as_object();
      check_terminal(type);
    } else {
      ADD_FAILURE() << "an event type no client knows: " << type;
    }
  }

  static void append(json::value& part, const json::object& e) {
    part.as_object()["text"] = std::string(part.at("text").as_string()) +
                               std::string(e.at("delta").as_string());
  }
  static void append_to(json::object& item, std::string_view key, const json::object& e) {
    item[key] = std::string(item.at(key).as_string()) + std::string(e.at("delta").as_string());
  }

  void check_terminal(std::string_view type) {
    EXPECT_EQ(terminal.at("status").as_string(), type.substr(std::string_view("response.").size()));
    // The final output holds exactly the items that were done, as they were done.
    std::vector<json::object> finished;
    for (std::size_t i = 0; i < output.size(); ++i) {
      if (done[i]) finished.push_back(output[i]);
    }
    const json::array& final_output = terminal.at("output").as_array();
    ASSERT_EQ(final_output.size(), finished.size());
    std::string text;
    for (std::size_t i = 0; i < finished.size(); ++i) {
      EXPECT_EQ(final_output[i], finished[i]);
      if (finished[i].at("type") == "message") {
        text += finished[i].at("content").at(0).at("text").as_string();
      }
    }
    EXPECT_EQ(terminal.at("output_text").as_string(), text);
    if (type != "response.failed") {
      const json::object& usage = terminal.at("usage").as_object();
      for (std::string_view key : {"input_tokens", "output_tokens", "total_tokens"}) {
        EXPECT_TRUE(usage.at(key).is_int64()) << key;
      }
      EXPECT_TRUE(usage.at("output_tokens_details").at("reasoning_tokens").is_int64());
      EXPECT_TRUE(usage.at("input_tokens_details").at("cached_tokens").is_int64());
    }
  }

  std::size_t count(std::string_view type) const {
    return std::count(types.begin(), types.end(), type);
  }
};

}  // namespace zai::testing
