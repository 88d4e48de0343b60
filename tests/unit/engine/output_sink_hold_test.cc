// The sink's hold (exactly_once: records of tasks finishing while a
// transaction's records are acknowledged wait, in order, for the next one),
// without a broker: records then only queue.
#include <gtest/gtest.h>

#include <string>

#include "kafka_client.h"
#include "output_sink.h"

namespace sluice::engine {
namespace {

KafkaOptions no_broker() {
  KafkaOptions options;
  options.bootstrap = "127.0.0.1:1";
  return options;
}

// Released, the held records go to the producer at once. Left for the next
// poll, they read as congestion, and the worker's flow control paused every
// partition (dropping what the consumer had prefetched) after each commit: a
// third of the throughput (transactions_benchmark, 1 stage).
TEST(OutputSinkHold, ReleasedRecordsGoOutAtOnceAndLeaveNoCongestion) {
  auto consumer = make_client(no_broker(), consumer_spec("g"));
  ASSERT_TRUE(consumer.is_ok()) << consumer.status().message();
  OutputSink sink("s", no_broker(), 1 << 20, {});
  ASSERT_TRUE(sink.open(consumer->get(), nullptr).is_ok());
  const std::string topic = "t";
  sink.hold(true);
  for (uint64_t id = 1; id <= 3; ++id) sink.produce({topic, "k", "v", "job", "task"}, id);
  EXPECT_EQ(sink.awaiting_acks(), 3u);
  EXPECT_EQ(sink.in_flight(), 0u) << "a held record went to the producer";
  EXPECT_FALSE(sink.congested()) << "a few held records are not congestion";
  sink.hold(false);
  EXPECT_EQ(sink.in_flight(), 3u) << "released records waited for the next poll";
  EXPECT_FALSE(sink.congested());
  sink.close();
}

}  // namespace
}  // namespace sluice::engine
