#include "sluice/topics/env_expand.h"

#include <cstdlib>

namespace sluice::topics {

std::optional<std::string> process_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

bool is_env_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    bool ok = c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

Result<std::string> expand_env(std::string_view text, const EnvLookup& lookup) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool dollar_next = c == '$' && i + 1 < text.size();
    if (dollar_next && text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (!dollar_next || text[i + 1] != '{') {
      out += c;
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) return usage_error("unterminated ${ (a literal $ is $$)");
    std::string name(text.substr(i + 2, close - i - 2));
    if (!is_env_name(name)) return usage_error("'${" + name + "}': not a variable name");
    std::optional<std::string> value = lookup(name);
    if (!value) return usage_error("${" + name + "} is not set in the environment");
    out += *value;
    i = close;
  }
  return out;
}

}  // namespace sluice::topics
