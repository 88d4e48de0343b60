// ExecStage against real python3 children, one behaviour per test. Every
// wait is for a condition (an outcome, a log line) with a deadline.
#include "exec_stage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "stage_test_util.h"

namespace sluice::stages {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::CaptureSink;
using testing::json_task;
using testing::LogCapture;
using testing::Outcomes;

// Answers every task with its own payload.
constexpr const char* kEcho = R"(
import json, sys
for line in sys.stdin:
    t = json.loads(line)
    out = {"payload": t["payload"]}
    if t.get("encoding") == "base64":
        out["encoding"] = "base64"
    print(json.dumps({"id": t["id"], "outputs": [out]}), flush=True)
)";

// Like kEcho, but exits abruptly on a payload with "crash": true.
constexpr const char* kCrashOnDemand = R"(
import json, os, sys
for line in sys.stdin:
    t = json.loads(line)
    if t["payload"].get("crash"):
        sys.stderr.write("about to fail\nValueError: the model said no\n")
        sys.stderr.flush()
        os._exit(3)
    print(json.dumps({"id": t["id"], "outputs": [{"payload": t["payload"]}]}), flush=True)
)";

// Reads two tasks, answers the second first.
constexpr const char* kReversePair = R"(
import json, sys
first = json.loads(sys.stdin.readline())
second = json.loads(sys.stdin.readline())
for t in (second, first):
    print(json.dumps({"id": t["id"], "outputs": [{"payload": t["payload"]}]}), flush=True)
sys.stdin.read()
)";

// Takes tasks, says so on stderr, never answers; exits at EOF on stdin.
constexpr const char* kSilent = R"(
import sys
n = 0
for line in sys.stdin:
    n += 1
    print("received", n, file=sys.stderr, flush=True)
)";

class ExecStageTest : public ::testing::Test {
 protected:
  void start(const std::vector<std::string>& command, int concurrency = 1,
             std::chrono::milliseconds timeout = 10s) {
    spec_.name = "agent";
    spec_.kind = topics::StageKind::kExec;
    spec_.command = command;
    spec_.concurrency = concurrency;
    spec_.timeout = timeout;
    stage_ = make_exec_stage(spec_, options_);
    ASSERT_TRUE(stage_->init(StageContext{"p", spec_}).is_ok());
  }
  void start_python(const char* script, int concurrency = 1,
                    std::chrono::milliseconds timeout = 10s) {
    start({"python3", "-c", script}, concurrency, timeout);
  }
  void submit(const std::string& id, const std::string& payload) {
    stage_->process(json_task(id, payload), outcomes_.done_for(id));
  }
  Outcome await(const std::string& id) {
    auto outcome = outcomes_.wait_for(id);
    EXPECT_TRUE(outcome.has_value()) << "no outcome for " << id;
    return outcome.value_or(Outcome::retry("missing", "no outcome"));
  }
  void TearDown() override {
    if (stage_) {
      EXPECT_TRUE(stage_->close().is_ok());
    }
  }

  CaptureSink& log() { return log_capture_.sink(); }

  // Declared first, destroyed last: the stage's threads log until close().
  LogCapture log_capture_;
  topics::StageSpec spec_;
  ExecOptions options_{.close_grace = 2s,
                       .term_grace = 1s,
                       .restart_backoff_min = 10ms,
                       .restart_backoff_max = 100ms};
  std::unique_ptr<Stage> stage_;
  Outcomes outcomes_;
};

void expect_retry(const Outcome& outcome, const std::string& kind, const std::string& says) {
  EXPECT_EQ(outcome.kind, OutcomeKind::kRetry);
  EXPECT_EQ(outcome.error_kind, kind);
  EXPECT_NE(outcome.error.find(says), std::string::npos) << outcome.error;
}

TEST_F(ExecStageTest, EchoChildRoundTripsAJsonPayload) {
  start_python(kEcho);
  submit("t1", R"({"n":1})");
  Outcome outcome = await("t1");
  ASSERT_EQ(outcome.kind, OutcomeKind::kOk) << outcome.error;
  ASSERT_EQ(outcome.outputs.size(), 1u);
  EXPECT_EQ(json::parse(outcome.outputs[0].payload), json({{"n", 1}}));
  EXPECT_EQ(outcome.outputs[0].content_type, kJsonContentType);
}

