#include "record_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace sluice::ops {
namespace {

using nlohmann::json;

TopicRecord record(std::string content_type, std::string payload) {
  TopicRecord r;
  r.topic = "p.done";
  r.decoded = true;
  r.job_id = "j1";
  r.content_type = std::move(content_type);
  r.payload = std::move(payload);
  return r;
}

json shown(const TopicRecord& r) { return json::parse(record_json_line(r)); }

TEST(RecordJson, JsonPayloadIsShownAsJson) {
  json line = shown(record("application/json", R"({"n":1,"s":"x"})"));
  EXPECT_EQ(line["payload"], json({{"n", 1}, {"s", "x"}}));
  EXPECT_FALSE(line.contains("payload_base64"));
  EXPECT_EQ(line["job_id"], "j1");
}

// Issue 8: latency tests take the time a record was written from Kafka's
// timestamp (submit -> done), so tail prints it.
TEST(RecordJson, KafkaTimestampIsShown) {
  TopicRecord r = record("text/plain", "x");
  r.timestamp_unix_ms = 1700000000123;
  EXPECT_EQ(shown(r)["timestamp_unix_ms"], 1700000000123);
}

TEST(RecordJson, TextPayloadIsShownAsAString) {
  json line = shown(record("text/plain", "hello"));
  EXPECT_EQ(line["payload"], "hello");
}

// Issue 7, item 10: a 100k-deep array crashed tail (recursion in dump).
TEST(RecordJson, DeeplyNestedJsonPayloadIsShownAsItsRawString) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  json line = shown(record("application/json", deep));
  EXPECT_EQ(line["payload"], deep);
}

// Issue 7, item 14: binary payloads came out with U+FFFD in place of bytes.
TEST(RecordJson, BinaryPayloadIsShownAsMarkedBase64) {
  json line = shown(record("application/octet-stream", std::string("\xff\x00\x01", 3)));
  EXPECT_FALSE(line.contains("payload"));
  EXPECT_EQ(line["payload_base64"], "/wAB");
}

TEST(RecordJson, ForeignBytesAreShownAsMarkedBase64) {
  TopicRecord r;
  r.payload = "\xc3\x28";  // not an envelope, not UTF-8
  json line = shown(r);
  EXPECT_FALSE(line["decoded"].get<bool>());
  EXPECT_EQ(line["payload_base64"], "wyg=");
}

// Issue 8: `submit --deadline` sets it; shown as RFC 3339, absent when unset.
TEST(RecordJson, DeadlineIsShownAsRfc3339WhenSet) {
  TopicRecord r = record("application/json", "{}");
  EXPECT_FALSE(shown(r).contains("deadline"));
  r.deadline_unix_ms = 1796148000250;
  EXPECT_EQ(shown(r)["deadline"], "2026-12-01T18:00:00.250Z");
}

}  // namespace
}  // namespace sluice::ops
