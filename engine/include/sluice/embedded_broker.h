// EmbeddedBroker: librdkafka's in-process mock cluster, for `sluice demo` and
// specs with `brokers: embedded`. It keeps everything in memory and nothing
// after the process exits. It cannot create topics through the Admin API
// (the mock of librdkafka 2.0.2 had no CreateTopics), so topics are created
// through its own API, and each partition keeps at most 5 MiB or 100,000
// batches, silently dropping older data: size work well inside that.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "sluice/status.h"
#include "sluice/topics/spec.h"

namespace sluice {

class EmbeddedBroker {
 public:
  // `brokers` brokers, ids 1 to `brokers` (more than one: for tests that move
  // a coordinator away from a broker).
  static Result<std::unique_ptr<EmbeddedBroker>> start(int brokers = 1);
  virtual ~EmbeddedBroker() = default;
  // bootstrap.servers for clients in this process.
  virtual std::string bootstrap() const = 0;
  // Creates every topic of plan_topics(spec) (see admin.h) that is missing,
  // with replication 1 (one broker). Takes up to a second or two: the mock
  // serves its own API slowly.
  virtual Status create_topics(const topics::PipelineSpec& spec) = 0;

  // Fault injection (tests/faults): the next `count` Produce requests fail
  // with Kafka error code `kafka_error` (e.g. 10, MESSAGE_TOO_LARGE: not
  // retried by the client, so the records fail delivery).
  virtual void fail_next_produce_requests(int count, int kafka_error) = 0;
  // The next `count` requests of protocol ApiKey `api_key` (e.g. 9,
  // OffsetFetch) fail with `kafka_error`.
  virtual void fail_next_requests(int api_key, int count, int kafka_error) = 0;
  // Takes broker `broker_id` down (connections refused) or back up.
  virtual void set_down(int broker_id, bool down) = 0;
  // Broker `broker_id` becomes the leader of every partition of
  // plan_topics(spec), so that a test knows which broker its records go to
  // (and can take down another one that is only a coordinator).
  virtual void lead_partitions_from(const topics::PipelineSpec& spec, int broker_id) = 0;
  // The coordinator of `kind` ("transaction" or "group") for `key` (a
  // transactional.id or a group.id) becomes broker `broker_id`; the one
  // before answers NOT_COORDINATOR from then on.
  virtual void move_coordinator(const std::string& kind, const std::string& key,
                                int broker_id) = 0;
  // Broker `broker_id` answers the next `count` requests of `api_key` only
  // after `delay` (e.g. an EndTxn slower than the client's deadline).
  virtual void delay_next_requests(int broker_id, int api_key, int count,
                                   std::chrono::milliseconds delay) = 0;
};

}  // namespace sluice
