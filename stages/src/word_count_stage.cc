// word-count: a demo stage (`sluice demo`); counts the words of "text".
#include <cstdint>

#include "builtin_stages.h"

namespace sluice::stages {

namespace {

int64_t count_words(const std::string& text) {
  int64_t words = 0;
  bool in_word = false;
  for (unsigned char c : text) {
    // ASCII whitespace, whatever the process locale says.
    bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

class WordCountStage final : public JsonObjectStage {
 protected:
  Status transform(nlohmann::json& object) override {
    auto text = string_field(object, "text");
    if (!text.is_ok()) return text.status();
    object["words"] = count_words(**text);
    return Status::ok();
  }
};

}  // namespace

std::unique_ptr<Stage> make_word_count_stage() { return std::make_unique<WordCountStage>(); }

}  // namespace sluice::stages
