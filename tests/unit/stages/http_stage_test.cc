// HttpStage without an HTTP server: a port nothing listens on, and a socket
// that listens but never answers (the kernel completes the TCP handshake for
// the backlog, so the request is sent and waits). Responses and their mapping
// are in http_outcome_test.cc and tests/integration/test_http_stage.py.
#include "http_stage.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "stage_test_util.h"
#include "unique_fd.h"

namespace sluice::stages {
namespace {

using namespace std::chrono_literals;
using testing::json_task;
using testing::Outcomes;

// A socket on 127.0.0.1 and its port; listening when asked, else bound only
// (connections to it are refused).
struct LocalPort {
  explicit LocalPort(bool listening) : fd(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    socklen_t size = sizeof address;
    EXPECT_EQ(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &size), 0);
    port = ntohs(address.sin_port);
    if (listening) {
      EXPECT_EQ(::listen(fd.get(), 16), 0);
    }
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/run"; }
  UniqueFd fd;
  int port = 0;
};

topics::StageSpec http_spec(const std::string& url, std::chrono::milliseconds timeout = 10s) {
  topics::StageSpec spec;
  spec.name = "call";
  spec.kind = topics::StageKind::kHttp;
  spec.http.url = url;
  spec.concurrency = 2;
  spec.timeout = timeout;
  return spec;
}

std::unique_ptr<Stage> started(const topics::StageSpec& spec) {
  auto stage = make_http_stage(spec);
  Status st = stage->init({"p", spec});
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  return stage;
}

TEST(HttpStage, ARefusedConnectionIsRetriedWithKindErrorNamingTheUrl) {
  LocalPort closed(/*listening=*/false);
  auto stage = started(http_spec(closed.url()));
  Outcomes outcomes;
  stage->process(json_task("t1", "{}"), outcomes.done_for("t1"));
  auto outcome = outcomes.wait_for("t1");
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->kind, OutcomeKind::kRetry);
  EXPECT_EQ(outcome->error_kind, "error");
  EXPECT_EQ(outcome->error.rfind("stage call: POST " + closed.url() + ": ", 0), 0u)
      << outcome->error;
  EXPECT_TRUE(stage->close().is_ok());
}

TEST(HttpStage, ARequestWithNoAnswerTimesOut) {
  LocalPort silent(/*listening=*/true);
  auto stage = started(http_spec(silent.url(), 200ms));
  Outcomes outcomes;
  stage->process(json_task("t1", "{}"), outcomes.done_for("t1"));
  auto outcome = outcomes.wait_for("t1");
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->kind, OutcomeKind::kRetry);
  EXPECT_EQ(outcome->error_kind, "timeout") << outcome->error;
  EXPECT_TRUE(stage->close().is_ok());
}

TEST(HttpStage, CloseRetriesWhatIsInFlightAndLaterTasks) {
  LocalPort silent(/*listening=*/true);
  auto stage = started(http_spec(silent.url()));
  Outcomes outcomes;
  stage->process(json_task("t1", "{}"), outcomes.done_for("t1"));
  EXPECT_TRUE(stage->close().is_ok());
  ASSERT_EQ(outcomes.count("t1"), 1u) << "done runs before close() returns";
  auto outcome = outcomes.wait_for("t1", 0ms);
  EXPECT_EQ(outcome->kind, OutcomeKind::kRetry);
  EXPECT_EQ(outcome->error_kind, "cancelled");
  stage->process(json_task("t2", "{}"), outcomes.done_for("t2"));
  EXPECT_EQ(outcomes.wait_for("t2", 0ms)->error_kind, "cancelled");
}

TEST(HttpStage, MoreTasksThanConcurrencyAreRefused) {
  LocalPort silent(/*listening=*/true);
  auto stage = started(http_spec(silent.url()));
  Outcomes outcomes;
  for (const char* id : {"t1", "t2", "t3"}) stage->process(json_task(id, "{}"), outcomes.done_for(id));
  auto third = outcomes.wait_for("t3", 0ms);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->kind, OutcomeKind::kRefused);
  EXPECT_EQ(outcomes.count("t1") + outcomes.count("t2"), 0u);
  EXPECT_TRUE(stage->close().is_ok());
}

TEST(HttpStage, AHeaderWithALineBreakIsRefusedAtInit) {
  topics::StageSpec spec = http_spec("http://127.0.0.1:1/");
  spec.http.headers = {{"X-Key", "a\r\nHost: evil"}};
  auto stage = make_http_stage(spec);
  Status st = stage->init({"p", spec});
  EXPECT_EQ(st.code(), StatusCode::kUsage);
  EXPECT_NE(st.message().find("header 'X-Key'"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace sluice::stages
