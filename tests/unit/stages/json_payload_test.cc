#include "sluice/stages/json_payload.h"

#include <gtest/gtest.h>

#include <functional>

namespace sluice::stages {
namespace {

using nlohmann::json;

std::string patched(const std::string& text, const std::function<void(json&)>& change) {
  json before = json::parse(text), after = before;
  change(after);
  return patch_object(text, before, after);
}

TEST(JsonPayload, ObjectMembersAreSpansOfTheText) {
  auto members = object_members(R"( { "a" : [1, {"x":"}"}] , "b\u0041":"s,",  "c":{} } )");
  ASSERT_TRUE(members.has_value());
  ASSERT_EQ(members->size(), 3u);
  EXPECT_EQ((*members)[0].name, "a");
  EXPECT_EQ((*members)[0].value, R"([1, {"x":"}"}])");
  EXPECT_EQ((*members)[1].name, "bA");
  EXPECT_EQ((*members)[1].value, R"("s,")");
  EXPECT_EQ((*members)[2].value, "{}");
  EXPECT_FALSE(object_members("[1]").has_value());
  EXPECT_TRUE(object_members("{}")->empty());
}

TEST(JsonPayload, PatchRewritesOnlyChangedMembersAndAppendsNewOnes) {
  std::string text = R"({"z": 12345678901234567890123, "t":"a", "k":1.50})";
  EXPECT_EQ(patched(text, [](json& j) { j["t"] = "B"; j["new"] = {1}; }),
            R"({"z": 12345678901234567890123, "t":"B", "k":1.50,"new":[1]})");
  EXPECT_EQ(patched(text, [](json&) {}), text);
  EXPECT_EQ(patched("{ }", [](json& j) { j["a"] = 1; }), R"({ "a":1})");
}

TEST(JsonPayload, PatchFallsBackToADumpForRemovalsAndDuplicates) {
  EXPECT_EQ(patched(R"({"a":1,"b":2})", [](json& j) { j.erase("a"); }), R"({"b":2})");
  EXPECT_EQ(patched(R"({"a":1,"a":2})", [](json& j) { j["b"] = 3; }), R"({"a":2,"b":3})");
}

TEST(JsonPayload, RawMemberIsAppendedOnOneLine) {
  EXPECT_EQ(with_raw_member(R"({"id":"t"})", "payload", "{\"n\":\n1}"),
            R"({"id":"t","payload":{"n": 1}})");
  EXPECT_EQ(with_raw_member("{}", "p", "2"), R"({"p":2})");
  EXPECT_EQ(with_raw_member("{}", "p", "\xEF\xBB\xBF[1]"), R"({"p":[1]})");
}

TEST(JsonPayload, DeepNestingIsRefusedNotRecursedInto) {
  auto parsed = parse_json(std::string(100000, '[') + std::string(100000, ']'));
  ASSERT_FALSE(parsed.is_ok());
  EXPECT_EQ(parsed.status().message(), "JSON nested deeper than 256 levels");
}

}  // namespace
TEST(JsonPayload, AMemberValueIsReplacedInPlaceOrAppended) {
  EXPECT_EQ(with_member_value(R"({"n": 12345678901234567890, "count": 1 , "z":[1]})", "count",
                              "2"),
            R"({"n": 12345678901234567890, "count": 2 , "z":[1]})");
  EXPECT_EQ(with_member_value(R"({"count":1,"count":{"a":1}})", "count", "3"),
            R"({"count":3,"count":3})");
  EXPECT_EQ(with_member_value(R"({"n":1})", "count", "1"), R"({"n":1,"count":1})");
  EXPECT_EQ(with_member_value("{ }", "count", "1"), R"({ "count":1})");
}

TEST(JsonPayload, ObjectTextIsValidatedWithoutAValue) {
  EXPECT_TRUE(is_json_object_text(R"( {"a":[1,{"b":null}]} )"));
  EXPECT_FALSE(is_json_object_text("[1]"));
  EXPECT_FALSE(is_json_object_text(R"({"a":)"));
  EXPECT_FALSE(is_json_object_text(""));
  EXPECT_FALSE(is_json_object_text(std::string(300, '{')));
}

}  // namespace sluice::stages