TEST_F(ExecStageTest, BinaryPayloadRoundTripsThroughBase64) {
  start_python(kEcho);
  Task task = json_task("t1", std::string("\x00\x01\xfe\xff", 4));
  task.content_type = "application/octet-stream";
  stage_->process(task, outcomes_.done_for("t1"));
  Outcome outcome = await("t1");
  ASSERT_EQ(outcome.kind, OutcomeKind::kOk) << outcome.error;
  EXPECT_EQ(outcome.outputs[0].payload, task.payload);
  EXPECT_EQ(outcome.outputs[0].content_type, "application/octet-stream");
}

TEST_F(ExecStageTest, AnswersMayComeOutOfOrder) {
  start_python(kReversePair, /*concurrency=*/2);
  submit("first", R"({"n":1})");
  submit("second", R"({"n":2})");
  EXPECT_EQ(await("first").kind, OutcomeKind::kOk);
  EXPECT_EQ(await("second").kind, OutcomeKind::kOk);
  EXPECT_EQ(outcomes_.order(), (std::vector<std::string>{"second", "first"}));
}

TEST_F(ExecStageTest, ChildErrorWithRetryFalseFailsTheTask) {
  start_python(R"(
import json, sys
for line in sys.stdin:
    print(json.dumps({"id": json.loads(line)["id"], "error": "bad", "retry": False}), flush=True)
)");
  submit("t1", "{}");
  Outcome outcome = await("t1");
  EXPECT_EQ(outcome.kind, OutcomeKind::kFail);
  EXPECT_EQ(outcome.error, "bad");
}

// Issue 7, item 3: the crash's error (and so the dead letter) carries the
// tail of the child's stderr, not only its exit status.
TEST_F(ExecStageTest, CrashedChildsTaskIsRetriedAndARestartedChildServesTheNext) {
  start_python(kCrashOnDemand);
  submit("boom", R"({"crash":true})");
  Outcome crashed = await("boom");
  expect_retry(crashed, "crash", "exited with status 3");
  EXPECT_THAT(crashed.error, ::testing::HasSubstr("ValueError: the model said no"));
  submit("after", R"({"n":2})");
  Outcome outcome = await("after");
  EXPECT_EQ(outcome.kind, OutcomeKind::kOk) << outcome.error;
}

TEST_F(ExecStageTest, TaskArrivingWhileTheChildRestartsGoesToTheNewChild) {
  options_.restart_backoff_min = 300ms;
  start_python(kCrashOnDemand, /*concurrency=*/2);
  submit("boom", R"({"crash":true})");
  expect_retry(await("boom"), "crash", "exited");
  submit("meanwhile", R"({"n":2})");  // the restart is 300 ms away
  EXPECT_EQ(await("meanwhile").kind, OutcomeKind::kOk);
}

TEST_F(ExecStageTest, HungChildIsKilledAndItsTaskRetriedAsTimeout) {
  start_python(kSilent, 1, /*timeout=*/300ms);
  auto begin = std::chrono::steady_clock::now();
  submit("t1", "{}");
  expect_retry(await("t1"), "timeout", "ran past its timeout");
  auto elapsed = std::chrono::steady_clock::now() - begin;
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 5s);
}

TEST_F(ExecStageTest, ChildWritingGarbageHasItsTaskRetriedAsProtocolError) {
  start_python(R"(
import sys
for line in sys.stdin:
    print("this is not json", flush=True)
)");
  submit("t1", "{}");
  expect_retry(await("t1"), "protocol", "this is not json");
}

TEST_F(ExecStageTest, OverlongLineIsAProtocolError) {
  options_.max_line_bytes = 1024;
  start_python(R"(
import json, sys
for line in sys.stdin:
    t = json.loads(line)
    print(json.dumps({"id": t["id"], "outputs": [{"payload": "x" * 5000}]}), flush=True)
)");
  submit("t1", "{}");
  expect_retry(await("t1"), "protocol", "longer than 1024 bytes");
}

TEST_F(ExecStageTest, AnswerWithUnknownIdIsIgnored) {
  start_python(R"(
import json, sys
for line in sys.stdin:
    t = json.loads(line)
    print(json.dumps({"id": "stranger", "outputs": []}), flush=True)
    print(json.dumps({"id": t["id"], "outputs": []}), flush=True)
)");
  submit("t1", "{}");
  EXPECT_EQ(await("t1").kind, OutcomeKind::kOk);
  EXPECT_TRUE(log().wait_for("unknown task id \"stranger\""));
}

TEST_F(ExecStageTest, ChildStderrIsLoggedWithTheStageName) {
  start_python(R"(
import json, sys
print("warming" + " up", file=sys.stderr, flush=True)  # not the script's own text
for line in sys.stdin:
    pass
)");
  EXPECT_TRUE(log().wait_for("]: warming up"));
  EXPECT_TRUE(log().wait_for("stage agent [pid "));
}

