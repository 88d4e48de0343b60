#include "dlq_replay.h"

#include <gtest/gtest.h>

#include "dlq_ledger.h"

namespace sluice::ops {
namespace {

const DlqTopics kTarget{"fetch", "p.fetch.dlq", "p.intake", "p.fetch.dlq.replayed"};

DeadLetter dead_letter() {
  DeadLetter l;
  l.partition = 2;
  l.offset = 17;
  v1::Envelope& e = l.envelope;
  e.set_job_id("job1");
  e.set_task_id("task1");
  e.set_key("ada");
  e.set_attempt(3);
  e.set_not_before_unix_ms(123);
  e.set_payload("{}");
  e.mutable_origin()->set_topic("p.intake");
  for (uint32_t a = 1; a <= 3; ++a) {
    v1::ErrorRecord* error = e.add_errors();
    error->set_attempt(a);
    error->set_kind("timeout");
  }
  return l;
}

TEST(DlqReplay, IsAFreshFirstAttemptWithoutOriginOrNotBefore) {
  v1::Envelope e = replay_envelope(kTarget, dead_letter(), 1000);
  EXPECT_EQ(e.attempt(), 1u);
  EXPECT_EQ(e.not_before_unix_ms(), 0);
  EXPECT_FALSE(e.has_origin());
  EXPECT_EQ(e.job_id(), "job1");
  EXPECT_EQ(e.payload(), "{}");
  EXPECT_EQ(e.destination_stage(), "fetch");
}

TEST(DlqReplay, KeepsTheHistoryAndAddsAReplayedEntry) {
  v1::Envelope e = replay_envelope(kTarget, dead_letter(), 1000);
  ASSERT_EQ(e.errors_size(), 4);
  const v1::ErrorRecord& replayed = e.errors(3);
  EXPECT_EQ(replayed.stage(), "fetch");
  EXPECT_EQ(replayed.attempt(), 3u);
  EXPECT_EQ(replayed.kind(), "replayed");
  EXPECT_EQ(replayed.message(), "replayed from p.fetch.dlq[2]@17");
  EXPECT_EQ(replayed.time_unix_ms(), 1000);
}

TEST(DlqReplay, RecordIsKeyedByTheJobsKeyWithTheIdHeaders) {
  OutgoingRecord r = replay_record(kTarget, dead_letter(), 1000);
  EXPECT_EQ(r.topic, "p.intake");
  EXPECT_EQ(r.key, "ada");
  using Header = std::pair<std::string, std::string>;
  EXPECT_EQ(r.headers,
            (std::vector<Header>{{"sluice-job-id", "job1"}, {"sluice-task-id", "task1"}}));
}

TEST(DlqReplay, ALetterWithoutAnEnvelopeKeyTakesTheRecordsKey) {
  DeadLetter l = dead_letter();
  l.envelope.clear_key();
  l.record_key = "k";
  EXPECT_EQ(replay_record(kTarget, l, 1000).key, "k");
}

TEST(DlqLedger, OneRecordPerLetterKeyedByItsPlace) {
  OutgoingRecord r = ledger_record("p.fetch.dlq.replayed", dead_letter(), 1746100800250);
  EXPECT_EQ(r.topic, "p.fetch.dlq.replayed");
  EXPECT_EQ(r.key, "2@17");
  EXPECT_EQ(r.value, R"({"job":"job1","replayed_at":"2025-05-01T12:00:00.250Z"})");
}

}  // namespace
}  // namespace sluice::ops
