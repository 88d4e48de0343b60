// --log-format json: the formatter's lines, the choice of format, and the
// supervisor's forwarding of its workers' lines.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <spdlog/details/log_msg.h>

#include "json_log_formatter.h"
#include "log_level.h"
#include "sluice/log_fields.h"
#include "worker_logs.h"

namespace sluice::ops {
namespace {

nlohmann::json formatted(std::string_view text) {
  spdlog::details::log_msg msg("sluice", spdlog::level::warn, text);
  spdlog::memory_buf_t out;
  JsonLogFormatter().format(msg, out);
  std::string line(out.data(), out.size());
  EXPECT_EQ(line.back(), '\n');
  return nlohmann::json::parse(line);
}

TEST(JsonLogFormatter, WritesTimeLevelAndMessage) {
  nlohmann::json line = formatted("stage s: shutting down");
  EXPECT_EQ(line["level"], "warning");
  EXPECT_EQ(line["message"], "stage s: shutting down");
  EXPECT_EQ(line["time"].get<std::string>().size(), std::string("2026-12-03T15:04:05.123Z").size());
  EXPECT_FALSE(line.contains("job"));
}

TEST(JsonLogFormatter, ATasksLineCarriesItsFields) {
  ScopedLogFields fields({"s2", "j-1", "t-9", 3, "timeout"});
  nlohmann::json line = formatted("dead-lettering");
  EXPECT_EQ(line["stage"], "s2");
  EXPECT_EQ(line["job"], "j-1");
  EXPECT_EQ(line["task"], "t-9");
  EXPECT_EQ(line["attempt"], 3);
  EXPECT_EQ(line["error_kind"], "timeout");
}

TEST(JsonLogFormatter, FieldsEndWithTheirScope) {
  { ScopedLogFields fields({"s2", "j-1", "t-9", 1, {}}); }
  EXPECT_FALSE(formatted("after").contains("job"));
}

TEST(JsonLogFormatter, BytesThatAreNotUtf8StillMakeJson) {
  nlohmann::json line = formatted("child said \xff\xfe");
  EXPECT_EQ(line["message"], "child said \xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(LogFormat, TheFlagWinsOverTheEnvironment) {
  EXPECT_TRUE(choose_log_format("json", "text").json);
  EXPECT_FALSE(choose_log_format("text", "json").json);
  EXPECT_TRUE(choose_log_format("", "JSON").json);
  EXPECT_FALSE(choose_log_format("", nullptr).json);
}

TEST(LogFormat, AnEnvironmentValueNotUnderstoodIsTextSayingSo) {
  LogFormatChoice choice = choose_log_format("", "yaml");
  EXPECT_FALSE(choice.json);
  EXPECT_EQ(choice.warning, "SLUICE_LOG_FORMAT=yaml is not a log format (text, json); using text");
}

TEST(WorkerLogLine, TextLinesArePrefixed) {
  EXPECT_EQ(worker_log_line("s3#1", "started", false), "s3#1 | started");
}

TEST(WorkerLogLine, AJsonLineGainsTheWorkerAsItsFirstField) {
  std::string line = worker_log_line("s3#1", R"({"level":"info","message":"m"})", true);
  EXPECT_EQ(line, R"({"worker":"s3#1","level":"info","message":"m"})");
  EXPECT_EQ(worker_log_line("w", "{}", true), R"({"worker":"w"})");
}

TEST(WorkerLogLine, AnythingElseIsWrappedAsJson) {
  nlohmann::json line = nlohmann::json::parse(worker_log_line("w", "Segmentation fault", true));
  EXPECT_EQ(line["worker"], "w");
  EXPECT_EQ(line["message"], "Segmentation fault");
}

}  // namespace
}  // namespace sluice::ops
