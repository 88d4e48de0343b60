#include "http_outcome.h"

#include <gtest/gtest.h>

#include <string>

#include "exec_protocol.h"

namespace sluice::stages {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kWhere = "stage call: POST http://h/x";

// 2015-10-21T07:28:00Z, the date of RFC 9110's examples.
std::chrono::system_clock::time_point at_example_date() {
  return std::chrono::system_clock::from_time_t(1445412480);
}

Outcome outcome_of(long status, std::string_view body, milliseconds retry_after = {}) {
  return response_outcome({status, body, retry_after}, kWhere, 1000);
}

TEST(RetryAfter, DeltaSecondsAreTakenAsIs) {
  EXPECT_EQ(parse_retry_after("2", at_example_date()), seconds(2));
  EXPECT_EQ(parse_retry_after(" 120 ", at_example_date()), seconds(120));
  EXPECT_EQ(parse_retry_after("0", at_example_date()), seconds(0));
}

TEST(RetryAfter, AnHttpDateIsTheWaitFromNow) {
  auto now = at_example_date();
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), seconds(30));
  EXPECT_EQ(parse_retry_after("Wednesday, 21-Oct-15 07:29:00 GMT", now), seconds(60));
  EXPECT_EQ(parse_retry_after("Wed Oct 21 07:28:05 2015", now), seconds(5));
}

TEST(RetryAfter, ADateInThePastIsNoWait) {
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", at_example_date()), seconds(0));
}

TEST(RetryAfter, AbsentOrUnreadableIsNoWait) {
  EXPECT_EQ(parse_retry_after("", at_example_date()), seconds(0));
  EXPECT_EQ(parse_retry_after("soon", at_example_date()), seconds(0));
  EXPECT_EQ(parse_retry_after("-5", at_example_date()), seconds(0));
  EXPECT_EQ(parse_retry_after("1.5", at_example_date()), seconds(0));
}

TEST(RetryAfter, AHugeValueIsCappedWithoutOverflow) {
  EXPECT_EQ(parse_retry_after("99999999999999999999999", at_example_date()), kMaxRetryAfter);
}

TEST(HttpOutcome, A2xxResultBodyGivesItsOutputs) {
  Outcome outcome = outcome_of(200, R"({"outputs":[{"payload":{"a":1}}]})");
  ASSERT_EQ(outcome.kind, OutcomeKind::kOk) << outcome.error;
  ASSERT_EQ(outcome.outputs.size(), 1u);
  EXPECT_EQ(outcome.outputs[0].payload, R"({"a":1})");
  EXPECT_EQ(outcome_of(201, R"({"outputs":[]})").kind, OutcomeKind::kOk);
}

TEST(HttpOutcome, A2xxErrorResultIsRetriedOrFailedAsExecDoes) {
  Outcome retry = outcome_of(200, R"({"error":"busy","retry_after":1.5})");
  EXPECT_EQ(retry.kind, OutcomeKind::kRetry);
  EXPECT_EQ(retry.error_kind, "error");
  EXPECT_EQ(retry.error, "busy");
  EXPECT_EQ(retry.retry_after, milliseconds(1500));
  EXPECT_EQ(outcome_of(200, R"({"error":"no","retry":false})").kind, OutcomeKind::kFail);
}

TEST(HttpOutcome, A2xxBodyThatIsNotAResultIsRetriedSayingWhy) {
  Outcome outcome = outcome_of(200, "<html>hello</html>");
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetry);
  EXPECT_EQ(outcome.error_kind, "error");
  EXPECT_EQ(outcome.error.rfind(std::string(kWhere) + ": HTTP 200: the body is not a result: ", 0),
            0u)
      << outcome.error;
  EXPECT_NE(outcome_of(200, R"({"outputs":[], "error":"x"})").error.find("exactly one of"),
            std::string::npos);
}

TEST(HttpOutcome, TooManyRequestsAndUnavailableRetryAfterTheirRetryAfter) {
  Outcome busy = outcome_of(429, "slow down", seconds(2));
  EXPECT_EQ(busy.kind, OutcomeKind::kRetry);
  EXPECT_EQ(busy.error_kind, "http_429");
  EXPECT_EQ(busy.retry_after, seconds(2));
  EXPECT_EQ(busy.error, std::string(kWhere) + ": HTTP 429: slow down");
  Outcome down = outcome_of(503, "");
  EXPECT_EQ(down.error_kind, "http_503");
  EXPECT_EQ(down.retry_after, seconds(0));
}

TEST(HttpOutcome, OtherServerErrorsRetryWithoutRetryAfter) {
  Outcome outcome = outcome_of(500, "boom", seconds(9));
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetry);
  EXPECT_EQ(outcome.error_kind, "http_500");
  EXPECT_EQ(outcome.retry_after, seconds(0));
  EXPECT_EQ(outcome_of(502, "").error_kind, "http_502");
}

TEST(HttpOutcome, ClientErrorsFailWithTheStatusAndTheStartOfTheBodyOnOneLine) {
  std::string body = "bad\r\nrequest " + std::string(2000, 'x');
  Outcome outcome = outcome_of(400, body);
  EXPECT_EQ(outcome.kind, OutcomeKind::kFail);
  EXPECT_EQ(outcome.error_kind, "http_400");
  EXPECT_EQ(outcome.error.rfind(std::string(kWhere) + ": HTTP 400: bad  request xxx", 0), 0u)
      << outcome.error;
  EXPECT_EQ(outcome.error.find_first_of("\r\n"), std::string::npos);
  EXPECT_LE(outcome.error.size(), std::string(kWhere).size() + std::string(": HTTP 400: ").size() + kHttpErrorBodyBytes);
  EXPECT_EQ(outcome_of(404, "").error, std::string(kWhere) + ": HTTP 404 (empty body)");
}

TEST(HttpOutcome, RedirectsAreNotFollowedAndFail) {
  Outcome outcome = outcome_of(302, "");
  EXPECT_EQ(outcome.kind, OutcomeKind::kFail);
  EXPECT_EQ(outcome.error_kind, "http_302");
}

TEST(HttpOutcome, ATimeoutRetriesWithKindTimeout) {
  Outcome outcome = transfer_failure_outcome(true, "Operation timed out after 1000 ms", kWhere);
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetry);
  EXPECT_EQ(outcome.error_kind, "timeout");
  EXPECT_EQ(outcome.error, std::string(kWhere) + ": Operation timed out after 1000 ms");
}

TEST(HttpOutcome, AConnectionErrorRetriesWithKindErrorNamingTheUrl) {
  Outcome outcome = transfer_failure_outcome(false, "Couldn't connect to server", kWhere);
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetry);
  EXPECT_EQ(outcome.error_kind, "error");
  EXPECT_EQ(outcome.error, std::string(kWhere) + ": Couldn't connect to server");
}

}  // namespace
}  // namespace sluice::stages
