// The wait of `sluice topics apply` for its new topics (topic_propagation.h)
// on a cluster whose brokers learn of a new topic at different times (KRaft
// brokers apply the metadata log each at its own pace; seen on the 3-node
// cluster under load: a worker started right after apply was told by one
// broker that the topic did not exist).
//
// The lag is injected: rd_kafka_metadata is wrapped (-Wl,--wrap, see
// tests/CMakeLists.txt) so that answers from one broker of the mock cluster
// leave the pipeline's topics out for a while after another broker first
// listed them. Every other call passes through untouched. (The mock cannot
// serve apply's CreateTopics, so the topics are made through its own API.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "sluice/admin.h"
#include "sluice/embedded_broker.h"
#include "sluice/status.h"
#include "sluice/submitter.h"
#include "sluice/topics/spec.h"
#include "topic_propagation.h"

namespace {

using Clock = std::chrono::steady_clock;

// What the wrapper hides, and since when.
struct LaggingBroker {
  std::mutex mutex;
  bool enabled = false;
  std::string address;  // "host:port": how its librdkafka name starts
  std::string topic_prefix;
  std::chrono::milliseconds lag{0};
  std::optional<Clock::time_point> first_listed;
  // After its first answer without the topics to the wait's own clients,
  // the broker answers them no more (as under load, when an attempt near
  // the deadline times out).
  bool silent_after_first_hide = false;
  bool hid_once = false;
};

LaggingBroker lagging;

// Its name is "host:port/bootstrap" or "host:port/<node id>".
bool from_lagging_broker(const rd_kafka_metadata_t* metadata) {
  return std::strncmp(metadata->orig_broker_name, lagging.address.c_str(),
                      lagging.address.size()) == 0;
}

}  // namespace

extern "C" {
rd_kafka_resp_err_t __real_rd_kafka_metadata(rd_kafka_t* rk, int all_topics,
                                             rd_kafka_topic_t* only_rkt,
                                             const rd_kafka_metadata_t** metadatap,
                                             int timeout_ms);

rd_kafka_resp_err_t __wrap_rd_kafka_metadata(rd_kafka_t* rk, int all_topics,
                                             rd_kafka_topic_t* only_rkt,
                                             const rd_kafka_metadata_t** metadatap,
                                             int timeout_ms) {
  rd_kafka_resp_err_t err =
      __real_rd_kafka_metadata(rk, all_topics, only_rkt, metadatap, timeout_ms);
  std::lock_guard<std::mutex> lock(lagging.mutex);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR || !lagging.enabled) return err;
  // librdkafka allocates the answer; the caller only reads it.
  auto* metadata = const_cast<rd_kafka_metadata_t*>(*metadatap);
  bool hide = from_lagging_broker(metadata);
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    rd_kafka_metadata_topic_t& topic = metadata->topics[i];
    if (std::strncmp(topic.topic, lagging.topic_prefix.c_str(), lagging.topic_prefix.size())) {
      continue;
    }
    if (!lagging.first_listed && !hide) lagging.first_listed = Clock::now();
    bool still_lagging =
        !lagging.first_listed || Clock::now() < *lagging.first_listed + lagging.lag;
    if (hide && still_lagging) topic.err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  }
  // Only the wait's own one-broker clients count (each asks through its
  // bootstrap connection): the cluster's description, asked first through
  // the long-lived client, may come from the lagging broker too.
  bool own_client = std::strstr(metadata->orig_broker_name, "/bootstrap") != nullptr;
  if (hide && own_client && lagging.silent_after_first_hide) {
    if (lagging.hid_once) {
      rd_kafka_metadata_destroy(*metadatap);
      *metadatap = nullptr;
      return RD_KAFKA_RESP_ERR__TRANSPORT;
    }
    lagging.hid_once = true;
  }
  return err;
}
}

namespace sluice {
namespace {

constexpr const char* kSpec = R"(pipeline: lag
kafka: {brokers: embedded}
defaults: {partitions: 2}
stages:
  - {name: only, kind: builtin, builtin: passthrough}
)";

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> parts;
  std::stringstream in(list);
  for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
  return parts;
}

class TopicPropagation : public ::testing::Test {
 protected:
  void SetUp() override {
    auto spec = topics::parse_spec(kSpec, "lag.yaml");
    ASSERT_TRUE(spec.is_ok()) << spec.status().message();
    spec_ = *spec;
    auto broker = EmbeddedBroker::start(3);
    ASSERT_TRUE(broker.is_ok()) << broker.status().message();
    broker_ = std::move(broker).value();
    addresses_ = split(broker_->bootstrap());
    ASSERT_EQ(addresses_.size(), 3u) << broker_->bootstrap();
    for (const TopicPlan& plan : plan_topics(spec_)) names_.push_back(plan.name);
  }

