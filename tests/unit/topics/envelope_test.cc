#include <gtest/gtest.h>

#include <string>

#include <google/protobuf/util/message_differencer.h>

#include "envelope.pb.h"

namespace sluice::v1 {
namespace {

Envelope full_envelope() {
  Envelope e;
  e.set_job_id("job-1");
  e.set_task_id("task-2");
  e.set_parent_task_id("task-1");
  e.set_correlation_id("corr-9");
  e.set_causation_id("cause-8");
  e.set_pipeline("articles");
  e.set_destination_stage("summarize");
  e.set_source_stage("fetch");
  e.set_attempt(3);
  e.set_not_before_unix_ms(1700000000500);
  e.set_submitted_at_unix_ms(1700000000000);
  e.set_deadline_unix_ms(1700000060000);
  e.set_content_type("application/json");
  e.set_payload(std::string("{\"a\":1}\0\xff", 9));  // bytes: NUL and high bytes survive
  e.set_key("user-42");
  (*e.mutable_headers())["trace"] = "abc";
  (*e.mutable_headers())["lang"] = "en";
  e.mutable_part()->set_group("task-0");
  e.mutable_part()->set_index(2);
  e.mutable_part()->set_count(5);
  e.set_tick(true);
  return e;
}

void add_history(Envelope& e) {
  for (uint32_t attempt = 1; attempt <= 2; ++attempt) {
    ErrorRecord* err = e.add_errors();
    err->set_stage("summarize");
    err->set_attempt(attempt);
    err->set_kind(attempt == 1 ? "timeout" : "crash");
    err->set_message("attempt " + std::to_string(attempt) + " failed");
    err->set_time_unix_ms(1700000000100 + attempt);
  }
  e.mutable_origin()->set_topic("articles.summarize");
  e.mutable_origin()->set_partition(4);
  e.mutable_origin()->set_offset(123456789012);
}

Envelope round_trip(const Envelope& in) {
  std::string bytes;
  EXPECT_TRUE(in.SerializeToString(&bytes));
  Envelope out;
  EXPECT_TRUE(out.ParseFromString(bytes));
  return out;
}

TEST(Envelope, RoundTripKeepsIdsAndRouting) {
  Envelope out = round_trip(full_envelope());
  EXPECT_EQ(out.job_id(), "job-1");
  EXPECT_EQ(out.task_id(), "task-2");
  EXPECT_EQ(out.parent_task_id(), "task-1");
  EXPECT_EQ(out.correlation_id(), "corr-9");
  EXPECT_EQ(out.causation_id(), "cause-8");
  EXPECT_EQ(out.pipeline(), "articles");
  EXPECT_EQ(out.destination_stage(), "summarize");
  EXPECT_EQ(out.source_stage(), "fetch");
  EXPECT_EQ(out.key(), "user-42");
  EXPECT_EQ(out.part().group(), "task-0");
  EXPECT_EQ(out.part().index(), 2u);
  EXPECT_EQ(out.part().count(), 5u);
  EXPECT_TRUE(out.tick());
}

TEST(Envelope, RoundTripKeepsAttemptAndTimes) {
  Envelope out = round_trip(full_envelope());
  EXPECT_EQ(out.attempt(), 3u);
  EXPECT_EQ(out.not_before_unix_ms(), 1700000000500);
  EXPECT_EQ(out.submitted_at_unix_ms(), 1700000000000);
  EXPECT_EQ(out.deadline_unix_ms(), 1700000060000);
}

TEST(Envelope, RoundTripKeepsPayloadBytesAndContentType) {
  Envelope out = round_trip(full_envelope());
  EXPECT_EQ(out.content_type(), "application/json");
  EXPECT_EQ(out.payload(), std::string("{\"a\":1}\0\xff", 9));
}

TEST(Envelope, RoundTripKeepsHeaders) {
  Envelope out = round_trip(full_envelope());
  ASSERT_EQ(out.headers_size(), 2);
  EXPECT_EQ(out.headers().at("trace"), "abc");
  EXPECT_EQ(out.headers().at("lang"), "en");
}

TEST(Envelope, RoundTripKeepsErrorHistoryInOrder) {
  Envelope in = full_envelope();
  add_history(in);
  Envelope out = round_trip(in);
  ASSERT_EQ(out.errors_size(), 2);
  EXPECT_EQ(out.errors(0).stage(), "summarize");
  EXPECT_EQ(out.errors(0).attempt(), 1u);
  EXPECT_EQ(out.errors(0).kind(), "timeout");
  EXPECT_EQ(out.errors(1).kind(), "crash");
  EXPECT_EQ(out.errors(1).message(), "attempt 2 failed");
  EXPECT_EQ(out.errors(1).time_unix_ms(), 1700000000102);
}

TEST(Envelope, RoundTripKeepsOrigin) {
  Envelope in = full_envelope();
  add_history(in);
  Envelope out = round_trip(in);
  ASSERT_TRUE(out.has_origin());
  EXPECT_EQ(out.origin().topic(), "articles.summarize");
  EXPECT_EQ(out.origin().partition(), 4);
  EXPECT_EQ(out.origin().offset(), 123456789012);
}

// Compares every field at once, maps and nested messages included.
TEST(Envelope, RoundTripEqualsTheOriginal) {
  Envelope in = full_envelope();
  add_history(in);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(in, round_trip(in)));
}

// Keeps the tests above honest when a field is added to the .proto: every
// field must be set (non-default) by the fixture, so it is round-tripped too.
TEST(Envelope, FixtureSetsEveryField) {
  Envelope e = full_envelope();
  add_history(e);
  const google::protobuf::Descriptor* d = e.GetDescriptor();
  const google::protobuf::Reflection* r = e.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    bool set = f->is_repeated() ? r->FieldSize(e, f) > 0 : r->HasField(e, f);
    EXPECT_TRUE(set) << "full_envelope() leaves " << f->name() << " unset";
  }
}

// Foreign bytes on a stage topic must be told apart from envelopes so they
// can be dead-lettered. These fail for structural reasons, not by luck:
TEST(Envelope, RefusesTruncatedVarint) {
  // Tag byte 0xff starts a varint whose continuation bit never clears.
  Envelope e;
  EXPECT_FALSE(e.ParseFromString(std::string("\xff\xff\xff", 3)));
}

TEST(Envelope, RefusesLengthPastTheEnd) {
  // Field 1 (job_id), wire type 2, claims 100 bytes; 1 follows.
  Envelope e;
  EXPECT_FALSE(e.ParseFromString(std::string("\x0a\x64x", 3)));
}

TEST(Envelope, RefusesFieldNumberZero) {
  // Tag 0x00 means field 0, which protobuf never allows.
  Envelope e;
  EXPECT_FALSE(e.ParseFromString(std::string("\x00\x01", 2)));
}

TEST(Envelope, RefusesInvalidUtf8InStringField) {
  // proto3 `string` fields must be valid UTF-8; 0xff never is.
  Envelope e;
  EXPECT_FALSE(e.ParseFromString(std::string("\x0a\x01\xff", 3)));
}

}  // namespace
}  // namespace sluice::v1
