#include "input_decoder.h"

#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/unknown_field_set.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "envelope.pb.h"
#include "sample_envelope.h"

namespace sluice::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

using testing::sample_envelope;

struct Decoded {
  bool ok = false;
  Task task;
  InputFields fields;
};

Decoded decode(std::string_view bytes, std::string_view record_key = "record-key") {
  Decoded d;
  d.ok = decode_input(bytes, record_key, &d.task, &d.fields);
  return d;
}

// What the generated parser makes of the same bytes, in the decoder's terms.
Decoded decode_with_protobuf(std::string_view bytes, std::string_view record_key = "record-key") {
  Decoded d;
  v1::Envelope e;
  d.ok = e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) && !e.job_id().empty();
  if (!d.ok) return d;
  d.task.id = e.task_id();
  d.task.job_id = e.job_id();
  d.task.key = e.key().empty() ? std::string(record_key) : e.key();
  d.task.attempt = e.attempt() == 0 ? 1 : e.attempt();
  d.task.content_type = e.content_type();
  d.task.payload = e.payload();
  d.task.headers.insert(e.headers().begin(), e.headers().end());
  d.fields.correlation_id = e.correlation_id();
  d.fields.submitted_at_unix_ms = e.submitted_at_unix_ms();
  d.fields.deadline_unix_ms = e.deadline_unix_ms();
  return d;
}

void expect_same(const Decoded& a, const Decoded& b) {
  ASSERT_EQ(a.ok, b.ok);
  if (!a.ok) return;
  EXPECT_EQ(a.task.id, b.task.id);
  EXPECT_EQ(a.task.job_id, b.task.job_id);
  EXPECT_EQ(a.task.key, b.task.key);
  EXPECT_EQ(a.task.attempt, b.task.attempt);
  EXPECT_EQ(a.task.content_type, b.task.content_type);
  EXPECT_EQ(a.task.payload, b.task.payload);
  EXPECT_EQ(a.task.headers, b.task.headers);
  EXPECT_EQ(a.fields.correlation_id, b.fields.correlation_id);
  EXPECT_EQ(a.fields.submitted_at_unix_ms, b.fields.submitted_at_unix_ms);
  EXPECT_EQ(a.fields.deadline_unix_ms, b.fields.deadline_unix_ms);
}

TEST(InputDecoder, DecodesTheTaskAndWhatOutputsCarryOn) {
  Decoded d = decode(sample_envelope().SerializeAsString());

  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.task.id, "task-in");
  EXPECT_EQ(d.task.job_id, "job-1");
  EXPECT_EQ(d.task.key, "user-42");
  EXPECT_EQ(d.task.attempt, 3u);
  EXPECT_EQ(d.task.content_type, "application/json");
  EXPECT_EQ(d.task.payload, R"({"url":"https://example.com"})");
  EXPECT_THAT(d.task.headers, ElementsAre(Pair("empty", ""), Pair("trace", "abc")));
  EXPECT_EQ(d.fields.correlation_id, "corr-1");
  EXPECT_EQ(d.fields.submitted_at_unix_ms, 1700000000000);
  EXPECT_EQ(d.fields.deadline_unix_ms, 1700000060000);
}

TEST(InputDecoder, FallsBackToTheRecordKeyAndTheFirstAttempt) {
  v1::Envelope e;
  e.set_job_id("job-1");

  Decoded d = decode(e.SerializeAsString(), "from-record");

  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.task.key, "from-record");
  EXPECT_EQ(d.task.attempt, 1u);
}

TEST(InputDecoder, ReusedTaskKeepsNothingOfTheRecordBefore) {
  Task task;
  InputFields fields;
  ASSERT_TRUE(decode_input(sample_envelope().SerializeAsString(), "k", &task, &fields));
  v1::Envelope bare;
  bare.set_job_id("job-2");

  ASSERT_TRUE(decode_input(bare.SerializeAsString(), "k", &task, &fields));

  EXPECT_EQ(task.job_id, "job-2");
  EXPECT_THAT(task.id, IsEmpty());
  EXPECT_THAT(task.payload, IsEmpty());
  EXPECT_THAT(task.headers, IsEmpty());
  EXPECT_THAT(fields.correlation_id, IsEmpty());
  EXPECT_EQ(fields.submitted_at_unix_ms, 0);
}

