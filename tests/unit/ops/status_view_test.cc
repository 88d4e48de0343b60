// The frame `status --watch` draws: rows, bars, the bottleneck mark, widths.
#include "status_view.h"

#include <gtest/gtest.h>

namespace sluice::ops {
namespace {

StageStatus stage(const std::string& name, int64_t input, int workers) {
  StageStatus s;
  s.stage = name;
  s.workers = workers;
  s.topics = {{name, "input", input}, {name + ".retry", "retry", 2}, {name + ".dlq", "dlq", 1}};
  return s;
}

size_t columns(const std::string& line) {
  size_t n = 0;
  for (unsigned char c : line) n += (c & 0xC0) != 0x80;  // one per UTF-8 lead byte
  return n;
}

size_t blocks(const std::string& line) {
  size_t n = 0;
  for (size_t at = 0; (at = line.find("\u2588", at)) != std::string::npos; at += 3) ++n;
  return n;
}

struct Frame {
  PipelineStatus status;
  std::vector<std::string> lines;
};

Frame draw(int width) {
  Frame f;
  f.status.pipeline = "p";
  f.status.stages = {stage("fetch", 0, 1), stage("summarize", 500, 2), stage("publish", 50, 0)};
  f.status.stages[1].paused_by = "publish";
  f.status.stages[2].circuit_open = true;
  StatusViewInput input{&f.status, {1000, 1000, 1000}, "summarize", "12:00:00"};
  f.lines = render_status_view(input, width);
  return f;
}

TEST(StatusView, ARowPerStageUnderAHeading) {
  Frame f = draw(120);
  ASSERT_EQ(f.lines.size(), 5u);
  EXPECT_NE(f.lines[0].find("pipeline p"), std::string::npos);
  EXPECT_NE(f.lines[1].find("STAGE"), std::string::npos);
  EXPECT_NE(f.lines[2].find("fetch"), std::string::npos);
  EXPECT_NE(f.lines[4].find("circuit open"), std::string::npos);
}

TEST(StatusView, BarsGrowWithDepthAgainstTheHighWatermark) {
  Frame f = draw(120);
  EXPECT_EQ(blocks(f.lines[2]), 0u);          // nothing waits
  EXPECT_EQ(blocks(f.lines[3]), 15u);         // 500 of 1000, a bar of 30
  EXPECT_EQ(blocks(f.lines[4]), 1u);          // 50 of 1000: at least one block
}

TEST(StatusView, MarksTheBottleneckAndWhatHoldsAStage) {
  Frame f = draw(120);
  EXPECT_EQ(f.lines[3].rfind(">", 0), 0u);
  EXPECT_NE(f.lines[3].find("<- bottleneck"), std::string::npos);
  EXPECT_NE(f.lines[3].find("paused by publish"), std::string::npos);
  EXPECT_EQ(f.lines[2].rfind(" ", 0), 0u);
}

TEST(StatusView, ANarrowTerminalLosesTheBarThenCutsLines) {
  for (int width : {40, 70, 100}) {
    Frame f = draw(width);
    for (const std::string& line : f.lines) EXPECT_LE(columns(line), size_t(width)) << line;
  }
  EXPECT_EQ(blocks(draw(70).lines[3]), 0u);
}

}  // namespace
}  // namespace sluice::ops
