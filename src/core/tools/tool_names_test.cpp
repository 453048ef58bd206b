#include "core/tools/tool_names.hpp"

#include <gtest/gtest.h>

namespace zai::tools {
namespace {

std::vector<tool_definition> declared(std::initializer_list<std::string_view> names) {
  std::vector<tool_definition> tools;
  for (std::string_view n : names) {
    tool_definition t;
    t.name = std::string(n);
    tools.push_back(std::move(t));
  }
  return tools;
}

std::string snapped(std::string_view written, const std::vector<tool_definition>& tools) {
  const std::optional<std::size_t> i = snap_tool_name(written, tools);
  return i ? tools[*i].name : "<none>";
}

TEST(tool_names, respellings_snap_to_the_declared_tool) {
  const auto tools = declared({"read_file", "write_file", "bash", "grep_search"});
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"read_file", "read_file"},
      {"Read_File", "read_file"},
      {"read-file", "read_file"},
      {"READ_FILE", "read_file"},
      {"functions.read_file", "read_file"},
      {"\"bash\"", "bash"},
      {"`bash`", "bash"},
      {" write_file\n", "write_file"},
      {"grep_serch", "grep_search"},
      {"read_files", "read_file"},
      {"Bash", "bash"},
  };
  for (const auto& [written, expected] : cases)
    EXPECT_EQ(snapped(written, tools), expected) << written;
}

TEST(tool_names, ambiguous_or_distant_names_do_not_snap) {
  const auto tools = declared({"read_file", "read_fil3", "edit", "bash"});
  for (std::string_view written :
       {"read_fil", "exit", "python", "", "  ", "delete_everything", "bas"}) {
    EXPECT_EQ(snapped(written, tools), "<none>") << written;
  }
  // Names that differ only in case or '-'/'_' are both taken as written, never guessed between.
  const auto twins = declared({"Search", "search"});
  EXPECT_EQ(snapped("search", twins), "search");
  EXPECT_EQ(snapped("SEARCH", twins), "<none>");
}

}  // namespace
}  // namespace zai::tools
