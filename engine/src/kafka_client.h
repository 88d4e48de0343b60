// Creating librdkafka handles with Sluice's settings, and checking a broker.
//
// Settings are layered: Sluice's defaults for the role, then the user's
// properties (passthrough), then the settings delivery guarantees depend on,
// which a user property may not contradict (that is refused, not ignored).
// librdkafka's own log lines are routed to spdlog; callers that need more
// callbacks (delivery reports, rebalances) install them via `customize`.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "kafka_handles.h"
#include "sluice/kafka_options.h"
#include "sluice/status.h"

namespace sluice::engine {

using Settings = std::map<std::string, std::string>;

struct ClientSpec {
  rd_kafka_type_t type = RD_KAFKA_PRODUCER;
  Settings defaults;  // Sluice's choices; user properties may override
  Settings forced;    // guarantees depend on these; overriding is an error
  std::function<void(rd_kafka_conf_t*)> customize;  // callbacks, opaque
};

// Settings every Sluice producer uses (idempotent, acks=all, murmur2_random);
// with a transactional id, a transactional one (exactly_once).
ClientSpec producer_spec(const std::string& transactional_id = {});
// Settings every Sluice group consumer uses (manual offsets, eager assignor);
// `read_committed` forces that isolation level (exactly_once).
ClientSpec consumer_spec(const std::string& group_id, bool read_committed = false);

Result<KafkaHandle> make_client(const KafkaOptions& options, ClientSpec spec);

// Fails with a one-line transient error naming the bootstrap servers when no
// broker answers a metadata request within options.connect_timeout.
Status check_reachable(rd_kafka_t* rk, const KafkaOptions& options);

}  // namespace sluice::engine
