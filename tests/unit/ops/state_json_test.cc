// How `sluice state` prints an entry: the JSON line formats, value rendering.
#include "state_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace sluice::ops {
namespace {

using nlohmann::json;

StateEntry entry(std::string task_key, std::string value) {
  StateEntry e;
  e.partition = 3;
  e.offset = 41;
  e.key.task_key = std::move(task_key);
  e.value = std::move(value);
  return e;
}

TEST(StateJson, DumpLineHasPartitionScopeKeyNameAndValue) {
  json line = json::parse(state_dump_line(entry("k1", "5")));
  EXPECT_EQ(line, json({{"partition", 3}, {"scope", "key"}, {"key", "k1"}, {"name", ""},
                        {"value", 5}}));
}

TEST(StateJson, PartitionScopedEntryHasNoKey) {
  StateEntry e = entry("", "1");
  e.key.scope = StageState::Scope::kPartition;
  e.key.name = "total";
  json line = json::parse(state_dump_line(e));
  EXPECT_EQ(line["scope"], "partition");
  EXPECT_EQ(line["name"], "total");
  EXPECT_FALSE(line.contains("key"));
}

TEST(StateJson, GetJsonHasKeyNamePartitionOffsetAndValue) {
  json line = json::parse(state_get_json(entry("k1", R"({"history":[1,2]})")));
  EXPECT_EQ(line, json({{"key", "k1"}, {"name", ""}, {"partition", 3}, {"offset", 41},
                        {"value", {{"history", {1, 2}}}}}));
}

TEST(StateJson, JsonValueKeepsItsBytes) {
  std::string line = state_dump_line(entry("k", "123456789012345678901234567890"));
  EXPECT_NE(line.find(R"("value":123456789012345678901234567890)"), std::string::npos) << line;
}

TEST(StateJson, MultiLineJsonValueStaysOnOneLine) {
  std::string line = state_dump_line(entry("k", "{\n  \"a\": 1\n}"));
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(json::parse(line)["value"], json({{"a", 1}}));
}

TEST(StateJson, TextThatIsNotJsonIsAString) {
  json line = json::parse(state_dump_line(entry("k", "hello world")));
  EXPECT_EQ(line["value"], "hello world");
  EXPECT_FALSE(line.contains("encoding"));
}

TEST(StateJson, EmptyValueIsAnEmptyString) {
  EXPECT_EQ(json::parse(state_dump_line(entry("k", "")))["value"], "");
}

TEST(StateJson, BytesThatAreNotUtf8AreBase64) {
  json line = json::parse(state_dump_line(entry("k", std::string("\xff\x00\x01", 3))));
  EXPECT_EQ(line["value"], "/wAB");
  EXPECT_EQ(line["encoding"], "base64");
}

TEST(StateJson, AKeyThatIsNotUtf8IsBase64) {
  json line = json::parse(state_get_json(entry("\xff", "1")));
  EXPECT_EQ(line["key"], "/w==");
  EXPECT_EQ(line["key_encoding"], "base64");
  EXPECT_FALSE(line.contains("encoding"));
}

}  // namespace
}  // namespace sluice::ops
