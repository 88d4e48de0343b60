#include "task_codec.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "sample_envelope.h"

namespace sluice::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

using testing::sample_envelope;

bool decode(std::string_view bytes, v1::Envelope* envelope) {
  return decode_envelope(bytes.data(), bytes.size(), envelope);
}

TEST(TaskCodec, DecodeEnvelopeRejectsEmptyBytes) {
  v1::Envelope envelope;
  EXPECT_FALSE(decode("", &envelope));
  EXPECT_FALSE(decode_envelope(nullptr, 0, &envelope));
}

TEST(TaskCodec, DecodeEnvelopeRejectsPlainText) {
  v1::Envelope envelope;
  EXPECT_FALSE(decode("hello world", &envelope));
}

TEST(TaskCodec, DecodeEnvelopeRejectsJson) {
  v1::Envelope envelope;
  EXPECT_FALSE(decode(R"("hello world")", &envelope));
  EXPECT_FALSE(decode(R"({"job_id":"job-1","payload":"x"})", &envelope));
}

TEST(TaskCodec, DecodeEnvelopeRejectsProtobufThatNamesNoJob) {
  v1::Envelope no_job = sample_envelope();
  no_job.clear_job_id();
  v1::Envelope envelope;
  EXPECT_FALSE(decode(no_job.SerializeAsString(), &envelope));
}

