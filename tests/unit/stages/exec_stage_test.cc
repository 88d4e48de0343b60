// ExecStage against real python3 children, one behaviour per test. Every
// wait is for a condition (an outcome, a log line) with a deadline.
#include "exec_stage.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

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
                       .restart_backoff_max = 100ms,
                       .startup_probe = 100ms};
  std::unique_ptr<Stage> stage_;
  Outcomes outcomes_;
};

// Polls health() until it has `kind`, for at most `within`.
bool wait_for_health(const Stage& stage, StageHealth::Kind kind, std::chrono::milliseconds within) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (stage.health().kind != kind) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

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

// Issue 7, item 2: a command that cannot start fails the stage (the worker
// stops with this one line) and charges no task: before, every task was
// retried as "spawn" until dead-lettered.
TEST_F(ExecStageTest, MissingCommandFailsTheStageAndChargesNoTask) {
  start({"/nonexistent/sluice-no-such-agent"});
  submit("t1", "{}");
  ASSERT_TRUE(wait_for_health(*stage_, StageHealth::Kind::kFailed, 10s));
  std::string why = stage_->health().why;
  EXPECT_THAT(why, ::testing::HasSubstr("stage agent: [/nonexistent/sluice-no-such-agent] failed "
                                        "3 times in a row at start-up"));
  EXPECT_THAT(why, ::testing::HasSubstr("No such file or directory"));
  EXPECT_EQ(outcomes_.count("t1"), 0u) << "the task waits, charged nothing";
  EXPECT_TRUE(stage_->close().is_ok());
  expect_retry(await("t1"), "cancelled", "");
}

TEST_F(ExecStageTest, AChildThatDiesAtStartUpFailsTheStageWithItsStderr) {
  start_python("import nosuchmodule");
  submit("t1", "{}");
  ASSERT_TRUE(wait_for_health(*stage_, StageHealth::Kind::kFailed, 10s));
  EXPECT_THAT(stage_->health().why, ::testing::HasSubstr("No module named 'nosuchmodule'"));
  EXPECT_EQ(outcomes_.count("t1"), 0u);
}

// Once a child has answered, a later crash loop pauses the stage instead:
// its tasks wait for a child that comes up, and none is charged.
TEST_F(ExecStageTest, ACrashLoopAfterAnAnswerMakesTheStageUnavailableUntilAChildComesUp) {
  std::string marker = ::testing::TempDir() + "sluice-crash-loop-" + std::to_string(::getpid());
  std::string script = R"(
import json, os, sys
marker = sys.argv[1]
if os.path.exists(marker):
    sys.exit("marker present: refusing to start")
t = json.loads(sys.stdin.readline())
print(json.dumps({"id": t["id"], "outputs": []}), flush=True)
open(marker, "w").close()
)";
  start({"python3", "-c", script, marker});
  submit("first", "{}");
  EXPECT_EQ(await("first").kind, OutcomeKind::kOk);
  ASSERT_TRUE(wait_for_health(*stage_, StageHealth::Kind::kUnavailable, 10s));
  EXPECT_THAT(stage_->health().why, ::testing::HasSubstr("marker present"));
  submit("waiting", "{}");
  std::remove(marker.c_str());
  EXPECT_EQ(await("waiting").kind, OutcomeKind::kOk) << "not charged: it ran once a child came up";
  EXPECT_EQ(stage_->health().kind, StageHealth::Kind::kHealthy);
}

// Issue 7, item 1: concurrency 4, 12 tasks of which 3 make the agent exit.
// Before, every task a dying child held was retried, so all 12 were charged.
TEST_F(ExecStageTest, OnlyThePoisonTasksAreChargedWhenAChildDiesHoldingSeveral) {
  start_python(kCrashOnDemand, /*concurrency=*/4);
  std::set<std::string> poison = {"t2", "t5", "t9"};
  for (int wave = 0; wave < 3; ++wave) {  // 4 at a time: the concurrency
    for (int i = wave * 4; i < wave * 4 + 4; ++i) {
      std::string id = "t" + std::to_string(i);
      submit(id, poison.count(id) ? R"({"crash":true})" : R"({"n":1})");
    }
    for (int i = wave * 4; i < wave * 4 + 4; ++i) {
      std::string id = "t" + std::to_string(i);
      Outcome outcome = await(id);
      if (poison.count(id)) {
        // Its error says "found by running alone each of the N tasks" when the
        // child held others too as it died; whether it did depends on how far
        // it had read (CI, a loaded machine: only the poison task), so that
        // note is not asserted here.
        expect_retry(outcome, "crash", "exited with status 3");
      } else {
        EXPECT_EQ(outcome.kind, OutcomeKind::kOk) << id << ": " << outcome.error;
      }
      EXPECT_EQ(outcomes_.count(id), 1u);
    }
  }
}