TEST_F(ExecStageTest, InvalidJsonPayloadFailsWithoutReachingTheChild) {
  start_python(kEcho);
  submit("t1", "{broken");
  Outcome outcome = await("t1");
  EXPECT_EQ(outcome.kind, OutcomeKind::kFail);
  EXPECT_EQ(outcome.error_kind, "invalid_input");
}

TEST_F(ExecStageTest, CloseCancelsTasksInFlight) {
  start_python(kSilent, /*concurrency=*/2);
  submit("a", "{}");
  submit("b", "{}");
  ASSERT_TRUE(log().wait_for("]: received 2"));  // both are in the child
  EXPECT_TRUE(stage_->close().is_ok());
  expect_retry(await("a"), "cancelled", "stage agent");  // "closed with..." or "child exited"
  expect_retry(await("b"), "cancelled", "stage agent");
}

TEST_F(ExecStageTest, CloseKillsAChildThatIgnoresEofAndSigterm) {
  options_.close_grace = 100ms;
  options_.term_grace = 100ms;
  start_python(R"(
import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("rea" + "dy", file=sys.stderr, flush=True)  # not the script's own text
sys.stdin.read()
time.sleep(60)
)");
  ASSERT_TRUE(log().wait_for("]: ready"));
  submit("t1", "{}");
  auto begin = std::chrono::steady_clock::now();
  EXPECT_TRUE(stage_->close().is_ok());
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 5s);
  expect_retry(await("t1"), "cancelled", "");
  EXPECT_TRUE(log().wait_for("sending SIGKILL", 0ms)) << log().dump();
}

TEST_F(ExecStageTest, TaskAfterCloseIsRetriedAsCancelled) {
  start_python(kEcho);
  EXPECT_TRUE(stage_->close().is_ok());
  submit("late", "{}");
  expect_retry(await("late"), "cancelled", "closing");
}

TEST_F(ExecStageTest, MissingCommandRetriesTasksAndLogsWhy) {
  start({"/nonexistent/sluice-no-such-agent"});
  submit("t1", "{}");
  expect_retry(await("t1"), "spawn", "No such file or directory");
  EXPECT_TRUE(log().wait_for("cannot start [/nonexistent/sluice-no-such-agent]"));
  submit("t2", "{}");
  expect_retry(await("t2"), "spawn", "cannot start");
}

// examples/agents/append_stage.py, found from this file's path.
std::string append_stage_agent() {
  std::string here = __FILE__;
  return here.substr(0, here.rfind("tests/unit/stages/")) + "examples/agents/append_stage.py";
}

TEST_F(ExecStageTest, ExampleAgentCrashesOnAFirstAttemptAndSucceedsOnTheRetry) {
  start({"python3", append_stage_agent(), "enrich", "--crash-every", "2"});
  stage_->process(json_task("t1", R"({"n":4})", /*attempt=*/1), outcomes_.done_for("first"));
  expect_retry(await("first"), "crash", "exited with status 3");
  stage_->process(json_task("t1", R"({"n":4})", /*attempt=*/2), outcomes_.done_for("second"));
  Outcome outcome = await("second");
  ASSERT_EQ(outcome.kind, OutcomeKind::kOk) << outcome.error;
  EXPECT_EQ(json::parse(outcome.outputs[0].payload), json({{"n", 4}, {"stages", {"enrich"}}}));
}

TEST_F(ExecStageTest, ExampleAgentWithAThreadPoolAnswersEveryTask) {
  start({"python3", append_stage_agent(), "enrich", "--concurrency", "4", "--delay-ms", "20"}, 4);
  for (int i = 0; i < 4; ++i) submit("t" + std::to_string(i), R"({"n":1})");
  for (int i = 0; i < 4; ++i) {
    Outcome outcome = await("t" + std::to_string(i));
    ASSERT_EQ(outcome.kind, OutcomeKind::kOk) << outcome.error;
  }
}

// A refusal for capacity is not the task's fault: the engine charges no attempt.
TEST_F(ExecStageTest, MoreTasksThanConcurrencyAreRefused) {
  start_python(kSilent, /*concurrency=*/1);
  submit("a", "{}");
  submit("b", "{}");
  Outcome refused = await("b");
  EXPECT_EQ(refused.kind, OutcomeKind::kRefused);
  EXPECT_THAT(refused.error, ::testing::HasSubstr("concurrency 1"));
  EXPECT_EQ(outcomes_.count("a"), 0u);
}

}  // namespace
}  // namespace sluice::stages
