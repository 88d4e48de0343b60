// uppercase: a demo stage (`sluice demo`); uppercases the "text" field.
// ASCII only: bytes of multi-byte UTF-8 sequences are left as they are.
#include "builtin_stages.h"

namespace sluice::stages {

namespace {

class UppercaseStage final : public JsonObjectStage {
 protected:
  Status transform(nlohmann::json& object) override {
    auto text = string_field(object, "text");
    if (!text.is_ok()) return text.status();
    for (char& c : **text) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');  // locale-independent
    }
    return Status::ok();
  }
};

}  // namespace

std::unique_ptr<Stage> make_uppercase_stage() { return std::make_unique<UppercaseStage>(); }

}  // namespace sluice::stages
