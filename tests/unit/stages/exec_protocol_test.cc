#include "exec_protocol.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sluice/stages/base64.h"
#include "stage_test_util.h"

namespace sluice::stages {
namespace {

using nlohmann::json;
using testing::json_task;
using testing::MapState;

json encoded(const Task& task) {
  auto line = encode_task(task);
  EXPECT_TRUE(line.is_ok()) << line.status().to_string();
  EXPECT_EQ(line->back(), '\n');
  return json::parse(line.value());
}

std::string parse_error(std::string_view line, size_t max = kMaxExecLineBytes) {
  auto result = parse_result_line(line, max);
  EXPECT_FALSE(result.is_ok());
  return result.is_ok() ? "" : result.status().message();
}

TEST(ExecProtocol, TaskLineCarriesIdsAttemptAndHeaders) {
  Task task = json_task("t1", R"({"n":1})", 2);
  task.headers = {{"trace", "abc"}};
  json line = encoded(task);
  EXPECT_EQ(line["id"], "t1");
  EXPECT_EQ(line["job"], "job-t1");
  EXPECT_EQ(line["key"], "key-1");
  EXPECT_EQ(line["attempt"], 2);
  EXPECT_EQ(line["headers"], json({{"trace", "abc"}}));
}

TEST(ExecProtocol, JsonPayloadIsEmbeddedAsAJsonValue) {
  json line = encoded(json_task("t1", R"({"n":1,"s":"x"})"));
  EXPECT_EQ(line["payload"], json({{"n", 1}, {"s", "x"}}));
  EXPECT_FALSE(line.contains("encoding"));
}

TEST(ExecProtocol, JsonContentTypeWithParametersCountsAsJson) {
  Task task = json_task("t1", "[1,2]");
  task.content_type = "application/json; charset=utf-8";
  EXPECT_EQ(encoded(task)["payload"], json({1, 2}));
}

TEST(ExecProtocol, NonJsonPayloadIsSentAsBase64) {
  Task task = json_task("t1", std::string("\x00\xff raw", 6));
  task.content_type = "application/octet-stream";
  json line = encoded(task);
  EXPECT_EQ(line["encoding"], "base64");
  EXPECT_EQ(base64_decode(line["payload"].get<std::string>()), task.payload);
}

// Issue 7, item 11: the line carried json.dump() of the parsed payload.
TEST(ExecProtocol, JsonPayloadKeepsItsBytesBigNumbersAndKeyOrder) {
  std::string payload = R"({"z":1, "big":123456789012345678901234567890,"a":[1.10]})";
  auto line = encode_task(json_task("t1", payload));
  ASSERT_TRUE(line.is_ok()) << line.status().to_string();
  EXPECT_NE(line->find(R"("payload":)" + payload + "}\n"), std::string::npos) << *line;
  EXPECT_EQ(json::parse(*line)["id"], "t1");
}

TEST(ExecProtocol, JsonPayloadWithLineBreaksStaysOneLine) {
  auto line = encode_task(json_task("t1", "{\"a\":\r\n 1}"));
  ASSERT_TRUE(line.is_ok()) << line.status().to_string();
  EXPECT_EQ(line->find_first_of("\r\n"), line->size() - 1) << *line;
  EXPECT_EQ(json::parse(*line)["payload"], json({{"a", 1}}));
}

TEST(ExecProtocol, JsonContentTypeWithInvalidPayloadIsInvalidInput) {
  auto line = encode_task(json_task("t1", "{not json"));
  ASSERT_FALSE(line.is_ok());
  EXPECT_EQ(line.status().code(), StatusCode::kInvalidInput);
}

TEST(ExecProtocol, ResultWithOutputsParsesPayloadKeyAndDestination) {
  auto r = parse_result_line(
      R"({"id":"t1","outputs":[{"payload":{"a":1},"key":"k2","to":"publish"},{"payload":"s"}]})");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->id, "t1");
  EXPECT_FALSE(r->is_error);
  ASSERT_EQ(r->outputs.size(), 2u);
  EXPECT_EQ(r->outputs[0].payload, R"({"a":1})");
  EXPECT_EQ(r->outputs[0].content_type, kJsonContentType);
  EXPECT_EQ(r->outputs[0].key, "k2");
  EXPECT_EQ(r->outputs[0].to, "publish");
  EXPECT_EQ(r->outputs[1].payload, R"("s")");
  EXPECT_FALSE(r->outputs[1].key.has_value());
  EXPECT_EQ(r->outputs[1].to, "");
}

TEST(ExecProtocol, EmptyOutputListIsAValidResult) {
  auto r = parse_result_line(R"({"id":"t1","outputs":[]})");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(to_outcome(std::move(r).value()).kind, OutcomeKind::kOk);
}

TEST(ExecProtocol, Base64OutputBecomesRawBytes) {
  auto r = parse_result_line(R"({"id":"t1","outputs":[{"payload":"AP8=","encoding":"base64"}]})");
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->outputs[0].payload, std::string("\x00\xff", 2));
  EXPECT_EQ(r->outputs[0].content_type, kOctetStreamContentType);
}

