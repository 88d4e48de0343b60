#include "input_decoder.h"

#include <cstring>

#include "sluice/topics/utf8.h"

namespace sluice::engine {
namespace {

// Field numbers of sluice.v1.Envelope (topics/proto/envelope.proto).
// Fields 1-8 are strings; 10, 16 and 17 (not_before, errors, origin) are
// skipped.
enum Field : uint32_t {
  kJobId = 1, kTaskId = 2, kCorrelationId = 4, kSourceStage = 8, kAttempt = 9, kNotBefore = 10,
  kSubmittedAt = 11, kDeadline = 12, kContentType = 13, kPayload = 14, kHeaders = 15, kKey = 18,
  kPart = 19, kTick = 20,
};
// Fields of sluice.v1.Part.
enum PartField : uint32_t { kPartGroup = 1, kPartIndex = 2, kPartCount = 3 };
enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

using topics::valid_utf8;

class WireReader {
 public:
  explicit WireReader(std::string_view bytes)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())), end_(p_ + bytes.size()) {}

  bool done() const { return p_ == end_; }

  bool varint(uint64_t* value) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      uint8_t byte = *p_++;
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (byte < 0x80) {
        *value = result;
        return true;
      }
    }
    return false;  // truncated, or longer than ten bytes
  }

  // As protobuf reads a tag: at most five bytes, the value cut to 32 bits.
  bool tag(uint32_t* value) {
    uint32_t result = 0;
    for (int shift = 0; shift < 35 && p_ < end_; shift += 7) {
      uint8_t byte = *p_++;
      result |= static_cast<uint32_t>(byte & 0x7f) << shift;
      if (byte < 0x80) {
        *value = result;
        return true;
      }
    }
    return false;
  }

  bool length_delimited(std::string_view* bytes) {
    uint64_t length;
    if (!varint(&length) || length > static_cast<uint64_t>(end_ - p_)) return false;
    *bytes = std::string_view(reinterpret_cast<const char*>(p_), length);
    p_ += length;
    return true;
  }

  bool skip(uint32_t wire_type) {
    uint64_t ignored;
    std::string_view ignored_bytes;
    switch (wire_type) {
      case kVarint:
        return varint(&ignored);
      case kFixed64:
        return advance(8);
      case kLengthDelimited:
        return length_delimited(&ignored_bytes);
      case kFixed32:
        return advance(4);
      default:
        return false;  // groups (3, 4) and wire types that do not exist
    }
  }

 private:
  bool advance(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }

  const uint8_t* p_;
  const uint8_t* end_;
};

// A map<string,string> entry: key = 1, value = 2, either may be absent.
bool read_header(std::string_view entry, Task* task) {
  WireReader reader(entry);
  std::string_view key, value;
  while (!reader.done()) {
    uint32_t tag;
    if (!reader.tag(&tag)) return false;
    uint32_t field = tag >> 3, wire_type = tag & 7;
    if (field == 0) return false;
    if ((field == 1 || field == 2) && wire_type == kLengthDelimited) {
      if (!reader.length_delimited(field == 1 ? &key : &value)) return false;
    } else if (!reader.skip(wire_type)) {
      return false;
    }
  }
  if (!valid_utf8(key) || !valid_utf8(value)) return false;
  task->headers.insert_or_assign(std::string(key), std::string(value));
  return true;
}

// An embedded message is merged field by field when it appears twice, as
// protobuf merges it.
bool read_part(std::string_view message, TaskPart* part) {
  WireReader reader(message);
  while (!reader.done()) {
    uint32_t tag;
    if (!reader.tag(&tag)) return false;
    uint32_t field = tag >> 3, wire_type = tag & 7;
    if (field == 0) return false;
    if (field == kPartGroup && wire_type == kLengthDelimited) {
      std::string_view group;
      if (!reader.length_delimited(&group) || !valid_utf8(group)) return false;
      part->group.assign(group);
    } else if ((field == kPartIndex || field == kPartCount) && wire_type == kVarint) {
      uint64_t value;
      if (!reader.varint(&value)) return false;
      (field == kPartIndex ? part->index : part->count) = static_cast<uint32_t>(value);
    } else if (!reader.skip(wire_type)) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool decode_input(std::string_view bytes, std::string_view record_key, Task* task,
                  InputFields* fields) {
  task->id.clear();
  task->job_id.clear();
  task->key.clear();
  task->attempt = 0;
  task->content_type.clear();
  task->payload.clear();
  task->headers.clear();
  task->part.reset();
  task->tick = false;
  fields->correlation_id.clear();
  fields->submitted_at_unix_ms = 0;
  fields->deadline_unix_ms = 0;
  fields->not_before_unix_ms = 0;

  WireReader reader(bytes);
  while (!reader.done()) {
    uint32_t tag;
    if (!reader.tag(&tag)) return false;
    uint32_t field = tag >> 3, wire_type = tag & 7;
    if (field == 0) return false;
    // A known field with another wire type is, to protobuf, an unknown field.
    bool text_field = field <= kSourceStage || field == kContentType || field == kKey;
    if (wire_type == kLengthDelimited && field == kPart) {
      std::string_view value;
      if (!reader.length_delimited(&value)) return false;
      if (!task->part) task->part.emplace();
      if (!read_part(value, &*task->part)) return false;
    } else if (wire_type == kLengthDelimited &&
        (text_field || field == kPayload || field == kHeaders)) {
      std::string_view value;
      if (!reader.length_delimited(&value)) return false;
      if (text_field && !valid_utf8(value)) return false;
      switch (field) {
        case kJobId: task->job_id.assign(value); break;
        case kTaskId: task->id.assign(value); break;
        case kCorrelationId: fields->correlation_id.assign(value); break;
        case kContentType: task->content_type.assign(value); break;
        case kPayload: task->payload.assign(value); break;
        case kKey: task->key.assign(value); break;
        case kHeaders:
          if (!read_header(value, task)) return false;
          break;
        default: break;  // addressing: the worker knows its own
      }
    } else if (wire_type == kVarint &&
               (field == kAttempt || field == kNotBefore || field == kSubmittedAt ||
                field == kDeadline || field == kTick)) {
      uint64_t value;
      if (!reader.varint(&value)) return false;
      if (field == kTick) task->tick = value != 0;
      if (field == kAttempt) task->attempt = static_cast<uint32_t>(value);
      if (field == kSubmittedAt) fields->submitted_at_unix_ms = static_cast<int64_t>(value);
      if (field == kDeadline) fields->deadline_unix_ms = static_cast<int64_t>(value);
      if (field == kNotBefore) fields->not_before_unix_ms = static_cast<int64_t>(value);
    } else if (!reader.skip(wire_type)) {
      return false;  // errors, origin, unknown fields: skipped
    }
  }
  // Protobuf happily parses many foreign byte strings; an envelope always
  // names its job, so one without is not ours.
  if (task->job_id.empty()) return false;
  if (task->key.empty()) task->key.assign(record_key);
  if (task->attempt == 0) task->attempt = 1;
  return true;
}

}  // namespace sluice::engine
