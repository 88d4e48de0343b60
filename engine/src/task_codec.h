// Between Kafka records and tasks: envelope decoding, the error history, and
// the envelope of a dead letter (outputs are encoded by output_encoder.h).
//
// Pure functions over protobuf values; no Kafka calls. Ids are random 128-bit
// hex strings, unique without coordination between workers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "envelope.pb.h"
#include "sluice/stage.h"

namespace sluice::engine {

std::string new_id();
// The same, into `id`, reusing its buffer: for ids made per record.
void new_id(std::string* id);
int64_t now_unix_ms();

// False when the bytes are not a Sluice envelope (foreign or corrupt).
bool decode_envelope(const void* data, size_t size, v1::Envelope* envelope);

// Moves ids, key, content type and payload out of `envelope` into the task
// (the envelope keeps the rest: correlation, times, headers, errors).
// `record_key` is used when the envelope carries no key (older or foreign
// producers).
// Writes into `task`, reusing its buffers.
void take_task(v1::Envelope& envelope, std::string_view record_key, Task* task);
Task take_task(v1::Envelope& envelope, std::string_view record_key);
// Undoes take_task() on `envelope`, with the task's current attempt.
void put_task_back(const Task& task, v1::Envelope* envelope);


struct Failure {
  std::string stage;
  uint32_t attempt;
  std::string kind;
  std::string message;
};
void append_error(v1::Envelope& envelope, const Failure& failure);

// The same on the wire: appends the error entry to `envelope_bytes`, a
// serialized Envelope, without parsing it. Protobuf reads concatenated
// messages as one (repeated fields append, a scalar's last value wins), so
// the bytes parse as the envelope with its history one entry longer. The
// retry path's form: a failure costs no parse of its input.
void append_error(const Failure& failure, std::string* envelope_bytes);

// What turns a serialized Envelope (its history appended) into the record
// of the next attempt, appended to `envelope_bytes`: the attempt, its
// not-before time, the stage it is for, and the task's key (the record key
// when the envelope carried none); each replaces the input's value.
struct NextAttempt {
  uint32_t attempt;
  int64_t not_before_unix_ms;
  std::string_view stage;
  std::string_view key;
};
void append_next_attempt(const NextAttempt& next, std::string* envelope_bytes);

// A record that could not be decoded, wrapped so it can be dead-lettered
// with its original bytes as payload.
v1::Envelope undecodable_envelope(std::string_view pipeline,
                                  std::string_view stage,
                                  std::string_view bytes,
                                  std::string_view record_key);

}  // namespace sluice::engine
