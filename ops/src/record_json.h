// How `sluice tail` shows one record: a JSON object on one line with the
// record's place (topic, partition, offset), its envelope fields when it
// decoded, and its payload: "payload" (JSON as stored, or UTF-8 text as a
// string) or "payload_base64" (any other bytes).
#pragma once

#include <string>

#include "sluice/topic_reader.h"

namespace sluice::ops {

std::string record_json_line(const TopicRecord& record);

}  // namespace sluice::ops
