#include "state_json.h"

#include <nlohmann/json.hpp>

#include "sluice/stages/base64.h"
#include "sluice/stages/json_payload.h"
#include "sluice/topics/utf8.h"

namespace sluice::ops {
namespace {

// `bytes` as line[field], or as base64 with line[encoding_field] = "base64"
// when they are not UTF-8: a string must not stand for bytes it does not hold.
void put_bytes(nlohmann::json& line, const std::string& field, const std::string& encoding_field,
               const std::string& bytes) {
  if (topics::valid_utf8(bytes)) {
    line[field] = bytes;
    return;
  }
  line[field] = stages::base64_encode(bytes);
  line[encoding_field] = "base64";
}

// `line` as text with "value" last: JSON as stored (a parsed and
// re-serialised value would show big integers as doubles), else put_bytes.
std::string with_value(nlohmann::json line, const std::string& value) {
  if (stages::parse_json(value).is_ok()) {
    return stages::with_raw_member(stages::dump_json(line), "value", value);
  }
  put_bytes(line, "value", "encoding", value);
  return stages::dump_json(line);
}

nlohmann::json key_and_name(const ChangelogKey& key) {
  nlohmann::json line = nlohmann::json::object();
  if (key.scope == StageState::Scope::kKey) put_bytes(line, "key", "key_encoding", key.task_key);
  put_bytes(line, "name", "name_encoding", key.name);
  return line;
}

}  // namespace

std::string state_dump_line(const StateEntry& entry) {
  nlohmann::json line = key_and_name(entry.key);
  line["partition"] = entry.partition;
  line["scope"] = entry.key.scope == StageState::Scope::kKey ? "key" : "partition";
  return with_value(std::move(line), entry.value);
}

std::string state_get_json(const StateEntry& entry) {
  nlohmann::json line = key_and_name(entry.key);
  line["partition"] = entry.partition;
  line["offset"] = entry.offset;
  return with_value(std::move(line), entry.value);
}

}  // namespace sluice::ops
