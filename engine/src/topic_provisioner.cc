// apply_topics: `sluice topics apply`. Creates what is missing, reports what
// differs, never deletes or alters.
//
// Order: reachability (a clear error within connect_timeout), one metadata
// snapshot (what exists), one CreateTopics request for everything missing,
// then a wait until every broker lists the new topics, so that a worker
// started right after apply finds them whichever broker it asks.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "kafka_errors.h"
#include "sluice/admin.h"
#include "topic_metadata.h"
#include "topic_propagation.h"

namespace sluice {
namespace {

using engine::TopicInfo;
using engine::TopicMap;
using std::chrono::milliseconds;

// Files an existing topic under report.unchanged or, with a line per
// differing setting, under report.differing.
void compare(const TopicPlan& plan, const TopicInfo& info, ApplyReport& report) {
  size_t before = report.differences.size();
  auto check = [&](const char* setting, int spec_value, int broker_value) {
    if (spec_value == broker_value) return;
    report.differences.push_back(plan.name + ": " + setting + ": spec " +
                                 std::to_string(spec_value) + ", broker " +
                                 std::to_string(broker_value) + " (left as is)");
  };
  check("partitions", plan.partitions, info.partitions);
  check("replication", plan.replication, info.replication);
  (report.differences.size() == before ? report.unchanged : report.differing)
      .push_back(plan.name);
}

Result<std::vector<engine::NewTopic>> new_topics(const std::vector<TopicPlan>& plans) {
  std::vector<engine::NewTopic> topics;
  for (const TopicPlan& plan : plans) {
    char error[512];
    engine::NewTopic topic(rd_kafka_NewTopic_new(
        plan.name.c_str(), plan.partitions, plan.replication, error, sizeof(error)));
    if (!topic) return usage_error("topic " + plan.name + ": " + error);
    if (plan.compacted) {
      Status s = engine::kafka_status(
          rd_kafka_NewTopic_set_config(topic.get(), "cleanup.policy", "compact"),
          "configure topic " + plan.name);
      if (!s.is_ok()) return s;
    }
    topics.push_back(std::move(topic));
  }
  return topics;
}

// The broker waits up to the operation timeout for the controller to create
// the topics; the request timeout must outlast it.
Result<engine::AdminOptions> create_options(rd_kafka_t* rk, milliseconds timeout) {
  engine::AdminOptions options(
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS));
  char error[512];
  if (rd_kafka_AdminOptions_set_operation_timeout(
          options.get(), static_cast<int>(timeout.count()), error, sizeof(error)) ||
      rd_kafka_AdminOptions_set_request_timeout(
          options.get(), static_cast<int>(2 * timeout.count()), error,
          sizeof(error))) {
    return usage_error(std::string("admin options: ") + error);
  }
  return options;
}

// Sends one CreateTopics request and waits for its result event.
Result<engine::KafkaEvent> request_creation(rd_kafka_t* rk,
                                            const std::vector<TopicPlan>& missing,
                                            const KafkaOptions& kafka) {
  auto topics = new_topics(missing);
  if (!topics.is_ok()) return topics.status();
  auto options = create_options(rk, kafka.connect_timeout);
  if (!options.is_ok()) return options.status();
  std::vector<rd_kafka_NewTopic_t*> raw;
  for (const engine::NewTopic& topic : *topics) raw.push_back(topic.get());
  engine::KafkaQueue queue(rd_kafka_queue_new(rk));
  rd_kafka_CreateTopics(rk, raw.data(), raw.size(), options->get(), queue.get());
  // librdkafka delivers a result, or a timeout, by the request timeout
  // (2x); waiting 3x + 1 s only guards against waiting forever on a bug.
  engine::KafkaEvent event(rd_kafka_queue_poll(
      queue.get(), static_cast<int>(3 * kafka.connect_timeout.count() + 1000)));
  if (!event) return transient_error("CreateTopics on " + kafka.bootstrap + ": no answer");
  Status s = engine::kafka_status(rd_kafka_event_error(event.get()),
                                  "CreateTopics on " + kafka.bootstrap);
  if (!s.is_ok()) return s;
  return event;
}

Status creation_failure(const rd_kafka_topic_result_t* result) {
  std::string name = rd_kafka_topic_result_name(result);
  Status s = engine::kafka_status(rd_kafka_topic_result_error(result),
                                  "create topic " + name);
  const char* detail = rd_kafka_topic_result_error_string(result);
  return Status(s.code(), s.message() + (detail ? std::string(" (") + detail + ")" : ""));
}

// TOPIC_ALREADY_EXISTS is not a failure: another `topics apply` (or an
// auto-creating client) got there between our metadata snapshot and now, or
// the broker that answered the snapshot did not list the topic yet (on a
// cluster a broker's metadata lags the controller's). Such topics go to
// `raced`, to be compared once listed. Each topic succeeds or fails on its
// own; the first failure is returned, saying how many others failed too.
Status read_results(rd_kafka_event_t* event, ApplyReport& report,
                    std::vector<std::string>& raced) {
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(
      rd_kafka_event_CreateTopics_result(event), &count);
  Status first_failure;
  size_t failures = 0;
  for (size_t i = 0; i < count; ++i) {
    std::string name = rd_kafka_topic_result_name(results[i]);
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      report.created.push_back(name);
    } else if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      raced.push_back(name);
    } else if (++failures == 1) {
      first_failure = creation_failure(results[i]);
    }
  }
  if (failures <= 1) return first_failure;
  return Status(first_failure.code(), first_failure.message() + "; " +
                                          std::to_string(failures - 1) +
                                          " more could not be created either");
}

