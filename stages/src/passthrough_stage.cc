// passthrough: the identity stage. Useful as a sink before <pipeline>.done
// and as the baseline in benchmarks, so it does no parsing at all.
#include "builtin_stages.h"

namespace sluice::stages {

namespace {

class PassthroughStage final : public SyncStage {
 public:
  void process_in_place(const Task& task, Outcome& outcome) override {
    // Key, destination, content type: as the input.
    outcome.outputs.emplace_back().payload = task.payload;
  }
  Outcome process_sync(const Task& task) override {
    Outcome outcome;
    process_in_place(task, outcome);
    return outcome;
  }
};

}  // namespace

std::unique_ptr<Stage> make_passthrough_stage() { return std::make_unique<PassthroughStage>(); }

}  // namespace sluice::stages
