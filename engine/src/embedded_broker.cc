// EmbeddedBroker: hosts librdkafka's mock cluster in this process.
//
// The mock cluster lives on the threads of an rd_kafka_t that does nothing
// else; that handle must outlive the cluster, so the owner below destroys
// the cluster first, explicitly, whatever the member order. Its log lines
// reach spdlog through make_client's log callback.
#include "sluice/embedded_broker.h"

#include <system_error>
#include <thread>
#include <vector>

#include "kafka_client.h"
#include "kafka_errors.h"
#include "sluice/admin.h"

namespace sluice {
namespace {

class EmbeddedBrokerImpl final : public EmbeddedBroker {
 public:
  ~EmbeddedBrokerImpl() override { cluster_.reset(); }

  Status start(int brokers);
  std::string bootstrap() const override { return bootstrap_; }
  Status create_topics(const topics::PipelineSpec& spec) override;
  void fail_next_produce_requests(int count, int kafka_error) override {
    constexpr int kProduceApiKey = 0;  // the Kafka protocol's ApiKey
    fail_next_requests(kProduceApiKey, count, kafka_error);
  }
  void fail_next_requests(int api_key, int count, int kafka_error) override {
    std::vector<rd_kafka_resp_err_t> errors(static_cast<size_t>(count),
                                            static_cast<rd_kafka_resp_err_t>(kafka_error));
    rd_kafka_mock_push_request_errors_array(cluster_.get(), static_cast<int16_t>(api_key),
                                            errors.size(), errors.data());
  }
  void set_down(int broker_id, bool down) override {
    if (down) {
      rd_kafka_mock_broker_set_down(cluster_.get(), broker_id);
    } else {
      rd_kafka_mock_broker_set_up(cluster_.get(), broker_id);
    }
  }
  void lead_partitions_from(const topics::PipelineSpec& spec, int broker_id) override {
    for (const TopicPlan& plan : plan_topics(spec)) {
      for (int partition = 0; partition < plan.partitions; ++partition) {
        rd_kafka_mock_partition_set_leader(cluster_.get(), plan.name.c_str(), partition, broker_id);
      }
    }
  }
  void move_coordinator(const std::string& kind, const std::string& key,
                        int broker_id) override {
    rd_kafka_mock_coordinator_set(cluster_.get(), kind.c_str(), key.c_str(), broker_id);
  }
  void delay_next_requests(int broker_id, int api_key, int count,
                           std::chrono::milliseconds delay) override {
    // One (error, rtt) tuple per push: the stack takes them in order.
    for (int i = 0; i < count; ++i) {
      rd_kafka_mock_broker_push_request_error_rtts(cluster_.get(), broker_id,
                                                   static_cast<int16_t>(api_key), 1,
                                                   RD_KAFKA_RESP_ERR_NO_ERROR,
                                                   static_cast<int>(delay.count()));
    }
  }

 private:
  engine::KafkaHandle host_;
  engine::MockCluster cluster_;
  std::string bootstrap_;
};

Status EmbeddedBrokerImpl::start(int brokers) {
  KafkaOptions options;  // no bootstrap: this handle never connects anywhere
  options.client_id = "sluice-embedded-broker";
  auto host = engine::make_client(options, engine::ClientSpec{});
  if (!host.is_ok()) return host.status();
  host_ = std::move(host).value();
  cluster_.reset(rd_kafka_mock_cluster_new(host_.get(), brokers));
  if (!cluster_) return fatal_error("cannot start the embedded broker");
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_.get());
  // A real broker waits 3 s for more members before the first rebalance of a
  // group; in one process they all join at once, so jobs move within a second.
  rd_kafka_mock_group_initial_rebalance_delay_ms(cluster_.get(), 0);
  return Status::ok();
}

rd_kafka_resp_err_t create_one(rd_kafka_mock_cluster_t* cluster, const TopicPlan& plan) {
  // One broker, so replication is 1 whatever the spec says; the mock does
  // not compact, so changelogs are plain topics here.
  rd_kafka_resp_err_t err =
      rd_kafka_mock_topic_create(cluster, plan.name.c_str(), plan.partitions, 1);
  return err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS ? RD_KAFKA_RESP_ERR_NO_ERROR : err;
}

// librdkafka 2.0.2's mock thread misses about every other wake-up from its
// own API and then sleeps up to a second before serving the request, so
// topics created one by one take ~N/2 seconds. Requests queued together are
// served together: create them all at once, one short-lived thread each.
Status EmbeddedBrokerImpl::create_topics(const topics::PipelineSpec& spec) {
  std::vector<TopicPlan> plans = plan_topics(spec);
  std::vector<rd_kafka_resp_err_t> errors(plans.size(), RD_KAFKA_RESP_ERR_NO_ERROR);
  std::vector<std::thread> threads;
  try {
    for (size_t i = 0; i < plans.size(); ++i) {
      threads.emplace_back([&, i] { errors[i] = create_one(cluster_.get(), plans[i]); });
    }
  } catch (const std::system_error&) {
    // No more threads: the rest one by one, slowly but surely.
    for (size_t i = threads.size(); i < plans.size(); ++i) {
      errors[i] = create_one(cluster_.get(), plans[i]);
    }
  }
  for (std::thread& thread : threads) thread.join();
  for (size_t i = 0; i < plans.size(); ++i) {
    Status s = engine::kafka_status(
        errors[i], "create topic " + plans[i].name + " on the embedded broker");
    if (!s.is_ok()) return s;
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::start(int brokers) {
  auto broker = std::make_unique<EmbeddedBrokerImpl>();
  if (Status s = broker->start(brokers); !s.is_ok()) return s;
  return std::unique_ptr<EmbeddedBroker>(std::move(broker));
}

}  // namespace sluice
