#include "output_encoder.h"

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

namespace sluice::engine {
namespace {

v1::Envelope input_envelope() {
  v1::Envelope input;
  input.set_correlation_id("corr-1");
  input.set_submitted_at_unix_ms(1795300000123);
  input.set_deadline_unix_ms(1795300999000);
  (*input.mutable_headers())["trace"] = "abc";
  (*input.mutable_headers())["empty"] = "";
  return input;
}

Task task() {
  Task t;
  t.id = "task-in";
  t.job_id = "job-1";
  t.key = "user-7";
  t.content_type = "application/json";
  t.payload = R"({"n":1})";
  return t;
}

// The one-pass encoder and the generated code must agree byte for meaning.
void expect_same_as_generated(const v1::Envelope& input, const Task& t, const Output& output,
                              const OutputAddress& address) {
  std::string bytes;
  encode_output_envelope(input, t, output, address, "task-out", &bytes);
  v1::Envelope decoded;
  ASSERT_TRUE(decoded.ParseFromString(bytes));
  v1::Envelope expected;
  fill_output_envelope(input, t, output, address, &expected);
  expected.set_task_id("task-out");  // fill_output_envelope draws a fresh id
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(decoded, expected))
      << decoded.DebugString() << "\nvs\n" << expected.DebugString();
}

TEST(OutputEncoder, MatchesTheGeneratedEncodingOfAnOutput) {
  Output output{R"({"n":2})", std::nullopt, "", ""};
  expect_same_as_generated(input_envelope(), task(), output, {"articles", "fetch", "summarize"});
}

TEST(OutputEncoder, MatchesWithKeyAndContentTypeOverridesAndNoDestination) {
  Output output{std::string("\x00\xff raw", 6), std::string("other-key"), "", "application/octet-stream"};
  expect_same_as_generated(input_envelope(), task(), output, {"articles", "publish", ""});
}

TEST(OutputEncoder, MatchesWhenTheInputHasNoCorrelationOrTimes) {
  Output output{"", std::nullopt, "", ""};
  expect_same_as_generated(v1::Envelope(), task(), output, {"p", "s", "t"});
}

TEST(OutputEncoder, ReturnsTheRecordKey) {
  std::string bytes;
  Task t = task();
  Output keep{"x", std::nullopt, "", ""};
  EXPECT_EQ(encode_output_envelope(v1::Envelope(), t, keep, {"p", "s", ""}, "id", &bytes), "user-7");
  Output rekey{"x", std::string("k2"), "", ""};
  EXPECT_EQ(encode_output_envelope(v1::Envelope(), t, rekey, {"p", "s", ""}, "id", &bytes), "k2");
}

}  // namespace
}  // namespace sluice::engine
