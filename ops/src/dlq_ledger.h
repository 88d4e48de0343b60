// The replay ledger, <p>.<stage>.dlq.replayed: how `sluice dlq replay`
// remembers which dead letters it sent back. One record per replayed
// letter, key "<dlq partition>@<dlq offset>" (a letter's place never
// changes, and a job that dies again is a new letter at a new offset),
// value {"job": ID, "replayed_at": RFC 3339}. Written only after the
// broker acknowledged the replay itself, so a crash in between sends that
// letter again next time (at-least-once; the job id stays the same).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>

#include "dead_letter.h"
#include "sluice/kafka_options.h"
#include "sluice/record_sender.h"
#include "sluice/status.h"

namespace sluice::ops {

std::string ledger_key(int32_t dlq_partition, int64_t dlq_offset);

// The ledger's record for `letter`, replayed at `now_unix_ms`.
OutgoingRecord ledger_record(const std::string& ledger_topic, const DeadLetter& letter,
                             int64_t now_unix_ms);

// The keys of every letter the ledger holds, read to its end. A missing
// ledger is kNotFound.
Result<std::unordered_set<std::string>> read_ledger(const KafkaOptions& kafka,
                                                    const std::string& ledger_topic);

}  // namespace sluice::ops