  void TearDown() override {
    std::lock_guard<std::mutex> lock(lagging.mutex);
    lagging.enabled = false;
    lagging.first_listed.reset();
    lagging.silent_after_first_hide = false;
    lagging.hid_once = false;
  }

  // The second broker leaves the topics out until `lag` after another
  // broker first listed them; then they are created.
  void lag_second_broker(std::chrono::milliseconds lag) {
    {
      std::lock_guard<std::mutex> lock(lagging.mutex);
      lagging.enabled = true;
      lagging.address = addresses_[1];
      lagging.topic_prefix = spec_.pipeline + ".";
      lagging.lag = lag;
    }
    ASSERT_TRUE(broker_->create_topics(spec_).is_ok());
  }

  // A client bootstrapped from the first broker: its own metadata requests
  // go there, so its view alone would say the topics are everywhere.
  Result<engine::TopicMap> wait_through_first_broker(std::chrono::milliseconds timeout) {
    KafkaOptions first;
    first.bootstrap = addresses_[0];
    first.connect_timeout = timeout;
    auto client = engine::connect_client(first, engine::ClientSpec{});
    if (!client.is_ok()) return client.status();
    return engine::wait_until_every_broker_lists(client->get(), names_, first);
  }

  topics::PipelineSpec spec_;
  std::unique_ptr<EmbeddedBroker> broker_;
  std::vector<std::string> addresses_;
  std::vector<std::string> names_;
};

TEST_F(TopicPropagation, TheWaitEndsOnlyOnceEveryBrokerListsTheTopics) {
  lag_second_broker(std::chrono::seconds(3));
  ASSERT_FALSE(HasFatalFailure());

  auto listed = wait_through_first_broker(std::chrono::seconds(10));
  ASSERT_TRUE(listed.is_ok()) << listed.status().message();
  for (const std::string& name : names_) EXPECT_EQ(listed->count(name), 1u) << name;
  {
    std::lock_guard<std::mutex> lock(lagging.mutex);
    ASSERT_TRUE(lagging.first_listed.has_value());
    EXPECT_GE(Clock::now(), *lagging.first_listed + lagging.lag)
        << "the wait ended while the second broker did not list the topics yet";
  }

  // What a user does next: a client that asks the second broker finds the
  // intake.
  KafkaOptions second;
  second.bootstrap = addresses_[1];
  auto submitter = JobSubmitter::create(spec_, second);
  EXPECT_TRUE(submitter.is_ok()) << submitter.status().message();
}

TEST_F(TopicPropagation, ABrokerThatNeverListsTheTopicsFailsTheWaitInTime) {
  lag_second_broker(std::chrono::hours(1));
  ASSERT_FALSE(HasFatalFailure());

  auto started = Clock::now();
  auto listed = wait_through_first_broker(std::chrono::seconds(2));
  auto waited = Clock::now() - started;
  ASSERT_FALSE(listed.is_ok());
  EXPECT_EQ(listed.status().code(), StatusCode::kTransient);
  EXPECT_THAT(listed.status().message(),
              testing::StartsWith("broker 2 at " + addresses_[1] + " did not list lag."));
  EXPECT_LT(waited, std::chrono::seconds(5));
}

// Seen in CI under load: the broker's last attempt, begun just before the
// deadline, timed out, and the error said only that it did not answer.
TEST_F(TopicPropagation, ABrokerThatAnsweredWithoutTheTopicsIsNamedForThemAtTheDeadline) {
  {
    std::lock_guard<std::mutex> lock(lagging.mutex);
    lagging.silent_after_first_hide = true;
  }
  lag_second_broker(std::chrono::hours(1));
  ASSERT_FALSE(HasFatalFailure());

  auto listed = wait_through_first_broker(std::chrono::seconds(2));
  ASSERT_FALSE(listed.is_ok());
  EXPECT_EQ(listed.status().code(), StatusCode::kTransient);
  EXPECT_THAT(listed.status().message(),
              testing::StartsWith("broker 2 at " + addresses_[1] + " did not list lag."));
  std::lock_guard<std::mutex> lock(lagging.mutex);
  EXPECT_TRUE(lagging.hid_once) << "the broker never answered without the topics";
}

}  // namespace
}  // namespace sluice
