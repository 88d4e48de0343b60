// How `sluice tail` shows one record: a JSON object on one line with the
// record's place (topic, partition, offset), its envelope fields when it
// decoded, and its payload.
#pragma once

#include <string>

#include "sluice/topic_reader.h"

namespace sluice::ops {

std::string record_json_line(const TopicRecord& record);

}  // namespace sluice::ops
