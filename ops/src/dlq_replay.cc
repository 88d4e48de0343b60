#include "dlq_replay.h"

#include "sluice/topics/names.h"

namespace sluice::ops {

v1::Envelope replay_envelope(const DlqTopics& target, const DeadLetter& letter,
                             int64_t now_unix_ms) {
  v1::Envelope envelope = letter.envelope;
  envelope.set_attempt(1);
  envelope.set_not_before_unix_ms(0);
  envelope.clear_origin();
  envelope.set_key(letter_key(letter));
  envelope.set_destination_stage(target.stage);
  v1::ErrorRecord* replayed = envelope.add_errors();
  replayed->set_stage(target.stage);
  replayed->set_attempt(letter_attempts(letter));
  replayed->set_kind("replayed");
  replayed->set_message("replayed from " + letter_place(target.dlq_topic, letter));
  replayed->set_time_unix_ms(now_unix_ms);
  return envelope;
}

OutgoingRecord replay_record(const DlqTopics& target, const DeadLetter& letter,
                             int64_t now_unix_ms) {
  v1::Envelope envelope = replay_envelope(target, letter, now_unix_ms);
  OutgoingRecord record{target.input_topic, envelope.key(), envelope.SerializeAsString(), {}};
  record.headers = {{topics::kJobIdHeader, envelope.job_id()},
                    {topics::kTaskIdHeader, envelope.task_id()}};
  return record;
}

}  // namespace sluice::ops
