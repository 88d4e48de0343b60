#include "dlq_filter.h"

#include <gtest/gtest.h>

namespace sluice::ops {
namespace {

constexpr int64_t kNow = 1746100800000;  // 2025-05-01T12:00:00Z

DeadLetter letter(const std::string& job, const std::string& kind, const std::string& message,
                  int64_t time_unix_ms) {
  DeadLetter l;
  l.envelope.set_job_id(job);
  v1::ErrorRecord* first = l.envelope.add_errors();
  first->set_kind("timeout");
  first->set_message("an earlier attempt");
  v1::ErrorRecord* last = l.envelope.add_errors();
  last->set_kind(kind);
  last->set_message(message);
  last->set_time_unix_ms(time_unix_ms);
  return l;
}

DlqFilter filter(const DlqSelection& s) { return make_filter(s, kNow).value(); }

DlqSelection error_is(const std::string& text) {
  DlqSelection s;
  s.error = text;
  return s;
}

TEST(DlqFilter, NoFlagsSelectEveryLetter) {
  EXPECT_TRUE(filter({}).matches(letter("j", "error", "m", kNow)));
}

TEST(DlqFilter, ErrorTextIsASubstringOfTheLastErrorOnly) {
  DlqFilter f = filter(error_is("refused"));
  EXPECT_TRUE(f.matches(letter("j", "error", "upstream refused us", kNow)));
  EXPECT_FALSE(f.matches(letter("j", "error", "ok", kNow)));
  EXPECT_FALSE(filter(error_is("earlier")).matches(letter("j", "error", "ok", kNow)));
}

TEST(DlqFilter, ErrorBetweenSlashesIsARegex) {
  DlqFilter f = filter(error_is("/^http 5[0-9]{2}$/"));
  EXPECT_TRUE(f.matches(letter("j", "error", "http 503", kNow)));
  EXPECT_FALSE(f.matches(letter("j", "error", "http 404", kNow)));
}

TEST(DlqFilter, ABadRegexIsAUsageErrorNamingTheFlag) {
  auto f = make_filter(error_is("/(/"), kNow);
  ASSERT_FALSE(f.is_ok());
  EXPECT_EQ(f.status().code(), StatusCode::kUsage);
  EXPECT_EQ(f.status().message().rfind("--error: /(/ is not a valid regular expression: ", 0), 0u);
}

TEST(DlqFilter, KindAndJobMustEqual) {
  DlqSelection crash;
  crash.kind = "crash";
  EXPECT_TRUE(filter(crash).matches(letter("j", "crash", "m", kNow)));
  EXPECT_FALSE(filter(crash).matches(letter("j", "timeout", "m", kNow)));
  DlqSelection job;
  job.job = "k";
  EXPECT_FALSE(filter(job).matches(letter("j", "crash", "m", kNow)));
}

TEST(DlqFilter, SinceAndUntilBoundTheLastErrorsTimeInclusively) {
  DlqSelection s;
  s.since = "10m";
  s.until = "2025-05-01T11:55:00Z";
  DlqFilter f = filter(s);
  EXPECT_TRUE(f.matches(letter("j", "e", "m", kNow - 10 * 60000)));
  EXPECT_TRUE(f.matches(letter("j", "e", "m", kNow - 5 * 60000)));
  EXPECT_FALSE(f.matches(letter("j", "e", "m", kNow - 10 * 60000 - 1)));
  EXPECT_FALSE(f.matches(letter("j", "e", "m", kNow - 5 * 60000 + 1)));
}

TEST(DlqFilter, ALetterWithoutErrorsIsTimedByItsRecord) {
  DeadLetter l;
  l.record_time_unix_ms = kNow - 60000;
  DlqSelection since, until, kind;
  since.since = "2m";
  until.until = "2m";
  kind.kind = "error";
  EXPECT_TRUE(filter(since).matches(l));
  EXPECT_FALSE(filter(until).matches(l));
  EXPECT_FALSE(filter(kind).matches(l));
}

TEST(DlqFilter, NotReplayedSkipsReplayedLetters) {
  DeadLetter l = letter("j", "e", "m", kNow);
  l.replayed = true;
  DlqSelection s;
  s.not_replayed = true;
  EXPECT_FALSE(filter(s).matches(l));
  EXPECT_TRUE(filter({}).matches(l));
}

TEST(DlqFilter, BadTimesAndMaxAreUsageErrorsNamingTheFlag) {
  DlqSelection since, until, max;
  since.since = "yesterday";
  until.until = "2025-05-01";
  max.max = -1;
  EXPECT_EQ(make_filter(since, kNow).status().message(),
            "--since 'yesterday': expected a duration back from now (10m, 2h) or an RFC 3339 "
            "time (2026-12-01T18:00:00Z)");
  EXPECT_EQ(make_filter(until, kNow).status().message().rfind("--until: bad time '2025-05-01'", 0),
            0u);
  EXPECT_EQ(make_filter(max, kNow).status().message(), "--max: must be 0 (no limit) or more");
}

}  // namespace
}  // namespace sluice::ops
