#include "json_payload.h"

#include "sluice/stage.h"

#include <algorithm>
#include <cctype>

namespace sluice::stages {

namespace {

// Deepest nesting of arrays/objects in `text`, skipping string contents.
int max_nesting(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '[' || c == '{')
      deepest = std::max(deepest, ++depth);
    else if (c == ']' || c == '}')
      --depth;
  }
  return deepest;
}

}  // namespace

Result<nlohmann::json> parse_json(std::string_view text) {
  if (max_nesting(text) > kMaxJsonDepth) {
    return invalid_input("JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    return invalid_input(std::string("not JSON: ") + e.what());
  }
}

std::string dump_json(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool is_json_content_type(std::string_view content_type) {
  if (content_type == sluice::kJsonContentType) return true;  // the common case, per task
  std::string type(content_type.substr(0, content_type.find(';')));
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  type.erase(
      std::remove_if(type.begin(), type.end(), [](unsigned char c) { return std::isspace(c); }),
      type.end());
  if (type == "application/json") return true;
  return type.size() > 5 && type.compare(type.size() - 5, 5, "+json") == 0;
}

}  // namespace sluice::stages
