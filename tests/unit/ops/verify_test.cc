// The comparison, the open-transaction rule and the verdict of `sluice verify`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "verify_report.h"
#include "verify_tally.h"
#include "verify_transactions.h"

namespace sluice::ops {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> parsed(std::string_view text, Status* status = nullptr) {
  std::vector<std::string> ids;
  Status s = parse_job_ids(text, "ids.txt", [&](std::string_view id) { ids.emplace_back(id); });
  if (status) *status = s;
  return ids;
}

TEST(ParseJobIds, OneALineBlanksTrimmedAndSkipped) {
  EXPECT_EQ(parsed("a\n\n  b \r\n\t\nc"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(parsed("").empty());
  EXPECT_TRUE(parsed("\n \n").empty());
}

TEST(ParseJobIds, ALineWithABlankInsideIsNotAJobIdAndNamesItsLine) {
  Status s;
  parsed("a\n\npipeline: p\n", &s);
  EXPECT_EQ(s.code(), StatusCode::kUsage);
  EXPECT_EQ(s.message(), "ids.txt:3: not a job id: pipeline: p");
}

VerifyCounts tally_of(std::vector<std::string> submitted, std::vector<std::string> done,
                      std::vector<std::string> dead = {}) {
  JobTally tally;
  for (const auto& id : submitted) tally.add_submitted(id);
  for (const auto& id : done) tally.add_done(id);
  for (const auto& id : dead) tally.add_dead_letter(id);
  return tally.counts();
}

TEST(JobTally, EveryJobOnceIsClean) {
  VerifyCounts c = tally_of({"a", "b", "c"}, {"a", "c"}, {"b"});
  EXPECT_EQ(c.submitted, 3);
  EXPECT_EQ(c.done, 2);
  EXPECT_EQ(c.dead_lettered, 1);
  EXPECT_EQ(c.lost + c.duplicated + c.extra_copies + c.unexpected, 0);
  EXPECT_EQ(c.done_records, 2);
  EXPECT_EQ(c.dead_letter_records, 1);
}

TEST(JobTally, AJobListedTwiceIsOneJob) {
  EXPECT_EQ(tally_of({"a", "a"}, {"a"}).submitted, 1);
}

TEST(JobTally, LostIsSubmittedAndInNeitherDoneNorADlq) {
  VerifyCounts c = tally_of({"a", "b", "c"}, {"b"});
  EXPECT_EQ(c.lost, 2);
  EXPECT_THAT(c.lost_examples, ElementsAre("a", "c"));
}

TEST(JobTally, DuplicatesCountAcrossDoneAndTheDlqs) {
  // a: three times in done; b: in done and a DLQ; c: twice in DLQs.
  VerifyCounts c = tally_of({"a", "b", "c", "d"}, {"a", "a", "a", "b", "d"}, {"b", "c", "c"});
  EXPECT_EQ(c.duplicated, 3);
  EXPECT_EQ(c.extra_copies, 2 + 1 + 1);
  EXPECT_THAT(c.duplicated_examples, ElementsAre("a", "b", "c"));
  EXPECT_EQ(c.done, 3);
  EXPECT_EQ(c.dead_lettered, 2);
}

TEST(JobTally, UnexpectedIsAJobIdNotInTheFileCountedOnce) {
  VerifyCounts c = tally_of({"a"}, {"a", "x", "x"}, {"y"});
  EXPECT_EQ(c.unexpected, 2);
  EXPECT_THAT(c.unexpected_examples, ElementsAre("x", "y"));
  EXPECT_EQ(c.duplicated, 0);  // only submitted jobs are duplicated
  EXPECT_EQ(c.done_records, 3);
}

TEST(JobTally, ExamplesAreTheSmallestFiveWhateverTheOrder) {
  std::vector<std::string> submitted;
  for (char c : std::string("jihgfedcba")) submitted.push_back(std::string(1, c));
  VerifyCounts c = tally_of(submitted, {});
  EXPECT_EQ(c.lost, 10);
  EXPECT_THAT(c.lost_examples, ElementsAre("a", "b", "c", "d", "e"));
}

TEST(JobTally, UnreadableRecordsAndReplayedLettersAreCountedApart) {
  JobTally tally;
  tally.add_submitted("a");
  tally.add_unreadable();
  tally.add_unreadable();
  tally.add_replayed_letter();
  VerifyCounts c = tally.counts();
  EXPECT_EQ(c.unreadable, 2);
  EXPECT_EQ(c.replayed_letters, 1);
  EXPECT_EQ(c.done_records + c.dead_letter_records, 0);
  EXPECT_EQ(c.lost, 1);  // a replayed letter is no outcome of its job
}

PartitionEnd end(int32_t partition, int64_t stable, int64_t high) {
  return {"p.done", partition, stable, high};
}

TEST(StillOpen, APartitionIsOpenWhileItsStableEndIsBelowTheFirstHighWatermark) {
  std::vector<PartitionEnd> first = {end(0, 5, 5), end(1, 3, 7), end(2, 2, 4)};
  // 1: still below 7 (its high watermark moved on: more records of the same
  // transaction, or a new one); 2: reached 4, a new transaction began at 5.
  std::vector<PartitionEnd> now = {end(0, 5, 5), end(1, 6, 9), end(2, 5, 8)};
  std::vector<PartitionEnd> open = still_open(first, now);
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].partition, 1);
  EXPECT_EQ(open[0].high_watermark, 7);  // as of the first look
  EXPECT_EQ(still_open(first, first).size(), 2u);
  EXPECT_TRUE(still_open(first, {end(1, 7, 7), end(2, 4, 4)}).empty());
}

TEST(StillOpen, APartitionMissingFromTheSecondLookStaysOpen) {
  EXPECT_EQ(still_open({end(0, 1, 2)}, {}).size(), 1u);
}

VerifyReport report_with(bool exactly_once, int64_t lost, int64_t duplicated, size_t open) {
  VerifyReport r{"p", exactly_once, {}, {}};
  r.counts.lost = lost;
  r.counts.duplicated = duplicated;
  r.counts.extra_copies = duplicated;
  for (size_t i = 0; i < open; ++i) r.open_transactions.push_back(end(0, 1, 2));
  return r;
}

TEST(VerifyFailures, LostAlwaysFails) {
  EXPECT_THAT(verify_failures(report_with(false, 2, 0, 0)), ElementsAre("2 lost"));
  EXPECT_THAT(verify_failures(report_with(true, 1, 0, 0)), ElementsAre("1 lost"));
}

TEST(VerifyFailures, DuplicatesAndOpenTransactionsFailOnlyUnderExactlyOnce) {
  EXPECT_TRUE(verify_failures(report_with(false, 0, 3, 2)).empty());
  EXPECT_THAT(verify_failures(report_with(true, 0, 3, 2)),
              ElementsAre("3 duplicated", "2 partitions with a transaction left open"));
  EXPECT_THAT(verify_failures(report_with(true, 0, 0, 1)),
              ElementsAre("1 partition with a transaction left open"));
}

TEST(VerifyReport, TheTableEndsWithTheVerdictAndNamesExamplesAndPartitions) {
  VerifyReport r = report_with(true, 1, 0, 1);
  r.counts.lost_examples = {"j1"};
  std::vector<std::string> lines = verify_table(r);
  EXPECT_EQ(lines.front(), "pipeline p (exactly_once)");
  EXPECT_EQ(lines.back(), "FAILED: 1 lost, 1 partition with a transaction left open");
  EXPECT_NE(std::find(lines.begin(), lines.end(), "  e.g. j1"), lines.end());
  EXPECT_NE(std::find(lines.begin(), lines.end(), "  p.done[0]: stable offset 1, high watermark 2"),
            lines.end());
  EXPECT_EQ(verify_table(report_with(false, 0, 0, 0)).back(), "ok");
}

TEST(VerifyReport, TheJsonHoldsEveryCountAndTheOpenPartitions) {
  VerifyReport r = report_with(true, 0, 2, 1);
  r.counts.submitted = 5;
  r.counts.duplicated_examples = {"a", "b"};
  auto json = nlohmann::json::parse(verify_json(r));
  EXPECT_EQ(json["ok"], false);
  EXPECT_EQ(json["guarantee"], "exactly_once");
  EXPECT_EQ(json["submitted"], 5);
  EXPECT_EQ(json["duplicated"], 2);
  EXPECT_EQ(json["extra_copies"], 2);
  EXPECT_EQ(json["examples"]["duplicated"], nlohmann::json::array({"a", "b"}));
  EXPECT_EQ(json["open_transactions"][0],
            nlohmann::json({{"topic", "p.done"}, {"partition", 0}, {"stable_offset", 1},
                            {"high_watermark", 2}}));
  EXPECT_EQ(json["failures"].size(), 2u);
}

}  // namespace
}  // namespace sluice::ops
