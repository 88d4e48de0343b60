#include "bearer_token.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sluice::ops {

Result<std::optional<std::string>> load_bearer_token(const std::optional<std::string>& file,
                                                     const char* env_name) {
  std::string token;
  std::string source;
  if (file) {
    std::ifstream in(*file);
    if (!in) return usage_error("--token-file " + *file + ": cannot read it");
    std::stringstream text;
    text << in.rdbuf();
    token = text.str();
    source = "--token-file " + *file;
  } else if (const char* value = std::getenv(env_name); value != nullptr) {
    token = value;
    source = std::string("$") + env_name;
  } else {
    return std::optional<std::string>();
  }
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty()) return usage_error(source + ": the token is empty");
  return std::optional<std::string>(std::move(token));
}

bool bearer_matches(const std::string* authorization, const std::string& token) {
  static const std::string kScheme = "Bearer ";
  if (authorization == nullptr || authorization->size() != kScheme.size() + token.size()) {
    return false;
  }
  unsigned char differ = 0;
  for (size_t i = 0; i < authorization->size(); ++i) {
    char expected = i < kScheme.size() ? kScheme[i] : token[i - kScheme.size()];
    differ |= static_cast<unsigned char>((*authorization)[i] ^ expected);
  }
  return differ == 0;
}

}  // namespace sluice::ops
