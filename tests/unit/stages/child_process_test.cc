#include "child_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

namespace sluice::stages {
namespace {

using namespace std::chrono_literals;

TEST(ChildProcess, MissingProgramIsASpawnError) {
  auto child = ChildProcess::spawn({"/nonexistent/sluice-no-such-program"});
  ASSERT_FALSE(child.is_ok());
  EXPECT_NE(child.status().message().find("No such file or directory"), std::string::npos);
}

TEST(ChildProcess, ExitStatusIsReapedAndDescribed) {
  auto child = ChildProcess::spawn({"python3", "-c", "import sys; sys.exit(7)"});
  ASSERT_TRUE(child.is_ok()) << child.status().to_string();
  auto status = child.value()->wait_for_exit(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(describe_exit(*status), "exited with status 7");
}

TEST(ChildProcess, SignalReachesTheChild) {
  auto child = ChildProcess::spawn({"python3", "-c", "import time; time.sleep(60)"});
  ASSERT_TRUE(child.is_ok());
  EXPECT_FALSE(child.value()->wait_for_exit(0ms).has_value());
  child.value()->signal(SIGKILL);
  auto status = child.value()->wait_for_exit(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFSIGNALED(*status));
  EXPECT_NE(describe_exit(*status).find("signal 9"), std::string::npos);
}

TEST(ChildProcess, ArgumentsArePassedWithoutAShell) {
  auto child = ChildProcess::spawn(
      {"python3", "-c", "import sys; sys.exit(0 if sys.argv[1] == '$HOME; x' else 1)", "$HOME; x"});
  ASSERT_TRUE(child.is_ok());
  auto status = child.value()->wait_for_exit(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(describe_exit(*status), "exited with status 0");
}

}  // namespace
}  // namespace sluice::stages
