#include "intake_jobs.h"

#include <gtest/gtest.h>

namespace sluice::ops {
namespace {

constexpr int64_t kNow = 1'800'000'000'000;

TEST(IntakeJobs, OneObjectIsOneJobWithItsPayloadAsJsonText) {
  auto jobs = parse_intake_jobs(R"({"payload": {"url": "a"}, "key": "k1"})", kNow, 10);
  ASSERT_TRUE(jobs.is_ok()) << jobs.status().message();
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].job.payload, R"({"url":"a"})");
  EXPECT_EQ((*jobs)[0].job.key, "k1");
  EXPECT_EQ((*jobs)[0].job.deadline_unix_ms, 0);
  EXPECT_FALSE((*jobs)[0].idempotency_key.has_value());
}

TEST(IntakeJobs, JsonLinesAndArraysAreJobsInOrder) {
  auto lines = parse_intake_jobs("{\"payload\": 1}\n\n{\"payload\": 2}\r\n", kNow, 10);
  ASSERT_TRUE(lines.is_ok()) << lines.status().message();
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[1].job.payload, "2");
  auto array = parse_intake_jobs(R"([{"payload": "a"}, {"payload": "b"}])", kNow, 10);
  ASSERT_TRUE(array.is_ok());
  ASSERT_EQ(array->size(), 2u);
  EXPECT_EQ((*array)[0].job.payload, R"("a")");
}

TEST(IntakeJobs, KeyFieldDeadlineAndIdempotencyKey) {
  auto jobs = parse_intake_jobs(
      R"({"payload": {"user": 42}, "key_field": "user", "deadline": "30s", "idempotency_key": "o-1", "priority": "high"})",
      kNow, 10);
  ASSERT_TRUE(jobs.is_ok()) << jobs.status().message();
  EXPECT_EQ((*jobs)[0].job.key, "42");
  EXPECT_EQ((*jobs)[0].job.deadline_unix_ms, kNow + 30000);
  EXPECT_EQ((*jobs)[0].idempotency_key, "o-1");
}

TEST(IntakeJobs, AnyBadJobRejectsTheWholeBodyNamingIt) {
  struct Case {
    const char* body;
    const char* error;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"", "no job in the request"},
           {"{\"payload\": 1}\n{nope", "line 2: not JSON"},
           {R"([{"payload": 1}, {"data": 2}])", "job 2: no \"payload\""},
           {"[1]", "job 1: a job is a JSON object"},
           {R"({"payload": 1, "key": 5})", "job 1: \"key\" must be a string"},
           {R"({"payload": 1, "key": "a", "key_field": "b"})", "exclude each other"},
           {R"({"payload": {"x": 1}, "key_field": "user"})", "no string or number field 'user'"},
           {R"({"payload": 1, "deadline": "soon"})", "job 1: "},
       }) {
    auto jobs = parse_intake_jobs(c.body, kNow, 10);
    ASSERT_FALSE(jobs.is_ok()) << c.body;
    EXPECT_EQ(jobs.status().code(), StatusCode::kInvalidInput);
    EXPECT_NE(jobs.status().message().find(c.error), std::string::npos)
        << c.body << " -> " << jobs.status().message();
  }
}

TEST(IntakeJobs, MoreThanTheBoundIsRefused) {
  auto jobs = parse_intake_jobs("{\"payload\":1}\n{\"payload\":2}\n{\"payload\":3}", kNow, 2);
  ASSERT_FALSE(jobs.is_ok());
  EXPECT_EQ(jobs.status().message(), "more than 2 jobs in one request");
}

}  // namespace
}  // namespace sluice::ops