// The task that ran past its timeout is charged; the other one the killed
// child held runs again at no cost.
TEST_F(ExecStageTest, ATimeoutChargesOnlyTheTaskThatHung) {
  std::string dir = ::testing::TempDir() + "sluice-seen-" + std::to_string(::getpid());
  std::string script = R"(
import json, os, sys
seen_dir = sys.argv[1]
os.makedirs(seen_dir, exist_ok=True)
for line in sys.stdin:
    t = json.loads(line)
    if t["payload"].get("hang"):
        continue
    seen = os.path.join(seen_dir, t["id"])
    if os.path.exists(seen):
        print(json.dumps({"id": t["id"], "outputs": []}), flush=True)
    else:
        open(seen, "w").close()  # answered only the second time it is written
)";
  start({"python3", "-c", script, dir}, /*concurrency=*/2, /*timeout=*/2000ms);
  submit("hang", R"({"hang":true})");
  submit("other", "{}");
  expect_retry(await("hang"), "timeout", "task hang ran past its timeout");
  Outcome other = await("other");
  EXPECT_EQ(other.kind, OutcomeKind::kOk) << other.error;
}

// Issue 7, item 5: an exiting child's grandchildren are killed, and one that
// holds stdout open does not make the exited child look hung.
TEST_F(ExecStageTest, AGrandchildHoldingStdoutDoesNotHideTheChildsExit) {
  std::string script = R"(
import json, subprocess, sys
t = json.loads(sys.stdin.readline())
g = subprocess.Popen(["sleep", "60"])  # inherits stdout and stderr
print("grandchild", g.pid, file=sys.stderr, flush=True)
sys.exit(4)
)";
  start({"python3", "-c", script}, 1, /*timeout=*/30s);
  auto begin = std::chrono::steady_clock::now();
  submit("t1", "{}");
  expect_retry(await("t1"), "crash", "exited with status 4");
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s) << "seen as an exit, not a timeout";
  auto line = log().find("]: grandchild ");
  ASSERT_TRUE(line.has_value()) << log().dump();
  pid_t grandchild = std::stoi(line->substr(line->rfind(' ') + 1));
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (::kill(grandchild, 0) == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);  // reaped by init once killed
  }
  EXPECT_NE(::kill(grandchild, 0), 0) << "grandchild " << grandchild << " still runs";
}

// Issue 7, item 6: a result with more outputs than max_outputs fails that
// task (not retried); the child is not to blame and keeps serving.
TEST_F(ExecStageTest, MoreOutputsThanMaxOutputsFailsTheTaskAndKeepsTheChild) {
  spec_.max_outputs = 10;
  start_python(R"(
import json, os, sys
for line in sys.stdin:
    t = json.loads(line)
    n = t["payload"]["n"]
    print(json.dumps({"id": t["id"], "outputs": [{"payload": os.getpid()}] * n}), flush=True)
)");
  submit("many", R"({"n":11})");
  Outcome many = await("many");
  EXPECT_EQ(many.kind, OutcomeKind::kFail);
  EXPECT_THAT(many.error, ::testing::HasSubstr("11 outputs, more than max_outputs (10)"));
  submit("few", R"({"n":10})");
  Outcome few = await("few");
  ASSERT_EQ(few.kind, OutcomeKind::kOk) << few.error;
  EXPECT_EQ(few.outputs.size(), 10u);
  EXPECT_EQ(log().count("started child pid"), 1u) << "one child served both";
}

// Issue 7, item 7: a flood on stderr is rate-limited, and says what it dropped.
TEST_F(ExecStageTest, AStderrFloodIsRateLimitedWithACountOfDroppedLines) {
  start_python(R"(
import sys
for i in range(5000):
    print("flood line", i, file=sys.stderr)
sys.stderr.flush()
print("fl" + "ood done", file=sys.stderr, flush=True)
sys.stdin.read()
)");
  ASSERT_TRUE(log().wait_for("dropped ", 10s)) << "no note of dropped lines";
  EXPECT_LT(log().count("]: flood line"), 1000u);
}

