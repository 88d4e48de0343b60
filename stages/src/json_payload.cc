#include "sluice/stages/json_payload.h"

#include <algorithm>
#include <set>

#include "sluice/stage.h"

namespace sluice::stages {

namespace {

constexpr size_t kNone = std::string_view::npos;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t skip_space(std::string_view text, size_t i) {
  while (i < text.size() && is_space(text[i])) ++i;
  return i;
}

// `text[i]` opens a string: the index just past its closing quote.
size_t string_end(std::string_view text, size_t i) {
  for (++i; i < text.size(); ++i) {
    if (text[i] == '\\')
      ++i;
    else if (text[i] == '"')
      return i + 1;
  }
  return kNone;
}

// The value starting at `text[i]` ends before the ',' or '}' found here.
size_t value_end(std::string_view text, size_t i) {
  int depth = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '"') {
      i = string_end(text, i);
      if (i == kNone) return kNone;
      continue;
    }
    if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      if (depth == 0) return i;
      --depth;
    } else if (c == ',' && depth == 0) {
      return i;
    }
    ++i;
  }
  return kNone;
}

// Deepest nesting of arrays/objects in `text`, skipping string contents.
int max_nesting(std::string_view text) {
  int depth = 0, deepest = 0;
  for (size_t i = 0; i < text.size();) {  // string_end() may give kNone: past the end
    char c = text[i];
    if (c == '"') {
      i = string_end(text, i);
      continue;
    }
    if (c == '[' || c == '{')
      deepest = std::max(deepest, ++depth);
    else if (c == ']' || c == '}')
      --depth;
    ++i;
  }
  return deepest;
}

std::string one_line(std::string_view raw) {
  // A byte order mark, which the parser skips, is no part of the value.
  if (raw.substr(0, 3) == "\xEF\xBB\xBF") raw.remove_prefix(3);
  std::string line(raw);
  // Valid JSON has no raw line break inside a string: these are whitespace.
  std::replace_if(line.begin(), line.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return line;
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

bool is_json_object_text(std::string_view text) {
  size_t first = text.find_first_not_of(" \t\n\r");
  if (first == std::string_view::npos || text[first] != '{') return false;
  return max_nesting(text) <= kMaxJsonDepth && nlohmann::json::accept(text.begin(), text.end());
}

std::string with_member_value(std::string_view object, std::string_view name,
                              std::string_view raw) {
  auto members = object_members(object);
  if (!members) return std::string(object);
  std::string out;
  size_t copied = 0;  // object[0, copied) is in `out` already
  for (const JsonMember& member : *members) {
    if (member.name != name) continue;
    size_t at = static_cast<size_t>(member.value.data() - object.data());
    out.append(object.substr(copied, at - copied)).append(raw);
    copied = at + member.value.size();
  }
  if (copied == 0) return with_raw_member(object, name, raw);
  return out.append(object.substr(copied));
}

std::string dump_json(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string with_raw_member(std::string_view object, std::string_view name,
                            std::string_view raw) {
  size_t close = object.rfind('}');
  std::string_view head = object.substr(0, close);
  bool empty = head.find_last_not_of(" \t\n\r") == head.find('{');
  std::string out(head);
  if (!empty) out += ',';
  out += dump_json(std::string(name)) + ':' + one_line(raw) + '}';
  return out;
}

std::optional<std::vector<JsonMember>> object_members(std::string_view object) {
  size_t i = skip_space(object, 0);
  if (i == object.size() || object[i] != '{') return std::nullopt;
  std::vector<JsonMember> members;
  i = skip_space(object, i + 1);
  while (i < object.size() && object[i] == '"') {
    size_t name_end = string_end(object, i);
    if (name_end == kNone) return std::nullopt;
    auto name = nlohmann::json::parse(object.substr(i, name_end - i), nullptr, false);
    if (!name.is_string()) return std::nullopt;
    size_t begin = skip_space(object, skip_space(object, name_end) + 1);  // past ':'
    size_t end = value_end(object, begin);
    if (end == kNone) return std::nullopt;
    std::string_view value = object.substr(begin, end - begin);
    value = value.substr(0, value.find_last_not_of(" \t\n\r") + 1);
    members.push_back({name.get<std::string>(), value});
    i = object[end] == ',' ? skip_space(object, end + 1) : end;
  }
  return members;
}

std::optional<std::vector<std::string_view>> array_elements(std::string_view array) {
  size_t i = skip_space(array, 0);
  if (i == array.size() || array[i] != '[') return std::nullopt;
  std::vector<std::string_view> elements;
  i = skip_space(array, i + 1);
  while (i < array.size() && array[i] != ']') {
    size_t end = value_end(array, i);
    if (end == kNone) return std::nullopt;
    std::string_view value = array.substr(i, end - i);
    elements.push_back(value.substr(0, value.find_last_not_of(" \t\n\r") + 1));
    i = array[end] == ',' ? skip_space(array, end + 1) : end;
  }
  return elements;
}

std::optional<std::string_view> member_value(std::string_view object, std::string_view name) {
  auto members = object_members(object);
  if (!members) return std::nullopt;
  std::optional<std::string_view> value;
  for (const JsonMember& member : *members) {
    if (member.name == name) value = member.value;
  }
  return value;
}

std::string patch_object(std::string_view object, const nlohmann::json& before,
                         const nlohmann::json& after) {
  auto members = object_members(object);
  if (!members || !after.is_object()) return dump_json(after);
  std::set<std::string> names;
  std::string out;
  size_t copied = 0;  // object[0, copied) is in `out` already
  for (const JsonMember& member : *members) {
    if (!names.insert(member.name).second || !after.contains(member.name)) {
      return dump_json(after);
    }
    const nlohmann::json& now = after.at(member.name);
    if (now == before.at(member.name)) continue;
    size_t at = static_cast<size_t>(member.value.data() - object.data());
    out.append(object.substr(copied, at - copied)).append(dump_json(now));
    copied = at + member.value.size();
  }
  out.append(object.substr(copied));
  for (const auto& [name, value] : after.items()) {
    if (names.count(name) == 0) out = with_raw_member(out, name, dump_json(value));
  }
  return out;
}

}  // namespace sluice::stages
