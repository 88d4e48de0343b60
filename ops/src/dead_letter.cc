#include "dead_letter.h"

#include "sluice/topic_snapshot.h"

namespace sluice::ops {

const v1::ErrorRecord* last_error(const DeadLetter& letter) {
  const auto& errors = letter.envelope.errors();
  return errors.empty() ? nullptr : &errors[errors.size() - 1];
}

int64_t letter_time_unix_ms(const DeadLetter& letter) {
  const v1::ErrorRecord* error = last_error(letter);
  return error && error->time_unix_ms() > 0 ? error->time_unix_ms() : letter.record_time_unix_ms;
}

uint32_t letter_attempts(const DeadLetter& letter) {
  const v1::Envelope& e = letter.envelope;
  return e.attempt() > 0 ? e.attempt() : static_cast<uint32_t>(e.errors_size());
}

const std::string& letter_key(const DeadLetter& letter) {
  return letter.envelope.key().empty() ? letter.record_key : letter.envelope.key();
}

std::string letter_place(const std::string& dlq_topic, const DeadLetter& letter) {
  return dlq_topic + "[" + std::to_string(letter.partition) + "]@" +
         std::to_string(letter.offset);
}

Status read_dead_letters(const KafkaOptions& kafka, const std::string& dlq_topic,
                         const std::function<bool(DeadLetter&)>& each, long* skipped) {
  auto snapshot = TopicSnapshot::open(kafka, dlq_topic);
  if (!snapshot.is_ok()) return snapshot.status();
  while (true) {
    auto record = (*snapshot)->next();
    if (!record.is_ok()) return record.status();
    if (!record->has_value()) return Status::ok();
    DeadLetter letter;
    if (!decode_envelope((*record)->value, &letter.envelope)) {
      ++*skipped;
      continue;
    }
    letter.partition = (*record)->partition;
    letter.offset = (*record)->offset;
    letter.record_time_unix_ms = (*record)->timestamp_unix_ms;
    letter.record_key = std::move((*record)->key);
    if (!each(letter)) return Status::ok();
  }
}

}  // namespace sluice::ops
