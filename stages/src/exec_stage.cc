#include "exec_stage.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "child_environment.h"
#include "program_path.h"

extern char** environ;

namespace sluice::stages {

namespace {

// Durations in messages, spelled as in specs.
std::string ms(std::chrono::milliseconds d) { return topics::format_duration(d); }

}  // namespace

Result<std::string> find_stage_program(const topics::StageSpec& spec) {
  return find_program(spec.command.at(0), spec.workdir,
                      path_list_of(child_environment(spec, environ)));
}

std::unique_ptr<Stage> make_exec_stage(const topics::StageSpec& spec, ExecOptions options) {
  return std::make_unique<ExecStage>(spec, options);
}

ExecStage::ExecStage(topics::StageSpec spec, ExecOptions options)
    : spec_(std::move(spec)),
      options_(options),
      backoff_(options.restart_backoff_min, options.restart_backoff_max) {
  SLUICE_CHECK(!spec_.command.empty(), "exec stage " + spec_.name + " without a command");
}

ExecStage::~ExecStage() { static_cast<void>(close()); }

Status ExecStage::init(const StageContext& context) {
  std::lock_guard lock(mu_);
  SLUICE_CHECK(state_ == State::kNew, "ExecStage::init() called twice");
  state_ = State::kRunning;
  supervisor_ = std::thread(&ExecStage::supervise, this);  // spawns the first child
  return Status::ok();
}

void ExecStage::process(const Task& task, Completion done) {
  auto line = encode_task(task);
  if (!line.is_ok()) {
    return done(unencodable_task(line.status(), stage()));
  }
  std::unique_lock lock(mu_);
  SLUICE_CHECK(state_ != State::kNew, "ExecStage::process() before init()");
  if (auto refusal = refusal_locked(task.id)) {
    lock.unlock();
    return done(std::move(*refusal));
  }
  tasks_.add(task.id, std::move(line).value(), std::move(done));
  writer_cv_.notify_all();  // the live child's writer (a dead one's may still wait)
}

ExecStage::Clock::time_point ExecStage::deadline_from(Clock::time_point now) const {
  // Specs allow 1ms..8760h: now + that cannot overflow the clock.
  if (spec_.timeout.count() <= 0) return Clock::time_point::max();
  return now + spec_.timeout;
}

// Why process() cannot take a task now, as the outcome to give it.
std::optional<Outcome> ExecStage::refusal_locked(const std::string& task_id) const {
  if (state_ != State::kRunning) return Outcome::retry("cancelled", stage() + " is closing");
  if (tasks_.contains(task_id)) {
    return Outcome::refused(stage() + ": task " + task_id + " is already in flight");
  }
  size_t bound = static_cast<size_t>(std::max(1, spec_.concurrency));
  if (tasks_.size() >= bound) {
    // The engine bounds in-flight tasks by `concurrency`; more is its bug,
    // and queueing them would make memory unbounded.
    spdlog::warn("{}: {} tasks already in flight (concurrency {}); task {} refused", stage(),
                 tasks_.size(), bound, task_id);
    return Outcome::refused(stage() + ": more tasks than concurrency " + std::to_string(bound));
  }
  return std::nullopt;
}

std::optional<std::string> ExecStage::next_line(uint64_t generation) {
  std::unique_lock lock(mu_);
  auto stop = [&] { return live_generation_ != generation || state_ != State::kRunning; };
  writer_cv_.wait(lock, [&] { return stop() || writable_locked(generation); });
  if (stop()) return std::nullopt;
  auto deadline = deadline_from(Clock::now());
  auto line = tasks_.start_next(generation, deadline, tasks_.has_suspects());
  if (deadline < supervisor_wakeup_) {
    supervisor_kick_ = true;
    supervisor_cv_.notify_one();
  }
  return line;
}

// Whether the writer may hand `generation` a task now. While suspects wait,
// they run one at a time and nothing else runs beside them.
bool ExecStage::writable_locked(uint64_t generation) const {
  if (!tasks_.has_pending()) return false;
  return !tasks_.has_suspects() || tasks_.in_flight(generation) == 0;
}

// An unavailable stage is available again once a child has stayed up for
// startup_probe (a child that answers makes it so at once: on_result).
void ExecStage::check_recovery_locked(Clock::time_point now) {
  if (health_.kind != StageHealth::Kind::kUnavailable || !child_) return;
  if (now - child_->started_at() < options_.startup_probe) return;
  spdlog::info("{}: child pid {} has stayed up for {}; consuming again", stage(), child_->pid(),
               ms(options_.startup_probe));
  silent_deaths_ = 0;
  health_ = {};
}

StageHealth ExecStage::health() const {
  std::lock_guard lock(mu_);
  return health_;
}

void ExecStage::on_result(uint64_t generation, ResultLine result) {
  std::unique_lock lock(mu_);
  // A line from a child already failed: its tasks have been retried.
  if (generation != live_generation_) return;
  auto done = tasks_.finish(result.id, generation);
  if (!done) {
    spdlog::warn("{}: child answered unknown task id \"{}\"; ignored", stage(), result.id);
    return;
  }
  child_answered_ = ever_answered_ = true;
  silent_deaths_ = 0;
  health_ = {};
  // The next suspect's turn, or, after the last, the turn of all that waited.
  if (tasks_.has_pending()) writer_cv_.notify_all();
  lock.unlock();
  (*done)(to_outcome(std::move(result)));
}

void ExecStage::on_failure(uint64_t generation, std::string kind, std::string message,
                           bool read_input) {
  CompletionBatch batch;
  {
    std::lock_guard lock(mu_);
    // Only the first report about a child counts (a timeout kill is also an EOF).
    if (generation == live_generation_) {
      fail_child_locked({std::move(kind), std::move(message), read_input, std::nullopt}, batch);
    }
  }
  batch.run();
}

// Retires the live child: it joins the dead (the supervisor tears it down)
// and a restart is scheduled with backoff. Of the tasks it held, only the
// guilty one is charged: the one that ran past its timeout, or the only one
// it held; several are run again one at a time (suspects), at no cost. A
// child that never answered and read none of its stdin died of its own
// accord: its tasks wait for the next child.
void ExecStage::fail_child_locked(const ChildFailure& failure, CompletionBatch& batch) {
  const std::string& message = failure.message;
  auto now = Clock::now();
  bool running = state_ == State::kRunning;
  auto lived = now - child_->started_at();
  // A child that did real work, or lived long, is not in a crash loop.
  if (child_answered_ || lived >= options_.healthy_after) backoff_.reset();
  auto delay = backoff_.next();
  restart_at_ = now + delay;
  std::vector<std::string> held = tasks_.ids_in_flight(live_generation_);
  bool silent = !child_answered_ && !failure.read_input && !failure.hung_task;
  if (!running) {
    spdlog::info("{} while closing; {} task(s) in flight cancelled", message, held.size());
    for (const std::string& id : held) batch.add(*tasks_.take(id), Outcome::retry("cancelled", message));
  } else if (silent) {
    tasks_.requeue_in_flight(live_generation_, false, "");
    if (lived < options_.healthy_after) silent_death_locked(message, delay);
  } else if (failure.hung_task) {
    charge_locked(*failure.hung_task, failure.kind, message, batch);
    size_t others = tasks_.requeue_in_flight(live_generation_, false, "");
    spdlog::warn("{}; {} other task(s) it held run again; restarting in {}", message, others,
                 ms(delay));
  } else if (held.size() == 1) {
    charge_locked(held.front(), failure.kind, message, batch);
    spdlog::warn("{}; its task is retried; restarting in {}", message, ms(delay));
  } else if (!held.empty()) {
    std::string note = "found by running alone each of the " + std::to_string(held.size()) +
                       " tasks child pid " + std::to_string(child_->pid()) + " held when it died";
    tasks_.requeue_in_flight(live_generation_, true, note);
    spdlog::warn("{}; it held {} tasks: running them one at a time to find the one to blame; "
                 "restarting in {}", message, held.size(), ms(delay));
  } else {
    spdlog::warn("{}; it held no task; restarting in {}", message, ms(delay));
  }
  dead_.push_back(std::move(child_));
  live_generation_ = 0;
  child_answered_ = false;
  writer_cv_.notify_all();      // the writer stops
  supervisor_cv_.notify_one();  // the supervisor tears down and restarts
}

// The task's error says how it was found guilty when it took isolation.
void ExecStage::charge_locked(const std::string& id, const std::string& kind, std::string message,
                              CompletionBatch& batch) {
  if (auto note = tasks_.suspect_note(id)) message += " (" + *note + ")";
  auto done = tasks_.take(id);
  SLUICE_CHECK(done.has_value(), "charging task " + id + ", which the table does not hold");
  batch.add(std::move(*done), Outcome::retry(kind, std::move(message)));
}

// A child that could not start, or died before it read or answered
// anything. Its tasks wait; after startup_failures in a row the stage is
// failed (no child ever answered: the command does not work) or unavailable
// (a crash loop later on: consumption pauses until a child comes up).
void ExecStage::silent_death_locked(const std::string& message, std::chrono::milliseconds delay) {
  ++silent_deaths_;
  spdlog::warn("{}; it never read a task nor answered ({} in a row); restarting in {}",
               message, silent_deaths_, ms(delay));
  if (silent_deaths_ < options_.startup_failures) return;
  std::string what = message.rfind(stage() + ": ", 0) == 0 ? message.substr(stage().size() + 2)
                                                           : message;
  std::string why = stage() + ": [" + join_argv(spec_.command) + "] failed " +
                    std::to_string(silent_deaths_) + " times in a row at start-up; the last: " +
                    what;
  if (!ever_answered_) {
    health_ = {StageHealth::Kind::kFailed, why};
  } else if (health_.kind != StageHealth::Kind::kUnavailable) {
    spdlog::error("{}; consumption paused until a child comes up", why);
    health_ = {StageHealth::Kind::kUnavailable, why};
  }
}

void ExecStage::supervise() {
  std::unique_lock lock(mu_);
  while (state_ == State::kRunning) {
    CompletionBatch batch;
    auto now = Clock::now();
    check_deadlines_locked(now, batch);
    check_recovery_locked(now);
    bool spawn = !child_ && now >= restart_at_;
    auto dead = std::move(dead_);
    dead_.clear();
    lock.unlock();
    batch.run();
    dead.clear();  // kills, reaps, joins: never under the lock, their threads take it
    if (spawn) spawn_child();
    lock.lock();
    supervisor_wakeup_ = next_wakeup_locked(Clock::now());
    supervisor_kick_ = false;
    supervisor_cv_.wait_until(lock, supervisor_wakeup_, [&] {
      return state_ != State::kRunning || !dead_.empty() || supervisor_kick_;
    });
  }
}

// Starting a process can take milliseconds (more with a large parent), so it
// happens outside the lock, which process() takes on the worker's thread;
// the lock is taken only to install the child.
void ExecStage::spawn_child() {
  uint64_t generation = last_generation_ + 1;
  ExecChildOptions child_options{spec_.name, generation, options_.max_line_bytes,
                                 static_cast<size_t>(spec_.max_outputs),
                                 ChildSetup{child_environment(spec_, environ), spec_.workdir}};
  auto child = ExecChild::spawn(spec_.command, std::move(child_options), this);
  std::unique_ptr<ExecChild> unused;  // closing meanwhile: torn down outside the lock
  {
    std::lock_guard lock(mu_);
    if (state_ != State::kRunning) {
      if (child.is_ok()) unused = std::move(child).value();
    } else if (!child.is_ok()) {
      auto delay = backoff_.next();
      restart_at_ = Clock::now() + delay;
      silent_death_locked(stage() + ": " + child.status().message(), delay);
    } else {
      child_ = std::move(child).value();
      live_generation_ = last_generation_ = generation;
      child_answered_ = false;
      child_->start();
      spdlog::info("{}: started child pid {} [{}]", stage(), child_->pid(),
                   join_argv(spec_.command));
    }
  }
}

// A task in flight past its deadline means the child hangs on it: kill the
// child, which fails the task (the others it held run again).
void ExecStage::check_deadlines_locked(Clock::time_point now, CompletionBatch& batch) {
  if (!child_) return;
  auto hung = tasks_.expired_in_flight(live_generation_, now);
  if (!hung) return;
  child_->kill();
  fail_child_locked({"timeout",
                     stage() + ": child pid " + std::to_string(child_->pid()) + " hung: task " +
                         *hung + " ran past its timeout of " + ms(spec_.timeout) + "; killed it",
                     true, hung},
                    batch);
}

ExecStage::Clock::time_point ExecStage::next_wakeup_locked(Clock::time_point now) const {
  // Every event that matters notifies; the cap is only a safety net.
  auto wakeup = now + std::chrono::seconds(1);
  if (!child_) wakeup = std::min(wakeup, restart_at_);
  if (auto deadline = tasks_.earliest_deadline()) wakeup = std::min(wakeup, *deadline);
  return std::max(wakeup, now + std::chrono::milliseconds(1));
}

// In phases, each under the lock only as long as it must be: stop taking
// tasks, stop the supervisor (no restarts from here on), let the live child
// finish and exit, then cancel what is left and join every thread.
Status ExecStage::close() {
  if (!begin_close()) return Status::ok();
  supervisor_.join();
  stop_live_child();
  finish_close();
  return Status::ok();
}

// False when there is nothing to close (never started, or closed already).
bool ExecStage::begin_close() {
  CompletionBatch batch;
  {
    std::lock_guard lock(mu_);
    if (state_ == State::kClosing || state_ == State::kClosed) return false;
    bool started = state_ == State::kRunning;
    state_ = started ? State::kClosing : State::kClosed;
    if (!started) return false;
    // Not yet written: no point starting them now.
    batch.add_all(tasks_.take_pending(), Outcome::retry("cancelled", stage() + " is closing"));
    writer_cv_.notify_all();      // the writer closes the child's stdin
    supervisor_cv_.notify_one();  // the supervisor stops
  }
  batch.run();
  return true;
}

// The child may still answer what it holds until it exits; past the grace
// periods it is terminated, then killed.
void ExecStage::stop_live_child() {
  ExecChild* child = nullptr;
  {
    std::lock_guard lock(mu_);
    child = child_.get();  // stays alive: only this thread destroys children now
  }
  if (child) child->stop(options_.close_grace, options_.term_grace);
}

void ExecStage::finish_close() {
  CompletionBatch batch;
  std::unique_ptr<ExecChild> last;
  std::vector<std::unique_ptr<ExecChild>> dead;
  {
    std::lock_guard lock(mu_);
    state_ = State::kClosed;
    batch.add_all(tasks_.take_all(),
                  Outcome::retry("cancelled", stage() + " closed with the task in flight"));
    last = std::move(child_);
    dead = std::move(dead_);
    live_generation_ = 0;
  }
  last.reset();
  dead.clear();  // joins every thread: no `done` runs after close() returns
  batch.run();
}

}  // namespace sluice::stages
