#include "task_codec.h"

#include "sluice/topics/utf8.h"

#include <google/protobuf/stubs/logging.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <random>

namespace sluice::engine {

void new_id(std::string* id) {
  // Per task, so by hand rather than snprintf (which costs ~10x as much).
  static constexpr char kHex[] = "0123456789abcdef";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  id->resize(32);
  char* out = id->data();
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = rng();
    for (int i = 0; i < 16; ++i, bits >>= 4) out[half * 16 + i] = kHex[bits & 0xf];
  }
}

std::string new_id() {
  std::string id;
  new_id(&id);
  return id;
}

int64_t now_unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
      .count();
}

namespace {

// Protobuf logs to stderr when it parses foreign bytes (e.g. "invalid UTF-8");
// those records are dead-lettered with a clear error, so its line is noise.
void protobuf_log_to_spdlog(google::protobuf::LogLevel level, const char* file, int line,
                            const std::string& message) {
  spdlog::debug("protobuf {}:{}: {}", file, line, message);
}

}  // namespace

bool decode_envelope(const void* data, size_t size, v1::Envelope* envelope) {
  static std::once_flag once;
  std::call_once(once, [] { google::protobuf::SetLogHandler(protobuf_log_to_spdlog); });
  if (size == 0 || size > static_cast<size_t>(INT32_MAX)) return false;
  if (!envelope->ParseFromArray(data, static_cast<int>(size))) return false;
  // Protobuf happily parses many foreign byte strings; an envelope always
  // names its job, so one without is not ours. (Unknown fields are fine:
  // they are how newer writers add fields.)
  return !envelope->job_id().empty();
}

void take_task(v1::Envelope& envelope, std::string_view record_key, Task* task) {
  // Swaps rather than copies: this runs once per record, and the worker
  // reuses both objects, so their buffers circulate instead of reallocating.
  // put_task_back() restores the envelope when it must be written out whole.
  task->id.swap(*envelope.mutable_task_id());
  task->job_id.swap(*envelope.mutable_job_id());
  if (envelope.key().empty()) {
    task->key.assign(record_key.data(), record_key.size());
  } else {
    task->key.swap(*envelope.mutable_key());
  }
  task->attempt = envelope.attempt() == 0 ? 1 : envelope.attempt();
  task->content_type.swap(*envelope.mutable_content_type());
  task->payload.swap(*envelope.mutable_payload());
  task->headers.clear();
  if (!envelope.headers().empty()) {
    task->headers.insert(envelope.headers().begin(), envelope.headers().end());
  }
  task->part.reset();
  if (envelope.has_part()) {
    task->part = TaskPart{envelope.part().group(), envelope.part().index(),
                          envelope.part().count()};
  }
  task->tick = envelope.tick();
}

Task take_task(v1::Envelope& envelope, std::string_view record_key) {
  Task task;
  take_task(envelope, record_key, &task);
  return task;
}

void put_task_back(const Task& task, v1::Envelope* envelope) {
  envelope->set_task_id(task.id);
  envelope->set_job_id(task.job_id);
  envelope->set_key(task.key);
  envelope->set_attempt(task.attempt);
  envelope->set_content_type(task.content_type);
  envelope->set_payload(task.payload);
}

void append_error(v1::Envelope& envelope, const Failure& failure) {
  v1::ErrorRecord* record = envelope.add_errors();
  // Messages carry what stages and children wrote: any bytes at all.
  record->set_stage(topics::to_valid_utf8(failure.stage));
  record->set_attempt(failure.attempt);
  record->set_kind(topics::to_valid_utf8(failure.kind));
  record->set_message(topics::to_valid_utf8(failure.message));
  record->set_time_unix_ms(now_unix_ms());
}

namespace {

// The few fields appended to a serialized envelope, in a message reused per
// thread: cleared, it keeps its strings' and error entry's buffers, so a
// failure allocates nothing here once warm.
v1::Envelope& appended_fields() {
  thread_local v1::Envelope fields;
  fields.Clear();
  return fields;
}

}  // namespace

void append_error(const Failure& failure, std::string* envelope_bytes) {
  v1::Envelope& fields = appended_fields();
  append_error(fields, failure);
  fields.AppendToString(envelope_bytes);
}

void append_next_attempt(const NextAttempt& next, std::string* envelope_bytes) {
  v1::Envelope& fields = appended_fields();
  fields.set_attempt(next.attempt);
  fields.set_not_before_unix_ms(next.not_before_unix_ms);
  fields.mutable_destination_stage()->assign(next.stage.data(), next.stage.size());
  fields.mutable_key()->assign(next.key.data(), next.key.size());
  fields.AppendToString(envelope_bytes);
}

v1::Envelope undecodable_envelope(std::string_view pipeline,
                                  std::string_view stage,
                                  std::string_view bytes,
                                  std::string_view record_key) {
  v1::Envelope envelope;
  envelope.set_task_id(new_id());
  // Not part of any job, but a dead letter must itself decode as an envelope
  // (decode_envelope requires a job id) so `tail --dlq` can show its history.
  envelope.set_job_id("undecodable-" + envelope.task_id());
  envelope.set_pipeline(std::string(pipeline));
  envelope.set_destination_stage(std::string(stage));
  envelope.set_attempt(1);
  envelope.set_content_type("application/octet-stream");
  envelope.set_payload(std::string(bytes));
  envelope.set_key(topics::to_valid_utf8(record_key));  // a foreign key: any bytes
  append_error(envelope, {std::string(stage), 1, "undecodable",
                          "record value is not a sluice.v1.Envelope"});
  return envelope;
}

}  // namespace sluice::engine
