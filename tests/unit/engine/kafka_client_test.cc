// make_client without a broker: creating a librdkafka handle does not need
// one (the port below refuses connections; nothing here waits on it).
#include "kafka_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace sluice::engine {
namespace {

using ::testing::HasSubstr;

KafkaOptions options_with(Settings properties) {
  KafkaOptions options;
  options.bootstrap = "127.0.0.1:1";
  options.properties = std::move(properties);
  return options;
}

// The value a created client runs with, as librdkafka reports it.
std::string setting(const KafkaHandle& handle, const char* name) {
  char value[256];
  size_t size = sizeof(value);
  if (rd_kafka_conf_get(rd_kafka_conf(handle.get()), name, value, &size) !=
      RD_KAFKA_CONF_OK) {
    return "<unknown property>";
  }
  return value;
}

TEST(KafkaClient, ConsumerSpecRefusesAutoCommit) {
  Result<KafkaHandle> client =
      make_client(options_with({{"enable.auto.commit", "true"}}), consumer_spec("g"));

  ASSERT_FALSE(client.is_ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUsage);
  EXPECT_THAT(client.status().message(), HasSubstr("enable.auto.commit"));
}

TEST(KafkaClient, ConsumerSpecRefusesAnotherGroupId) {
  Result<KafkaHandle> client =
      make_client(options_with({{"group.id", "mine"}}), consumer_spec("sluice.p.s"));

  ASSERT_FALSE(client.is_ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUsage);
  EXPECT_THAT(client.status().message(), HasSubstr("group.id"));
}

TEST(KafkaClient, ProducerSpecRefusesWeakerAcks) {
  Result<KafkaHandle> client = make_client(options_with({{"acks", "1"}}), producer_spec());

  ASSERT_FALSE(client.is_ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUsage);
  EXPECT_THAT(client.status().message(), HasSubstr("acks"));
}

TEST(KafkaClient, ProducerSpecRefusesAnAliasThatWeakensAcks) {
  // request.required.acks is librdkafka's other name for acks.
  Result<KafkaHandle> client =
      make_client(options_with({{"request.required.acks", "1"}}), producer_spec());

  ASSERT_FALSE(client.is_ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUsage);
  EXPECT_THAT(client.status().message(),
              HasSubstr("kafka.properties.request.required.acks=1: Sluice needs acks=all"));
}

TEST(KafkaClient, AcceptsAnotherSpellingOfTheForcedAcks) {
  Result<KafkaHandle> client =
      make_client(options_with({{"request.required.acks", "-1"}}), producer_spec());

  ASSERT_TRUE(client.is_ok()) << client.status().to_string();
  EXPECT_EQ(setting(*client, "acks"), "-1");  // librdkafka's own spelling of all
}

TEST(KafkaClient, AcceptsAUserPropertyEqualToAForcedOne) {
  Result<KafkaHandle> client =
      make_client(options_with({{"enable.auto.commit", "false"}}), consumer_spec("g"));

  ASSERT_TRUE(client.is_ok()) << client.status().to_string();
  EXPECT_EQ(setting(*client, "enable.auto.commit"), "false");
}

TEST(KafkaClient, ConsumerRunsWithTheForcedSettings) {
  Result<KafkaHandle> client = make_client(options_with({}), consumer_spec("sluice.p.s"));

  ASSERT_TRUE(client.is_ok()) << client.status().to_string();
  EXPECT_EQ(setting(*client, "group.id"), "sluice.p.s");
  EXPECT_EQ(setting(*client, "enable.auto.commit"), "false");
  EXPECT_EQ(setting(*client, "enable.auto.offset.store"), "false");
}

TEST(KafkaClient, PassesThroughAValidPropertySluiceDoesNotKnow) {
  Result<KafkaHandle> client =
      make_client(options_with({{"fetch.wait.max.ms", "123"}}), consumer_spec("g"));

  ASSERT_TRUE(client.is_ok()) << client.status().to_string();
  EXPECT_EQ(setting(*client, "fetch.wait.max.ms"), "123");
}

TEST(KafkaClient, UserPropertyOverridesASluiceDefault) {
  Result<KafkaHandle> client =
      make_client(options_with({{"linger.ms", "50"}}), producer_spec());

  ASSERT_TRUE(client.is_ok()) << client.status().to_string();
  EXPECT_EQ(setting(*client, "linger.ms"), "50");
}

TEST(KafkaClient, RefusesAnUnknownPropertyNamingIt) {
  Result<KafkaHandle> client =
      make_client(options_with({{"no.such.property", "1"}}), consumer_spec("g"));

  ASSERT_FALSE(client.is_ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUsage);
  EXPECT_THAT(client.status().message(), HasSubstr("no.such.property"));
}

TEST(KafkaClient, RefusesAnInvalidValueNamingTheProperty) {
  Result<KafkaHandle> client =
      make_client(options_with({{"linger.ms", "soon"}}), producer_spec());

  ASSERT_FALSE(client.is_ok());
  EXPECT_EQ(client.status().code(), StatusCode::kUsage);
  EXPECT_THAT(client.status().message(), HasSubstr("linger.ms"));
}

}  // namespace
}  // namespace sluice::engine
