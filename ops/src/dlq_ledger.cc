#include "dlq_ledger.h"

#include <nlohmann/json.hpp>

#include "sluice/topics/rfc3339.h"
#include "sluice/stages/json_payload.h"
#include "sluice/topic_snapshot.h"

namespace sluice::ops {

std::string ledger_key(int32_t dlq_partition, int64_t dlq_offset) {
  return std::to_string(dlq_partition) + "@" + std::to_string(dlq_offset);
}

OutgoingRecord ledger_record(const std::string& ledger_topic, const DeadLetter& letter,
                             int64_t now_unix_ms) {
  nlohmann::json value = {{"job", letter.envelope.job_id()},
                          {"replayed_at", topics::format_rfc3339(now_unix_ms)}};
  return {ledger_topic, ledger_key(letter.partition, letter.offset), stages::dump_json(value), {}};
}

Result<std::unordered_set<std::string>> read_ledger(const KafkaOptions& kafka,
                                                    const std::string& ledger_topic) {
  auto snapshot = TopicSnapshot::open(kafka, ledger_topic);
  if (!snapshot.is_ok()) return snapshot.status();
  std::unordered_set<std::string> keys;
  while (true) {
    auto record = (*snapshot)->next();
    if (!record.is_ok()) return record.status();
    if (!record->has_value()) return keys;
    // A record without a value would be a tombstone: nothing writes one,
    // and it would mean "forget this replay".
    if ((*record)->value.empty()) {
      keys.erase((*record)->key);
    } else {
      keys.insert((*record)->key);
    }
  }
}

}  // namespace sluice::ops
