// StateRestorer (engine/src/state_restorer.h) on the mock cluster: a
// changelog's records, tombstones included, become the local state of their
// partitions, from the start or from a checkpoint. (Transaction markers and
// aborted records need the real broker: the mock writes neither.)
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kafka_handles.h"
#include "sluice/embedded_broker.h"
#include "sluice/topics/names.h"
#include "sluice/topics/spec.h"
#include "state_restorer.h"
#include "state_store.h"
#include "test_dir.h"

namespace sluice::engine {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kSpec = R"(pipeline: restore
kafka: {brokers: embedded}
defaults: {partitions: 2}
stages:
  - {name: counts, kind: builtin, builtin: passthrough, state: true}
)";

class StateRestore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto spec = topics::parse_spec(kSpec, "restore.yaml");
    ASSERT_TRUE(spec.is_ok()) << spec.status().message();
    auto broker = EmbeddedBroker::start();
    ASSERT_TRUE(broker.is_ok()) << broker.status().message();
    broker_ = std::move(broker).value();
    ASSERT_TRUE(broker_->create_topics(*spec).is_ok());
    kafka_.bootstrap = broker_->bootstrap();
    changelog_ = topics::changelog_topic(spec->pipeline, "counts");
    dir_ = sluice::testing::fresh_test_dir("sluice-restore");
    auto store = StateStore::open(dir_);
    ASSERT_TRUE(store.is_ok()) << store.status().message();
    store_ = std::move(store).value();
    auto restorer = StateRestorer::create(kafka_, changelog_, false, "sluice.restore-test");
    ASSERT_TRUE(restorer.is_ok()) << restorer.status().message();
    restorer_ = std::move(restorer).value();
  }

  void TearDown() override {
    restorer_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  // Writes (key, value) records to changelog partition `partition`, in
  // order; a value of nullopt is a tombstone.
  void write(int32_t partition,
             const std::vector<std::pair<std::string, std::optional<std::string>>>& records) {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    ASSERT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", kafka_.bootstrap.c_str(), error,
                                sizeof(error)),
              RD_KAFKA_CONF_OK);
    KafkaHandle producer(rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error)));
    ASSERT_TRUE(producer) << error;
    for (const auto& [key, value] : records) {
      void* bytes = value ? const_cast<char*>(value->data()) : nullptr;
      size_t size = value ? value->size() : 0;
      ASSERT_EQ(rd_kafka_producev(
                    producer.get(), RD_KAFKA_V_TOPIC(changelog_.c_str()),
                    RD_KAFKA_V_PARTITION(partition),
                    RD_KAFKA_V_KEY(key.data(), key.size()),
                    RD_KAFKA_V_VALUE(bytes, size),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
                RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    ASSERT_EQ(rd_kafka_flush(producer.get(), 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  }

  // Polls until `count` partitions finished (or 15 s passed): partition ->
  // the offset its state reflects.
  std::map<int32_t, int64_t> restore_until_finished(size_t count) {
    std::map<int32_t, int64_t> finished;
    auto deadline = Clock::now() + std::chrono::seconds(15);
    while (finished.size() < count && Clock::now() < deadline) {
      auto done = restorer_->poll(*store_, 100);
      if (!done.is_ok()) {
        ADD_FAILURE() << done.status().message();
        break;
      }
      for (const auto& f : *done) finished[f.partition] = f.offset;
    }
    return finished;
  }

  std::optional<std::string> get(int32_t partition, const std::string& key) {
    auto value = store_->get(partition, key);
    EXPECT_TRUE(value.is_ok()) << value.status().message();
    return value.is_ok() ? *value : std::nullopt;
  }

  void open(int32_t partition) { ASSERT_TRUE(store_->open_partition(partition).is_ok()); }

  std::unique_ptr<EmbeddedBroker> broker_;
  KafkaOptions kafka_;
  std::string changelog_;
  fs::path dir_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<StateRestorer> restorer_;
};

TEST_F(StateRestore, EachPartitionGetsItsChangelogsLatestValuesAndDeletes) {
  write(0, {{"a", "1"}, {"b", "2"}, {"a", "3"}, {"b", std::nullopt}});
  write(1, {{"a", "9"}});
  ASSERT_FALSE(HasFatalFailure());
  open(0);
  open(1);
  ASSERT_TRUE(restorer_->begin(0, 0).is_ok());
  ASSERT_TRUE(restorer_->begin(1, 0).is_ok());
  EXPECT_EQ(restorer_->lag(), 5);

  auto finished = restore_until_finished(2);
  EXPECT_EQ(finished, (std::map<int32_t, int64_t>{{0, 4}, {1, 1}}));
  EXPECT_EQ(get(0, "a"), "3");
  EXPECT_EQ(get(0, "b"), std::nullopt);
  EXPECT_EQ(get(1, "a"), "9");
  EXPECT_EQ(restorer_->records_restored(), 5u);
  EXPECT_EQ(restorer_->lag(), 0);
  EXPECT_TRUE(restorer_->idle());
}

TEST_F(StateRestore, FromACheckpointOnlyWhatCameAfterItIsRead) {
  write(0, {{"x", "1"}, {"y", "1"}, {"z", "1"}, {"x", "2"}});
  ASSERT_FALSE(HasFatalFailure());
  open(0);
  ASSERT_TRUE(restorer_->begin(0, 2).is_ok());

  EXPECT_EQ(restore_until_finished(1), (std::map<int32_t, int64_t>{{0, 4}}));
  EXPECT_EQ(get(0, "x"), "2");
  EXPECT_EQ(get(0, "y"), std::nullopt);  // before the checkpoint: the local copy has it
  EXPECT_EQ(get(0, "z"), "1");
  EXPECT_EQ(restorer_->records_restored(), 2u);
}

TEST_F(StateRestore, APartitionWithNothingToReadFinishesAtOnce) {
  write(0, {{"a", "1"}});
  ASSERT_FALSE(HasFatalFailure());
  open(0);
  open(1);
  ASSERT_TRUE(restorer_->begin(1, 0).is_ok());  // empty
  ASSERT_TRUE(restorer_->begin(0, 1).is_ok());  // checkpointed at its end
  auto finished = restorer_->poll(*store_, 0);
  ASSERT_TRUE(finished.is_ok()) << finished.status().message();
  ASSERT_EQ(finished->size(), 2u);
  EXPECT_TRUE(restorer_->idle());
  EXPECT_EQ(restorer_->records_restored(), 0u);
}

TEST_F(StateRestore, ACancelledRestoreNeverFinishesNorWrites) {
  write(0, {{"a", "1"}});
  write(1, {{"b", "1"}});
  ASSERT_FALSE(HasFatalFailure());
  open(0);
  open(1);
  ASSERT_TRUE(restorer_->begin(0, 0).is_ok());
  ASSERT_TRUE(restorer_->begin(1, 0).is_ok());
  ASSERT_TRUE(restorer_->cancel(0).is_ok());
  EXPECT_FALSE(restorer_->restoring(0));

  EXPECT_EQ(restore_until_finished(1), (std::map<int32_t, int64_t>{{1, 1}}));
  EXPECT_EQ(get(0, "a"), std::nullopt);
  EXPECT_EQ(get(1, "b"), "1");
}

}  // namespace
}  // namespace sluice::engine
