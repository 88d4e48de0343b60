// What `sluice dlq replay` sends for one dead letter: the letter's envelope
// made a fresh task again (attempt 1, no not-before time, no origin), its
// whole error history kept plus one "replayed" entry, keyed and headed as
// JobSubmitter and the worker key and head a task. Pure; any thread.
#pragma once

#include <cstdint>
#include <string>

#include "dead_letter.h"
#include "sluice/record_sender.h"

namespace sluice::ops {

v1::Envelope replay_envelope(const DlqTopics& target, const DeadLetter& letter,
                             int64_t now_unix_ms);
// replay_envelope() as a record for `target.input_topic`.
OutgoingRecord replay_record(const DlqTopics& target, const DeadLetter& letter,
                             int64_t now_unix_ms);

}  // namespace sluice::ops
