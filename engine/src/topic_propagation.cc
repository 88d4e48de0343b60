#include "topic_propagation.h"

#include <algorithm>
#include <thread>

#include "kafka_errors.h"

namespace sluice::engine {
namespace {

using std::chrono::milliseconds;

std::string seconds(milliseconds d) { return std::to_string(d.count() / 1000) + "s"; }

const std::string* first_missing(const std::vector<std::string>& names,
                                   const TopicMap& topics) {
  for (const std::string& name : names) {
    if (topics.count(name) == 0) return &name;
  }
  return nullptr;
}

// One metadata answer from the broker at `address` alone: a fresh client
// bootstrapped from that address only knows no other broker to ask.
Result<ClusterView> ask_broker(const std::string& address, const KafkaOptions& kafka,
                               milliseconds timeout) {
  KafkaOptions one = kafka;
  one.bootstrap = address;
  one.connect_timeout = std::max(timeout, milliseconds(1));
  auto client = make_client(one, ClientSpec{});
  if (!client.is_ok()) return client.status();
  return describe_cluster(client->get(), one);
}

}  // namespace

Result<TopicMap> wait_until_every_broker_lists(rd_kafka_t* rk,
                                               const std::vector<std::string>& names,
                                               const KafkaOptions& kafka) {
  auto deadline = std::chrono::steady_clock::now() + kafka.connect_timeout;
  auto cluster = describe_cluster(rk, kafka);
  if (!cluster.is_ok()) return cluster.status();
  TopicMap listed;
  for (const auto& [id, address] : cluster->brokers) {
    std::string broker = "broker " + std::to_string(id) + " at " + address;
    // An answer without the topics says more than a late attempt that ran
    // out of time, so it is the error kept for the deadline.
    std::string unlisted;
    std::string unanswered;
    for (;;) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline -
                                                           std::chrono::steady_clock::now());
      if (left <= milliseconds(0)) {
        if (!unlisted.empty()) return transient_error(unlisted);
        if (!unanswered.empty()) return transient_error(unanswered);
        return transient_error(broker + " did not answer within " +
                               seconds(kafka.connect_timeout));
      }
      auto view = ask_broker(address, kafka, left);
      if (!view.is_ok()) {
        unanswered = broker + " did not answer: " + view.status().message();
      } else if (view->answered_by != id && view->answered_by != -1) {
        unanswered = broker + " did not answer; broker " + std::to_string(view->answered_by) +
                     " did";
      } else if (const std::string* missing = first_missing(names, view->topics)) {
        unlisted = broker + " did not list " + *missing + " within " +
                   seconds(kafka.connect_timeout);
      } else {
        listed = std::move(view->topics);
        break;
      }
      std::this_thread::sleep_for(std::min(left, milliseconds(100)));
    }
  }
  return listed;
}

}  // namespace sluice::engine
