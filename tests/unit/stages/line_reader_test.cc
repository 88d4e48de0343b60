#include "line_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "fd_io.h"
#include "unique_fd.h"

namespace sluice::stages {
namespace {

struct TestPipe {
  UniqueFd read, write;
  TestPipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
  void send(std::string_view data) { EXPECT_TRUE(write_all(write.get(), data, -1).is_ok()); }
};

TEST(LineReader, SplitsLinesAndStripsCarriageReturns) {
  TestPipe pipe;
  pipe.send("one\ntwo\r\nthree");
  pipe.write.reset();
  LineReader reader(pipe.read.get(), -1, 100);
  std::string line;
  ASSERT_EQ(reader.next(&line), ReadStatus::kLine);
  EXPECT_EQ(line, "one");
  ASSERT_EQ(reader.next(&line), ReadStatus::kLine);
  EXPECT_EQ(line, "two");
  ASSERT_EQ(reader.next(&line), ReadStatus::kLine);
  EXPECT_EQ(line, "three") << "a last line without newline still counts";
  EXPECT_EQ(reader.next(&line), ReadStatus::kEof);
}

TEST(LineReader, OverlongLineIsReportedOnceAndSkipped) {
  TestPipe pipe;
  pipe.send(std::string(50, 'x') + "\nok\n");
  pipe.write.reset();
  LineReader reader(pipe.read.get(), -1, 10);
  std::string line;
  ASSERT_EQ(reader.next(&line), ReadStatus::kTooLong);
  EXPECT_EQ(line, std::string(10, 'x'));
  ASSERT_EQ(reader.next(&line), ReadStatus::kLine);
  EXPECT_EQ(line, "ok");
}

TEST(LineReader, WakeFdInterruptsABlockedRead) {
  TestPipe pipe;
  WakeFd wake;
  wake.signal();
  LineReader reader(pipe.read.get(), wake.get(), 100);
  std::string line;
  EXPECT_EQ(reader.next(&line), ReadStatus::kWoken);
}

}  // namespace
}  // namespace sluice::stages