TEST(TaskCodec, DecodeEnvelopeAcceptsASerializedEnvelope) {
  std::string bytes = sample_envelope().SerializeAsString();

  v1::Envelope envelope;
  ASSERT_TRUE(decode(bytes, &envelope));

  EXPECT_EQ(envelope.job_id(), "job-1");
  EXPECT_EQ(envelope.task_id(), "task-in");
  EXPECT_EQ(envelope.key(), "user-42");
  EXPECT_EQ(envelope.payload(), R"({"url":"https://example.com"})");
}

TEST(TaskCodec, DecodeEnvelopeAcceptsFieldsFromANewerWriter) {
  std::string bytes = sample_envelope().SerializeAsString();
  bytes += std::string("\xa0\x06\x07", 3);  // field 100, varint 7: unknown here

  v1::Envelope envelope;
  EXPECT_TRUE(decode(bytes, &envelope));
  EXPECT_EQ(envelope.job_id(), "job-1");
}

TEST(TaskCodec, TakeTaskMovesThePayloadOutOfTheEnvelope) {
  v1::Envelope envelope = sample_envelope();

  Task task = take_task(envelope, "record-key");

  EXPECT_EQ(task.payload, R"({"url":"https://example.com"})");
  EXPECT_THAT(envelope.payload(), IsEmpty());
}

TEST(TaskCodec, TakeTaskCopiesIdsAttemptContentTypeAndHeaders) {
  v1::Envelope envelope = sample_envelope();

  Task task = take_task(envelope, "record-key");

  EXPECT_EQ(task.id, "task-in");
  EXPECT_EQ(task.job_id, "job-1");
  EXPECT_EQ(task.attempt, 3u);
  EXPECT_EQ(task.content_type, "application/json");
  EXPECT_THAT(task.headers, ElementsAre(Pair("empty", ""), Pair("trace", "abc")));
}

TEST(TaskCodec, TakeTaskUsesTheEnvelopeKey) {
  v1::Envelope envelope = sample_envelope();

  EXPECT_EQ(take_task(envelope, "record-key").key, "user-42");
}

TEST(TaskCodec, TakeTaskFallsBackToTheRecordKey) {
  v1::Envelope envelope = sample_envelope();
  envelope.clear_key();

  EXPECT_EQ(take_task(envelope, "record-key").key, "record-key");
}

TEST(TaskCodec, TakeTaskCountsAMissingAttemptAsTheFirst) {
  v1::Envelope envelope = sample_envelope();
  envelope.clear_attempt();

  EXPECT_EQ(take_task(envelope, "").attempt, 1u);
}

TEST(TaskCodec, AppendErrorAddsToTheHistoryInOrder) {
  v1::Envelope envelope = sample_envelope();  // one error already
  int64_t before = now_unix_ms();

  append_error(envelope, {"summarize", 3, "crash", "child exited 137"});
  append_error(envelope, {"summarize", 4, "error", "bad gateway"});

  ASSERT_EQ(envelope.errors_size(), 3);
  const v1::ErrorRecord& crash = envelope.errors(1);
  EXPECT_EQ(crash.stage(), "summarize");
  EXPECT_EQ(crash.attempt(), 3u);
  EXPECT_EQ(crash.kind(), "crash");
  EXPECT_EQ(crash.message(), "child exited 137");
  EXPECT_GE(crash.time_unix_ms(), before);
  EXPECT_EQ(envelope.errors(2).kind(), "error");
}

// The retry path appends to the input's bytes instead of parsing and
// re-serializing it: what it writes must read back as that envelope with
// the new error and the next attempt's fields, nothing else changed.
TEST(TaskCodec, AppendedErrorAndNextAttemptReadBackAsTheWholeEnvelope) {
  v1::Envelope input = sample_envelope();  // one error already
  input.set_not_before_unix_ms(5);
  std::string bytes = input.SerializeAsString();

  append_error({"summarize", 2, "error", "bad gateway \xFF"}, &bytes);
  append_next_attempt({3, 12345, "summarize", "user-7"}, &bytes);

  v1::Envelope expected = input;
  append_error(expected, {"summarize", 2, "error", "bad gateway \xFF"});
  expected.set_attempt(3);
  expected.set_not_before_unix_ms(12345);
  expected.set_destination_stage("summarize");
  expected.set_key("user-7");
  v1::Envelope decoded;
  ASSERT_TRUE(decode(bytes, &decoded));
  ASSERT_EQ(decoded.errors_size(), 2);
  EXPECT_EQ(decoded.errors(1).message(), "bad gateway \xEF\xBF\xBD");
  // The appended entry's time is its own; every other field, maps included, must match.
  expected.mutable_errors(1)->set_time_unix_ms(decoded.errors(1).time_unix_ms());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(decoded, expected))
      << decoded.DebugString();
}

// Appended again on a later failure, the history keeps every entry in order
// and the last attempt's fields win.
TEST(TaskCodec, AppendingTwiceKeepsTheWholeHistory) {
  std::string bytes = sample_envelope().SerializeAsString();

  append_error({"summarize", 2, "timeout", "first"}, &bytes);
  append_next_attempt({3, 100, "summarize", "k"}, &bytes);
  append_error({"summarize", 3, "crash", "second"}, &bytes);
  append_next_attempt({4, 200, "summarize", "k"}, &bytes);

  v1::Envelope decoded;
  ASSERT_TRUE(decode(bytes, &decoded));
  ASSERT_EQ(decoded.errors_size(), 3);
  EXPECT_EQ(decoded.errors(1).message(), "first");
  EXPECT_EQ(decoded.errors(2).message(), "second");
  EXPECT_EQ(decoded.errors(2).attempt(), 3u);
  EXPECT_EQ(decoded.attempt(), 4u);
  EXPECT_EQ(decoded.not_before_unix_ms(), 200);
}

TEST(TaskCodec, UndecodableEnvelopeKeepsTheOriginalBytesAndKey) {
  std::string bytes("not\0an\xff" "envelope", 15);

  v1::Envelope envelope = undecodable_envelope("articles", "summarize", bytes, "rk");

  EXPECT_EQ(envelope.payload(), bytes);
  EXPECT_EQ(envelope.key(), "rk");
  EXPECT_EQ(envelope.pipeline(), "articles");
  EXPECT_EQ(envelope.destination_stage(), "summarize");
  EXPECT_THAT(envelope.task_id(), ::testing::Not(IsEmpty()));
}

TEST(TaskCodec, UndecodableEnvelopeRecordsAnUndecodableError) {
  v1::Envelope envelope = undecodable_envelope("articles", "summarize", "hello", "");

  ASSERT_EQ(envelope.errors_size(), 1);
  EXPECT_EQ(envelope.errors(0).kind(), "undecodable");
  EXPECT_EQ(envelope.errors(0).stage(), "summarize");
  EXPECT_EQ(envelope.errors(0).attempt(), 1u);
}

// A dead letter is a Sluice record like any other: whatever reads the DLQ
// back (tail --dlq, dlq list/replay) must tell it from foreign bytes, and
// decode_envelope is the engine's test for that (it requires a job id).
TEST(TaskCodec, UndecodableEnvelopeDecodesAsAnEnvelope) {
  std::string bytes =
      undecodable_envelope("articles", "summarize", "hello", "rk").SerializeAsString();

  v1::Envelope envelope;
  EXPECT_TRUE(decode(bytes, &envelope))
      << "a dead letter of foreign bytes is itself refused as foreign";
}

// Defect (issue 7, item 4): invalid bytes in an error message went raw into
// ErrorRecord.message, a proto3 string, so the dead letter failed to parse
// and `tail --dlq` showed it as undecodable. Every string is valid UTF-8 now.
TEST(TaskCodec, ADeadLetterWithInvalidBytesInItsErrorStillDecodes) {
  v1::Envelope letter = sample_envelope();
  append_error(letter, {"stage", 1, "protocol", "garbage line: \xFF\xFE half a euro \xE2\x82"});
  v1::Envelope foreign = undecodable_envelope("p", "stage", "raw", "\xC3(key)");

  v1::Envelope decoded;
  ASSERT_TRUE(decode(letter.SerializeAsString(), &decoded));
  ASSERT_EQ(decoded.errors_size(), letter.errors_size());
  EXPECT_THAT(decoded.errors(decoded.errors_size() - 1).message(),
              ::testing::HasSubstr("half a euro"));
  ASSERT_TRUE(decode(foreign.SerializeAsString(), &decoded));
  EXPECT_EQ(decoded.key(), "\xEF\xBF\xBD(key)");
}

}  // namespace
}  // namespace sluice::engine
