// EmbeddedBroker: hosts librdkafka's mock cluster in this process.
//
// The mock cluster lives on the threads of an rd_kafka_t that does nothing
// else; that handle must outlive the cluster, so the owner below destroys
// the cluster first, explicitly, whatever the member order. Its log lines
// reach spdlog through make_client's log callback.
#include "sluice/embedded_broker.h"

#include "kafka_client.h"
#include "kafka_errors.h"
#include "sluice/admin.h"

namespace sluice {
namespace {

class EmbeddedBrokerImpl final : public EmbeddedBroker {
 public:
  ~EmbeddedBrokerImpl() override { cluster_.reset(); }

  Status start();
  std::string bootstrap() const override { return bootstrap_; }
  Status create_topics(const topics::PipelineSpec& spec) override;

 private:
  engine::KafkaHandle host_;
  engine::MockCluster cluster_;
  std::string bootstrap_;
};

Status EmbeddedBrokerImpl::start() {
  KafkaOptions options;  // no bootstrap: this handle never connects anywhere
  options.client_id = "sluice-embedded-broker";
  auto host = engine::make_client(options, engine::ClientSpec{});
  if (!host.is_ok()) return host.status();
  host_ = std::move(host).value();
  cluster_.reset(rd_kafka_mock_cluster_new(host_.get(), /*broker_cnt=*/1));
  if (!cluster_) return fatal_error("cannot start the embedded broker");
  bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_.get());
  return Status::ok();
}

// One broker, so replication is 1 whatever the spec says; the mock does not
// compact, so changelogs are plain topics here.
Status EmbeddedBrokerImpl::create_topics(const topics::PipelineSpec& spec) {
  for (const TopicPlan& plan : plan_topics(spec)) {
    rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(cluster_.get(), plan.name.c_str(), plan.partitions, 1);
    if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) continue;
    Status s = engine::kafka_status(err, "create topic " + plan.name + " on the embedded broker");
    if (!s.is_ok()) return s;
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::start() {
  auto broker = std::make_unique<EmbeddedBrokerImpl>();
  if (Status s = broker->start(); !s.is_ok()) return s;
  return std::unique_ptr<EmbeddedBroker>(std::move(broker));
}

}  // namespace sluice
