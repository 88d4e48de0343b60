// A dead letter as `sluice dlq` sees it: the envelope read from
// <p>.<stage>.dlq, where it lies there, and whether the replay ledger says
// it was replayed. Everything comes from the envelope (never from the
// record's Kafka headers), so letters of every worker version read alike.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "envelope.pb.h"
#include "sluice/kafka_options.h"
#include "sluice/status.h"

namespace sluice::ops {

// Where a stage's dead letters lie and where a replay sends them.
struct DlqTopics {
  std::string stage;
  std::string dlq_topic;     // <p>.<stage>.dlq
  std::string input_topic;   // topics::input_topic of the stage
  std::string ledger_topic;  // <p>.<stage>.dlq.replayed (dlq_ledger.h)
};

struct DeadLetter {
  int32_t partition = 0;  // its place in the DLQ topic
  int64_t offset = 0;
  int64_t record_time_unix_ms = 0;  // the record's Kafka timestamp
  std::string record_key;
  v1::Envelope envelope;
  bool replayed = false;
};

// The last entry of the error history, or nullptr when it is empty.
const v1::ErrorRecord* last_error(const DeadLetter& letter);
// When it died: its last error's time, else the record's timestamp.
int64_t letter_time_unix_ms(const DeadLetter& letter);
// The attempt it died at: the envelope's, else one per error it records.
uint32_t letter_attempts(const DeadLetter& letter);
// The letter's key: the envelope's, else the record's.
const std::string& letter_key(const DeadLetter& letter);
// "P.S.dlq[2]@17": where it lies, for messages.
std::string letter_place(const std::string& dlq_topic, const DeadLetter& letter);

// Calls `each` for every letter in `dlq_topic` up to its end offsets at the
// time of the call, until `each` returns false. Records that are not
// envelopes are skipped (counted in *skipped). A missing topic is kNotFound.
Status read_dead_letters(const KafkaOptions& kafka, const std::string& dlq_topic,
                         const std::function<bool(DeadLetter&)>& each, long* skipped);

}  // namespace sluice::ops
