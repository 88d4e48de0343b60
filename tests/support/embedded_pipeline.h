// EmbeddedPipelineTest: a fixture with one pipeline's topics on a fresh
// embedded broker (librdkafka's mock cluster), for tests of the worker's
// own behaviour and fault injection. Durability is tested against the real
// broker (tests/integration), never here.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "sluice/embedded_broker.h"
#include "sluice/kafka_options.h"
#include "sluice/topics/spec.h"

namespace sluice::testing {

class EmbeddedPipelineTest : public ::testing::Test {
 protected:
  // Parses `spec_text` (named `file` in errors), starts the broker (of
  // `brokers` brokers) and creates the pipeline's topics on it.
  void start_pipeline(const std::string& spec_text, const std::string& file, int brokers = 1) {
    auto spec = topics::parse_spec(spec_text, file);
    ASSERT_TRUE(spec.is_ok()) << spec.status().message();
    spec_ = *spec;
    auto broker = EmbeddedBroker::start(brokers);
    ASSERT_TRUE(broker.is_ok()) << broker.status().message();
    broker_ = std::move(broker).value();
    ASSERT_TRUE(broker_->create_topics(spec_).is_ok());
    kafka_.bootstrap = broker_->bootstrap();
  }

  topics::PipelineSpec spec_;
  std::unique_ptr<EmbeddedBroker> broker_;
  KafkaOptions kafka_;
};

}  // namespace sluice::testing
