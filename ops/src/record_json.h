// How `sluice tail` shows one record: a JSON object on one line with the
// record's place (topic, partition, offset), its envelope fields when it
// decoded, and its payload: "payload" (JSON as stored, or UTF-8 text as a
// string) or "payload_base64" (any other bytes).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "sluice/topic_reader.h"

namespace sluice::ops {

std::string record_json_line(const TopicRecord& record);

// `line`, a JSON object, as one line of text with the payload added the way
// `tail` shows it ("payload" or "payload_base64"); `sluice dlq list` too.
std::string json_line_with_payload(nlohmann::json line, const std::string& content_type,
                                   const std::string& payload);

}  // namespace sluice::ops