TEST(ExecProtocol, ErrorWithRetryTrueBecomesARetry) {
  auto r = parse_result_line(R"({"id":"t1","error":"busy","retry":true})");
  ASSERT_TRUE(r.is_ok());
  Outcome outcome = to_outcome(std::move(r).value());
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetry);
  EXPECT_EQ(outcome.error_kind, "error");
  EXPECT_EQ(outcome.error, "busy");
}

TEST(ExecProtocol, ErrorWithRetryFalseBecomesAFailure) {
  auto r = parse_result_line(R"({"id":"t1","error":"bad input","retry":false})");
  ASSERT_TRUE(r.is_ok());
  Outcome outcome = to_outcome(std::move(r).value());
  EXPECT_EQ(outcome.kind, OutcomeKind::kFail);
  EXPECT_EQ(outcome.error, "bad input");
}

// Issue 7, item 14: an agent's exception and its refusal are told apart.
TEST(ExecProtocol, ErrorOfKindExceptionKeepsItsKind) {
  auto r = parse_result_line(R"({"id":"t1","error":"KeyError: 'x'","kind":"exception"})");
  ASSERT_TRUE(r.is_ok());
  Outcome outcome = to_outcome(std::move(r).value());
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetry);
  EXPECT_EQ(outcome.error_kind, "exception");
  auto other = parse_result_line(R"({"id":"t1","error":"x","kind":"crash"})");
  ASSERT_TRUE(other.is_ok());
  EXPECT_EQ(to_outcome(std::move(other).value()).error_kind, "error") << "only exception is taken";
}

// Issue 7, item 11: an output's payload keeps the child's bytes.
TEST(ExecProtocol, OutputPayloadKeepsTheChildsBytes) {
  auto r = parse_result_line(
      R"({"id":"t1","outputs":[{"payload": {"z": 123456789012345678901234567890, "a": [1, 2]}},)"
      R"( {"to":"x","payload":"s"}]})");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(r->outputs.size(), 2u);
  EXPECT_EQ(r->outputs[0].payload, R"({"z": 123456789012345678901234567890, "a": [1, 2]})");
  EXPECT_EQ(r->outputs[1].payload, R"("s")");
  EXPECT_EQ(r->outputs[1].to, "x");
}

// Issue 7, item 6: over max_outputs the task fails; the line is no garbage.
TEST(ExecProtocol, MoreOutputsThanTheCapFailTheTaskNotTheLine) {
  auto r = parse_result_line(R"({"id":"t1","outputs":[{"payload":1},{"payload":2},{"payload":3}]})",
                             kMaxExecLineBytes, /*max_outputs=*/2);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  Outcome outcome = to_outcome(std::move(r).value());
  EXPECT_EQ(outcome.kind, OutcomeKind::kFail);
  EXPECT_EQ(outcome.error, "the result has 3 outputs, more than max_outputs (2)");
}

// Issue 8, item 6: an agent asks that nothing be retried before a time.
TEST(ExecProtocol, ErrorWithRetryAfterCarriesItIntoTheOutcome) {
  auto r = parse_result_line(R"({"id":"t1","error":"rate limited","retry_after":2.5})");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  Outcome outcome = to_outcome(std::move(r).value());
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetry);
  EXPECT_EQ(outcome.retry_after, std::chrono::milliseconds(2500));
}

