#include "yaml_tree.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <exception>

namespace sluice::topics {
namespace {

constexpr int kMaxDepth = 64;
constexpr int kMaxNodes = 100000;

// yaml-cpp marks are 0-based and -1 when unknown (an empty document).
int line_of(const YAML::Mark& mark) { return std::max(mark.line, 0) + 1; }

Status yaml_error(const std::string& file, int line, const std::string& what) {
  return usage_error(file + ":" + std::to_string(line) + ": yaml: " + what);
}

std::string too_deep(const std::string& why) {
  return "nested too deeply (more than " + std::to_string(kMaxDepth) + " levels" + why + ")";
}

// yaml-cpp's parser can mark the end of the text, one line past the last.
int line_in(const std::string& text, const YAML::Mark& mark) {
  int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) +
              (text.empty() || text.back() == '\n' ? 0 : 1);
  return std::clamp(line_of(mark), 1, std::max(lines, 1));
}

// Copies a yaml-cpp node. yaml-cpp shares aliased nodes, so a copy can loop
// forever or grow exponentially; the depth and node budgets stop both.
class TreeCopier {
 public:
  explicit TreeCopier(const std::string& file) : file_(file) {}

  Status copy(const YAML::Node& from, YamlNode& to, int depth) {
    to.line = line_of(from.Mark());
    if (depth > kMaxDepth) {
      return yaml_error(file_, to.line, too_deep("; an alias inside itself?"));
    }
    if (++nodes_ > kMaxNodes) {
      return yaml_error(file_, to.line, "more than 100000 nodes once aliases are expanded");
    }
    switch (from.Type()) {
      case YAML::NodeType::Scalar:
        to.kind = YamlNode::Kind::kScalar;
        to.text = from.Scalar();
        return Status::ok();
      case YAML::NodeType::Sequence: return copy_sequence(from, to, depth);
      case YAML::NodeType::Map: return copy_map(from, to, depth);
      default: to.kind = YamlNode::Kind::kNull; return Status::ok();
    }
  }

 private:
  Status copy_sequence(const YAML::Node& from, YamlNode& to, int depth) {
    to.kind = YamlNode::Kind::kSequence;
    for (const YAML::Node& item : from) {
      Status s = copy(item, to.items.emplace_back(), depth + 1);
      if (!s.is_ok()) return s;
    }
    return Status::ok();
  }

  Status copy_map(const YAML::Node& from, YamlNode& to, int depth) {
    to.kind = YamlNode::Kind::kMap;
    for (const auto& kv : from) {
      YamlEntry& entry = to.entries.emplace_back();
      entry.line = line_of(kv.first.Mark());
      if (!kv.first.IsScalar()) return yaml_error(file_, entry.line, "keys must be plain strings");
      entry.key = kv.first.Scalar();
      Status s = copy(kv.second, entry.value, depth + 1);
      if (!s.is_ok()) return s;
    }
    return Status::ok();
  }

  const std::string& file_;
  int nodes_ = 0;
};

}  // namespace

const char* yaml_kind_name(YamlNode::Kind kind) {
  switch (kind) {
    case YamlNode::Kind::kNull: return "nothing";
    case YamlNode::Kind::kScalar: return "a single value";
    case YamlNode::Kind::kSequence: return "a list";
    case YamlNode::Kind::kMap: return "a map";
  }
  return "something else";
}

Result<YamlNode> parse_yaml(const std::string& text, const std::string& file) {
  // The only call into yaml-cpp: its exceptions stop here.
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(text);
    if (docs.size() > 1) {
      return yaml_error(file, line_of(docs[1].Mark()), "expected one document, found " +
                                                            std::to_string(docs.size()));
    }
    YamlNode root;
    if (docs.empty()) return root;
    Status s = TreeCopier(file).copy(docs.front(), root, 0);
    if (!s.is_ok()) return s;
    return root;
  } catch (const YAML::DeepRecursion& e) {
    // Its message is only "bad file". Our own limit is far lower, so this is
    // the same refusal as TreeCopier's, reached before the tree exists.
    return yaml_error(file, line_in(text, e.mark), too_deep(""));
  } catch (const YAML::Exception& e) {
    return yaml_error(file, line_in(text, e.mark), e.msg);
  } catch (const std::exception& e) {
    return yaml_error(file, 1, e.what());
  }
}

}  // namespace sluice::topics
