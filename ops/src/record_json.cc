#include "record_json.h"

#include <nlohmann/json.hpp>

#include "sluice/stage.h"
#include "sluice/stages/base64.h"
#include "sluice/stages/json_payload.h"
#include "sluice/topics/rfc3339.h"
#include "sluice/topics/utf8.h"

namespace sluice::ops {
namespace {

nlohmann::json to_json(const TopicRecord& r) {
  nlohmann::json out = {{"topic", r.topic}, {"partition", r.partition}, {"offset", r.offset},
                        {"timestamp_unix_ms", r.timestamp_unix_ms}, {"decoded", r.decoded}, {"key", r.decoded ? r.key : r.record_key}};
  if (r.decoded) {
    out.update({{"job_id", r.job_id}, {"task_id", r.task_id}, {"parent_task_id", r.parent_task_id},
                {"source_stage", r.source_stage}, {"destination_stage", r.destination_stage},
                {"attempt", r.attempt}, {"submitted_at_unix_ms", r.submitted_at_unix_ms},
                {"content_type", r.content_type}, {"headers", r.headers}});
    if (r.deadline_unix_ms != 0) out["deadline"] = topics::format_rfc3339(r.deadline_unix_ms);
  }
  if (!r.errors.empty()) {
    nlohmann::json errors = nlohmann::json::array();
    for (const ErrorEntry& e : r.errors) {
      errors.push_back({{"stage", e.stage}, {"attempt", e.attempt}, {"kind", e.kind},
                        {"message", e.message}, {"time_unix_ms", e.time_unix_ms}});
    }
    out["errors"] = errors;
  }
  if (!r.origin_topic.empty()) {
    out["origin"] = {{"topic", r.origin_topic}, {"partition", r.origin_partition},
                     {"offset", r.origin_offset}};
  }
  return out;
}

}  // namespace

// A JSON payload is shown as the JSON it is, its bytes as they are (a
// parsed and re-serialised value would show big integers as doubles).
// Anything else, and JSON nested too deep to parse safely, is shown as a
// string when it is UTF-8 text, else as "payload_base64": a string must not
// stand for bytes it does not hold (invalid UTF-8 became U+FFFD).
std::string json_line_with_payload(nlohmann::json line, const std::string& content_type,
                                   const std::string& payload) {
  if (is_json_content_type(content_type) && stages::parse_json(payload).is_ok()) {
    return stages::with_raw_member(stages::dump_json(line), "payload", payload);
  }
  if (topics::valid_utf8(payload)) {
    line["payload"] = payload;
  } else {
    line["payload_base64"] = stages::base64_encode(payload);
  }
  return stages::dump_json(line);
}

std::string record_json_line(const TopicRecord& record) {
  return json_line_with_payload(to_json(record), record.content_type, record.payload);
}

}  // namespace sluice::ops
