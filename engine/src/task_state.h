// The states of a task record and the transitions between them: the one
// table the worker's code follows (checked with SLUICE_CHECK where a state
// changes). "slot" is one of the stage's `concurrency` in-flight slots;
// "key" is the task's key lane in the KeyDispatcher (later tasks of the same
// key wait while it is held).
//
//   state       holds        what it waits for
//   kDelayed    -            its not-before time (a record of the retry topic
//                            read before it is due): then it joins its lane
//   kWaiting    -            its key to be free and a slot (in its lane)
//   kRunning    slot, key    the stage's outcome
//   kParked     key          its retry backoff, then a slot
//   kProducing  -            the broker's acks of its outputs or dead letter
//   kAbandoned  slot, key    the outcome of a task whose partition was
//                            rewound, revoked or lost: then it is erased
//
//   from        to           when
//   kDelayed    kWaiting     its not-before time passed
//   kWaiting    kRunning     dispatched
//   kRunning    kProducing   outcome ok (outputs produced), a retry record
//                            (retry.mode topic) or a dead letter
//   kRunning    kParked      retryable failure with attempts left (retry.mode
//                            in_place), a failure while the circuit is open,
//                            or the stage refused it for capacity (the last two
//                            charge no attempt)
//   kRunning    kAbandoned   its partition is dropped while the stage runs it
//   kParked     kRunning     backoff passed and a slot is free
//   (erased)                 kProducing acked; kAbandoned outcome arrived;
//                            kDelayed, kWaiting, kParked or kProducing dropped
//
// A dropped running task keeps its slot and key until its outcome arrives,
// so the stage is never handed more than `concurrency` tasks and a re-read
// task of the same key cannot overtake it.
//
// A key is free once its task's outputs are produced, not acked: holding it
// for the acks costs a round trip per task of a key (measured: 0.87x -> 0.32x
// of the plain loop on the passthrough benchmark). Order holds anyway: a
// key's outputs go to the same partitions, in produce order, and the
// producer is idempotent and gapless (kafka_client.cc), so a later output is
// never acked while an earlier one of its partition failed; a failure
// rewinds before the later task counts as done, and both run again in order.
// (Gapless does not cover local timeouts: hence no message.timeout.ms by
// default. A user who sets one accepts that a timed-out output may land
// after a later one of its key.)
#pragma once

#include <cstdint>

namespace sluice::engine {

enum class TaskState : uint8_t { kDelayed, kWaiting, kRunning, kParked, kProducing, kAbandoned };

constexpr bool task_transition_allowed(TaskState from, TaskState to) {
  switch (from) {
    case TaskState::kDelayed: return to == TaskState::kWaiting;
    case TaskState::kWaiting: return to == TaskState::kRunning;
    case TaskState::kRunning:
      return to == TaskState::kProducing || to == TaskState::kParked ||
             to == TaskState::kAbandoned;
    case TaskState::kParked: return to == TaskState::kRunning;
    case TaskState::kProducing:
    case TaskState::kAbandoned: return false;
  }
  return false;
}

constexpr const char* task_state_name(TaskState state) {
  switch (state) {
    case TaskState::kDelayed: return "delayed";
    case TaskState::kWaiting: return "waiting";
    case TaskState::kRunning: return "running";
    case TaskState::kParked: return "parked";
    case TaskState::kProducing: return "producing";
    case TaskState::kAbandoned: return "abandoned";
  }
  return "?";
}

}  // namespace sluice::engine
