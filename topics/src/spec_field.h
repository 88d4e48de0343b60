// One field of a spec being read, and the typed readers that check it.
//
// A Field is a view into a YamlNode tree plus what an error message needs:
// the file, the field's path ("stages[1].retry.backoff") and the line of its
// key. Every reader returns a kUsage Status worded "FILE:LINE: PATH: what".
// Fields point into the tree they were made from; they live only while the
// spec is being read.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/status.h"
#include "sluice/topics/spec.h"
#include "yaml_tree.h"

namespace sluice::topics {

// 'text', for naming values in error messages.
std::string quoted(const std::string& text);

struct Field {
  const std::string* file;
  std::string path;  // empty for the document root
  const YamlNode* node;
  int line;

  static Field root(const std::string& file, const YamlNode& node);
  Field entry(const YamlEntry& e) const;  // a key of this map
  Field item(size_t index) const;         // an element of this list
  // First entry with that key, or nullptr.
  const YamlEntry* find(std::string_view key) const;

  Status error(const std::string& what) const;
  // A required key of this map is absent: blamed on the map's own line.
  Status missing(std::string_view key, const std::string& why) const;
};

// "FILE:LINE: FIELD: what", kUsage: the one shape of every spec error.
Status spec_error(const std::string& file, int line, const std::string& field,
                  const std::string& what);

// Refuses anything but a map, and keys given twice. A null node (`kafka:`
// with nothing after it) counts as an empty map.
Status expect_map(const Field& f);
// expect_map(), and refuses keys not in `known` with a "did you mean" hint.
Status check_map(const Field& f, std::span<const std::string_view> known);

// Any scalar, possibly empty.
Result<std::string> read_scalar(const Field& f);
// A non-empty scalar.
Result<std::string> read_string(const Field& f);
// A decimal integer in [lo, hi].
Result<int64_t> read_int(const Field& f, int64_t lo, int64_t hi);
Result<bool> read_bool(const Field& f);
// One of `choices` (exact spelling): its index. Else "expected a, b or c,
// got 'x'" with a "did you mean" hint.
Result<size_t> read_choice(const Field& f, std::span<const std::string_view> choices);
// A percentage in [1, 100], written `50` or `50%`.
Result<int> read_percent(const Field& f);
// parse_duration(), at least `min`.
Result<Millis> read_duration(const Field& f, Millis min);
// A pipeline or stage name: [a-z0-9-]+, at most kMaxNameLength bytes.
Result<std::string> read_name(const Field& f);
// Any scalar, after ${VAR} substitution (sluice/topics/env_expand.h).
Result<std::string> read_expanded(const Field& f);
// A list of non-empty scalars; a null node is an empty list.
Result<std::vector<std::string>> read_string_list(const Field& f);

}  // namespace sluice::topics
