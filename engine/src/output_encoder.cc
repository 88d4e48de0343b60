#include "output_encoder.h"

#include <cstring>

namespace sluice::engine {
namespace {

// Field numbers of sluice.v1.Envelope (topics/proto/envelope.proto).
enum Field : uint32_t {
  kJobId = 1, kTaskId = 2, kParentTaskId = 3, kCorrelationId = 4, kCausationId = 5,
  kPipeline = 6, kDestinationStage = 7, kSourceStage = 8, kAttempt = 9,
  kSubmittedAt = 11, kDeadline = 12, kContentType = 13, kPayload = 14, kHeaders = 15,
  kKey = 18, kPart = 19,
};
enum PartField : uint32_t { kPartGroup = 1, kPartIndex = 2, kPartCount = 3 };
constexpr uint32_t kVarint = 0;
constexpr uint32_t kLengthDelimited = 2;

size_t varint_size(uint64_t value) {
  size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

// The fields are written twice over: once to a Counter for the exact size,
// then to a Writer into that many bytes, so the output grows once and every
// write is a plain store.
struct Counter {
  size_t size = 0;
  void varint(uint64_t value) { size += varint_size(value); }
  void bytes(std::string_view bytes) { size += bytes.size(); }
};

struct Writer {
  char* p;
  void varint(uint64_t value) {
    while (value >= 0x80) {
      *p++ = static_cast<char>(value | 0x80);
      value >>= 7;
    }
    *p++ = static_cast<char>(value);
  }
  void bytes(std::string_view bytes) {
    std::memcpy(p, bytes.data(), bytes.size());
    p += bytes.size();
  }
};

template <typename Sink>
void put_field(Sink& out, uint32_t field, std::string_view bytes) {
  out.varint((field << 3) | kLengthDelimited);
  out.varint(bytes.size());
  out.bytes(bytes);
}

template <typename Sink>
void put_bytes(Sink& out, uint32_t field, std::string_view bytes) {
  if (!bytes.empty()) put_field(out, field, bytes);  // proto3 omits empty strings
}

template <typename Sink>
void put_number(Sink& out, uint32_t field, int64_t value) {
  if (value == 0) return;
  out.varint((field << 3) | kVarint);
  out.varint(static_cast<uint64_t>(value));
}

// A map<string,string> entry is a nested message: key = 1, value = 2, both
// written even when empty, as protobuf writes map entries.
template <typename Sink>
void put_header(Sink& out, const std::string& key, const std::string& value) {
  size_t key_part = 1 + varint_size(key.size()) + key.size();
  size_t value_part = 1 + varint_size(value.size()) + value.size();
  out.varint((kHeaders << 3) | kLengthDelimited);
  out.varint(key_part + value_part);
  put_field(out, 1, key);
  put_field(out, 2, value);
}

size_t part_size(const TaskPart& part) {
  Counter counter;
  put_bytes(counter, kPartGroup, part.group);
  put_number(counter, kPartIndex, part.index);
  put_number(counter, kPartCount, part.count);
  return counter.size;
}

template <typename Sink>
void put_part(Sink& out, const TaskPart& part) {
  out.varint((kPart << 3) | kLengthDelimited);
  out.varint(part_size(part));
  put_bytes(out, kPartGroup, part.group);
  put_number(out, kPartIndex, part.index);
  put_number(out, kPartCount, part.count);
}

struct OutputFields {
  const InputFields& input;
  const Task& task;
  const Output& output;
  const OutputAddress& address;
  const std::string& new_task_id;
  const TaskPart* part;
  std::string_view correlation, content_type, key;
};

template <typename Sink>
void put_output(Sink& out, const OutputFields& f) {
  put_bytes(out, kJobId, f.task.job_id);
  put_bytes(out, kTaskId, f.new_task_id);
  put_bytes(out, kParentTaskId, f.task.id);
  put_bytes(out, kCorrelationId, f.correlation);
  put_bytes(out, kCausationId, f.task.id);
  put_bytes(out, kPipeline, f.address.pipeline);
  put_bytes(out, kDestinationStage, f.address.destination_stage);
  put_bytes(out, kSourceStage, f.address.source_stage);
  put_number(out, kAttempt, 1);
  put_number(out, kSubmittedAt, f.input.submitted_at_unix_ms);
  put_number(out, kDeadline, f.input.deadline_unix_ms);
  put_bytes(out, kContentType, f.content_type);
  put_bytes(out, kPayload, f.output.payload);
  for (const auto& [name, value] : f.task.headers) put_header(out, name, value);
  put_bytes(out, kKey, f.key);
  if (f.part != nullptr) put_part(out, *f.part);
}

}  // namespace

std::string_view encode_output_envelope(const InputFields& input, const Task& task,
                                        const Output& output, const OutputAddress& address,
                                        const std::string& new_task_id, const TaskPart* part,
                                        std::string* out) {
  OutputFields fields{
      input, task, output, address, new_task_id, part,
      input.correlation_id.empty() ? task.job_id : input.correlation_id,
      output.content_type.empty() ? task.content_type : output.content_type,
      output.key ? std::string_view(*output.key) : std::string_view(task.key)};
  Counter counter;
  put_output(counter, fields);
  out->resize(counter.size);
  Writer writer{out->data()};
  put_output(writer, fields);
  return fields.key;
}

}  // namespace sluice::engine