TEST(InputDecoder, RejectsWhatIsNotAnEnvelope) {
  EXPECT_FALSE(decode("").ok);
  EXPECT_FALSE(decode("hello, world").ok);
  EXPECT_FALSE(decode(R"({"job_id":"j"})").ok);
  v1::Envelope no_job;
  no_job.set_payload("x");
  EXPECT_FALSE(decode(no_job.SerializeAsString()).ok);
}

TEST(InputDecoder, RejectsATruncatedEnvelope) {
  std::string bytes = sample_envelope().SerializeAsString();

  EXPECT_FALSE(decode(bytes.substr(0, bytes.size() - 1)).ok);
}

TEST(InputDecoder, RejectsInvalidUtf8InATextFieldButNotInThePayload) {
  v1::Envelope e;
  e.set_job_id("job-1");
  e.set_payload("\xff\xfe binary");
  EXPECT_TRUE(decode(e.SerializeAsString()).ok);

  std::string bytes = e.SerializeAsString();
  bytes[2] = '\xc0';  // inside job_id: an overlong lead byte

  EXPECT_FALSE(decode(bytes).ok);
  EXPECT_FALSE(decode_with_protobuf(bytes).ok);
}

TEST(InputDecoder, AcceptsMultibyteUtf8) {
  v1::Envelope e;
  e.set_job_id("job-\xc3\xa9-\xe2\x82\xac-\xf0\x9f\x98\x80");  // é € 😀

  Decoded d = decode(e.SerializeAsString());

  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.task.job_id, e.job_id());
}

TEST(InputDecoder, SkipsFieldsFromANewerWriterOfEveryWireType) {
  std::string bytes = sample_envelope().SerializeAsString();
  google::protobuf::UnknownFieldSet newer;
  newer.AddVarint(100, 7);
  newer.AddFixed32(101, 7);
  newer.AddFixed64(102, 7);
  newer.AddLengthDelimited(103, "more");
  std::string extra;
  ASSERT_TRUE(newer.SerializeToString(&extra));

  expect_same(decode(bytes + extra), decode(bytes));
}

TEST(InputDecoder, TheLastValueOfAFieldWins) {
  v1::Envelope later;
  later.set_job_id("job-2");
  later.set_attempt(5);

  Decoded d = decode(sample_envelope().SerializeAsString() + later.SerializeAsString());

  ASSERT_TRUE(d.ok);
  EXPECT_EQ(d.task.job_id, "job-2");
  EXPECT_EQ(d.task.attempt, 5u);
  EXPECT_EQ(d.task.id, "task-in");
}

// Which top-level fields `bytes` holds, read without a schema.
struct WireShape {
  bool has_group = false;   // the decoder refuses groups; no proto3 writer makes them
  bool has_nested = false;  // errors or origin: the decoder skips them unread
};

WireShape wire_shape(const std::string& bytes) {
  google::protobuf::UnknownFieldSet fields;
  (void)fields.ParseFromString(bytes);  // keeps the fields read before any damage
  WireShape shape;
  for (int i = 0; i < fields.field_count(); ++i) {
    const google::protobuf::UnknownField& field = fields.field(i);
    shape.has_group |= field.type() == google::protobuf::UnknownField::TYPE_GROUP;
    shape.has_nested |= field.number() == 16 || field.number() == 17;
  }
  return shape;
}

// Damaged envelopes (bytes overwritten, cut short): wherever the generated
// parser accepts, the decoder reads the same; where it refuses, so does the
// decoder, unless the damage sits in the nested messages it skips.
TEST(InputDecoder, AgreesWithTheGeneratedParserOnDamagedEnvelopes) {
  google::protobuf::SetLogHandler(nullptr);  // it logs every invalid UTF-8 string
  const std::string original = sample_envelope().SerializeAsString();
  std::mt19937 rng(42);
  int accepted = 0, refused = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = original;
    int damaged = 1 + static_cast<int>(rng() % 3);
    for (int d = 0; d < damaged; ++d) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
    WireShape shape = wire_shape(bytes);
    if (shape.has_group) continue;

    SCOPED_TRACE("case " + std::to_string(i));
    Decoded mine = decode(bytes);
    Decoded reference = decode_with_protobuf(bytes);
    if (reference.ok) {
      ++accepted;
      expect_same(mine, reference);
    } else if (mine.ok) {
      EXPECT_TRUE(shape.has_nested) << "accepted what the generated parser refuses";
    } else {
      ++refused;
    }
  }
  // Both kinds of case occurred, so both directions were checked.
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(refused, 1000);
}

}  // namespace
}  // namespace sluice::engine
