#include "output_encoder.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "sample_envelope.h"
#include "task_codec.h"

namespace sluice::engine {
namespace {

using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

using testing::sample_envelope;

Output output(std::string payload) {
  Output out;
  out.payload = std::move(payload);
  return out;
}

Output keyed_output(std::string payload, std::string key) {
  Output out = output(std::move(payload));
  out.key = std::move(key);
  return out;
}

Output typed_output(std::string payload, std::string content_type) {
  Output out = output(std::move(payload));
  out.content_type = std::move(content_type);
  return out;
}

// `produced` by a task decoded from sample_envelope(), sent from stage
// summarize to stage publish: encoded, then read back by the generated parser.
struct DecodedInput {
  Task task;
  InputFields fields;
};

DecodedInput decoded_input() {
  DecodedInput input;
  EXPECT_TRUE(decode_input(sample_envelope().SerializeAsString(), "record-key", &input.task,
                           &input.fields));
  return input;
}

v1::Envelope output_of(const Output& produced, const OutputAddress& address = {
                                                    "articles", "summarize", "publish"}) {
  DecodedInput input = decoded_input();
  std::string bytes;
  encode_output_envelope(input.fields, input.task, produced, address, new_id(), nullptr, &bytes);
  v1::Envelope out;
  EXPECT_TRUE(out.ParseFromString(bytes));
  return out;
}

TEST(OutputEncoder, OutputIsCausedByTheInputTask) {
  v1::Envelope out = output_of(output("x"));

  EXPECT_EQ(out.parent_task_id(), "task-in");
  EXPECT_EQ(out.causation_id(), "task-in");
  EXPECT_EQ(out.correlation_id(), "corr-1");
}

TEST(OutputEncoder, OutputKeepsJobIdSubmittedAtAndDeadline) {
  v1::Envelope out = output_of(output("x"));

  EXPECT_EQ(out.job_id(), "job-1");
  EXPECT_EQ(out.submitted_at_unix_ms(), 1700000000000);
  EXPECT_EQ(out.deadline_unix_ms(), 1700000060000);
}

TEST(OutputEncoder, OutputHasANewTaskIdPerOutput) {
  v1::Envelope first = output_of(output("x"));
  v1::Envelope second = output_of(output("x"));

  EXPECT_THAT(first.task_id(), ::testing::Not(IsEmpty()));
  EXPECT_NE(first.task_id(), "task-in");
  EXPECT_NE(first.task_id(), second.task_id());
}

TEST(OutputEncoder, OutputStartsAFreshAttemptWithNoErrors) {
  v1::Envelope out = output_of(output("x"));

  EXPECT_EQ(out.attempt(), 1u);
  EXPECT_THAT(out.errors(), IsEmpty());
  EXPECT_FALSE(out.has_origin());
}

TEST(OutputEncoder, OutputIsAddressedFromSourceToDestination) {
  v1::Envelope out = output_of(output("summary"));

  EXPECT_EQ(out.pipeline(), "articles");
  EXPECT_EQ(out.source_stage(), "summarize");
  EXPECT_EQ(out.destination_stage(), "publish");
  EXPECT_EQ(out.payload(), "summary");
}

TEST(OutputEncoder, OutputKeepsTheTaskKeyByDefault) {
  EXPECT_EQ(output_of(output("x")).key(), "user-42");
}

TEST(OutputEncoder, OutputUsesTheOutputKeyOverride) {
  EXPECT_EQ(output_of(keyed_output("x", "other")).key(), "other");
}

TEST(OutputEncoder, OutputFallsBackToTheInputContentType) {
  EXPECT_EQ(output_of(output("x")).content_type(), "application/json");
}

TEST(OutputEncoder, OutputUsesTheOutputContentType) {
  v1::Envelope out = output_of(typed_output("x", "text/plain"));

  EXPECT_EQ(out.content_type(), "text/plain");
}

TEST(OutputEncoder, OutputDecodesAsAnEnvelope) {
  std::string bytes = output_of(output("x")).SerializeAsString();

  v1::Envelope envelope;
  EXPECT_TRUE(decode_envelope(bytes.data(), bytes.size(), &envelope));
}

TEST(OutputEncoder, OutputCarriesTheInputHeaders) {
  EXPECT_THAT(output_of(output("x")).headers(),
              UnorderedElementsAre(Pair("trace", "abc"), Pair("empty", "")));
}

TEST(OutputEncoder, OutputCarriesBinaryPayloadsUnchanged) {
  std::string bytes("\x00\xff raw", 6);
  EXPECT_EQ(output_of(typed_output(bytes, "application/octet-stream")).payload(), bytes);
}

TEST(OutputEncoder, OutputToDoneHasNoDestinationStage) {
  v1::Envelope out = output_of(output("x"), {"articles", "publish", ""});
  EXPECT_EQ(out.destination_stage(), "");
  EXPECT_EQ(out.source_stage(), "publish");
}

TEST(OutputEncoder, OutputOfAnInputWithoutCorrelationIsCorrelatedByItsJob) {
  InputFields input;
  Task task;
  task.id = "t";
  task.job_id = "job-9";
  std::string bytes;
  encode_output_envelope(input, task, output(""), {"p", "s", "t"}, "id", nullptr, &bytes);
  v1::Envelope out;
  ASSERT_TRUE(out.ParseFromString(bytes));
  EXPECT_EQ(out.correlation_id(), "job-9");
  EXPECT_EQ(out.submitted_at_unix_ms(), 0);
  EXPECT_EQ(out.payload(), "");
}

TEST(OutputEncoder, ReturnsTheRecordKey) {
  DecodedInput input = decoded_input();
  std::string bytes;
  EXPECT_EQ(encode_output_envelope(input.fields, input.task, output("x"), {"p", "s", ""}, "id",
                                   nullptr, &bytes),
            "user-42");
  EXPECT_EQ(encode_output_envelope(input.fields, input.task, keyed_output("x", "k2"),
                                   {"p", "s", ""}, "id", nullptr, &bytes),
            "k2");
}

// Byte for byte what the generated serializer writes for the same message
// (deterministic mode: map entries sorted by key, as the encoder writes them).
TEST(OutputEncoder, WritesTheSameBytesAsTheGeneratedSerializer) {
  DecodedInput input = decoded_input();
  std::string bytes;
  encode_output_envelope(input.fields, input.task, output("summary"),
                         {"articles", "summarize", "publish"}, "task-out", nullptr, &bytes);

  v1::Envelope expected;
  expected.set_job_id("job-1");
  expected.set_task_id("task-out");
  expected.set_parent_task_id("task-in");
  expected.set_correlation_id("corr-1");
  expected.set_causation_id("task-in");
  expected.set_pipeline("articles");
  expected.set_destination_stage("publish");
  expected.set_source_stage("summarize");
  expected.set_attempt(1);
  expected.set_submitted_at_unix_ms(1700000000000);
  expected.set_deadline_unix_ms(1700000060000);
  expected.set_content_type("application/json");
  expected.set_payload("summary");
  (*expected.mutable_headers())["trace"] = "abc";
  (*expected.mutable_headers())["empty"] = "";
  expected.set_key("user-42");
  std::string serialized;
  {
    google::protobuf::io::StringOutputStream stream(&serialized);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    ASSERT_TRUE(expected.SerializeToCodedStream(&coded));
  }

  EXPECT_EQ(bytes, serialized);
}

// A fan-out's part, written as the generated serializer writes it, and read
// back by the worker's decoder onto the next task.
TEST(OutputEncoder, APartIsWrittenAndReadBack) {
  DecodedInput input = decoded_input();
  TaskPart part{"task-in", 2, 5};
  std::string bytes;
  encode_output_envelope(input.fields, input.task, output("{}"), {"p", "s", "t"}, "id", &part,
                         &bytes);
  v1::Envelope out;
  ASSERT_TRUE(out.ParseFromString(bytes));
  EXPECT_EQ(out.part().group(), "task-in");
  EXPECT_EQ(out.part().index(), 2u);
  EXPECT_EQ(out.part().count(), 5u);

  Task next;
  InputFields fields;
  ASSERT_TRUE(decode_input(bytes, "", &next, &fields));
  EXPECT_EQ(next.part, part);
  EXPECT_FALSE(next.tick);
  TaskPart first{"g", 0, 2};
  encode_output_envelope(input.fields, input.task, output("{}"), {"p", "s", "t"}, "id", &first,
                         &bytes);
  ASSERT_TRUE(decode_input(bytes, "", &next, &fields));
  EXPECT_EQ(next.part, first) << "index 0 is not written (proto3), and reads back as 0";
  encode_output_envelope(input.fields, input.task, output("{}"), {"p", "s", "t"}, "id", nullptr,
                         &bytes);
  ASSERT_TRUE(decode_input(bytes, "", &next, &fields));
  EXPECT_FALSE(next.part.has_value()) << "a decoded task keeps no part of an earlier one";
}

TEST(OutputEncoder, ATickIsReadAsATick) {
  v1::Envelope tick;
  tick.set_job_id("sluice-tick");
  tick.set_tick(true);
  Task task;
  InputFields fields;
  ASSERT_TRUE(decode_input(tick.SerializeAsString(), "", &task, &fields));
  EXPECT_TRUE(task.tick);
}

}  // namespace
}  // namespace sluice::engine
