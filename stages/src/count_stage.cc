// count: a per-key running count, kept in the stage's state (`state: true`).
// Each task adds one to its key's count and goes on with "count" set to the
// new value: the stateful example every test can check exactly (the n-th
// task of a key says n, under exactly_once even across crashes).
#include <charconv>
#include <cstdint>

#include "builtin_stages.h"
#include "sluice/stages/json_payload.h"

namespace sluice::stages {

namespace {

class CountStage final : public SyncStage {
 public:
  Status init(const StageContext& context) override {
    name_ = context.spec.name;
    if (!context.spec.state) {
      return usage_error("stage " + name_ +
                         ": builtin count keeps its counts in the stage's state; set "
                         "`state: true`");
    }
    return Status::ok();
  }

  Outcome process_sync(const Task& task) override {
    if (task.state == nullptr) {
      return Outcome::fail("no_state", "stage " + name_ + ": the worker gave no state");
    }
    // The payload's text is edited, not parsed into a value: this stage
    // runs at the rate of the state store (bench/README.md).
    if (!is_json_object_text(task.payload)) {
      return Outcome::fail("invalid_input", "stage " + name_ + ": payload is not a JSON object");
    }
    auto stored = task.state->get(kKeyStateName);
    if (!stored.is_ok()) return Outcome::retry("state", stored.status().message());
    int64_t count = 0;
    if (const std::optional<std::string>& text = *stored) {
      auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), count);
      if (error != std::errc() || end != text->data() + text->size()) {
        return Outcome::fail("bad_state", "stage " + name_ + ": the state of key " + task.key +
                                              " is not a count: " + text->substr(0, 100));
      }
    }
    ++count;
    if (Status s = task.state->put(kKeyStateName, std::to_string(count)); !s.is_ok()) {
      return Outcome::fail("state", s.message());
    }
    Outcome outcome;
    Output& out = outcome.outputs.emplace_back();
    out.payload = with_member_value(task.payload, "count", std::to_string(count));
    out.content_type = kJsonContentType;
    return outcome;
  }

 private:
  std::string name_;
};

}  // namespace

std::unique_ptr<Stage> make_count_stage() { return std::make_unique<CountStage>(); }

}  // namespace sluice::stages