// Existing topics are compared (report.unchanged or report.differing); the
// rest are returned, to be created.
std::vector<TopicPlan> missing_topics(const topics::PipelineSpec& spec,
                                      const TopicMap& existing, ApplyReport& report) {
  std::vector<TopicPlan> missing;
  for (const TopicPlan& plan : plan_topics(spec)) {
    auto it = existing.find(plan.name);
    if (it == existing.end()) {
      missing.push_back(plan);
      continue;
    }
    compare(plan, it->second, report);
  }
  return missing;
}

}  // namespace

Result<ApplyReport> apply_topics(const topics::PipelineSpec& spec,
                                 const KafkaOptions& kafka) {
  engine::ClientSpec admin;  // plain producer-type handle: no delivery settings
  auto client = engine::connect_client(kafka, std::move(admin));
  if (!client.is_ok()) return client.status();
  rd_kafka_t* rk = client->get();
  auto existing = engine::describe_topics(rk, kafka);
  if (!existing.is_ok()) return existing.status();

  ApplyReport report;
  std::vector<TopicPlan> missing = missing_topics(spec, *existing, report);
  if (missing.empty()) return report;
  auto event = request_creation(rk, missing, kafka);
  // Sent again while a transient failure leaves time: a request can be lost
  // with its connection (CI, a fresh 3-node cluster: "Broker handle destroyed
  // without termination", librdkafka retiring the bootstrap broker the
  // request was queued on), and a repeat is harmless (TOPIC_ALREADY_EXISTS
  // counts as raced, below).
  auto deadline = std::chrono::steady_clock::now() + kafka.connect_timeout;
  bool asked_again = false;
  while (!event.is_ok() && event.status().code() == StatusCode::kTransient &&
         std::chrono::steady_clock::now() < deadline) {
    spdlog::info("{}; asking again", event.status().message());
    std::this_thread::sleep_for(milliseconds(200));
    event = request_creation(rk, missing, kafka);
    asked_again = true;
  }
  if (!event.is_ok()) return event.status();
  std::vector<std::string> raced;
  if (Status s = read_results(event->get(), report, raced); !s.is_ok()) return s;
  std::vector<std::string> awaited = report.created;
  awaited.insert(awaited.end(), raced.begin(), raced.end());
  auto listed = engine::wait_until_every_broker_lists(rk, awaited, kafka);
  if (!listed.is_ok()) {
    return Status(listed.status().code(), "created the topics but " + listed.status().message());
  }
  // Asked again, a topic that exists as planned is most likely our first
  // request's, whose answer was lost (CI, a fresh 3-node cluster: "0
  // created, 5 already there" for a new pipeline's topics): reported created.
  // A differing one was not ours, and says so.
  for (const TopicPlan& plan : missing) {
    if (std::find(raced.begin(), raced.end(), plan.name) == raced.end()) continue;
    const TopicInfo& info = listed->at(plan.name);
    if (asked_again && info.partitions == plan.partitions &&
        info.replication == plan.replication) {
      report.created.push_back(plan.name);
      continue;
    }
    compare(plan, info, report);
  }
  return report;
}

}  // namespace sluice
