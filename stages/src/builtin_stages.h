// The built-in stages shipped with Sluice, and the JSON-object base most of
// them share. Each built-in lives in its own file; standard_builtins() lists
// them for the registry, which registers them once, on first use.
//
//   passthrough  one output, payload and content type unchanged
//   tag          appends the stage's name to the array field "stages"
//   uppercase    uppercases the string field "text" (ASCII letters)
//   word-count   sets "words" to the number of whitespace-separated words in "text"
//   count        sets "count" to the running count of the task's key (state: true)
//   dedupe       drops a task whose identity passed within dedupe.window (state: true)
//   gather       joins the parts of a fan-out into one task (state: true)
//
// All are synchronous: process() completes before returning. All but count,
// dedupe and gather are stateless.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "sluice/stage.h"
#include "sluice/stages/registry.h"

namespace sluice::stages {

std::unique_ptr<Stage> make_passthrough_stage();
std::unique_ptr<Stage> make_tag_stage();
std::unique_ptr<Stage> make_uppercase_stage();
std::unique_ptr<Stage> make_word_count_stage();
std::unique_ptr<Stage> make_count_stage();
std::unique_ptr<Stage> make_dedupe_stage();
std::unique_ptr<Stage> make_gather_stage();

// The wall clock a stage reads (dedupe's windows); tests give their own.
using WallClock = std::function<std::chrono::system_clock::time_point()>;
std::unique_ptr<Stage> make_dedupe_stage_with_clock(WallClock clock);
std::unique_ptr<Stage> make_gather_stage_with_clock(WallClock clock);

// What a stateful builtin's task ends as when its state fails it: a dead
// letter when the task's writes are over the stage's bound (retrying cannot
// shrink them), else a retry (the store's trouble may pass).
inline Outcome state_failure(const Status& s) {
  if (s.code() == StatusCode::kInvalidInput) return Outcome::fail("state", s.message());
  return Outcome::retry("state", s.message());
}

// The seven above, by name.
std::vector<std::pair<std::string, StageFactory>> standard_builtins();

// A stage that edits a JSON object payload in place. A payload that is not
// a JSON object, or that transform() refuses, fails with kind
// "invalid_input" (dead-lettered: retrying cannot help). The one output is
// the edited object, content type application/json.
class JsonObjectStage : public SyncStage {
 public:
  Status init(const StageContext& context) override;
  Outcome process_sync(const Task& task) final;

 protected:
  // kInvalidInput with a short reason when the object cannot be handled.
  virtual Status transform(nlohmann::json& object) = 0;
  // The string field `name` of `object`, or kInvalidInput saying it is not one.
  static Result<std::string*> string_field(nlohmann::json& object, const std::string& name);
  const std::string& stage_name() const { return stage_name_; }

 private:
  std::string stage_name_;
};

}  // namespace sluice::stages
