#include <limits>

#include "spec_field.h"

#include <charconv>
#include <optional>
#include <unordered_map>

#include "sluice/topics/env_expand.h"
#include "sluice/topics/names.h"
#include "sluice/topics/suggest.h"

namespace sluice::topics {

std::string quoted(const std::string& text) { return "'" + text + "'"; }

namespace {

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

Status expect_kind(const Field& f, YamlNode::Kind kind) {
  if (f.node->kind == kind) return Status::ok();
  return f.error(std::string("expected ") + yaml_kind_name(kind) + ", got " +
                 yaml_kind_name(f.node->kind));
}

Status check_key(const Field& f, const YamlEntry& e,
                 std::span<const std::string_view> known) {
  for (std::string_view k : known) {
    if (e.key == k) return Status::ok();
  }
  return f.entry(e).error("unknown field" + did_you_mean(e.key, known));
}

// A whole decimal number; `overflow` when it is past int64_t's range.
struct Decimal {
  int64_t value = 0;
  bool overflow = false;
  bool in(int64_t lo, int64_t hi) const { return !overflow && value >= lo && value <= hi; }
};

// nullopt: not a whole decimal number at all.
std::optional<Decimal> parse_decimal(std::string_view text) {
  Decimal d;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d.value);
  bool whole = ec != std::errc::invalid_argument && end == text.data() + text.size();
  if (!whole || text.empty()) return std::nullopt;
  d.overflow = ec == std::errc::result_out_of_range;
  return d;
}

// Hashing, not pairwise: a map may hold tens of thousands of keys.
Status check_unique(const Field& f) {
  std::unordered_map<std::string_view, int> first_line;
  for (const YamlEntry& e : f.node->entries) {
    auto [it, fresh] = first_line.emplace(e.key, e.line);
    if (!fresh) {
      return f.entry(e).error("given twice (also on line " + std::to_string(it->second) + ")");
    }
  }
  return Status::ok();
}

}  // namespace

Field Field::root(const std::string& file, const YamlNode& node) {
  return Field{&file, "", &node, node.line};
}

Field Field::entry(const YamlEntry& e) const {
  return Field{file, join(path, e.key), &e.value, e.line};
}

Field Field::item(size_t index) const {
  const YamlNode& n = node->items[index];
  return Field{file, path + "[" + std::to_string(index) + "]", &n, n.line};
}

const YamlEntry* Field::find(std::string_view key) const {
  for (const YamlEntry& e : node->entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

Status Field::error(const std::string& what) const {
  return spec_error(*file, line, path.empty() ? "spec" : path, what);
}

Status Field::missing(std::string_view key, const std::string& why) const {
  Field absent{file, join(path, key), node, line};
  return absent.error("missing: " + why);
}

Status spec_error(const std::string& file, int line, const std::string& field,
                  const std::string& what) {
  return usage_error(file + ":" + std::to_string(line) + ": " + field + ": " + what);
}

Status expect_map(const Field& f) {
  if (f.node->kind == YamlNode::Kind::kNull) return Status::ok();
  Status s = expect_kind(f, YamlNode::Kind::kMap);
  return s.is_ok() ? check_unique(f) : s;
}

Status check_map(const Field& f, std::span<const std::string_view> known) {
  Status s = expect_map(f);
  for (size_t i = 0; s.is_ok() && i < f.node->entries.size(); ++i) {
    s = check_key(f, f.node->entries[i], known);
  }
  return s;
}

Result<std::string> read_scalar(const Field& f) {
  Status s = expect_kind(f, YamlNode::Kind::kScalar);
  if (!s.is_ok()) return s;
  return f.node->text;
}

Result<std::string> read_expanded(const Field& f) {
  Result<std::string> text = read_scalar(f);
  if (!text.is_ok()) return text;
  Result<std::string> expanded = expand_env(*text);
  if (!expanded.is_ok()) return f.error(expanded.status().message());
  return expanded;
}

Result<std::string> read_string(const Field& f) {
  Result<std::string> text = read_scalar(f);
  if (text.is_ok() && text->empty()) return f.error("must not be empty");
  return text;
}

Result<int64_t> read_int(const Field& f, int64_t lo, int64_t hi) {
  Status s = expect_kind(f, YamlNode::Kind::kScalar);
  if (!s.is_ok()) return s;
  const std::string& text = f.node->text;
  std::optional<Decimal> d = parse_decimal(text);
  if (!d) return f.error("expected an integer, got " + quoted(text));
  if (!d->in(lo, hi)) {
    if (hi == std::numeric_limits<int64_t>::max()) {
      return f.error("must be at least " + std::to_string(lo) + ", got " + text);
    }
    return f.error("must be between " + std::to_string(lo) + " and " +
                   std::to_string(hi) + ", got " + text);
  }
  return d->value;
}

Result<int> read_percent(const Field& f) {
  Status s = expect_kind(f, YamlNode::Kind::kScalar);
  if (!s.is_ok()) return s;
  const std::string& text = f.node->text;
  std::string_view digits = text;
  if (digits.ends_with('%')) digits.remove_suffix(1);
  std::optional<Decimal> d = parse_decimal(digits);
  if (!d) return f.error("expected a percentage (50 or 50%), got " + quoted(text));
  if (!d->in(1, 100)) return f.error("must be between 1% and 100%, got " + quoted(text));
  return static_cast<int>(d->value);
}

Result<size_t> read_choice(const Field& f, std::span<const std::string_view> choices) {
  Result<std::string> text = read_string(f);
  if (!text.is_ok()) return text.status();
  std::string expected;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (*text == choices[i]) return i;
    const char* separator = i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ";
    expected += separator + std::string(choices[i]);
  }
  return f.error("expected " + expected + ", got " + quoted(*text) +
                 did_you_mean(*text, choices));
}

Result<bool> read_bool(const Field& f) {
  Status s = expect_kind(f, YamlNode::Kind::kScalar);
  if (!s.is_ok()) return s;
  // The YAML 1.2 core schema spellings; yes/no/on/off are YAML 1.1 traps.
  const std::string& t = f.node->text;
  if (t == "true" || t == "True" || t == "TRUE") return true;
  if (t == "false" || t == "False" || t == "FALSE") return false;
  return f.error("expected true or false, got " + quoted(t));
}

Result<Millis> read_duration(const Field& f, Millis min) {
  Result<std::string> text = read_string(f);
  if (!text.is_ok()) return text.status();
  Result<Millis> d = parse_duration(*text);
  if (!d.is_ok()) return f.error(d.status().message());
  if (*d < min) return f.error("must be at least " + format_duration(min) + ", got " + *text);
  return d;
}

Result<std::string> read_name(const Field& f) {
  Result<std::string> name = read_string(f);
  if (!name.is_ok()) return name;
  if (name->size() > kMaxNameLength) {
    return f.error("longer than " + std::to_string(kMaxNameLength) + " characters");
  }
  if (!is_valid_name(*name)) {
    return f.error(quoted(*name) + " must match [a-z0-9-]+ ('_' and '.' collide in "
                   "Kafka metric names)");
  }
  return name;
}

Result<std::vector<std::string>> read_string_list(const Field& f) {
  std::vector<std::string> out;
  if (f.node->kind == YamlNode::Kind::kNull) return out;
  Status s = expect_kind(f, YamlNode::Kind::kSequence);
  if (!s.is_ok()) return s;
  for (size_t i = 0; i < f.node->items.size(); ++i) {
    Result<std::string> item = read_string(f.item(i));
    if (!item.is_ok()) return item.status();
    out.push_back(std::move(item).value());
  }
  return out;
}

}  // namespace sluice::topics
