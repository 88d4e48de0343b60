#include "builtin_stages.h"
#include "sluice/stages/json_payload.h"

namespace sluice::stages {

Status JsonObjectStage::init(const StageContext& context) {
  stage_name_ = context.spec.name;
  return Status::ok();
}

Result<std::string*> JsonObjectStage::string_field(nlohmann::json& object,
                                                   const std::string& name) {
  auto field = object.find(name);
  if (field == object.end() || !field->is_string()) {
    return invalid_input("field \"" + name + "\" is missing or not a string");
  }
  return &field->get_ref<std::string&>();
}

Outcome JsonObjectStage::process_sync(const Task& task) {
  auto parsed = parse_json(task.payload);
  if (!parsed.is_ok()) {
    return Outcome::fail("invalid_input",
                         "stage " + stage_name_ + ": payload " + parsed.status().message());
  }
  nlohmann::json& object = parsed.value();
  if (!object.is_object()) {
    return Outcome::fail("invalid_input",
                         "stage " + stage_name_ + ": payload is not a JSON object");
  }
  const nlohmann::json before = object;
  Status st = transform(object);
  if (!st.is_ok()) {
    return Outcome::fail("invalid_input", "stage " + stage_name_ + ": " + st.message());
  }
  Outcome outcome;
  Output& out = outcome.outputs.emplace_back();
  // Only what the transform changed is re-serialised: the rest keeps the
  // job's bytes (big numbers, key order).
  out.payload = patch_object(task.payload, before, object);
  out.content_type = kJsonContentType;
  return outcome;
}

}  // namespace sluice::stages
