// The client APIs (JobSubmitter, TopicReader, Inspector) against the
// embedded broker: librdkafka's in-process mock cluster, no real broker.
// Not a durability test: the mock is only a convenient Kafka to talk to.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sluice/embedded_broker.h"
#include "sluice/inspect.h"
#include "sluice/submitter.h"
#include "sluice/topic_reader.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;
using std::chrono::milliseconds;

constexpr int kJobs = 100;

topics::PipelineSpec small_spec(const std::string& pipeline) {
  topics::PipelineSpec spec;
  spec.file = "small.yaml";
  spec.pipeline = pipeline;
  for (const char* name : {"fetch", "publish"}) {
    topics::StageSpec stage;
    stage.name = name;
    stage.builtin = "passthrough";
    stage.partitions = 3;
    spec.stages.push_back(stage);
  }
  spec.stages[0].next = {"publish"};
  return spec;
}

// One embedded broker for the whole suite (stopping one takes librdkafka a
// second); each test gets a pipeline, and so topics, of its own.
class EmbeddedClient : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto broker = EmbeddedBroker::start();
    ASSERT_TRUE(broker.is_ok()) << broker.status().to_string();
    broker_ = std::move(broker).value().release();
  }
  static void TearDownTestSuite() {
    delete broker_;
    broker_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(broker_, nullptr);
    kafka_.bootstrap = broker_->bootstrap();
    ASSERT_TRUE(broker_->create_topics(spec_).is_ok());
  }

  static std::string next_pipeline() {
    static int count = 0;
    return "small" + std::to_string(++count);
  }

  // Submits kJobs jobs, every third with its own key; returns key by job id.
  std::map<std::string, std::string> submit_all() {
    std::map<std::string, std::string> keys;
    auto submitter = JobSubmitter::create(spec_, kafka_);
    EXPECT_TRUE(submitter.is_ok()) << submitter.status().to_string();
    if (!submitter.is_ok()) return keys;
    for (int i = 0; i < kJobs; ++i) {
      Job job;
      job.payload = "{\"n\":" + std::to_string(i) + "}";
      if (i % 3 == 0) job.key = "key-" + std::to_string(i % 7);
      auto id = (*submitter)->submit(job);
      EXPECT_TRUE(id.is_ok()) << id.status().to_string();
      if (id.is_ok()) keys[*id] = job.key ? *job.key : *id;
    }
    Status flushed = (*submitter)->flush(milliseconds(10000));
    EXPECT_TRUE(flushed.is_ok()) << flushed.to_string();
    EXPECT_EQ((*submitter)->acknowledged(), static_cast<size_t>(kJobs));
    return keys;
  }

  static inline EmbeddedBroker* broker_ = nullptr;
  topics::PipelineSpec spec_ = small_spec(next_pipeline());
  KafkaOptions kafka_;
};

TEST_F(EmbeddedClient, SubmitterGetsEveryJobAcknowledged) {
  EXPECT_EQ(submit_all().size(), static_cast<size_t>(kJobs));
}

TEST_F(EmbeddedClient, ReaderReadsEveryJobOnceWithItsIdAndKey) {
  std::map<std::string, std::string> keys = submit_all();
  auto reader = TopicReader::create(kafka_, spec_.pipeline + ".intake", /*from_beginning=*/true);
  ASSERT_TRUE(reader.is_ok()) << reader.status().to_string();

  std::map<std::string, std::string> seen;
  for (;;) {
    auto record = (*reader)->next(milliseconds(seen.size() < keys.size() ? 10000 : 200));
    ASSERT_TRUE(record.is_ok()) << record.status().to_string();
    if (!*record) break;
    const TopicRecord& r = **record;
    ASSERT_TRUE(r.decoded);
    EXPECT_EQ(r.task_id, r.job_id);
    EXPECT_EQ(r.destination_stage, "fetch");
    EXPECT_EQ(r.attempt, 1u);
    EXPECT_EQ(r.record_key, r.key);
    EXPECT_TRUE(seen.emplace(r.job_id, r.key).second) << "duplicate " << r.job_id;
  }
  EXPECT_EQ(seen, keys);
}

TEST_F(EmbeddedClient, InspectorCountsSubmittedJobsAsTheEntryStagesInput) {
  submit_all();
  auto inspector = Inspector::create(spec_, kafka_);
  ASSERT_TRUE(inspector.is_ok()) << inspector.status().to_string();

  auto status = (*inspector)->status();
  ASSERT_TRUE(status.is_ok()) << status.status().to_string();
  const StageStatus& fetch = status->stages.at(0);
  EXPECT_EQ(fetch.group, "sluice." + spec_.pipeline + ".fetch");
  EXPECT_EQ(fetch.workers, 0);
  ASSERT_EQ(fetch.topics.size(), 3u);
  EXPECT_EQ(fetch.topics[0].topic, spec_.pipeline + ".intake");
  EXPECT_EQ(fetch.topics[0].depth, kJobs);
  EXPECT_EQ(fetch.topics[1].depth, 0);  // retry
  EXPECT_EQ(status->stages.at(1).topics[0].depth, 0);
  EXPECT_EQ(status->done, 0);
}

TEST_F(EmbeddedClient, SubmitterRefusesAPipelineWhoseTopicsWereNotApplied) {
  topics::PipelineSpec other = small_spec("never-applied");

  auto submitter = JobSubmitter::create(other, kafka_);
  ASSERT_FALSE(submitter.is_ok());
  EXPECT_EQ(submitter.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(submitter.status().message(),
              HasSubstr("never-applied.intake does not exist on " + kafka_.bootstrap +
                        "; create it with `sluice topics apply -f small.yaml`"));
}

TEST_F(EmbeddedClient, ReaderRefusesAnUnknownTopic) {
  auto reader = TopicReader::create(kafka_, spec_.pipeline + ".nope", /*from_beginning=*/true);

  ASSERT_FALSE(reader.is_ok());
  EXPECT_EQ(reader.status().code(), StatusCode::kNotFound);
}

TEST(UnreachableBroker, SubmitterFailsWithinTheConnectTimeout) {
  KafkaOptions kafka;
  kafka.bootstrap = "127.0.0.1:1";  // refuses connections
  kafka.connect_timeout = milliseconds(500);

  auto submitter = JobSubmitter::create(small_spec("unreachable"), kafka);
  ASSERT_FALSE(submitter.is_ok());
  EXPECT_EQ(submitter.status().code(), StatusCode::kTransient);
  EXPECT_THAT(submitter.status().message(), HasSubstr("cannot reach Kafka at 127.0.0.1:1"));
}

}  // namespace
}  // namespace sluice