// Issue 7, item 8: the child's environment and working directory.
TEST_F(ExecStageTest, ChildGetsTheStageEnvAndOnlyAMinimalInheritedOneWithoutInheritEnv) {
  ::setenv("SLUICE_TEST_WORKER_SECRET", "hunter2", 1);
  spec_.env = {{"GREETING", "hello"}};
  spec_.inherit_env = false;
  spec_.workdir = ::testing::TempDir();
  start_python(R"(
import json, os, sys
for line in sys.stdin:
    t = json.loads(line)
    out = {"env": dict(os.environ), "cwd": os.getcwd()}
    print(json.dumps({"id": t["id"], "outputs": [{"payload": out}]}), flush=True)
)");
  submit("t1", "{}");
  Outcome outcome = await("t1");
  ASSERT_EQ(outcome.kind, OutcomeKind::kOk) << outcome.error;
  json seen = json::parse(outcome.outputs.at(0).payload);
  EXPECT_EQ(seen["env"]["GREETING"], "hello");
  EXPECT_TRUE(seen["env"].contains("PATH"));
  EXPECT_FALSE(seen["env"].contains("SLUICE_TEST_WORKER_SECRET"));
  EXPECT_EQ(std::filesystem::weakly_canonical(seen["cwd"].get<std::string>()),
            std::filesystem::weakly_canonical(::testing::TempDir()));
}

TEST_F(ExecStageTest, ChildInheritsTheWorkersEnvironmentByDefault) {
  ::setenv("SLUICE_TEST_WORKER_VALUE", "inherited", 1);
  start_python(R"(
import json, os, sys
for line in sys.stdin:
    t = json.loads(line)
    v = os.environ.get("SLUICE_TEST_WORKER_VALUE")
    print(json.dumps({"id": t["id"], "outputs": [{"payload": v}]}), flush=True)
)");
  submit("t1", "{}");
  Outcome outcome = await("t1");
  ASSERT_EQ(outcome.kind, OutcomeKind::kOk) << outcome.error;
  EXPECT_EQ(outcome.outputs.at(0).payload, "\"inherited\"");
}

// Issue 7, item 2: a relative program resolves against the spec's directory.
TEST_F(ExecStageTest, ARelativeProgramResolvesAgainstTheWorkdir) {
  std::string dir = ::testing::TempDir() + "sluice-workdir-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::string agent = dir + "/agent.sh";
  {
    std::ofstream out(agent);
    out << "#!/bin/sh\nwhile read -r line; do\n"
           "  id=$(printf '%s' \"$line\" | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"id\"])')\n"
           "  printf '{\"id\":\"%s\",\"outputs\":[]}\\n' \"$id\"\ndone\n";
  }
  std::filesystem::permissions(agent, std::filesystem::perms::owner_all);
  spec_.workdir = dir;
  start({"./agent.sh"});
  submit("t1", "{}");
  Outcome outcome = await("t1");
  EXPECT_EQ(outcome.kind, OutcomeKind::kOk) << outcome.error;
  auto program = find_stage_program(spec_);
  ASSERT_TRUE(program.is_ok()) << program.status().message();
  EXPECT_EQ(*program, dir + "/./agent.sh");
  spec_.command = {"pyhton3"};
  EXPECT_THAT(find_stage_program(spec_).status().message(),
              ::testing::HasSubstr("program 'pyhton3' is not on PATH"));
}

// examples/agents/append_stage.py, found from this file's path.
std::string append_stage_agent() {
  return std::string(SLUICE_SOURCE_DIR) + "/examples/agents/append_stage.py";
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

namespace sluice::stages {
namespace {

// Like the engine: a retried task comes back (same id, attempt + 1) until
// max_attempts; poison tasks always kill the child. Tasks that arrived while
// suspects ran alone must run once the last suspect is done (they once
// waited forever: the writer was woken only while suspects were left).
TEST_F(ExecStageTest, RetriedPoisonTasksComeBackUntilTheirAttemptsAreSpent) {
  start_python(kCrashOnDemand, /*concurrency=*/4);
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, Outcome> final_outcomes;
  std::function<void(const std::string&, bool, uint32_t)> send;
  send = [&](const std::string& id, bool poison, uint32_t attempt) {
    Task task = json_task(id, poison ? R"({"crash":true})" : R"({"n":1})", attempt);
    stage_->process(task, [&, id, poison, attempt](Outcome outcome) {
      if (outcome.kind == OutcomeKind::kRetry && attempt < 3) {
        return send(id, poison, attempt + 1);  // `done` may call process() again
      }
      std::lock_guard lock(mu);
      final_outcomes.emplace(id, outcome);
      cv.notify_all();
    });
  };
  for (int i = 0; i < 4; ++i) send("t" + std::to_string(i), i == 1 || i == 2, 1);
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return final_outcomes.size() == 4; }))
      << final_outcomes.size() << " finished\n" << log().dump();
}

}  // namespace
}  // namespace sluice::stages
