// StageHarness: runs one stage the way a worker would, with no Kafka.
//
// Modelled on Kafka Streams' TopologyTestDriver: a test hands the harness a
// stage and its spec, calls init(), feeds tasks and gets back each task's
// Outcome (outputs, retry or dead letter), then close(). Like the worker,
// the harness calls a SyncStage in place (process_in_place), maps an
// exception from the stage to a retry outcome, accepts
// `done` from any thread (also before process() returns), and fails the
// test when a stage calls `done` twice for one task.
//
// Lifecycle: construct, init(), run() or submit()+wait() any number of
// times, close(); the destructor closes a stage the test did not. All calls
// come from the test thread. The harness owns the stage; a completion the
// stage delivers late (after a timed-out wait, even after the harness is
// gone) is safe.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "sluice/stage.h"
#include "sluice/status.h"
#include "sluice/topics/spec.h"

namespace sluice::testing {

// A first-attempt JSON task with a fresh task id and job id.
inline Task json_task(std::string json, std::string key = "key") {
  static std::atomic<int> counter{0};
  int n = ++counter;
  Task task;
  task.id = "task-" + std::to_string(n);
  task.job_id = "job-" + std::to_string(n);
  task.key = std::move(key);
  task.content_type = kJsonContentType;
  task.payload = std::move(json);
  return task;
}

struct HarnessOptions {
  std::string pipeline = "test";
  // How long wait() gives a task to complete before reporting kTransient.
  std::chrono::milliseconds deadline{5000};
};

class StageHarness {
 public:
  using Ticket = size_t;

  StageHarness(std::unique_ptr<Stage> stage, topics::StageSpec spec,
               HarnessOptions options = {})
      : stage_(std::move(stage)),
        spec_(std::move(spec)),
        options_(std::move(options)),
        shared_(std::make_shared<Shared>()) {}

  ~StageHarness() {
    if (initialized_ && !closed_) (void)close();
  }
  StageHarness(const StageHarness&) = delete;
  StageHarness& operator=(const StageHarness&) = delete;

  Status init() {
    Status status = stage_->init(StageContext{options_.pipeline, spec_});
    initialized_ = status.is_ok();
    return status;
  }

  // Hands `task` to the stage; its outcome is collected with wait().
  Ticket submit(Task task) {
    if (!initialized_ || closed_) ADD_FAILURE() << "StageHarness: submit() outside init()..close()";
    Ticket ticket;
    {
      std::lock_guard lock(shared_->mutex);
      ticket = shared_->outcomes.size();
      shared_->outcomes.emplace_back();
    }
    std::shared_ptr<Shared> shared = shared_;
    Completion done = [shared, ticket](Outcome outcome) {
      shared->complete(ticket, std::move(outcome));
    };
    // The worker's guard: a throwing stage means "retry this task".
    try {
      if (auto* sync = dynamic_cast<SyncStage*>(stage_.get())) {
        run_in_place(*sync, task, done);
      } else {
        stage_->process(std::move(task), done);
      }
    } catch (const std::exception& e) {
      done(Outcome::retry("exception", e.what()));
    } catch (...) {
      done(Outcome::retry("exception", "unknown exception"));
    }
    return ticket;
  }

  // The outcome of `ticket`; kTransient if it did not complete in time.
  Result<Outcome> wait(Ticket ticket) {
    std::unique_lock lock(shared_->mutex);
    auto& slot = shared_->outcomes.at(ticket);
    bool completed = shared_->changed.wait_for(lock, options_.deadline,
                                               [&] { return slot.has_value(); });
    if (!completed) {
      return transient_error("task " + std::to_string(ticket) + " did not complete within " +
                             std::to_string(options_.deadline.count()) + "ms");
    }
    return *slot;
  }

  Result<Outcome> run(Task task) { return wait(submit(std::move(task))); }

  Status close() {
    closed_ = true;
    return stage_->close();
  }

 private:
  // As the worker calls a synchronous stage: in place, into an outcome
  // reused from the task before (reset to ok, no outputs).
  void run_in_place(SyncStage& stage, const Task& task, const Completion& done) {
    reused_.clear();
    stage.process_in_place(task, reused_);
    done(reused_);
  }

  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<std::optional<Outcome>> outcomes;  // by ticket; stable references

    void complete(Ticket ticket, Outcome outcome) {
      {
        std::lock_guard lock(mutex);
        std::optional<Outcome>& slot = outcomes.at(ticket);
        if (slot.has_value()) {
          ADD_FAILURE() << "StageHarness: stage called done more than once for task "
                        << ticket;
          return;
        }
        slot = std::move(outcome);
      }
      changed.notify_all();
    }
  };

  std::unique_ptr<Stage> stage_;
  topics::StageSpec spec_;
  HarnessOptions options_;
  std::shared_ptr<Shared> shared_;
  Outcome reused_;
  bool initialized_ = false;
  bool closed_ = false;
};

}  // namespace sluice::testing
