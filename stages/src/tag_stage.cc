// tag: records that a job went through this stage, by appending the stage's
// name to the payload's "stages" array. The integration tests check the
// transformation end to end with it.
#include "builtin_stages.h"

namespace sluice::stages {

namespace {

class TagStage final : public JsonObjectStage {
 protected:
  Status transform(nlohmann::json& object) override {
    nlohmann::json& stages = object["stages"];  // creates null when absent
    if (stages.is_null()) stages = nlohmann::json::array();
    if (!stages.is_array()) return invalid_input("field \"stages\" is not an array");
    stages.push_back(stage_name());
    return Status::ok();
  }
};

}  // namespace

std::unique_ptr<Stage> make_tag_stage() { return std::make_unique<TagStage>(); }

}  // namespace sluice::stages
