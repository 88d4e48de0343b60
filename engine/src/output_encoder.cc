#include "output_encoder.h"

namespace sluice::engine {
namespace {

// Field numbers of sluice.v1.Envelope (topics/proto/envelope.proto).
enum Field : uint32_t {
  kJobId = 1, kTaskId = 2, kParentTaskId = 3, kCorrelationId = 4, kCausationId = 5,
  kPipeline = 6, kDestinationStage = 7, kSourceStage = 8, kAttempt = 9,
  kSubmittedAt = 11, kDeadline = 12, kContentType = 13, kPayload = 14, kHeaders = 15,
  kKey = 18,
};
constexpr uint32_t kVarint = 0;
constexpr uint32_t kLengthDelimited = 2;

void put_varint(std::string* out, uint64_t value) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

size_t varint_size(uint64_t value) {
  size_t size = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++size;
  }
  return size;
}

void put_bytes(std::string* out, uint32_t field, std::string_view bytes) {
  if (bytes.empty()) return;  // proto3 omits empty strings
  put_varint(out, (field << 3) | kLengthDelimited);
  put_varint(out, bytes.size());
  out->append(bytes.data(), bytes.size());
}

void put_number(std::string* out, uint32_t field, int64_t value) {
  if (value == 0) return;
  put_varint(out, (field << 3) | kVarint);
  put_varint(out, static_cast<uint64_t>(value));
}

// A map<string,string> entry is a nested message: key = 1, value = 2.
void put_header(std::string* out, const std::string& key, const std::string& value) {
  size_t key_part = key.empty() ? 0 : 1 + varint_size(key.size()) + key.size();
  size_t value_part = value.empty() ? 0 : 1 + varint_size(value.size()) + value.size();
  put_varint(out, (kHeaders << 3) | kLengthDelimited);
  put_varint(out, key_part + value_part);
  put_bytes(out, 1, key);
  put_bytes(out, 2, value);
}

}  // namespace

std::string_view encode_output_envelope(const InputFields& input, const Task& task,
                                        const Output& output, const OutputAddress& address,
                                        const std::string& new_task_id, std::string* out) {
  out->clear();
  const std::string& correlation =
      input.correlation_id.empty() ? task.job_id : input.correlation_id;
  const std::string& content_type =
      output.content_type.empty() ? task.content_type : output.content_type;
  std::string_view key = output.key ? std::string_view(*output.key) : std::string_view(task.key);
  put_bytes(out, kJobId, task.job_id);
  put_bytes(out, kTaskId, new_task_id);
  put_bytes(out, kParentTaskId, task.id);
  put_bytes(out, kCorrelationId, correlation);
  put_bytes(out, kCausationId, task.id);
  put_bytes(out, kPipeline, address.pipeline);
  put_bytes(out, kDestinationStage, address.destination_stage);
  put_bytes(out, kSourceStage, address.source_stage);
  put_number(out, kAttempt, 1);
  put_number(out, kSubmittedAt, input.submitted_at_unix_ms);
  put_number(out, kDeadline, input.deadline_unix_ms);
  put_bytes(out, kContentType, content_type);
  put_bytes(out, kPayload, output.payload);
  for (const auto& [name, value] : task.headers) put_header(out, name, value);
  put_bytes(out, kKey, key);
  return key;
}

}  // namespace sluice::engine
