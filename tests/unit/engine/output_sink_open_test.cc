// Opening a transactional sink without a reachable broker.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "kafka_client.h"
#include "output_sink.h"

namespace sluice::engine {
namespace {

using ::testing::HasSubstr;

// Before, init_transactions waited its own 30 s for a coordinator and then
// named the transactional id, not the broker.
TEST(OutputSinkOpen, ATransactionalSinkFailsWithinTheConnectTimeoutNamingTheBroker) {
  KafkaOptions options;
  options.bootstrap = "127.0.0.1:1";  // refuses connections
  options.connect_timeout = std::chrono::seconds(1);
  auto consumer = make_client(options, consumer_spec("g", true));
  ASSERT_TRUE(consumer.is_ok()) << consumer.status().message();
  OutputSink sink("s", options, 1 << 20, {}, "p.s.w1");

  auto began = std::chrono::steady_clock::now();
  Status opened = sink.open(consumer->get(), nullptr);
  auto took = std::chrono::steady_clock::now() - began;

  ASSERT_FALSE(opened.is_ok());
  EXPECT_THAT(opened.message(), HasSubstr("cannot reach Kafka at 127.0.0.1:1"));
  EXPECT_LT(took, std::chrono::seconds(10));
  sink.close();
}

}  // namespace
}  // namespace sluice::engine