TEST(ExecProtocol, RetryAfterRoundsUpToAWholeMillisecond) {
  auto r = parse_result_line(R"({"id":"t1","error":"x","retry_after":0.0001})");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(to_outcome(std::move(r).value()).retry_after, std::chrono::milliseconds(1));
}

TEST(ExecProtocol, ErrorWithoutRetryAfterHasNone) {
  auto r = parse_result_line(R"({"id":"t1","error":"x","retry_after":null})");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(to_outcome(std::move(r).value()).retry_after, std::chrono::milliseconds(0));
}

TEST(ExecProtocol, HugeRetryAfterIsCappedAtADay) {
  auto r = parse_result_line(R"({"id":"t1","error":"x","retry_after":1e300})");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(to_outcome(std::move(r).value()).retry_after, kMaxRetryAfter);
}

TEST(ExecProtocol, RetryAfterOnAFailureIsIgnored) {
  auto r = parse_result_line(R"({"id":"t1","error":"x","retry":false,"retry_after":3})");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  Outcome outcome = to_outcome(std::move(r).value());
  EXPECT_EQ(outcome.kind, OutcomeKind::kFail);
  EXPECT_EQ(outcome.retry_after, std::chrono::milliseconds(0));
}

TEST(ExecProtocol, NegativeOrNonNumericRetryAfterIsGarbage) {
  EXPECT_NE(parse_error(R"({"id":"t1","error":"x","retry_after":-1})").find("retry_after"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"id":"t1","error":"x","retry_after":"2"})").find("retry_after"),
            std::string::npos);
}

// Issue 8, item 6: an http response belongs to its request, so its body
// needs no id; a line from a child still does.
TEST(ExecProtocol, ResultBodyMayOmitTheId) {
  auto r = parse_result_body(R"({"outputs":[{"payload":1}]})", kMaxExecLineBytes, 1000);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->id, "");
  EXPECT_EQ(r->outputs.at(0).payload, "1");
  EXPECT_NE(parse_error(R"({"outputs":[]})").find("no \"id\""), std::string::npos);
}

TEST(ExecProtocol, ErrorWithoutRetryFlagIsRetried) {
  auto r = parse_result_line(R"({"id":"t1","error":"x"})");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(to_outcome(std::move(r).value()).kind, OutcomeKind::kRetry);
}

TEST(ExecProtocol, LineThatIsNotJsonIsGarbage) {
  EXPECT_NE(parse_error("hello world").find("not JSON"), std::string::npos);
}

TEST(ExecProtocol, LineThatIsNotAnObjectIsGarbage) { parse_error(R"(["id"])"); }

TEST(ExecProtocol, LineWithoutIdIsGarbage) {
  EXPECT_NE(parse_error(R"({"outputs":[]})").find("id"), std::string::npos);
}

TEST(ExecProtocol, LineWhoseIdIsNotAStringIsGarbage) {
  EXPECT_NE(parse_error(R"({"id":7,"outputs":[]})").find("not a string"), std::string::npos);
}

TEST(ExecProtocol, OutputsThatAreNotAListAreGarbage) {
  EXPECT_NE(parse_error(R"({"id":"t1","outputs":{"payload":1}})").find("not a list"),
            std::string::npos);
}

TEST(ExecProtocol, OutputWithoutPayloadIsGarbage) {
  parse_error(R"({"id":"t1","outputs":[{"key":"k"}]})");
}

TEST(ExecProtocol, OutputWithNonStringKeyIsGarbage) {
  parse_error(R"({"id":"t1","outputs":[{"payload":1,"key":5}]})");
}

TEST(ExecProtocol, Base64OutputThatDoesNotDecodeIsGarbage) {
  parse_error(R"({"id":"t1","outputs":[{"payload":"@@@","encoding":"base64"}]})");
}

TEST(ExecProtocol, LineWithNeitherOutputsNorErrorIsGarbage) { parse_error(R"({"id":"t1"})"); }

TEST(ExecProtocol, NonBooleanRetryIsGarbage) {
  parse_error(R"({"id":"t1","error":"x","retry":"yes"})");
}

