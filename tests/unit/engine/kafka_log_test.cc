#include "kafka_log.h"

#include <gtest/gtest.h>

namespace sluice::engine {
namespace {

using spdlog::level::debug;
using spdlog::level::err;
using spdlog::level::info;
using spdlog::level::warn;

TEST(KafkaLog, KeepsTheSeverityLibrdkafkaGave) {
  for (int syslog = 0; syslog <= 3; ++syslog) {
    EXPECT_EQ(log_level_for(syslog, "ERROR", "something broke"), err) << syslog;
  }
  EXPECT_EQ(log_level_for(4, "CONFWARN", "topic.metadata.refresh.sparse is odd"), warn);
  EXPECT_EQ(log_level_for(5, "THROTTLE", "throttled"), info);
  EXPECT_EQ(log_level_for(6, "INFO", "hello"), info);
  EXPECT_EQ(log_level_for(7, "BROKER", "state change"), debug);
}

TEST(KafkaLog, DemotesStartUpChatterToDebug) {
  EXPECT_EQ(log_level_for(4, "COMMITFAIL",
                          "Offset commit failed: Broker: Coordinator load in progress: retrying"),
            debug);
  EXPECT_EQ(log_level_for(3, "FINDCOORD",
                          "FindCoordinator response error: Broker: Coordinator not available"),
            debug);
  EXPECT_EQ(log_level_for(4, "CONFWARN",
                          "Configuration property enable.gapless.guarantee is experimental: ..."),
            debug);
}

TEST(KafkaLog, PropertiesOfTheOtherClientKindAreNotWarnings) {
  EXPECT_EQ(log_level_for(4, "CONFWARN",
                          "[thrd:app]: Configuration property session.timeout.ms is a consumer "
                          "property and will be ignored by this producer instance"),
            debug);
  EXPECT_EQ(log_level_for(4, "CONFWARN",
                          "[thrd:app]: Configuration property linger.ms is a producer property "
                          "and will be ignored by this consumer instance"),
            debug);
}

TEST(KafkaLog, ConnectionFailuresAreDebugBecauseTheyReachTheCallerAsErrors) {
  EXPECT_EQ(log_level_for(3, "FAIL",
                          "127.0.0.1:9/bootstrap: Connect to ipv4#127.0.0.1:9 failed: "
                          "Connection refused (after 0ms in state CONNECT)"),
            debug);
}

}  // namespace
}  // namespace sluice::engine
