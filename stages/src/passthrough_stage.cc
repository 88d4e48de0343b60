// passthrough: the identity stage. Useful as a sink before <pipeline>.done
// and as the baseline in benchmarks, so it does no parsing at all.
#include "builtin_stages.h"

namespace sluice::stages {

namespace {

class PassthroughStage final : public SyncStage {
 public:
  Outcome process_sync(const Task& task) override {
    Output out;
    out.payload = task.payload;  // key, destination, content type: as the input
    return Outcome::ok({std::move(out)});
  }
};

}  // namespace

std::unique_ptr<Stage> make_passthrough_stage() { return std::make_unique<PassthroughStage>(); }

}  // namespace sluice::stages
