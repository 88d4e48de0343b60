// A plain, owned copy of a YAML document, with 1-based line numbers.
//
// parse_yaml() is the one place that calls yaml-cpp: it parses the text and
// copies the result into these structs, turning every yaml-cpp exception into
// a kUsage Status ("FILE:LINE: yaml: message"). Everything that reads the spec
// then walks this tree, which cannot throw and keeps yaml-cpp out of the rest
// of the code. Internal to sluice::topics; plain values, no thread concerns.
#pragma once

#include <string>
#include <vector>

#include "sluice/status.h"

namespace sluice::topics {

struct YamlEntry;

struct YamlNode {
  enum class Kind { kNull, kScalar, kSequence, kMap };

  Kind kind = Kind::kNull;
  int line = 1;                    // 1-based
  std::string text;                // kScalar: the scalar as written, unquoted
  std::vector<YamlNode> items;     // kSequence
  std::vector<YamlEntry> entries;  // kMap, in file order, duplicates kept
};

struct YamlEntry {
  std::string key;
  int line = 1;  // the key's line: where a user looks for the field
  YamlNode value;
};

// "a map", "a list", ...: for messages such as "expected a map, got a list".
const char* yaml_kind_name(YamlNode::Kind kind);

// Parses exactly one YAML document. Aliases are expanded; a document that
// nests deeper than 64 levels or expands to more than 100,000 nodes is
// refused (a self-referencing alias or an alias bomb, not a pipeline).
Result<YamlNode> parse_yaml(const std::string& text, const std::string& file);

}  // namespace sluice::topics