TEST(ExecProtocol, LineOverTheSizeLimitIsGarbage) {
  std::string huge = R"({"id":"t1","outputs":[{"payload":")" + std::string(2000, 'x') + R"("}]})";
  EXPECT_NE(parse_error(huge, 1024).find("exceeds"), std::string::npos);
}

TEST(ExecProtocol, DeeplyNestedLineIsGarbage) {
  std::string deep = R"({"id":"t1","outputs":[{"payload":)" + std::string(100000, '[') + "]}]}";
  EXPECT_NE(parse_error(deep).find("nested"), std::string::npos);
}

// A stage with `state: true`: the key's state rides on the task line as the
// JSON the child wrote, and a result sets or clears it.
TEST(ExecProtocol, TaskLineCarriesTheKeysStateAsItsJson) {
  MapState state;
  state.values[std::string(kKeyStateName)] = R"({"turns":["hi",12345678901234567890]})";
  Task task = json_task("t1", R"({"n":1})");
  task.state = &state;
  auto line = encode_task(task);
  ASSERT_TRUE(line.is_ok()) << line.status().to_string();
  EXPECT_NE(line->find(R"("state":{"turns":["hi",12345678901234567890]})"), std::string::npos)
      << *line;  // the stored bytes, big number intact
  EXPECT_EQ(json::parse(*line)["payload"], json({{"n", 1}}));
}

TEST(ExecProtocol, TaskLineHasNoStateWhenTheKeyHasNone) {
  MapState state;
  Task task = json_task("t1", R"({"n":1})");
  task.state = &state;
  EXPECT_FALSE(encoded(task).contains("state"));
  task.state = nullptr;  // a stage without state
  EXPECT_FALSE(encoded(task).contains("state"));
}

class FailingState final : public StageState {
 public:
  Result<std::optional<std::string>> get(std::string_view, Scope) const override {
    return transient_error("store busy");
  }
  Status put(std::string_view, std::string, Scope) override { return Status::ok(); }
  void erase(std::string_view, Scope) override {}
  Status scan(std::string_view, const Visitor&, Scope) const override { return Status::ok(); }
};

TEST(ExecProtocol, AStateThatCannotBeReadRetriesTheTask) {
  FailingState state;
  Task task = json_task("t1", R"({"n":1})");
  task.state = &state;
  auto line = encode_task(task);
  ASSERT_FALSE(line.is_ok());
  Outcome outcome = unencodable_task(line.status(), "stage s");
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetry);
  EXPECT_EQ(outcome.error_kind, "state");
  EXPECT_EQ(outcome.error, "stage s: cannot read the key's state: store busy");

  Outcome bad_json = unencodable_task(encode_task(json_task("t2", "{no")).status(), "stage s");
  EXPECT_EQ(bad_json.kind, OutcomeKind::kFail);
  EXPECT_EQ(bad_json.error_kind, "invalid_input");
}

TEST(ExecProtocol, AResultSetsTheStateAsTheChildWroteIt) {
  auto result = parse_result_line(
      R"({"id":"t1","outputs":[],"state":{"b":1,"a":12345678901234567890}})");
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  Outcome outcome = to_outcome(std::move(result).value());
  ASSERT_EQ(outcome.kind, OutcomeKind::kOk);
  ASSERT_TRUE(outcome.state_change.has_value());
  EXPECT_EQ(outcome.state_change->value, R"({"b":1,"a":12345678901234567890})");
}

TEST(ExecProtocol, AResultWithNullStateClearsItAndOneWithoutLeavesIt) {
  Outcome cleared = to_outcome(parse_result_line(R"({"id":"t1","outputs":[],"state":null})").value());
  ASSERT_TRUE(cleared.state_change.has_value());
  EXPECT_FALSE(cleared.state_change->value.has_value());
  Outcome kept = to_outcome(parse_result_line(R"({"id":"t1","outputs":[]})").value());
  EXPECT_FALSE(kept.state_change.has_value());
}

TEST(ExecProtocol, AnErrorResultSetsNoState) {
  Outcome outcome =
      to_outcome(parse_result_line(R"({"id":"t1","error":"no","state":{"a":1}})").value());
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetry);
  EXPECT_FALSE(outcome.state_change.has_value());
}

}  // namespace
}  // namespace sluice::stages
