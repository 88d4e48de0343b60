// The one place that parses JSON payloads (nlohmann::json): payloads of
// tasks, lines from exec children, jobs given to `sluice submit`, records
// shown by `sluice tail`. Never throws; refuses input nested deeper than
// kMaxJsonDepth, because serialising such a value again would recurse
// without bound.
//
// A payload is validated, then carried as its own bytes: re-serialising a
// parsed value rewrites it (big integers become doubles, key order and
// spacing change). Where a value must change, the helpers below rewrite
// only what changed. Pure functions, any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/status.h"

namespace sluice::stages {

inline constexpr int kMaxJsonDepth = 256;

// The parsed value, or a kInvalidInput Status whose message says why not.
Result<nlohmann::json> parse_json(std::string_view text);

// True when `text` is a JSON object (nested at most kMaxJsonDepth): a
// validation that builds no value, for stages that edit the text itself.
bool is_json_object_text(std::string_view text);

// `object`, the text of a JSON object, with the value of member `name` (each
// member of that name) replaced by `raw`, valid JSON text; with `"name":raw`
// as its last member when it has none. Everything else keeps its bytes.
std::string with_member_value(std::string_view object, std::string_view name,
                              std::string_view raw);

// Compact serialisation; invalid UTF-8 in strings is replaced, not thrown on.
std::string dump_json(const nlohmann::json& value);

// `object`, the text of a JSON object, with `"name":raw` as its last member.
// `raw` is valid JSON text (parse_json accepted it), embedded as it is but
// for its line breaks, which become spaces (the result stays one line), and
// a leading byte order mark, which is dropped.
std::string with_raw_member(std::string_view object, std::string_view name,
                            std::string_view raw);

// A top-level member of a JSON object's text: its name, decoded, and its
// value as the span of the text that holds it.
struct JsonMember {
  std::string name;
  std::string_view value;
};
// The members of `object`, valid JSON text, in their order (duplicates
// included); nullopt when it is not an object.
std::optional<std::vector<JsonMember>> object_members(std::string_view object);

// The elements of `array`, valid JSON text, as spans of it; nullopt when it
// is not an array.
std::optional<std::vector<std::string_view>> array_elements(std::string_view array);

// The value of the member `name` (the last, as parsers take it) of
// `object`, valid JSON text; nullopt when there is none.
std::optional<std::string_view> member_value(std::string_view object, std::string_view name);

// `object`, the text of a JSON object that parsed as `before`, rewritten to
// hold `after`: members whose value changed get the new one, new members
// go at the end, and everything else keeps its bytes. Falls back to
// dump_json(after) when a member was removed or a name is duplicated.
std::string patch_object(std::string_view object, const nlohmann::json& before,
                         const nlohmann::json& after);

}  // namespace sluice::stages
